"""Zou et al. 2023's convex counterpart: with weight decay every optimiser of the L2 objective
reaches w*."""

import numpy as np
import pytest

from dynamics.convex import logistic_problem, minimiser, optimise
from theorykit import ParameterError, tang2025_synthetic

PARAMS = tang2025_synthetic(n=50, d=200, s=20, lam=0.05)
STEPS = 20_000


@pytest.fixture(scope="module")
def problem_and_minimiser():
    problem = logistic_problem(PARAMS)
    return problem, minimiser(problem)


def test_newton_finds_a_stationary_point(problem_and_minimiser) -> None:
    problem, w_star = problem_and_minimiser
    assert np.linalg.norm(problem.data_gradient(w_star) + problem.lam * w_star) < 1e-12


@pytest.mark.parametrize(("kind", "tolerance"), [("gd", 1e-10), ("adam", 1e-3), ("signsgd", 1e-3)])
def test_every_optimiser_of_the_l2_objective_reaches_the_same_minimiser(
    problem_and_minimiser, kind: str, tolerance: float
) -> None:
    """Tolerances: GD with step 1/L converges linearly (20000 steps: round-off). Adam and SignSGD
    with eta_t = 0.01/sqrt(t) end with steps of eta_T = 7e-5 per coordinate, so they sit within
    about eta_T sqrt(d) = 1e-3 of w* (||w*|| = 2.3): relative 1e-3 bounds that oscillation (measured
    9e-6 and 3e-4)."""
    problem, w_star = problem_and_minimiser
    w = optimise(problem, kind, STEPS)
    assert np.linalg.norm(w - w_star) / np.linalg.norm(w_star) < tolerance


def test_decoupled_adamw_solves_a_different_problem(problem_and_minimiser) -> None:
    # AdamW's fixed point has |lam w_k| <= 1, not grad L = 0; measured 18x ||w*|| away.
    problem, w_star = problem_and_minimiser
    w = optimise(problem, "adamw", STEPS)
    assert np.linalg.norm(w - w_star) / np.linalg.norm(w_star) > 1.0
    assert np.abs(problem.lam * w).max() <= 1.0 + 1e-6


def test_zero_weight_decay_is_refused() -> None:
    with pytest.raises(ParameterError) as caught:
        logistic_problem(PARAMS.replace(lam=0.0))
    assert caught.value.name == "lam"
