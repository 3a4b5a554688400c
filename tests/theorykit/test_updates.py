"""Per-step updates (B.3-B.6, 3.4-3.6): properties that follow from the paper's definitions."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from theorykit import updates

reals = st.floats(-10.0, 10.0, allow_nan=False)
positives = st.floats(1e-6, 1.0)
sample_count = st.integers(1, 40)


@given(gamma=reals, drive=reals, lam=st.floats(0.0, 10.0), eta=positives)
def test_one_signsgd_step_moves_gamma_by_at_most_eta(
    gamma: float, drive: float, lam: float, eta: float
) -> None:
    step = updates.SIGNSGD_FEATURE_STEP(gamma=gamma, drive=drive, lam=lam, eta=eta) - gamma
    # exact up to the round-off of forming gamma + step and subtracting gamma again (a few ulps of
    # gamma)
    assert abs(step) <= eta + 4 * np.spacing(abs(gamma) + eta)


@given(gamma=reals, drive=reals, lam=st.floats(0.0, 10.0), eta=positives)
def test_one_signsgdw_step_is_decay_plus_one_sign_step(
    gamma: float, drive: float, lam: float, eta: float
) -> None:
    step = (
        updates.SIGNSGDW_FEATURE_STEP(gamma=gamma, drive=drive, lam=lam, eta=eta)
        - (1 - eta * lam) * gamma
    )
    assert abs(abs(step) - eta * (drive != 0)) <= 8 * np.spacing(abs(gamma) + eta)


@given(
    w=reals,
    xi=reals,
    ell=st.floats(-1.0, 1.0),
    rho=reals,
    B=st.integers(1, 100),
    eta=positives,
    lam=st.floats(0.0, 1.0),
    q=st.floats(3.0, 6.0),
)
def test_unsampled_noise_coordinate_only_decays(
    w: float, xi: float, ell: float, rho: float, B: int, eta: float, lam: float, q: float
) -> None:
    common = dict(w_k=w, xi_k=xi, ell=ell, rho=rho, B=B, eta=eta, lam=lam, q=q, sampled=0.0)

    # sympy drops B from sgn(x/B), so the formulas take what they use from the shared mapping
    assert updates.SIGNSGD_NOISE_COORDINATE_STEP.evaluate(common) == pytest.approx(
        w - eta * np.sign(lam * w)
    )
    assert updates.SIGNSGDW_NOISE_COORDINATE_STEP.evaluate(common) == pytest.approx(
        (1 - eta * lam) * w
    )


@given(g=reals.filter(lambda x: abs(x) > 1e-8), w=reals, lam=st.floats(0.0, 1.0), eta=positives)
def test_adam_with_zero_betas_and_eps_is_signsgd(
    g: float, w: float, lam: float, eta: float
) -> None:
    # Balles & Hennig 2018 / Tang et al. Sec. 5: Adam with beta1 = beta2 = 0, eps = 0 is sign
    # descent.
    adam = updates.ADAM_FEATURE_UPDATE.weight(
        gamma=w, mom1=0.3, mom2=0.7, drive=-g, lam=lam, beta1=0.0, beta2=0.0, eps=0.0, eta=eta
    )
    assert adam == pytest.approx(
        updates.SIGNSGD_FEATURE_STEP(gamma=w, drive=-g, lam=lam, eta=eta), abs=1e-12
    )


@given(
    gradients=st.lists(reals, min_size=1, max_size=60),
    beta1=st.floats(0.0, 0.95),
    beta2=st.floats(0.0, 0.9999),
)
def test_adam_normalised_step_is_bounded_lemma_c1(
    gradients: list[float], beta1: float, beta2: float
) -> None:
    """Lemma C.1: |m|/sqrt(v) <= (1-beta1)/sqrt((1-beta2)(1-beta1^2/beta2)) whenever beta1^2 <
    beta2."""
    if beta1**2 >= beta2:
        return
    bound = (1 - beta1) / np.sqrt((1 - beta2) * (1 - beta1**2 / beta2))
    update = updates.ADAM_FEATURE_UPDATE
    mom1 = mom2 = 0.0
    for g in gradients:
        common = dict(mom1=mom1, mom2=mom2, drive=-g, lam=0.0, gamma=0.0, beta1=beta1, beta2=beta2)
        mom1, mom2 = update.first_moment.evaluate(common), update.second_moment.evaluate(common)
        # a subnormal v (below float64's smallest normal) keeps too few digits for a relative bound
        if mom2 >= np.finfo(float).tiny:
            assert abs(mom1) / np.sqrt(mom2) <= bound * (1 + 1e-9)


@given(
    beta1=st.floats(0.0, 0.99),
    beta2=st.floats(0.0, 0.999),
    t=st.integers(1, 30),
    g=reals.filter(lambda x: abs(x) > 1e-8),
    eta=positives,
)
def test_bias_corrected_adam_with_constant_gradient_takes_sign_steps(
    beta1: float, beta2: float, t: int, g: float, eta: float
) -> None:
    # With a constant gradient g != 0 (eps = 0), bias correction makes m_hat = g and v_hat = g^2
    # exactly at every t.
    update = updates.adam_update(
        updates.S.gamma,
        -updates.S.drive,
        decoupled=False,
        bias_correction=True,
        name="test",
        where="gamma",
    )
    mom1 = g * (1 - beta1 ** (t - 1))
    mom2 = g * g * (1 - beta2 ** (t - 1))
    w_next = update.weight(
        gamma=0.0,
        mom1=mom1,
        mom2=mom2,
        drive=-g,
        lam=0.0,
        beta1=beta1,
        beta2=beta2,
        eps=0.0,
        eta=eta,
        t=t,
    )
    assert w_next == pytest.approx(-eta * np.sign(g), abs=1e-9 * eta)


@given(
    data=st.data(),
    s=st.integers(1, 30),
    q=st.floats(3.0, 5.0),
    eta=positives,
    lam=st.floats(0.0, 1.0),
    B=st.integers(1, 20),
    alpha=st.floats(0.0, 0.9),
)
def test_gd_noise_step_is_the_sum_of_its_coordinates(
    data: st.DataObject, s: int, q: float, eta: float, lam: float, B: int, alpha: float
) -> None:
    """GD_NOISE_STEP (scalar rho) equals the per-coordinate GD steps summed against xi, plus the
    feature part."""
    xi = np.array(data.draw(st.lists(st.floats(-1, 1), min_size=s, max_size=s)))
    w = np.array(data.draw(st.lists(st.floats(-1, 1), min_size=s, max_size=s)))
    gamma, jy, ell = (
        data.draw(st.floats(-1, 1)),
        data.draw(st.sampled_from([-1.0, 1.0])),
        data.draw(st.floats(-1, 1)),
    )
    pure = {"alpha": alpha, "jy": jy}
    rho = updates.NOISE_FROM_PURE_NOISE(zeta=float(w @ xi), gamma=gamma, **pure)
    step = {"ell": ell, "B": B, "eta": eta, "lam": lam, "q": q, "sampled": 1.0, "rho": rho}
    w_next = updates.GD_NOISE_COORDINATE_STEP(w_k=w, xi_k=xi, **step)
    gamma_next = updates.GD_FEATURE_STEP(gamma=gamma, drive=0.3, lam=lam, eta=eta)
    expected = updates.NOISE_FROM_PURE_NOISE(zeta=float(w_next @ xi), gamma=gamma_next, **pure)
    scalar = updates.GD_NOISE_STEP(
        gamma=gamma, gamma_next=gamma_next, l2sq_noise=float(xi @ xi), **pure, **step
    )
    assert scalar == pytest.approx(expected, rel=1e-10, abs=1e-12)


def test_feature_drive_uses_signal_only_for_own_class() -> None:
    # gamma > 0: samples with y_i = j (jy = +1) feed sigma'(gamma); the other class only the -alpha
    # term.
    own = updates.FEATURE_DRIVE_PER_SAMPLE(abs_ell=0.5, jy=1.0, gamma=0.1, alpha=0.2, rho=0.05, q=3)
    other = updates.FEATURE_DRIVE_PER_SAMPLE(
        abs_ell=0.5, jy=-1.0, gamma=0.1, alpha=0.2, rho=0.05, q=3
    )
    assert own == pytest.approx(0.5 * (3 * 0.1**2 - 0.2 * 3 * 0.05**2))
    assert other == pytest.approx(-0.5 * 0.2 * 3 * 0.05**2)
