"""Reliability tables and Murphy's decomposition of the Brier score
(:mod:`validation.experiments.reliability`)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from validation.experiments.reliability import (
    PROBABILITY_BINS,
    brier_decomposition,
    reliability_bins,
)

FORECASTS = st.lists(
    st.tuples(st.floats(0.0, 1.0, allow_nan=False), st.booleans()), min_size=1, max_size=60
)


def test_forecasts_fall_in_half_open_bins_and_one_in_the_last() -> None:
    pairs = [(0.0, False), (0.049, True), (0.05, False), (0.5, True), (1.0, True), (0.97, False)]
    bins = reliability_bins(pairs)
    assert [(b.low, b.count) for b in bins] == [(0.0, 2), (0.05, 1), (0.5, 1), (0.95, 2)]
    first, _, _, last = bins
    assert first.predicted == pytest.approx(0.0245) and first.observed == 0.5
    assert last.high == PROBABILITY_BINS[-1] and last.observed == 0.5


@given(FORECASTS)
def test_the_binned_brier_score_is_reliability_minus_resolution_plus_uncertainty(pairs) -> None:
    bins = reliability_bins(pairs)
    assert sum(b.count for b in bins) == len(pairs)
    means = {}
    for b in bins:
        for p, _ in pairs:
            if b.low <= p < b.high or (b.high == 1.0 and p == 1.0):
                means[p] = b.predicted
    direct = sum((means[p] - hit) ** 2 for p, hit in pairs) / len(pairs)
    terms = brier_decomposition(bins)
    assert terms.binned == pytest.approx(direct, abs=1e-12)
    assert terms.reliability >= 0 and terms.resolution >= 0
    assert terms.resolution <= terms.uncertainty + 1e-12


def test_a_calibrated_forecast_has_no_reliability_term_and_the_base_rate_no_resolution() -> None:
    # 0.1 forecast ten times with one event, 0.8 five times with four: calibrated and sharp
    pairs = [(0.1, i == 0) for i in range(10)] + [(0.8, i < 4) for i in range(5)]
    terms = brier_decomposition(reliability_bins(pairs))
    assert terms.reliability == pytest.approx(0.0, abs=1e-15)
    base = 5 / 15
    assert terms.uncertainty == pytest.approx(base * (1 - base))
    assert terms.resolution == pytest.approx((10 * (0.1 - base) ** 2 + 5 * (0.8 - base) ** 2) / 15)
    # the base rate forecast for every run: one bin, no resolution, reliability 0
    flat = brier_decomposition(reliability_bins([(base, hit) for _, hit in pairs]))
    assert flat.resolution == pytest.approx(0.0, abs=1e-15)
    assert flat.binned == pytest.approx(flat.uncertainty)
