"""The compiled path of :class:`dynamics.reduced.ReducedDynamics`: its state in the layout of
:mod:`dynamics.kernel`, a span of steps there, and the state back.

The weights and moments go to the kernel and come back at every call (they are what a measurement
reads). The overlap competition's caches stay in the kernel's layout between calls (one sample's
O_i is computed there only when a batch first needs it), and become the reference's fields again
only when the numpy :meth:`~dynamics.reduced.ReducedDynamics.step` runs next.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from dynamics import kernel, kernel_layout
from dynamics.optimizers import CoordinateOptimizer, Hyper, Moments
from dynamics.problem import ReducedProblem
from theorykit.errors import ParameterError
from theorykit.overlap import adam_competition_inverse

Array = npt.NDArray[np.floating]


class ReducedDynamics(Protocol):
    """What this module reads and writes of a :class:`dynamics.reduced.ReducedDynamics` (named
    here, not imported: that module imports this one)."""

    problem: ReducedProblem
    w_feature: Array
    u: Array
    b: Array
    optimizer: CoordinateOptimizer
    hyper: Hyper
    states: tuple[Moments | None, Moments | None, Moments | None]
    t: int
    __dict__: dict[str, Any]
    _others: Array | None
    _kappa: Array | None
    _coordinate_moments: Array | None
    _background_share: Array | None
    _untouched: Array | None
    _compiled: kernel_layout.CompetitionCaches | None


def run(
    dynamics: ReducedDynamics,
    batches: Sequence[npt.NDArray[np.int64]],
    dtype: str,
    parallel: bool = True,
    visits: npt.NDArray[np.bool_] | None = None,
) -> None:
    """Every step of ``batches`` ((S, B) each, in order) in the kernel, in ``dtype``, members in
    parallel or not, mean-field steps with ``visits`` (S, steps, K)
    (:func:`dynamics.kernel.run_steps`)."""
    if dtype not in kernel_layout.DTYPES:
        raise ParameterError("dtype", dtype, "'float32' or 'float64'")
    if not batches:
        return
    real = np.dtype(dtype)
    padded, lengths = kernel_layout.padded_batches(batches)
    state = _state(dynamics, real)
    kernel.run_steps(
        state,
        _data(dynamics, real),
        padded,
        lengths,
        _schedule(dynamics, len(batches)).astype(real),
        dynamics.t,
        parallel,
        visits,
    )
    _write_back(dynamics, state)
    dynamics.t += len(batches)


def restore_reference_caches(dynamics: ReducedDynamics) -> None:
    """Turn the kernel's competition caches (if the last steps ran there) back into the
    reference's fields, O_i computed where the kernel left it pending."""
    caches = dynamics._compiled
    if caches is None:
        return
    S, _, m = dynamics.w_feature.shape
    if caches.cached[0, 0] and caches.others.shape[1]:
        others = caches.others.astype(np.float64)
        pending = caches.pending
        others[pending] = adam_competition_inverse(caches.start[pending]) * caches.means[pending]
        shape = (S, 2, m, others.shape[1])
        dynamics._others = kernel_layout.filters_layout(others, shape)
        dynamics._kappa = kernel_layout.filters_layout(caches.kappa, shape)
        # v[k] is not kept by the kernel; the reference recomputes it at its next refresh before
        # reading it (it is read only at refreshes, after the background share exists).
        dynamics._coordinate_moments = None
        if dynamics.problem.decay_competes:
            dynamics._background_share = caches.background.reshape(S, 2, m).astype(np.float64)
    if dynamics.problem.overlap is not None and dynamics.optimizer.kind.preconditioner == "sign":
        dynamics._untouched = caches.untouched.reshape(S, 2, m).astype(np.float64)
    dynamics._compiled = None


def _data(dynamics: ReducedDynamics, dtype: np.dtype) -> kernel_layout.KernelData:
    """The problem in the kernel's layout and ``dtype``, built once per dtype."""
    cache = dynamics.__dict__.setdefault("_columns", {})
    key = ("kernel data", dtype)
    if key not in cache:
        widest = ("kernel data", np.dtype(np.float64))
        if widest not in cache:
            cache[widest] = kernel_layout.kernel_data(dynamics.problem)
        cache[key] = cache[widest].astype(dtype)
    return cache[key]


