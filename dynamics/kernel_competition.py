"""The overlap competition of :mod:`theorykit.overlap` in the compiled kernel (numba): Adam's kappa
from the table ``theorykit.overlap`` interpolates (one value at a time, as the reference's numpy
functions read it), its refresh from every sample's second moments and its re-reading for a batch
in between, and the sign step's own-aligned share; the reference is the numpy step's
:class:`dynamics.overlap_competition.OverlapCompetition` (``_adam_competition``,
``_background_competition``, ``_sign_competition``). Conventions: docs/conventions.md.
"""

from __future__ import annotations

import functools
import math

import numba
import numpy as np
import numpy.typing as npt

from dynamics.kernel_layout import S
from dynamics.kernel_rows import add_weighted_rows
from theorykit.overlap import adam_competition_table

Array = npt.NDArray[np.floating]

#: Entries of the competition table's ``scalars``: kappa's grid (log x start, step) and the
#: bracket index's (:func:`_bucket`'s coordinate at the first bucket, buckets per unit).
_LOG_START, _LOG_STEP, _BRACKET_START, _BRACKET_DENSITY = range(4)
#: Buckets of the bracket index of kappa^-1 (:func:`competition_table`).
BRACKET_BUCKETS = 32768


@numba.njit(cache=True, nogil=True, error_model="numpy")
def competition(x, log_kappa, scalars):
    """``theorykit.overlap.adam_competition`` of one value: 1 below x = 1e-8, sqrt(pi/2)/sqrt(x)
    above 1e12, the table's interpolation of log kappa in between."""
    if x != x:
        return x
    if x < 1e-8:
        return 1.0
    if x > 1e12:
        return math.sqrt(math.pi / 2) / math.sqrt(x)
    position = (math.log(x) - scalars[_LOG_START]) / scalars[_LOG_STEP]
    j = min(max(int(position), 0), log_kappa.shape[0] - 2)
    fraction = position - j
    return math.exp(log_kappa[j] * (1 - fraction) + log_kappa[j + 1] * fraction)


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def competition_at(others, own_mean, log_kappa, scalars):
    """kappa(O / A), 1 where the own moment A is 0 (the reference's ``_competition_at``)."""
    if own_mean > 0:
        return competition(others / own_mean, log_kappa, scalars)
    return 1.0


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _bucket(value, origin, density, buckets):
    """The bucket of the bracket index of :func:`competition_table` that holds ``value`` (-log
    kappa), of ``buckets`` from ``origin`` at ``density`` per unit of the coordinate the index is
    uniform in: log v below v = 1 (where -log kappa ~ x, like the table's grid), v - 1 above (where
    -log kappa ~ log x / 2); continuous with a continuous slope at v = 1. The table's 40001 points
    are at most 2 to a bucket of 32768 in it."""
    coordinate = math.log(value) if value < 1.0 else value - 1.0
    return min(max(int((coordinate - origin) * density), 0), buckets - 1)


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _interpolate_from(j, value, log_kappa, log_grid):
    """numpy ``interp``'s value at ``value`` on the table, walking the bracket from j to the last
    table point with -log kappa[j] <= value (value strictly inside the table)."""
    while -log_kappa[j + 1] <= value:  # stops before the last point: value is below it
        j += 1
    while -log_kappa[j] > value:  # stops at 0 at the latest: value is above it
        j -= 1
    left, right = -log_kappa[j], -log_kappa[j + 1]
    if left == value:
        return log_grid[j]
    slope = (log_grid[j + 1] - log_grid[j]) / (right - left)
    result = slope * (value - left) + log_grid[j]
    if result != result:
        result = slope * (value - right) + log_grid[j + 1]
    return result


