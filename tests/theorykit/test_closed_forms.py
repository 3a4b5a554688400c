"""Closed forms agree with iterating the per-step updates they were derived from."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from theorykit import ParameterError, closed_forms, updates

etas = st.floats(1e-5, 1e-2)
lams = st.floats(1e-3, 10.0)


@given(P=st.integers(1, 200), eta=etas, lam=lams, gamma=st.floats(-5, 5))
def test_signsgdw_epoch_feature_equals_p_steps(
    P: int, eta: float, lam: float, gamma: float
) -> None:
    stepped = gamma
    for _ in range(P):
        stepped = updates.SIGNSGDW_FEATURE_STEP(gamma=stepped, drive=1.0, lam=lam, eta=eta)
    closed = closed_forms.SIGNSGDW_EPOCH_FEATURE(gamma=gamma, P=P, eta=eta, lam=lam)
    assert closed == pytest.approx(stepped, rel=1e-9, abs=1e-12)


@given(data=st.data(), P=st.integers(1, 60), eta=etas, lam=lams, s=st.integers(1, 20))
def test_signsgdw_epoch_noise_equals_p_coordinate_steps(
    data: st.DataObject, P: int, eta: float, lam: float, s: int
) -> None:
    tau = data.draw(st.integers(0, P - 1))
    xi = np.array(
        data.draw(
            st.lists(st.floats(-1, 1).filter(lambda x: abs(x) > 1e-3), min_size=s, max_size=s)
        )
    )
    w = np.array(data.draw(st.lists(st.floats(-1, 1), min_size=s, max_size=s)))
    zeta0 = float(w @ xi)
    for position in range(P):  # positive drive ell sigma'(rho) > 0 when sampled
        w = updates.SIGNSGDW_NOISE_COORDINATE_STEP.evaluate(
            dict(
                w_k=w,
                xi_k=xi,
                ell=0.5,
                rho=0.3,
                B=1,
                q=3,
                eta=eta,
                lam=lam,
                sampled=float(position == tau),
            )
        )
    closed = closed_forms.SIGNSGDW_EPOCH_PURE_NOISE(
        zeta=zeta0, P=P, tau=tau, eta=eta, lam=lam, l1_noise=float(np.abs(xi).sum())
    )
    assert closed == pytest.approx(float(w @ xi), rel=1e-9, abs=1e-12)


@given(P=st.integers(1, 200), eta=etas, lam=lams)
def test_fixed_points_are_fixed(P: int, eta: float, lam: float) -> None:
    gamma_star = closed_forms.SIGNSGDW_FEATURE_FIXED_POINT(lam=lam)
    assert gamma_star == pytest.approx(1 / lam)
    assert closed_forms.SIGNSGDW_EPOCH_FEATURE(
        gamma=gamma_star, P=P, eta=eta, lam=lam
    ) == pytest.approx(gamma_star)
    zeta_star = closed_forms.SIGNSGDW_PURE_NOISE_FIXED_POINT(
        P=P, tau=0, eta=eta, lam=lam, l1_noise=3.0
    )
    assert closed_forms.SIGNSGDW_EPOCH_PURE_NOISE(
        zeta=zeta_star, P=P, tau=0, eta=eta, lam=lam, l1_noise=3.0
    ) == pytest.approx(zeta_star, rel=1e-9)


def test_pure_noise_fixed_point_scales_as_b_over_n_lambda() -> None:
    # Lemmas B.8/B.11: rho* = Theta(B s sigma_p / (n lam)); with eta lam -> 0 the fixed point is
    # ||xi||_1 / (P lam).
    P, lam, l1 = 100, 0.01, 8.0
    zeta_star = closed_forms.SIGNSGDW_PURE_NOISE_FIXED_POINT(
        P=P, tau=P - 1, eta=1e-7, lam=lam, l1_noise=l1
    )
    assert zeta_star == pytest.approx(l1 / (P * lam), rel=1e-4)


def _simulated_period_step_sum(P: int, beta1: float, beta2: float, periods: int) -> float:
    """Iterate Adam's moments (no bias correction, eps = 0) on a spike of 1 every P steps; sum one
    period."""
    m = v = 0.0
    total = 0.0
    for step in range(P * periods):
        g = 1.0 if step % P == 0 else 0.0
        m, v = beta1 * m + (1 - beta1) * g, beta2 * v + (1 - beta2) * g * g
        if step >= P * (periods - 1):
            total += m / np.sqrt(v)
    return total


@pytest.mark.parametrize(
    ("P", "beta1", "beta2"),
    [
        (1, 0.9, 0.999),
        (2, 0.9, 0.999),
        (10, 0.9, 0.999),
        (100, 0.9, 0.999),
        (7, 0.5, 0.9),
        (30, 0.0, 0.95),
    ],
)
def test_periodic_spike_step_sum_matches_simulation(P: int, beta1: float, beta2: float) -> None:
    # 30000 steps reach the steady state to better than 1e-6 relative for beta2 <= 0.999
    # (beta2^30000 ~ 1e-13).
    periods = max(2, 30_000 // P)
    simulated = _simulated_period_step_sum(P, beta1, beta2, periods)
    assert closed_forms.PERIODIC_SPIKE_STEP_SUM(P=P, beta1=beta1, beta2=beta2) == pytest.approx(
        simulated, rel=1e-6
    )


def test_periodic_spike_values_from_the_notes() -> None:
    values = closed_forms.PERIODIC_SPIKE_STEP_SUM(
        P=np.array([1, 2, 10, 100, 1000]), beta1=0.9, beta2=0.999
    )
    np.testing.assert_allclose(
        values, [1.0, 1.414, 3.16, 9.80, 25.3], rtol=5e-3
    )  # notes Sec. 5.6, 3 digits


@given(q=st.floats(3.0, 6.0), lam=st.floats(1e-8, 1e-2), m_eff=st.floats(0.5, 30.0))
def test_adam_fixed_point_is_the_stable_root(q: float, lam: float, m_eff: float) -> None:
    gamma = closed_forms.adam_feature_fixed_point(q, lam, m_eff)
    if np.isnan(gamma):  # no root: lam exceeds the peak of the data-to-decay ratio everywhere
        grid = np.logspace(-4, 1, 2000)
        assert np.all(
            closed_forms.ADAM_FEATURE_STATIONARITY(gamma=grid, q=q, lam=lam, m_eff=m_eff) < 0
        )
        return
    residual = closed_forms.ADAM_FEATURE_STATIONARITY(gamma=gamma, q=q, lam=lam, m_eff=m_eff)
    assert abs(residual) <= 1e-9 * lam * gamma
    # stable: data wins just below, decay wins just above
    for factor, sign in ((0.99, 1), (1.01, -1)):
        value = closed_forms.ADAM_FEATURE_STATIONARITY(
            gamma=gamma * factor, q=q, lam=lam, m_eff=m_eff
        )
        assert np.sign(value) == sign


def test_adam_fixed_point_matches_the_notes_cnn_run() -> None:
    # Notes Sec. 5.4(b): q = 3, lam = 1e-5, one surviving filter -> 2.337; the CNN saturated at
    # 2.343.
    assert closed_forms.adam_feature_fixed_point(3, 1e-5, 1) == pytest.approx(2.337, abs=5e-4)


def test_adam_fixed_point_rejects_bad_input() -> None:
    with pytest.raises(ParameterError) as caught:
        closed_forms.adam_feature_fixed_point(3, [1e-5, 0.0])
    assert caught.value.name == "lam"
