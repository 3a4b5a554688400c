"""Markdown tables for the reports, through ``tabulate`` (GitHub-flavoured pipe tables).

Cells are written as given (numbers are formatted by the caller, so a report states its own
precision); ``tabulate`` only aligns them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from tabulate import tabulate


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    """The lines of a pipe table of ``headers`` and ``rows`` (cells converted with ``str``)."""
    text = tabulate(
        [[str(cell) for cell in row] for row in rows],
        headers=list(headers),
        tablefmt="github",
        disable_numparse=True,
    )
    return text.splitlines()
