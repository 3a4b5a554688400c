"""The report of a finished (or partly finished) sweep, read from its results store; report building
blocks.

``report.md`` holds one row per grid point (mean and standard deviation over seeds of the final
train and test error, the coefficients, and theorykit's predicted outcome at that point:
``theorykit.bounds.predicted_outcome``, i.e. which of Thm 4.1/4.2/4.4/4.5, Cor 4.3 applies), the
measured lam stuck thresholds beside theorykit's lambda*_Adam / lambda*_AdamW where lam is swept
(>= 3 values), and the failed runs with their reasons. Figures: ``trajectories.png``,
``test_error.png``, ``test_error_vs_lambda.png`` and ``test_error_vs_batch.png`` where lam / B vary
(:mod:`validation.reports.figures`). Nothing is trained here, and torch is not needed.

:func:`measured_stuck_thresholds`, :func:`stuck_lines` and :func:`failed_run_lines` are shared with
the preset reports (``validation.experiments.preset_report``).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from dynamics.outcomes import bracket
from dynamics.trajectory import Trajectory
from theorykit.collapse import collapse_threshold
from theorykit.conditions import lambda_thresholds
from theorykit.errors import ParameterError
from theorykit.outcome_labels import STUCK
from theorykit.params import ProblemParams
from validation.reports.agreement import RunAgreement, agreements
from validation.reports.agreement_report import agreement_lines, plot_agreement
from validation.reports.figures import (
    ordered_groups,
    plot_error_vs,
    plot_final_errors,
    plot_trajectories,
    varying_fields,
)
from validation.reports.files import check_report_directory, default_report_directory, store_mark
from validation.reports.seed_spread import seed_spread_lines
from validation.reports.tables import markdown_table
from validation.reports.verdicts import VerdictCheck, conclusion_lines, verdict_lines
from validation.runs.records import RunRecord
from validation.store.results import ResultsStore


def threshold_lines(thresholds: dict[str, float]) -> list[str]:
    """The lam thresholds a report prints, each with one line of meaning (``thresholds`` from
    :func:`theorykit.conditions.lambda_thresholds`)."""
    return [
        f"- lambda*_Adam = {thresholds['lambda_star_adam']:.4g}: Adam (L2 decay) is stuck at "
        "initialisation above it (Cor 4.3 read at t = 0, theorykit.bounds; no fitted constant).",
        f"- lambda*_AdamW = {thresholds['lambda_star_adamw']:.4g}: where AdamW's feature starts to "
        "shrink at t = 0; not a failure threshold. AdamW fails above its collapse threshold "
        "(theorykit.collapse: every weight below a tenth of the largest initial one within the "
        "horizon), which moves with eta and the horizon and is printed in each verdict.",
        "",
    ]


def measured_stuck_thresholds(
    records: Sequence[RunRecord], by: tuple[str, ...] = ("optimizer", "B")
) -> dict[tuple, tuple[float, float] | None]:
    """Per setting (the values of the fields ``by``) with >= 3 lam values: (largest lam that trains,
    smallest lam stuck above it).

    "Stuck" is the collapse rule of :func:`dynamics.outcomes.classify` (every weight below a tenth
    of the largest initial one) in any seed; None where the grid shows no such transition. The
    measured threshold lies between the two. Failed (diverged) runs are left out: they say
    nothing about lam.
    """
    by_setting: dict[tuple, dict[float, bool]] = defaultdict(dict)
    for record in records:
        if record.failure:
            continue
        params = record.params.to_dict()
        stuck = by_setting[tuple(params[field] for field in by)]
        lam = record.params.lam
        stuck[lam] = stuck.get(lam, False) or record.outcome == STUCK
    return {
        key: bracket(sorted(stuck), [stuck[lam] for lam in sorted(stuck)])
        for key, stuck in by_setting.items()
        if len(stuck) >= 3
    }


def stuck_lines(
    records: Sequence[RunRecord], by: tuple[str, ...] = ("optimizer", "B")
) -> list[str]:
    """Markdown lines: measured stuck brackets per setting next to theorykit's threshold at that
    setting (lambda*_Adam for L2 decay, the collapse threshold for decoupled decay), with whether
    it falls inside the bracket and the bracket's range of ratios (never one midpoint)."""
    representative = {
        tuple(record.params.to_dict()[field] for field in by): record.params for record in records
    }
    lines = []
    for key, pair in sorted(
        measured_stuck_thresholds(records, by).items(), key=lambda item: str(item[0])
    ):
        setting = ", ".join(
            f"{field} = {value:g}" if isinstance(value, float) else f"{field} = {value}"
            for field, value in zip(by, key, strict=True)
        )
        if pair is None:
            lines.append(f"- {setting}: no stuck transition inside the lam grid.")
            continue
        params = representative[key]
        name, predicted = predicted_stuck_threshold(params)
        position = (
            "inside"
            if pair[0] < predicted <= pair[1]
            else ("below" if predicted <= pair[0] else "above")
        )
        lines.append(
            f"- {setting}: trains at lam = {pair[0]:g}, stuck (collapsed) at lam = {pair[1]:g}: "
            f"the threshold lies in ({pair[0]:g}, {pair[1]:g}]; {name} = {predicted:.3g} is "
            f"{position} it (bracket / {name} = {pair[0] / predicted:.2g} to "
            f"{pair[1] / predicted:.2g})."
        )
    return ["", "Measured stuck thresholds:", "", *lines, ""] if lines else [""]


