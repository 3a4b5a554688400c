"""The reduced dynamics in the layout of the compiled kernel (:mod:`dynamics.kernel`): the codes
and per-member parameter rows it reads, its state and the problem's data as arrays (members first,
filters last: noise rows (S, N, 2 m), filter f = j m + r), and the conversions from and to the
reference's (S, 2, m, ...) arrays. Conventions: docs/conventions.md.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from dynamics.problem import ReducedProblem

Array = npt.NDArray[np.floating]

#: The dtypes the kernel steps in (and the CNN engine trains in, ``validation.runs.spec``).
DTYPES = ("float64", "float32")
#: Reduction codes of the kernel (:data:`dynamics.problem.Reduction`; "mean-field": the shared
#: displacement of representative samples, :mod:`dynamics.mean_field`).
MODES = {"shared": 0, "overlap-aware": 1, "support-resolved": 2, "mean-field": 3}
#: Preconditioner codes (:class:`theorykit.optimizers.OptimizerKind`'s ``preconditioner``).
PRECONDITIONERS = {"adam": 0, "sign": 1, "none": 2}
#: Columns of each member's ``hyper`` row (their indices below, by name in capitals).
#: ``l2``, ``keep``: the decay of the optimiser's placement as one branch-free line, g + l2 w and
#: w keep: l2 = lam and keep = 1 for L2 decay (eq. 3.3), l2 = 0 and keep = 1 - eta lam for
#: decoupled decay (eq. 3.6); adding 0 w and scaling by 1 are exact, so either is the reference's
#: arithmetic. ``forget1/2`` = 1 - beta1/2. All in the state's dtype, so float32 stays float32.
HYPER_COLUMNS = (
    "q", "alpha", "sigma0", "eta", "beta1", "beta2", "eps", "s", "B",
    "l2", "keep", "forget1", "forget2",
)  # fmt: skip
(Q, ALPHA, SIGMA0, ETA, BETA1, BETA2, EPS, S, B, L2, KEEP, FORGET1, FORGET2) = range(
    len(HYPER_COLUMNS)
)  # the columns' indices


@dataclasses.dataclass
class CompetitionCaches:
    """What the overlap competition carries from step to step, in the kernel's layout (arrays with
    0 rows where the optimiser and reduction need none)."""

    others: Array  # (S, n, F) O_i, Adam's effective competition (overlap)
    kappa: Array  # (S, n, F) its kappa, the step scale of the noise rows
    start: Array  # (S, n, F) the share at the last refresh, for O_i computed on first use
    means: Array  # (S, n, F) the own moment A_i at the last refresh, likewise
    pending: npt.NDArray[np.bool_]  # (S, n, F) True where O_i is still to be computed
    background: Array  # (S, F) the untouched coordinate's share of an L2 step (Adam)
    untouched: Array  # (S, F) the fraction of noise coordinates a sign step leaves (sign)
    cached: npt.NDArray[np.int64]  # (S, 1): whether (others, kappa, background) are computed


@dataclasses.dataclass
class KernelState:
    """Everything the kernel reads and writes, in its layout (members first, filters last,
    F = 2 m; noise rows (S, N, F) with N = n, or n s support-resolved), see :func:`run_steps`;
    moments of zeros where the optimiser keeps none."""

    w1: Array  # (S, F) w_{j,r}[1]
    w1_first: Array
    w1_second: Array
    rows: Array  # (S, N, F)
    rows_first: Array
    rows_second: Array
    b: Array  # (S, F)
    b_first: Array
    b_second: Array
    caches: CompetitionCaches


@dataclasses.dataclass(frozen=True)
class KernelData:
    """The problem in the kernel's layout (see :func:`run_steps`), built once per problem."""

    y: Array  # (S, n)
    l1: Array  # (S, n)
    l2sq: Array  # (S, n)
    zeta0: Array  # (S, n, F)
    coupling: Array  # (S, n, n) overlap, else (S, 0, 0)
    support: npt.NDArray[np.int64]  # (S, n, s) a sample's noise coordinates (overlap)
    values: Array  # (S, n, s) xi_i[k] there (overlap, support-resolved), else (S, n, 0)
    pointers: npt.NDArray[np.int64]  # (S, d) where each noise coordinate's samples start (overlap)
    samples: npt.NDArray[np.int64]  # (S, entries) the samples on each coordinate, in order
    entries: Array  # (S, entries) their xi_i[k]
    hyper: Array  # (S, len(HYPER_COLUMNS))
    #: (mode, preconditioner, whether the L2 decay of untouched coordinates competes
    #: (:attr:`dynamics.problem.ReducedProblem.decay_competes`), refresh period)
    kind: tuple[int, int, int, int]

    def astype(self, dtype: np.dtype) -> KernelData:
        """The same data with its real arrays in ``dtype``."""
        cast = {
            name: getattr(self, name).astype(dtype)
            for name in ("y", "l1", "l2sq", "zeta0", "coupling", "values", "entries", "hyper")
        }
        return dataclasses.replace(self, **cast)


