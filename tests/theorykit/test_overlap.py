"""theorykit.overlap: the competition factors are the expectations they claim to be, in closed form,
tabulated and inverted."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import integrate

from theorykit import tang2025_synthetic
from theorykit.overlap import (
    ADAM_COMPETITION,
    SHARED_SAMPLES,
    SHARED_SAMPLES_PER_BATCH,
    SIGN_COMPETITION,
    adam_competition,
    adam_competition_inverse,
    sign_competition,
)


def _adam_by_quadrature(x: float) -> float:
    """E[z^2 / sqrt(z^2 + x)] / E|z| for z ~ N(0, 1), by adaptive quadrature."""
    value, _ = integrate.quad(
        lambda z: 2 * z * z / math.sqrt(z * z + x) * math.exp(-z * z / 2) / math.sqrt(2 * math.pi),
        0.0,
        math.inf,
        epsabs=1e-14,
        epsrel=1e-12,
    )
    return value / math.sqrt(2 / math.pi)


@pytest.mark.parametrize("x", [1e-6, 0.1, 1.0, 7.3, 100.0, 2000.0, 5e4])
def test_adam_competition_closed_form_is_the_gaussian_expectation(x: float) -> None:
    # quadrature to 1e-12: the closed form (Bessel functions) and the table agree with it to 1e-9
    # and 1e-7 (the table's stated accuracy); the symbolic form's e^{x/4} overflows float64 beyond
    # x ~ 2800 (documented), the table does not.
    expected = _adam_by_quadrature(x)
    if x < 2800:
        assert float(ADAM_COMPETITION(x=x)) == pytest.approx(expected, rel=1e-9)
    assert float(adam_competition(x)) == pytest.approx(expected, rel=1e-7)


def test_adam_competition_limits() -> None:
    assert adam_competition(0.0) == 1.0 and adam_competition(np.inf) == 0.0
    large = 1e10  # kappa ~ sqrt(pi / (2 x)) (1 - 3 / (2 x))
    assert float(adam_competition(large)) == pytest.approx(
        math.sqrt(math.pi / (2 * large)), rel=1e-9
    )


@given(st.floats(1e-7, 1e11))
def test_adam_competition_is_decreasing_and_inverted(x: float) -> None:
    kappa = float(adam_competition(x))
    assert 0 < kappa <= 1
    assert float(adam_competition(1.01 * x)) < kappa
    assert float(adam_competition_inverse(kappa)) == pytest.approx(x, rel=1e-6)


def test_sign_competition_is_the_gaussian_expectation_by_monte_carlo() -> None:
    # E[|xi| sgn(c xi + N)] / E|xi| with xi ~ N(0, 1), c = 1, N ~ N(0, x): 400 000 draws give a
    # standard error below 0.002; 0.008 is four of them.
    rng = np.random.default_rng(0)
    xi = rng.normal(size=400_000)
    for x in (0.25, 1.0, 4.0):
        noise = rng.normal(size=xi.size) * math.sqrt(x)
        estimate = (np.abs(xi) * np.sign(xi) * np.sign(xi + noise)).mean() / np.abs(xi).mean()
        assert estimate == pytest.approx(float(sign_competition(x)), abs=0.008)
        assert float(SIGN_COMPETITION(x=x)) == pytest.approx(float(sign_competition(x)), rel=1e-12)


def test_sharing_counts_of_the_paper_setting() -> None:
    # App. D.2: 199 other samples, each holding a given coordinate with probability 100/999.
    params = tang2025_synthetic(B=16)
    assert SHARED_SAMPLES.at(params) == pytest.approx(199 * 100 / 999)
    assert SHARED_SAMPLES_PER_BATCH.at(params) == pytest.approx(15 * 100 / 999)
