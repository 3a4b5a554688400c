"""Markdown tables for the reports, through ``tabulate`` (GitHub-flavoured pipe tables).

Cells are written as given (numbers are formatted by the caller, so a report states its own
precision); ``tabulate`` only aligns them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from tabulate import tabulate


def _cell(value: object) -> str:
    return " ".join(str(value).split("\n")).replace("|", "\\|")


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    """The lines of a pipe table of ``headers`` and ``rows`` (cells converted with ``str``; a
    ``|`` or a line break inside a cell, which a stored name may hold, is escaped so that the
    table keeps its columns)."""
    text = tabulate(
        [[_cell(cell) for cell in row] for row in rows],
        headers=list(headers),
        tablefmt="github",
        disable_numparse=True,
    )
    return text.splitlines()


def lines_by_reason(prefix: str, named: Sequence[tuple[str, str]]) -> list[str]:
    """One bullet per distinct reason of ``named`` ((run name, reason) pairs), naming its runs
    (the first and last where there are more than four): ``"- PREFIX 2 runs (a, b): reason"``."""
    reasons: dict[str, list[str]] = {}
    for name, reason in named:
        reasons.setdefault(reason, []).append(name)
    return [
        f"- {prefix} {len(names)} run{'s' if len(names) > 1 else ''} "
        f"({', '.join(names) if len(names) <= 4 else f'{names[0]} ... {names[-1]}'}): {reason}"
        for reason, names in reasons.items()
    ]
