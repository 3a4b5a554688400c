"""Indexing and sums over the sample axis of the reduced dynamics' (S, 2, m, n) arrays: a
minibatch's entries, projections on per-sample rows, sums over the samples sharing a coordinate."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]
Index = npt.NDArray[np.int64]


def batch_index(idx: Index, shape: tuple[int, ...]) -> Index:
    """``idx`` (S, B) broadcast to (S, 2, m, B) for indexing the sample axis of an (S, 2, m, n)
    array."""
    return np.broadcast_to(idx[:, None, None, :], (*shape[:3], idx.shape[1]))


def gather(values: Array, idx: Index) -> Array:
    """The entries of the samples ``idx`` (S, B) of ``values`` (S, 2, m, n): (S, 2, m, B)."""
    return np.take_along_axis(values, batch_index(idx, values.shape), axis=3)


def project(per_filter: Array, rows: Array) -> Array:
    """sum_k per_filter[e, j, r, k] rows[e, i, k] for every (e, j, r, i): (S, 2, m, K) and rows
    (S, I, K) give (S, 2, m, I), as one batched matrix product (BLAS; einsum would loop)."""
    S, heads, m, _ = per_filter.shape
    flat = per_filter.reshape(S, heads * m, -1) @ rows.transpose(0, 2, 1)
    return flat.reshape(S, heads, m, -1)


def coordinate_sum(per_sample: Array, patches: Array) -> Array:
    """sum_i per_sample_i patches_i[k] on every noise coordinate k: (S, 2, m, n) and patches
    (S, n, d - 1) (the noise values, their squares or signs) give (S, 2, m, d - 1)."""
    return project(per_sample, patches.transpose(0, 2, 1))
