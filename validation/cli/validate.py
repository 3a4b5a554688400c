"""``theorykit validate --preset quick|lambda-sensitivity|zou2023|tang2025-table [--out DIR]
[--dtype float32] [--compile] [--device cuda]``: train the preset's CNNs (resuming from
DIR/results.sqlite), write plots and DIR/report.md, print the report; exit status 1 when one of the
paper's outcomes is not reproduced."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from validation.cli.common import add_engine_arguments

HELP = "train a preset's CNNs and compare with the paper and the theory"
PRESET_NAMES = ("quick", "lambda-sensitivity", "zou2023", "tang2025-table")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--preset",
        choices=PRESET_NAMES,
        default="quick",
        help="the experiment (default: %(default)s)",
    )
    parser.add_argument(
        "--out", default=None, help="output directory (default: runs/PRESET[-float32])"
    )
    add_engine_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from validation.cnn.engine import resolve_device
    from validation.experiments.preset_report import run_preset, write_report
    from validation.experiments.presets import PRESETS

    preset = PRESETS[args.preset]()
    resolve_device(args.device)  # a bad or absent device is a ParameterError before anything trains
    options = dataclasses.replace(
        preset.options, dtype=args.dtype, compile=args.compile, device=args.device
    )
    preset = dataclasses.replace(preset, options=options)
    out_dir = Path(
        args.out or f"runs/{preset.name}" + ("" if args.dtype == "float64" else f"-{args.dtype}")
    )
    records = run_preset(preset, out_dir)
    text, checks = write_report(preset, records, out_dir)
    print(text)
    print(
        f"written: {out_dir / 'results.sqlite'}, {out_dir / 'report.md'}, "
        f"{out_dir / 'trajectories.png'}, {out_dir / 'test_error.png'}"
    )
    return 0 if all(check.holds for check in checks) else 1
