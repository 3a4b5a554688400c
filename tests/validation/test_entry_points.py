"""``run_reporting_errors``: each error of its table ends a program in one line on stderr with its
exit status; a result becomes the status; an error outside the table keeps its traceback."""

from __future__ import annotations

import errno
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from theorykit.errors import ParameterError
from validation.cli.entry_points import run_reporting_errors
from validation.errors import MachineError, SweepInterrupted


class _Terminated(KeyboardInterrupt):
    """An interrupt carrying the signal behind it, as SIGTERM is turned into one."""

    signal_number = signal.SIGTERM


def _raise(error: BaseException) -> Callable[[], object]:
    def body() -> object:
        raise error

    return body


#: (case, the error, exit status, the line after "prog: ").
CASES: list[tuple[str, BaseException, int, str]] = [
    ("bad value", ParameterError("B", 0, "B >= 1"), 2, "parameter 'B' = 0 breaks the rule: B >= 1"),
    ("machine", MachineError("disk full; free space"), 1, "disk full; free space"),
    (
        "os error",
        FileNotFoundError(errno.ENOENT, "No such file or directory", "x.csv"),
        1,
        "No such file or directory: x.csv",
    ),
    (
        "memory",
        MemoryError(),
        1,
        "out of memory; free memory or choose a smaller setting (group_size, test_size, grid)",
    ),
    ("ctrl-c", KeyboardInterrupt(), 130, "interrupted"),
    ("sigterm", _Terminated(), 143, "interrupted by SIGTERM"),
    (
        "sweep interrupted",
        SweepInterrupted(3, 8, Path("s.sqlite")),
        130,
        "interrupted: 3/8 runs stored in s.sqlite; rerun to resume",
    ),
]


@pytest.mark.parametrize(
    ("error", "status", "line"), [case[1:] for case in CASES], ids=[case[0] for case in CASES]
)
def test_an_error_ends_in_one_line_and_its_status(
    error: BaseException, status: int, line: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_reporting_errors("prog", _raise(error)) == status
    err = capsys.readouterr().err
    assert err.strip() == f"prog: {line}" and "Traceback" not in err


@pytest.mark.parametrize(("result", "status"), [(0, 0), (3, 3), (Path("a.png"), 0), (None, 0)])
def test_the_result_is_the_status_when_it_is_an_int(result: object, status: int) -> None:
    assert run_reporting_errors("prog", lambda: result) == status


def test_an_error_outside_the_table_is_not_hidden() -> None:
    with pytest.raises(ZeroDivisionError):
        run_reporting_errors("prog", lambda: 1 / 0)


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_and_sighup_end_the_body_as_an_interrupt_and_handlers_are_restored(
    number: int, capsys: pytest.CaptureFixture[str]
) -> None:
    before = signal.getsignal(number)

    def body() -> int:
        os.kill(os.getpid(), number)
        time.sleep(30)  # the signal interrupts the sleep
        return 0

    started = time.monotonic()
    assert run_reporting_errors("prog", body) == 128 + number
    assert time.monotonic() - started < 20
    assert capsys.readouterr().err.strip() == f"prog: interrupted by {signal.Signals(number).name}"
    assert signal.getsignal(number) is before


def test_a_signal_the_process_ignores_stays_ignored() -> None:
    """``nohup`` sets SIGHUP to ignored: a closed terminal must not stop the sweep."""
    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:

        def body() -> int:
            os.kill(os.getpid(), signal.SIGHUP)
            time.sleep(0.2)
            return 7

        assert run_reporting_errors("prog", body) == 7
    finally:
        signal.signal(signal.SIGHUP, previous)
