"""The reliability of probability forecasts in ``theorykit compare``: forecasts binned by their
probability against the observed frequency, and the Brier score's decomposition over those bins
(Murphy 1973, "A new vector partition of the probability score").

Binned, every forecast of a bin is replaced by the bin's mean forecast p_k; over N forecasts, n_k
in bin k with observed frequency o_k and overall frequency o, the binned Brier score is exactly

    (1/N) sum_k n_k [(p_k - o_k)^2 + o_k (1 - o_k)] = REL - RES + UNC,

REL = (1/N) sum_k n_k (p_k - o_k)^2 (**reliability**: how far the bins' forecasts sit from what
happened in them, 0 for a calibrated forecast), RES = (1/N) sum_k n_k (o_k - o)^2 (**resolution**:
how far the bins' outcomes sit from the base rate, larger is better) and UNC = o (1 - o)
(**uncertainty**: the base rate's own Brier score). The unbinned score differs from the binned one
by the spread of the forecasts within each bin.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterable, Sequence

from validation.reports.tables import markdown_table

#: Bin edges of the predicted probability; the last bin holds 1 itself.
PROBABILITY_BINS = (0.0, 0.05, 0.25, 0.5, 0.75, 0.95, 1.0)


@dataclasses.dataclass(frozen=True)
class ReliabilityBin:
    """The forecasts whose probability fell in [low, high): how many, their mean probability and
    the observed frequency of the event among them."""

    low: float
    high: float
    count: int
    predicted: float
    observed: float


def reliability_bins(pairs: Iterable[tuple[float, bool]]) -> list[ReliabilityBin]:
    """(probability, outcome) pairs binned by :data:`PROBABILITY_BINS`; empty bins left out."""
    pairs = list(pairs)
    bins = []
    for low, high in itertools.pairwise(PROBABILITY_BINS):
        inside = [(p, hit) for p, hit in pairs if low <= p < high or (high == 1.0 and p == 1.0)]
        if inside:
            bins.append(
                ReliabilityBin(
                    low,
                    high,
                    len(inside),
                    sum(p for p, _ in inside) / len(inside),
                    sum(hit for _, hit in inside) / len(inside),
                )
            )
    return bins


@dataclasses.dataclass(frozen=True)
class BrierDecomposition:
    """Murphy's terms of the binned Brier score (the module docstring): binned = reliability -
    resolution + uncertainty."""

    reliability: float
    resolution: float
    uncertainty: float

    @property
    def binned(self) -> float:
        """The Brier score of the forecasts replaced by their bins' means."""
        return self.reliability - self.resolution + self.uncertainty


def brier_decomposition(bins: Sequence[ReliabilityBin]) -> BrierDecomposition:
    """:class:`BrierDecomposition` of :func:`reliability_bins`' bins (at least one forecast)."""
    total = sum(b.count for b in bins)
    if total == 0:
        raise ValueError("a Brier decomposition needs at least one forecast")
    base = sum(b.count * b.observed for b in bins) / total
    return BrierDecomposition(
        reliability=sum(b.count * (b.predicted - b.observed) ** 2 for b in bins) / total,
        resolution=sum(b.count * (b.observed - base) ** 2 for b in bins) / total,
        uncertainty=base * (1 - base),
    )


def reliability_table(bins: Sequence[ReliabilityBin], unit: str, observed: str) -> list[str]:
    """The bins as a markdown table: ``unit`` names what is counted (heads, runs), ``observed``
    the event's column (e.g. "observed fraction reversed")."""
    return markdown_table(
        ("predicted probability", unit, "mean prediction", observed),
        [
            (f"[{b.low:g}, {b.high:g})", b.count, f"{b.predicted:.2f}", f"{b.observed:.2f}")
            for b in bins
        ],
    )
