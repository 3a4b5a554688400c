"""Where is the weight-decay cliff for Adam, and for AdamW?

Adam's admissible L2 strength is far below AdamW's decoupled one (Tang et al. 2025, Cor 4.3 vs
Cor 4.6): above lambda*_Adam = D0 / gamma0 Adam is stuck at initialisation, while AdamW collapses
only above a threshold that depends on eta and the horizon (theorykit.collapse). The mean-field
reduced dynamics (dynamics.predict.phase_diagram) sweeps lam in seconds at B = 2:

    python examples/lambda_cliff.py --out runs/examples

writes ``lambda_cliff.png``: predicted final test and train error against lam for both optimisers,
with theorykit's thresholds drawn. ``--out`` is checked before anything runs; every error ends in
one line (validation.cli.entry_points).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from dynamics import phase_diagram
from theorykit import tang2025_synthetic
from theorykit.finite_size import finite_size_predictions
from validation import check_out_dir, run_reporting_errors
from validation.reports import figures


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", default="runs/examples", help="output directory (default: %(default)s)"
    )
    parser.add_argument("--smoke", action="store_true", help="a short grid, for the tests")
    args = parser.parse_args(argv)
    out = check_out_dir(args.out)
    points, steps, samples = (5, 200, 8) if args.smoke else (17, 3000, 32)
    base = tang2025_synthetic(B=2, bias_correction=True)
    theory = finite_size_predictions(base.replace(epochs=steps // base.iterations_per_epoch))

    plt = figures.pyplot()
    with figures.figure_style():
        fig, ax = plt.subplots(figsize=(figures.FULL_WIDTH * 0.62, 2.8), layout="constrained")
        for optimizer, lams, threshold, mark in (
            ("adam", np.geomspace(1e-4, 1.0, points), theory.lambda_star_adam, "lambda_star_adam"),
            (
                "adamw",
                np.geomspace(1e-2, 1e3, points),
                theory.adamw_collapse_threshold,
                "adamw_collapse_threshold",
            ),
        ):
            diagram = phase_diagram(
                base.replace(optimizer=optimizer), [2], lams, steps=steps, samples=samples
            )
            colour = figures.style.OPTIMIZERS[optimizer]
            ax.plot(lams, diagram.test_error[0], "o", color=colour, label=f"{optimizer}: test")
            ax.plot(lams, diagram.train_error[0], "x", color=colour, label=f"{optimizer}: train")
            ax.axvline(
                threshold,
                color=figures.THEORY[mark].colour,
                label=f"{figures.THEORY[mark].label} = {figures.style.number_text(threshold)}",
                **figures.THEORY_LINE,
            )
        ax.set_xscale("log")
        ax.set_xlabel(r"weight decay $\lambda$ (L2 for Adam, decoupled for AdamW)")
        ax.set_ylabel(f"predicted error after {steps} iterations")
        ax.set_title("mean-field reduced dynamics, App. D.2 setting, $B$ = 2")
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    out.mkdir(parents=True, exist_ok=True)
    path = out / "lambda_cliff.png"
    figures.save_figure(fig, path)
    print(
        f"lambda*_Adam = {theory.lambda_star_adam:.3g}, AdamW collapse threshold = "
        f"{theory.adamw_collapse_threshold:.3g}; written: {path}"
    )
    return path


if __name__ == "__main__":
    sys.exit(run_reporting_errors(Path(__file__).name, main))
