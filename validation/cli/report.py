"""``theorykit report RESULTS.sqlite [--out DIR] [--export FILE.csv|FILE.parquet]``: tables and PNG
plots of a results store (:mod:`validation.sweeps.report`); needs no torch (``--predict``, which
computes the reduced-dynamics predictions first, does)."""

from __future__ import annotations

import argparse
from pathlib import Path

from theorykit.errors import ParameterError
from validation.cli.common import (
    add_export_argument,
    add_out_argument,
    check_export_path,
    check_out_dir,
)
from validation.report_files import check_report_directory, default_report_directory
from validation.sweeps.report import write_sweep_report
from validation.sweeps.store import ResultsStore

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
    add_export_argument(parser)


def run(args: argparse.Namespace) -> int:
    if not Path(args.results).is_file():
        raise ParameterError("results", args.results, "an existing results store (.sqlite file)")
    check_export_path(args.export, Path(args.results))
    out = Path(args.out) if args.out is not None else default_report_directory(Path(args.results))
    check_out_dir(out)
    check_report_directory(out, Path(args.results))
    if args.predict:
        from validation.experiments.prediction import predict_stored_runs

        predict_stored_runs(Path(args.results))
    text, figures = write_sweep_report(args.results, out)
    print(text)
    if args.export:
        with ResultsStore(args.results, read_only=True) as store:
            print(f"exported: {store.export(args.export)}")
    written = ", ".join(map(str, [out / "report.md", *figures]))
    print(f"written: {written} (figures also as .pdf, .svg)")
    return 0
