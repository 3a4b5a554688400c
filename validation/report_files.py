"""Where a report may write: never over its store, never over another store's report.

A report (``report.md`` and its figures) goes to a directory, by default the store's. Two stores
in one directory would otherwise overwrite each other's ``report.md``, and a store whose file name
is that of a figure would be overwritten by it. :func:`check_report_directory` refuses both before
anything is drawn; :func:`store_mark` is the line every ``report.md`` ends with, naming the store
it reports (an HTML comment, invisible when rendered).
"""

from __future__ import annotations

import re
from pathlib import Path

from theorykit.errors import ParameterError
from validation.sweeps.store_file import writes_store

#: Suffixes of the files a report writes (``report.md``, ``table.md``, figures).
REPORT_SUFFIXES = (".md", ".png", ".svg", ".pdf")
_MARK = re.compile(r"<!-- results store: (.+) -->")


def store_mark(store: Path) -> str:
    """The last line of a report of ``store``: an HTML comment with its resolved path."""
    return f"<!-- results store: {Path(store).resolve()} -->"


def reported_store(report: Path) -> Path | None:
    """The store a ``report.md`` names in its :func:`store_mark`, or None (no mark, unreadable)."""
    try:
        text = report.read_text(errors="replace")
    except OSError:
        return None
    found = _MARK.findall(text)
    return Path(found[-1]) if found else None


def check_report_directory(out_dir: Path, store: Path) -> None:
    """Refuse a report directory where writing would overwrite the store (a store named like a
    report file, :data:`REPORT_SUFFIXES`) or another store's ``report.md``."""
    store = Path(store)
    if store.suffix.lower() in REPORT_SUFFIXES and writes_store(store, out_dir / store.name):
        raise ParameterError(
            "out",
            str(out_dir),
            f"a directory other than the store's: the report would overwrite {store} (its name "
            "ends in a report file's suffix)",
        )
    other = reported_store(out_dir / "report.md")
    if other is not None and other != store.resolve():
        raise ParameterError(
            "out",
            str(out_dir),
            f"a directory without another store's report (its report.md reports {other}); pass "
            "--out DIR",
        )
