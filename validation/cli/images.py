"""``theorykit images [--dataset digits|cifar10] [--cifar-dir DIR] [--out DIR] [--device auto]
[--seeds N] [--batch-sizes LIST] [--lams LIST] [--dry-run]``: Tang et al. Figs 1-2 on real images,
test error vs B and vs lam (:mod:`validation.experiments.image_experiment`). The runs to train and
the estimated time are printed first (:mod:`validation.experiments.image_plan`); ``--dry-run``
prints each pending run and trains nothing."""

from __future__ import annotations

import argparse
import dataclasses
import math
from collections.abc import Callable
from typing import TYPE_CHECKING

from theorykit.errors import ParameterError
from validation.cli.common import add_out_argument, check_out_dir
from validation.runs.spec import seed_range

if TYPE_CHECKING:
    from validation.experiments.image_data import ImageSplit
    from validation.experiments.image_runs import ImageSweep

HELP = "real images: test error vs batch size and vs lam for Adam and AdamW"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dataset",
        choices=["digits", "cifar10"],
        default="digits",
        help="scikit-learn's bundled 8x8 digits, or a local CIFAR-10 copy (default: %(default)s)",
    )
    parser.add_argument(
        "--cifar-dir", default=None, help="directory with the CIFAR-10 python batches (no download)"
    )
    add_out_argument(parser, "runs/DATASET")
    parser.add_argument(
        "--device", default="auto", help="torch device (default: CUDA when present)"
    )
    parser.add_argument(
        "--seeds",
        metavar="N",
        help="train both sweeps for seeds 0 .. N-1; the report reads mean errors (default: 1)",
    )
    parser.add_argument(
        "--batch-sizes",
        metavar="LIST",
        help="the batch sizes of the Fig. 1 sweep, comma-separated, e.g. 16,64 "
        "(default: 4,16,64,256,1024)",
    )
    parser.add_argument(
        "--lams",
        metavar="LIST",
        help="the weight decays of the Fig. 2 sweep for Adam and AdamW alike, comma-separated, "
        "e.g. 1e-4,1e-1 (default: Adam 1e-5 .. 0.1, AdamW 1e-4 .. 0.5)",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="print the runs to train (those not yet stored), their optimiser steps and the "
        "estimated time per sweep and in total; train nothing",
    )


def _values(
    text: str, name: str, parse: Callable[[str], float], minimum: float, rule: str
) -> tuple:
    """The distinct values of a comma-separated list, ascending; a :class:`ParameterError` naming
    ``name`` and ``rule`` for a value ``parse`` refuses or below ``minimum``, or fewer than two."""
    try:
        values = sorted({parse(item) for item in text.split(",")})
    except ValueError:
        raise ParameterError(name, text, rule) from None
    if len(values) < 2 or not all(math.isfinite(v) and v >= minimum for v in values):
        raise ParameterError(name, text, rule)
    return tuple(values)


def requested_sweep(args: argparse.Namespace) -> ImageSweep:
    """The default sweep with ``--seeds``, ``--batch-sizes`` and ``--lams`` applied, each checked
    before anything trains."""
    from validation.experiments.image_runs import DEFAULT_SWEEP

    changes: dict[str, tuple] = {}
    if args.seeds is not None:
        changes["seeds"] = seed_range(args.seeds)
    if args.batch_sizes is not None:
        changes["batch_sizes"] = _values(
            args.batch_sizes,
            "batch_sizes",
            int,
            1,
            "comma-separated integers >= 1, at least two distinct (the report reads the trend "
            "from the smallest B to the largest)",
        )
    if args.lams is not None:
        lams = _values(
            args.lams, "lams", float, 0.0, "comma-separated numbers >= 0, at least two distinct"
        )
        changes["adam_lams"] = changes["adamw_lams"] = lams
    return dataclasses.replace(DEFAULT_SWEEP, **changes)


def _load(args: argparse.Namespace) -> ImageSplit:
    """The data set ``--dataset`` names (CIFAR-10 from ``--cifar-dir``, which it then needs)."""
    from validation.experiments.image_data import load_cifar10, load_digits

    if args.dataset == "cifar10":
        if args.cifar_dir is None:
            raise ParameterError(
                "cifar_dir",
                None,
                "--cifar-dir DIR (the extracted cifar-10-batches-py) for --dataset cifar10",
            )
        return load_cifar10(args.cifar_dir)
    return load_digits()


def run(args: argparse.Namespace) -> int:
    from validation.experiments.image_plan import describe_images
    from validation.experiments.image_runs import STORE_NAME

    sweep = requested_sweep(args)
    if not args.dry_run:
        from validation.cnn.device import resolve_device

        resolve_device(args.device)  # a bad or absent device: a ParameterError before training
    data = _load(args)
    out_dir = check_out_dir(args.out or f"runs/{args.dataset}")
    if args.dry_run:
        print(describe_images(args.dataset, data, sweep, out_dir / STORE_NAME, args.device))
        return 0
    from validation.experiments.image_experiment import run_image_experiment

    print(run_image_experiment(args.dataset, data, out_dir, sweep, device=args.device))
    print(
        f"written: {out_dir / 'results.sqlite'}, {out_dir / 'report.md'}, "
        f"{out_dir / 'test_error_vs_batch.png'}, {out_dir / 'test_error_vs_lambda.png'}"
    )
    return 0
