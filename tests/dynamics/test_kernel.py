"""The compiled reduced dynamics (dynamics.kernel, ReducedDynamics.run) against the numpy reference
(ReducedDynamics.step): every reduction and optimiser, equal up to round-off.

Tolerances. Both implementations do the same arithmetic per term; they differ in the order of the
sums (over the batch, the filters, a support, the coupling row: BLAS or a loop) and, at a refresh
of Adam's competition, by taking kappa(kappa^-1(share)) as the share (equal to 1e-14 relative,
``theorykit.overlap``'s table). Over the 60 to 90 steps run here the float64 states agree to a
few 1e-13 relative (measured); the tests allow 1e-9, far below any modelling difference (a
missing factor or a wrong step changes the state at order 1). Float32 against float64 agreed to
1e-5 relative after 60 steps (measured); allowed 1e-4, about 800 float32 epsilons.
"""

from __future__ import annotations

import numpy as np
import pytest

from dynamics import kernel_competition
from dynamics.problem import competition_refresh, sample_reduced_problem
from dynamics.reduced import ReducedDynamics, epoch_orders
from theorykit.errors import ParameterError
from theorykit.overlap import adam_competition, adam_competition_inverse
from theorykit.params import tang2025_synthetic

REDUCTIONS = ("shared", "overlap-aware", "support-resolved")
OPTIMIZERS = ("adam", "adamw", "signsgd", "signsgdw", "gd")
N = 40


def _problem(optimizer: str, reduction: str, B: int, bias_correction: bool = True, n: int = N):
    """Two settings of one group (two lam) on a small version of the paper's setting; disjoint
    supports need d - 1 >= n s."""
    d = n * 100 + 1 if reduction == "support-resolved" else 1000
    eta = 0.5 if optimizer == "gd" else 5e-4
    params = [
        tang2025_synthetic(
            optimizer=optimizer, lam=lam, B=B, n=n, d=d, eta=eta, bias_correction=bias_correction
        )
        for lam in (1e-5, 3e-3)
    ]
    return sample_reduced_problem(params, [0, 1], reduction=reduction)


def _batches(S: int, B: int, steps: int, n: int = N) -> list[np.ndarray]:
    rng = np.random.default_rng(7)
    batches: list[np.ndarray] = []
    while len(batches) < steps:
        order = epoch_orders(rng, S, n)
        batches += [order[:, start : start + B] for start in range(0, n, B)]
    return batches[:steps]


def _state(dynamics: ReducedDynamics) -> list[np.ndarray]:
    arrays = [dynamics.w_feature, dynamics.u, dynamics.b]
    for moments in dynamics.states:
        if moments is not None:
            arrays += [moments.first, moments.second]
    return arrays


def _relative_difference(a: ReducedDynamics, b: ReducedDynamics) -> float:
    return max(
        float(np.max(np.abs(x - y)) / max(np.max(np.abs(x)), 1e-300))
        for x, y in zip(_state(a), _state(b), strict=True)
    )


def _steps(optimizer: str, reduction: str) -> int:
    """Sign steps with L2 decay on overlapping supports: a row pushed once by eta times its share
    (1 up to round-off when no batch partner shares its coordinates) is pulled back by exactly eta
    at the next step (the share is 1 outside the batch), so it lands within round-off of 0, where
    sgn(lam u) at the step after is decided by round-off. The comparison stops at step 2, before
    that sign is read; the other pairs run 60 steps."""
    return 2 if (optimizer, reduction) == ("signsgd", "overlap-aware") else 60


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("B", [2, 12])
def test_kernel_equals_the_reference_to_round_off(optimizer: str, reduction: str, B: int) -> None:
    """B = 2 and B = 12 (a last batch of 4 in every epoch of 40; the coupling product of 8 or
    more rows runs as a matrix product); the kernel runs in two calls, so its caches carry over."""
    problem = _problem(optimizer, reduction, B)
    reference, compiled = ReducedDynamics.start(problem), ReducedDynamics.start(problem)
    batches = _batches(2, B, _steps(optimizer, reduction))
    for idx in batches:
        reference.step(idx)
    half = len(batches) // 2
    compiled.run(batches[:half])
    compiled.run(batches[half:])
    assert compiled.t == reference.t == len(batches)
    assert _relative_difference(reference, compiled) < 1e-9


