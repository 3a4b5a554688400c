"""``theorykit bounds``: what the theory says at one setting, printed as text or JSON (torch-free).

``theorykit bounds [--setting NAME] [--n 200 --B 16 ...] [--constant NAME=VALUE ...] [--json]``
prints the lambda thresholds, batch/lambda regimes for Adam and AdamW and the condition report
(:func:`theorykit.summary.bounds_summary`). The full command line (every subcommand) is
``validation.cli``; this module also runs alone: ``python -m theorykit.cli bounds ...``.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Sequence

from theorykit.constants import HiddenConstants
from theorykit.errors import ParameterError
from theorykit.params import FIELD_DOCS, NAMED_SETTINGS, ProblemParams
from theorykit.summary import bounds_summary

HELP = "lambda thresholds, regimes and theorem conditions for one setting"


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
    return (
        int(value) if value.is_integer() and "." not in text and "e" not in text.lower() else value
    )


def add_setting_arguments(parser: argparse.ArgumentParser) -> None:
    """``--setting`` (a named setting of :data:`theorykit.params.NAMED_SETTINGS`; experiment presets
    are ``theorykit validate --preset``) and one flag per :class:`ProblemParams` field, each
    overriding the setting's value."""
    parser.add_argument(
        "--setting",
        choices=sorted(NAMED_SETTINGS),
        default="tang2025-synthetic",
        help="base setting; the flags below override its fields (default: %(default)s)",
    )
    defaults = NAMED_SETTINGS["tang2025-synthetic"]().to_dict()
    for field in dataclasses.fields(ProblemParams):
        text = (
            f"{FIELD_DOCS[field.name]} (default: the setting's, {defaults[field.name]!r} for "
            "tang2025-synthetic)"
        )
        if field.name == "optimizer":
            parser.add_argument(
                "--optimizer", dest="optimizer", default=None, metavar="NAME", help=text
            )
        elif field.name == "bias_correction":
            parser.add_argument(
                "--bias-correction",
                dest="bias_correction",
                type=_bool,
                default=None,
                metavar="BOOL",
                help=text,
            )
        else:
            parser.add_argument(
                f"--{field.name}",
                dest=field.name,
                type=_number,
                default=None,
                metavar=field.name.upper(),
                help=text,
            )


def params_from_args(args: argparse.Namespace) -> ProblemParams:
    """The named setting with every given field flag applied; validation errors name the flag's
    field."""
    overrides = {
        field.name: getattr(args, field.name)
        for field in dataclasses.fields(ProblemParams)
        if getattr(args, field.name) is not None
    }
    return NAMED_SETTINGS[args.setting](**overrides)


def _constants(pairs: Sequence[str]) -> HiddenConstants:
    values: dict[str, float] = {}
    names = {field.name for field in dataclasses.fields(HiddenConstants)}
    for pair in pairs:
        name, _, text = pair.partition("=")
        if name not in names:
            raise ParameterError(
                name, text, f"--constant NAME=VALUE with NAME one of {', '.join(sorted(names))}"
            )
        try:
            values[name] = float(text)
        except ValueError:
            raise ParameterError(name, text, "a number") from None
    return HiddenConstants(**values)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of ``theorykit bounds``."""
    add_setting_arguments(parser)
    parser.add_argument(
        "--constant",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help=(
            "a hidden constant of the theorems (theorykit.constants.HiddenConstants), repeatable; "
            "NAME and its default: "
            + ", ".join(
                f"{field.name}={field.default:g}" for field in dataclasses.fields(HiddenConstants)
            )
        ),
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def run(args: argparse.Namespace) -> int:
    """Print the summary; exit status 0."""
    summary = bounds_summary(params_from_args(args), _constants(args.constant))
    print(summary.to_json() if args.json else summary)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m theorykit.cli bounds ...``: the one subcommand of the bottom layer."""
    parser = argparse.ArgumentParser(prog="theorykit", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    add_arguments(commands.add_parser("bounds", help=HELP))
    args = parser.parse_args(argv)
    try:
        return run(args)
    except ParameterError as error:
        print(f"theorykit {args.command}: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
