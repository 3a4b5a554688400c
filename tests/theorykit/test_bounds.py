"""Lambda and batch-size bounds: orderings, monotonicity, regimes, and a Monte-Carlo check of D0."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from theorykit import HiddenConstants, ProblemParams, bounds, tang2025_synthetic
from theorykit.formula import Formula
from theorykit.testing import strategies as tks

CONSTANTS = HiddenConstants().symbol_values()


def _at(formula: Formula, params: ProblemParams, **overrides: float) -> float:
    return float(formula.at(params, **CONSTANTS, **overrides))


@given(tks.admissible_params())
def test_adam_threshold_is_below_adamw_threshold(params: ProblemParams) -> None:
    # Cor 4.6: lambda_Adam ~ sigma0^{q-2} << lambda_AdamW, here in the finite-size thresholds.
    assert _at(bounds.LAMBDA_STAR_ADAM, params) < _at(bounds.LAMBDA_STAR_ADAMW, params)


@given(tks.admissible_params())
def test_feature_drive_at_init_is_positive_in_the_admissible_space(params: ProblemParams) -> None:
    # alpha = o(1) and s^{1/2} sigma_p = O~(1): the feature-noise term must not win at
    # initialisation.
    assert _at(bounds.FEATURE_DRIVE_AT_INIT, params) > 0


@given(tks.admissible_params(), st.floats(1.01, 3.0))
def test_adam_bounds_increase_with_sigma0(params: ProblemParams, factor: float) -> None:
    larger = params.replace(sigma0=min(params.sigma0 * factor, 0.1))
    if larger.sigma0 <= params.sigma0:
        return
    for formula in (bounds.LAMBDA_STAR_ADAM, bounds.ADAM_LAMBDA_CEILING, bounds.ADAM_STUCK_FLOOR):
        assert _at(formula, larger) > _at(formula, params), formula.name
    # AdamW's threshold u0/gamma0 ~ 1/sigma0 moves the other way once the init gradient D0 dwarfs
    # eps (u0 ~ 1). Where eps is comparable to D0, u0 = D0/(D0 + eps) grows with sigma0 and so may
    # the threshold.
    if _at(bounds.FEATURE_DRIVE_AT_INIT, params) > 1e3 * params.eps:
        assert _at(bounds.LAMBDA_STAR_ADAMW, larger) < _at(bounds.LAMBDA_STAR_ADAMW, params)


@given(tks.admissible_params(), st.floats(0.05, 2.0))
def test_adam_bounds_decrease_with_q(params: ProblemParams, increment: float) -> None:
    steeper = params.replace(q=float(params.q) + increment)
    for formula in (bounds.LAMBDA_STAR_ADAM, bounds.ADAM_LAMBDA_CEILING, bounds.ADAM_STUCK_FLOOR):
        assert _at(formula, steeper) < _at(formula, params), formula.name


def test_paper_setting_numbers() -> None:
    # Notes Sec. 6.3: ceiling sigma0^{q-2} sigma_p/n = 5e-6, Cor 4.3 scale sigma0^{q-2} = 0.01;
    # B^2/n ^ 1 at B = 2 is 0.02 and at B = 100 is 1. These are exact arithmetic, so the tolerance
    # is float round-off.
    params = tang2025_synthetic()
    assert _at(bounds.ADAM_LAMBDA_CEILING, params) == pytest.approx(5e-6, rel=1e-12)
    assert _at(bounds.ADAM_STUCK_FLOOR, params) == pytest.approx(0.01, rel=1e-12)
    assert _at(bounds.ADAMW_LAMBDA_FLOOR, params.replace(B=2)) == pytest.approx(0.02, rel=1e-12)
    assert _at(bounds.ADAMW_LAMBDA_FLOOR, params.replace(B=100)) == pytest.approx(1.0, rel=1e-12)
    # The finite-size Adam threshold sits between the paper's working lam (1e-5) and failing lam
    # (0.05), App. D.2.
    assert 1e-5 < _at(bounds.LAMBDA_STAR_ADAM, params) < 0.05
    assert _at(bounds.LAMBDA_STAR_ADAMW, params) > 0.5  # AdamW robust at lam = 0.5 (Fig. 6)


@pytest.mark.parametrize(
    ("optimizer", "B", "lam", "batch", "lam_regime"),
    [
        ("adam", 100, 1e-6, "large-batch", "admissible"),
        ("adam", 2, 1e-6, "mini-batch", "admissible"),
        ("adam", 2, 0.05, "mini-batch", "stuck"),
        ("adamw", 100, 0.5, "large-batch", "below window"),
        ("adamw", 2, 0.5, "mini-batch", "window"),
        ("adamw", 16, 0.5, "intermediate", "below window"),  # B^2/n = 1.28: the floor is 1
    ],
)
def test_regimes_of_the_paper_experiments(
    optimizer: str, B: int, lam: float, batch: str, lam_regime: str
) -> None:
    params = tang2025_synthetic(optimizer=optimizer, B=B, lam=lam)
    assert bounds.batch_regime(params) == batch
    assert bounds.lambda_regime(params) == lam_regime


def test_predicted_outcomes_name_their_theorem() -> None:
    assert "Thm 4.1" in bounds.predicted_outcome(tang2025_synthetic(B=100, lam=1e-6))
    assert "Thm 4.2" in bounds.predicted_outcome(tang2025_synthetic(B=2, lam=1e-6))
    assert "Cor 4.3" in bounds.predicted_outcome(tang2025_synthetic(B=2, lam=0.05))
    assert "Thm 4.5" in bounds.predicted_outcome(
        tang2025_synthetic(optimizer="adamw", B=2, lam=0.5)
    )
    assert "GD" in bounds.predicted_outcome(tang2025_synthetic(optimizer="gd"))


def test_hidden_constants_move_the_verdicts() -> None:
    params = tang2025_synthetic(B=16, lam=1e-5)
    assert bounds.batch_regime(params) == "intermediate"
    assert bounds.batch_regime(params, HiddenConstants(mini_batch=0.5)) == "mini-batch"
    assert bounds.lambda_regime(params, HiddenConstants(adam_ceiling=3.0)) == "admissible"


def test_feature_drive_at_init_matches_monte_carlo() -> None:
    """D0 (Lemma A.7 at t = 0) against the exact drive of sampled networks, in the disjoint-support
    regime.

    For each of 2000 draws of (W^(0), labels, noise norms) at the paper setting, the measured drive
    is (1/n) sum_i |ell_{+1,i}| [sigma'(y_i gamma_{r*}) - alpha sigma'(rho_{+1,r*,i})] for the best
    filter r*, with ell from the exact two-head softmax and rho = zeta - alpha y_i gamma (zeta ~
    N(0, sigma0^2 ||xi_i||^2), exact for disjoint supports); the prediction is D0 at gamma0 =
    gamma_{r*} of the same draw. Tolerance 2% of mean D0: the formula's two approximations, |ell| =
    1/2 and replacing the coupling -alpha y_i gamma by its variance in noise_norm, each move D0 by <
    1% here (alpha-term ~ 6% of D0, coupling changes it by (alpha gamma0 / sigma0)^2 ~ 14%); the
    Monte-Carlo standard error of the mean difference is ~0.2% (per-draw label-fraction noise ~7%,
    /sqrt(2000)).
    """
    params = tang2025_synthetic()
    rng = np.random.default_rng(0)
    n, m, q, alpha, sigma0 = params.n, params.m, params.q, params.alpha, params.sigma0
    measured, predicted = [], []
    for _ in range(2000):
        y = rng.choice([-1.0, 1.0], size=n)
        noise_l2 = params.sigma_p * np.sqrt(rng.chisquare(params.s, size=n))
        w1 = rng.normal(
            0.0, sigma0, size=(2, m)
        )  # w_{j,r}[1] for j = +1 (row 0) and j = -1 (row 1)
        zeta = rng.normal(0.0, 1.0, size=(2, m, n)) * sigma0 * noise_l2
        signal = y * w1[:, :, None]  # <w_{j,r}, y_i v>
        rho = zeta - alpha * y * w1[:, :, None]  # <w_{j,r}, xi_i>, xi_i[1] = -alpha y_i
        logits = (np.maximum(signal, 0) ** q + np.maximum(rho, 0) ** q).sum(
            axis=1
        )  # F_j(x_i), shape (2, n)
        best = int(np.argmax(w1[0]))
        gamma = w1[0, best]
        if gamma <= 0:
            continue
        p_plus = 1.0 / (1.0 + np.exp(logits[1] - logits[0]))
        abs_ell = np.where(y > 0, 1.0 - p_plus, p_plus)
        drive = abs_ell * (
            q * np.maximum(y * gamma, 0) ** (q - 1)
            - alpha * q * np.maximum(rho[0, best], 0) ** (q - 1)
        )
        measured.append(drive.mean())
        # gamma0 is this draw's best filter, not the setting's expectation: evaluate at values.
        values = {**params.formula_values(), "gamma0": gamma}
        predicted.append(float(bounds.FEATURE_DRIVE_AT_INIT.evaluate(values)))
    measured_mean, predicted_mean = np.mean(measured), np.mean(predicted)
    assert abs(measured_mean - predicted_mean) <= 0.02 * predicted_mean


def test_gd_race_reads_n_snr_to_the_q() -> None:
    from theorykit.bounds import GD_FEATURE_RACE, predicted_outcome

    paper = tang2025_synthetic(optimizer="gd")  # SNR = 1 / (sqrt(100) * 0.1) = 1
    assert float(GD_FEATURE_RACE.at(paper)) == pytest.approx(200.0)
    assert "GD learns the feature" in predicted_outcome(paper)
    noisy = paper.replace(sigma_p=1.0)  # SNR = 0.1: n SNR^3 = 0.2 < 2
    assert float(GD_FEATURE_RACE.at(noisy)) == pytest.approx(0.2)
    assert "GD memorises noise" in predicted_outcome(noisy)
