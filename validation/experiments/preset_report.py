"""Run a preset with resume, then write its PNG figures and text report.

Output directory layout: ``results.sqlite`` (every run's trajectory, one row per run, stored as each
group finishes; :mod:`validation.sweeps.store`), ``trajectories.png`` (feature learning and noise
memorisation per run, as the paper's Figs 3-6), ``test_error.png`` (final train/test error per run),
``test_error_vs_lambda.png`` / ``test_error_vs_batch.png`` when the preset sweeps lam / B (with
theorykit's lam thresholds drawn), and ``report.md`` (final metrics, the paper's expected outcomes
with a pass/fail verdict, the theory's predictions, and measured vs predicted stuck thresholds).
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

import numpy as np

from theorykit.bounds import predicted_outcome
from theorykit.conditions import lambda_thresholds
from validation.experiments.convex_contrast import convex_lines
from validation.experiments.presets import Expectation, Preset
from validation.figures import plot_error_vs, plot_final_errors, plot_trajectories
from validation.progress import epoch_progress
from validation.sweeps.records import RunRecord, group_by_name
from validation.sweeps.report import failed_run_lines, mean_final, stuck_lines
from validation.sweeps.runner import train_or_resume
from validation.tables import markdown_table

#: The results store of a preset, inside its output directory.
STORE_NAME = "results.sqlite"


@dataclasses.dataclass(frozen=True)
class ExpectationCheck:
    expectation: Expectation
    observed: float  # worst case over seeds
    holds: bool


def run_preset(preset: Preset, out_dir: Path, log: TextIO = sys.stderr) -> list[RunRecord]:
    """Train what ``out_dir/results.sqlite`` does not have yet; return the preset's records in spec
    order."""
    return train_or_resume(
        preset.name,
        preset.specs,
        preset.options,
        out_dir / STORE_NAME,
        log,
        progress=lambda label: epoch_progress(label, log),
    )


def check_expectations(preset: Preset, records: Sequence[RunRecord]) -> list[ExpectationCheck]:
    """Each claim of the preset against the worst seed; a missing or failed run fails its claims."""
    by_name = group_by_name(records)
    checks = []
    for expectation in preset.expectations:
        values = [
            record.final_value(expectation.metric) for record in by_name.get(expectation.run, [])
        ]
        if not values or any(
            np.isnan(v) for v in values
        ):  # missing or failed run (non-finite metrics)
            checks.append(ExpectationCheck(expectation, float("nan"), False))
            continue
        worst = min(values) if expectation.relation == ">=" else max(values)
        checks.append(
            ExpectationCheck(expectation, worst, all(expectation.holds(v) for v in values))
        )
    return checks


def write_report(
    preset: Preset, records: Sequence[RunRecord], out_dir: Path
) -> tuple[str, list[ExpectationCheck]]:
    """Plots and report.md; returns the report text and the expectation checks."""
    plot_trajectories(records, preset.name, out_dir / "trajectories.png")
    plot_final_errors(records, preset.name, out_dir / "test_error.png")
    thresholds = lambda_thresholds(preset.specs[0].params)
    plot_error_vs(records, "lam", out_dir / "test_error_vs_lambda.png", thresholds)
    plot_error_vs(records, "B", out_dir / "test_error_vs_batch.png")
    checks = check_expectations(preset, records)
    grouped = group_by_name(records)
    rows = []
    for spec in {spec.name: spec for spec in preset.specs}.values():
        group = grouped.get(spec.name, [])
        rows.append(
            (
                spec.name,
                len(group),
                f"{mean_final(group, 'train_error'):.3f}",
                f"{mean_final(group, 'test_error'):.3f}",
                f"{mean_final(group, 'feature_pos'):.3g} / {mean_final(group, 'feature_neg'):.3g}",
                f"{mean_final(group, 'noise_min'):.3g} / {mean_final(group, 'noise_max'):.3g}",
                predicted_outcome(spec.params),
            )
        )
    claims = [
        (
            c.expectation.run,
            f"{c.expectation.metric} {c.expectation.relation} {c.expectation.value:g}",
            f"{c.observed:.4g}",
            "reproduced" if c.holds else "NOT reproduced",
            c.expectation.source,
        )
        for c in checks
    ]
    lines = [
        f"# {preset.name}",
        "",
        preset.description,
        "",
        *markdown_table(
            (
                "run",
                "seeds",
                "train error",
                "test error",
                "feature +1 / -1",
                "noise min / max",
                "theory predicts",
            ),
            rows,
        ),
        "",
        "Finite-size stuck thresholds (theorykit.bounds): lambda*_Adam = "
        f"{thresholds['lambda_star_adam']:.4g}, lambda*_AdamW = "
        f"{thresholds['lambda_star_adamw']:.4g}.",
        "",
        *stuck_lines(records),
        *(convex_lines(preset.specs[0].params) if preset.convex_contrast else []),
        "## The paper's outcomes",
        "",
        *markdown_table(("run", "claim", "observed (worst seed)", "verdict", "source"), claims),
    ]
    lines += failed_run_lines(records)
    text = "\n".join(lines) + "\n"
    (out_dir / "report.md").write_text(text)
    return text, checks
