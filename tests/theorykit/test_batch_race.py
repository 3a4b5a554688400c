"""theorykit.batch_race: the race's rate ratio R(P), the reversal time and probability, and B*."""

import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from theorykit import HiddenConstants, ParameterError, ProblemParams, tang2025_synthetic
from theorykit.batch_race import (
    BAND_LEVELS,
    EXPECTED_NOISE_L1,
    INITIAL_NOISE_LEVEL,
    RACE_STAGE1_LENGTH,
    REVERSAL_RATIO,
    asymptotic_critical_batch_size,
    critical_batch_band,
    critical_batch_size,
    median_reversal_time,
    race,
    rate_ratio,
    reversal_ratio,
    reversal_time_band,
)
from theorykit.class_flip import FLIP_DRAWS
from theorykit.closed_forms import PERIODIC_SPIKE_STEP_SUM
from theorykit.noise_decay import escape_fraction
from theorykit.testing import strategies as tks

SIGN_TYPE = st.sampled_from(["adam", "adamw", "signsgd", "signsgdw"])


@st.composite
def race_params(draw: st.DrawFn) -> ProblemParams:
    """Admissible settings of a sign-type optimiser with beta1^2 < beta2 (Lemma C.1), alpha > 0."""
    params = draw(tks.admissible_params(optimizer=draw(SIGN_TYPE)))
    assume(params.beta1**2 < params.beta2 and params.alpha > 0)
    return params


def test_expected_noise_l1_is_the_mean_of_sampled_supports() -> None:
    # 20000 supports of s = 100 Gaussian coordinates: the sample mean of ||xi||_1 has standard error
    # sqrt(s (1 - 2/pi)) sigma_p / sqrt(20000) = 0.0043 (relative 5e-4); 5 standard errors is 0.3%.
    params = tang2025_synthetic()
    xi = np.random.default_rng(0).normal(0.0, params.sigma_p, size=(20_000, params.s))
    assert np.abs(xi).sum(axis=1).mean() == pytest.approx(EXPECTED_NOISE_L1.at(params), rel=3e-3)


def test_disjoint_ratio_is_the_spread_spike_over_the_period() -> None:
    # Without competition R(P) = C S(P) E||xi||_1 / P (notes §5); sign steps have S = 1.
    race = HiddenConstants().batch_race
    adam = tang2025_synthetic(optimizer="adam")
    spread = float(PERIODIC_SPIKE_STEP_SUM.at(adam, P=12.5))
    assert rate_ratio(adam, steps_per_epoch=12.5, overlapping=False) == pytest.approx(
        race * spread * float(EXPECTED_NOISE_L1.at(adam)) / 12.5, rel=1e-12
    )
    sign = tang2025_synthetic(optimizer="signsgd")
    assert rate_ratio(sign, steps_per_epoch=4.0, overlapping=False) == pytest.approx(
        race * float(EXPECTED_NOISE_L1.at(sign)) / 4.0, rel=1e-12
    )


@given(race_params(), st.floats(0.05, 20.0))
def test_race_constant_scales_the_ratio(params: ProblemParams, constant: float) -> None:
    scaled = HiddenConstants(batch_race=constant)
    default = HiddenConstants().batch_race
    assert rate_ratio(params, scaled) == pytest.approx(
        constant / default * rate_ratio(params), rel=1e-12
    )


@given(race_params(), st.floats(1.0, 1e3), st.floats(1.001, 100.0))
def test_ratio_decreases_with_iterations_per_epoch(
    params: ProblemParams, P: float, factor: float
) -> None:
    # More iterations per epoch (smaller B) favour the feature: S(P)/P falls; the sign steps'
    # competition factor rises with P (fewer batch-mates on a coordinate) but at most like sqrt(P).
    assert rate_ratio(params, steps_per_epoch=P * factor) < rate_ratio(params, steps_per_epoch=P)


@given(race_params())
def test_sharing_a_coordinate_slows_memorisation(params: ProblemParams) -> None:
    # The competition factor kappa is at most 1 (notes §2-§3): overlapping supports never speed
    # memorisation up.
    assert rate_ratio(params) <= rate_ratio(params, overlapping=False) * (1 + 1e-12)


