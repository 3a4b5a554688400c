"""Where a benchmark writes: a fresh folder under ``runs/benchmarks/`` by default, the committed
``benchmarks/results/`` only when asked (``--update-results``), so that running a benchmark never
changes the tables the repository records. Imported by the scripts beside it (``python
benchmarks/NAME.py`` puts this folder on the import path)."""

from __future__ import annotations

import argparse
from pathlib import Path

#: The committed result tables.
COMMITTED = Path(__file__).parent / "results"


def add_output_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    """``--out DIR`` (default ``runs/benchmarks/NAME``) and ``--update-results``."""
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("runs/benchmarks") / name,
        help="where the table and figures go (default: %(default)s)",
    )
    parser.add_argument(
        "--update-results",
        action="store_true",
        help=f"write the committed tables in {COMMITTED} instead of --out",
    )


def output_directory(args: argparse.Namespace) -> Path:
    """The folder chosen by :func:`add_output_arguments`'s flags, created."""
    directory = COMMITTED if args.update_results else args.out
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def add_size_arguments(
    parser: argparse.ArgumentParser, dtypes: list[str], batches: list[int] | None = None
) -> None:
    """``--dtypes`` (default ``dtypes``) and, when given, ``--batch`` (default ``batches``): the
    precisions and batch sizes a benchmark's rows cover."""
    parser.add_argument(
        "--dtypes",
        nargs="+",
        choices=["float32", "float64"],
        default=dtypes,
        help="precisions (default: %(default)s)",
    )
    if batches is not None:
        parser.add_argument(
            "--batch", type=int, nargs="+", default=batches, help="B values (default: %(default)s)"
        )
