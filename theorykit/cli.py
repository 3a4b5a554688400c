"""The ``theorykit`` command line: the one entry point that may use theorykit, dynamics and validation.

Subcommands import what they need when they run, so ``theorykit bounds`` never loads torch.

``theorykit bounds [--preset NAME] [--n 200 --B 16 ...] [--constant NAME=VALUE ...] [--json]``
    lambda thresholds, batch/lambda regimes for Adam and AdamW, and the condition report
    (:func:`theorykit.summary.bounds_summary`).
``theorykit validate --preset quick|lambda-sensitivity|zou2023|tang2025-table [--out DIR] [--dtype float32]
[--compile] [--device cuda]``
    train the preset's CNNs (resuming from DIR/results.sqlite), write plots and DIR/report.md, print the
    report; exit status 1 when one of the paper's outcomes is not reproduced. ``--compile`` fuses each
    training step with torch.compile (see ``validation.engine.EngineOptions``).
``theorykit images [--dataset digits|cifar10] [--cifar-dir DIR] [--out DIR] [--device auto]``
    Tang et al. Figs 1-2 on real images: test error vs B and vs lam (:mod:`validation.image_experiment`).
``theorykit sweep SPEC.toml [--store PATH] [--executor inline|process[:N]|dask://HOST:PORT] [--device auto]
[--compile] [--dry-run] [--export FILE.csv|FILE.parquet]``
    expand a declarative grid (:mod:`validation.sweep_spec`; every value checked before anything
    trains), train what the SQLite store (default runs/NAME/results.sqlite) lacks on the chosen
    executor (:mod:`validation.executors`), storing each group as it finishes, then write the report;
    exit status 1 when a task failed (a rerun retries exactly those runs).
``theorykit report RESULTS.sqlite [--out DIR] [--export FILE.csv|FILE.parquet]``
    tables and PNG plots of a finished sweep (:mod:`validation.sweep_report`).
``theorykit compare [--out DIR] [--epochs 50] [--batch-steps 6000]``
    Adam and AdamW stuck thresholds, the batch size where memorisation begins and the large-batch time
    scales T0, T_r, from theorykit, the reduced dynamics and the CNN across settings, and coefficient
    checks (:mod:`validation.comparison`, :mod:`validation.batch_comparison`,
    :mod:`validation.time_scale_comparison`); resumable.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Sequence
from typing import Any

from theorykit.errors import ParameterError
from theorykit.params import NAMED_SETTINGS as PRESETS
from theorykit.params import ProblemParams


def _bool(text: str) -> bool:
    if text.lower() in ("true", "1", "yes", "on"):
        return True
    if text.lower() in ("false", "0", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def _number(text: str) -> int | float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    return int(value) if value.is_integer() and "." not in text and "e" not in text.lower() else value


def _add_param_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--preset", choices=sorted(PRESETS), default="tang2025-synthetic",
                        help="base setting; the flags below override its fields (default: %(default)s)")
    for field in dataclasses.fields(ProblemParams):
        if field.name == "optimizer":
            parser.add_argument("--optimizer", dest="optimizer", default=None)
        elif field.name == "bias_correction":
            parser.add_argument("--bias-correction", dest="bias_correction", type=_bool, default=None)
        else:
            parser.add_argument(f"--{field.name}", dest=field.name, type=_number, default=None, metavar="X")


def params_from_args(args: argparse.Namespace) -> ProblemParams:
    """The preset with every given field flag applied; validation errors name the flag's field."""
    overrides = {field.name: getattr(args, field.name) for field in dataclasses.fields(ProblemParams)
                 if getattr(args, field.name) is not None}
    return PRESETS[args.preset](**overrides)