def test_reversal_time_is_when_linear_growth_reaches_the_ratio() -> None:
    # gamma = gamma0 + a_f eta t and rho = rho0 + R a_n eta t (notes §5, §8): at t_r, rho / gamma
    # = A; the race's ratio is R a_n / a_f, R of rate_ratio.
    params = tang2025_synthetic(optimizer="adam", B=100, epochs=3000)
    at = race(params)
    assert at.rate_ratio > at.reversal_ratio and at.reversal_time is not None
    assert at.rate_ratio == pytest.approx(
        rate_ratio(params) * at.noise_amplification / at.feature_amplification, rel=1e-12
    )
    gamma0 = params.formula_values()["gamma0"]
    rho0 = float(
        INITIAL_NOISE_LEVEL(sigma0=params.sigma0, noise_norm=params.formula_values()["noise_norm"])
    )
    t = at.reversal_time
    feature_rate = params.eta * at.feature_amplification
    gamma, rho = gamma0 + feature_rate * t, rho0 + at.rate_ratio * feature_rate * t
    assert rho / gamma == pytest.approx(at.reversal_ratio, rel=1e-10)
    f = escape_fraction(params)
    assert at.reversal_ratio == pytest.approx(
        float(REVERSAL_RATIO.at(params, escape_fraction=f)), rel=1e-12
    )


def test_adams_amplification_follows_beta2_and_sign_steps_have_none() -> None:
    # notes §8: the feature's and the noise's steps exceed eta while their gradients grow, by more
    # the longer beta2 remembers; the noise grows faster, so R a_n / a_f > R. No moments, no
    # amplification.
    paper = tang2025_synthetic(optimizer="adam", B=100, epochs=3000, bias_correction=True)
    short = race(paper.replace(beta1=0.5, beta2=0.9))
    long = race(paper)
    assert 1.0 < short.feature_amplification < 1.05 < long.feature_amplification
    assert long.noise_amplification > long.feature_amplification
    assert long.rate_ratio > rate_ratio(paper)
    sign = race(paper.replace(optimizer="signsgd"))
    assert sign.feature_amplification == sign.noise_amplification == 1.0
    assert sign.rate_ratio == rate_ratio(paper.replace(optimizer="signsgd"))


@given(race_params(), st.floats(1.5, 50.0))
def test_a_longer_horizon_never_lowers_the_reversal_probability(
    params: ProblemParams, factor: float
) -> None:
    horizon = params.epochs * params.iterations_per_epoch
    short, long = race(params, horizon=horizon), race(params, horizon=horizon * factor)
    assert long.reversal_probability >= short.reversal_probability - 1e-12
    assert 0.0 <= short.reversal_probability <= 1.0
    if short.rate_ratio <= short.reversal_ratio:  # the typical head's noise never catches up
        assert short.reversal_time is None
        # only a head faster than typical can reverse: never one without the spread
        narrow = race(params, HiddenConstants(race_spread=0.0), horizon=horizon)
        assert narrow.reversal_probability == 0.0


def _crosses(params: ProblemParams, batch: float, horizon: float, seeds: int, level: float) -> bool:
    """Whether the probability that one of ``seeds`` runs memorises crosses ``level`` at ``batch``
    (Brent's tolerance is 1e-5 in log P, inside the factors 1 -+ 1e-4 around it)."""
    below, above = (
        race(params, steps_per_epoch=params.n / (batch * factor), horizon=horizon)
        for factor in (1 - 1e-4, 1 + 1e-4)
    )
    return below.memorisation_probability(seeds) <= level <= above.memorisation_probability(seeds)


@given(race_params())
def test_critical_batch_size_is_where_a_run_memorises_with_probability_one_half(
    params: ProblemParams,
) -> None:
    horizon = params.epochs * params.iterations_per_epoch
    batch = critical_batch_size(params, horizon=horizon)
    assume(0.0 < batch < math.inf)  # a root inside the root finder's interval of P
    # The probability rises steeply with B (Phi(z)^m): test that it crosses 1/2 at B*.
    assert _crosses(params, batch, horizon, seeds=2, level=0.5)


@given(race_params())
def test_the_band_is_where_one_run_memorises_with_probability_a_tenth_to_nine_tenths(
    params: ProblemParams,
) -> None:
    horizon = params.epochs * params.iterations_per_epoch
    band = critical_batch_band(params, horizon=horizon)
    assume(band[0] > 0.0 and band[1] < math.inf)
    # Where the probability jumps (at Stage I's end, before which no class flips) the three roots
    # coincide up to the root finder's tolerance, xtol = 1e-5 in log P: 1e-5 relative in B.
    middle = critical_batch_size(params, seeds=1, horizon=horizon)
    assert band[0] * (1 - 1e-4) <= middle <= band[1] * (1 + 1e-4)
    for end, level in zip(band, BAND_LEVELS, strict=True):
        assert _crosses(params, end, horizon, seeds=1, level=level)


