"""SIGTERM and SIGHUP end a command the way Ctrl-C does.

A batch scheduler stops a job with SIGTERM (SLURM at the time limit, on ``scancel`` and on
preemption, followed by SIGKILL after its grace period, ``KillWait``); a closed terminal sends
SIGHUP. Python's default for both is to die at once, before any ``finally`` runs: the finished
groups a driver holds are lost, its claims stay until their leases expire and its rows sit in the
write-ahead log. :func:`terminate_as_interrupt` turns either signal into :class:`Terminated`, a
:class:`KeyboardInterrupt`, so that every path that stores what finished on Ctrl-C
(``validation.sweeps.runner``) does the same for them; the command line then exits with status
128 + the signal's number (143 for SIGTERM, 129 for SIGHUP, 130 for Ctrl-C).

After the first signal, further SIGTERM/SIGHUP are ignored so that the clean-up they asked for is
not itself interrupted (SIGKILL still ends the process).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

#: The signals handled like Ctrl-C.
TERMINATING_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


class Terminated(KeyboardInterrupt):
    """A terminating signal (:data:`TERMINATING_SIGNALS`) raised in the main thread."""

    def __init__(self, signal_number: int) -> None:
        super().__init__(signal.Signals(signal_number).name)
        self.signal_number = signal_number


def signal_of(interrupt: BaseException) -> int:
    """The signal behind an interrupt: a :class:`Terminated`'s, or SIGINT (Ctrl-C)."""
    return int(getattr(interrupt, "signal_number", signal.SIGINT))


def exit_status(interrupt: BaseException) -> int:
    """The shell's status for a process ended by the interrupt's signal: 128 + its number."""
    return 128 + signal_of(interrupt)


def _raise_terminated(signal_number: int, frame: FrameType | None) -> None:
    for number in TERMINATING_SIGNALS:
        signal.signal(number, signal.SIG_IGN)
    raise Terminated(signal_number)


@contextlib.contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM and SIGHUP raise :class:`Terminated` in the main thread (see the
    module docstring); the previous handlers are restored on exit. Outside the main thread
    (where Python cannot install handlers) the block runs unchanged; a signal the process was told
    to ignore (``nohup``) stays ignored."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {
        number: signal.getsignal(number)
        for number in TERMINATING_SIGNALS
        if signal.getsignal(number) is not signal.SIG_IGN  # nohup's choice is kept
    }
    for number in previous:
        signal.signal(number, _raise_terminated)
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
