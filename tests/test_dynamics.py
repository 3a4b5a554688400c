"""dynamics: coordinate optimisers equal theorykit's formulas and validation's torch optimisers; the reduced
dynamics are exact where the theory says so, and agree with the CNN within the stated tolerance elsewhere."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from dynamics.mean_field import run_mean_field
from dynamics.optimizers import KINDS, CoordinateOptimizer, Hyper
from dynamics.predict import OUTCOMES, classify, phase_diagram, stuck_threshold
from dynamics.problem import ReducedProblem, sample_reduced_problem
from dynamics.reduced import ReducedDynamics, simulate
from theorykit import ParameterError, tang2025_synthetic
from theorykit import symbols as S
from theorykit.updates import ADAM_FEATURE_UPDATE, ADAMW_FEATURE_UPDATE, GD_FEATURE_STEP, SIGNSGD_FEATURE_STEP, SIGNSGDW_FEATURE_STEP
from validation.coefficient_check import coefficient_check
from validation.engine import RunSpec
from validation.optim import Hyper as TorchHyper
from validation.optim import StackedOptimizer

finite = st.floats(-1.0, 1.0, allow_nan=False)
positive = st.floats(1e-4, 0.5)


@settings(max_examples=60, deadline=None)
@given(gamma=finite, drive=finite, lam=positive, eta=positive, mom1=finite, mom2=st.floats(0.0, 1.0))
def test_one_coordinate_step_is_theorykits_formula(gamma: float, drive: float, lam: float, eta: float,
                                                   mom1: float, mom2: float) -> None:
    """gamma = w[1] of head +1, data gradient -drive: every kind's step is its (B.3)/(B.5)/(3.5)/(3.6) formula."""
    hyper = Hyper(*(np.array([value]) for value in (eta, lam, 0.9, 0.999, 1e-8)))
    expected = {
        "signsgd": SIGNSGD_FEATURE_STEP(gamma=gamma, drive=drive, lam=lam, eta=eta),
        "signsgdw": SIGNSGDW_FEATURE_STEP(gamma=gamma, drive=drive, lam=lam, eta=eta),
        "gd": GD_FEATURE_STEP(gamma=gamma, drive=drive, lam=lam, eta=eta),
    }
    for kind, formula in (("adam", ADAM_FEATURE_UPDATE), ("adamw", ADAMW_FEATURE_UPDATE)):
        expected[kind] = formula.weight.evaluate({S.gamma.name: gamma, S.drive.name: drive, S.lam.name: lam,
                                                  S.eta.name: eta, S.mom1.name: mom1, S.mom2.name: mom2,
                                                  S.beta1.name: 0.9, S.beta2.name: 0.999, S.eps.name: 1e-8})
    for kind in KINDS:
        optimizer = CoordinateOptimizer(kind)
        w = np.array([gamma])
        state = optimizer.init(w)
        if state is not None:
            state.first[:], state.second[:] = mom1, mom2
        optimizer.update(w, np.array([-drive]), hyper, state, t=1)
        # sgn() switches are excluded the same way as in test_updates: float64 vs sympy may pick sides there
        if kind in ("signsgd", "signsgdw") and abs(drive - (lam * gamma if kind == "signsgd" else 0.0)) < 1e-9:
            continue
        assert w[0] == pytest.approx(float(expected[kind]), rel=1e-9, abs=1e-12), kind


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("bias_correction", [True, False])
def test_numpy_and_torch_optimisers_take_the_same_steps(kind: str, bias_correction: bool) -> None:
    # Same float64 arithmetic in the same order on both sides: rtol 1e-12 over 20 steps.
    rng = np.random.default_rng(0)
    values = ([1e-2, 3e-3], [1e-3, 0.5], [0.9, 0.5], [0.999, 0.9], [1e-8, 1e-3])
    numpy_hyper = Hyper(*(np.array(v) for v in values))
    torch_hyper = TorchHyper(*(torch.tensor(v, dtype=torch.float64) for v in values))
    w = rng.normal(size=(2, 3, 4))
    W = torch.tensor(w)
    ours, theirs = CoordinateOptimizer(kind, bias_correction), StackedOptimizer(kind, bias_correction)
    state, torch_state = ours.init(w), theirs.init(W)
    for t in range(1, 21):
        g = rng.normal(size=w.shape)
        ours.update(w, g, numpy_hyper, state, t)
        theirs.update(W, torch.tensor(g), torch_hyper, torch_state)
    np.testing.assert_allclose(w, W.numpy(), rtol=1e-12, atol=1e-15)


