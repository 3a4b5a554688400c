"""Flags shared by several subcommands, defined once: where and how fast the CNN trains."""

from __future__ import annotations

import argparse


def add_engine_arguments(parser: argparse.ArgumentParser, *, dtype: bool = True) -> None:
    """``--device``, ``--compile`` and (optionally) ``--dtype``."""
    parser.add_argument(
        "--device",
        default="auto",
        help="torch device: auto (CUDA when present), cpu, cuda, cuda:1 ... (default: %(default)s)",
    )
    parser.add_argument(
        "--compile",
        action="store_true",
        help=(
            "torch.compile each training step (a one-off compile per group shape, then faster "
            "steps)"
        ),
    )
    if dtype:
        parser.add_argument(
            "--dtype",
            choices=["float64", "float32"],
            default="float64",
            help="floating-point precision of training (default: %(default)s)",
        )


def add_export_argument(parser: argparse.ArgumentParser) -> None:
    """``--export FILE``: the flat results table."""
    parser.add_argument(
        "--export",
        default=None,
        metavar="FILE",
        help="also write the flat results table to FILE.csv or FILE.parquet",
    )
