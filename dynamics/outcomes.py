"""The outcome of a run and thresholds read off grids: one rule for the reduced dynamics and the
CNN.

The labels (:mod:`theorykit.outcome_labels`, shared with the theorems' and the finite-size
predictions) follow the paper's regimes, read at a finite horizon (docs/conventions.md):

* **stuck** (Cor 4.3, "stuck at initialisation", which the CNN shows as weights collapsing to 0):
  every weight ends below :data:`COLLAPSE_FRACTION` of the largest initial |weight| (the
  ``weight_max`` metric, first record against last);
* **not fitted**: not stuck, but the final train error is at least :data:`STUCK_TRAIN_ERROR` (the
  horizon ended before the data were fitted);
* **memorises noise** (Thms 4.1/4.4): fitted, final test error at least :data:`FAILED_TEST_ERROR`;
* **learns feature** (Thms 4.2/4.5): fitted, test error below it.

``validation`` applies the same rules to the CNN, so predicted and measured labels compare
directly. Across seeds, a setting memorises when any seed does (:func:`any_memorises`): one
head's reversal is enough to double the test error, and which head reverses is a draw. The time
scales of a recorded trajectory (Stage I's end, a head's reversal) are read by
:func:`measured_time_scales`, again for both.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from dynamics.trajectory import Trajectory
from theorykit.errors import ParameterError
from theorykit.outcome_labels import LEARNS, MEMORISES, NOT_FITTED, STUCK
from theorykit.outcome_labels import OUTCOMES as OUTCOMES  # re-exported: what classify gives

#: Final train error at or above which a run counts as not fitted (chance is 0.5).
STUCK_TRAIN_ERROR = 0.1
#: Final test error at or above which a fitted run counts as failing to generalise: half way
#: between the mini-batch theorems' o(1) and the large-batch theorems' >= 1/2 - o(1).
FAILED_TEST_ERROR = 0.25
#: A run is stuck when its largest |weight| ends below this fraction of its largest initial one.
COLLAPSE_FRACTION = 0.1


def is_collapsed(initial_weight_max: float, final_weight_max: float) -> bool:
    """Every weight ends below :data:`COLLAPSE_FRACTION` of the largest initial |weight| (NaN, a
    failed run, never counts)."""
    return final_weight_max < COLLAPSE_FRACTION * initial_weight_max


def classify(final: Mapping[str, float], initial: Mapping[str, float] | None = None) -> str:
    """One of :data:`OUTCOMES` from a run's final metrics (and its first record, which the collapse
    rule needs; without it, or without ``weight_max``, a run is never stuck)."""
    if (
        initial is not None
        and "weight_max" in final
        and "weight_max" in initial
        and is_collapsed(initial["weight_max"], final["weight_max"])
    ):
        return STUCK
    if final["train_error"] >= STUCK_TRAIN_ERROR:
        return NOT_FITTED
    return MEMORISES if final["test_error"] >= FAILED_TEST_ERROR else LEARNS


def outcome(trajectory: Trajectory) -> str:
    """:func:`classify` of a recorded trajectory: its last record against its first."""
    first = {name: float(values[0]) for name, values in trajectory.metrics.items()}
    return classify(trajectory.final(), first)


def any_memorises(outcomes: Sequence[str]) -> str:
    """The outcome of a setting over seeds for the batch boundary: "memorises noise" when any seed
    memorises, else the first seed's outcome."""
    return MEMORISES if MEMORISES in outcomes else outcomes[0]


def bracket(values: Sequence[float], flagged: Sequence[bool]) -> tuple[float, float] | None:
    """(last value not flagged, the next value, flagged) at the first such transition on an
    ascending grid, or None without one: e.g. (largest lam that trains, smallest stuck lam), or
    (largest B that learns the feature, smallest B that memorises noise)."""
    for k in range(len(values) - 1):
        if not flagged[k] and flagged[k + 1]:
            return values[k], values[k + 1]
    return None


def open_bracket(values: Sequence[float], flagged: Sequence[bool]) -> tuple[float, float]:
    """:func:`bracket`, or without a transition the interval the grid leaves open: (largest value,
    inf) when no value is flagged (the threshold lies beyond the grid), (0, smallest value) when
    the first one already is."""
    found = bracket(values, flagged)
    if found is not None:
        return found
    return (0.0, values[0]) if flagged[0] else (values[-1], math.inf)


def memorisation_boundary(
    batch_sizes: Sequence[int], outcomes: Sequence[str]
) -> tuple[float, float] | None:
    """(largest B that learns the feature, next B, memorises noise) from :func:`classify` outcomes
    on an ascending batch grid: the measured side of ``theorykit.batch_race.critical_batch_size``;
    None without that transition."""
    return bracket(batch_sizes, [outcome == MEMORISES for outcome in outcomes])


def measured_time_scales(
    iterations: Sequence[float], metrics: dict[str, Sequence[float]]
) -> dict[str, float | None]:
    """Stage-I end and reversal time read off a recorded trajectory (reduced dynamics or CNN: the
    metric names of :data:`dynamics.trajectory.METRICS`), for ``theorykit.time_scales``;
    ``iterations`` (K,) is the iteration of each record. Resolution is the recording interval.

    * ``stage1_end``: the first recorded iteration at which the data loss is at most half its
      initial value: |ell_{j,i}| is no longer Theta(1), the defining property of Stage I (Lemmas
      5.1, C.3-C.6), whichever pattern fitted the data; None if never.
    * ``reversal_pos`` / ``reversal_neg``: for head j, the iteration at which max_r <w_{j,r}, j v>
      peaks, when it then falls back by at least half of its rise since the start (Lemma C.3/C.13:
      -Theta(eta) per iteration after T_r); None if it does not. ``reversal``: the earlier of the
      two, or None.
    """
    steps = np.asarray(iterations, dtype=float)
    if steps.ndim != 1 or len(steps) < 2 or np.any(np.diff(steps) <= 0):
        raise ParameterError("iterations", list(steps), "at least two records, strictly increasing")
    loss = np.asarray(metrics["loss"], dtype=float)
    fitted = np.flatnonzero(loss <= loss[0] / 2)
    result: dict[str, float | None] = {
        "stage1_end": float(steps[fitted[0]]) if len(fitted) else None
    }
    for head in ("pos", "neg"):
        feature = np.asarray(metrics[f"feature_{head}"], dtype=float)
        peak = int(np.argmax(feature))
        rise = feature[peak] - feature[0]
        fell = rise > 0 and feature[-1] <= feature[peak] - rise / 2
        result[f"reversal_{head}"] = float(steps[peak]) if fell else None
    reversals = [
        value for value in (result["reversal_pos"], result["reversal_neg"]) if value is not None
    ]
    result["reversal"] = min(reversals) if reversals else None
    return result