def test_sampled_initial_coefficients_have_the_theorys_spread() -> None:
    # zeta_{j,r,i}(0) ~ N(0, sigma0^2 ||xi_i||_2^2): 2 * 20 * 200 = 8000 standardised draws, whose variance
    # has standard error sqrt(2/8000) = 1.6%; 6% is ~4 standard errors.
    p = tang2025_synthetic()
    problem = sample_reduced_problem([p], [3])
    standardised = problem.zeta0[0] / (p.sigma0 * np.sqrt(problem.l2sq[0]))
    assert standardised.var() == pytest.approx(1.0, rel=0.06)
    assert (problem.y == 1).sum() == p.n // 2
    np.testing.assert_allclose(problem.l1[0].mean(), math.sqrt(2 / math.pi) * p.s * p.sigma_p, rtol=0.02)


def test_reduced_problem_rejects_mismatched_shapes_and_groups() -> None:
    p = tang2025_synthetic(n=10, m=3, B=5)
    good = sample_reduced_problem([p], [0])
    with pytest.raises(ParameterError) as caught:
        ReducedProblem(good.params, good.y, good.l1, good.l2sq, good.w_feature0, good.zeta0[..., :5])
    assert caught.value.name == "zeta0"
    with pytest.raises(ParameterError):
        sample_reduced_problem([p, p.replace(optimizer="adamw")], [0, 1])
    with pytest.raises(ParameterError):
        simulate(sample_reduced_problem([p], [0], samples=4))


@pytest.mark.parametrize(("optimizer", "lam", "eta"), [("signsgdw", 0.01, 5e-5), ("signsgd", 0.0, 5e-5), ("gd", 0.01, 0.05)])
def test_reduction_is_exact_for_disjoint_supports(optimizer: str, lam: float, eta: float) -> None:
    """GD, SignSGDW and SignSGD without decay: the reduced model is the CNN's own dynamics in other
    coordinates. 300 steps in float64; 1e-9 relative allows for reordered sums, nothing more."""
    p = tang2025_synthetic(n=40, s=20, B=4, optimizer=optimizer, lam=lam, eta=eta)
    check = coefficient_check(RunSpec(p, supports="disjoint"), steps=300, record_every=100)
    assert check.gamma_error.max() < 1e-9 and check.rho_error.max() < 1e-9


@pytest.mark.parametrize(("optimizer", "lam"), [("adam", 1e-5), ("adam", 0.01), ("signsgd", 0.01), ("adamw", 0.01)])
def test_support_resolved_reduction_is_exact_for_every_optimiser_on_disjoint_supports(optimizer: str, lam: float) -> None:
    """Carrying every support coordinate makes L2 sign-decay and Adam's per-coordinate moments exact, where
    the shared displacement is off by 5-60% (comparison report). 300 steps, float64: 1e-8 relative covers
    reordered sums and eps-level differences of Adam's sqrt(v) + eps, nothing of the model."""
    p = tang2025_synthetic(n=40, s=20, B=4, optimizer=optimizer, lam=lam, eta=1e-3, bias_correction=True)
    check = coefficient_check(RunSpec(p, supports="disjoint"), steps=300, record_every=100, resolve_supports=True)
    assert check.gamma_error.max() < 1e-8 and check.rho_error.max() < 1e-8
    shared = coefficient_check(RunSpec(p, supports="disjoint"), steps=300, record_every=100)
    assert max(shared.gamma_error.max(), shared.rho_error.max()) > 1e-6  # the shared displacement is an approximation


def test_support_resolved_simulation_runs_and_measures() -> None:
    p = tang2025_synthetic(n=20, s=20, B=2, m=4, epochs=3, optimizer="adam", lam=1e-5, eta=1e-3)
    problem = sample_reduced_problem([p, p.replace(lam=0.01)], [0, 1], resolve_supports=True)
    np.testing.assert_allclose(problem.zeta0, np.einsum("ejrnk,enk->ejrn", problem.w_support0, problem.xi_support))
    (first, second) = simulate(problem, record_every=1, test_size=200)
    assert first.epoch.tolist() == [0, 1, 2, 3] and 0 <= first.final()["test_error"] <= 1
    with pytest.raises(ParameterError, match="mean-field"):
        run_mean_field(problem, steps=1)
    with pytest.raises(ParameterError, match="'s'"):
        sample_reduced_problem([p, p.replace(s=10)], [0, 1], resolve_supports=True)


