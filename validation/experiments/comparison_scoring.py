"""Whether a prediction agrees with a CNN bracket, and the cells the tables of ``theorykit compare``
write for brackets and ratios.

A CNN bracket is (largest value on the side of the first outcome, smallest value past the
transition) on a run's grid; where the grid shows no transition it is open: (largest value, inf) or
(0, smallest value). A prediction agrees with a closed bracket within :data:`ACCURACY_FACTOR` of its
geometric mean, with an open one only beyond the grid.
"""

from __future__ import annotations

import math

from validation.reports.agreement import TIME_SCALE_FACTOR

#: Within this factor a prediction counts as accurate (the 2x band of the table and the figure):
#: the factor of the agreement test's time-scale criterion, so that one 2x rule judges both.
ACCURACY_FACTOR = TIME_SCALE_FACTOR


def within(measured: float, predicted: float) -> bool:
    """Measured / predicted in [1/2, 2] (:data:`ACCURACY_FACTOR`)."""
    return 1 / ACCURACY_FACTOR <= measured / predicted <= ACCURACY_FACTOR


def is_open(interval: tuple[float, float]) -> bool:
    """Whether a measured interval is an open bracket: (largest, inf) or (0, smallest)."""
    return math.isinf(interval[1]) or interval[0] == 0


def agrees(interval: tuple[float, float], predicted: float) -> bool:
    """Whether a prediction agrees with a measured interval: within :data:`ACCURACY_FACTOR` of a
    closed bracket's geometric mean; beyond the grid's last value for an open bracket (largest,
    inf) -- a prediction inside the grid claims a transition the CNN would have shown -- and
    below the first for (0, smallest)."""
    low, high = interval
    if math.isinf(high):
        return predicted > low
    if low == 0:
        return predicted < high
    return within(math.sqrt(low * high), predicted)


def interval_text(interval: tuple[float, float]) -> str:
    """A measured interval as the tables show it, open brackets in words."""
    low, high = interval
    if math.isinf(high):
        return f"> {low:.4g} (none in grid)"
    if low == 0:
        return f"< {high:.4g} (all of the grid)"
    return f"({low:.4g}, {high:.4g})"


def ratio_text(measured: float | None, predicted: float | None) -> str:
    """measured / predicted to two decimals; "n/a" without both or without a finite positive
    prediction."""
    if measured is None or predicted is None or not predicted > 0 or not math.isfinite(predicted):
        return "n/a"
    return f"{measured / predicted:.2f}"


def describe_miss(label: str, interval: tuple[float, float], predicted: float) -> str:
    """``label (CNN / theorykit ratio)`` for a closed bracket; for an open one, the CNN's side of
    the grid (:func:`interval_text`'s words) and the prediction."""
    if is_open(interval):
        return f"{label} (CNN {interval_text(interval)}; theorykit {predicted:.3g})"
    return f"{label} ({math.sqrt(interval[0] * interval[1]) / predicted:.2f})"
