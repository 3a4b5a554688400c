# PYTHON_ARGCOMPLETE_OK
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
a file that cannot be written, memory) one line and status 1; Ctrl-C, SIGTERM and SIGHUP
(:mod:`validation.termination`) one line ("interrupted: N/M runs stored; rerun to resume") and
status 128 + the signal (130, 143, 129); a closed pipe (``theorykit bounds --json | head``)
ends it silently, status 141.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
from collections.abc import Sequence

from theorykit import cli as bounds
from validation.cli import compare, images, report, sweep, validate
from validation.cli.entry_points import run_reporting_errors
from validation.reports.figures.style import figure_formats

#: Subcommand name -> its module, in the order ``--help`` lists them.
COMMANDS = {
    "bounds": bounds,
    "validate": validate,
    "compare": compare,
    "sweep": sweep,
    "report": report,
    "images": images,
}


#: What ``theorykit --help`` says before the subcommands.
DESCRIPTION = (
    "The theory of mini-batch Adam/AdamW generalization (Tang et al. 2025; Zou et al. 2023) "
    "computed, simulated and tested against the CNN it describes. `theorykit COMMAND --help` "
    "describes each command."
)


def package_version() -> str:
    """The installed theorykit's version (its package metadata)."""
    try:
        return importlib.metadata.version("theorykit")
    except importlib.metadata.PackageNotFoundError:
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="theorykit", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, module in COMMANDS.items():
        command = commands.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(command)
        command.set_defaults(run=module.run)
    if importlib.util.find_spec("argcomplete") is not None:  # shell completion, where installed
        import argcomplete

        argcomplete.autocomplete(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` (default: the process's), run the subcommand, return its exit status (see
    the module docstring; errors end through
    :func:`validation.cli.entry_points.run_reporting_errors`)."""
    args = build_parser().parse_args(argv)

    def run() -> int:
        figure_formats()  # a bad THEORYKIT_FIGURE_FORMATS is one line before any work
        return int(args.run(args))

    return run_reporting_errors(
        f"theorykit {args.command}",
        run,
        interrupted="interrupted (finished work is stored; rerun to resume)",
    )
