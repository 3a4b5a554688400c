"""How well a predicted trajectory matches a measured CNN run, record by record (torch-free).

:class:`RunAgreement` pairs a stored CNN run (:class:`validation.runs.records.RunRecord`) with the
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
  (:func:`dynamics.outcomes.measured_time_scales`, in iterations), with their ratio.

**Agreement** is one stated, multi-criterion test (:meth:`RunAgreement.criteria`), used by every
report and by ``SettingComparison.agrees``; a run agrees only when every criterion that applies
holds:

1. ``outcome`` -- the same outcome class (:func:`dynamics.outcomes.outcome`);
2. ``head signs`` -- each head's final feature coefficient (feature +1, feature -1) has the same
   sign; not applied where either run collapsed (stuck: its weights are at round-off level);
3. ``trajectory`` -- the trajectory error at most :func:`trajectory_bound` of the reduction
   (:data:`EXACT_TRAJECTORY_BOUND` for the exact support-resolved reduction on disjoint supports,
   :data:`OVERLAP_TRAJECTORY_BOUND` otherwise);
4. ``T0``, ``T_r`` -- predicted / measured within a factor :data:`TIME_SCALE_FACTOR` where both
   runs have the time; two times read at the same record count as agreeing (the recording grid
   cannot tell them apart) and are shown as such;
5. ``test error`` -- final test errors within :data:`TEST_ERROR_GAP` (absolute); not applied
   where either run collapsed (a network at round-off level classifies by round-off, so its test
   error is decided there).

The predicted test error is a Monte Carlo estimate on test points of the run's own distribution
(the reduced model has no test set of its own). The reports show the test in
:mod:`validation.reports.agreement_report`.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Mapping, Sequence

import numpy as np

from dynamics.outcomes import measured_time_scales, outcome
from dynamics.trajectory import Trajectory
from theorykit.errors import ParameterError
from theorykit.outcome_labels import STUCK
from validation.reports.figures import COEFFICIENT_METRICS
from validation.runs.records import RunRecord

#: The coefficient curves of the trajectory error (docs: ``dynamics.trajectory.METRICS``).
#: The trajectory error the overlap-aware reduction stays within on CNN-sized settings
#: (``theorykit.testing.strategies.small_params``: n <= 24, <= 300 iterations), for SignSGD(W) and
#: Adam(W). Measured over 112 drawn settings (2026-12-02; drawn with
#: ``small_params``, ``compare_setting(..., supports="overlapping")``): median 0.007, 90% 0.18,
#: 95% 0.28, max 0.64; the largest are SignSGD at n <= 10 and B <= 3, where one coordinate's sign
#: flip is a large share of the scale. 0.75 covers the largest seen; the outcome class agreed on
#: 109 of the 112. Gradient descent and disjoint supports are exact. On the paper's setting
#: (n = 200, thousands of iterations) the errors are larger: the coefficient check.
OVERLAP_TRAJECTORY_BOUND = 0.75
#: Trajectory error of the exact reduction (support-resolved, disjoint supports): float64 round-off.
#: ``tests/agreement/test_prediction.py`` measures <= 4e-16 relative over a few hundred steps; 1e-6
#: leaves room for the round-off of 10^6-step runs and still fails any modelling difference (the
#: shared-displacement model misses by > 1e-6 after 10 steps, ``tests/agreement``).
EXACT_TRAJECTORY_BOUND = 1e-6
#: Predicted / measured T0 or T_r agree within this factor; the accuracy table of ``theorykit
#: compare`` uses the same band (``validation.experiments.comparison_scoring.ACCURACY_FACTOR``).
TIME_SCALE_FACTOR = 2.0
#: Final test errors agree within this absolute gap: below half the distance (0.25) between the
#: test-error levels of 0, 1 and 2 reversed heads (about 0, 0.5 and 1), so runs at different levels
#: never agree, and about 10 standard errors of the difference of two 2000-point Monte Carlo
#: estimates (<= 0.016), so sampling alone does not make a run disagree.
TEST_ERROR_GAP = 0.15
#: The criteria of :meth:`RunAgreement.criteria`, in report order.
CRITERIA = ("outcome", "head signs", "trajectory", "T0", "T_r", "test error")
#: Exact reductions: (reduction, supports) where the prediction is the CNN to round-off.
EXACT_REDUCTIONS = {("support-resolved", "disjoint")}
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


def trajectory_bound(reduction: str, supports: str) -> float:
    """The trajectory error a prediction by ``reduction`` on ``supports`` must stay within:
    :data:`EXACT_TRAJECTORY_BOUND` where the reduction is exact, :data:`OVERLAP_TRAJECTORY_BOUND`
    elsewhere."""
    exact = (reduction, supports) in EXACT_REDUCTIONS
    return EXACT_TRAJECTORY_BOUND if exact else OVERLAP_TRAJECTORY_BOUND


@dataclasses.dataclass(frozen=True)
class Criterion:
    """One criterion of the agreement test at one run: ``holds`` is None where it does not apply
    (``detail`` says why), else whether it holds; ``detail`` is what the report shows."""

    name: str
    holds: bool | None
    detail: str

    @property
    def failed(self) -> bool:
        return self.holds is False


def ratio(predicted: float | None, measured: float | None) -> float | None:
    """predicted / measured, None where either is missing or the measured value is 0."""
    if predicted is None or measured is None or measured == 0:
        return None
    return predicted / measured


def _time_criterion(
    name: str, measured: float | None, predicted: float | None, spacing: float
) -> Criterion:
    """``name`` (T0 or T_r) within :data:`TIME_SCALE_FACTOR` where both runs have it."""
    if measured is None or predicted is None:
        return Criterion(name, None, f"{_number(measured)} / {_number(predicted)} (n/a)")
    shown = f"{_number(measured)} / {_number(predicted)}"
    if measured == predicted:
        return Criterion(name, True, f"{shown} (same record; resolution {spacing:.3g})")
    factor = predicted / measured if measured > 0 else math.inf
    holds = 1 / TIME_SCALE_FACTOR <= factor <= TIME_SCALE_FACTOR
    return Criterion(name, holds, f"{shown} ({factor:.3g})")


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
        return self.record.outcome

    @property
    def predicted_outcome(self) -> str:
        return outcome(self.predicted)

    @property
    def outcome_agrees(self) -> bool:
        return self.measured_outcome == self.predicted_outcome

    @property
    def bound(self) -> float:
        """:func:`trajectory_bound` of this run's reduction and supports."""
        return trajectory_bound(self.reduction, self.record.supports)

    def criteria(self, trajectory_tolerance: float | None = None) -> dict[str, Criterion]:
        """Every criterion of the agreement test (module docstring), by name (:data:`CRITERIA`);
        ``trajectory_tolerance`` replaces :attr:`bound`. The reports read them several times per
        run: at the stated bound they are computed once."""
        if trajectory_tolerance is None:
            return self._stated_criteria
        return self._criteria_at(trajectory_tolerance)

    @functools.cached_property
    def _stated_criteria(self) -> dict[str, Criterion]:
        return self._criteria_at(self.bound)

    def _criteria_at(self, bound: float) -> dict[str, Criterion]:
        measured, predicted = self.measured.final(), self.predicted.final()
        found = {
            "outcome": Criterion(
                "outcome",
                self.outcome_agrees,
                f"{self.measured_outcome} / {self.predicted_outcome}",
            )
        }
        signs = [(measured[h], predicted[h]) for h in ("feature_pos", "feature_neg")]
        shown = " ; ".join(f"{m:+.2g} / {p:+.2g}" for m, p in signs)
        collapsed = STUCK in (self.measured_outcome, self.predicted_outcome)
        if collapsed:
            found["head signs"] = Criterion("head signs", None, "n/a (collapsed: round-off)")
        else:
            same = all(
                math.isfinite(m) and math.isfinite(p) and np.sign(m) == np.sign(p) for m, p in signs
            )
            found["head signs"] = Criterion("head signs", same, shown)
        error = self.trajectory_error
        found["trajectory"] = Criterion(
            "trajectory", bool(error <= bound), f"{error:.3g} (bound {bound:g})"
        )
        for name, (value, guess) in self.time_scales().items():
            found[name] = _time_criterion(name, value, guess, self.record_spacing)
        errors = f"{measured['test_error']:.3f} / {predicted['test_error']:.3f}"
        if collapsed:
            found["test error"] = Criterion("test error", None, f"n/a (collapsed: {errors})")
        else:
            gap = abs(predicted["test_error"] - measured["test_error"])
            found["test error"] = Criterion("test error", bool(gap <= TEST_ERROR_GAP), errors)
        return found

    @property
    def record_spacing(self) -> float:
        """The largest gap between two records, in iterations: the resolution of T0 and T_r."""
        epochs = np.asarray(self.record.epoch, dtype=float)
        steps = np.diff(epochs) * self.record.params.iterations_per_epoch
        return float(steps.max()) if steps.size else 0.0

    def agrees(self, trajectory_tolerance: float | None = None) -> bool:
        """Every criterion that applies holds (:meth:`criteria`)."""
        return not any(c.failed for c in self.criteria(trajectory_tolerance).values())

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