def _constants(pairs: Sequence[str]) -> Any:
    from theorykit.bounds import HiddenConstants

    values: dict[str, float] = {}
    names = {field.name for field in dataclasses.fields(HiddenConstants)}
    for pair in pairs:
        name, _, text = pair.partition("=")
        if name not in names:
            raise ParameterError(name, text, f"--constant NAME=VALUE with NAME one of {', '.join(sorted(names))}")
        try:
            values[name] = float(text)
        except ValueError:
            raise ParameterError(name, text, "a number") from None
    return HiddenConstants(**values)


def _run_bounds(args: argparse.Namespace) -> int:
    from theorykit.summary import bounds_summary

    summary = bounds_summary(params_from_args(args), _constants(args.constant))
    print(summary.to_json() if args.json else summary)
    return 0


def _run_validate(args: argparse.Namespace) -> int:
    from pathlib import Path

    import torch

    from validation.presets import PRESETS as VALIDATION_PRESETS
    from validation.report import run_preset, write_report

    preset = VALIDATION_PRESETS[args.preset]()
    options = dataclasses.replace(preset.options, dtype=getattr(torch, args.dtype), compile=args.compile,
                                  device=args.device)
    preset = dataclasses.replace(preset, options=options)
    out_dir = Path(args.out or f"runs/{preset.name}" + ("" if args.dtype == "float64" else f"-{args.dtype}"))
    records = run_preset(preset, out_dir)
    text, checks = write_report(preset, records, out_dir)
    print(text)
    print(f"written: {out_dir / 'results.sqlite'}, {out_dir / 'report.md'}, {out_dir / 'trajectories.png'}, "
          f"{out_dir / 'test_error.png'}")
    return 0 if all(check.holds for check in checks) else 1


def _run_compare(args: argparse.Namespace) -> int:
    from pathlib import Path

    from validation.comparison import write_comparison

    out_dir = Path(args.out)
    print(write_comparison(out_dir, epochs=args.epochs, batch_steps=args.batch_steps))
    print(f"written: {out_dir / 'comparison.md'}, {out_dir / 'coefficient_check.png'}")
    return 0


def _run_sweep(args: argparse.Namespace) -> int:
    from pathlib import Path

    from validation.executors import open_executor
    from validation.store import ResultsStore
    from validation.sweep import describe, run_sweep
    from validation.sweep_report import write_sweep_report
    from validation.sweep_spec import load_spec

    spec = load_spec(args.spec)
    print(describe(spec))
    if args.dry_run:
        return 0
    options = dataclasses.replace(spec.options, device=args.device, compile=args.compile)
    if not args.executor.startswith("dask://"):
        options.resolved_device()  # local workers: a bad or absent device is reported before anything trains
    store_path = Path(args.store or f"runs/{spec.name}/results.sqlite")
    with ResultsStore(store_path) as store, open_executor(args.executor) as executor:
        outcome = run_sweep(spec, store, executor, options)
        if args.export:
            print(f"exported: {store.export(args.export)}")
    if outcome.already + outcome.added:
        print(write_sweep_report(store_path))
    print(f"{outcome.already + outcome.added}/{outcome.runs} runs in {store_path} ({outcome.added} new)")
    for error in outcome.errors:
        print(f"task failed, rerun to retry: {error}", file=sys.stderr)
    return 0 if outcome.complete else 1


def _run_report(args: argparse.Namespace) -> int:
    from pathlib import Path

    from validation.store import ResultsStore
    from validation.sweep_report import write_sweep_report

    print(write_sweep_report(args.results, args.out))
    if args.export:
        with ResultsStore(args.results) as store:
            print(f"exported: {store.export(args.export)}")
    print(f"written: {Path(args.out or Path(args.results).parent) / 'report.md'} and its figures")
    return 0


