"""``theorykit report RESULTS.sqlite [--out DIR] [--export FILE.csv|FILE.parquet]``: tables and PNG
plots of a results store (:mod:`validation.sweeps.report`); needs no torch."""

from __future__ import annotations

import argparse
from pathlib import Path

from theorykit.errors import ParameterError
from validation.cli.common import add_export_argument, check_export_path, check_out_dir
from validation.sweeps.report import write_sweep_report
from validation.sweeps.store import ResultsStore

HELP = "tables and PNG plots of a sweep's results store"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("results", help="the results store (.sqlite) written by theorykit sweep")
    parser.add_argument(
        "--out", default=None, help="output directory (default: the store's directory)"
    )
    add_export_argument(parser)


def run(args: argparse.Namespace) -> int:
    check_export_path(args.export)
    if not Path(args.results).is_file():
        raise ParameterError("results", args.results, "an existing results store (.sqlite file)")
    if args.out is not None:
        check_out_dir(args.out)
    print(write_sweep_report(args.results, args.out))
    if args.export:
        with ResultsStore(args.results, read_only=True) as store:
            print(f"exported: {store.export(args.export)}")
    print(f"written: {Path(args.out or Path(args.results).parent) / 'report.md'} and its figures")
    return 0
