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

1. rho_{j,r,i} for i in I_t, in the reduction's form (:data:`dynamics.kernel_layout.MODES`):
   zeta0 b/sigma0 + ||xi_i||_1 u_i - alpha y_i w[1] ("shared"), zeta0 b/sigma0 + sum_i' G_{ii'}
   u_i' - alpha y_i w[1] ("overlap-aware"), sum_{k in B_i} w[k] xi_i[k] - alpha y_i w[1]
   ("support-resolved");
2. ell_{j,i} = 1[y_i = j] - softmax_j(F) and the data gradients of w[1] and of the noise rows;
3. the optimiser (eqs. 3.3-3.6, 5.1, B.2) on w[1], on every noise row and on the untouched
   coordinate b, with the overlap competition factors of :mod:`theorykit.overlap` as step scales
   (:mod:`dynamics.kernel_competition`: Adam's kappa refreshed every
   :attr:`dynamics.problem.ReducedProblem.competition_refresh` steps and re-read for the batch in
   between; the sign step's exact own-aligned share), exactly as the reference computes them.

Results equal the reference's to round-off (sums run in another order; the equivalence tests
state the tolerance), in float64 and in float32 (the state is stored and stepped in the dtype of
the arrays passed in; the per-step bias-correction terms are computed by the caller, as the
reference computes them). Subnormal floats are flushed to zero inside a span
(:mod:`dynamics.kernel_float`). Conventions: docs/conventions.md.
"""

from __future__ import annotations

import math

import numba
import numpy as np
import numpy.typing as npt

from dynamics.kernel_competition import (
    competition_table,
    refresh_competition,
    reread_competition,
    sign_share,
)
from dynamics.kernel_float import flush_subnormals, restore_control
from dynamics.kernel_layout import (
    ALPHA,
    BETA1,
    BETA2,
    EPS,
    ETA,
    FORGET1,
    FORGET2,
    KEEP,
    L2,
    MODES,
    SIGMA0,
    B,
    KernelData,
    KernelState,
    Q,
)  # fmt: skip
from dynamics.kernel_rows import add_weighted_rows
from theorykit.errors import ParameterError

Array = npt.NDArray[np.floating]


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _power(z, q):
    """max(z, 0)^q (NaN stays NaN), by multiplication for q = 2, 3, 4 as the reference's. The
    clamp is a select, not a branch: z's sign is a coin flip on half the entries, and a branch on
    it mispredicts about every other time."""
    positive = 0.0 if z <= 0.0 else z
    if q == 3.0:
        return positive * positive * positive
    if q == 2.0:
        return positive * positive
    if q == 4.0:
        return positive * positive * positive * positive
    return positive**q


#: What :func:`_adam` does to a run of rows: nothing; Adam's whole update (moments and step in one
#: pass); the moments only (eq. 3.4, after the decay); the step only, from updated moments.
SKIP, UPDATE, MOMENTS, STEP = -1, 0, 1, 2


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _moment_constants(hyper):
    """(l2, keep, beta1, beta2, 1 - beta1, 1 - beta2) of
    :data:`dynamics.kernel_layout.HYPER_COLUMNS`, read once before a loop: read inside it, after a
    store that might alias them, they are reloaded at every entry and the loop is not vectorised."""
    return hyper[L2], hyper[KEEP], hyper[BETA1], hyper[BETA2], hyper[FORGET1], hyper[FORGET2]


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _step_constants(hyper, schedule):
    """(eps, step size, 1 / sqrt(1 - beta2^t)) of this step (:func:`run_steps`' ``schedule``), read
    once before a loop (likewise)."""
    return hyper[EPS], schedule[0], schedule[1]


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _moment(w, first, second, g, constants):
    """One entry's (w keep, first, second moment) (eq. 3.4) from its data gradient ``g`` (0 where
    untouched) plus the decay ``l2`` w (:func:`_moment_constants`). On scalars: an inlined function
    of arrays costs a reference count per call."""
    lam, keep, beta1, beta2, forget1, forget2 = constants
    g = g + lam * w
    return w * keep, first * beta1 + g * forget1, second * beta2 + g * g * forget2


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _step(first, second, constants):
    """One entry's step (eq. 3.5; the schedule's step size and 1 / sqrt(1 - beta2^t), eta and 1
    without bias correction; :func:`_step_constants`) from its updated moments. The bias
    correction multiplies by its reciprocal where the reference divides: the square root and the
    divisions set the cost of a long span (the support-resolved rows), and one division fewer per
    entry makes the pass cheaper than the CNN's fused one (which keeps torch's order). The step
    changes by round-off."""
    eps, step_size, inverse_correction = constants
    return first / (math.sqrt(second) * inverse_correction + eps) * step_size


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _moments(w, first, second, gradient, hyper, read):
    """:func:`_moment` of every entry of a span, its gradient read and cleared where ``read``."""
    constants = _moment_constants(hyper)
    zero = constants[0] - constants[0]  # the untouched entries' data gradient, in w's dtype
    for k in range(w.shape[0]):
        g = zero
        if read:
            g = gradient[k]
            gradient[k] = 0.0
        w[k], first[k], second[k] = _moment(w[k], first[k], second[k], g, constants)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _steps(w, first, second, scale, hyper, schedule, scaled):
    """:func:`_step` of every entry of a span, times ``scale`` where ``scaled``."""
    constants = _step_constants(hyper, schedule)
    for k in range(w.shape[0]):
        step = _step(first[k], second[k], constants)
        w[k] = w[k] - (step * scale[k] if scaled else step)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _updates(w, first, second, gradient, scale, hyper, schedule, read, scaled):
    """Both in one pass over a span (one read and write of each entry, as the CNN's fused kernel);
    w keep is rounded before the step is subtracted, as in two passes."""
    moment_constants, step_constants = _moment_constants(hyper), _step_constants(hyper, schedule)
    zero = moment_constants[0] - moment_constants[0]
    for k in range(w.shape[0]):
        g = zero
        if read:
            g = gradient[k]
            gradient[k] = 0.0
        kept, m, v = _moment(w[k], first[k], second[k], g, moment_constants)
        first[k], second[k] = m, v
        step = _step(m, v, step_constants)
        w[k] = kept - (step * scale[k] if scaled else step)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _adam_span(w, first, second, gradient, scale, hyper, schedule, operation, read, scaled):
    """``operation`` (:data:`UPDATE`, :data:`MOMENTS`, :data:`STEP` or :data:`SKIP`) on a span."""
    if operation == UPDATE:
        _updates(w, first, second, gradient, scale, hyper, schedule, read, scaled)
    elif operation == MOMENTS:
        _moments(w, first, second, gradient, hyper, read)
    elif operation == STEP:
        _steps(w, first, second, scale, hyper, schedule, scaled)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _adam(w, first, second, gradient, scale, hyper, schedule, touched, touched_operation,
          untouched_operation, scaled, outer):  # fmt: skip
    """Adam over runs of rows (flat entries, ``touched.shape[0]`` rows of equal width): a run of
    rows a step's batch touched gets ``touched_operation`` (:data:`UPDATE`, :data:`MOMENTS`,
    :data:`STEP` or :data:`SKIP`) with its gradient read, a run of untouched rows
    ``untouched_operation`` without (their gradient is 0). Most rows are untouched at small B:
    their gradient is never read (one stream fewer through memory, where the support-resolved
    rows are as many as the CNN's weights), and between refreshes of the overlap competition their
    moments and step are one pass (:func:`_updates`) while the batch's rows wait for their
    re-read kappa.

    ``outer`` = (drive, values, slot, formed): where ``formed`` (support-resolved Adam, whose
    operations are :data:`UPDATE` unscaled), a touched sample's gradient is not read from
    ``gradient`` but is the outer product drive[slot[i]] xi_i (the support-resolved rows of sample
    i, :func:`_gradients`), formed entry by entry where it is used (:func:`_updates_outer`): the
    batch's gradient never goes through memory, which at B = 100 is half the support-resolved
    rows."""
    drive, values, slot, formed = outer
    rows = touched.shape[0]
    width = w.shape[0] // rows
    row = 0
    while row < rows:
        end = row + 1
        while end < rows and touched[end] == touched[row]:
            end += 1
        if touched[row] and formed:
            for i in range(row, end):
                span = slice(i * width, (i + 1) * width)
                _updates_outer(w[span], first[span], second[span], drive[slot[i]], values[i],
                               hyper, schedule)  # fmt: skip
        else:
            operation = touched_operation if touched[row] else untouched_operation
            span = slice(row * width, end * width)
            _adam_span(w[span], first[span], second[span], gradient[span], scale[span], hyper,
                       schedule, operation, touched[row], scaled)  # fmt: skip
        row = end


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _updates_outer(w, first, second, drive, values, hyper, schedule):
    """:func:`_updates` of one support-resolved sample's rows (flat (s, 2 m)) whose gradient is
    the outer product drive[f] values[k]: the products :func:`_outer_product` forms, each where
    its entry is updated, in :func:`_updates`' arithmetic."""
    moment_constants, step_constants = _moment_constants(hyper), _step_constants(hyper, schedule)
    filters = drive.shape[0]
    for k in range(values.shape[0]):
        value, start = values[k], k * filters
        for f in range(filters):
            e = start + f
            kept, m, v = _moment(w[e], first[e], second[e], drive[f] * value, moment_constants)
            first[e], second[e] = m, v
            w[e] = kept - _step(m, v, step_constants)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _outer_product(target, drive, values):
    """``target[k, f] = drive[f] values[k]``: one support-resolved sample's noise gradient."""
    for k in range(values.shape[0]):
        row, value = target[k], values[k]
        for f in range(drive.shape[0]):
            row[f] = drive[f] * value


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _plain_step(w, gradient, scale, hyper, sign, scaled):
    """A sign step (eqs. 5.1, B.2) or a gradient-descent step of every entry of ``w`` (flat), after
    the decay of :data:`dynamics.kernel_layout.HYPER_COLUMNS`, times ``scale`` when ``scaled``;
    clears ``gradient``."""
    eta, lam, keep = hyper[ETA], hyper[L2], hyper[KEEP]
    for k in range(w.shape[0]):
        g = gradient[k] + lam * w[k]
        gradient[k] = 0.0
        step = eta * ((g > 0) - (g < 0)) if sign else eta * g
        if scaled:
            step = step * scale[k]
        w[k] = w[k] * keep - step


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _rho(rho, batch, w1, rows, decay, y, l1, zeta0, coupling, coupled, values, alpha, mode,
         positions):  # fmt: skip
    """rho_{j,r,i} of the batch members in the reduction's form (module docstring, item 1); the
    overlap's projection sum_i' G_{ii'} u_i' of a batch of 8 or more as one matrix product of the
    batch's rows of G (gathered into ``coupled``) with the rows, of a smaller one and the
    support-resolved sum row by row (:func:`dynamics.kernel_rows.add_weighted_rows`, over
    ``positions`` = 0, 1, ..., max(n, s) - 1)."""
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
            rho[c] = 0.0
            add_weighted_rows(rho[c], rows[i * s : (i + 1) * s], positions, values[i], 0, s)
        elif mode == 1 and size < 8:
            rho[c] = 0.0
            add_weighted_rows(rho[c], rows, positions, coupling[i], 0, n)
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
               visited, divisor, scatter):  # fmt: skip
    """The batch-mean data gradients of Lemma A.7 on w[1] and on the noise rows (scattered; the
    rows outside the batch stay 0); overwrites ``rho`` with each member's noise drive (divided by
    the batch size in the support-resolved form, whose rows are drive xi_i[k]: not scattered unless
    ``scatter``, :func:`_updates_outer` forms them where it steps). Mean-field steps (the
    reference's ``step_mean_field``): the batch is every representative, w[1]'s gradient their
    mean, and only the ``visited`` ones get their noise gradient, divided by the setting's B
    (``divisor``; the batch size otherwise)."""
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
            if scatter:
                _outer_product(rows_gradient[i * s : (i + 1) * s], rho[c], values[i])
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
    mode, preconditioner, background_scaled, refresh = kind[0], kind[1], kind[2] == 1, kind[3]
    q, alpha, sigma0 = hyper[Q], hyper[ALPHA], hyper[SIGMA0]
    filters = w1.shape[0]
    dtype = w1.dtype
    rho = np.empty((batches.shape[1], filters), dtype=dtype)
    coupled = np.empty((batches.shape[1], coupling.shape[1]), dtype=dtype)
    decay = np.empty(filters, dtype=dtype)
    w1_gradient = np.zeros(filters, dtype=dtype)
    # Adam forms the support-resolved rows' gradient where it steps them (:func:`_updates_outer`)
    formed = mode == 2 and preconditioner == 0
    rows_gradient = np.zeros((0, filters) if formed else rows.shape, dtype=dtype)
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
    mean_field = mode == 3
    every = np.ones(batches.shape[1], dtype=np.bool_)
    # the samples whose noise rows the step's data gradient reaches (:func:`_adam`)
    touched = np.zeros(rows.shape[0] // values.shape[1] if mode == 2 else rows.shape[0],
                       dtype=np.bool_)  # fmt: skip
    scale = kappa.reshape(-1) if adam_overlap else flat
    slot = np.zeros(touched.shape[0], dtype=np.int64)  # a touched sample's place in the batch
    outer = (rho, values, slot, formed)
    control = flush_subnormals()
    caches = (others, kappa, start, means, pending)
    positions = np.arange(max(y.shape[0], values.shape[1]))
    by_coordinate = (pointers, samples, entries * entries)
    by_sample = (support, values * values)
    refreshed = kappa.shape[0]  # n where Adam's competition is kept, else 0
    work = (np.empty((refreshed, filters), dtype=dtype),
            np.empty((coordinates if refreshed else 0, filters), dtype=dtype))  # fmt: skip
    indices = np.empty((2, filters), dtype=np.int64)
    pending_scratch = (np.empty(filters), np.empty(filters), np.empty(filters), indices[0],
                       indices[1])  # fmt: skip
    for step in range(batches.shape[0]):
        t = t0 + step + 1
        batch = batches[step, : lengths[step]]
        visited = visits[step] if mean_field else every
        divisor = hyper[B] if mean_field else batch.shape[0] + 0.0 * hyper[B]
        for f in range(filters):
            decay[f] = b[f] / sigma0
        _rho(rho[: batch.shape[0]], batch, w1, rows, decay, y, l1, zeta0, coupling, coupled,
             values, alpha, mode, positions)  # fmt: skip
        _gradients(rho[: batch.shape[0]], batch, w1, y, l1, l2sq, values, w1_gradient,
                   rows_gradient, q, alpha, mode, visited, divisor, not formed)  # fmt: skip
        if sign_overlap:
            sign_share(rows_gradient, batch, l1, l2sq, support, values, pushes, seen, share,
                       untouched)  # fmt: skip
        if adam:
            for c in range(batch.shape[0]):
                touched[batch[c]] = visited[c]
                slot[batch[c]] = c
            _updates(w1, w1_first, w1_second, w1_gradient, w1, hyper, schedule[step], True, False)
            _moments(b, b_first, b_second, b_gradient, hyper, False)
            if adam_overlap and (cached[0] == 0 or (t - 1) % refresh == 0):
                _adam(flat, flat_first, flat_second, flat_gradient, scale, hyper, schedule[step],
                      touched, MOMENTS, MOMENTS, True, outer)  # fmt: skip
                refresh_competition(rows_second, l1, l2sq, hyper, by_coordinate, by_sample,
                                    caches, table, b_second, background, background_scaled,
                                    work)  # fmt: skip
                cached[0] = 1
                _adam(flat, flat_first, flat_second, flat_gradient, scale, hyper, schedule[step],
                      touched, STEP, STEP, True, outer)  # fmt: skip
            elif adam_overlap:  # the others' kappa is the refresh's: their update is one pass
                _adam(flat, flat_first, flat_second, flat_gradient, scale, hyper, schedule[step],
                      touched, MOMENTS, SKIP, True, outer)  # fmt: skip
                reread_competition(batch, rows_second, hyper, l1, l2sq, caches, table,
                                   pending_scratch)  # fmt: skip
                _adam(flat, flat_first, flat_second, flat_gradient, scale, hyper, schedule[step],
                      touched, STEP, UPDATE, True, outer)  # fmt: skip
            else:
                _adam(flat, flat_first, flat_second, flat_gradient, scale, hyper, schedule[step],
                      touched, UPDATE, UPDATE, False, outer)  # fmt: skip
            _steps(b, b_first, b_second, background, hyper, schedule[step], background_scaled)
            for c in range(batch.shape[0]):
                touched[batch[c]] = False
        else:
            sign = preconditioner == 1
            _plain_step(w1, w1_gradient, w1, hyper, sign, False)
            _plain_step(flat, flat_gradient, share.reshape(-1), hyper, sign,
                        sign_overlap)  # fmt: skip
            _plain_step(b, b_gradient, untouched, hyper, sign, background_scaled)
            if sign_overlap:
                for i in batch:
                    share[i] = 1.0
    restore_control(control)


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
    size and 1 / sqrt(1 - beta2^t) per step (eta and 1 without bias correction; unused by the
    other optimisers); ``t0`` the step count before the first. Every real array in one dtype
    (float32 or float64), C-contiguous. ``parallel``: members on numba's threads; otherwise one
    after another on the calling thread (for callers that run several groups on threads of their
    own). ``visits`` (S, steps, K): mean-field steps of a shared-displacement problem of K
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
