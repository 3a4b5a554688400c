"""theorykit.collapse, theorykit.verdict and theorykit.finite_size: the finite-size predictions."""

import json
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from theorykit import HiddenConstants, ParameterError, bounds_summary, tang2025_synthetic
from theorykit.batch_race import asymptotic_critical_batch_size, critical_batch_size
from theorykit.collapse import (
    COLLAPSE_FRACTION,
    collapse_threshold,
    largest_initial_weight,
    largest_weight_at_horizon,
)
from theorykit.finite_size import finite_size_predictions
from theorykit.initialization import expected_max_abs_std_normal
from theorykit.outcome_labels import LEARNS, MEMORISES, OUTCOMES, STUCK, UNDETERMINED
from theorykit.verdict import VERDICT_OUTCOMES, finite_size_verdict


def test_expected_maximum_matches_sampled_maxima() -> None:
    # 500 draws of the max of 40000 |N(0,1)|: the max's sd is ~0.29, so the mean's standard error
    # is 0.013; 4 standard errors is 0.05 (about 1% of the value, 4.335).
    rng = np.random.default_rng(0)
    maxima = np.abs(rng.standard_normal((500, 40_000), dtype=np.float32)).max(axis=1)
    assert maxima.mean() == pytest.approx(expected_max_abs_std_normal(40_000), abs=0.05)
    assert expected_max_abs_std_normal(1) == pytest.approx(math.sqrt(2 / math.pi), rel=1e-9)
    with pytest.raises(ParameterError, match="count"):
        expected_max_abs_std_normal(0)


def test_collapse_threshold_is_where_the_largest_weight_crosses_a_tenth_of_the_initial() -> None:
    params = tang2025_synthetic(optimizer="adamw", B=16, epochs=160)  # 2000 iterations
    threshold = collapse_threshold(params)
    bound = float(COLLAPSE_FRACTION) * largest_initial_weight(params)
    above = largest_weight_at_horizon(params.replace(lam=threshold * 1.001))
    below = largest_weight_at_horizon(params.replace(lam=threshold * 0.999))
    assert below > bound > above


@given(st.floats(1.5, 20.0))
def test_a_longer_horizon_collapses_at_a_smaller_lam(factor: float) -> None:
    # The initial weights decay as (1 - eta lam)^T: more iterations need less decay (notes §6).
    params = tang2025_synthetic(optimizer="adamw", B=16, epochs=160)
    longer = params.replace(epochs=int(160 * factor))
    assert collapse_threshold(longer) <= collapse_threshold(params) * (1 + 1e-9)


def test_collapse_threshold_needs_decoupled_decay() -> None:
    with pytest.raises(ParameterError, match="optimizer"):
        collapse_threshold(tang2025_synthetic(optimizer="adam"))


def test_verdict_reads_the_thresholds_in_order() -> None:
    constants = HiddenConstants()
    base = tang2025_synthetic(optimizer="adam", B=16, epochs=480, lam=1e-5)
    asymptotic = asymptotic_critical_batch_size(base, constants)
    assert asymptotic < critical_batch_size(base, constants)
    learns = finite_size_verdict(base, constants)
    assert learns.outcome == "learns feature"
    assert learns.margin == pytest.approx(asymptotic / 16)
    large = base.replace(B=100, epochs=3000)  # same 6000 iterations
    assert finite_size_verdict(large, constants).outcome == "memorises noise"
    stuck = finite_size_verdict(base.replace(lam=0.05), constants)
    assert stuck.outcome == "stuck" and stuck.margin > 1
    adamw = base.replace(optimizer="adamw", lam=1e4)
    assert finite_size_verdict(adamw, constants).outcome == "stuck"


def test_the_verdict_does_not_call_a_horizon_shorter_than_its_time_scales() -> None:
    """B = 100 at 600 iterations: a head reverses in the race (B > B*_inf) but only after 2 t_r +
    gamma0/eta ~ 2557 iterations, where the CNN memorises within ~1000 (compare's horizon check):
    undetermined, not "learns feature". B = 2 at 100 iterations: the feature has not doubled.
    Adam above lambda*_Adam at 600 iterations: L2 decay cannot have collapsed the weights."""
    short = tang2025_synthetic(B=100, epochs=300, bias_correction=True)
    verdict = finite_size_verdict(short)
    assert verdict.outcome == "undetermined at this horizon" and not verdict.called
    assert "2 t_r + gamma0/(a_f eta)" in verdict.reason and verdict.margin > 1
    assert "undetermined" in str(verdict) and "margin" not in str(verdict)
    early = finite_size_verdict(tang2025_synthetic(B=2, epochs=1))
    assert early.outcome == "undetermined at this horizon" and "gamma0/eta" in early.reason
    decayed = finite_size_verdict(tang2025_synthetic(B=100, epochs=300, lam=0.05))
    assert decayed.outcome == "undetermined at this horizon" and "W0/eta" in decayed.reason
    assert finite_size_verdict(tang2025_synthetic(B=32, epochs=300, lam=0.05)).outcome == "stuck"


