"""``theorykit validate --preset quick|lambda-sensitivity|zou2023|tang2025-table [--out DIR]
[--dtype float32] [--compile] [--device cuda] [--no-predict]``: train the preset's CNNs (resuming
from DIR/results.sqlite), predict each run with the reduced dynamics, write plots and DIR/report.md,
print the report; exit status 1 when one of the paper's outcomes is not reproduced."""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import time

from validation.cli.common import add_engine_arguments, add_out_argument, check_out_dir
from validation.experiments.presets import PRESETS, Preset
from validation.reports.figures.style import other_formats_text
from validation.runs.provenance import machine_description
from validation.runs.sizing import (
    VALIDATE_COMMAND_SECONDS,
    duration_text,
    group_size,
    prediction_seconds,
)
from validation.runs.spec import group_specs

HELP = "train a preset's CNNs and compare with the paper and the theory"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--preset",
        choices=tuple(PRESETS),
        default="quick",
        help="the experiment (default: %(default)s)",
    )
    add_out_argument(parser, "runs/PRESET[-float32]")
    parser.add_argument(
        "--predict",
        action=argparse.BooleanOptionalAction,
        default=None,
        help=(
            "predict every run with the reduced dynamics from its own initialisation and batches "
            "(default: the preset's choice; every preset predicts)"
        ),
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="print the preset's groups (members, member-steps, memory, estimated time); train "
        "nothing",
    )
    add_engine_arguments(parser)


def describe(preset: Preset) -> str:
    """The ``--dry-run`` text: one line per stacked group, the training time, the predictions' time
    when the preset predicts, and the total with the command's start and report
    (:mod:`validation.runs.sizing`)."""
    options = preset.options
    device_type = options.device_type()
    lines = [f"preset {preset.name!r}: {len(preset.specs)} runs, {options.dtype}"]
    training = 0.0
    for indices in group_specs(preset.specs):
        group = [preset.specs[i] for i in indices]
        size = group_size(group, options, device_type)
        training += size.seconds or 0.0
        first = group[0].params
        lines.append(size.line(f"  {first.optimizer}, B={first.B}, {first.epochs} epochs"))
    if device_type != "cpu":
        lines.append("estimated time: none on CUDA (benchmarks/engine_throughput.py measures it)")
        return "\n".join(lines)
    kernel = "fused kernel" if options.runs_fused(device_type) else "torch step"
    lines.append(f"estimated training time on this CPU ({kernel}): ~{duration_text(training)}")
    steps = sum(s.params.iterations for s in preset.specs)
    predicting = 0.0
    if preset.predict:
        predicting = prediction_seconds(preset.specs, options)
        lines.append(
            f"predictions: yes ({steps:,} reduced-dynamics member-steps, "
            f"~{duration_text(predicting)})"
        )
    else:
        lines.append(f"predictions: no ({preset.predict_note or '--no-predict'})")
    total = training + predicting + VALIDATE_COMMAND_SECONDS
    lines.append(
        f"estimated total: ~{duration_text(total)} with the start and the report "
        "(validation.runs.sizing)"
    )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    preset = PRESETS[args.preset]()
    options = dataclasses.replace(
        preset.options,
        dtype=args.dtype,
        compile=args.compile,
        device=args.device,
        kernel=args.kernel,
    )
    predict = preset.predict if args.predict is None else args.predict
    preset = dataclasses.replace(preset, options=options, predict=predict)
    if args.dry_run:
        print(describe(preset))
        return 0
    from validation.cnn.device import resolve_device
    from validation.experiments.preset_report import predict_preset, run_preset, write_report

    resolve_device(args.device)  # a bad or absent device is a ParameterError before anything trains
    started = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    out_dir = check_out_dir(
        args.out or f"runs/{preset.name}" + ("" if args.dtype == "float64" else f"-{args.dtype}")
    )
    start = time.perf_counter()
    records = run_preset(preset, out_dir)
    trained = time.perf_counter() - start
    new = [r for r in records if r.finished_at >= started]
    timing = (
        f"Trained in {trained / 60:.1f} min on {machine_description()} ({options.dtype}; "
        f"{len(new)} of {len(records)} runs trained by this call"
        + (")." if len(new) == len(records) else ", the rest resumed from the store).")
    )
    start = time.perf_counter()
    predicted = predict_preset(preset, records, out_dir)
    if preset.predict:
        timing += (
            f" Predicted in {(time.perf_counter() - start) / 60:.1f} min (the reduced dynamics of "
            f"every run, {options.dtype}; stored predictions are read, not recomputed)."
        )
    text, checks, figures = write_report(preset, records, out_dir, predicted, timing)
    print(text)
    written = [out_dir / "results.sqlite", out_dir / "report.md", out_dir / "table.md", *figures]
    print(f"written: {', '.join(map(str, written))}{other_formats_text()}")
    return 0 if all(check.holds for check in checks) else 1
