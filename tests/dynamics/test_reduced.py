"""dynamics.problem, dynamics.reduced, dynamics.mean_field: the sampled data and initialisation
follow Def. 3.1/3.2, the simulators run, measure and agree with each other where they must."""

import math

import numpy as np
import pytest

from dynamics.mean_field import run_mean_field
from dynamics.problem import ReducedProblem, sample_reduced_problem
from dynamics.reduced import ReducedDynamics, simulate
from theorykit import ParameterError, tang2025_synthetic


def test_sampled_initial_coefficients_have_the_theorys_spread() -> None:
    # zeta_{j,r,i}(0) ~ N(0, sigma0^2 ||xi_i||_2^2): 2 * 20 * 200 = 8000 standardised draws, whose
    # variance has standard error sqrt(2/8000) = 1.6%; 6% is ~4 standard errors.
    p = tang2025_synthetic()
    problem = sample_reduced_problem([p], [3])
    standardised = problem.zeta0[0] / (p.sigma0 * np.sqrt(problem.l2sq[0]))
    assert standardised.var() == pytest.approx(1.0, rel=0.06)
    assert (problem.y == 1).sum() == p.n // 2
    np.testing.assert_allclose(
        problem.l1[0].mean(), math.sqrt(2 / math.pi) * p.s * p.sigma_p, rtol=0.02
    )


def test_reduced_problem_rejects_mismatched_shapes_and_groups() -> None:
    p = tang2025_synthetic(n=10, m=3, B=5)
    good = sample_reduced_problem([p], [0])
    with pytest.raises(ParameterError) as caught:
        ReducedProblem(
            good.params, good.y, good.l1, good.l2sq, good.w_feature0, good.zeta0[..., :5]
        )
    assert caught.value.name == "zeta0"
    with pytest.raises(ParameterError):
        sample_reduced_problem([p, p.replace(optimizer="adamw")], [0, 1])
    with pytest.raises(ParameterError):
        simulate(sample_reduced_problem([p], [0], samples=4))


def test_support_resolved_simulation_runs_and_measures() -> None:
    p = tang2025_synthetic(n=20, s=20, B=2, m=4, epochs=3, optimizer="adam", lam=1e-5, eta=1e-3)
    problem = sample_reduced_problem([p, p.replace(lam=0.01)], [0, 1], reduction="support-resolved")
    np.testing.assert_allclose(
        problem.zeta0, np.einsum("ejrnk,enk->ejrn", problem.w_support0, problem.xi_support)
    )
    first, _ = simulate(problem, record_every=1, test_size=200)
    assert first.epoch.tolist() == [0, 1, 2, 3] and 0 <= first.final()["test_error"] <= 1
    with pytest.raises(ParameterError, match="mean-field"):
        run_mean_field(problem, steps=1)
    with pytest.raises(ParameterError, match="'s'"):
        sample_reduced_problem([p, p.replace(s=10)], [0, 1], reduction="support-resolved")


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