def test_the_verdict_marks_the_calibration_settings_in_sample() -> None:
    paper = finite_size_verdict(tang2025_synthetic(B=2))
    assert paper.in_sample == ("paper (App. D.2)",) and "in-sample" in str(paper)
    held_out = finite_size_verdict(tang2025_synthetic(B=2, sigma0=0.005))
    assert held_out.in_sample == () and "in-sample" not in str(held_out)
    predictions = finite_size_predictions(tang2025_synthetic(B=2))
    assert predictions.to_dict()["in_sample"]["critical_batch_sizes"] == ["paper (App. D.2)"]


def test_gd_verdict_is_the_snr_race() -> None:
    gd = tang2025_synthetic(optimizer="gd", B=200, lam=0.0)
    verdict = finite_size_verdict(gd)
    assert verdict.outcome in ("learns feature", "memorises noise")
    assert "SNR" in verdict.reason and verdict.margin >= 1


def test_predictions_gather_every_model() -> None:
    params = tang2025_synthetic(optimizer="adam", B=100, epochs=3000)
    predictions = finite_size_predictions(params)
    assert predictions.critical_batch_sizes["adam"] == critical_batch_size(params)
    assert predictions.adamw_collapse_threshold == collapse_threshold(
        params.replace(optimizer="adamw")
    )
    assert predictions.horizon == 6000
    assert predictions.reversal_time is not None and predictions.reversal_time < 6000
    # over seeds a reversing head is slower than the eps = 0 one, its median inside the band
    band, median = predictions.reversal_time_band, predictions.median_reversal_time
    assert band is not None and median is not None
    assert predictions.reversal_time < median and band[0] < median < band[1]
    assert predictions.memorisation_probability is not None
    assert predictions.memorisation_probability >= predictions.reversal_probability
    assert predictions.verdict is not None and predictions.verdict.outcome == "memorises noise"
    json.dumps(predictions.to_dict(), allow_nan=False)  # every value JSON-ready


def test_predictions_without_a_race_say_so() -> None:
    gd = finite_size_predictions(tang2025_synthetic(optimizer="gd", lam=0.0))
    assert gd.reversal_time is None and gd.reversal_probability is None
    assert gd.median_reversal_time is None and gd.reversal_time_band is None
    assert gd.verdict is not None  # GD has the SNR race instead
    no_race = finite_size_predictions(tang2025_synthetic(optimizer="adam", beta2=0.5))
    assert no_race.critical_batch_sizes["adam"] is None and no_race.verdict is None
    assert "no prediction" in "\n".join(no_race.lines())


def test_bounds_summary_prints_both_verdicts() -> None:
    summary = bounds_summary(tang2025_synthetic(B=16))
    text = str(summary)
    assert "predicted at this setting: learns feature" in text
    assert f"theorem verdict for adam: {summary.theorem_verdict}" in text
    assert summary.to_dict()["finite_size"]["verdict"]["outcome"] == "learns feature"


def test_one_summary_evaluates_the_lambda_thresholds_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from theorykit import conditions, finite_size, verdict

    params = tang2025_synthetic(B=2)
    expected = bounds_summary(params).to_dict()
    evaluate = conditions.lambda_thresholds
    calls = []

    def counted(*args: Any, **kwargs: Any) -> dict[str, float]:
        calls.append(args)
        return evaluate(*args, **kwargs)

    for module in (conditions, finite_size, verdict):
        monkeypatch.setattr(module, "lambda_thresholds", counted)
    assert bounds_summary(params).to_dict() == expected
    assert len(calls) == 1


def test_the_verdict_speaks_the_outcome_vocabulary() -> None:
    assert set(VERDICT_OUTCOMES) == {LEARNS, MEMORISES, STUCK, UNDETERMINED}
    assert {LEARNS, MEMORISES, STUCK} < set(OUTCOMES)
    assert UNDETERMINED not in OUTCOMES
