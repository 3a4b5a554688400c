"""Where a report may write: never over its store, never over another store's report.

A report (``report.md`` and its figures) goes to a directory: the one asked for, or by default
:func:`default_report_directory` -- the store's own, unless it already holds another store's
report, in which case ``DIR/<store name>-report/``, so that two stores in one directory never
overwrite each other's report. :func:`check_report_directory` refuses, before anything is drawn, a
directory asked for that holds another store's report, and one where a figure would overwrite the
store itself (a store named like a report file). :func:`store_mark` is the line every
``report.md`` ends with, naming the store it reports (an HTML comment, invisible when rendered).
"""

from __future__ import annotations

import re
from pathlib import Path

from theorykit.errors import ParameterError
from validation.store.files import writes_store

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


def _ours(reported: Path | None, store: Path) -> bool:
    """Whether a report naming ``reported`` may be overwritten by ``store``'s: no mark, the same
    store, or a store that no longer exists there (a folder moved or copied from another
    machine names its old path)."""
    return reported is None or reported == store.resolve() or not reported.exists()


def default_report_directory(store: Path) -> Path:
    """Where the report of ``store`` goes unless a directory is asked for (see the module
    docstring)."""
    store = Path(store)
    if _ours(reported_store(store.parent / "report.md"), store):
        return store.parent
    return store.parent / f"{store.stem}-report"


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
    if not _ours(other, store):
        raise ParameterError(
            "out",
            str(out_dir),
            f"a directory without another store's report (its report.md reports {other}); pass "
            "--out DIR",
        )
