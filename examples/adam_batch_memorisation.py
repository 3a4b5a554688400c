"""Does Adam at my batch size memorise noise?

theorykit's finite-size race gives B*, the batch size from which Adam memorises noise within the
horizon (Tang et al. 2025, Thm 4.1 vs 4.2 at a finite setting; docs/notes/overlap.md §5); the CNN
and the reduced dynamics, from the same initialisation and batches, say what actually happens.

    python examples/adam_batch_memorisation.py --B 100 --out runs/examples

writes ``adam_batch_memorisation.png`` (measured solid, predicted dashed) and prints the verdict
and the comparison table. The paper's setting (App. D.2) at 6000 iterations takes about a minute
on two CPU cores; ``--smoke`` runs a tiny setting in seconds. ``--B`` and ``--out`` are checked
before anything trains; every error ends in one line (validation.cli.entry_points).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dynamics import epochs_for_steps
from theorykit import tang2025_synthetic
from theorykit.finite_size import finite_size_predictions
from validation import check_out_dir, compare_setting, run_reporting_errors
from validation.reports import figures


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--B", type=int, default=None, help="batch size, 1 <= B <= n (default: n / 2)"
    )
    parser.add_argument(
        "--out", default="runs/examples", help="output directory (default: %(default)s)"
    )
    parser.add_argument("--smoke", action="store_true", help="a tiny setting, for the tests")
    args = parser.parse_args(argv)
    out = check_out_dir(args.out)
    if args.smoke:
        base = tang2025_synthetic(n=40, s=20, m=5, eta=1e-3, bias_correction=True)
        steps, seeds = 100, (0,)
    else:
        base = tang2025_synthetic(bias_correction=True)  # App. D.2: d = 1000, n = 200, s = 100
        steps, seeds = 6000, (0, 1)
    params = base.replace(optimizer="adam", lam=1e-5, B=base.n // 2 if args.B is None else args.B)
    params = params.replace(epochs=epochs_for_steps(params, steps))

    theory = finite_size_predictions(params)
    print(f"B* (adam) = {theory.critical_batch_sizes['adam']:.3g}; at B = {params.B}:")
    print(f"  {theory.verdict}")
    comparison = compare_setting(params, seeds=seeds)
    print(comparison.table().T.to_string())
    print(f"prediction agrees with the CNN on every seed: {comparison.agrees()}")

    out.mkdir(parents=True, exist_ok=True)
    path = out / "adam_batch_memorisation.png"
    figures.save_figure(comparison.plot(), path)
    print(f"written: {path}")
    return path


if __name__ == "__main__":
    sys.exit(run_reporting_errors(Path(__file__).name, main))
