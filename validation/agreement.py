"""How well a predicted trajectory matches a measured CNN run, record by record (torch-free).

:class:`RunAgreement` pairs a stored CNN run (:class:`validation.sweeps.records.RunRecord`) with the
reduced dynamics' prediction of it (:mod:`validation.experiments.prediction`: same initialisation,
same batches, same recording epochs) and reads off:

* **curve errors** -- per metric, max over records of |predicted - measured| / max over records of
  |measured| (a scale-free error that stays defined where a curve crosses 0);
* the **trajectory error** -- max over records and the coefficient curves (feature +1/-1, noise
  max/min) of |predicted - measured|, over the largest |measured| of those curves: the gap in
  units of the run's coefficient scale, so a curve that stays near 0 (noise min of a run that
  learns the feature) does not dominate it;
* **outcomes** -- :func:`dynamics.outcomes.outcome` of both (learns feature / memorises noise / not
  fitted / stuck) and whether they agree;
* **time scales** -- Stage I's end T0 and the reversal time T_r read off both trajectories
  (:func:`dynamics.predict.measured_time_scales`, in iterations), with their ratio.

The test error of a prediction is a Monte Carlo estimate on fresh test points (the reduced model
has no test set of its own), so it is compared through the outcome, not record by record.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from dynamics.outcomes import outcome
from dynamics.predict import measured_time_scales
from dynamics.trajectory import Trajectory
from theorykit.errors import ParameterError
from validation.figures import COEFFICIENT_CURVES, MAX_TRAJECTORY_PANELS, pyplot, save_figure
from validation.sweeps.records import RunRecord
from validation.tables import markdown_table

#: The coefficient curves of the trajectory error (docs: ``dynamics.trajectory.METRICS``).
COEFFICIENT_METRICS = tuple(name for name, _, _ in COEFFICIENT_CURVES)
#: The trajectory error the overlap-aware reduction stays within on CNN-sized settings
#: (``theorykit.testing.strategies.small_params``: n <= 24, <= 300 iterations), for SignSGD(W) and
#: Adam(W). Measured over 112 drawn settings (2026-12-02; drawn with
#: ``small_params``, ``compare_setting(..., supports="overlapping")``): median 0.007, 90% 0.18,
#: 95% 0.28, max 0.64; the largest are SignSGD at n <= 10 and B <= 3, where one coordinate's sign
#: flip is a large share of the scale. 0.75 covers the largest seen; the outcome class agreed on
#: 109 of the 112. Gradient descent and disjoint supports are exact. On the paper's setting
#: (n = 200, thousands of iterations) the errors are larger: the coefficient check.
OVERLAP_TRAJECTORY_BOUND = 0.75
#: The final values the agreement table shows.
FINAL_METRICS = ("feature_pos", "feature_neg", "noise_max", "train_error", "test_error")


def curve_error(measured: np.ndarray, predicted: np.ndarray) -> float:
    """max |predicted - measured| / max |measured| over the records (NaN when either has a
    non-finite value; 0 when both are identically 0)."""
    if not (np.all(np.isfinite(measured)) and np.all(np.isfinite(predicted))):
        return math.nan
    scale = float(np.max(np.abs(measured)))
    gap = float(np.max(np.abs(predicted - measured)))
    return gap / scale if scale > 0 else (0.0 if gap == 0 else math.inf)


def ratio(predicted: float | None, measured: float | None) -> float | None:
    """predicted / measured, None where either is missing or the measured value is 0."""
    if predicted is None or measured is None or measured == 0:
        return None
    return predicted / measured


@dataclasses.dataclass(frozen=True)
class RunAgreement:
    """One CNN run and its prediction (see the module docstring); ``reduction`` names the reduced
    model (:data:`dynamics.problem.Reduction`)."""

    record: RunRecord
    predicted: Trajectory
    reduction: str

    def __post_init__(self) -> None:
        if not np.array_equal(np.asarray(self.record.epoch), self.predicted.epoch):
            raise ParameterError(
                "predicted", self.record.name, "a prediction recorded at the run's epochs"
            )

    @property
    def measured(self) -> Trajectory:
        return self.record.trajectory()

    def curve_errors(self) -> dict[str, float]:
        """:func:`curve_error` of every recorded metric but the test error."""
        measured = self.measured
        return {
            name: curve_error(values, self.predicted.metrics[name])
            for name, values in measured.metrics.items()
            if name != "test_error" and name in self.predicted.metrics
        }

    @property
    def coefficient_scale(self) -> float:
        """The largest |measured| over the records of :data:`COEFFICIENT_METRICS`."""
        measured = self.measured.metrics
        return float(max(np.max(np.abs(measured[name])) for name in COEFFICIENT_METRICS))

    def coefficient_gap(self, name: str) -> np.ndarray:
        """|predicted - measured| of one coefficient curve per record, in units of
        :attr:`coefficient_scale`."""
        gap = np.abs(self.predicted.metrics[name] - self.measured.metrics[name])
        return gap / (self.coefficient_scale or 1.0)

    @property
    def trajectory_error(self) -> float:
        """max over records and :data:`COEFFICIENT_METRICS` of :meth:`coefficient_gap` (NaN when a
        value is not finite)."""
        gaps = np.concatenate([self.coefficient_gap(name) for name in COEFFICIENT_METRICS])
        return float(np.max(gaps)) if np.all(np.isfinite(gaps)) else math.nan

    @property
    def measured_outcome(self) -> str:
        return "failed" if self.record.failure else outcome(self.measured)

    @property
    def predicted_outcome(self) -> str:
        return outcome(self.predicted)

    @property
    def outcome_agrees(self) -> bool:
        return self.measured_outcome == self.predicted_outcome

    def time_scales(self) -> dict[str, tuple[float | None, float | None]]:
        """(measured, predicted) Stage-I end T0 and reversal time T_r, iterations."""
        iterations = np.asarray(self.record.epoch) * self.record.params.iterations_per_epoch
        measured = measured_time_scales(iterations, self.measured.metrics)
        predicted = measured_time_scales(iterations, self.predicted.metrics)
        return {
            "T0": (measured["stage1_end"], predicted["stage1_end"]),
            "T_r": (measured["reversal"], predicted["reversal"]),
        }

    def rows(self) -> list[tuple[str, float | None, float | None, float | None]]:
        """(quantity, measured, predicted, predicted / measured): the final values of
        :data:`FINAL_METRICS`, then T0 and T_r."""
        measured, predicted = self.measured.final(), self.predicted.final()
        rows = [
            (
                f"final {name}",
                measured[name],
                predicted[name],
                ratio(predicted[name], measured[name]),
            )
            for name in FINAL_METRICS
        ]
        for name, (value, guess) in self.time_scales().items():
            rows.append((f"{name} (iterations)", value, guess, ratio(guess, value)))
        return rows


def agreements(
    records: Sequence[RunRecord], predicted: Mapping[str, tuple[str, Trajectory]]
) -> list[RunAgreement]:
    """A :class:`RunAgreement` for every finished run of ``records`` with a prediction (by run
    key: (reduction, trajectory), as ``ResultsStore.predictions`` returns them)."""
    return [
        RunAgreement(record, predicted[record.key][1], predicted[record.key][0])
        for record in records
        if record.failure is None and record.key in predicted
    ]


def _number(value: float | None) -> str:
    return "none" if value is None else f"{value:.3g}"


def agreement_lines(
    runs: Sequence[RunAgreement], missing: Sequence[tuple[str, str]] = ()
) -> list[str]:
    """The report section "Theory next to simulation": one row per run (every seed) with the
    outcome of both, whether they agree, the trajectory error, the final test error and T0 / T_r
    (measured, predicted, predicted / measured); then every disagreement in words. ``missing``
    holds (run, reason) for the runs without a prediction; runs sharing a reason make one line."""
    if not runs and not missing:
        return []
    rows = []
    for run in runs:
        scales = run.time_scales()
        measured_test = run.record.final_value("test_error")
        predicted_test = run.predicted.final()["test_error"]
        rows.append(
            (
                run.record.name,
                run.record.data_seed,
                run.reduction,
                run.measured_outcome,
                run.predicted_outcome,
                "yes" if run.outcome_agrees else "NO",
                f"{run.trajectory_error:.3g}",
                f"{measured_test:.3f} / {predicted_test:.3f}",
                *(
                    f"{_number(m)} / {_number(p)} ({_number(ratio(p, m))})"
                    for m, p in scales.values()
                ),
            )
        )
    agreeing = sum(run.outcome_agrees for run in runs)
    lines = [
        "## Theory next to simulation",
        "",
        "Each run's prediction is the reduced dynamics started from the run's own initialisation "
        "and fed its own minibatches (validation.experiments.prediction; reduction: "
        "support-resolved on disjoint supports, exact there; overlap-aware on overlapping ones, "
        "docs/notes/overlap.md). Trajectory error: max over records and the curves feature +1/-1, "
        "noise max/min of |predicted - measured|, over the largest |measured| of those curves. "
        "Predicted test error: "
        "Monte Carlo on fresh test points. T0, T_r in iterations (measured / predicted "
        "(predicted / measured)).",
        "",
        *markdown_table(
            (
                "run",
                "seed",
                "reduction",
                "CNN outcome",
                "predicted outcome",
                "agree",
                "trajectory error",
                "test error CNN / predicted",
                "T0",
                "T_r",
            ),
            rows,
        ),
        "",
        f"Outcome agrees on {agreeing} of {len(runs)} runs with a prediction.",
    ]
    lines += [
        f"- DISAGREES: {run.record.name} (seed {run.record.data_seed}): the CNN "
        f"{run.measured_outcome}, the prediction says {run.predicted_outcome} (final test error "
        f"{run.record.final_value('test_error'):.3f} vs {run.predicted.final()['test_error']:.3f})."
        for run in runs
        if not run.outcome_agrees
    ]
    reasons: dict[str, list[str]] = {}
    for name, reason in missing:
        reasons.setdefault(reason, []).append(name)
    lines += [
        f"- no prediction for {len(names)} run{'s' if len(names) > 1 else ''} "
        f"({', '.join(names) if len(names) <= 4 else f'{names[0]} ... {names[-1]}'}): {reason}"
        for reason, names in reasons.items()
    ]
    return [*lines, ""]


def plot_agreement(runs: Sequence[RunAgreement], title: str, path: Path) -> None:
    """One panel per run (first seed of each name, at most ``MAX_TRAJECTORY_PANELS``): the gap of
    every coefficient curve over epochs (:meth:`RunAgreement.coefficient_gap`), titled with both
    outcomes; PNG and SVG."""
    first: dict[str, RunAgreement] = {}
    for run in runs:
        first.setdefault(run.record.name, run)
    shown = list(first.values())[:MAX_TRAJECTORY_PANELS]
    if not shown:
        return
    plt = pyplot()
    columns = min(len(shown), 4)
    rows = (len(shown) + columns - 1) // columns
    fig, axes = plt.subplots(rows, columns, figsize=(3.8 * columns, 2.9 * rows), squeeze=False)
    for ax, run in zip(axes.flat, shown, strict=False):
        measured = run.measured
        epochs = measured.epoch
        for metric, color, label in COEFFICIENT_CURVES:
            ax.plot(epochs, run.coefficient_gap(metric), color=color, lw=1.0, label=label)
        verdict = "agree" if run.outcome_agrees else "DISAGREE"
        ax.set_title(
            f"{run.record.name} (seed {run.record.data_seed})\nCNN {run.measured_outcome}, "
            f"predicted {run.predicted_outcome}: {verdict}",
            fontsize=7,
        )
        ax.set_xlabel(f"epoch ({run.record.params.iterations_per_epoch} iterations)")
        ax.set_ylabel("|pred - meas| / coefficient scale", fontsize=7)
    for ax in list(axes.flat)[len(shown) :]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=6)
    fig.suptitle(f"{title}: prediction vs measurement, per run", fontsize=10)
    fig.tight_layout()
    save_figure(fig, path)
