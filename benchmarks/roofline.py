"""How close the CNN engine's step is to this machine's memory bandwidth (a roofline table).

Setting: the paper's synthetic problem (Tang et al. 2025, App. D.2: d = 1000, m = 20, n = 200, s =
100), Adam with lam = 1e-5 and torch-style bias correction, the fused CPU kernel
(``EngineOptions(kernel="fused")``, :mod:`validation.cnn.fused`).

For each (B, E, dtype):

* **minimum bytes** a step must move: Adam reads and writes every weight and both moments of every
  member (m and v decay everywhere, and L2 makes every gradient coordinate nonzero), 6 x itemsize x
  E x 2 m d; the batch's sparse noise (B s values and indices) is below 1% of it and left out;
* **achieved** bytes/s: the minimum bytes over the measured step time (steps run in stretches of
  epochs, as ``train_group`` runs them, batches generated beforehand);
* **copy** bytes/s: ``numpy.copyto`` of an array the size of the step's working set (W, m, v of
  all members), read plus write, measured in the same run, so that cache residency counts the same
  for both; the last column is achieved / copy.

Then the time of one B = 2 step of the protocol's group (10 members), split into: the kernel step
(gradient and update in one pass; a standalone update pass cannot reproduce the kernel's cache
state and measured slower than the whole step, so the two are not split), the minibatch orders
(``Ensemble.epoch_batches``), and one measurement (``Ensemble.measure``) per recording epoch,
amortised at the preset's recording interval (250 epochs).

``python benchmarks/roofline.py`` writes ``--out`` (default ``runs/benchmarks/NAME/``;
``--update-results``: the committed ``benchmarks/results/roofline.md``) and ``.json``; the per
member-step times are a lower bound of :mod:`validation.runs.sizing`'s constants, which are fitted
to whole protocol runs (loop overhead included).
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

from theorykit.params import tang2025_synthetic
from validation.cnn.ensemble import build_ensemble
from validation.reports.tables import markdown_table
from validation.runs.spec import EngineOptions, RunSpec

ITEMSIZE = {"float32": 4, "float64": 8}


def _ensemble(B: int, E: int, dtype: str):
    p = tang2025_synthetic(optimizer="adam", lam=1e-5, B=B, epochs=10**6, bias_correction=True)
    specs = [RunSpec(p, seed, seed) for seed in range(E)]
    options = EngineOptions(dtype=dtype, device="cpu", kernel="fused", test_size=2000)
    return p, build_ensemble(specs, options)


def step_time(B: int, E: int, dtype: str, steps: int) -> float:
    """Seconds per step (all E members) of the fused kernel over ``steps`` steps."""
    p, ensemble = _ensemble(B, E, dtype)
    per_epoch = p.iterations_per_epoch
    batches = []
    epoch = 1
    while len(batches) < steps:
        batches += ensemble.epoch_batches(epoch)
        epoch += 1
    batches = batches[:steps]
    ensemble.advance(batches[:per_epoch])  # compile and warm the caches
    return best_time(lambda: ensemble.advance(batches), repeats=5) / steps


def copy_bandwidth(working_set_bytes: int) -> float:
    """Bytes/s of numpy.copyto over an array of ``working_set_bytes`` (read + write counted)."""
    source = np.ones(working_set_bytes // 8)
    target = np.empty_like(source)
    np.copyto(target, source)
    repeats = max(3, int(2e8 // max(working_set_bytes, 1)))

    def copies() -> None:
        for _ in range(repeats):
            np.copyto(target, source)

    return 2 * source.nbytes * repeats / best_time(copies, repeats=5)


def split_b2_step(dtype: str, E: int = 10, record_every: int = 250) -> dict[str, float]:
    """Per-step seconds of the B = 2 chain: kernel step, batch orders, measurement."""
    p, ensemble = _ensemble(2, E, dtype)
    steps = 50 * p.iterations_per_epoch
    total = step_time(2, E, dtype, steps)
    orders = best_time(lambda: [ensemble.epoch_batches(k + 2) for k in range(20)], repeats=5) / (
        20 * p.iterations_per_epoch
    )
    ensemble.measure()
    measure = best_time(lambda: ensemble.measure(), repeats=3)
    return {
        "kernel step (gradient and update)": total,
        "minibatch orders": orders,
        "measurement, amortised": measure / (record_every * p.iterations_per_epoch),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_size_arguments(parser, ["float32", "float64"], [2, 100])
    parser.add_argument(
        "--members",
        type=int,
        nargs="+",
        default=[10, 20, 64],
        help="members per fused ensemble (default: %(default)s)",
    )
    parser.add_argument(
        "--steps", type=int, default=2000, help="timed steps per row (default: %(default)s)"
    )
    add_output_arguments(parser, "roofline")
    args = parser.parse_args()
    results = output_directory(args)
    torch.set_num_threads(os.cpu_count() or 1)
    p = tang2025_synthetic()
    rows, raw = [], []
    for dtype in args.dtypes:
        for B in args.batch:
            for E in args.members:
                seconds = step_time(B, E, dtype, args.steps if B < 50 else args.steps // 4)
                params = E * 2 * p.m * p.d
                minimum = 6 * ITEMSIZE[dtype] * params
                achieved = minimum / seconds
                copy = copy_bandwidth(3 * ITEMSIZE[dtype] * params)
                threads = min(E, numba.get_num_threads())
                member_copy = threads * copy_bandwidth(3 * ITEMSIZE[dtype] * 2 * p.m * p.d)
                raw.append(
                    {
                        "dtype": dtype,
                        "B": B,
                        "E": E,
                        "seconds_per_step": seconds,
                        "us_per_member_step": 1e6 * seconds / E,
                        "minimum_bytes": minimum,
                        "achieved_bytes_per_s": achieved,
                        "copy_bytes_per_s": copy,
                        "member_copy_bytes_per_s": member_copy,
                    }
                )
                rows.append(
                    (
                        dtype,
                        B,
                        E,
                        f"{1e6 * seconds:.0f}",
                        f"{1e6 * seconds / E:.1f}",
                        f"{minimum / 1e6:.1f}",
                        f"{achieved / 1e9:.1f}",
                        f"{copy / 1e9:.1f}",
                        f"{100 * achieved / copy:.0f}%",
                        f"{member_copy / 1e9:.1f}",
                        f"{100 * achieved / member_copy:.0f}%",
                    )
                )
                print(rows[-1], flush=True)
    splits = {dtype: split_b2_step(dtype) for dtype in args.dtypes}
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores"
    lines = [
        "# Roofline: the fused CPU step against a plain copy of the same working set",
        "",
        f"Machine: {machine}; torch {torch.__version__}, numba {numba.__version__}. "
        "Paper setting (d = 1000, m = 20, n = 200, s = 100), Adam lam = 1e-5. Generated by "
        "`python benchmarks/roofline.py`.",
        "",
        *markdown_table(
            (
                "dtype",
                "B",
                "members E",
                "us / step",
                "us / member-step",
                "minimum MB / step",
                "achieved GB/s",
                "copy GB/s (same size)",
                "achieved / copy",
                "copy GB/s (one member per thread)",
                "achieved / that",
            ),
            rows,
        ),
        "",
        "Reading the table. The kernel runs each member's steps back to back on one thread, so "
        "what it streams per step is one member's W, m and v (3 x itemsize x 2 m d: 0.48 MB in "
        "float32), which stays in the core's L2 across steps; a copy of all members' working set "
        "(the first copy column) is DRAM- or L3-bound and flatters the kernel beyond 100%. The "
        "fair reference is the second: a copy of one member's working set, times the threads "
        "that run members at once. At B = 100 the parameter bytes are not the bound: a step also "
        "gathers and scatters the batch's sparse noise, B (s + 1) coordinates for each of the 2 m "
        "filters (4 x 10^5 indexed reads and writes, about 10 x the 4 x 10^4 weights), and that "
        "indexed traffic, not the Adam pass, sets its time.",
        "",
        "## Where a B = 2 step of the protocol's group (10 members) goes",
        "",
        *markdown_table(
            ("part", *(f"{dtype} (us)" for dtype in args.dtypes)),
            [
                (part, *(f"{1e6 * splits[dtype][part]:.1f}" for dtype in args.dtypes))
                for part in splits[args.dtypes[0]]
            ],
        ),
        "",
    ]
    (results / "roofline.md").write_text("\n".join(lines))
    (results / "roofline.json").write_text(
        json.dumps({"machine": machine, "rows": raw, "b2_split": splits}, indent=2)
    )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