def test_refresh_period_follows_the_visits_per_sample() -> None:
    """The longer period where 32 steps visit each sample at most once on average (B 32 <= n),
    the base period otherwise; a stacked problem's period is its largest batch's."""
    assert competition_refresh(2, 64) == 32 and competition_refresh(2, 63) == 16
    assert competition_refresh(6, 200) == 32 and competition_refresh(7, 200) == 16
    assert _problem("adam", "overlap-aware", 2, n=64).competition_refresh == 32
    params = [tang2025_synthetic(optimizer="adam", B=B, n=64, d=1000) for B in (2, 4)]
    mixed = sample_reduced_problem(params, [0, 1], reduction="overlap-aware")
    assert mixed.competition_refresh == 16  # 4 x 32 > 64


@pytest.mark.parametrize("optimizer", ["adam", "adamw"])
def test_kernel_equals_the_reference_at_the_longer_refresh_period(optimizer: str) -> None:
    """n = 64, B = 2: refreshes at t = 1, 33 and 65; the steps around t = 33 in the reference's
    step, the rest in kernel calls whose boundaries fall between refreshes, so the caches cross
    in both directions."""
    problem = _problem(optimizer, "overlap-aware", 2, n=64)
    assert problem.competition_refresh == 32
    reference, compiled = ReducedDynamics.start(problem), ReducedDynamics.start(problem)
    batches = _batches(2, 2, 70, n=64)
    for idx in batches:
        reference.step(idx)
    compiled.run(batches[:30])
    for idx in batches[30:36]:  # the refresh at t = 33 in the reference's step
        compiled.step(idx)
    compiled.run(batches[36:45])
    compiled.run(batches[45:])
    assert _relative_difference(reference, compiled) < 1e-9


@pytest.mark.parametrize("optimizer", ["adam", "signsgdw"])
def test_kernel_and_reference_steps_interleave(optimizer: str) -> None:
    """Steps alternate between the two implementations, so the competition caches cross in both
    directions (kernel layout, O_i still pending, back to the reference's fields)."""
    problem = _problem(optimizer, "overlap-aware", 2, bias_correction=False)
    reference, mixed = ReducedDynamics.start(problem), ReducedDynamics.start(problem)
    batches = _batches(2, 2, 90)
    for idx in batches:
        reference.step(idx)
    for start in range(0, 90, 30):
        mixed.run(batches[start : start + 20])
        for idx in batches[start + 20 : start + 30]:
            mixed.step(idx)
    assert _relative_difference(reference, mixed) < 1e-9


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("optimizer", ["adam", "adamw", "signsgdw", "gd"])
def test_float32_kernel_tracks_float64(optimizer: str, reduction: str) -> None:
    problem = _problem(optimizer, reduction, 2)
    wide, narrow = ReducedDynamics.start(problem), ReducedDynamics.start(problem)
    batches = _batches(2, 2, 60)
    wide.run(batches, "float64")
    narrow.run(batches, "float32")
    difference = _relative_difference(wide, narrow)
    assert 0 < difference < 1e-4


def test_run_rejects_an_unknown_dtype_and_ignores_no_steps() -> None:
    dynamics = ReducedDynamics.start(_problem("adam", "shared", 2))
    with pytest.raises(ParameterError, match="dtype"):
        dynamics.run(_batches(2, 2, 1), "float16")
    dynamics.run([])
    assert dynamics.t == 0


def test_competition_table_is_read_as_theorykit_reads_it() -> None:
    """The kernel's kappa and kappa^-1 of one value against theorykit.overlap's numpy versions,
    on values spread over the table, its two ends and beyond."""
    log_kappa, log_grid, scalars, _, brackets = kernel_competition.competition_table()
    rng = np.random.default_rng(0)
    x = np.concatenate([np.exp(rng.uniform(-25, 35, 3000)), [0.0, 1e-8, 1e12, 2e12, np.inf]])
    near_one = 1 - 10 ** rng.uniform(-9, -1, 1000)  # x small, where the table is densest
    kappa = np.concatenate(
        [np.exp(rng.uniform(-16, 0, 3000)), near_one, [0.0, 1.0, 1.5, 1e-7, 0.9999999]]
    )
    compiled = [kernel_competition.competition(value, log_kappa, scalars) for value in x]
    np.testing.assert_allclose(compiled, adam_competition(x), rtol=1e-13)
    inverse_log = kernel_competition.log_competition_inverse
    inverse = [
        np.exp(inverse_log(value, log_kappa, log_grid, scalars, brackets)) for value in kappa
    ]
    np.testing.assert_allclose(inverse, adam_competition_inverse(kappa), rtol=1e-12)


