"""The outcome of a run and thresholds read off grids: one rule for the reduced dynamics and the
CNN.

The labels follow the paper's three regimes: Cor 4.3 (**stuck**: training does not fit, final train
error >= :data:`STUCK_TRAIN_ERROR`), Thms 4.1/4.4 (**memorises noise**: the fitted model generalises
badly, test error >= :data:`FAILED_TEST_ERROR`) and Thms 4.2/4.5 (**learns feature**). A run has
*collapsed* (Cor 4.3's "stuck at initialisation" read as the weights going to 0) when its best
feature coefficient ends below :data:`COLLAPSE_FRACTION` of its initial value.

``validation`` applies the same rules to the CNN, so predicted and measured labels compare directly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

#: Final train error at or above which a run counts as not trained (chance is 0.5).
STUCK_TRAIN_ERROR = 0.1
#: Final test error at or above which a fitted run counts as failing to generalise: half way between
#: the mini-batch theorems' o(1) and the large-batch theorems' >= 1/2 - o(1).
FAILED_TEST_ERROR = 0.25
OUTCOMES = ("learns feature", "memorises noise", "stuck")
# : A run has collapsed when its best feature coefficient ends below this fraction of its initial
# value.
COLLAPSE_FRACTION = 0.5


def classify(final: Mapping[str, float]) -> str:
    """One of :data:`OUTCOMES` from a run's final train and test error."""
    if final["train_error"] >= STUCK_TRAIN_ERROR:
        return "stuck"
    return "memorises noise" if final["test_error"] >= FAILED_TEST_ERROR else "learns feature"


def is_collapsed(start: float, end: float) -> bool:
    """Cor 4.3's outcome by collapse: the best feature coefficient ends below
    :data:`COLLAPSE_FRACTION` of its initial value (NaN, a failed run, never counts)."""
    return end < COLLAPSE_FRACTION * start


def bracket(values: Sequence[float], flagged: Sequence[bool]) -> tuple[float, float] | None:
    """(last value not flagged, the next value, flagged) at the first such transition on an
    ascending grid, or None without one: e.g. (largest lam that trains, smallest stuck lam), or
    (largest B that learns the feature, smallest B that memorises noise)."""
    for k in range(len(values) - 1):
        if not flagged[k] and flagged[k + 1]:
            return values[k], values[k + 1]
    return None


def memorisation_boundary(
    batch_sizes: Sequence[int], outcomes: Sequence[str]
) -> tuple[float, float] | None:
    """(largest B that learns the feature, next B, memorises noise) from :func:`classify` outcomes
    on an ascending batch grid: the measured side of ``theorykit.batch_race.critical_batch_size``;
    None without that transition."""
    return bracket(batch_sizes, [outcome == "memorises noise" for outcome in outcomes])