def _schedule(dynamics: ReducedDynamics, steps: int) -> Array:
    """(steps, S, 2): Adam's step size and 1 / sqrt(1 - beta2^t) for the next ``steps`` steps, as
    :class:`dynamics.optimizers.CoordinateOptimizer` computes them (eta and 1 without bias
    correction); the kernel multiplies by the reciprocal (:func:`dynamics.kernel.run_steps`)."""
    t = dynamics.t + 1 + np.arange(steps)[:, None]
    hyper = dynamics.hyper
    eta, beta1, beta2 = hyper.eta[None], hyper.beta1[None], hyper.beta2[None]
    if dynamics.optimizer.bias_correction:
        return np.stack([eta / (1 - beta1**t), 1 / np.sqrt(1 - beta2**t)], axis=-1)
    step_size = np.broadcast_to(eta, (steps, eta.shape[1]))
    return np.stack([step_size, np.ones_like(step_size)], axis=-1)


def _state(dynamics: ReducedDynamics, dtype: np.dtype) -> kernel_layout.KernelState:
    """The weights and moments in the kernel's layout and ``dtype``, with the competition caches
    kept from the last call (or converted from the reference's fields)."""
    arrays = []
    for index, weights in enumerate((dynamics.w_feature, dynamics.u, dynamics.b)):
        moments = dynamics.states[index]
        first = moments.first if moments is not None else np.zeros_like(weights)
        second = moments.second if moments is not None else np.zeros_like(weights)
        arrays += [kernel_layout.rows_layout(values, dtype) for values in (weights, first, second)]
    caches = dynamics._compiled
    if caches is None or caches.kappa.dtype != dtype:
        restore_reference_caches(dynamics)
        caches = _caches(dynamics, dtype)
    return kernel_layout.KernelState(*arrays, caches=caches)


def _caches(dynamics: ReducedDynamics, dtype: np.dtype) -> kernel_layout.CompetitionCaches:
    """The reference's competition fields in the kernel's layout (zeros and "not computed" where
    they are None; 0 rows where the reduction and optimiser keep none)."""
    problem = dynamics.problem
    S, _, m = dynamics.w_feature.shape
    n = problem.y.shape[1]
    overlap = problem.overlap is not None
    samples = n if overlap and dynamics.optimizer.kind.has_moments else 0

    def rows(values: Array | None, count: int) -> Array:
        if values is None:
            return np.zeros((S, count, 2 * m), dtype=dtype)
        return kernel_layout.rows_layout(values, dtype)

    def per_filter(values: Array | None) -> Array:
        if values is None:
            return np.ones((S, 2 * m), dtype=dtype)
        return kernel_layout.rows_layout(values, dtype)

    computed = dynamics._others is not None and (
        dynamics._background_share is not None or not dynamics.problem.decay_competes
    )
    return kernel_layout.CompetitionCaches(
        rows(dynamics._others, samples),
        rows(dynamics._kappa, samples),
        rows(None, samples),
        rows(None, samples),
        np.zeros((S, samples, 2 * m), dtype=np.bool_),
        per_filter(dynamics._background_share),
        per_filter(dynamics._untouched),
        np.full((S, 1), computed, dtype=np.int64),
    )


def _write_back(dynamics: ReducedDynamics, state: kernel_layout.KernelState) -> None:
    """The kernel's weights and moments into the reference's arrays (float64, its layout); the
    competition caches stay with the dynamics in the kernel's layout."""
    kernel_arrays = (
        (state.w1, state.w1_first, state.w1_second),
        (state.rows, state.rows_first, state.rows_second),
        (state.b, state.b_first, state.b_second),
    )
    for index, (weights, (values, first, second)) in enumerate(
        zip((dynamics.w_feature, dynamics.u, dynamics.b), kernel_arrays, strict=True)
    ):
        weights[...] = kernel_layout.filters_layout(values, weights.shape)
        moments = dynamics.states[index]
        if moments is not None:
            moments.first[...] = kernel_layout.filters_layout(first, weights.shape)
            moments.second[...] = kernel_layout.filters_layout(second, weights.shape)
    dynamics._compiled = state.caches
