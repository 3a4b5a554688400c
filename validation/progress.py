"""Progress of long training loops, through ``tqdm``: a bar on a terminal and in a Jupyter
notebook (the widget where ipywidgets is installed, as ``tqdm.auto`` chooses), silence in a
redirected log.

:func:`epoch_progress` returns the per-epoch callback the engine takes (``progress(epoch, total)``).
On a terminal it draws one ``tqdm`` bar per task (rate, elapsed and remaining time), in a notebook
one in the cell's output; when the stream is neither it writes nothing, so logs hold the
runner's one line per finished task instead of carriage returns. ``TQDM_DISABLE=1`` in the
environment silences every bar (``tqdm``'s own setting).
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from typing import TextIO

from tqdm.std import tqdm as text_bar


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
    """Whether this process runs a Jupyter kernel (where a bar is drawn in the cell's output)."""
    return "ipykernel" in sys.modules


def _bar_class() -> type:
    """``tqdm.auto``'s choice without its warning: the notebook widget in a Jupyter kernel with
    ipywidgets installed, else the text bar (in a notebook, text in the cell's output)."""
    if in_notebook() and importlib.util.find_spec("ipywidgets") is not None:
        from tqdm.notebook import tqdm as widget_bar

        return widget_bar
    return text_bar


def epoch_progress(label: str, stream: TextIO) -> Callable[[int, int], None]:
    """A ``progress(epoch, total)`` callback that draws a bar called ``label`` on ``stream``."""
    interactive = (hasattr(stream, "isatty") and stream.isatty()) or in_notebook()
    bar: text_bar | None = None

    def show(epoch: int, total: int) -> None:
        nonlocal bar
        if not interactive:
            return
        if bar is None:
            bar = _bar_class()(
                total=total, desc=label, unit="epoch", file=stream, leave=True, dynamic_ncols=True
            )
        bar.update(epoch - bar.n)
        if epoch >= total:
            bar.close()

    return show
