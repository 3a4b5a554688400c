"""``theorykit report RESULTS.sqlite [--out DIR] [--export FILE.csv|FILE.parquet]``: tables and PNG
plots of a results store (:mod:`validation.sweeps.report`); needs no torch."""

from __future__ import annotations

import argparse
from pathlib import Path

from validation.cli.common import add_export_argument
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
    print(write_sweep_report(args.results, args.out))
    if args.export:
        with ResultsStore(args.results) as store:
            print(f"exported: {store.export(args.export)}")
    print(f"written: {Path(args.out or Path(args.results).parent) / 'report.md'} and its figures")
    return 0
