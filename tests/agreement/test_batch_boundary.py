"""Batch-size boundary: a horizon in iterations, the reduced dynamics over B, the comparison's
bookkeeping, and the reduced model against the CNN on disjoint supports."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dynamics.outcomes import classify
from dynamics.predict import batch_sweep, epochs_for_steps
from theorykit import ParameterError, tang2025_synthetic
from validation.cnn.engine import train
from validation.experiments.accuracy import accuracy
from validation.experiments.batch_comparison import BatchRow
from validation.experiments.comparison_scoring import agrees
from validation.experiments.settings import ComparisonSetting, batch_grid
from validation.runs.spec import EngineOptions, RunSpec

LEARN, MEMORISE = "learns feature", "memorises noise"


@given(st.integers(2, 5000), st.data(), st.integers(1, 10**6))
def test_epochs_for_steps_is_the_shortest_horizon_with_that_many_iterations(
    n: int, data: st.DataObject, steps: int
) -> None:
    params = tang2025_synthetic(n=n, B=data.draw(st.integers(1, n)))
    per_epoch = math.ceil(n / params.B)
    epochs = epochs_for_steps(params, steps)
    assert epochs * per_epoch >= steps > (epochs - 1) * per_epoch


def test_bad_sweeps_are_named() -> None:
    base = tang2025_synthetic(n=40, s=20)
    with pytest.raises(ParameterError, match="steps"):
        epochs_for_steps(base, 0)
    with pytest.raises(ParameterError, match="batch_sizes"):
        batch_sweep([base], [4, 2], steps=10)
    with pytest.raises(ParameterError, match="seeds"):
        batch_sweep([base], [2, 4], steps=10, seeds=())
    with pytest.raises(ParameterError, match="bases"):
        batch_sweep([], [2, 4], steps=10)
    with pytest.raises(ParameterError, match="B"):
        batch_sweep([base], [2, 80], steps=10)  # B > n


def test_batch_sweep_keeps_settings_apart_when_grouping() -> None:
    # Two settings with different n cannot share arrays: each must come back in its own row, in
    # order, with the shape (batch sizes, seeds), and equal to the same setting run alone (same
    # seeds, same draws).
    small = tang2025_synthetic(optimizer="signsgd", lam=0.0, n=20, s=20, sigma_p=0.3)
    large = small.replace(n=40)
    together = batch_sweep([large, small], [2, 20], steps=200, seeds=(0, 1))
    assert [sweep.base.n for sweep in together] == [40, 20]
    assert all(sweep.test_error.shape == (2, 2) for sweep in together)
    alone = batch_sweep([small], [2, 20], steps=200, seeds=(0, 1))[0]
    np.testing.assert_array_equal(alone.test_error, together[1].test_error)
    np.testing.assert_array_equal(alone.train_error, together[1].train_error)
    assert not np.array_equal(together[0].test_error, together[1].test_error)


def test_disjoint_supports_reduced_dynamics_and_cnn_agree_on_the_batch_outcome() -> None:
    # On disjoint supports the support-resolved reduced dynamics is the CNN restricted to the
    # coordinates training touches (exact for Adam, tests/test_dynamics.py), so from independent
    # draws of the same setting both must give the same regime. n = 40, s = 20, sigma_p = 0.3, 1500
    # iterations: at B = 2 both learn the feature (measured test error 0.00 / 0.002), at B = 16 both
    # memorise (0.997 / 0.92); classify's 0.25 cut sits far from every value, so one seed each
    # decides it.
    base = tang2025_synthetic(
        optimizer="adam", lam=1e-5, B=1, n=40, s=20, sigma_p=0.3, bias_correction=True
    )
    reduced = batch_sweep([base], [2, 16], steps=1500, seeds=(0,), reduction="support-resolved")[0]
    assert reduced.outcomes() == [LEARN, MEMORISE]
    assert reduced.boundary() == (2, 16)
    specs = [
        RunSpec(
            base.replace(B=B, epochs=epochs_for_steps(base.replace(B=B), 1500)),
            supports="disjoint",
            data_seed=1,
            init_seed=1,
        )
        for B in (2, 16)
    ]
    cnn = [
        classify(trajectory.final())
        for trajectory in train(specs, EngineOptions(record_every=10**6, test_size=1000))
    ]
    assert cnn == reduced.outcomes()


def test_batch_grid_keeps_divisors_of_n() -> None:
    assert batch_grid(40) == (1, 2, 4, 5, 8, 10, 20, 40)
    assert batch_grid(200) == (2, 5, 10, 20, 25, 40, 50, 100, 200)
    assert batch_grid(7) == (7,)
    assert batch_grid(12) == (2, 3, 4, 6, 12)


def _row(cnn: tuple[str, ...], predicted: float) -> BatchRow:
    # Not a calibration setting (theorykit.calibration): held out, so it is scored.
    setting = ComparisonSetting("x", {"n": 40, "s": 20, "sigma_p": 0.25}, supports="disjoint")
    grid = (1, 2, 4, 8, 10, 20, 40)
    return BatchRow(
        setting,
        setting.params(optimizer="adam"),
        grid,
        predicted,
        tuple(() for _ in grid),
        tuple((label, LEARN) for label in cnn),
        tuple((0.9 if label == MEMORISE else 0.0, 0.0) for label in cnn),
    )


def test_a_batch_memorises_when_any_seed_does_and_brackets_can_be_open() -> None:
    row = _row((LEARN,) * 3 + (MEMORISE,) * 4, 5.0)
    assert row.bracket(row.cnn) == (4, 8) and row.measured() == pytest.approx(math.sqrt(32))
    assert row.bracket(row.cnn, seed=1) is None  # seed 1 learns everywhere
    assert row.measured_interval() == (4, 8)
    never = _row((LEARN,) * 7, 5.0)
    assert never.measured() is None and never.measured_interval() == (40, math.inf)
    always = _row((MEMORISE,) * 7, 5.0)
    assert always.measured_interval() == (0.0, 1)


def test_accuracy_scores_open_brackets_by_side() -> None:
    # A closed bracket agrees within 2x of its geometric mean; (40, inf) only beyond the grid.
    assert agrees((4, 8), 5.0) and agrees((4, 8), 11.0) and not agrees((4, 8), 12.0)
    assert agrees((40, math.inf), 41.0) and not agrees((40, math.inf), 39.0)
    assert agrees((0.0, 1), 0.5) and not agrees((0.0, 1), 1.5)
    rows = [_row((LEARN,) * 3 + (MEMORISE,) * 4, 5.0), _row((LEARN,) * 7, 20.0)]
    (score,) = [s for s in accuracy(rows, []) if s.quantity == "B* (adam)"]
    assert (score.scored, score.hits, score.closed, score.closed_hits) == (2, 1, 1, 1)
    assert score.misses == ("x (CNN > 40 (none in grid); theorykit 20)",)
