"""Progress of long training loops, through ``tqdm.auto``: a bar on a terminal and in a Jupyter
notebook, silence in a redirected log.

:func:`epoch_progress` returns the per-epoch callback the engine takes (``progress(epoch, total)``).
On a terminal it draws one ``tqdm`` bar per task (rate, elapsed and remaining time), in a notebook
the widget of ``tqdm.auto``; when the stream is neither it writes nothing, so logs hold the
runner's one line per finished task instead of carriage returns. ``TQDM_DISABLE=1`` in the
environment silences every bar (``tqdm``'s own setting).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TextIO

from tqdm.auto import tqdm


class _CurrentStderr:
    """Writes to whatever ``sys.stderr`` is at the time of the write: the default ``log`` of
    long-running functions (a default bound to ``sys.stderr`` itself would keep writing to a
    stream that a notebook or test harness has since replaced and closed)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()

    def isatty(self) -> bool:
        return sys.stderr.isatty()


#: The default log stream: the process's current standard error.
STDERR: TextIO = _CurrentStderr()  # type: ignore[assignment]


def in_notebook() -> bool:
    """Whether this process runs a Jupyter kernel (where ``tqdm.auto`` draws a widget)."""
    return "ipykernel" in sys.modules


def epoch_progress(label: str, stream: TextIO) -> Callable[[int, int], None]:
    """A ``progress(epoch, total)`` callback that draws a bar called ``label`` on ``stream``."""
    interactive = (hasattr(stream, "isatty") and stream.isatty()) or in_notebook()
    bar: tqdm | None = None

    def show(epoch: int, total: int) -> None:
        nonlocal bar
        if not interactive:
            return
        if bar is None:
            bar = tqdm(
                total=total, desc=label, unit="epoch", file=stream, leave=True, dynamic_ncols=True
            )
        bar.update(epoch - bar.n)
        if epoch >= total:
            bar.close()

    return show
