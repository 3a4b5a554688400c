"""The ``theorykit`` command line: one module per subcommand (asv's layout), dispatched by
:func:`main`.

* ``bounds`` -- lambda thresholds, regimes and theorem conditions for one setting
  (``theorykit.cli``);
* ``validate`` -- train a preset's CNNs, compare with the paper and the theory (:mod:`.validate`);
* ``compare`` -- thresholds, batch boundary, time scales: theory vs reduced dynamics vs CNN
  (:mod:`.compare`);
* ``sweep`` -- train a declarative grid (TOML) on any executor into an SQLite store
  (:mod:`.sweep`);
* ``report`` -- tables and plots of a results store (:mod:`.report`);
* ``images`` -- Tang et al. Figs 1-2 on real images (:mod:`.images`).

Every subcommand module has ``HELP``, ``add_arguments(parser)`` and ``run(args) -> int``; the
modules import what they run inside ``run``, so ``theorykit bounds``, ``report`` and ``sweep
--dry-run`` never load torch. No traceback reaches the user (:func:`main`): a
:class:`~theorykit.errors.ParameterError` (a bad value) ends the command with one line on stderr
naming the parameter, exit status 2; the machine's state (:class:`validation.errors.MachineError`,
a file that cannot be written, memory) one line and status 1; Ctrl-C one line ("interrupted: N/M
runs stored; rerun to resume") and status 130; a closed pipe (``theorykit bounds --json | head``)
ends it silently, status 141.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from theorykit import cli as bounds
from theorykit.errors import ParameterError
from validation.cli import compare, images, report, sweep, validate
from validation.errors import MachineError, SweepInterrupted

#: Subcommand name -> its module, in the order ``--help`` lists them.
COMMANDS = {
    "bounds": bounds,
    "validate": validate,
    "compare": compare,
    "sweep": sweep,
    "report": report,
    "images": images,
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="theorykit", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name, module in COMMANDS.items():
        command = commands.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(command)
        command.set_defaults(run=module.run)
    return parser


def _os_message(error: OSError) -> str:
    where = f": {error.filename}" if error.filename else ""
    return f"{error.strerror or error}{where}"


_INTERRUPTED = 130
#: How each error ends a command, the first matching row winning: (type, exit status, the line's
#: text). An interrupt's line starts on a fresh line, after whatever progress was being drawn.
_ENDINGS: tuple[tuple[type[BaseException], int, Callable[[Any], str]], ...] = (
    (ParameterError, 2, str),
    (SweepInterrupted, _INTERRUPTED, str),
    (
        KeyboardInterrupt,
        _INTERRUPTED,
        lambda _: "interrupted (finished work is stored; rerun to resume)",
    ),
    (MachineError, 1, str),
    (MemoryError, 1, lambda _: "out of memory; lower group_size, test_size or the grid"),
    (OSError, 1, _os_message),
)
_HANDLED = tuple(kind for kind, _, _ in _ENDINGS)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` (default: the process's), run the subcommand, return its exit status (see
    the module docstring for how errors end it)."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # Python's flush at exit must not fail again
        return 141
    except _HANDLED as error:
        status, text = next((s, t) for kind, s, t in _ENDINGS if isinstance(error, kind))
        start = "\n" if status == _INTERRUPTED else ""
        print(f"{start}theorykit {args.command}: {text(error)}", file=sys.stderr)
        return status
