"""``theorykit compare [--out DIR] [--no-reduced] [--no-coefficients] [--dry-run] [--seeds N]
[--settings LABEL[,LABEL...]] [--batch-sizes B[,B...]]``: the accuracy table of theorykit's
finite-size predictions (B*, lambda*_Adam, the AdamW collapse threshold, T0, t_r and reversal
probabilities) against the CNN across the settings of :mod:`validation.experiments.settings`, with
the calibration of the hidden constants and the coefficient checks of the reductions
(:mod:`validation.experiments.comparison`); resumable. ``--seeds``, ``--settings`` and
``--batch-sizes`` narrow every stage (:mod:`validation.experiments.comparison_scope`; checked
before anything trains) to runs of the full comparison, under the same keys. Each stage's size and
the estimated total are printed first (:mod:`validation.experiments.comparison_plan`);
``--dry-run`` prints only them. While training, a line after each sub-sweep counts the runs and
predictions done of the whole job and the time left
(:mod:`validation.experiments.comparison_progress`)."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from theorykit.errors import ParameterError
from validation.cli.common import check_out_dir

if TYPE_CHECKING:
    from validation.experiments.comparison_scope import ComparisonScope

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
    add_scope_arguments(parser)


def add_scope_arguments(parser: argparse.ArgumentParser) -> None:
    """``--seeds``, ``--settings`` and ``--batch-sizes``: the knobs of
    :mod:`validation.experiments.comparison_scope`."""
    parser.add_argument(
        "--seeds",
        metavar="N",
        help="seeds 0..N-1 of every CNN stage (thresholds, batch boundary, horizon check); a B "
        "memorises when any seed does, a lam collapses when half do (default: 2); the Table 1 "
        "example beside the horizon check always has 12",
    )
    parser.add_argument(
        "--settings",
        metavar="LABEL[,LABEL...]",
        help="only these settings, by exact label of the accuracy table or of the threshold table "
        "(labels may hold commas: the longest label at each place is taken); a label selects its "
        "settings in both tables, a threshold setting also without its ', B = N' ('paper (App. "
        "D.2)' selects both paper settings); the horizon check and the Table 1 example run only "
        "with 'paper (App. D.2)' "
        "(default: every setting; an unknown label's error lists the labels)",
    )
    parser.add_argument(
        "--batch-sizes",
        metavar="B[,B...]",
        help="only these batch sizes of the batch-boundary grids (validation.experiments.settings."
        "BATCH_GRIDS): each in the grid of a selected setting, every selected setting keeping one "
        "(default: the whole grid of each setting)",
    )


def requested_scope(args: argparse.Namespace) -> ComparisonScope:
    """The scope of ``--seeds``, ``--settings`` and ``--batch-sizes``, each checked."""
    from validation.experiments.comparison_scope import comparison_scope, split_labels

    digits = args.seeds is not None and args.seeds.strip().isdigit()
    seeds = int(args.seeds) if digits else args.seeds
    sizes = None
    if args.batch_sizes is not None:
        items = [item.strip() for item in args.batch_sizes.split(",")]
        if not all(item.isdigit() for item in items):
            raise ParameterError(
                "batch_sizes", args.batch_sizes, "comma-separated integers from the batch grids"
            )
        sizes = [int(item) for item in items]
    labels = None if args.settings is None else split_labels(args.settings)
    return comparison_scope(seeds, labels, sizes)


def run(args: argparse.Namespace) -> int:
    from validation.experiments.comparison_plan import comparison_stages, describe_comparison

    scope = requested_scope(args)
    out_dir = check_out_dir(args.out)
    stages = comparison_stages(out_dir / "cnn" / "results.sqlite", args.reduced, scope)
    plan = describe_comparison(stages, args.coefficients, scope)
    if args.dry_run:
        print(plan)
        return 0
    from validation.experiments.comparison import write_comparison
    from validation.experiments.comparison_progress import JobProgress

    print(plan, file=sys.stderr)
    text = write_comparison(
        out_dir,
        reduced=args.reduced,
        coefficients=args.coefficients,
        scope=scope,
        job=JobProgress(stages),
    )
    print(text)
    print(f"written: {out_dir / 'comparison.md'}, {out_dir / 'predicted_vs_measured.png'}")
    return 0
