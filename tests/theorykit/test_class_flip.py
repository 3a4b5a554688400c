"""theorykit.class_flip: every filter's linear race in closed form against the step-by-step race,
and the class flips it implies (docs/notes/overlap.md §9)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from theorykit.batch_race import race
from theorykit.class_flip import FLIP_DRAWS, filter_coefficient, flipped_classes
from theorykit.params import tang2025_synthetic

ETA = 1e-4


def _stepped(gamma0: float, R: float, A: float, rho0: float, steps: int) -> float:
    """The race one iteration at a time: a sign-type step of ETA on gamma, towards the class the
    filter favours while rho > A |gamma|, back towards 0 otherwise (gamma > 0 rises while
    rho < A gamma); rho grows by R ETA."""
    gamma, rho = gamma0, rho0
    for _ in range(steps):
        noise_wins = rho > A * abs(gamma)
        if gamma > 0:
            gamma += -ETA if noise_wins else ETA
        else:
            gamma += -ETA if noise_wins else ETA
            gamma = gamma if noise_wins else min(gamma, 0.0)
        rho += R * ETA
    return gamma


@settings(max_examples=60, deadline=None)
@given(
    gamma0=st.floats(-0.03, 0.03).filter(lambda g: abs(g) > 1e-4),
    R=st.floats(0.5, 6.0),
    A=st.floats(1.2, 4.0),
    rho0=st.floats(0.0, 0.02),
    steps=st.integers(0, 3000),
)
def test_closed_form_follows_the_stepped_race(
    gamma0: float, R: float, A: float, rho0: float, steps: int
) -> None:
    # The closed form switches at the continuous crossing times, the steps one iteration late at
    # most, and where the balance rho = A |gamma| holds the steps chatter by one step about it:
    # two steps of ETA bound the difference.
    closed = float(filter_coefficient(gamma0, R, A, rho0, ETA, steps))
    assert closed == pytest.approx(_stepped(gamma0, R, A, rho0, steps), abs=2 * ETA)


def test_a_positive_filter_rises_then_reverses_at_twice_t_r() -> None:
    gamma0, R, A, rho0 = 0.02, 4.0, 2.0, 0.01
    t_r = (A * gamma0 - rho0) / (ETA * (R - A))
    t_zero = 2 * t_r + gamma0 / ETA
    assert float(filter_coefficient(gamma0, R, A, rho0, ETA, t_r)) == pytest.approx(
        gamma0 + ETA * t_r
    )
    assert float(filter_coefficient(gamma0, R, A, rho0, ETA, t_zero)) == pytest.approx(
        0.0, abs=1e-15
    )
    assert float(filter_coefficient(gamma0, R, A, rho0, ETA, t_zero + 100)) == pytest.approx(
        -100 * ETA
    )


def test_below_the_reversal_ratio_a_negative_filter_holds_the_balance() -> None:
    gamma0, R, A, rho0, T = -0.02, 1.5, 2.0, 0.005, 1e6
    assert float(filter_coefficient(gamma0, R, A, rho0, ETA, T)) == pytest.approx(
        -(rho0 + R * ETA * T) / A
    )


def _flips(R: float, A: float, horizon: float, spread: float = 0.0) -> tuple[float, ...]:
    return flipped_classes(20, 0.01, R, A, 0.002, ETA, horizon, spread)


def test_the_probabilities_of_0_1_2_flipped_classes_add_to_one() -> None:
    flips = _flips(2.5, 2.0, 2000, spread=0.4)
    assert sum(flips) == pytest.approx(1.0)
    assert all(value * FLIP_DRAWS == pytest.approx(round(value * FLIP_DRAWS)) for value in flips)


def test_no_class_flips_below_the_reversal_ratio_at_any_horizon() -> None:
    assert _flips(1.9, 2.0, 1e9) == (1.0, 0.0, 0.0)


def test_both_classes_flip_above_it_once_the_horizon_is_long() -> None:
    assert _flips(2.1, 2.0, 1e9) == (0.0, 0.0, 1.0)


def test_more_noise_never_flips_fewer_classes() -> None:
    unflipped = [_flips(R, 2.0, 3000, spread=0.4)[0] for R in np.linspace(1.0, 8.0, 29)]
    assert all(later <= earlier for earlier, later in itertools.pairwise(unflipped))
    assert unflipped[0] == 1.0 and unflipped[-1] < 0.05


@pytest.mark.parametrize("B", [40, 60, 80, 100, 150, 200])
def test_a_run_memorises_at_least_as_often_as_a_head_reverses(B: int) -> None:
    # A reversed best filter flips its class, so the flip probability bounds the reversal's
    # 1 - (1 - P_rev)^2 from above; P_rev integrates gamma0 on quantiles and the flips sample it
    # with FLIP_DRAWS draws, whose error is at most 0.5 / sqrt(4096) = 0.008: 3 of that.
    at = race(tang2025_synthetic(optimizer="adam", lam=1e-5, B=B))
    reversal = 1 - (1 - at.reversal_probability) ** 2
    assert at.memorisation_probability() >= reversal - 3 * 0.5 / math.sqrt(FLIP_DRAWS)
