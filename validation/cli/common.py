"""Flags shared by several subcommands, defined once (where and how fast the CNN trains, the
export file), and the checks of paths that run before anything trains."""

from __future__ import annotations

import argparse
import importlib.util
import os
from pathlib import Path

from theorykit.errors import ParameterError
from validation.errors import MachineError
from validation.store.files import nearest_existing, refuse_store_target

#: Export formats by suffix (``ResultsStore.export``).
EXPORT_SUFFIXES = (".csv", ".parquet")


def add_engine_arguments(parser: argparse.ArgumentParser, *, dtype: bool = True) -> None:
    """``--device``, ``--compile``, ``--kernel`` and (optionally) ``--dtype``."""
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
    parser.add_argument(
        "--kernel",
        choices=["auto", "fused", "torch"],
        default="auto",
        help=(
            "how the steps run: fused (one numba kernel per stretch of epochs, CPU), torch (one "
            "torch call per step; CPU or CUDA), auto (fused on CPU unless --compile, torch on "
            "CUDA); results agree to round-off (default: %(default)s)"
        ),
    )
    if dtype:
        parser.add_argument(
            "--dtype",
            choices=["float64", "float32"],
            default="float64",
            help="floating-point precision of training (default: %(default)s)",
        )


def add_out_argument(parser: argparse.ArgumentParser, default: str) -> None:
    """``--out DIR``: the output directory, ``default`` saying where it goes without the flag
    (checked by :func:`check_out_dir` before anything trains)."""
    parser.add_argument("--out", default=None, help=f"output directory (default: {default})")


def add_export_argument(parser: argparse.ArgumentParser) -> None:
    """``--export FILE``: the flat results table."""
    parser.add_argument(
        "--export",
        metavar="FILE",
        help="also write the flat results table to FILE.csv or FILE.parquet",
    )


def check_export_path(path: str | None, store: Path) -> None:
    """Refuse, before training, an export file that is the results ``store`` itself, has an
    unknown suffix, needs a missing pyarrow for Parquet, or lies in a directory that does not
    exist or cannot be written."""
    if path is None:
        return
    target = Path(path)
    refuse_store_target(store, target, "export")
    if target.suffix.lower() not in EXPORT_SUFFIXES:
        raise ParameterError("export", path, "a path ending in .csv or .parquet")
    if target.suffix.lower() == ".parquet" and importlib.util.find_spec("pyarrow") is None:
        raise ParameterError("export", path, ".csv, or install pyarrow for .parquet")
    if target.is_dir():
        raise ParameterError("export", path, "a file path, not a directory")
    if not target.parent.is_dir():
        raise ParameterError("export", path, f"an existing directory ({target.parent} is not one)")
    if not os.access(target.parent, os.W_OK):
        raise MachineError(f"cannot write {path}: no write permission in {target.parent}")


def check_out_dir(path: str | Path, flag: str = "out") -> Path:
    """Refuse, before training, an output directory that is a file or cannot be written; return
    it as a Path."""
    target = Path(path)
    if target.exists() and not target.is_dir():
        raise ParameterError(flag, str(path), "a directory (this path is a file)")
    existing = nearest_existing(target)
    if not existing.is_dir():
        raise ParameterError(
            flag, str(path), f"a directory that can be created ({existing} is a file)"
        )
    if not os.access(existing, os.W_OK | os.X_OK):
        raise MachineError(f"cannot write to {path}: no write permission; choose another --{flag}")
    return target
