"""theorykit.time_scales (T0, T_r orders) and dynamics.outcomes.measured_time_scales."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dynamics.outcomes import measured_time_scales
from dynamics.problem import sample_reduced_problem
from dynamics.reduced import simulate
from theorykit import ParameterError, ProblemParams, tang2025_synthetic
from theorykit.testing import strategies as tks
from theorykit.time_scales import REVERSAL_TIME, STAGE1_LENGTH_LARGE_BATCH, STAGE1_LENGTH_MINI_BATCH


def test_paper_setting_values() -> None:
    # eta = 5e-5, s sigma_p = 10, sigma0 = 0.01, alpha = 0.2, q = 3: T0 = 2000, 20000; T_r = 0.01 /
    # (5e-4 sqrt(0.2)).
    p = tang2025_synthetic()
    assert STAGE1_LENGTH_LARGE_BATCH.at(p) == pytest.approx(2000)
    assert STAGE1_LENGTH_MINI_BATCH.at(p) == pytest.approx(20000)
    assert REVERSAL_TIME.at(p) == pytest.approx(0.01 / (5e-4 * 0.2**0.5))


@given(tks.admissible_params(), st.floats(1.1, 10.0))
def test_orders_scale_as_the_lemmas_state(params: ProblemParams, factor: float) -> None:
    slower = params.replace(eta=params.eta / factor)
    for formula in (STAGE1_LENGTH_LARGE_BATCH, STAGE1_LENGTH_MINI_BATCH, REVERSAL_TIME):
        assert formula.at(slower) == pytest.approx(
            factor * formula.at(params), rel=1e-9
        )  # all ~ 1/eta
    wider = params.replace(sigma0=min(params.sigma0 * factor, 0.5))
    assert REVERSAL_TIME.at(wider) == pytest.approx(
        wider.sigma0 / params.sigma0 * REVERSAL_TIME.at(params), rel=1e-9
    )
    assert REVERSAL_TIME.at(params.replace(alpha=params.alpha / factor)) > REVERSAL_TIME.at(params)


def _trajectory(feature_pos: list[float], feature_neg: list[float], loss: list[float]) -> dict:
    return {"feature_pos": feature_pos, "feature_neg": feature_neg, "loss": loss}


def test_measured_time_scales_reads_peaks_and_the_loss() -> None:
    metrics = _trajectory([0.0, 0.2, 0.4, 0.1], [0.0, 0.1, 0.2, 0.3], [0.7, 0.5, 0.3, 0.1])
    assert measured_time_scales([0, 10, 20, 30], metrics) == {
        "stage1_end": 20.0,
        "reversal_pos": 20.0,
        "reversal_neg": None,
        "reversal": 20.0,
    }
    # a fall of less than half the rise is not a reversal; a loss that never halves has no Stage-I
    # end
    flat = measured_time_scales(
        [0, 10, 20], _trajectory([0.0, 0.4, 0.25], [0.0, 0.0, 0.0], [0.7, 0.6, 0.4])
    )
    assert flat == {
        "stage1_end": None,
        "reversal_pos": None,
        "reversal_neg": None,
        "reversal": None,
    }
    with pytest.raises(ParameterError, match="iterations"):
        measured_time_scales([0, 0], metrics)


def test_reduced_large_batch_adam_reverses_within_stage_one() -> None:
    # Lemma C.13: T_r <= T0 at large batch. Exact reduced dynamics, paper setting, B = 100, 1500
    # epochs recorded every 10 (20 iterations): measured T_r = 240, T0 = 720 (theory orders 45 and
    # 2000). Mini-batch (B = 2, 3000 iterations) must not reverse at all (Lemma C.5: the feature
    # grows).
    large = tang2025_synthetic(optimizer="adam", lam=1e-5, B=100, epochs=1500, bias_correction=True)
    (trajectory,) = simulate(sample_reduced_problem([large], [0]), record_every=10)
    scales = measured_time_scales(trajectory.epoch * 2, trajectory.metrics)
    assert scales["reversal"] is not None and scales["stage1_end"] is not None
    assert scales["reversal"] < scales["stage1_end"]
    mini = large.replace(B=2, epochs=30)
    (trajectory,) = simulate(sample_reduced_problem([mini], [0]), record_every=1)
    assert measured_time_scales(trajectory.epoch * 100, trajectory.metrics)["reversal"] is None