def _run_images(args: argparse.Namespace) -> int:
    from pathlib import Path

    from validation.image_data import load_cifar10, load_digits
    from validation.image_experiment import run_image_experiment

    if args.dataset == "cifar10":
        if args.cifar_dir is None:
            raise ParameterError("cifar_dir", None, "--cifar-dir DIR (the extracted cifar-10-batches-py) for --dataset cifar10")
        data = load_cifar10(args.cifar_dir)
    else:
        data = load_digits()
    out_dir = Path(args.out or f"runs/{args.dataset}")
    print(run_image_experiment(args.dataset, data, out_dir, device=args.device))
    print(f"written: {out_dir / 'results.json'}, {out_dir / 'report.md'}, {out_dir / 'test_error_vs_batch.png'}, "
          f"{out_dir / 'test_error_vs_lambda.png'}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="theorykit", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    bounds = commands.add_parser("bounds", help="lambda thresholds, regimes and theorem conditions for one setting")
    _add_param_arguments(bounds)
    bounds.add_argument("--constant", action="append", default=[], metavar="NAME=VALUE",
                        help="a hidden constant of the theorems (see theorykit.bounds.HiddenConstants)")
    bounds.add_argument("--json", action="store_true", help="machine-readable output")
    bounds.set_defaults(run=_run_bounds)
    validate = commands.add_parser("validate", help="train a preset's CNNs and compare with the paper and the theory")
    validate.add_argument("--preset", choices=["quick", "lambda-sensitivity", "zou2023", "tang2025-table"], default="quick")
    validate.add_argument("--out", default=None, help="output directory (default: runs/PRESET[-float32])")
    validate.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    validate.add_argument("--compile", action="store_true", help="torch.compile each training step (one-off compile cost)")
    validate.add_argument("--device", default="auto", help="torch device: auto (CUDA when present), cpu, cuda, cuda:1 ...")
    validate.set_defaults(run=_run_validate)
    compare = commands.add_parser("compare", help="Adam and AdamW stuck thresholds and the large-batch boundary (theory, "
                                                  "reduced dynamics, CNN) across settings, and coefficient checks")
    compare.add_argument("--out", default="runs/compare", help="output directory (default: %(default)s)")
    compare.add_argument("--epochs", type=int, default=50, help="CNN and reduced-dynamics horizon (default: %(default)s)")
    compare.add_argument("--batch-steps", type=int, default=6000,
                         help="iterations of every run of the batch-size comparison (default: %(default)s)")
    compare.set_defaults(run=_run_compare)
    sweep = commands.add_parser("sweep", help="train a declarative grid (TOML) on any executor into an SQLite store")
    sweep.add_argument("spec", help="the sweep spec, a .toml file (see validation.sweep_spec)")
    sweep.add_argument("--store", default=None, help="results store (default: runs/NAME/results.sqlite)")
    sweep.add_argument("--executor", default="inline",
                       help="inline (default), process, process:N, or dask://HOST:PORT (a Dask scheduler)")
    sweep.add_argument("--device", default="auto", help="torch device on the workers (default: CUDA when present)")
    sweep.add_argument("--compile", action="store_true", help="torch.compile each training step")
    sweep.add_argument("--dry-run", action="store_true", help="check and expand the spec, print its size, train nothing")
    sweep.add_argument("--export", default=None, help="also write the flat results table to FILE.csv or FILE.parquet")
    sweep.set_defaults(run=_run_sweep)
    report = commands.add_parser("report", help="tables and PNG plots of a sweep's results store")
    report.add_argument("results", help="the results store (.sqlite) written by theorykit sweep")
    report.add_argument("--out", default=None, help="output directory (default: the store's directory)")
    report.add_argument("--export", default=None, help="also write the flat results table to FILE.csv or FILE.parquet")
    report.set_defaults(run=_run_report)
    images = commands.add_parser("images", help="real images: test error vs batch size and vs lam for Adam and AdamW")
    images.add_argument("--dataset", choices=["digits", "cifar10"], default="digits")
    images.add_argument("--cifar-dir", default=None, help="directory with the CIFAR-10 python batches (no download)")
    images.add_argument("--out", default=None, help="output directory (default: runs/DATASET)")
    images.add_argument("--device", default="auto", help="torch device (default: CUDA when present)")
    images.set_defaults(run=_run_images)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except ParameterError as error:
        print(f"theorykit {args.command}: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
