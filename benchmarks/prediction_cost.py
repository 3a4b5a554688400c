"""What a prediction costs next to the CNN it predicts: microseconds per member-step of the reduced
dynamics' compiled kernel (:mod:`dynamics.kernel`) and of the CNN's fused kernel
(:mod:`validation.cnn.fused`), measured in one run on the same minibatches.

Setting: the paper's synthetic problem (Tang et al. 2025, App. D.2: n = 200, s = 100, m = 20,
q = 3), Adam with lam = 1e-5 and torch-style bias correction, 10 members (the size of the
tang2025-table protocol's B = 2 group), members on numba's threads in both kernels. Per reduction
(:data:`dynamics.problem.Reduction`):

* **overlap-aware**: the paper's d = 1000, where the n s = 20 000 support entries overlap (every
  noise coordinate is shared by about 20 samples) -- the reduction the presets predict with;
* **support-resolved** and **shared**: disjoint supports, which need d >= n s + 1, so d = 20 001
  (the CNN then has 20x the paper's weights; support-resolved carries one weight per support
  entry, as many as the CNN's noise coordinates, so its cost is the CNN's order by construction).

The CNN trains on the setting's own supports; the prediction is read off that same ensemble
(:func:`validation.cnn.readout.reduced_problem_of`) and stepped on its minibatches, as a stored
run's prediction is. Each time is the best of 3 repeats after a warm-up span (compilation and
caches). ``python benchmarks/prediction_cost.py`` writes ``--out`` (default
``runs/benchmarks/prediction_cost/``; ``--update-results``: the committed
``benchmarks/results/prediction_cost.md``) and ``.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform

import numba
import numpy as np
import torch
from output import add_output_arguments, add_size_arguments, output_directory
from timing import best_time

from dynamics.problem import competition_refresh
from dynamics.reduced import ReducedDynamics
from theorykit.params import tang2025_synthetic
from validation.cnn.ensemble import build_ensemble
from validation.cnn.readout import reduced_problem_of
from validation.reports.tables import markdown_table
from validation.runs.spec import EngineOptions, RunSpec

#: (reduction, d, supports) of each row group; see the module docstring.
SETTINGS = (
    ("overlap-aware", 1000, "overlapping"),
    ("support-resolved", 20_001, "disjoint"),
    ("shared", 20_001, "disjoint"),
)


def member_step_times(
    reduction: str, d: int, supports: str, B: int, dtype: str, members: int, steps: int
) -> tuple[float, float]:
    """Seconds per member-step of (the CNN's fused kernel, the reduced dynamics' kernel) over the
    same ``steps`` minibatches of one ensemble of ``members`` runs."""
    p = tang2025_synthetic(optimizer="adam", lam=1e-5, B=B, d=d, epochs=10**6, bias_correction=True)
    specs = [RunSpec(p, seed, seed, supports=supports) for seed in range(members)]
    options = EngineOptions(dtype=dtype, device="cpu", kernel="fused", test_size=100)
    ensemble = build_ensemble(specs, options)
    problem = reduced_problem_of(
        build_ensemble(specs, EngineOptions(dtype="float64", device="cpu", test_size=100)),
        reduction,
    )
    batches, epoch = [], 1
    while len(batches) < steps + p.iterations_per_epoch:
        batches += ensemble.epoch_batches(epoch)
        epoch += 1
    warm, timed = batches[: p.iterations_per_epoch], batches[p.iterations_per_epoch :][:steps]
    ensemble.advance(warm)
    cnn = best_time(lambda: ensemble.advance(timed))
    reduced = ReducedDynamics.start(problem)
    warm_idx, timed_idx = [idx.numpy() for idx in warm], [idx.numpy() for idx in timed]
    reduced.run(warm_idx, dtype)
    prediction = best_time(lambda: reduced.run(timed_idx, dtype))
    return cnn / (steps * members), prediction / (steps * members)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_size_arguments(parser, ["float64", "float32"], [2, 100])
    parser.add_argument(
        "--members", type=int, default=10, help="runs per ensemble (default: %(default)s)"
    )
    parser.add_argument(
        "--steps",
        type=int,
        default=1000,
        help="timed steps per row at B = 2, a fifth of it at B >= 50 (default: %(default)s)",
    )
    add_output_arguments(parser, "prediction_cost")
    args = parser.parse_args()
    results = output_directory(args)
    torch.set_num_threads(os.cpu_count() or 1)
    rows, raw = [], []
    for reduction, d, supports in SETTINGS:
        for B in args.batch:
            for dtype in args.dtypes:
                steps = args.steps if B < 50 else max(1, args.steps // 5)
                cnn, prediction = member_step_times(
                    reduction, d, supports, B, dtype, args.members, steps
                )
                raw.append(
                    {
                        "reduction": reduction,
                        "d": d,
                        "supports": supports,
                        "B": B,
                        "dtype": dtype,
                        "members": args.members,
                        "steps": steps,
                        "cnn_us_per_member_step": 1e6 * cnn,
                        "prediction_us_per_member_step": 1e6 * prediction,
                        "ratio": prediction / cnn,
                    }
                )
                rows.append(
                    (
                        reduction,
                        d,
                        B,
                        dtype,
                        f"{1e6 * prediction:.1f}",
                        f"{1e6 * cnn:.1f}",
                        f"{prediction / cnn:.2f}",
                    )
                )
                print(rows[-1], flush=True)
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores"
    paper = tang2025_synthetic()
    lines = [
        "# What a prediction costs next to the CNN it predicts",
        "",
        f"Machine: {machine}; torch {torch.__version__}, numba {numba.__version__}, numpy "
        f"{np.__version__}. Paper setting (n = 200, s = 100, m = 20), Adam lam = 1e-5, "
        f"{args.members} members on numba's threads in both kernels; both times from one run "
        "on the same minibatches. Generated by `python benchmarks/prediction_cost.py`.",
        "",
        *markdown_table(
            (
                "reduction",
                "d",
                "B",
                "dtype",
                "prediction us / member-step",
                "CNN (fused) us / member-step",
                "prediction / CNN",
            ),
            rows,
        ),
        "",
        "Reading the table. A ratio below 1 is a prediction cheaper than training the network it "
        "predicts. The overlap-aware step costs, besides the Adam pass over its 2 m n "
        "displacements (a fifth of the CNN's 2 m d weights at the paper's d), a refresh of "
        "Adam's competition over all n s support entries (the per-coordinate second moments and "
        "each sample's share, docs/notes/overlap.md §2), every "
        + ", ".join(f"{competition_refresh(B, paper.n)} steps at B = {B}" for B in args.batch)
        + " (32 where 32 steps visit each sample at most once on average, else 16); and at "
        "B = 100 the batch's coupling products (B n 2 m) and competition factors. The "
        "support-resolved reduction carries one weight per support entry, n s = d - 1 here, so it "
        "costs the CNN's order; the shared displacement carries n per filter.",
        "",
    ]
    (results / "prediction_cost.md").write_text("\n".join(lines))
    (results / "prediction_cost.json").write_text(
        json.dumps({"machine": machine, "rows": raw}, indent=2)
    )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