@numba.njit(cache=True, nogil=True, error_model="numpy")
def log_competition_inverse(kappa, log_kappa, log_grid, scalars, brackets):
    """log of ``theorykit.overlap.adam_competition_inverse`` of one value: numpy's ``interp`` of
    -log kappa on the table (-log kappa strictly ascending); -inf for kappa >= 1 (x = 0), inf for
    kappa <= 0. The bracket j (the last table point with -log kappa[j] <= value, as ``interp``
    brackets) is read off the bucket index of :func:`competition_table` and walked to, a few
    neighbouring loads instead of a bisection's sixteen scattered ones (55 against 90 ns a value on
    this project's 2-core Xeon; the reads of three tables that do not stay in the first-level
    cache, one after another, are most of what remains)."""
    if kappa >= 1.0:
        return -math.inf
    if kappa <= 0.0:
        return math.inf
    value = -math.log(kappa)
    last = log_kappa.shape[0] - 1
    if value != value:
        return value
    if value <= -log_kappa[0]:
        return log_grid[0]
    if value >= -log_kappa[last]:
        return log_grid[last]
    origin, density = scalars[_BRACKET_START], scalars[_BRACKET_DENSITY]
    j = brackets[_bucket(value, origin, density, brackets.shape[0])]
    # a bucket holds at most two table points: two steps without a branch on where they stop,
    # then loops that find nothing left to do unless the bucket's edge rounded the other way
    j += -log_kappa[j + 1] <= value
    j += -log_kappa[j + 1] <= value
    return _interpolate_from(j, value, log_kappa, log_grid)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def refresh_competition(second, l1, l2sq, hyper, by_coordinate, by_sample, caches, table, b_second,
                        background, background_scaled, work):  # fmt: skip
    """Adam's competition from every sample's second moments (the reference's
    ``_adam_competition`` at a refresh): v[k] = sum_{i in k} V_i xi_i[k]^2 on every noise
    coordinate, each sample's share sum_k xi_i[k]^2 / sqrt(v[k]) sqrt(V_i) / ||xi_i||_1 turned
    into an effective competition O_i (``others`` of ``caches``) and its kappa; with
    ``background_scaled`` also the untouched coordinate's share mean_k sqrt(v_b / (v_b + v[k])) of
    an L2 step (the reference's ``_background_competition``, from b's updated second moment
    ``b_second``).

    Two sparse products (:func:`dynamics.kernel_rows.add_weighted_rows`): v[k] from the samples on
    each coordinate (``by_coordinate`` = (pointers, samples, xi^2): coordinate-major), its share of
    the background and 1/sqrt(v[k]) taken while the row is in the first-level cache and kept in
    ``work`` = (V_i (n, 2 m), 1/sqrt(v) (d - 1, 2 m)) (one pass over the coordinates, not three:
    about a tenth off a float32 refresh at the paper's setting, 236 -> 202 us, and 425 -> 363 us in
    float64, medians of alternating runs); then each sample's share from its own coordinates
    (``by_sample`` = (support, xi^2): sample-major, in the same ascending coordinate order).

    The reference's kappa at a refresh is kappa(kappa^-1(share) A / A) with A the own moment: the
    share itself up to round-off (both directions interpolate one table, 1e-14 relative) wherever
    the table does not clamp (``interior``: kappa between its values at x = 1e12 and x = 1e-8), so
    there it is taken as is and O_i = kappa^-1(share) A is computed on first use
    (:func:`reread_competition`), for the samples a batch visits before the next refresh;
    elsewhere both are computed as the reference computes them: at a share of 1 (V_i = 0, half the
    entries where half the filters are silent on a sample) that is kappa^-1(1) = 0, so O_i = 0
    and kappa = 1, set without a branch on the share."""
    others, kappa, start, means, pending = caches
    log_kappa, log_grid, scalars, interior, brackets = table
    pointers, samples, coordinate_squares = by_coordinate
    support, sample_squares = by_sample
    scaled, inverse = work
    n, filters = second.shape
    coordinates = pointers.shape[0] - 1
    for i in range(n):
        ratio = (l1[i] / l2sq[i]) * (l1[i] / l2sq[i])
        for f in range(filters):
            scaled[i, f] = second[i, f] * ratio
    one, zero = second.dtype.type(1), second.dtype.type(0)  # a literal would make float32 float64
    kept = np.zeros(filters, dtype=second.dtype)
    for k in range(coordinates):
        moment = inverse[k]
        moment[:] = 0.0
        add_weighted_rows(moment, scaled, samples, coordinate_squares, pointers[k], pointers[k + 1])
        if background_scaled:
            for f in range(filters):
                own = b_second[f]
                kept[f] += math.sqrt(own / (own + moment[f])) if own > 0 else one
        for f in range(filters):
            moment[f] = one / math.sqrt(moment[f]) if moment[f] > 0 else zero
    if background_scaled:
        for f in range(filters):
            background[f] = kept[f] / coordinates
    total = np.empty(filters, dtype=second.dtype)
    low, high = interior[0], interior[1]  # float64: the table's ends, not rounded
    for i in range(n):
        total[:] = 0.0
        add_weighted_rows(total, inverse, support[i], sample_squares[i], 0, support.shape[1])
        per_coordinate, l1_i = l2sq[i] / hyper[S], l1[i]
        for f in range(filters):  # without a call, so the loop is vectorised
            moment = scaled[i, f]  # V_i
            own_mean = moment * per_coordinate
            share = min(total[f] * math.sqrt(moment) / l1_i, one) if moment > zero else one
            inside = (low < share) & (share < high) & (own_mean > zero)
            start[i, f] = share
            means[i, f] = own_mean
            pending[i, f] = inside
            kappa[i, f] = share if inside else one
            others[i, f] = zero
        for f in range(filters):  # the rare shares below 1 where the table clamps
            # one test without a branch per part: pending is a coin flip per filter (a branch on
            # it cost a tenth of the refresh), the shares the table clamps are almost never there
            if (start[i, f] < one) & (not pending[i, f]):
                own_mean = means[i, f]
                log_x = log_competition_inverse(start[i, f], log_kappa, log_grid, scalars, brackets)
                others[i, f] = math.exp(log_x) * own_mean
                kappa[i, f] = competition_at(others[i, f], own_mean, log_kappa, scalars)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def pending_inverses(shares, log_kappa, log_grid, scalars, brackets, log_x, values, brackets_at):
    """:func:`log_competition_inverse` of every share in ``shares`` (each in (0, 1), as the
    refresh leaves the pending ones) into ``log_x``, the same arithmetic in passes over all of
    them: each pass's table reads are independent of one another, so they are in flight together
    instead of one value's chain of reads after another's (a member's pending filters at its
    first visit after a refresh: the re-read 6.3 -> 3.5 us per member-step, float32 at the
    paper's setting, B = 2, one thread). ``values`` and ``brackets_at`` are scratch as long."""
    count = shares.shape[0]
    last = log_kappa.shape[0] - 1
    origin, density = scalars[_BRACKET_START], scalars[_BRACKET_DENSITY]
    for c in range(count):
        value = -math.log(shares[c])
        values[c] = value
        if value <= -log_kappa[0]:
            brackets_at[c] = -1  # below the table: log_grid[0], as interp clamps
        elif value >= -log_kappa[last]:
            brackets_at[c] = -2  # above it: log_grid[last]
        else:
            brackets_at[c] = brackets[_bucket(value, origin, density, brackets.shape[0])]
    for c in range(count):  # the two steps of log_competition_inverse's walk
        j, value = brackets_at[c], values[c]
        if j >= 0:
            j += -log_kappa[j + 1] <= value
            j += -log_kappa[j + 1] <= value
            brackets_at[c] = j
    for c in range(count):
        j, value = brackets_at[c], values[c]
        if j < 0:
            log_x[c] = log_grid[0] if j == -1 else log_grid[last]
        else:
            log_x[c] = _interpolate_from(j, value, log_kappa, log_grid)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def reread_competition(batch, second, hyper, l1, l2sq, caches, table, scratch):
    """Between refreshes: the batch members' kappa re-read from their own moment A_i, which their
    gradient moves (the others' A_i only decay; the reference's ``_adam_competition`` between
    refreshes), read from the second moment the step's moment pass has just written. O_i left
    pending by the refresh is computed here, on its first use, from the refresh's share and own
    moment, for all of a member's pending filters together (:func:`pending_inverses`; ``scratch``
    = (shares, log x, values, filters, brackets), five arrays of 2 m, allocated once per span: an
    allocation per step cost a tenth of the re-read)."""
    others, kappa, start, means, pending = caches
    log_kappa, log_grid, scalars, brackets = table[0], table[1], table[2], table[4]
    filters = second.shape[1]
    shares, log_x, values, which, brackets_at = scratch
    for i in batch:
        count = 0
        for f in range(filters):
            if pending[i, f]:
                shares[count] = start[i, f]
                which[count] = f
                count += 1
        if count:
            pending_inverses(shares[:count], log_kappa, log_grid, scalars, brackets, log_x,
                             values, brackets_at)  # fmt: skip
            for c in range(count):
                f = which[c]
                others[i, f] = math.exp(log_x[c]) * means[i, f]
                pending[i, f] = False
        ratio = l1[i] / l2sq[i]
        square, per_coordinate = ratio * ratio, l2sq[i] / hyper[S]
        for f in range(filters):
            own_mean = second[i, f] * square * per_coordinate
            kappa[i, f] = competition_at(others[i, f], own_mean, log_kappa, scalars)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def sign_share(gradient, batch, l1, l2sq, support, values, pushes, seen, share, untouched):
    """The sign step's own-aligned share of each batch member (the reference's
    ``_sign_competition``): on each coordinate the batch's summed push g[k] = sum_b c_b xi_b[k]
    decides the sign; ``untouched`` gets the fraction of the noise coordinates no member pushes."""
    filters = gradient.shape[1]
    s = support.shape[1]
    coordinates = pushes.shape[0]
    touched = np.zeros(filters, dtype=np.int64)
    for i in batch:
        scale = l1[i] / l2sq[i]
        for k in range(s):
            row = pushes[support[i, k]]
            for f in range(filters):
                row[f] += gradient[i, f] * scale * values[i, k]
    for i in batch:
        for k in range(s):
            target = support[i, k]
            if not seen[target]:
                seen[target] = True
                for f in range(filters):
                    value = pushes[target, f]
                    pushes[target, f] = (value > 0) - (value < 0)
                    touched[f] += value != 0
    for i in batch:
        scale = l1[i] / l2sq[i]
        for f in range(filters):
            total = 0.0
            for k in range(s):
                total += pushes[support[i, k], f] * values[i, k]
            own = gradient[i, f] * scale
            share[i, f] = ((own > 0) - (own < 0)) * total / l1[i]
    for f in range(filters):
        untouched[f] = (coordinates - touched[f]) / coordinates
    for i in batch:
        for k in range(s):
            seen[support[i, k]] = False
            pushes[support[i, k]] = 0.0


