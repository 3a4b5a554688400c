"""dynamics.reductions: each reduction's zeta, batch gradient and measurements agree with the model
they carry (the step itself is checked against the kernel in test_kernel.py)."""

from __future__ import annotations

import numpy as np
import pytest

from dynamics.problem import sample_reduced_problem
from dynamics.reduced import ReducedDynamics
from dynamics.reduction_overlap import OverlapAware
from dynamics.reduction_resolved import SupportResolved
from dynamics.reduction_shared import SharedDisplacement
from dynamics.reductions import reduction_of
from theorykit.params import tang2025_synthetic

CLASSES = {
    "shared": SharedDisplacement,
    "support-resolved": SupportResolved,
    "overlap-aware": OverlapAware,
}


def _problem(reduction: str, optimizer: str = "adam"):
    d = 20 * 10 + 1 if reduction == "support-resolved" else 60
    params = [
        tang2025_synthetic(n=20, s=10, d=d, m=3, B=4, optimizer=optimizer, lam=lam)
        for lam in (1e-4, 1e-2)
    ]
    return sample_reduced_problem(params, [0, 1], reduction=reduction)


@pytest.mark.parametrize("reduction", sorted(CLASSES))
def test_each_problem_gets_its_reduction_and_starts_at_its_initial_zeta(reduction: str) -> None:
    problem = _problem(reduction)
    chosen = reduction_of(problem)
    assert type(chosen) is CLASSES[reduction]
    dynamics = ReducedDynamics.start(problem)
    np.testing.assert_allclose(dynamics.reduction.zeta(dynamics.u, dynamics.b), problem.zeta0)


@pytest.mark.parametrize("reduction", sorted(CLASSES))
def test_a_batchs_zeta_and_gradient_are_those_of_its_samples(reduction: str) -> None:
    """After a few steps (u away from its start): zeta of a batch is the full zeta at the batch's
    samples, and the batch's noise gradient vanishes on every other sample."""
    dynamics = ReducedDynamics.start(_problem(reduction))
    rng = np.random.default_rng(2)
    for _ in range(5):
        dynamics.step(np.stack([rng.permutation(20)[:4] for _ in range(2)]))
    idx = np.stack([rng.permutation(20)[:4] for _ in range(2)])
    rows = np.arange(2)[:, None]
    full = dynamics.reduction.zeta(dynamics.u, dynamics.b)
    batch = dynamics.reduction.zeta_of(dynamics.u, dynamics.b, idx)
    np.testing.assert_allclose(batch, full.transpose(0, 3, 1, 2)[rows, idx].transpose(0, 2, 3, 1))
    gradient = dynamics.reduction.batch_noise_gradient(np.ones((2, 2, 3, 4)), idx, dynamics.u)
    outside = np.ones((2, 20), dtype=bool)
    outside[rows, idx] = False
    assert not gradient.transpose(0, 3, 1, 2, *range(4, gradient.ndim))[outside].any()
    assert gradient.transpose(0, 3, 1, 2, *range(4, gradient.ndim))[~outside].all()


@pytest.mark.parametrize("reduction", sorted(CLASSES))
def test_measurements_read_every_reduction(reduction: str) -> None:
    dynamics = ReducedDynamics.start(_problem(reduction, "signsgd"))
    dynamics.step(np.array([[0, 1, 2, 3], [4, 5, 6, 7]]))
    metrics = dynamics.measure(np.random.default_rng(0), test_size=600)
    assert ((metrics["test_error"] >= 0) & (metrics["test_error"] <= 1)).all()
    assert (metrics["weight_max"] >= np.abs(dynamics.w_feature).max(axis=(1, 2))).all()