def test_the_spread_widens_the_band_and_a_level_must_be_a_probability() -> None:
    """At the paper's setting the spread over seeds (C_race_spread) widens the band far beyond
    the narrow race's, which carries gamma0's spread only; a level of 0 or 1 has no boundary."""
    p = tang2025_synthetic(B=16)
    low, high = critical_batch_band(p)
    narrow_low, narrow_high = critical_batch_band(p, HiddenConstants(race_spread=0.0))
    assert high / low > 1.5 > narrow_high / narrow_low
    for level in (0.0, 1.0, 1.5):
        with pytest.raises(ParameterError, match="level"):
            critical_batch_size(p, level=level)


@given(race_params())
def test_stage1_ends_where_the_growing_filters_halve_the_data_loss(params: ProblemParams) -> None:
    """At T0 the m/2 growing filters' margin (m/2) (eta T0)^q (1 + R^q) makes a sample's loss
    log(1 + e^{-z}) half its initial log 2; a faster noise (larger R) ends Stage I sooner, and
    without noise growth T0 is the feature's alone."""
    at = race(params)
    eta = params.eta * at.feature_amplification  # the feature's rate (notes §8)
    margin = params.m / 2 * (eta * at.stage1_length) ** params.q * (1 + at.rate_ratio**params.q)
    assert math.log1p(math.exp(-margin)) == pytest.approx(math.log(2) / 2, rel=1e-9)
    values = {"m": params.m, "q": params.q, "eta": eta}
    faster = float(RACE_STAGE1_LENGTH(**values, rate_ratio=2 * at.rate_ratio))
    assert faster < at.stage1_length
    feature_only = (2 * math.log(1 + math.sqrt(2)) / params.m) ** (1 / params.q) / eta
    assert at.stage1_length < feature_only
    assert float(RACE_STAGE1_LENGTH(**values, rate_ratio=1e-12)) == pytest.approx(feature_only)


@given(race_params(), st.floats(1.01, 10.0))
def test_more_noise_mass_memorises_at_smaller_batches(params: ProblemParams, factor: float) -> None:
    horizon = params.epochs * params.iterations_per_epoch
    noisier = params.replace(sigma_p=params.sigma_p * factor)
    # Up to the root finder's tolerance (1e-5 in log P, relative in B).
    assert critical_batch_size(noisier, horizon=horizon) <= critical_batch_size(
        params, horizon=horizon
    ) * (1 + 1e-4)


def test_without_feature_noise_no_head_reverses() -> None:
    # alpha = 0: the feature-noise term that reverses a head is absent (notes §3), so memorised
    # noise never becomes test error within any horizon.
    params = tang2025_synthetic(optimizer="adam", alpha=0.0, B=200)
    assert race(params).reversal_probability == 0.0 and race(params).reversal_time is None
    assert critical_batch_size(params) == math.inf


def test_paper_setting_has_its_boundary_between_the_papers_batch_sizes() -> None:
    # App. D.2 trains B = 16 (learns) and B = 100 (memorises) at the same horizon in epochs; at
    # 6000 iterations (the compare protocol), the shipped constants put B* between them.
    params = tang2025_synthetic(optimizer="adam", B=16, epochs=480)  # 480 * 12.5 = 6000 iterations
    assert 16 < critical_batch_size(params) < 100


@given(tks.problem_params())
def test_every_valid_setting_gives_a_number_or_a_named_error(params: ProblemParams) -> None:
    try:
        value = critical_batch_size(params)
    except ParameterError as error:
        assert error.name in ("optimizer", "beta1")
        return
    assert not math.isnan(value)
    if value == 0:  # the documented "every batch size memorises": true even at P = n/B = 10^6
        horizon = params.epochs * params.iterations_per_epoch
        assert race(params, None, 1e6, True, horizon).memorisation_probability(2) > 0.5
    else:
        assert value > 0


def test_bad_inputs_are_named() -> None:
    with pytest.raises(ParameterError, match="optimizer"):
        critical_batch_size(tang2025_synthetic(optimizer="gd"))
    with pytest.raises(ParameterError, match="beta1"):
        critical_batch_size(tang2025_synthetic(optimizer="adam", beta1=0.9, beta2=0.5))
    with pytest.raises(ParameterError, match="steps_per_epoch"):
        rate_ratio(tang2025_synthetic(optimizer="adam"), steps_per_epoch=0.0)
    with pytest.raises(ParameterError, match="batch_race"):
        HiddenConstants(batch_race=0.0)


