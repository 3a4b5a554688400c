"""Theory next to simulation: the reduced prediction of a CNN run from its own initialisation and
batches (validation.experiments.prediction), the one-call comparison (validation.compare_setting)
and agreement as a property over drawn settings.

Tolerances. Disjoint supports: the support-resolved reduction is the CNN restricted to the
coordinates training touches, and its state is measured as CNN weights on the run's own data
(validation.cnn.readout.implied_weights), so every metric -- the test error included -- agrees to
float64 round-off over the few hundred steps here: rtol 1e-9, atol 1e-12 (measured: <= 4e-16).
Overlapping supports: gradient descent stays exact through the coupling G; the sign and Adam
closures of docs/notes/overlap.md are approximations whose trajectory error is bounded by
``validation.reports.agreement.OVERLAP_TRAJECTORY_BOUND`` on these CNN-sized settings (see there).
"""

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from theorykit import tang2025_synthetic
from theorykit.params import ProblemParams
from theorykit.testing import strategies as tks
from validation import EngineOptions, RunSpec, compare_setting
from validation.cnn.engine import train
from validation.experiments.prediction import predict
from validation.reports.agreement import OVERLAP_TRAJECTORY_BOUND

EXACT = {"rtol": 1e-9, "atol": 1e-12}
OPTIONS = EngineOptions(record_every=5, test_size=300)


@pytest.mark.parametrize(
    ("optimizer", "lam", "eta"),
    [
        ("gd", 0.01, 0.05),
        ("signsgd", 1e-3, 1e-3),
        ("signsgdw", 0.01, 1e-3),
        ("adam", 1e-3, 1e-3),
        ("adamw", 0.01, 1e-3),
    ],
)
def test_prediction_is_the_cnn_on_disjoint_supports(optimizer: str, lam: float, eta: float) -> None:
    p = tang2025_synthetic(
        optimizer=optimizer, lam=lam, eta=eta, n=40, s=20, B=4, epochs=20, bias_correction=True
    )
    specs = [RunSpec(p, seed, seed, "disjoint") for seed in (0, 1)]
    for measured, predicted in zip(train(specs, OPTIONS), predict(specs, OPTIONS), strict=True):
        np.testing.assert_array_equal(measured.epoch, predicted.epoch)
        for name, values in measured.metrics.items():
            np.testing.assert_allclose(predicted.metrics[name], values, **EXACT, err_msg=name)


def test_one_call_comparison_table_and_agreement() -> None:
    p = tang2025_synthetic(
        optimizer="signsgdw", lam=0.01, eta=1e-3, n=40, s=20, B=8, epochs=30, bias_correction=True
    )
    comparison = compare_setting(p, seeds=(0, 1), supports="disjoint", options=OPTIONS)
    table = comparison.table()
    assert list(table["seed"]) == [0, 1]
    for column in ("cnn_outcome", "predicted_outcome", "finite_size_verdict", "trajectory_error"):
        assert column in table.columns
    for run, (_, row) in zip(comparison.runs, table.iterrows(), strict=True):
        final = run.record.final_value("feature_pos")
        assert row["feature_pos_measured"] == final
        assert row["feature_pos_ratio"] == pytest.approx(row["feature_pos_predicted"] / final)
        assert row["test_error_predicted"] == pytest.approx(row["test_error_measured"], abs=1e-12)
    assert comparison.agrees(trajectory_tolerance=1e-9)
    assert comparison.theory.finite_size.verdict is not None
    figure = comparison.plot()
    dashed = [line for ax in figure.axes for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert len(dashed) >= 5  # predicted feature +-1, noise max/min and train error


def test_agreement_can_fail_on_overlapping_supports() -> None:
    # The overlap-aware closure is not exact for Adam: a tolerance of 1e-9 must be refused.
    p = tang2025_synthetic(optimizer="adam", lam=1e-5, eta=1e-3, n=40, s=20, B=4, epochs=10)
    comparison = compare_setting(p, supports="overlapping", options=OPTIONS)
    assert comparison.runs[0].trajectory_error > 1e-6
    assert not comparison.agrees(trajectory_tolerance=1e-9)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(tks.small_params(), st.sampled_from(["disjoint", "overlapping"]))
def test_prediction_agrees_with_the_cnn_on_drawn_settings(
    params: ProblemParams, supports: str
) -> None:
    """The property users can copy for their own conjectures: exact on disjoint supports (every
    optimiser) and for gradient descent on overlapping ones; within the documented bound for the
    other optimisers on overlapping supports."""
    comparison = compare_setting(
        params, supports=supports, options=EngineOptions(record_every=1, test_size=200)
    )
    (run,) = comparison.runs
    if supports == "disjoint" or params.optimizer == "gd":
        assert run.trajectory_error <= 1e-9
        assert run.outcome_agrees
    else:
        assert run.trajectory_error <= OVERLAP_TRAJECTORY_BOUND
    assert math.isfinite(run.trajectory_error)


def test_float32_runs_are_predicted_in_float32_and_agree_to_its_precision() -> None:
    """A float32 run's prediction reads its float32 data and initialisation and steps in float32
    (the compiled kernel); against the float64 CNN run from the same seeds, the disjoint
    (exact) prediction differs only by float32 round-off: rtol 1e-4, about 800 float32 epsilons
    over these 50 steps (measured: below 1e-5)."""
    p = tang2025_synthetic(optimizer="adam", lam=1e-3, eta=1e-3, n=20, d=401, s=20, B=4, epochs=10)
    spec = RunSpec(p, 0, 0, supports="disjoint")
    narrow = EngineOptions(record_every=5, test_size=300, dtype="float32")
    (measured,) = train([spec], OPTIONS)
    (predicted,) = predict([spec], narrow)
    for name in ("feature_pos", "feature_neg", "noise_max", "noise_min"):
        np.testing.assert_allclose(
            predicted.metrics[name], measured.metrics[name], rtol=1e-4, atol=1e-7
        )
