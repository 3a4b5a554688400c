"""``theorykit compare [--out DIR] [--epochs 50] [--batch-steps 6000]``: Adam and AdamW stuck
thresholds, the batch size where memorisation begins and the large-batch time scales T0, T_r, from
theorykit, the reduced dynamics and the CNN across settings, and coefficient checks
(:mod:`validation.experiments.comparison`); resumable."""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = (
    "Adam and AdamW stuck thresholds and the large-batch boundary (theory, reduced dynamics, CNN) "
    "across settings, and coefficient checks"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out", default="runs/compare", help="output directory (default: %(default)s)"
    )
    parser.add_argument(
        "--epochs",
        type=int,
        default=50,
        help=(
            "CNN and reduced-dynamics horizon of the threshold grids, epochs (default: %(default)s)"
        ),
    )
    parser.add_argument(
        "--batch-steps",
        type=int,
        default=6000,
        help="iterations of every run of the batch-size comparison (default: %(default)s)",
    )


def run(args: argparse.Namespace) -> int:
    from validation.experiments.comparison import write_comparison

    out_dir = Path(args.out)
    print(write_comparison(out_dir, epochs=args.epochs, batch_steps=args.batch_steps))
    print(f"written: {out_dir / 'comparison.md'}, {out_dir / 'coefficient_check.png'}")
    return 0
