"""theorykit.step_amplification: Adam's mean normalised step on a growing coordinate."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from theorykit import ParameterError
from theorykit.step_amplification import growth_amplification

#: The paper's setting (App. D.2): the best filter's gamma0 and eta, q = 3, over Stage I's 1530
#: iterations (the race's T0 there).
GAMMA0, ETA, STAGE1 = 0.0258, 5e-5, 1530


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


@pytest.mark.parametrize(
    ("bias_correction", "beta2", "tolerance"),
    [(True, 0.9, 0.03), (True, 0.99, 0.03), (True, 0.999, 0.03), (False, 0.99, 0.1),
     (False, 0.999, 0.1)],
)  # fmt: skip
def test_the_fixed_point_is_adams_own_recursion_on_a_growing_coordinate(
    bias_correction: bool, beta2: float, tolerance: float
) -> None:
    # The model grows x linearly at its mean rate and leaves beta1's lag out; Adam's recursion
    # (beta1 = 0.9) grows x as it steps. At the paper's setting they differ by at most 1.7% with
    # bias correction (beta2 = 0.99), so 3% separates an error in the recursion from the model's
    # approximation; without it the first steps, up to 6.5 at beta2 = 0.999, grow x faster than
    # linearly and the model is 8% above the recursion there (tolerance 10%).
    model = growth_amplification(GAMMA0, ETA, 3.0, 0.9, beta2, bias_correction, STAGE1)
    recursion = _adam_mean_step(GAMMA0, ETA, 3.0, 0.9, beta2, bias_correction, STAGE1)
    assert model == pytest.approx(recursion, rel=tolerance)


@pytest.mark.parametrize("q", [3.0, 4.0])
def test_power_law_growth_remembered_from_the_start_steps_sqrt_2q_minus_1(q: float) -> None:
    # x ~ t from 0 and beta2 -> 1 with bias correction: v_hat is the mean of g^2 ~ t^{2(q-1)}
    # over [1, t], t^{2(q-1)} / (2q - 1), so every step is sqrt(2q - 1); the window's first
    # iterations (a sum, not an integral) keep it 0.6% below at 2000 iterations.
    value = growth_amplification(1e-12, 1.0, q, 0.9, 1 - 1e-9, True, 2000)
    assert value == pytest.approx(math.sqrt(2 * q - 1), rel=0.01)


def test_a_short_memory_or_window_leaves_the_step_at_one() -> None:
    assert growth_amplification(GAMMA0, ETA, 3.0, 0.9, 0.5, True, STAGE1) == pytest.approx(
        1.0, abs=0.005
    )
    assert growth_amplification(GAMMA0, ETA, 3.0, 0.9, 0.999, True, 0.5) == 1.0


@given(st.floats(0.5, 0.99), st.floats(1.0001, 1.01))
def test_a_longer_memory_of_the_growth_steps_further(beta2: float, memory: float) -> None:
    longer = 1 - (1 - beta2) / memory
    assert growth_amplification(GAMMA0, ETA, 3.0, 0.9, longer, True, STAGE1) >= (
        growth_amplification(GAMMA0, ETA, 3.0, 0.9, beta2, True, STAGE1) - 1e-9
    )


def test_a_start_or_rate_that_is_not_positive_is_refused() -> None:
    with pytest.raises(ParameterError, match="start"):
        growth_amplification(0.0, ETA, 3.0, 0.9, 0.999, True, STAGE1)
    with pytest.raises(ParameterError, match="beta2"):
        growth_amplification(GAMMA0, ETA, 3.0, 0.9, 1.0, True, STAGE1)
