"""Run a preset with resume, predict every run, then write its figures and text report.

Output directory layout: ``results.sqlite`` (every run's trajectory, one row per run, stored as each
group finishes, and each run's predicted trajectory; :mod:`validation.store.results`),
``trajectories.png`` (feature learning, noise memorisation and train/test error per run, as the
paper's Figs 3-6, measured solid with seed bands, predicted dashed), ``agreement.png`` (the gap
between prediction and measurement per run), ``test_error.png`` (final train/test error per run),
``test_error_vs_lambda.png`` / ``test_error_vs_batch.png`` when the preset sweeps lam / B (with
the theory's thresholds drawn; :mod:`validation.reports.figures`), every figure also as PDF and
SVG, and ``report.md``: final metrics with
the asymptotic theorem's verdict and the finite-size verdict (:mod:`theorykit.verdict`) side by
side, the predicted-vs-measured table of every run (:mod:`validation.reports.agreement`), the
paper's expected outcomes with a pass/fail verdict, and measured vs predicted stuck thresholds.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from dynamics.trajectory import Trajectory
from theorykit.conditions import lambda_thresholds
from validation.experiments.convex_contrast import convex_lines
from validation.experiments.presets import Expectation, Preset
from validation.progress import STDERR, epoch_progress
from validation.reports.agreement import RunAgreement, agreements
from validation.reports.agreement_report import agreement_lines, plot_agreement
from validation.reports.figures import plot_error_vs, plot_final_errors, plot_trajectories
from validation.reports.files import store_mark
from validation.reports.seed_spread import seed_spread_lines
from validation.reports.store_report import (
    SUMMARY_HEADERS,
    failed_run_lines,
    mean_sd_final,
    seed_count,
    stuck_lines,
    summary_row,
    threshold_lines,
)
from validation.reports.tables import markdown_table
from validation.reports.verdicts import (
    ClaimResult,
    VerdictCheck,
    conclusion_lines,
    verdict_lines,
)
from validation.runs.records import RunRecord, group_runs
from validation.sweeps.runner import train_or_resume

#: The results store of a preset, inside its output directory.
STORE_NAME = "results.sqlite"


@dataclasses.dataclass(frozen=True)
class ExpectationCheck:
    """One claim against every seed: ``by_seed`` maps data seeds to the observed value (a number,
    NaN for a failed run, or an outcome class); ``holds`` whether every seed meets the claim."""

    expectation: Expectation
    holds: bool
    by_seed: dict[int, float | str] = dataclasses.field(default_factory=dict)

    def disagreeing_seeds(self) -> list[int]:
        return [seed for seed, value in self.by_seed.items() if not self.expectation.holds(value)]

    def result(self) -> ClaimResult:
        """The claim's line of the conclusion: seeds that meet it, of all seeds."""
        held = len(self.by_seed) - len(self.disagreeing_seeds())
        return ClaimResult(self.expectation.text(), held, len(self.by_seed))


def _observed(record: RunRecord, metric: str) -> float | str:
    return record.outcome if metric == "outcome" else record.final_value(metric)


def run_preset(preset: Preset, out_dir: Path, log: TextIO = STDERR) -> list[RunRecord]:
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


def predict_preset(
    preset: Preset, records: Sequence[RunRecord], out_dir: Path, log: TextIO = STDERR
) -> dict[str, tuple[str, Trajectory]]:
    """The reduced dynamics' prediction of every run (:mod:`validation.experiments.prediction`),
    resumed from and stored in ``out_dir/results.sqlite``; {} when the preset does not predict."""
    if not preset.predict:
        return {}
    from validation.experiments.prediction import predictions_for

    return predictions_for(
        records,
        preset.options,
        out_dir / STORE_NAME,
        log,
        progress=lambda label: epoch_progress(label, log),
    )


def check_expectations(preset: Preset, records: Sequence[RunRecord]) -> list[ExpectationCheck]:
    """Each claim of the preset against every seed; a missing or failed run fails its claims."""
    by_name = group_runs(records)
    checks = []
    for expectation in preset.expectations:
        by_seed = {
            record.data_seed: _observed(record, expectation.metric)
            for record in by_name.get(expectation.run, [])
        }
        holds = bool(by_seed) and all(expectation.holds(value) for value in by_seed.values())
        checks.append(ExpectationCheck(expectation, holds, by_seed))
    return checks


def _shown(value: float | str) -> str:
    return value if isinstance(value, str) else f"{value:.4g}"


def paper_table(preset: Preset, records: Sequence[RunRecord]) -> list[str]:
    """Seed mean +- sd of the final train and test error per run, each seed's test error, and the
    paper's reported test error where it reports one (``Preset.paper_test_error``)."""
    rows = []
    for name, group in group_runs(records).items():
        rows.append(
            (
                name,
                seed_count(group),
                mean_sd_final(group, "train_error"),
                mean_sd_final(group, "test_error"),
                ", ".join(
                    "failed" if r.failure else f"{r.final_value('test_error'):.3f}" for r in group
                ),
                _paper(preset.paper_test_error.get(name)),
            )
        )
    return markdown_table(
        (
            "run",
            "seeds",
            "train error (mean +- sd)",
            "test error (mean +- sd)",
            "test error per seed",
            "paper's test error",
        ),
        rows,
    )


def _paper(value: float | str | None) -> str:
    if value is None:
        return "not reported"
    return value if isinstance(value, str) else f"{value:g}"


