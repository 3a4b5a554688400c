"""Reduced dynamics vs the CNN from the same initialisation and batches: exact where the theory says
so, within the stated tolerance elsewhere (validation.experiments.coefficient_check)."""

import pytest

from theorykit import tang2025_synthetic
from validation.experiments.coefficient_check import coefficient_check
from validation.runs.spec import RunSpec


@pytest.mark.parametrize(
    ("optimizer", "lam", "eta"),
    [("signsgdw", 0.01, 5e-5), ("signsgd", 0.0, 5e-5), ("gd", 0.01, 0.05)],
)
def test_reduction_is_exact_for_disjoint_supports(optimizer: str, lam: float, eta: float) -> None:
    """GD, SignSGDW and SignSGD without decay: the reduced model is the CNN's own dynamics in other
    coordinates. 300 steps in float64; 1e-9 relative allows for reordered sums, nothing more."""
    p = tang2025_synthetic(n=40, s=20, B=4, optimizer=optimizer, lam=lam, eta=eta)
    check = coefficient_check(RunSpec(p, supports="disjoint"), steps=300, record_every=100)
    assert check.gamma_error.max() < 1e-9 and check.rho_error.max() < 1e-9


@pytest.mark.parametrize(
    ("optimizer", "lam"), [("adam", 1e-5), ("adam", 0.01), ("signsgd", 0.01), ("adamw", 0.01)]
)
def test_support_resolved_reduction_is_exact_for_every_optimiser_on_disjoint_supports(
    optimizer: str, lam: float
) -> None:
    """Carrying every support coordinate makes L2 sign-decay and Adam's per-coordinate moments
    exact, where the shared displacement is off by 5-60% (comparison report). 300 steps, float64:
    1e-8 relative covers reordered sums and eps-level differences of Adam's sqrt(v) + eps, nothing
    of the model."""
    p = tang2025_synthetic(
        n=40, s=20, B=4, optimizer=optimizer, lam=lam, eta=1e-3, bias_correction=True
    )
    check = coefficient_check(
        RunSpec(p, supports="disjoint"), steps=300, record_every=100, reduction="support-resolved"
    )
    assert check.gamma_error.max() < 1e-8 and check.rho_error.max() < 1e-8
    shared = coefficient_check(
        RunSpec(p, supports="disjoint"), steps=300, record_every=100, reduction="shared"
    )
    assert (
        max(shared.gamma_error.max(), shared.rho_error.max()) > 1e-6
    )  # the shared displacement is an approximation


def test_adamw_coefficients_agree_with_the_cnn_in_stage_one() -> None:
    """AdamW is exact up to eps; measured 0.2% (gamma) and 7% (rho) after 500 steps. Tolerance: the
    issue's 20% for Stage I (the coefficients are still growing: gamma ~ 2 sigma0)."""
    p = tang2025_synthetic(n=40, s=20, B=4, optimizer="adamw", lam=0.01, bias_correction=True)
    check = coefficient_check(RunSpec(p, supports="disjoint"), steps=500, record_every=100)
    assert check.gamma_error.max() < 0.2 and check.rho_error.max() < 0.2
