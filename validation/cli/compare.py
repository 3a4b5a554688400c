"""``theorykit compare [--out DIR] [--no-reduced] [--no-coefficients] [--dry-run]``: the accuracy
table of theorykit's finite-size predictions (B*, lambda*_Adam, the AdamW collapse threshold, T0,
t_r and reversal probabilities) against the CNN across the settings of
:mod:`validation.experiments.settings`, with the calibration of the hidden constants and the
coefficient checks of the reductions (:mod:`validation.experiments.comparison`); resumable. Each
stage's size and the estimated total are printed first (:mod:`validation.experiments.
comparison_plan`); ``--dry-run`` prints only them."""

from __future__ import annotations

import argparse
import sys

from validation.cli.common import check_out_dir

HELP = (
    "accuracy table: theorykit's finite-size predictions (B*, lambda*_Adam, AdamW collapse, T0, "
    "T_r) against the CNN across settings, with their calibration"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out",
        default="runs/compare",
        help="output directory; CNN runs resume from DIR/cnn/results.sqlite (default: %(default)s)",
    )
    parser.add_argument(
        "--no-reduced",
        dest="reduced",
        action="store_false",
        help="skip the reduced-dynamics column of the batch table (the slowest part after the CNN)",
    )
    parser.add_argument(
        "--no-coefficients",
        dest="coefficients",
        action="store_false",
        help="skip the coefficient checks of the reductions",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="print each stage's pending CNN runs and predictions, member-steps and estimated "
        "time, and the total; train nothing",
    )


def run(args: argparse.Namespace) -> int:
    from validation.experiments.comparison_plan import describe_comparison

    out_dir = check_out_dir(args.out)
    plan = describe_comparison(out_dir / "cnn" / "results.sqlite", args.reduced, args.coefficients)
    if args.dry_run:
        print(plan)
        return 0
    from validation.experiments.comparison import write_comparison

    print(plan, file=sys.stderr)
    print(write_comparison(out_dir, reduced=args.reduced, coefficients=args.coefficients))
    print(f"written: {out_dir / 'comparison.md'}, {out_dir / 'predicted_vs_measured.png'}")
    return 0