def test_adamw_coefficients_agree_with_the_cnn_in_stage_one() -> None:
    """AdamW is exact up to eps; measured 0.2% (gamma) and 7% (rho) after 500 steps. Tolerance: the
    issue's 20% for Stage I (the coefficients are still growing: gamma ~ 2 sigma0)."""
    p = tang2025_synthetic(n=40, s=20, B=4, optimizer="adamw", lam=0.01, bias_correction=True)
    check = coefficient_check(RunSpec(p, supports="disjoint"), steps=500, record_every=100)
    assert check.gamma_error.max() < 0.2 and check.rho_error.max() < 0.2


def test_mean_field_with_every_sample_at_full_batch_is_the_exact_dynamics() -> None:
    # B = n: every sample is in every batch and the batch mean is the mean over all samples, so the
    # two code paths compute the same numbers (reordered sums: rtol 1e-10).
    p = tang2025_synthetic(n=16, m=3, B=16, optimizer="adam", epochs=40, bias_correction=True)
    problem = sample_reduced_problem([p], [5])
    exact = ReducedDynamics.start(problem)
    for _ in range(40):
        exact.step(np.arange(16)[None, :])
    mean_field = run_mean_field(problem, steps=40)
    np.testing.assert_allclose(mean_field.u, exact.u, rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(mean_field.w_feature, exact.w_feature, rtol=1e-10, atol=1e-15)


def test_classify_names_the_three_regimes() -> None:
    assert classify({"train_error": 0.5, "test_error": 0.5}) == "stuck"
    assert classify({"train_error": 0.0, "test_error": 0.9}) == "memorises noise"
    assert classify({"train_error": 0.0, "test_error": 0.01}) == "learns feature"
    assert set(OUTCOMES) == {"stuck", "memorises noise", "learns feature"}


def test_adam_gets_stuck_above_a_threshold_near_theorykits_prediction() -> None:
    """Mean-field, paper setting at B = 2, 3000 steps (30 epochs; collapse takes ~sigma0/eta = 200 steps).
    The prediction lambda*_Adam = 0.0132 (theorykit.bounds) and the simulated bracket must agree within
    the factor 2 the issue asks of predicted vs measured thresholds."""
    p = tang2025_synthetic(B=2, bias_correction=True)
    bracket = stuck_threshold(p, [0.0025, 0.005, 0.007, 0.01, 0.014, 0.02, 0.04, 0.08], steps=3000, samples=16)
    assert bracket is not None
    assert 0.5 < math.sqrt(bracket[0] * bracket[1]) / 0.0132 < 2.0


def test_phase_diagram_has_the_grid_shape_and_a_stuck_region() -> None:
    p = tang2025_synthetic(n=40, m=5, s=20, bias_correction=True)
    diagram = phase_diagram(p, [2, 40], [1e-5, 0.5], steps=400, samples=8)
    assert diagram.test_error.shape == diagram.train_error.shape == (2, 2)
    assert (diagram.outcomes()[:, 1] == "stuck").all()  # lam = 0.5 >> lambda*_Adam
    with pytest.raises(ParameterError):
        phase_diagram(p, [], [1e-5], steps=10)
    with pytest.raises(ParameterError, match="workers"):
        phase_diagram(p, [2], [1e-5], steps=10, workers=0)


def test_phase_diagram_in_worker_processes_equals_the_serial_one() -> None:
    # Chunks are independent and seeded alike, so two spawned workers must give the serial arrays bit for bit.
    p = tang2025_synthetic(n=40, m=5, s=20, optimizer="adamw", bias_correction=True)
    grid = dict(batch_sizes=[2, 8, 40], lams=np.geomspace(1e-4, 1.0, 3), steps=200, samples=8, chunk=2)
    serial, parallel = phase_diagram(p, **grid), phase_diagram(p, **grid, workers=2)
    for name in ("train_error", "test_error", "feature"):
        np.testing.assert_array_equal(getattr(serial, name), getattr(parallel, name))