def test_the_spread_race_is_its_monte_carlo() -> None:
    # P_rev = P(log R - C_race_spread |eps| > log max(A, A_T(gamma0))), gamma0 = sigma0 max_r Z_r
    # (the module docstring), drawn: 400 000 (eps, Z) pairs give the frequency a standard error of
    # at most sqrt(1/4 / 400000) = 8e-4; 5 standard errors (0.004) also cover the 256 quantile
    # midpoints' error (< 1e-3 where the integrand is smooth on the scale of 1/256).
    rng = np.random.default_rng(0)
    for B, spread in ((50, 0.2), (100, 0.2), (100, 0.5), (200, 0.05)):
        params = tang2025_synthetic(optimizer="adam", lam=1e-5, B=B, epochs=10**4)
        at = race(params, HiddenConstants(race_spread=spread))
        gamma0 = params.sigma0 * rng.standard_normal((400_000, params.m)).max(axis=1)
        values = params.formula_values()
        rho0 = float(INITIAL_NOISE_LEVEL(sigma0=params.sigma0, noise_norm=values["noise_norm"]))
        usable = params.eta * at.feature_amplification * params.iterations - values["gamma0"]
        A = at.reversal_ratio
        needed = np.maximum(A, A + 2 * (A * gamma0 - rho0) / usable)
        head = at.rate_ratio * np.exp(-spread * np.abs(rng.standard_normal(gamma0.shape[0])))
        assert at.reversal_probability == pytest.approx(np.mean(head > needed), abs=4e-3)


@given(race_params(), st.floats(0.01, 1.0))
def test_reversed_heads_are_binomial_and_a_run_memorises_when_a_class_flips(
    params: ProblemParams, spread: float
) -> None:
    at = race(params, HiddenConstants(race_spread=spread))
    none, one, both = at.reversed_heads()
    p = at.reversal_probability
    assert none + one + both == pytest.approx(1.0, abs=1e-12)
    assert both == pytest.approx(p * p, abs=1e-12) and one == pytest.approx(2 * p * (1 - p))
    unflipped = at.flipped_classes[0]
    assert sum(at.flipped_classes) == pytest.approx(1.0, abs=1e-12)
    assert at.memorisation_probability(1) == pytest.approx(1 - unflipped, abs=1e-12)
    assert at.memorisation_probability(3) == pytest.approx(1 - unflipped**3, abs=1e-12)
    # Once the data are fitted (past Stage I's end; before it no class flips) a reversed best
    # filter flips its class (theorykit.class_flip), so no fewer runs memorise than reverse a
    # head, up to the flips' sampling error (FLIP_DRAWS quasi-random draws: below
    # 0.5 / sqrt(FLIP_DRAWS) = 0.008; 3 of that) against P_rev's quantile integral.
    if params.iterations >= at.stage1_length:
        assert unflipped <= none + 3 * 0.5 / math.sqrt(FLIP_DRAWS)
    else:
        assert unflipped == 1.0


@given(race_params(), st.floats(0.01, 1.0), st.floats(1.01, 10.0))
def test_with_a_spread_larger_batches_reverse_no_less_often(
    params: ProblemParams, spread: float, factor: float
) -> None:
    # R grows as P = n/B falls (test_ratio_decreases_with_iterations_per_epoch): every head's
    # R_head does, so the probability cannot fall with B at a fixed horizon.
    constants = HiddenConstants(race_spread=spread)
    horizon = params.epochs * params.iterations_per_epoch
    P = params.steps_per_epoch
    small = race(params, constants, steps_per_epoch=P * factor, horizon=horizon)
    large = race(params, constants, steps_per_epoch=P, horizon=horizon)
    assert large.reversal_probability >= small.reversal_probability - 1e-12


def test_a_spread_must_be_a_finite_number_at_least_zero() -> None:
    assert HiddenConstants(race_spread=0.0).race_spread == 0.0
    for bad in (-0.1, math.inf, math.nan):
        with pytest.raises(ParameterError, match="race_spread"):
            HiddenConstants(race_spread=bad)
    with pytest.raises(ParameterError, match="batch_race"):
        HiddenConstants(batch_race=0.0)


