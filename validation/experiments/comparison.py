"""``theorykit compare``: every finite-size prediction of theorykit against the CNN, as an accuracy
table.

Sections of ``DIR/comparison.md`` (CNN runs resumable in ``DIR/cnn/results.sqlite``):

1. **Calibration** (:mod:`validation.experiments.calibration`): the hidden constants fitted on the
   settings marked for calibration, next to the values ``theorykit`` ships, with the spread of the
   values each other setting and seed would imply;
2. **Accuracy** (:mod:`validation.experiments.accuracy`): per prediction, the share of the
   settings *not* used for calibration where the prediction lies within a factor 2 of the CNN's
   measured value (the geometric mean of its bracket), overlapping and disjoint supports apart;
   every miss listed with its ratio;
3. **Batch boundary** (:mod:`validation.experiments.batch_comparison`), Adam and AdamW;
4. **Collapse thresholds** (:mod:`validation.experiments.threshold_comparison`), Adam and AdamW;
5. **Memorisation as a forecast** (:mod:`validation.experiments.forecast`): the race's probability
   that a run memorises, scored per held-out run (Brier score, confident misses) against the 0/1
   verdict and the base rate;
6. **Time scales and head reversals** (:mod:`validation.experiments.time_scale_comparison`);
7. **The verdict across horizons** (:mod:`validation.experiments.horizon_check`): the paper's
   setting at a small and a large B, horizons from 300 to 2 10^4 iterations;
8. **Table 1 at B = 100** (:mod:`validation.experiments.table1_example`): the predicted numbers of
   reversed heads against 12 CNN seeds (with the horizon check: the paper's setting);
9. **Coefficient checks** of the reductions (:mod:`validation.experiments.coefficient_check`).

A **Conclusion** opens the file: the held-out accuracy of every prediction, its misses, and the
verdict's record across horizons (in-sample there: the paper's setting is a calibration setting).

Figures: ``predicted_vs_measured.png``/``.svg`` (log-log, 2x band, calibration settings hollow;
:mod:`validation.experiments.comparison_figure`) and ``coefficient_check.png``. Predictions use the
constants fitted here. Each section is written by the module of its comparison; this one assembles
them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from validation.experiments.accuracy import Score, accuracy, accuracy_lines, accuracy_notes
from validation.experiments.batch_comparison import (
    batch_comparison_lines,
    batch_rows,
    train_batch_runs,
)
from validation.experiments.calibration import calibrate, calibration_lines
from validation.experiments.coefficient_check import coefficient_lines, plot_example_check
from validation.experiments.comparison_figure import plot_predicted_vs_measured
from validation.experiments.comparison_progress import JobProgress
from validation.experiments.comparison_scope import FULL_SCOPE, ComparisonScope
from validation.experiments.forecast import forecast_lines, forecast_note, forecast_scores
from validation.experiments.horizon_check import horizon_checks, horizon_lines
from validation.experiments.table1_example import example_lines, table1_example
from validation.experiments.threshold_comparison import threshold_comparison_lines, threshold_rows
from validation.experiments.time_scale_comparison import (
    time_scale_lines,
    time_scale_note,
    time_scale_rows,
)
from validation.progress import STDERR
from validation.reports.verdicts import VerdictCheck, conclusion_lines


def _conclusion(
    scores: Sequence[Score],
    horizons: Sequence[tuple[VerdictCheck, dict[int, float]]],
    notes: Sequence[str],
) -> list[str]:
    """The report's conclusion: the verdict across horizons (when checked), the held-out
    accuracy and the sections' ``notes`` (the forecast, the time scales)."""
    horizon_note = (
        "The verdict counts above are the horizon check on the paper's setting, a "
        "calibration setting (in-sample)."
    )
    return conclusion_lines(
        checks=[check for check, _ in horizons],
        notes=[*accuracy_notes(scores), *notes, *([horizon_note] if horizons else [])],
    )


def _method_lines(seeds: int) -> list[str]:
    """How the predictions are made and scored against the CNN's brackets."""
    return [
        "Every prediction uses the constants fitted in the calibration section on the settings "
        "marked 'calibration'; the accuracy figures count only the other settings. A CNN bracket "
        "is (largest value on the side of the first outcome, smallest value past the transition) "
        f"on the run's grid ({seeds} seeds; batch: a B memorises when any seed does; "
        "thresholds: a lam collapses when half the seeds do; collapsed = every weight below a "
        "tenth of the largest initial one). Its geometric mean is the measured value; a "
        "prediction agrees with it within a factor 2. Where the grid shows no transition the "
        "bracket is open, (largest value, inf); a prediction agrees with it only beyond the grid "
        "(inside, it claims a transition the CNN would have shown), and such settings count in "
        "the accuracy like any other.",
        "",
    ]


def write_comparison(
    out_dir: Path,
    log: TextIO = STDERR,
    reduced: bool = True,
    coefficients: bool = True,
    scope: ComparisonScope = FULL_SCOPE,
    job: JobProgress | None = None,
) -> str:
    """Train or resume every CNN run of ``scope`` (counted in ``job``), calibrate, write
    ``out_dir/comparison.md`` and its figures."""
    out_dir.mkdir(parents=True, exist_ok=True)
    store = out_dir / "cnn" / "results.sqlite"
    first = threshold_rows(store, scope=scope, log=log, job=job)
    calibration = calibrate(batch_rows(store, scope=scope, log=log, reduced=False, job=job), first)
    constants = calibration.constants
    batch = batch_rows(store, constants, scope, log, reduced, job)
    thresholds = threshold_rows(store, constants, scope, log)
    scores = accuracy(batch, thresholds)
    horizons = horizon_checks(store, constants, log, scope.seeds, job) if scope.horizon else []
    example = table1_example(store, constants, log, job) if scope.horizon else None
    forecasts = forecast_scores(batch, constants, calibration.narrow)
    runs = train_batch_runs(store, scope, log)
    times = time_scale_rows(runs, constants, scope)
    lines = [
        "# theorykit compare: finite-size predictions vs the CNN",
        "",
        *_conclusion(scores, horizons, [*forecast_note(*forecasts), *time_scale_note(times)]),
        *_method_lines(len(scope.seeds)),
        *calibration_lines(calibration),
        *accuracy_lines(scores),
        *batch_comparison_lines(batch),
        *threshold_comparison_lines(thresholds),
        *forecast_lines(*forecasts),
        *time_scale_lines(runs, times, constants, scope),
        *(horizon_lines(horizons) if horizons else []),
        *(example_lines(example) if example else []),
    ]
    if coefficients:
        lines += coefficient_lines()
        plot_example_check(out_dir / "coefficient_check.png")
    plot_predicted_vs_measured(batch, thresholds, out_dir / "predicted_vs_measured.png")
    text = "\n".join(lines) + "\n"
    (out_dir / "comparison.md").write_text(text)
    return text
