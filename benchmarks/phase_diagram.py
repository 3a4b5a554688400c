"""Wall time of a 20 x 20 (B, lam) phase diagram of the mean-field reduced dynamics
(dynamics.predict).

Paper setting (Tang et al. 2025, App. D.2: n = 200, m = 20, q = 3, sigma0 = 0.01, eta = 5e-5), Adam
and AdamW with torch-style bias correction; B from 2 to 200, lam from 1e-6 to 1 (log-spaced). Writes
``--out`` (default ``runs/benchmarks/NAME/``; ``--update-results``: the committed
``benchmarks/results/phase_diagram.md``) (timings, machine, predicted outcome counts) and one PNG
per
optimiser next to it. ``--steps`` and ``--samples`` trade fidelity for time (defaults: 3000 steps,
32 representative samples; see dynamics.mean_field for what they mean); ``--workers`` processes
share the independent chunks (default: every core; the result does not depend on it).
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np
from output import add_output_arguments, output_directory

from dynamics.outcomes import OUTCOMES
from dynamics.predict import phase_diagram
from theorykit.conditions import lambda_thresholds
from theorykit.params import tang2025_synthetic
from validation.reports.figures import plot_phase_diagram

BATCH_SIZES = (2, 3, 4, 5, 6, 8, 10, 12, 16, 20, 25, 32, 40, 50, 64, 80, 100, 128, 160, 200)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--steps", type=int, default=3000, help="iterations per grid point (default: %(default)s)"
    )
    parser.add_argument(
        "--samples",
        type=int,
        default=32,
        help="representative samples of the mean-field dynamics (default: %(default)s)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="processes for the independent chunks (default: every core)",
    )
    add_output_arguments(parser, "phase_diagram")
    args = parser.parse_args()
    results = output_directory(args)
    lams = tuple(float(x) for x in np.geomspace(1e-6, 1.0, 20))
    lines = [
        "# Reduced-dynamics phase diagram, 20 x 20 (B, lam)",
        "",
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores; "
        f"Python {platform.python_version()}, numpy {np.__version__}",
        f"Date: {time.strftime('%Y-%m-%d')}",
        "",
        f"Mean-field dynamics, {args.steps} steps, {args.samples} representative samples per "
        f"setting, {args.workers} worker process(es).",
        "",
        "| optimizer | wall time (s) | " + " | ".join(OUTCOMES) + " |",
        "|---|---|" + "---|" * len(OUTCOMES),
    ]
    for optimizer in ("adam", "adamw"):
        base = tang2025_synthetic(optimizer=optimizer, bias_correction=True)
        start = time.perf_counter()
        diagram = phase_diagram(
            base, BATCH_SIZES, lams, steps=args.steps, samples=args.samples, workers=args.workers
        )
        elapsed = time.perf_counter() - start
        outcomes = diagram.outcomes()
        counts = " | ".join(str(int((outcomes == name).sum())) for name in OUTCOMES)
        lines.append(f"| {optimizer} | {elapsed:.1f} | {counts} |")
        thresholds = lambda_thresholds(base)
        plot_phase_diagram(
            diagram,
            results / f"phase_diagram_{optimizer}.png",
            {
                "lambda*_Adam": thresholds["lambda_star_adam"],
                "lambda*_AdamW": thresholds["lambda_star_adamw"],
            },
        )
        print(lines[-1], flush=True)
    (results / "phase_diagram.md").write_text("\n".join(lines) + "\n")
    print(f"written: {results / 'phase_diagram.md'}")


if __name__ == "__main__":
    main()