@given(race_params(), st.floats(0.05, 1.0))
def test_with_a_spread_the_asymptotic_boundary_is_the_long_horizon_limit(
    params: ProblemParams, spread: float
) -> None:
    # B*_inf is the limit of B*(T) as T grows: below every finite horizon's B*(T), and reached by
    # a horizon so long that A_T = A (within the root finders' tolerance; 1% in B).
    constants = HiddenConstants(race_spread=spread)
    asymptotic = asymptotic_critical_batch_size(params, constants)
    assume(0.0 < asymptotic < math.inf)
    horizon = params.epochs * params.iterations_per_epoch
    assert asymptotic <= critical_batch_size(params, constants, horizon=horizon) * (1 + 1e-4)
    endless = critical_batch_size(params, constants, horizon=1e12 * horizon)
    assert endless == pytest.approx(asymptotic, rel=1e-2)


def _sampled_reversal_times(params: ProblemParams, spread: float, horizon: float) -> np.ndarray:
    """Monte Carlo of reversal_time_band's heads: gamma0 = sigma0 max of m normals, R e^{-C |eps|},
    the linear race's t_r of each head that reverses within the horizon."""
    rng = np.random.default_rng(7)
    heads = 200_000
    gamma = params.sigma0 * rng.standard_normal((heads, params.m)).max(axis=1)
    at = race(params, horizon=horizon)  # R and the feature's rate with Adam's amplification
    ratio = at.rate_ratio * np.exp(-spread * np.abs(rng.standard_normal(heads)))
    A = reversal_ratio(params)
    eta = params.eta * at.feature_amplification
    rho0 = float(INITIAL_NOISE_LEVEL.at(params, sigma0=params.sigma0))
    usable = eta * horizon - params.formula_values()["gamma0"]  # the race's horizon rule
    reverses = ratio > np.maximum(A, A + 2 * (A * gamma - rho0) / usable)
    return np.maximum((A * gamma - rho0) / (eta * (ratio - A)), 0.0)[reverses]


@pytest.mark.parametrize("spread", [0.0, 0.44])
def test_reversal_time_band_is_the_spread_of_sampled_heads(spread: float) -> None:
    # 200000 sampled heads against the band's quantile grid (256 gamma0 quantiles x 256 of |eps|):
    # the sample quantiles' standard error is below 0.5% here and the grid's steps about 1%, so
    # the 0.1 and 0.9 quantiles agree within 3%.
    params = tang2025_synthetic(optimizer="adam", B=100)
    band = reversal_time_band(params, HiddenConstants(race_spread=spread), horizon=6000)
    assert band is not None and band[0] < band[1]
    sampled = np.quantile(_sampled_reversal_times(params, spread, 6000), BAND_LEVELS)
    np.testing.assert_allclose(band, sampled, rtol=0.03)


@pytest.mark.parametrize("spread", [0.0, 0.44])
def test_median_reversal_time_is_the_median_of_sampled_heads(spread: float) -> None:
    # The same 200000 sampled heads and grid as the band's test: the median's standard error is
    # below 0.3% and the grid's steps about 1%, so they agree within 3%; with a spread the median
    # lies above the eps = 0 head's t_r (the fastest typical one), without it at the same order.
    params = tang2025_synthetic(optimizer="adam", B=100)
    constants = HiddenConstants(race_spread=spread)
    median = median_reversal_time(params, constants, horizon=6000)
    sampled = float(np.median(_sampled_reversal_times(params, spread, 6000)))
    assert median == pytest.approx(sampled, rel=0.03)
    fastest = race(params, constants, horizon=6000).reversal_time
    assert fastest is not None
    if spread > 0:
        assert median > 1.2 * fastest
    assert median_reversal_time(params.replace(B=2), horizon=6000) is None  # no head reverses


def test_the_spread_only_slows_a_reversing_head() -> None:
    params = tang2025_synthetic(optimizer="adam", B=100)
    narrow = reversal_time_band(params, HiddenConstants(race_spread=0.0), horizon=20_000)
    wide = reversal_time_band(params, HiddenConstants(race_spread=0.44), horizon=20_000)
    fastest = race(params, horizon=20_000).reversal_time
    assert narrow is not None and wide is not None and fastest is not None
    assert wide[1] > narrow[1] and wide[0] >= narrow[0] * 0.99
    assert reversal_time_band(params.replace(B=2), horizon=20_000) is None  # no head reverses
