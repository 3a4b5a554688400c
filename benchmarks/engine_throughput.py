"""Model-steps per second of the stacked engine against a naive one-model-at-a-time torch.optim
loop.

Setting: the paper's synthetic problem (Tang et al. 2025, App. D.2: d = 1000, m = 20, n = 200, q =
3, Adam with lam = 1e-5, torch-style bias correction), one optimiser step = one minibatch gradient
and one Adam update.

* naive: one model, W (2, m, d) as a leaf tensor, the loss through autograd, ``torch.optim.Adam``;
  its cost is linear in the number of models, so one model's rate is the baseline's rate.
* engine: :func:`validation.cnn.ensemble.build_ensemble` with E members (different seeds), driven by
  ``Ensemble.step`` over its own minibatch order: one step advances all E members; eager, and with
  ``EngineOptions(compile=True)`` (one fused compiled step; compile time is excluded, it is paid
  once).

Run ``python benchmarks/engine_throughput.py`` (defaults: B in {2, 16, 100}, E in {1, 16, 64, 256});
the table goes to ``--out`` (default ``runs/benchmarks/NAME/``; ``--update-results``: the committed
``benchmarks/results/engine_throughput_<device>_<dtype>.md``) with the machine's
description, and the raw numbers to the matching ``.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import torch
from output import add_output_arguments, output_directory

from theorykit.params import tang2025_synthetic
from validation.cnn.data import sample_patch_data
from validation.cnn.ensemble import build_ensemble
from validation.cnn.model import cross_entropy, forward
from validation.runs.spec import EngineOptions, RunSpec


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def naive_rate(B: int, steps: int, dtype: torch.dtype, device: torch.device) -> float:
    """Model-steps/s of one model trained with autograd and torch.optim.Adam(weight_decay=lam)."""
    p = tang2025_synthetic(B=B)
    data = sample_patch_data(p.n, p.d, p.s, p.sigma_p, p.alpha, seed=0, dtype=dtype)
    y, xi = data.y[None].to(device), data.xi[None].to(device)
    q = torch.tensor([float(p.q)], dtype=dtype, device=device)
    w = (p.sigma0 * torch.randn(2, p.m, p.d, dtype=dtype, device=device)).requires_grad_()
    optimizer = torch.optim.Adam(
        [w], lr=p.eta, betas=(p.beta1, p.beta2), eps=p.eps, weight_decay=p.lam
    )
    batches = torch.randperm(p.n, device=device)[: (p.n // B) * B].view(-1, B)

    def one_step(k: int) -> None:
        idx = batches[k % len(batches)]
        optimizer.zero_grad(set_to_none=True)
        cross_entropy(forward(w[None], y[:, idx], xi[:, idx], q).logits, y[:, idx]).sum().backward()
        optimizer.step()

    for k in range(min(20, steps)):
        one_step(k)
    _synchronize(device)
    start = time.perf_counter()
    for k in range(steps):
        one_step(k)
    _synchronize(device)
    return steps / (time.perf_counter() - start)


def engine_rate(
    B: int, E: int, steps: int, dtype: torch.dtype, device: torch.device, compile: bool
) -> float:
    """Model-steps/s of the stacked engine with E members (E * steps / seconds)."""
    specs = [
        RunSpec(tang2025_synthetic(B=B, bias_correction=True), data_seed=e, init_seed=e)
        for e in range(E)
    ]
    options = EngineOptions(
        dtype=str(dtype).removeprefix("torch."), device=str(device), compile=compile
    )
    ensemble = build_ensemble(specs, options, with_test=False)
    batches = ensemble.epoch_batches(1)
    for k in range(min(20, steps)):
        ensemble.step(batches[k % len(batches)])
    _synchronize(device)
    start = time.perf_counter()
    for k in range(steps):
        ensemble.step(batches[k % len(batches)])
    _synchronize(device)
    return E * steps / (time.perf_counter() - start)


def machine() -> str:
    if torch.cuda.is_available():
        hardware = torch.cuda.get_device_name(0)
    else:
        hardware = (
            f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores visible, "
            f"{torch.get_num_threads()} torch threads"
        )
    return (
        f"{hardware}; {platform.system()} {platform.release()}; Python "
        f"{platform.python_version()}; torch {torch.__version__}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--batch-sizes",
        type=int,
        nargs="+",
        default=[2, 16, 100],
        help="B values (default: %(default)s)",
    )
    parser.add_argument(
        "--ensembles",
        type=int,
        nargs="+",
        default=[1, 16, 64, 256],
        help="ensemble sizes E, members per stacked group (default: %(default)s)",
    )
    parser.add_argument(
        "--steps",
        type=int,
        default=200,
        help="timed steps per measurement (after 20 warm-up steps)",
    )
    parser.add_argument(
        "--dtype",
        choices=["float64", "float32"],
        default="float64",
        help="precision (default: %(default)s)",
    )
    parser.add_argument(
        "--device",
        default="cuda" if torch.cuda.is_available() else "cpu",
        help="torch device (default: %(default)s)",
    )
    add_output_arguments(parser, "engine_throughput")
    args = parser.parse_args()
    results = output_directory(args)
    dtype, device = getattr(torch, args.dtype), torch.device(args.device)

    rows = []
    for B in args.batch_sizes:
        naive = naive_rate(B, args.steps, dtype, device)
        for E in args.ensembles:
            steps = max(20, args.steps * 16 // max(E, 16))
            eager = engine_rate(B, E, steps, dtype, device, compile=False)
            compiled = engine_rate(B, E, steps, dtype, device, compile=True)
            rows.append({"B": B, "E": E, "naive": naive, "eager": eager, "compiled": compiled})
            print(
                f"B={B:4d} E={E:4d}  naive {naive:8.0f}  eager {eager:8.0f} "
                f"(x{eager / naive:5.1f})  compiled {compiled:8.0f} (x{compiled / naive:5.1f})",
                flush=True,
            )

    stem = results / f"engine_throughput_{device.type}_{args.dtype}"
    header = [
        f"# Engine throughput ({args.dtype}, {device.type})",
        "",
        f"Machine: {machine()}",
        f"Date: {time.strftime('%Y-%m-%d')}",
        "",
        "Paper setting d = 1000, m = 20, n = 200, Adam (bias correction). Model-steps/s; naive = "
        "one model, autograd + torch.optim.Adam.",
        "",
        "| B | E | naive | engine, eager | speed-up | engine, compiled | speed-up |",
        "|---|---|---|---|---|---|---|",
    ]
    lines = [
        f"| {r['B']} | {r['E']} | {r['naive']:.0f} | {r['eager']:.0f} | "
        f"{r['eager'] / r['naive']:.1f}x | {r['compiled']:.0f} | "
        f"{r['compiled'] / r['naive']:.1f}x |"
        for r in rows
    ]
    stem.with_suffix(".md").write_text("\n".join(header + lines) + "\n")
    stem.with_suffix(".json").write_text(
        json.dumps({"machine": machine(), "dtype": args.dtype, "rows": rows}, indent=1)
    )
    print(f"written: {stem.with_suffix('.md')}")


if __name__ == "__main__":
    main()
