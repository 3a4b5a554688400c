"""theorykit.noise_decay: Adam's coupled decay against the noise coordinates -- the level rho* it
holds a sample's noise below, the fraction of samples that escape it, and what that does to the
race (docs/notes/overlap.md §7)."""

import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from theorykit import tang2025_synthetic
from theorykit.batch_race import critical_batch_size, reversal_ratio
from theorykit.lambda_star import ABS_ELL_AT_INIT
from theorykit.noise_decay import COUPLED_DECAY_NOISE_LEVEL, NOISE_ESCAPE_FRACTION, escape_fraction
from theorykit.params import ProblemParams
from theorykit.testing import strategies as tks
from theorykit.verdict import finite_size_verdict


@st.composite
def adam_with_decay(draw: st.DrawFn) -> ProblemParams:
    params = draw(tks.admissible_params(optimizer="adam"))
    assume(params.lam > 0)
    return params


@given(adam_with_decay())
def test_rho_star_is_the_fixed_point_of_the_settled_noise(params: ProblemParams) -> None:
    # Settled coordinates u_k = |ell| q rho^{q-1} |xi_k| / (n lam) sum to rho = |ell| q rho^{q-1}
    # s sigma_p^2 / (n lam) (E xi_k^2 = sigma_p^2): rho* solves it.
    rho = float(COUPLED_DECAY_NOISE_LEVEL.at(params))
    assume(0 < rho < 1e100)
    settled = (
        float(ABS_ELL_AT_INIT)
        * params.q
        * rho ** (params.q - 1)
        * params.s
        * params.sigma_p**2
        / (params.n * params.lam)
    )
    assert settled == pytest.approx(rho, rel=1e-9)


def test_escape_fraction_is_the_chance_that_the_best_filter_starts_above_rho_star() -> None:
    # Monte Carlo over 20000 samples of a head, m filters each, rho(0) ~ N(0, sigma0^2 noise_norm^2)
    # (Lemma A.3): at q = 4 the fraction is about 0.02, its binomial standard error about 0.001;
    # 5 standard errors is the tolerance.
    params = tang2025_synthetic(q=4, lam=1e-5)
    values = params.formula_values()
    start = np.random.default_rng(1).normal(
        0.0, params.sigma0 * values["noise_norm"], size=(20_000, params.m)
    )
    observed = float(np.mean(start.max(axis=1) > float(COUPLED_DECAY_NOISE_LEVEL.at(params))))
    expected = escape_fraction(params)
    assert 0.005 < expected < 0.1
    assert observed == pytest.approx(
        expected, abs=5 * math.sqrt(expected * (1 - expected) / 20_000)
    )


@given(adam_with_decay(), st.floats(1.01, 100.0))
def test_more_decay_lets_fewer_samples_escape(params: ProblemParams, factor: float) -> None:
    assert escape_fraction(params.replace(lam=params.lam * factor)) <= escape_fraction(params)


@given(adam_with_decay(), st.floats(0.2, 5.0))
def test_the_escape_depends_on_lam_through_lam_over_sigma0_to_the_q_minus_2(
    params: ProblemParams, scale: float
) -> None:
    # Thms 4.1/4.2's ceiling lam = o(sigma0^{q-2} sigma_p / n): rho* / sigma0 is unchanged when
    # sigma0 -> c sigma0 and lam -> c^{q-2} lam, so the escape is too.
    scaled = params.replace(sigma0=params.sigma0 * scale, lam=params.lam * scale ** (params.q - 2))
    assert float(NOISE_ESCAPE_FRACTION.at(scaled)) == pytest.approx(
        float(NOISE_ESCAPE_FRACTION.at(params)), rel=1e-6, abs=1e-12
    )


@pytest.mark.parametrize("optimizer", ["adamw", "signsgd", "signsgdw"])
def test_only_adams_coupled_decay_holds_the_noise_down(optimizer: str) -> None:
    params = tang2025_synthetic(optimizer=optimizer, q=4, lam=1e-5)
    assert escape_fraction(params) == 1.0
    assert escape_fraction(tang2025_synthetic(q=4, lam=0.0)) == 1.0


def test_above_the_ceiling_adam_memorises_at_no_batch_size_where_adamw_does() -> None:
    # q = 4, lam = 1e-5: rho* = 0.032 against the best filter's typical start 0.019, about 2% of
    # a head's samples escape and A rises from 1.7 to 6.4, so no B up to n memorises within 6000
    # iterations; AdamW's decoupled decay leaves every sample in the race (B* about 41), as does
    # Adam at lam = 1e-6 (f = 0.97).
    adam = tang2025_synthetic(q=4, lam=1e-5)
    assert reversal_ratio(adam) > 3 * reversal_ratio(adam.replace(optimizer="adamw"))
    assert critical_batch_size(adam, horizon=6000) > adam.n
    assert critical_batch_size(adam.replace(optimizer="adamw"), horizon=6000) < adam.n / 2
    assert critical_batch_size(adam.replace(lam=1e-6), horizon=6000) < adam.n / 2


def test_the_verdict_names_the_fraction_that_escapes_where_the_decay_holds_noise_down() -> None:
    # q = 4, lam = 1e-5: f = 0.019, the verdict learns the feature and says why; at the paper's
    # q = 3 setting f = 1 - 7e-6 and the reason is the decay-free race's.
    held_down = finite_size_verdict(tang2025_synthetic(q=4, B=100, epochs=3000))
    assert held_down.outcome == "learns feature"
    assert f"f = {escape_fraction(tang2025_synthetic(q=4)):.3g}" in held_down.reason
    assert "noise_decay" not in finite_size_verdict(tang2025_synthetic(B=100)).reason
