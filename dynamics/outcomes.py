"""The outcome of a run and thresholds read off grids: one rule for the reduced dynamics and the
CNN.

The labels follow the paper's regimes, read at a finite horizon (docs/conventions.md):

* **stuck** (Cor 4.3, "stuck at initialisation", which the CNN shows as weights collapsing to 0):
  every weight ends below :data:`COLLAPSE_FRACTION` of the largest initial |weight| (the
  ``weight_max`` metric, first record against last);
* **not fitted**: not stuck, but the final train error is at least :data:`STUCK_TRAIN_ERROR` (the
  horizon ended before the data were fitted);
* **memorises noise** (Thms 4.1/4.4): fitted, final test error at least :data:`FAILED_TEST_ERROR`;
* **learns feature** (Thms 4.2/4.5): fitted, test error below it.

``validation`` applies the same rules to the CNN, so predicted and measured labels compare
directly. Across seeds, a setting memorises when any seed does (:func:`any_memorises`): one
head's reversal is enough to double the test error, and which head reverses is a draw.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from dynamics.trajectory import Trajectory

#: Final train error at or above which a run counts as not fitted (chance is 0.5).
STUCK_TRAIN_ERROR = 0.1
#: Final test error at or above which a fitted run counts as failing to generalise: half way
#: between the mini-batch theorems' o(1) and the large-batch theorems' >= 1/2 - o(1).
FAILED_TEST_ERROR = 0.25
#: A run is stuck when its largest |weight| ends below this fraction of its largest initial one.
COLLAPSE_FRACTION = 0.1
OUTCOMES = ("learns feature", "memorises noise", "not fitted", "stuck")


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
        return "stuck"
    if final["train_error"] >= STUCK_TRAIN_ERROR:
        return "not fitted"
    return "memorises noise" if final["test_error"] >= FAILED_TEST_ERROR else "learns feature"


def outcome(trajectory: Trajectory) -> str:
    """:func:`classify` of a recorded trajectory: its last record against its first."""
    first = {name: float(values[0]) for name, values in trajectory.metrics.items()}
    return classify(trajectory.final(), first)


def any_memorises(outcomes: Sequence[str]) -> str:
    """The outcome of a setting over seeds for the batch boundary: "memorises noise" when any seed
    memorises, else the first seed's outcome."""
    return "memorises noise" if "memorises noise" in outcomes else outcomes[0]


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
    return bracket(batch_sizes, [outcome == "memorises noise" for outcome in outcomes])
