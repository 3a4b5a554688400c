"""The compiled step of the reduced dynamics: whole spans of steps per call, members in parallel
(numba).

:meth:`dynamics.reduced.ReducedDynamics.step` is the reference: numpy, one step of every member
per call, readable term by term. On the paper's setting a step there is some thirty small array
operations on arrays of a few thousand entries, so per-operation overhead, not arithmetic, sets
its cost. This kernel runs the same arithmetic with the design of ``validation.cnn.fused``: each
member's state stays resident in one core's cache and its steps run back to back on one thread
(members are independent, so threads never synchronise inside a call); the inner loops run over
the 2 m filters, which are contiguous (state is sample-major, (rows, 2 m), filter f = j m + r).

Per step and member, for the batch I_t (Lemma A.7, the batch mean 1/B sum over I_t):

1. rho_{j,r,i} for i in I_t, in the reduction's form (:data:`MODES`): zeta0 b/sigma0 + ||xi_i||_1
   u_i - alpha y_i w[1] ("shared"), zeta0 b/sigma0 + sum_i' G_{ii'} u_i' - alpha y_i w[1]
   ("overlap-aware"), sum_{k in B_i} w[k] xi_i[k] - alpha y_i w[1] ("support-resolved");
2. ell_{j,i} = 1[y_i = j] - softmax_j(F) and the data gradients of w[1] and of the noise rows;
3. the optimiser (eqs. 3.3-3.6, 5.1, B.2) on w[1], on every noise row and on the untouched
   coordinate b, with the overlap competition factors of :mod:`theorykit.overlap` as step scales
   (Adam's kappa refreshed every :data:`dynamics.reduced.COMPETITION_REFRESH` steps and re-read
   for the batch in between; the sign step's exact own-aligned share), exactly as the reference
   computes them.

Results equal the reference's to round-off (sums run in another order; the equivalence tests
state the tolerance), in float64 and in float32 (the state is stored and stepped in the dtype of
the arrays passed in; the per-step bias-correction terms are computed by the caller, as the
reference computes them). Conventions: docs/conventions.md.
"""

from __future__ import annotations

import dataclasses
import functools
import math

import numba
import numpy as np
import numpy.typing as npt

from dynamics.problem import ReducedProblem
from theorykit.errors import ParameterError
from theorykit.overlap import adam_competition_table

Array = npt.NDArray[np.floating]

