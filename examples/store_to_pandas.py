"""Reading a results store into pandas: final errors per run and whole trajectories.

Every command that trains (``theorykit validate``, ``sweep``, ``compare``) writes an SQLite store
(validation.sweeps.store). ``ResultsStore.dataframe()`` gives one row per run (every parameter
and final metric), ``trajectory_frame()`` one row per recorded epoch:

    python examples/store_to_pandas.py runs/quick/results.sqlite --out runs/examples

prints the mean final test error per (optimizer, B, lam) and writes ``store_to_pandas.png``, the
test error of every run over epochs. ``--smoke`` first trains a tiny store of its own.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from theorykit import tang2025_synthetic
from validation.figures import pyplot, save_figure
from validation.specs import EngineOptions, RunSpec
from validation.sweeps.runner import train_or_resume
from validation.sweeps.store import ResultsStore


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
    parser.add_argument("store", nargs="?", default="runs/quick/results.sqlite")
    parser.add_argument("--out", default="runs/examples", help="output directory")
    parser.add_argument("--smoke", action="store_true", help="train a tiny store first")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    store_path = Path(args.store)
    if args.smoke:
        store_path = out / "tiny.sqlite"
        _tiny_store(store_path)
    with ResultsStore(store_path) as store:
        runs, trajectories = store.dataframe(), store.trajectory_frame()
    summary = runs.groupby(["optimizer", "B", "lam"])[["train_error", "test_error"]].agg(
        ["mean", "std", "count"]
    )
    print(summary.to_string())

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    for (_key, name), frame in trajectories.groupby(["key", "name"]):
        ax.plot(frame["epoch"], frame["test_error"], lw=0.8, label=name)
    handles, labels = ax.get_legend_handles_labels()
    unique = dict(zip(labels, handles, strict=True))
    ax.legend(unique.values(), unique.keys(), fontsize=7)
    ax.set_xlabel("epoch")
    ax.set_ylabel("test error")
    ax.set_title(f"every run of {store_path}", fontsize=9)
    fig.tight_layout()
    path = out / "store_to_pandas.png"
    save_figure(fig, path)
    print(f"written: {path}")
    return path


if __name__ == "__main__":
    main()
