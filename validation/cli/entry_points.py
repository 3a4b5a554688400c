"""How an error ends a program: one line on stderr and an exit status, never a traceback.

:func:`run_reporting_errors` runs a program's body and maps what escapes it through
:data:`ENDINGS`: a :class:`~theorykit.errors.ParameterError` (a value the user can fix) exits 2;
the machine's state -- :class:`validation.errors.MachineError`, an ``OSError`` (a file that cannot
be read or written), ``MemoryError``, an SQLite error (a damaged store) -- exits 1; an interrupt
-- Ctrl-C, and SIGTERM or SIGHUP, which the body runs under
:func:`validation.termination.terminate_as_interrupt` -- exits 128 + its signal (130, 143, 129); a
closed pipe (``... | head``) exits 141 silently. Any other exception is a bug and keeps its
traceback. The ``theorykit`` command line (``validation.cli.main``) and the
scripts of ``examples/`` end through it.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import sys
from collections.abc import Callable
from typing import Any

from theorykit.errors import ParameterError
from validation.errors import MachineError, SweepInterrupted
from validation.termination import exit_status, signal_of, terminate_as_interrupt

#: Exit status of a program whose standard output was closed (128 + SIGPIPE).
BROKEN_PIPE = 141


def os_message(error: OSError) -> str:
    """An OSError as its cause and the file it concerns (``No such file or directory: x.csv``)."""
    where = f": {error.filename}" if error.filename else ""
    return f"{error.strerror or error}{where}"


#: How each error ends a program, the first matching row winning: (type, its exit status, the
#: line's text). ``None`` as the text stands for the interrupt line of :func:`run_reporting_errors`.
ENDINGS: tuple[
    tuple[type[BaseException], Callable[[Any], int], Callable[[Any], str] | None], ...
] = (
    (ParameterError, lambda _: 2, str),
    (SweepInterrupted, exit_status, str),
    (KeyboardInterrupt, exit_status, None),
    (MachineError, lambda _: 1, str),
    (
        MemoryError,
        lambda _: 1,
        lambda _: (
            "out of memory; free memory or choose a smaller setting (group_size, test_size, grid)"
        ),
    ),
    (OSError, lambda _: 1, os_message),
    (sqlite3.Error, lambda _: 1, lambda error: f"results store: {error} (SQLite)"),
)
_HANDLED = tuple(kind for kind, _, _ in ENDINGS)


def run_reporting_errors(
    program: str, body: Callable[[], object], interrupted: str = "interrupted"
) -> int:
    """Run ``body`` (SIGTERM and SIGHUP raising as Ctrl-C does) and return the program's exit
    status: ``body``'s result when it is an int, else 0; for an error of :data:`ENDINGS`, its
    status after printing ``"{program}: {line}"`` on stderr -- for a plain interrupt the line is
    ``interrupted`` with the signal named where it was not Ctrl-C, on a fresh line; 141 and
    nothing printed when stdout was closed."""
    try:
        with terminate_as_interrupt():
            result = body()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # Python's flush at exit must not fail again
        return BROKEN_PIPE
    except _HANDLED as error:
        status, text = next((s(error), t) for kind, s, t in ENDINGS if isinstance(error, kind))
        start = "\n" if isinstance(error, KeyboardInterrupt) else ""
        line = _interrupt_line(interrupted, error) if text is None else text(error)
        print(f"{start}{program}: {line}", file=sys.stderr)
        return status
    return result if isinstance(result, int) and not isinstance(result, bool) else 0


def _interrupt_line(text: str, interrupt: BaseException) -> str:
    number = signal_of(interrupt)
    by = "" if number == signal.SIGINT else f" by {signal.Signals(number).name}"
    first, _, rest = text.partition(" ")
    return f"{first}{by}{' ' + rest if rest else ''}"