#: Steps between refreshes of Adam's competition on overlapping supports: the others' second
#: moments change on the 1/(1 - beta2) scale, the own one at every visit (between refreshes the
#: batch members' kappa is re-read at every step).
COMPETITION_REFRESH = 16
#: Reduction codes of the kernel (:data:`dynamics.problem.Reduction`; "mean-field": the shared
#: displacement of representative samples, :mod:`dynamics.mean_field`).
MODES = {"shared": 0, "overlap-aware": 1, "support-resolved": 2, "mean-field": 3}
#: Preconditioner codes (:class:`theorykit.optimizers.OptimizerKind`'s ``preconditioner``).
PRECONDITIONERS = {"adam": 0, "sign": 1, "none": 2}
#: Columns of each member's ``hyper`` row.
#: ``l2``, ``keep``: the decay of the optimiser's placement as one branch-free line, g + l2 w and
#: w keep: l2 = lam and keep = 1 for L2 decay (eq. 3.3), l2 = 0 and keep = 1 - eta lam for
#: decoupled decay (eq. 3.6); adding 0 w and scaling by 1 are exact, so either is the reference's
#: arithmetic. ``forget1/2`` = 1 - beta1/2. All in the state's dtype, so float32 stays float32.
HYPER_COLUMNS = (
    "q", "alpha", "sigma0", "eta", "beta1", "beta2", "eps", "s", "B",
    "l2", "keep", "forget1", "forget2",
)  # fmt: skip
_Q, _ALPHA, _SIGMA0, _ETA, _BETA1, _BETA2, _EPS, _S, _B, _L2, _KEEP, _FORGET1, _FORGET2 = range(
    len(HYPER_COLUMNS)
)
#: Entries of the competition table's ``scalars``.
_LOG_START, _LOG_STEP, _GUIDE_START, _GUIDE_STEP = range(4)


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _power(z, q):
    """max(z, 0)^q (NaN stays NaN), by multiplication for q = 2, 3, 4 as the reference's."""
    if z > 0.0:
        if q == 3.0:
            return z * z * z
        if q == 2.0:
            return z * z
        if q == 4.0:
            return z * z * z * z
        return z**q
    if z != z:
        return z
    return 0.0**q


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _competition(x, log_kappa, scalars):
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
def _competition_at(others, own_mean, log_kappa, scalars):
    """kappa(O / A), 1 where the own moment A is 0 (the reference's ``_competition_at``)."""
    if own_mean > 0:
        return _competition(others / own_mean, log_kappa, scalars)
    return 1.0


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _log_competition_inverse(kappa, log_kappa, log_grid, guide, scalars):
    """log of ``theorykit.overlap.adam_competition_inverse`` of one value: numpy's ``interp`` of
    -log kappa on the table (-log kappa ascending; its bracket found from ``guide``, the last
    table index at or below each cell of a uniform grid in -log kappa, and a short scan); -inf
    for kappa >= 1 (x = 0), inf for kappa <= 0."""
    if kappa >= 1.0:
        return -math.inf
    if kappa <= 0.0:
        return math.inf
    value = -math.log(kappa)
    last = log_kappa.shape[0] - 1
    if value <= -log_kappa[0]:
        return log_grid[0]
    if value >= -log_kappa[last]:
        return log_grid[last]
    cell = int((value - scalars[_GUIDE_START]) / scalars[_GUIDE_STEP])
    j = guide[min(max(cell, 0), guide.shape[0] - 1)]
    while j > 0 and -log_kappa[j] > value:
        j -= 1
    while j < last - 1 and -log_kappa[j + 1] <= value:
        j += 1
    left, right = -log_kappa[j], -log_kappa[j + 1]
    if left == value:
        return log_grid[j]
    slope = (log_grid[j + 1] - log_grid[j]) / (right - left)
    result = slope * (value - left) + log_grid[j]
    if result != result:
        result = slope * (value - right) + log_grid[j + 1]
    return result


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _moments(w, first, second, gradient, hyper):
    """Adam's moments (eq. 3.4) of every entry of ``w`` (flat) after the reference's decay (``l2``
    and ``keep`` of :data:`HYPER_COLUMNS`); clears ``gradient``. The step is a second pass
    (:func:`_adam_step`): a refresh of the overlap competition reads every updated moment before
    any entry steps."""
    lam, keep = hyper[_L2], hyper[_KEEP]
    beta1, beta2, forget1, forget2 = hyper[_BETA1], hyper[_BETA2], hyper[_FORGET1], hyper[_FORGET2]
    for k in range(w.shape[0]):
        g = gradient[k] + lam * w[k]
        gradient[k] = 0.0
        w[k] = w[k] * keep
        first[k] = first[k] * beta1 + g * forget1
        second[k] = second[k] * beta2 + g * g * forget2


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _adam(w, first, second, gradient, hyper, schedule):
    """:func:`_moments` and :func:`_adam_step` (unscaled) in one pass, where no competition factor
    is read in between: one read and write of each entry per step, as the CNN's fused kernel."""
    lam, keep = hyper[_L2], hyper[_KEEP]
    beta1, beta2, forget1, forget2 = hyper[_BETA1], hyper[_BETA2], hyper[_FORGET1], hyper[_FORGET2]
    eps, step_size, correction = hyper[_EPS], schedule[0], schedule[1]
    for k in range(w.shape[0]):
        g = gradient[k] + lam * w[k]
        gradient[k] = 0.0
        m = first[k] * beta1 + g * forget1
        v = second[k] * beta2 + g * g * forget2
        first[k] = m
        second[k] = v
        w[k] = w[k] * keep - m / (math.sqrt(v) / correction + eps) * step_size


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _adam_step(w, first, second, scale, hyper, schedule, scaled):
    """Adam's step (eq. 3.5; the schedule's step size and sqrt(1 - beta2^t), eta and 1 without
    bias correction) of every entry from its updated moments, times ``scale`` when ``scaled``."""
    eps = hyper[_EPS]
    step_size, correction = schedule[0], schedule[1]
    for k in range(w.shape[0]):
        step = first[k] / (math.sqrt(second[k]) / correction + eps) * step_size
        if scaled:
            step = step * scale[k]
        w[k] = w[k] - step


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _plain_step(w, gradient, scale, hyper, sign, scaled):
    """A sign step (eqs. 5.1, B.2) or a gradient-descent step of every entry of ``w`` (flat), after
    the decay of :data:`HYPER_COLUMNS`, times ``scale`` when ``scaled``; clears ``gradient``."""
    eta, lam, keep = hyper[_ETA], hyper[_L2], hyper[_KEEP]
    for k in range(w.shape[0]):
        g = gradient[k] + lam * w[k]
        gradient[k] = 0.0
        step = eta * ((g > 0) - (g < 0)) if sign else eta * g
        if scaled:
            step = step * scale[k]
        w[k] = w[k] * keep - step


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _refresh(second, l1, l2sq, hyper, by_coordinate, competition, table, b_second, background,
             background_scaled):  # fmt: skip
    """Adam's competition from every sample's second moments (the reference's
    ``_adam_competition`` at a refresh): v[k] = sum_{i in k} V_i xi_i[k]^2 on every noise
    coordinate, each sample's share sum_k xi_i[k]^2 / sqrt(v[k]) sqrt(V_i) / ||xi_i||_1 turned
    into an effective competition O_i (``others``) and its kappa; with ``background_scaled``
    also the untouched coordinate's share mean_k sqrt(v_b / (v_b + v[k])) of an L2 step (the
    reference's ``_background_competition``, from b's updated second moment ``b_second``).

    One pass over the coordinates (``by_coordinate`` = (start, samples, values): the samples on
    each coordinate and their xi there, coordinate-major): v[k] is summed from the samples' rows,
    and 1/sqrt(v[k]) spread back onto their shares, so no per-coordinate array is kept.

    The reference's kappa at a refresh is kappa(kappa^-1(share) A / A) with A the own moment: the
    share itself up to round-off (both directions interpolate one table, 1e-14 relative) wherever
    the table does not clamp (``interior``: kappa between its values at x = 1e12 and x = 1e-8), so
    there it is taken as is and O_i = kappa^-1(share) A is computed on first use
    (:func:`_others_of`), for the samples a batch visits before the next refresh; elsewhere both
    are computed as the reference computes them."""
    others, kappa, start, means, pending = competition
    log_kappa, log_grid, guide, scalars, interior = table
    pointers, samples, values = by_coordinate
    n, filters = second.shape
    coordinates = pointers.shape[0] - 1
    ratio = np.empty(n, dtype=second.dtype)
    for i in range(n):
        ratio[i] = (l1[i] / l2sq[i]) * (l1[i] / l2sq[i])
    totals = np.zeros((n, filters), dtype=second.dtype)
    moment = np.empty(filters, dtype=second.dtype)
    kept = np.zeros(filters, dtype=second.dtype)
    for k in range(coordinates):
        moment[:] = 0.0
        for entry in range(pointers[k], pointers[k + 1]):
            i = samples[entry]
            square = values[entry] * values[entry]
            row = second[i]
            for f in range(filters):
                moment[f] += row[f] * ratio[i] * square
        if background_scaled:
            for f in range(filters):
                own = b_second[f]
                kept[f] += math.sqrt(own / (own + moment[f])) if own > 0 else 1.0
        for f in range(filters):
            moment[f] = 1 / math.sqrt(moment[f]) if moment[f] > 0 else 0.0
        for entry in range(pointers[k], pointers[k + 1]):
            total = totals[samples[entry]]
            square = values[entry] * values[entry]
            for f in range(filters):
                total[f] += moment[f] * square
    if background_scaled:
        for f in range(filters):
            background[f] = kept[f] / coordinates
    for i in range(n):
        total = totals[i]
        for f in range(filters):
            V = second[i, f] * ratio[i]
            own_mean = V * (l2sq[i] / hyper[_S])
            share = min(total[f] * math.sqrt(V) / l1[i], 1.0) if V > 0 else 1.0
            start[i, f] = share
            means[i, f] = own_mean
            if interior[0] < share < interior[1] and own_mean > 0:
                kappa[i, f] = share
                pending[i, f] = True
            else:
                pending[i, f] = False
                log_x = _log_competition_inverse(share, log_kappa, log_grid, guide, scalars)
                others[i, f] = math.exp(log_x) * own_mean
                kappa[i, f] = _competition_at(others[i, f], own_mean, log_kappa, scalars)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _reread(batch, rows, second, gradient, hyper, l1, l2sq, competition, table):
    """Between refreshes: the batch members' kappa re-read from their own moment A_i, which their
    gradient moves (the others' A_i only decay; the reference's ``_adam_competition`` between
    refreshes). Read before the moment pass, from the second moment that pass will write: the same
    operations on the same values (:func:`_moments`), so the same number."""
    others, kappa, start, means, pending = competition
    log_kappa, scalars = table[0], table[3]
    lam, beta2, forget2 = hyper[_L2], hyper[_BETA2], hyper[_FORGET2]
    for i in batch:
        ratio = l1[i] / l2sq[i]
        square, per_coordinate = ratio * ratio, l2sq[i] / hyper[_S]
        for f in range(rows.shape[1]):
            g = gradient[i, f] + lam * rows[i, f]
            updated = second[i, f] * beta2 + g * g * forget2
            own_mean = updated * square * per_coordinate
            current = _others_of(i, f, others, start, means, pending, table)
            kappa[i, f] = _competition_at(current, own_mean, log_kappa, scalars)


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _others_of(i, f, others, start, means, pending, table):
    """O_i of sample i, filter f: from the refresh's share and own moment on first use."""
    if pending[i, f]:
        log_kappa, log_grid, guide, scalars, _ = table
        log_x = _log_competition_inverse(start[i, f], log_kappa, log_grid, guide, scalars)
        others[i, f] = math.exp(log_x) * means[i, f]
        pending[i, f] = False
    return others[i, f]


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _sign_share(gradient, batch, l1, l2sq, support, values, pushes, seen, share, untouched):
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


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _rho(rho, batch, w1, rows, decay, y, l1, zeta0, coupling, coupled, values, alpha, mode):
    """rho_{j,r,i} of the batch members in the reduction's form (module docstring, item 1); the
    overlap's projection sum_i' G_{ii'} u_i' of a batch of 8 or more as one matrix product of the
    batch's rows of G (gathered into ``coupled``) with the rows."""
    n, filters = zeta0.shape
    s = values.shape[1]
    size = batch.shape[0]
    if mode == 1 and size >= 8:
        for c in range(size):
            coupled[c] = coupling[batch[c]]
        np.dot(coupled[:size], rows, rho)
    for c in range(size):
        i = batch[c]
        if mode == 2:
            for f in range(filters):
                rho[c, f] = 0.0
            for k in range(s):
                row = rows[i * s + k]
                for f in range(filters):
                    rho[c, f] += row[f] * values[i, k]
        elif mode == 1 and size < 8:
            for f in range(filters):
                rho[c, f] = 0.0
            for other in range(n):
                weight = coupling[i, other]
                row = rows[other]
                for f in range(filters):
                    rho[c, f] += row[f] * weight
        for f in range(filters):
            feature = alpha * y[i] * w1[f]
            if mode == 2:
                rho[c, f] = rho[c, f] - feature
            elif mode == 1:
                rho[c, f] = zeta0[i, f] * decay[f] + rho[c, f] - feature
            else:
                rho[c, f] = zeta0[i, f] * decay[f] + l1[i] * rows[i, f] - feature


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _gradients(rho, batch, w1, y, l1, l2sq, values, w1_gradient, rows_gradient, q, alpha, mode,
               visited, divisor):  # fmt: skip
    """The batch-mean data gradients of Lemma A.7 on w[1] and on the noise rows (scattered; the
    rows outside the batch stay 0); overwrites ``rho``. Mean-field steps (the reference's
    ``step_mean_field``): the batch is every representative, w[1]'s gradient their mean, and only
    the ``visited`` ones get their noise gradient, divided by the setting's B (``divisor``; the
    batch size otherwise)."""
    size, filters = rho.shape[0], w1.shape[0]
    m = filters // 2
    s = values.shape[1]
    ell = np.empty((size, 2), dtype=rho.dtype)
    for c in range(size):
        i = batch[c]
        logit0 = 0.0
        logit1 = 0.0
        for r in range(m):
            logit0 += _power(y[i] * w1[r], q) + _power(rho[c, r], q)
            logit1 += _power(y[i] * w1[m + r], q) + _power(rho[c, m + r], q)
        top = max(logit0, logit1)
        e0 = math.exp(logit0 - top)
        e1 = math.exp(logit1 - top)
        ell[c, 0] = (1.0 if y[i] > 0 else 0.0) - e0 / (e0 + e1)
        ell[c, 1] = (1.0 if y[i] < 0 else 0.0) - e1 / (e0 + e1)
    for f in range(filters):
        total = 0.0
        for c in range(size):
            i = batch[c]
            head = -ell[c, f // m]
            slope = q * _power(rho[c, f], q - 1)
            total += head * y[i] * (q * _power(y[i] * w1[f], q - 1) - alpha * slope)
            rho[c, f] = head * slope  # rho is read; its slot now holds the noise drive
        w1_gradient[f] = total / size
    for c in range(size):
        i = batch[c]
        if not visited[c]:
            continue
        if mode == 2:  # (drive / B) xi: the reference's (drive xi) / B up to round-off
            for f in range(filters):
                rho[c, f] = rho[c, f] / size
            for k in range(s):
                row, value = rows_gradient[i * s + k], values[i, k]
                for f in range(filters):
                    row[f] = rho[c, f] * value
        else:
            scale = l2sq[i] / l1[i]
            for f in range(filters):
                rows_gradient[i, f] = rho[c, f] * scale / divisor


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _member_steps(
    w1, w1_first, w1_second, rows, rows_first, rows_second, b, b_first, b_second,
    others, kappa, start, means, pending, background, untouched, cached,
    y, l1, l2sq, zeta0, coupling, support, values, pointers, samples, entries,
    batches, visits, hyper, schedule, lengths, kind, table, t0,
):  # fmt: skip
    """One member's steps (see the module docstring and :func:`run_steps`): its own arrays first,
    then what every member shares."""
    mode, preconditioner, decoupled, refresh = kind[0], kind[1], kind[2] == 1, kind[3]
    q, alpha, sigma0 = hyper[_Q], hyper[_ALPHA], hyper[_SIGMA0]
    filters = w1.shape[0]
    dtype = w1.dtype
    rho = np.empty((batches.shape[1], filters), dtype=dtype)
    coupled = np.empty((batches.shape[1], coupling.shape[1]), dtype=dtype)
    decay = np.empty(filters, dtype=dtype)
    w1_gradient = np.zeros(filters, dtype=dtype)
    rows_gradient = np.zeros(rows.shape, dtype=dtype)
    b_gradient = np.zeros(filters, dtype=dtype)
    coordinates = pointers.shape[0] - 1
    pushes = np.zeros((coordinates if preconditioner == 1 else 0, filters), dtype=dtype)
    seen = np.zeros(pushes.shape[0], dtype=np.bool_)
    share = np.ones(rows.shape if preconditioner == 1 else (0, filters), dtype=dtype)
    flat, flat_first, flat_second = (
        rows.reshape(-1),
        rows_first.reshape(-1),
        rows_second.reshape(-1),
    )
    flat_gradient = rows_gradient.reshape(-1)
    overlap = mode == 1
    adam = preconditioner == 0
    adam_overlap = overlap and adam
    sign_overlap = overlap and preconditioner == 1
    background_scaled = overlap and preconditioner != 2 and not decoupled
    mean_field = mode == 3
    every = np.ones(batches.shape[1], dtype=np.bool_)
    for step in range(batches.shape[0]):
        t = t0 + step + 1
        batch = batches[step, : lengths[step]]
        visited = visits[step] if mean_field else every
        divisor = hyper[_B] if mean_field else batch.shape[0] + 0.0 * hyper[_B]
        for f in range(filters):
            decay[f] = b[f] / sigma0
        _rho(rho[: batch.shape[0]], batch, w1, rows, decay, y, l1, zeta0, coupling, coupled,
             values, alpha, mode)  # fmt: skip
        _gradients(rho[: batch.shape[0]], batch, w1, y, l1, l2sq, values, w1_gradient,
                   rows_gradient, q, alpha, mode, visited, divisor)  # fmt: skip
        if sign_overlap:
            _sign_share(rows_gradient, batch, l1, l2sq, support, values, pushes, seen, share,
                        untouched)  # fmt: skip
        if adam:
            _adam(w1, w1_first, w1_second, w1_gradient, hyper, schedule[step])
            _moments(b, b_first, b_second, b_gradient, hyper)
            if adam_overlap and (cached[0] == 0 or t % refresh == 1):
                _moments(flat, flat_first, flat_second, flat_gradient, hyper)
                _refresh(rows_second, l1, l2sq, hyper, (pointers, samples, entries),
                         (others, kappa, start, means, pending), table, b_second, background,
                         background_scaled)  # fmt: skip
                cached[0] = 1
                _adam_step(flat, flat_first, flat_second, kappa.reshape(-1), hyper,
                           schedule[step], True)  # fmt: skip
            elif adam_overlap:
                _reread(batch, rows, rows_second, rows_gradient, hyper, l1, l2sq,
                        (others, kappa, start, means, pending), table)  # fmt: skip
                _moments(flat, flat_first, flat_second, flat_gradient, hyper)
                _adam_step(flat, flat_first, flat_second, kappa.reshape(-1), hyper,
                           schedule[step], True)  # fmt: skip
            else:
                _adam(flat, flat_first, flat_second, flat_gradient, hyper, schedule[step])
            _adam_step(b, b_first, b_second, background, hyper, schedule[step], background_scaled)
        else:
            sign = preconditioner == 1
            _plain_step(w1, w1_gradient, w1, hyper, sign, False)
            _plain_step(flat, flat_gradient, share.reshape(-1), hyper, sign,
                        sign_overlap)  # fmt: skip
            _plain_step(b, b_gradient, untouched, hyper, sign, background_scaled)
            if sign_overlap:
                for i in batch:
                    share[i] = 1.0


@numba.njit(cache=True, parallel=True, nogil=True, error_model="numpy")
def _all_members(
    w1, w1_first, w1_second, rows, rows_first, rows_second, b, b_first, b_second,
    others, kappa, start, means, pending, background, untouched, cached,
    y, l1, l2sq, zeta0, coupling, support, values, pointers, samples, entries,
    batches, visits, hyper, schedule, lengths, kind, table, t0,
):  # fmt: skip
    """Every member's steps, members in parallel (see :func:`run_steps`)."""
    for e in numba.prange(batches.shape[0]):
        _member_steps(
            w1[e], w1_first[e], w1_second[e], rows[e], rows_first[e], rows_second[e],
            b[e], b_first[e], b_second[e],
            others[e], kappa[e], start[e], means[e], pending[e], background[e], untouched[e],
            cached[e], y[e], l1[e], l2sq[e], zeta0[e], coupling[e], support[e], values[e],
            pointers[e], samples[e], entries[e], batches[e], visits[e], hyper[e], schedule[e],
            lengths, kind, table, t0,
        )  # fmt: skip


#: Cells of the uniform grid in -log kappa that guides the inverse's bracket search.
_GUIDE_CELLS = 4096


@functools.cache
def competition_table() -> tuple[Array, Array, npt.NDArray[np.int64], Array, Array]:
    """(log kappa, log x, guide, scalars, interior) of
    :func:`theorykit.overlap.adam_competition_table`, as the kernel reads them: ``guide[c]`` the
    last index whose -log kappa is at or below cell c's start, ``scalars`` (log x start, log x
    step, guide start, guide step), ``interior`` kappa at the table's ends (x = 1e12, 1e-8)."""
    log_start, log_step, log_grid, log_kappa = adam_competition_table()
    ascending = -log_kappa
    guide_start = float(ascending[0])
    guide_step = (float(ascending[-1]) - guide_start) / _GUIDE_CELLS
    starts = guide_start + guide_step * np.arange(_GUIDE_CELLS)
    guide = np.maximum(np.searchsorted(ascending, starts, side="right") - 1, 0)
    scalars = np.array([log_start, log_step, guide_start, guide_step])
    interior = np.exp(np.array([log_kappa[-1], log_kappa[0]]))
    return log_kappa, log_grid, guide.astype(np.int64), scalars, interior


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
    kind: tuple[int, int, int, int]  # (mode, preconditioner, decoupled, refresh period)

    def astype(self, dtype: np.dtype) -> KernelData:
        """The same data with its real arrays in ``dtype``."""
        cast = {
            name: getattr(self, name).astype(dtype)
            for name in ("y", "l1", "l2sq", "zeta0", "coupling", "values", "entries", "hyper")
        }
        return dataclasses.replace(self, **cast)


def run_steps(
    state: KernelState,
    data: KernelData,
    batches: npt.NDArray[np.int64],
    lengths: npt.NDArray[np.int64],
    schedule: Array,
    t0: int,
    parallel: bool = True,
    visits: npt.NDArray[np.bool_] | None = None,
) -> None:
    """Run ``batches.shape[1]`` steps of every member in place: ``batches`` (S, steps, B) sample
    indices of which the first ``lengths[step]`` are used; ``schedule`` (steps, S, 2) Adam's step
    size and sqrt(1 - beta2^t) per step (eta and 1 without bias correction; unused by the other
    optimisers); ``t0`` the step count before the first. Every real array in one dtype (float32 or
    float64), C-contiguous. ``parallel``: members on numba's threads; otherwise one after another
    on the calling thread (for callers that run several groups on threads of their own).
    ``visits`` (S, steps, K): mean-field steps of a shared-displacement problem of K
    representatives, each step's batch all of them and ``visits`` those whose noise coordinates
    are sampled (:func:`_gradients`)."""
    caches = state.caches
    kind = data.kind
    if visits is None:
        visits = np.zeros((batches.shape[0], 0, 0), dtype=np.bool_)
    else:
        if kind[0] != MODES["shared"]:
            raise ParameterError("visits", "mean-field", "a shared-displacement problem")
        kind = (MODES["mean-field"], *kind[1:])
    per_member = (
        state.w1, state.w1_first, state.w1_second,
        state.rows, state.rows_first, state.rows_second,
        state.b, state.b_first, state.b_second,
        caches.others, caches.kappa, caches.start, caches.means, caches.pending,
        caches.background, caches.untouched, caches.cached,
        data.y, data.l1, data.l2sq, data.zeta0, data.coupling, data.support, data.values,
        data.pointers, data.samples, data.entries,
        batches, visits, data.hyper, np.ascontiguousarray(schedule.transpose(1, 0, 2)),
    )  # fmt: skip
    shared = (lengths, kind, competition_table(), t0)
    if parallel:
        _all_members(*per_member, *shared)
        return
    for e in range(batches.shape[0]):
        _member_steps(*(array[e] for array in per_member), *shared)


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
        (mode, PRECONDITIONERS[kind.preconditioner], int(kind.decoupled), COMPETITION_REFRESH),
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


def rows_layout(per_filter: Array, dtype: np.dtype | None = None) -> Array:
    """(S, 2, m, ...) to the kernel's (S, rows, 2 m), C-contiguous, in ``dtype`` (default: as
    given)."""
    S, heads, m = per_filter.shape[:3]
    flat = per_filter.reshape(S, heads * m, -1).transpose(0, 2, 1)
    return np.ascontiguousarray(flat, dtype=dtype or per_filter.dtype)


def filters_layout(rows: Array, shape: tuple[int, ...]) -> Array:
    """The inverse of :func:`rows_layout` (and of flattening (S, 2, m) to (S, 2 m)): back to
    ``shape`` (S, 2, m, ...), float64."""
    if rows.ndim == 2:
        return rows.astype(np.float64).reshape(shape)
    return np.ascontiguousarray(rows.transpose(0, 2, 1), dtype=np.float64).reshape(shape)
