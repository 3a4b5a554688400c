"""``theorykit images [--dataset digits|cifar10] [--cifar-dir DIR] [--out DIR] [--device auto]``:
Tang et al. Figs 1-2 on real images, test error vs B and vs lam
(:mod:`validation.experiments.image_experiment`)."""

from __future__ import annotations

import argparse

from theorykit.errors import ParameterError
from validation.cli.common import add_out_argument, check_out_dir

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


def run(args: argparse.Namespace) -> int:
    from validation.cnn.device import resolve_device
    from validation.experiments.image_data import load_cifar10, load_digits
    from validation.experiments.image_experiment import run_image_experiment

    resolve_device(args.device)  # a bad or absent device is a ParameterError before anything trains
    if args.dataset == "cifar10":
        if args.cifar_dir is None:
            raise ParameterError(
                "cifar_dir",
                None,
                "--cifar-dir DIR (the extracted cifar-10-batches-py) for --dataset cifar10",
            )
        data = load_cifar10(args.cifar_dir)
    else:
        data = load_digits()
    out_dir = check_out_dir(args.out or f"runs/{args.dataset}")
    print(run_image_experiment(args.dataset, data, out_dir, device=args.device))
    print(
        f"written: {out_dir / 'results.sqlite'}, {out_dir / 'report.md'}, "
        f"{out_dir / 'test_error_vs_batch.png'}, {out_dir / 'test_error_vs_lambda.png'}"
    )
    return 0
