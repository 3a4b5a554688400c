"""Reading a results store into pandas: final errors per run and whole trajectories.

Every command that trains (``theorykit validate``, ``sweep``, ``compare``) writes an SQLite store
(validation.store.results). ``ResultsStore.dataframe()`` gives one row per run (every parameter
and final metric), ``trajectory_frame()`` one row per recorded epoch:

    python examples/store_to_pandas.py runs/quick/results.sqlite --out runs/examples

prints the mean final test error per (optimizer, B, lam) and writes ``store_to_pandas.png``, the
test error of every run over epochs. ``--smoke`` first trains a tiny store of its own. The store
is opened read-only and never created: a path that is not an existing store ends in one line, as
does every other error (validation.cli.entry_points).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from theorykit import tang2025_synthetic
from theorykit.errors import ParameterError
from validation import (
    EngineOptions,
    ResultsStore,
    RunSpec,
    check_out_dir,
    run_reporting_errors,
    train_or_resume,
)
from validation.reports import figures


def _tiny_store(path: Path) -> None:
    base = tang2025_synthetic(n=40, s=20, m=5, eta=1e-3, epochs=10, bias_correction=True)
    runs = [
        RunSpec(base.replace(optimizer=opt, B=B), seed, seed, name=f"{opt} B={B}")
        for opt in ("adam", "adamw")
        for B in (4, 20)
        for seed in (0, 1)
    ]
    train_or_resume("tiny", runs, EngineOptions(record_every=2, test_size=200), path)


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "store",
        nargs="?",
        default="runs/quick/results.sqlite",
        help="an existing results store, read only (default: %(default)s; ignored with --smoke)",
    )
    parser.add_argument(
        "--out", default="runs/examples", help="output directory (default: %(default)s)"
    )
    parser.add_argument(
        "--smoke", action="store_true", help="train a tiny store into --out first and read it"
    )
    args = parser.parse_args(argv)
    out = check_out_dir(args.out)
    store_path = out / "tiny.sqlite" if args.smoke else Path(args.store)
    if not args.smoke and not store_path.exists():
        raise ParameterError(
            "store", str(store_path), "an existing results store (no such file; it is not created)"
        )
    out.mkdir(parents=True, exist_ok=True)
    if args.smoke:
        _tiny_store(store_path)
    with ResultsStore(store_path, read_only=True) as store:
        runs, trajectories = store.dataframe(), store.trajectory_frame()
    if runs.empty:
        raise ParameterError("store", str(store_path), "a store holding at least one CNN run")
    summary = runs.groupby(["optimizer", "B", "lam"])[["train_error", "test_error"]].agg(
        ["mean", "std", "count"]
    )
    print(summary.to_string())

    plt = figures.pyplot()
    names = sorted(trajectories["name"].unique())
    colours = dict(
        zip(
            names,
            plt.get_cmap(figures.style.SERIES_MAP)(np.linspace(0, 0.85, len(names))),
            strict=True,
        )
    )
    with figures.figure_style():
        fig, ax = plt.subplots(figsize=(figures.FULL_WIDTH * 0.62, 2.8), layout="constrained")
        for (_key, name), frame in trajectories.groupby(["key", "name"]):
            ax.plot(
                frame["epoch"],
                frame["test_error"],
                lw=0.8,
                color=colours[name],
                label=figures.literal(name),
            )
        handles, labels = ax.get_legend_handles_labels()
        unique = dict(zip(labels, handles, strict=True))
        ax.legend(unique.values(), unique.keys(), loc="upper left", bbox_to_anchor=(1.0, 1.0))
        ax.set_xlabel("epoch")
        ax.set_ylabel("test error")
        ax.set_title(f"every run of {figures.literal(str(store_path))} (one line per seed)")
    path = out / "store_to_pandas.png"
    figures.save_figure(fig, path)
    print(f"written: {path}")
    return path


if __name__ == "__main__":
    sys.exit(run_reporting_errors(Path(__file__).name, main))
