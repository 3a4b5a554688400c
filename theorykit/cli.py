"""The ``theorykit`` command line: the one entry point that may use theorykit, dynamics and validation.

Subcommands import what they need when they run, so ``theorykit bounds`` never loads torch.

``theorykit bounds [--preset NAME] [--n 200 --B 16 ...] [--constant NAME=VALUE ...] [--json]``
    lambda thresholds, batch/lambda regimes for Adam and AdamW, and the condition report
    (:func:`theorykit.summary.bounds_summary`).
``theorykit validate --preset quick|tang2025-table [--out DIR]``
    train the preset's CNNs (resuming from DIR/results.json), write plots and DIR/report.md, print the
    report; exit status 1 when one of the paper's outcomes is not reproduced.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Callable, Sequence
from typing import Any

from theorykit.errors import ParameterError
from theorykit.params import ProblemParams, tang2025_synthetic

PRESETS: dict[str, Callable[..., ProblemParams]] = {"tang2025-synthetic": tang2025_synthetic}


def _bool(text: str) -> bool:
    if text.lower() in ("true", "1", "yes", "on"):
        return True
    if text.lower() in ("false", "0", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def _number(text: str) -> int | float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    return int(value) if value.is_integer() and "." not in text and "e" not in text.lower() else value


def _add_param_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--preset", choices=sorted(PRESETS), default="tang2025-synthetic",
                        help="base setting; the flags below override its fields (default: %(default)s)")
    for field in dataclasses.fields(ProblemParams):
        if field.name == "optimizer":
            parser.add_argument("--optimizer", dest="optimizer", default=None)
        elif field.name == "bias_correction":
            parser.add_argument("--bias-correction", dest="bias_correction", type=_bool, default=None)
        else:
            parser.add_argument(f"--{field.name}", dest=field.name, type=_number, default=None, metavar="X")


def params_from_args(args: argparse.Namespace) -> ProblemParams:
    """The preset with every given field flag applied; validation errors name the flag's field."""
    overrides = {field.name: getattr(args, field.name) for field in dataclasses.fields(ProblemParams)
                 if getattr(args, field.name) is not None}
    return PRESETS[args.preset](**overrides)


def _constants(pairs: Sequence[str]) -> Any:
    from theorykit.bounds import HiddenConstants

    values: dict[str, float] = {}
    names = {field.name for field in dataclasses.fields(HiddenConstants)}
    for pair in pairs:
        name, _, text = pair.partition("=")
        if name not in names:
            raise ParameterError(name, text, f"--constant NAME=VALUE with NAME one of {', '.join(sorted(names))}")
        try:
            values[name] = float(text)
        except ValueError:
            raise ParameterError(name, text, "a number") from None
    return HiddenConstants(**values)


def _run_bounds(args: argparse.Namespace) -> int:
    from theorykit.summary import bounds_summary

    summary = bounds_summary(params_from_args(args), _constants(args.constant))
    print(summary.to_json() if args.json else summary)
    return 0


def _run_validate(args: argparse.Namespace) -> int:
    from pathlib import Path

    from validation.presets import PRESETS as VALIDATION_PRESETS
    from validation.report import run_preset, write_report

    preset = VALIDATION_PRESETS[args.preset]()
    out_dir = Path(args.out or f"runs/{preset.name}")
    records = run_preset(preset, out_dir)
    text, checks = write_report(preset, records, out_dir)
    print(text)
    print(f"written: {out_dir / 'results.json'}, {out_dir / 'report.md'}, {out_dir / 'trajectories.png'}, "
          f"{out_dir / 'test_error.png'}")
    return 0 if all(check.holds for check in checks) else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="theorykit", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    bounds = commands.add_parser("bounds", help="lambda thresholds, regimes and theorem conditions for one setting")
    _add_param_arguments(bounds)
    bounds.add_argument("--constant", action="append", default=[], metavar="NAME=VALUE",
                        help="a hidden constant of the theorems (see theorykit.bounds.HiddenConstants)")
    bounds.add_argument("--json", action="store_true", help="machine-readable output")
    bounds.set_defaults(run=_run_bounds)
    validate = commands.add_parser("validate", help="train a preset's CNNs and compare with the paper and the theory")
    validate.add_argument("--preset", choices=["quick", "tang2025-table"], default="quick")
    validate.add_argument("--out", default=None, help="output directory (default: runs/PRESET)")
    validate.set_defaults(run=_run_validate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except ParameterError as error:
        print(f"theorykit {args.command}: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