@functools.cache
def competition_table() -> tuple[Array, Array, Array, Array, npt.NDArray[np.int32]]:
    """(log kappa, log x, scalars, interior, brackets) of
    :func:`theorykit.overlap.adam_competition_table`, as the kernel reads them: ``scalars`` (log x
    start, log x step, and the bracket index's start and buckets per unit of
    :func:`_bucket`), ``interior`` kappa at the table's ends (x = 1e12, 1e-8),
    ``brackets`` per bucket the last table point with -log kappa at or below the bucket's lower
    edge (:func:`log_competition_inverse` walks from there)."""
    log_start, log_step, log_grid, log_kappa = adam_competition_table()
    ascending = -log_kappa
    coordinate = np.where(ascending < 1.0, np.log(ascending), ascending - 1.0)
    density = BRACKET_BUCKETS / (coordinate[-1] - coordinate[0])
    lower_edges = coordinate[0] + np.arange(BRACKET_BUCKETS) / density
    edge_values = np.where(lower_edges < 0.0, np.exp(lower_edges), lower_edges + 1.0)
    brackets = np.searchsorted(ascending, edge_values, side="right") - 1
    brackets = np.clip(brackets, 0, len(ascending) - 2).astype(np.int32)
    scalars = np.array([log_start, log_step, coordinate[0], density])
    interior = np.exp(np.array([log_kappa[-1], log_kappa[0]]))
    return log_kappa, log_grid, scalars, interior, brackets
