"""Full-batch Adam and gradient descent from the same initialisation: do they reach the same
solution?

Zou, Cao, Li, Gu (ICLR 2023): on this non-convex problem full-batch Adam memorises noise while GD
learns the feature, although both fit the training data. One call per optimiser gives the CNN, the
reduced dynamics' prediction (exact for GD) and theorykit's verdict:

    python examples/full_batch_adam_vs_gd.py --out runs/examples

writes ``full_batch_adam_vs_gd.png`` (one column per optimiser, measured solid, predicted dashed).
``--out`` is checked before anything trains; every error ends in one line
(validation.cli.entry_points).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from theorykit import tang2025_synthetic
from validation import check_out_dir, compare_setting, run_reporting_errors
from validation.reports import figures


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", default="runs/examples", help="output directory (default: %(default)s)"
    )
    parser.add_argument("--smoke", action="store_true", help="a tiny setting, for the tests")
    args = parser.parse_args(argv)
    out = check_out_dir(args.out)
    if args.smoke:
        base = tang2025_synthetic(n=40, s=20, m=5, B=40, epochs=40, bias_correction=True)
        etas = {"adam": 1e-3, "gd": 0.5}
    else:
        base = tang2025_synthetic(B=200, epochs=3000, bias_correction=True)
        etas = {"adam": 5e-5, "gd": 0.5}
    records, predicted = [], {}
    for optimizer, eta in etas.items():
        comparison = compare_setting(base.replace(optimizer=optimizer, eta=eta, lam=1e-5))
        (run,) = comparison.runs
        print(
            f"{optimizer}: CNN {run.measured_outcome} (test error "
            f"{run.record.final_value('test_error'):.3f}), predicted {run.predicted_outcome}, "
            f"theorykit {comparison.theory.finite_size.verdict}"
        )
        record = run.record
        records.append(dataclasses.replace(record, name=f"{optimizer}, B = n"))
        predicted[record.key] = run.predicted
    out.mkdir(parents=True, exist_ok=True)
    path = out / "full_batch_adam_vs_gd.png"
    figures.save_figure(
        figures.trajectory_figure(records, "full-batch Adam vs GD (Zou et al. 2023)", predicted),
        path,
    )
    print(f"written: {path}")
    return path


if __name__ == "__main__":
    sys.exit(run_reporting_errors(Path(__file__).name, main))
