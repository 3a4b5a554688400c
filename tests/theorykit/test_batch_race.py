"""theorykit.batch_race: the per-epoch race's ratio R(P) and the critical batch size B* = n / P*."""

import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from theorykit import HiddenConstants, ParameterError, ProblemParams, tang2025_synthetic
from theorykit.batch_race import (
    EXPECTED_NOISE_L1,
    critical_batch_size,
    critical_steps_per_epoch,
    noise_to_feature_ratio,
)
from theorykit.closed_forms import PERIODIC_SPIKE_STEP_SUM
from theorykit.optimizers import ADAM_MOMENTS
from theorykit.testing import strategies as tks

SIGN_TYPE = st.sampled_from(["adam", "adamw", "signsgd", "signsgdw"])


@st.composite
def race_params(draw: st.DrawFn) -> ProblemParams:
    """Admissible settings of a sign-type optimiser with beta1^2 < beta2 (Lemma C.1)."""
    params = draw(tks.admissible_params(optimizer=draw(SIGN_TYPE)))
    assume(params.beta1**2 < params.beta2)
    return params


def test_expected_noise_l1_is_the_mean_of_sampled_supports() -> None:
    # 20000 supports of s = 100 Gaussian coordinates: the sample mean of ||xi||_1 has standard error
    # sqrt(s (1 - 2/pi)) sigma_p / sqrt(20000) = 0.0043 (relative 5e-4); 5 standard errors is 0.3%.
    params = tang2025_synthetic()
    xi = np.random.default_rng(0).normal(0.0, params.sigma_p, size=(20_000, params.s))
    assert np.abs(xi).sum(axis=1).mean() == pytest.approx(EXPECTED_NOISE_L1.at(params), rel=3e-3)


def test_paper_setting_values() -> None:
    # Paper setting: E||xi||_1 = 0.798 * 100 * 0.1 = 7.98. SignSGD: P* = 7.98, B* = 200 / 7.98 =
    # 25.07. Adam (0.9, 0.999): S(P) ~ sqrt(P) for P << 1000, so P* ~ 7.98^2 = 63.7; S(62.3) is 2%
    # below sqrt.
    sign = tang2025_synthetic(optimizer="signsgd")
    assert critical_batch_size(sign) == pytest.approx(
        200 / (math.sqrt(2 / math.pi) * 10), rel=1e-12
    )
    adam = tang2025_synthetic(optimizer="adam")
    assert 55 < critical_steps_per_epoch(adam) < 63.7
    assert critical_batch_size(adam) == pytest.approx(
        200 / critical_steps_per_epoch(adam), rel=1e-12
    )


@given(race_params())
def test_ratio_is_one_at_the_critical_period(params: ProblemParams) -> None:
    P = critical_steps_per_epoch(params)
    assert math.isfinite(P) and P > 0
    assert noise_to_feature_ratio(params, steps_per_epoch=P) == pytest.approx(1.0, rel=1e-6)


@given(race_params(), st.floats(0.01, 1e4), st.floats(1.001, 100.0))
def test_ratio_decreases_with_iterations_per_epoch(
    params: ProblemParams, P: float, factor: float
) -> None:
    # R(P) = C S(P) E||xi||_1 / P: more iterations per epoch (smaller B) favour the feature.
    assert noise_to_feature_ratio(params, steps_per_epoch=P * factor) < noise_to_feature_ratio(
        params, steps_per_epoch=P
    )


@given(race_params(), st.floats(0.05, 20.0))
def test_race_constant_scales_the_ratio(params: ProblemParams, constant: float) -> None:
    scaled = HiddenConstants(batch_race=constant)
    assert noise_to_feature_ratio(params, scaled) == pytest.approx(
        constant * noise_to_feature_ratio(params), rel=1e-12
    )
    if params.optimizer not in ADAM_MOMENTS:  # P* = C E||xi||_1: B* is inversely proportional to C
        assert critical_batch_size(params, scaled) == pytest.approx(
            critical_batch_size(params) / constant, rel=1e-12
        )


@given(race_params(), st.floats(1.01, 10.0))
def test_more_noise_mass_memorises_at_smaller_batches(params: ProblemParams, factor: float) -> None:
    noisier = params.replace(sigma_p=params.sigma_p * factor)
    assert critical_batch_size(noisier) < critical_batch_size(params)


@given(race_params())
def test_adam_spreads_a_visit_over_at_least_one_sign_step(params: ProblemParams) -> None:
    # S(P) >= 1 for P >= 1 (S(1) = 1): Adam's per-epoch noise growth is at least SignSGD's, so where
    # SignSGD's P* is a real period (>= 1), Adam's B* is not larger. (P* < 1: both predict no
    # memorisation at any B <= n; S below P = 1 is an extrapolation and is not compared.)
    assume(params.optimizer in ADAM_MOMENTS)
    assert float(PERIODIC_SPIKE_STEP_SUM.at(params, P=params.steps_per_epoch)) >= 1 - 1e-12
    assume(critical_steps_per_epoch(params.replace(optimizer="signsgd")) >= 1)
    assert critical_batch_size(params) <= critical_batch_size(
        params.replace(optimizer="signsgd")
    ) * (1 + 1e-9)


@given(tks.problem_params())
def test_every_valid_setting_gives_a_number_or_a_named_error(params: ProblemParams) -> None:
    try:
        value = critical_batch_size(params)
    except ParameterError as error:
        assert error.name in ("optimizer", "beta1")
        return
    assert math.isfinite(value) and value > 0


def test_bad_inputs_are_named() -> None:
    with pytest.raises(ParameterError, match="optimizer"):
        critical_batch_size(tang2025_synthetic(optimizer="gd"))
    with pytest.raises(ParameterError, match="beta1"):
        critical_batch_size(tang2025_synthetic(optimizer="adam", beta1=0.9, beta2=0.5))
    with pytest.raises(ParameterError, match="steps_per_epoch"):
        noise_to_feature_ratio(tang2025_synthetic(optimizer="adam"), steps_per_epoch=0.0)
    with pytest.raises(ParameterError, match="batch_race"):
        HiddenConstants(batch_race=0.0)


def test_bounds_summary_reports_the_race_for_both_families() -> None:
    from theorykit import bounds_summary

    params = tang2025_synthetic(B=16)
    summary = bounds_summary(params)
    assert summary.critical_batch_sizes == {
        "adam/adamw": critical_batch_size(params.replace(optimizer="adam")),
        "signsgd/signsgdw": critical_batch_size(params.replace(optimizer="signsgd")),
    }
    assert "critical batch size B*" in str(summary)
    no_race = bounds_summary(
        params.replace(beta1=0.9, beta2=0.5)
    )  # beta1^2 >= beta2: S(P) undefined
    assert no_race.to_dict()["critical_batch_sizes"]["adam/adamw"] is None
    assert "n/a: beta1^2 >= beta2" in str(no_race)
