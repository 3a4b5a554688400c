"""``theorykit sweep SPEC.toml [--store PATH] [--executor inline|process[:N]|dask://HOST:PORT]
[--device auto] [--compile] [--dtype float32] [--predict] [--dry-run]
[--export FILE.csv|FILE.parquet]``: expand a declarative grid (:mod:`validation.sweeps.grid`;
every value checked before anything trains), train what the SQLite store (default
runs/NAME/results.sqlite) lacks on the chosen executor (:mod:`validation.sweeps.executors`),
storing each group as it finishes, with ``--predict`` compute the reduced dynamics' prediction of
each run, then write the report; exit status 1 when a task failed (a rerun retries exactly those
runs). ``--dry-run`` needs no torch."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from validation.cli.common import add_engine_arguments, add_export_argument, check_export_path
from validation.reports.figures.style import other_formats_text
from validation.reports.files import check_report_directory, default_report_directory
from validation.sweeps.grid import load_spec

HELP = "train a declarative grid (TOML) on any executor into an SQLite store"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("spec", help="the sweep spec, a .toml file (see validation.sweeps.grid)")
    parser.add_argument(
        "--store", default=None, help="results store (default: runs/NAME/results.sqlite)"
    )
    parser.add_argument(
        "--executor",
        default="inline",
        help="inline (default), process, process:N, or dask://HOST:PORT (a Dask scheduler)",
    )
    add_engine_arguments(parser, dtype=False)
    parser.add_argument(
        "--dtype",
        choices=["float64", "float32"],
        default=None,
        help="floating-point precision of training, overriding the spec's [engine] dtype (part of "
        "each run's identity: a float32 run is another run than its float64 twin)",
    )
    parser.add_argument(
        "--predict",
        action="store_true",
        help="after training, compute and store the reduced-dynamics prediction of every finished "
        "run (as theorykit report --predict), so that the report puts theory next to simulation",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="check and expand the spec, print its size, train nothing",
    )
    add_export_argument(parser)


def run(args: argparse.Namespace) -> int:
    spec = load_spec(args.spec)
    if args.dtype is not None:
        spec = dataclasses.replace(
            spec, options=dataclasses.replace(spec.options, dtype=args.dtype)
        )
    store_path = Path(args.store or f"runs/{spec.name}/results.sqlite")
    check_export_path(args.export, store_path)
    report_dir = default_report_directory(store_path)
    check_report_directory(report_dir, store_path)
    options = dataclasses.replace(
        spec.options, device=args.device, compile=args.compile, kernel=args.kernel
    )
    print(dataclasses.replace(spec, options=options).describe(options.device_type(), args.predict))
    if args.dry_run:
        return 0
    from validation.cnn.device import resolve_device
    from validation.reports.store_report import write_sweep_report
    from validation.store.results import ResultsStore
    from validation.sweeps.executors import open_executor
    from validation.sweeps.runner import run_sweep

    if not args.executor.startswith("dask://"):
        resolve_device(
            options.device
        )  # local workers: a bad or absent device is reported before anything trains
    with ResultsStore(store_path) as store, open_executor(args.executor) as executor:
        outcome = run_sweep(spec, store, executor, options)
        if args.export:
            print(f"exported: {store.export(args.export)}")
    if args.predict and outcome.stored:
        from validation.experiments.prediction import predict_stored_runs

        predict_stored_runs(store_path)
    if outcome.stored:
        text, figures = write_sweep_report(store_path, report_dir)
        print(text)
        written = [report_dir / "report.md", *figures]
        print(f"written: {', '.join(map(str, written))}{other_formats_text()}")
    print(f"{outcome.stored}/{outcome.runs} runs in {store_path} ({outcome.added} new)")
    for error in outcome.errors:
        print(f"task failed, rerun to retry: {error}", file=sys.stderr)
    return 0 if outcome.complete else 1
