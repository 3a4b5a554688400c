"""``theorykit report RESULTS.sqlite [--out DIR] [--export FILE.csv|FILE.parquet] [--predict
[--dry-run]]``: tables and PNG plots of a results store (:mod:`validation.reports.store_report`);
needs no torch (``--predict``, which computes the reduced-dynamics predictions first, does; it
prints
how many runs lack one and the estimated time first, and with ``--dry-run`` only that)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from theorykit.errors import ParameterError
from validation.cli.common import (
    add_export_argument,
    add_out_argument,
    check_export_path,
    check_out_dir,
)
from validation.reports.figures.style import other_formats_text
from validation.reports.files import check_report_directory, default_report_directory
from validation.reports.store_report import write_sweep_report
from validation.runs.sizing import duration_text, prediction_seconds
from validation.runs.spec import EngineOptions, RunSpec
from validation.store.results import ResultsStore

HELP = "tables and PNG plots of a sweep's results store"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("results", help="the results store (.sqlite) written by theorykit sweep")
    add_out_argument(parser, "the store's directory")
    parser.add_argument(
        "--predict",
        action="store_true",
        help=(
            "first compute and store the reduced-dynamics prediction of every finished run that "
            "has none (from the run's own initialisation and batches; needs torch), so that the "
            "report puts theory next to simulation"
        ),
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="with --predict: print how many finished runs lack a prediction, their member-steps "
        "and the estimated time; compute and write nothing",
    )
    add_export_argument(parser)


def describe_predictions(store_path: Path) -> str:
    """How many finished runs of the store lack a prediction, their member-steps and the estimated
    time to compute them (:func:`validation.runs.sizing.prediction_seconds`, per recording options
    as :func:`validation.experiments.prediction.predict_stored_runs` computes them)."""
    with ResultsStore(store_path, read_only=True) as store:
        records = store.records()
        predicted = store.prediction_keys()
    missing = [r for r in records.values() if r.key not in predicted and r.failure is None]
    by_options: dict[EngineOptions, list[RunSpec]] = {}
    for record in missing:
        by_options.setdefault(record.options, []).append(record.spec)
    seconds = sum(prediction_seconds(specs, options) for options, specs in by_options.items())
    steps = sum(r.params.iterations for r in missing)
    return (
        f"predictions: {len(missing)} of {len(records)} runs lack one, {steps:,} reduced-dynamics "
        f"member-steps, ~{duration_text(seconds)} (validation.runs.sizing)"
    )


def run(args: argparse.Namespace) -> int:
    if not Path(args.results).is_file():
        raise ParameterError("results", args.results, "an existing results store (.sqlite file)")
    check_export_path(args.export, Path(args.results))
    out = Path(args.out) if args.out is not None else default_report_directory(Path(args.results))
    check_out_dir(out)
    check_report_directory(out, Path(args.results))
    if args.dry_run and not args.predict:
        raise ParameterError("dry_run", True, "--dry-run together with --predict")
    if args.predict:
        plan = describe_predictions(Path(args.results))
        if args.dry_run:
            print(plan)
            return 0
        print(plan, file=sys.stderr)
        from validation.experiments.prediction import predict_stored_runs

        predict_stored_runs(Path(args.results))
    text, figures = write_sweep_report(args.results, out)
    print(text)
    if args.export:
        with ResultsStore(args.results, read_only=True) as store:
            print(f"exported: {store.export(args.export)}")
    written = ", ".join(map(str, [out / "report.md", *figures]))
    print(f"written: {written}{other_formats_text()}")
    return 0