def predicted_stuck_threshold(params: ProblemParams) -> tuple[str, float]:
    """(name, value) of the threshold the verdict reads for ``params``' optimiser: lambda*_Adam
    for L2 decay, the collapse threshold at eta and the horizon for decoupled decay."""
    if params.kind.decoupled:
        return "collapse threshold", collapse_threshold(params)
    return "lambda*_Adam", lambda_thresholds(params)["lambda_star_adam"]


def failed_run_lines(records: Sequence[RunRecord]) -> list[str]:
    """A "Failed runs" section (name, seed, reason), or nothing when every run finished."""
    failed = [
        f"- {record.name} (data seed {record.data_seed}): {record.failure}"
        for record in records
        if record.failure
    ]
    return ["", "## Failed runs", "", *failed] if failed else []


def finished(records: Sequence[RunRecord]) -> list[RunRecord]:
    """The runs that did not fail: failed runs (weights NaN/inf) are shown as failed and left out
    of every mean, spread and threshold."""
    return [record for record in records if record.failure is None]


def seed_count(records: Sequence[RunRecord]) -> str:
    """``"2"``, or ``"2 (1 failed)"`` where runs failed."""
    failed = len(records) - len(finished(records))
    return f"{len(records)}" + (f" ({failed} failed)" if failed else "")


def mean_final(records: Sequence[RunRecord], metric: str) -> float:
    """Mean of a final metric over the finished seeds (NaN when every seed failed)."""
    values = [record.final_value(metric) for record in finished(records)]
    return float(np.mean(values)) if values else math.nan


def mean_sd_final(records: Sequence[RunRecord], metric: str) -> str:
    """``mean`` for one run, ``mean ± sd`` (sample standard deviation) over several seeds, over
    the finished ones; ``failed`` when every seed failed, ``no run`` without records."""
    values = [record.final_value(metric) for record in finished(records)]
    if not values:
        return "failed" if records else "no run"
    return (
        f"{np.mean(values):.3f}"
        if len(values) == 1
        else f"{np.mean(values):.3f} ± {np.std(values, ddof=1):.3f}"
    )


#: The columns of the run summary table of every report (preset and sweep).
SUMMARY_HEADERS = (
    "run",
    "seeds",
    "train error",
    "test error",
    "feature +1 / -1",
    "noise min / max",
    "CNN outcome per seed",
    "theorem (asymptotic)",
    "finite-size verdict (theorykit.verdict)",
    "verdict vs CNN",
)

#: Appended to final errors and coefficients of a group with a collapsed (stuck) seed: its weights
#: are at round-off level, so these numbers are decided by round-off.
ROUND_OFF_MARK = " (collapsed: round-off)"


def summary_row(check: VerdictCheck, group: Sequence[RunRecord]) -> tuple[str, ...]:
    """A run's row of the summary table (:data:`SUMMARY_HEADERS`): its final errors over seeds
    (:func:`mean_sd_final`), mean final feature and noise coefficients (gamma, rho of
    ``docs/conventions.md``; marked where a seed collapsed), the CNN's outcome per seed, the
    theorems' asymptotic outcome (:func:`theorykit.bounds.theorem_outcome`, or why none applies)
    and the finite-size verdict against the CNN
    (:class:`validation.reports.verdicts.VerdictCheck`)."""
    mark = ROUND_OFF_MARK if STUCK in check.outcomes.values() else ""
    return (
        check.name,
        seed_count(group),
        mean_sd_final(group, "train_error") + mark,
        mean_sd_final(group, "test_error") + mark,
        f"{mean_final(group, 'feature_pos'):.3g} / {mean_final(group, 'feature_neg'):.3g}{mark}",
        f"{mean_final(group, 'noise_min'):.3g} / {mean_final(group, 'noise_max'):.3g}{mark}",
        check.measured_text() or "no run",
        check.theorem_words,
        str(check.verdict),
        check.cell(),
    )


def malformed_row_lines(malformed: dict[str, str]) -> list[str]:
    """The rows of the store that could not be read (``ResultsStore.malformed``), by key and
    reason; they are left out of every table and figure."""
    if not malformed:
        return []
    return [
        "",
        f"## Unreadable rows ({len(malformed)}, left out of every table and figure)",
        "",
        *(f"- `{key}`: {reason}" for key, reason in sorted(malformed.items())),
    ]