def _plot_preset(
    preset: Preset,
    records: Sequence[RunRecord],
    predicted: dict[str, tuple[str, Trajectory]],
    compared: Sequence[RunAgreement],
    out_dir: Path,
) -> list[str]:
    """Plot the figures of a preset's report into ``out_dir``; their names, in report order."""
    trajectories = {key: trajectory for key, (_, trajectory) in predicted.items()}
    plot_trajectories(records, preset.name, out_dir / "trajectories.png", trajectories)
    reported = {
        name: value
        for name, value in preset.paper_test_error.items()
        if isinstance(value, int | float)
    }
    plot_final_errors(records, preset.name, out_dir / "test_error.png", reported)
    figures = ["trajectories", "test_error"]
    for axis, name in (("lam", "test_error_vs_lambda"), ("B", "test_error_vs_batch")):
        if plot_error_vs(records, axis, out_dir / f"{name}.png"):
            figures.append(name)
    if compared:
        plot_agreement(compared, preset.name, out_dir / "agreement.png")
        figures.append("agreement")
    return figures


def _summary_lines(
    preset: Preset,
    records: Sequence[RunRecord],
    checks: Sequence[ExpectationCheck],
    compared: Sequence[RunAgreement],
) -> list[str]:
    """The report's title, conclusion, run summary, the theory's thresholds, the measured stuck
    thresholds and the verdict per run."""
    grouped = group_runs(records)
    unique_specs = {spec.name: spec for spec in preset.specs}.values()
    verdicts = [
        VerdictCheck.of(spec.name, spec.params, grouped.get(spec.name, [])) for spec in unique_specs
    ]
    rows = [summary_row(check, grouped.get(check.name, [])) for check in verdicts]
    return [
        f"# {preset.name}",
        "",
        preset.description,
        "",
        *conclusion_lines(
            [check.result() for check in checks],
            verdicts,
            compared,
            notes=[
                "What is reproduced is the paper's experiment (App. D.2: its tables and figures, "
                "named per claim), not a theorem: the theorem column says which of the asymptotic "
                "conditions fail at this finite setting."
            ],
        ),
        *markdown_table(SUMMARY_HEADERS, rows),
        "",
        *threshold_lines(lambda_thresholds(preset.specs[0].params)),
        *stuck_lines(records),
        *verdict_lines(verdicts),
        *seed_spread_lines(grouped),
    ]


def _unpredicted(
    preset: Preset, records: Sequence[RunRecord], predicted: dict[str, tuple[str, Trajectory]]
) -> list[tuple[str, str]]:
    """(run, reason) for every run without a prediction."""
    return [
        (
            f"{r.name} (seed {r.data_seed})",
            "failed run" if r.failure else preset.predict_note or "not predicted",
        )
        for r in records
        if r.key not in predicted
    ]


def _outcome_lines(checks: Sequence[ExpectationCheck]) -> list[str]:
    """The section "The paper's outcomes": each claim against every seed."""
    claims = [
        (
            c.expectation.run,
            c.expectation.text().split(": ", 1)[1],
            ", ".join(f"{seed}: {_shown(value)}" for seed, value in c.by_seed.items()) or "no run",
            "reproduced"
            if c.holds
            else "NOT reproduced (seeds " + ", ".join(map(str, c.disagreeing_seeds())) + ")",
            c.expectation.source,
        )
        for c in checks
    ]
    return [
        "## The paper's outcomes",
        "",
        "Each claim is the paper's reported result, checked on every seed at the paper's "
        "threshold (test error >= 0.5 at large batch, <= 0.05 at mini-batch; 'stuck' is the "
        "collapse rule: every weight ends below a tenth of the largest initial one).",
        "",
        *markdown_table(("run", "claim", "observed per seed", "verdict", "source"), claims),
        "",
    ]


def write_report(
    preset: Preset,
    records: Sequence[RunRecord],
    out_dir: Path,
    predicted: dict[str, tuple[str, Trajectory]] | None = None,
    timing: str | None = None,
) -> tuple[str, list[ExpectationCheck], list[Path]]:
    """Figures, report.md and table.md (the final errors over seeds beside the paper's, with
    ``timing``: how long and where it trained); returns the report text, the expectation
    checks and the figures written (their PNG paths). ``predicted`` maps run keys to (reduction,
    trajectory)."""
    predicted = predicted or {}
    compared = agreements(records, predicted)
    figures = _plot_preset(preset, records, predicted, compared, out_dir)
    checks = check_expectations(preset, records)
    final_errors = [*([timing, ""] if timing else []), *paper_table(preset, records)]
    table = [
        f"# {preset.name}: final errors over seeds, beside the paper's",
        "",
        preset.description,
        "",
        *final_errors,
        "",
    ]
    (out_dir / "table.md").write_text("\n".join(table))
    lines = [
        *_summary_lines(preset, records, checks, compared),
        *agreement_lines(compared, _unpredicted(preset, records, predicted)),
        *(convex_lines(preset.specs[0].params) if preset.convex_contrast else []),
        *_outcome_lines(checks),
        "## Final errors over seeds, beside the paper's",
        "",
        *final_errors,
        *failed_run_lines(records),
        "",
        f"Figures (each as PNG, PDF and SVG): {', '.join(figures)}.",
        "",
        store_mark(out_dir / STORE_NAME),
    ]
    text = "\n".join(lines) + "\n"
    (out_dir / "report.md").write_text(text)
    return text, checks, [out_dir / f"{name}.png" for name in figures]
