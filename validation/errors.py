"""The error type for the machine's state, beside theorykit's for bad input.

:class:`theorykit.errors.ParameterError` says a value breaks a rule (the user's fix: another
value; exit status 2). :class:`MachineError` says the machine cannot do what was asked -- a full
disk, a file it may not write, a store another program owns, a worker that is gone -- in one
sentence that names the cause and the fix (exit status 1). Every command line maps both to one
line on stderr, never a traceback (``validation.cli.main``).
"""

from __future__ import annotations

import signal
from pathlib import Path


class MachineError(RuntimeError):
    """The machine's state prevents the operation; the message names the cause and the fix."""


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM/SIGHUP, ``validation.termination``) during a sweep, after the finished
    tasks were stored and the claims released: ``stored`` of ``runs`` are in the store
    (``validation.sweeps.runner``). ``signal_number`` is the signal that stopped it; the command
    line prints the message in one line and exits with status 128 + ``signal_number``."""

    def __init__(
        self, stored: int, runs: int, store: Path, signal_number: int = signal.SIGINT
    ) -> None:
        by = "" if signal_number == signal.SIGINT else f" by {signal.Signals(signal_number).name}"
        super().__init__(
            f"interrupted{by}: {stored}/{runs} runs stored in {store}; rerun to resume"
        )
        self.stored, self.runs, self.signal_number = stored, runs, signal_number
