"""The report of a finished (or partly finished) sweep, read from its results store; report building
blocks.

``report.md`` holds one row per grid point (mean and standard deviation over seeds of the final
train and test error, the coefficients, and theorykit's predicted outcome at that point:
``theorykit.bounds.predicted_outcome``, i.e. which of Thm 4.1/4.2/4.4/4.5, Cor 4.3 applies), the
measured lam stuck thresholds beside theorykit's lambda*_Adam / lambda*_AdamW where lam is swept
(>= 3 values), and the failed runs with their reasons. Figures: ``trajectories.png``,
``test_error.png``, ``test_error_vs_lambda.png`` and ``test_error_vs_batch.png`` where lam / B vary
(:mod:`validation.figures`). Nothing is trained here, and torch is not needed.

:func:`measured_stuck_thresholds`, :func:`stuck_lines` and :func:`failed_run_lines` are shared with
the preset reports (``validation.experiments.preset_report``).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from dynamics.outcomes import STUCK_TRAIN_ERROR, bracket
from theorykit.bounds import predicted_outcome
from theorykit.conditions import lambda_thresholds
from theorykit.errors import ParameterError
from theorykit.params import ProblemParams
from theorykit.verdict import finite_size_verdict
from validation.agreement import agreement_lines, agreements, plot_agreement
from validation.figures import plot_error_vs, plot_final_errors, plot_trajectories, varying_fields
from validation.sweeps.records import RunRecord, group_runs
from validation.sweeps.store import ResultsStore
from validation.tables import markdown_table


def measured_stuck_thresholds(
    records: Sequence[RunRecord], by: tuple[str, ...] = ("optimizer", "B")
) -> dict[tuple, tuple[float, float] | None]:
    """Per setting (the values of the fields ``by``) with >= 3 lam values: (largest lam that trains,
    smallest lam stuck above it).

    "Stuck" is final train error >= :data:`dynamics.outcomes.STUCK_TRAIN_ERROR` (worst seed); None
    where the grid shows no such transition. The measured threshold lies between the two (the report
    quotes their geometric mean). Failed (diverged) runs are left out: they say nothing about lam.
    """
    by_setting: dict[tuple, dict[float, float]] = defaultdict(dict)
    for record in records:
        if record.failure:
            continue
        params = record.params.to_dict()
        errors = by_setting[tuple(params[field] for field in by)]
        errors[record.params.lam] = max(
            errors.get(record.params.lam, 0.0), record.final_value("train_error")
        )
    return {
        key: bracket(sorted(errors), [errors[lam] >= STUCK_TRAIN_ERROR for lam in sorted(errors)])
        for key, errors in by_setting.items()
        if len(errors) >= 3
    }


def stuck_lines(
    records: Sequence[RunRecord], by: tuple[str, ...] = ("optimizer", "B")
) -> list[str]:
    """Markdown lines: measured stuck thresholds per setting next to theorykit's lambda* at that
    setting."""
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
        measured = math.sqrt(pair[0] * pair[1])
        params = representative[key]
        ratio = ""
        if params.kind.has_moments:
            predicted = lambda_thresholds(params)[f"lambda_star_{params.optimizer}"]
            ratio = (
                f"; measured / lambda*_{params.optimizer} ({predicted:.3g}) = "
                f"{measured / predicted:.2f}"
            )
        lines.append(
            f"- {setting}: trains at lam = {pair[0]:g}, stuck (train error >= {STUCK_TRAIN_ERROR}) "
            f"at lam = {pair[1]:g}: measured threshold ~ {measured:.3g}{ratio}."
        )
    return ["", "Measured stuck thresholds:", "", *lines, ""] if lines else [""]


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
    "theorem (asymptotic)",
    "finite-size verdict (theorykit.verdict)",
)


def summary_row(name: str, group: Sequence[RunRecord], params: ProblemParams) -> tuple[str, ...]:
    """A run's row of the summary table (:data:`SUMMARY_HEADERS`): its final errors over seeds
    (:func:`mean_sd_final`), mean final feature and noise coefficients (gamma, rho of
    ``docs/conventions.md``), the theorems' asymptotic outcome (:func:`theorykit.bounds.
    predicted_outcome`) and theorykit's finite-size verdict at ``params``."""
    return (
        name,
        seed_count(group),
        mean_sd_final(group, "train_error"),
        mean_sd_final(group, "test_error"),
        f"{mean_final(group, 'feature_pos'):.3g} / {mean_final(group, 'feature_neg'):.3g}",
        f"{mean_final(group, 'noise_min'):.3g} / {mean_final(group, 'noise_max'):.3g}",
        predicted_outcome(params),
        str(finite_size_verdict(params)),
    )


def write_sweep_report(store_path: str | Path, out_dir: str | Path | None = None) -> str:
    """Write report.md and the figures for the store at ``store_path`` into ``out_dir`` (default:
    its folder)."""
    store_path = Path(store_path)
    if not store_path.is_file():
        raise ParameterError(
            "results", str(store_path), "an existing results store (the --store of theorykit sweep)"
        )
    with ResultsStore(store_path, read_only=True) as store:
        records = list(store.records().values())
        predicted = store.predictions(record.key for record in records)
    if not records:
        raise ParameterError("results", str(store_path), "a store with at least one finished run")
    out_dir = Path(out_dir) if out_dir is not None else store_path.parent
    out_dir.mkdir(parents=True, exist_ok=True)
    title = ", ".join(sorted({record.sweep for record in records}))
    failed = sum(1 for record in records if record.failure)
    versions = sorted({record.code_version for record in records})
    varying = varying_fields(records)

    plot_trajectories(
        records, title, out_dir / "trajectories.png", {k: t for k, (_, t) in predicted.items()}
    )
    plot_final_errors(records, title, out_dir / "test_error.png")
    compared = agreements(records, predicted)
    if compared:
        plot_agreement(compared, title, out_dir / "agreement.png")
    thresholds = [lambda_thresholds(record.params) for record in records]
    shared = thresholds[0] if all(t == thresholds[0] for t in thresholds) else None
    figures = ["trajectories.png", "test_error.png"]
    if plot_error_vs(records, "lam", out_dir / "test_error_vs_lambda.png", shared):
        figures.append("test_error_vs_lambda.png")
    if plot_error_vs(records, "B", out_dir / "test_error_vs_batch.png"):
        figures.append("test_error_vs_batch.png")

    rows = [
        summary_row(name, group, group[0].params) for name, group in group_runs(records).items()
    ]
    lines = [
        f"# Sweep report: {title}",
        "",
        f"{len(records)} runs ({len(records) - failed} finished, {failed} failed) from "
        f"{store_path}; parameters that vary: {', '.join(varying) or 'none'}; code: "
        f"{'; '.join(versions)}.",
        "",
        *markdown_table(SUMMARY_HEADERS, rows),
    ]
    if shared is not None:
        lines += [
            "",
            f"theorykit's finite-size stuck thresholds at this setting: lambda*_Adam = "
            f"{shared['lambda_star_adam']:.4g}, lambda*_AdamW = {shared['lambda_star_adamw']:.4g}.",
        ]
    if "lam" in varying:
        lines += stuck_lines(
            records,
            by=("optimizer", "B", *(f for f in varying if f not in ("lam", "optimizer", "B"))),
        )
    lines += failed_run_lines(records)
    if compared:
        figures.append("agreement.png")
        lines += ["", *agreement_lines(compared)]
    else:
        lines += [
            "",
            "No predictions are stored for these runs: `theorykit report STORE --predict` "
            "computes the reduced dynamics of each run from its own initialisation and batches "
            "(needs torch) and stores them beside the runs.",
        ]
    lines += ["", "Figures: " + ", ".join(figures) + "."]
    text = "\n".join(lines) + "\n"
    (out_dir / "report.md").write_text(text)
    return text