def kernel_data(problem: ReducedProblem) -> KernelData:
    """The kernel's view of ``problem`` (float64): the reduction's mode, the optimiser's codes,
    each member's hyper-parameters, and the overlap's noise patches as (coordinate, value) lists
    padded with (0, 0.0), which add nothing to any sum the kernel forms."""
    S, n = problem.y.shape
    kind = problem.first.kind
    derived = ("l2", "keep", "forget1", "forget2")
    columns = {name: problem.column(name) for name in HYPER_COLUMNS if name not in derived}
    lam = problem.column("lam")
    if kind.decoupled:
        columns["l2"], columns["keep"] = np.zeros_like(lam), 1 - columns["eta"] * lam
    else:
        columns["l2"], columns["keep"] = lam, np.ones_like(lam)
    columns["forget1"], columns["forget2"] = 1 - columns["beta1"], 1 - columns["beta2"]
    empty = np.zeros((S, n, 0))
    support, values, coupling = np.zeros((S, n, 0), dtype=np.int64), empty, np.zeros((S, 0, 0))
    by_coordinate = np.zeros((S, 1), dtype=np.int64), np.zeros((S, 0), np.int64), np.zeros((S, 0))
    if problem.overlap is not None:
        noise = problem.overlap.noise
        width = int((noise != 0).sum(axis=-1).max())
        support = np.argsort(noise == 0, axis=-1, kind="stable")[..., :width]
        values = np.take_along_axis(noise, support, axis=-1)
        coupling = problem.overlap.coupling
        by_coordinate = _coordinate_major(noise)
        mode = MODES["overlap-aware"]
    elif problem.xi_support is not None:
        values = problem.xi_support
        support = np.zeros(values.shape, dtype=np.int64)
        mode = MODES["support-resolved"]
    else:
        mode = MODES["shared"]
    return KernelData(
        np.ascontiguousarray(problem.y),
        np.ascontiguousarray(problem.l1),
        np.ascontiguousarray(problem.l2sq),
        rows_layout(problem.zeta0),
        np.ascontiguousarray(coupling),
        np.ascontiguousarray(support),
        np.ascontiguousarray(values),
        *by_coordinate,
        np.ascontiguousarray(np.stack([columns[name] for name in HYPER_COLUMNS], axis=1)),
        (
            mode,
            PRECONDITIONERS[kind.preconditioner],
            int(problem.decay_competes),
            problem.competition_refresh,
        ),
    )


def _coordinate_major(
    noise: Array,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], Array]:
    """The noise patches (S, n, d - 1) listed by coordinate: (pointers (S, d), samples, values),
    coordinate k's samples at ``samples[e, pointers[e, k]:pointers[e, k + 1]]`` in ascending order
    and their xi_i[k] beside them; members with fewer entries are padded at the end."""
    S, _, coordinates = noise.shape
    counts = (noise != 0).sum(axis=1)
    pointers = np.zeros((S, coordinates + 1), dtype=np.int64)
    np.cumsum(counts, axis=1, out=pointers[:, 1:])
    width = int(pointers[:, -1].max())
    samples = np.zeros((S, width), dtype=np.int64)
    values = np.zeros((S, width))
    for e in range(S):
        coordinate, sample = np.nonzero(noise[e].T)
        samples[e, : len(sample)] = sample
        values[e, : len(sample)] = noise[e, sample, coordinate]
    return pointers, samples, values


def padded_batches(
    batches: Sequence[npt.NDArray[np.int64]],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """A span of steps' minibatches ((S, B_t) sample indices each, in order) as the compiled
    kernels read them -- this one and ``validation.cnn.fused``: (S, steps, max B_t) indices,
    padded with 0 past each step's length, and the lengths (steps,) (the last batch of an epoch is
    smaller when B does not divide n)."""
    width = max(idx.shape[1] for idx in batches)
    padded = np.zeros((batches[0].shape[0], len(batches), width), dtype=np.int64)
    for number, idx in enumerate(batches):
        padded[:, number, : idx.shape[1]] = idx
    return padded, np.array([idx.shape[1] for idx in batches], dtype=np.int64)


def rows_layout(per_filter: Array, dtype: np.dtype | None = None) -> Array:
    """(S, 2, m, ...) to the kernel's (S, rows, 2 m), and (S, 2, m) to (S, 2 m), C-contiguous, in
    ``dtype`` (default: as given)."""
    S, heads, m = per_filter.shape[:3]
    if per_filter.ndim == 3:
        return np.ascontiguousarray(
            per_filter.reshape(S, heads * m), dtype=dtype or per_filter.dtype
        )
    flat = per_filter.reshape(S, heads * m, -1).transpose(0, 2, 1)
    return np.ascontiguousarray(flat, dtype=dtype or per_filter.dtype)


def filters_layout(rows: Array, shape: tuple[int, ...]) -> Array:
    """The inverse of :func:`rows_layout`: back to ``shape`` (S, 2, m, ...), float64."""
    if rows.ndim == 2:
        return rows.astype(np.float64).reshape(shape)
    return np.ascontiguousarray(rows.transpose(0, 2, 1), dtype=np.float64).reshape(shape)