def test_competition_inverse_brackets_every_value_as_interp_does() -> None:
    """kappa^-1's bucket walk finds numpy interp's bracket (the last table point at or below the
    value) exactly: on each table point itself (where the walk must stop on a tie), just above and
    below it, and at random values, where a neighbouring bracket would interpolate on another
    segment (off by the table's curvature, about 1e-7, far above the 1e-14 compared)."""
    log_kappa, log_grid, scalars, _, brackets = kernel_competition.competition_table()
    inverse_log = kernel_competition.log_competition_inverse
    rng = np.random.default_rng(1)
    ascending = -log_kappa[1:-1]
    values = np.concatenate(
        [ascending, np.nextafter(ascending, np.inf), np.nextafter(ascending, 0.0),
         rng.uniform(-log_kappa[0], -log_kappa[-1], 20000)]
    )  # fmt: skip
    compiled = [
        inverse_log(np.exp(-value), log_kappa, log_grid, scalars, brackets) for value in values
    ]
    expected = np.interp(-np.log(np.exp(-values)), -log_kappa, log_grid)
    np.testing.assert_allclose(compiled, expected, rtol=1e-14, atol=1e-14)


@pytest.mark.parametrize("optimizer", ["adam", "adamw", "signsgd"])
def test_mean_field_steps_equal_the_reference(optimizer: str) -> None:
    """Mean-field steps (run_mean_field's schedule of visits) in the kernel against
    ReducedDynamics.step_mean_field, settings of different B stepping together."""
    params = [tang2025_synthetic(optimizer=optimizer, lam=1e-4, B=B, n=N, eta=5e-4) for B in (2, 8)]
    problem = sample_reduced_problem(params, [0, 0], samples=12)
    reference, compiled = ReducedDynamics.start(problem), ReducedDynamics.start(problem)
    rng = np.random.default_rng(3)
    visits = rng.random((40, 2, 12)) < 0.3
    for in_batch in visits:
        reference.step_mean_field(in_batch)
    everyone = [np.broadcast_to(np.arange(12), (2, 12))] * len(visits)
    compiled.run(everyone, visits=np.ascontiguousarray(visits.transpose(1, 0, 2)))
    assert _relative_difference(reference, compiled) < 1e-9


def test_pending_inverses_are_the_one_value_inverse_bitwise() -> None:
    """The re-read's passes over a member's pending shares (pending_inverses) run
    log_competition_inverse's arithmetic: bitwise equal on shares over the whole table, on its two
    ends and their neighbouring floats, and beyond them (the clamps)."""
    log_kappa, log_grid, scalars, _, brackets = kernel_competition.competition_table()
    rng = np.random.default_rng(2)
    ends = np.exp(np.array([log_kappa[0], log_kappa[-1]]))
    shares = np.concatenate(
        [np.exp(rng.uniform(-16, 0, 5000)), 1 - 10 ** rng.uniform(-9, -1, 1000), ends,
         np.nextafter(ends, 0.0), np.nextafter(ends, 1.0), [1e-9, 0.99999999999]]
    )  # fmt: skip
    shares = shares[(shares > 0) & (shares < 1)]
    scratch = np.empty_like(shares), np.empty_like(shares), np.empty(len(shares), dtype=np.int64)
    log_x, values, brackets_at = scratch
    kernel_competition.pending_inverses(
        shares, log_kappa, log_grid, scalars, brackets, log_x, values, brackets_at
    )
    one_by_one = [
        kernel_competition.log_competition_inverse(share, log_kappa, log_grid, scalars, brackets)
        for share in shares
    ]
    np.testing.assert_array_equal(log_x, one_by_one)
