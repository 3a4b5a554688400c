"""theorykit.step_amplification: Adam's mean normalised step on a growing coordinate."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from theorykit import ParameterError
from theorykit.step_amplification import growth_amplification

#: The race's two coordinates at the paper's setting (App. D.2, B = 100, 6000 iterations, shipped
#: constants): the best filter's gamma0 at eta, rho0 at R eta (R = 2.935), over the window of
#: Stage I's length at those rates (2994 iterations).
GAMMA0, ETA, RHO0, NOISE_RATE, WINDOW = 0.01867, 5e-5, 0.00814, 2.935 * 5e-5, 2994


def _adam_mean_step(
    start: float, eta: float, q: float, beta1: float, beta2: float, bias_correction: bool, T: int
) -> float:
    """Adam's own recursion (eqs. 3.4-3.5, eps = 0; torch-style bias correction or none) on one
    coordinate whose gradient is x^{q-1}: the mean of its normalised step over T iterations."""
    x, m, v, total = start, 0.0, 0.0, 0.0
    for t in range(1, T + 1):
        g = x ** (q - 1)
        m, v = beta1 * m + (1 - beta1) * g, beta2 * v + (1 - beta2) * g * g
        if bias_correction:
            step = (m / (1 - beta1**t)) / math.sqrt(v / (1 - beta2**t))
        else:
            step = m / math.sqrt(v)
        x += eta * step
        total += step
    return total / T


@pytest.mark.parametrize("beta2", [0.9, 0.99, 0.999])
@pytest.mark.parametrize(
    ("start", "rate", "bias_correction", "excess"),
    [(GAMMA0, ETA, True, 0.02), (RHO0, NOISE_RATE, True, 0.035), (GAMMA0, ETA, False, 0.1),
     (RHO0, NOISE_RATE, False, 0.18)],
)  # fmt: skip
def test_the_fixed_point_approximates_adams_own_recursion_from_above(
    start: float, rate: float, bias_correction: bool, excess: float, beta2: float
) -> None:
    # The model grows x linearly at its mean rate and leaves beta1's lag out; Adam's recursion
    # (beta1 = 0.9) moves x by its actual steps. Measured at these settings the model is high by
    # 0.3-1.5% for the feature and 2.3-3.1% for the noise with bias correction, by 1.3-9% and
    # 2.3-16% without (the first uncorrected steps, up to 6.5 at beta2 = 0.999, make x grow
    # faster than linearly); the bounds are those maxima with a margin, and the model is never
    # below the recursion by more than round-off.
    model = growth_amplification(start, rate, 3.0, 0.9, beta2, bias_correction, WINDOW)
    recursion = _adam_mean_step(start, rate, 3.0, 0.9, beta2, bias_correction, WINDOW)
    assert recursion * (1 - 1e-9) <= model <= recursion * (1 + excess)


@pytest.mark.parametrize("q", [3.0, 4.0])
def test_power_law_growth_remembered_from_the_start_steps_sqrt_2q_minus_1(q: float) -> None:
    # x ~ t from 0 and beta2 -> 1 with bias correction: v_hat is the mean of g^2 ~ t^{2(q-1)}
    # over [1, t], t^{2(q-1)} / (2q - 1), so every step is sqrt(2q - 1); the window's first
    # iterations (a sum, not an integral) keep it 0.6% below at 2000 iterations.
    value = growth_amplification(1e-12, 1.0, q, 0.9, 1 - 1e-9, True, 2000)
    assert value == pytest.approx(math.sqrt(2 * q - 1), rel=0.01)


def test_a_short_memory_or_window_leaves_the_step_at_one() -> None:
    assert growth_amplification(GAMMA0, ETA, 3.0, 0.9, 0.5, True, WINDOW) == pytest.approx(
        1.0, abs=0.005
    )
    assert growth_amplification(GAMMA0, ETA, 3.0, 0.9, 0.999, True, 0.5) == 1.0


@given(st.floats(0.5, 0.99), st.floats(1.0001, 1.01))
def test_a_longer_memory_of_the_growth_steps_further(beta2: float, memory: float) -> None:
    longer = 1 - (1 - beta2) / memory
    assert growth_amplification(GAMMA0, ETA, 3.0, 0.9, longer, True, WINDOW) >= (
        growth_amplification(GAMMA0, ETA, 3.0, 0.9, beta2, True, WINDOW) - 1e-9
    )


def test_a_start_or_rate_that_is_not_positive_is_refused() -> None:
    with pytest.raises(ParameterError, match="start"):
        growth_amplification(0.0, ETA, 3.0, 0.9, 0.999, True, WINDOW)
    with pytest.raises(ParameterError, match="rate"):
        growth_amplification(GAMMA0, -ETA, 3.0, 0.9, 0.999, True, WINDOW)
    with pytest.raises(ParameterError, match="beta2"):
        growth_amplification(GAMMA0, ETA, 3.0, 0.9, 1.0, True, WINDOW)