def _read_store(
    store_path: Path,
) -> tuple[list[RunRecord], dict[str, tuple[str, Trajectory]], dict[str, str]]:
    """The readable runs of the store at ``store_path``, their stored predictions (by run key:
    (reduction, trajectory)) and its unreadable rows (by key: reason); a
    :class:`~theorykit.errors.ParameterError` without a store or without a readable run."""
    if not store_path.is_file():
        raise ParameterError(
            "results", str(store_path), "an existing results store (the --store of theorykit sweep)"
        )
    with ResultsStore(store_path, read_only=True) as store:
        records = list(store.records().values())
        predicted = store.predictions(record.key for record in records)
        malformed = dict(store.malformed)
    if not records:
        unread = f"; {len(malformed)} rows could not be read" if malformed else ""
        raise ParameterError(
            "results", str(store_path), f"a store with at least one readable run{unread}"
        )
    return records, predicted, malformed


def _plot_sweep(
    records: Sequence[RunRecord],
    predicted: dict[str, tuple[str, Trajectory]],
    compared: Sequence[RunAgreement],
    title: str,
    out_dir: Path,
) -> list[str]:
    """Plot the figures of a sweep report into ``out_dir``; the PNG names, in report order."""
    plot_trajectories(
        records, title, out_dir / "trajectories.png", {k: t for k, (_, t) in predicted.items()}
    )
    plot_final_errors(records, title, out_dir / "test_error.png")
    if compared:
        plot_agreement(compared, title, out_dir / "agreement.png")
    figures = ["trajectories.png", "test_error.png"]
    if plot_error_vs(records, "lam", out_dir / "test_error_vs_lambda.png"):
        figures.append("test_error_vs_lambda.png")
    if plot_error_vs(records, "B", out_dir / "test_error_vs_batch.png"):
        figures.append("test_error_vs_batch.png")
    return [*figures, "agreement.png"] if compared else figures


def _prediction_lines(compared: Sequence[RunAgreement]) -> list[str]:
    """The agreement section where predictions are stored, else how to compute them."""
    if compared:
        return ["", *agreement_lines(compared)]
    return [
        "",
        "No predictions are stored for these runs: `theorykit report STORE --predict` "
        "computes the reduced dynamics of each run from its own initialisation and batches "
        "(needs torch) and stores them beside the runs.",
    ]


def _sweep_lines(
    records: Sequence[RunRecord],
    compared: Sequence[RunAgreement],
    malformed: dict[str, str],
    store_path: Path,
    title: str,
) -> list[str]:
    """The text of a sweep report up to its list of figures."""
    failed = sum(1 for record in records if record.failure)
    versions = sorted({record.code_version for record in records})
    varying = varying_fields(records)
    thresholds = [lambda_thresholds(record.params) for record in records]
    shared = thresholds[0] if all(t == thresholds[0] for t in thresholds) else None
    grouped = ordered_groups(records)
    checks = [VerdictCheck.of(name, group[0].params, group) for name, group in grouped.items()]
    rows = [summary_row(check, grouped[check.name]) for check in checks]
    lines = [
        f"# Sweep report: {title}",
        "",
        *conclusion_lines(checks=checks, runs=compared),
        f"{len(records)} runs ({len(records) - failed} finished, {failed} failed) from "
        f"{store_path}; parameters that vary: {', '.join(varying) or 'none'}; code: "
        f"{'; '.join(versions)}.",
        "",
        *markdown_table(SUMMARY_HEADERS, rows),
        "",
        *(threshold_lines(shared) if shared is not None else []),
    ]
    if "lam" in varying:
        lines += stuck_lines(
            records,
            by=("optimizer", "B", *(f for f in varying if f not in ("lam", "optimizer", "B"))),
        )
    return [
        *lines,
        *failed_run_lines(records),
        *malformed_row_lines(malformed),
        "",
        *verdict_lines(checks),
        *seed_spread_lines(grouped),
        *_prediction_lines(compared),
    ]


def write_sweep_report(
    store_path: str | Path, out_dir: str | Path | None = None
) -> tuple[str, list[Path]]:
    """Write report.md and the figures for the store at ``store_path`` into ``out_dir`` (default:
    :func:`validation.reports.files.default_report_directory`, the store's folder unless another
    store's report is there). Returns the report's text and the figures written (PNG paths; each
    also as PDF and SVG)."""
    store_path = Path(store_path)
    records, predicted, malformed = _read_store(store_path)
    out_dir = Path(out_dir) if out_dir is not None else default_report_directory(store_path)
    check_report_directory(out_dir, store_path)
    out_dir.mkdir(parents=True, exist_ok=True)
    title = ", ".join(sorted({record.sweep for record in records}))
    compared = agreements(records, predicted)
    figures = _plot_sweep(records, predicted, compared, title, out_dir)
    lines = [
        *_sweep_lines(records, compared, malformed, store_path, title),
        "",
        "Figures (each also as PDF and SVG): " + ", ".join(figures) + ".",
        "",
        store_mark(store_path),
    ]
    text = "\n".join(lines) + "\n"
    (out_dir / "report.md").write_text(text)
    return text, [out_dir / name for name in figures]
