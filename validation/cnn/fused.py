"""A fused CPU kernel for the training loop: whole epochs of gradient (Lemma A.5) and optimiser step
(eqs. 3.3-3.6, 5.1, B.2) per call, the noise patches kept sparse, members in parallel (numba).

The stacked engine (``validation.cnn.engine``) spends a B = 2 step on per-operation overhead and on
passes over dense (E, B, d) noise batches, although a Def. 3.1 noise patch has s + 1 nonzero
coordinates. Here each member runs its own loop over an epoch's steps (members are independent,
so the threads never synchronise inside an epoch); per step and filter (j, r) it

1. gathers rho_{j,r,b} = sum_{k in B_b} w[k] xi_b[k] + w[1] xi_b[1] and y_b w[1] for the batch;
2. forms ell = 1[y = j] - softmax_j(F) and the coefficients -ell sigma'(.) / B (Lemma A.5);
3. scatters the data gradient onto a per-filter scratch vector (nonzero on the batch's supports
   and the feature coordinate only);
4. applies the optimiser to every coordinate in one pass -- the moments decay and the weights
   decay or take L2 steps everywhere -- and clears the scratch where it wrote.

The arithmetic per coordinate is that of :class:`validation.cnn.optim.StackedOptimizer`, in the
same order (so ``torch.optim.Adam``/``AdamW``'s); sums over the batch and the support run in
another order than torch's, so results agree to round-off (the equivalence tests state the
tolerance). Subnormal floats are flushed to zero inside a call (:mod:`dynamics.kernel_float`: on
Intel CPUs they cost a hundred normal operations, and long runs' silent moments decay into them).
Float32 and float64; CPU only (CUDA uses the torch path).
"""

from __future__ import annotations

import math

import numba
import numpy as np
import numpy.typing as npt

from dynamics.kernel_float import flush_subnormals, restore_control

#: Preconditioner codes of the kernel (theorykit.optimizers.Preconditioner).
PRECONDITIONER_CODES = {"adam": 0, "sign": 1, "none": 2}


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _positive_power(z, q):
    """max(z, 0)^q, by multiplication for the integer powers 1-4 (sigma and sigma' of Def. 3.2)."""
    if z <= 0.0:
        return 0.0 * z
    if q == 3.0:
        return z * z * z
    if q == 2.0:
        return z * z
    if q == 4.0:
        return (z * z) * (z * z)
    if q == 1.0:
        return z
    return z**q


#: Columns of the per-member ``hyper`` rows the kernel reads (one row per member, W's dtype):
#: ``keep`` = 1 - eta lam (AdamW's decay factor), ``forget1/2`` = 1 - beta1/2.
HYPER_COLUMNS = ("q", "eta", "lam", "beta1", "beta2", "eps", "keep", "forget1", "forget2")
_Q, _ETA, _LAM, _BETA1, _BETA2, _EPS, _KEEP, _FORGET1, _FORGET2 = range(len(HYPER_COLUMNS))


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _take_gradient(w, scratch, k, lam, keep, decoupled):
    """Coordinate k's gradient, clearing the scratch: decoupled decay scales w[k] by keep = 1 - eta
    lam first (AdamW, eq. 3.6), L2 adds lam w[k] to the gradient (Adam, eq. 3.3); torch's order."""
    g = scratch[k]
    scratch[k] = 0.0
    if decoupled:
        w[k] = w[k] * keep
        return g
    return g + lam * w[k]


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _adam(w, first, second, scratch, hyper, schedule, decoupled, corrected):
    """Adam (L2) or AdamW (decoupled) on every coordinate, torch.optim's operations in its order;
    ``schedule`` = (step size, sqrt(1 - beta2^t)) of this step (eta and 1 without bias correction,
    where ``corrected`` is False and the division is skipped as torch skips it). The flags are
    loop-invariant; one loop with them ran as fast as the four separate loops it replaced."""
    step_size, correction = schedule[0], schedule[1]
    lam, keep, eps = hyper[_LAM], hyper[_KEEP], hyper[_EPS]
    beta1, beta2, forget1, forget2 = hyper[_BETA1], hyper[_BETA2], hyper[_FORGET1], hyper[_FORGET2]
    for k in range(w.shape[0]):
        g = _take_gradient(w, scratch, k, lam, keep, decoupled)
        first[k] = first[k] * beta1 + forget1 * g
        second[k] = second[k] * beta2 + forget2 * g * g
        root = math.sqrt(second[k])
        if corrected:
            root = root / correction
        w[k] = w[k] - step_size * first[k] / (root + eps)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _plain(w, scratch, hyper, sign, decoupled):
    """Sign steps and gradient descent, L2 or decoupled."""
    eta, lam, keep = hyper[_ETA], hyper[_LAM], hyper[_KEEP]
    for k in range(w.shape[0]):
        g = _take_gradient(w, scratch, k, lam, keep, decoupled)
        if sign:
            w[k] = w[k] - eta * ((g > 0) - (g < 0))
        else:
            w[k] = w[k] - eta * g


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _member_steps(W, mom1, mom2, batches, lengths, data, hyper, schedule, kind):
    """One member's steps (see the module docstring). W and the moments are coordinate-major,
    (d, 2 m): filter f = j m + r (heads j = +1, -1 at 0, 1), so the inner loops over filters are
    contiguous. ``data`` = (y, feature_noise, support, values) of :func:`run_steps`; ``hyper`` the
    member's row (``HYPER_COLUMNS``) and ``schedule`` (steps, 2) its step size and bias correction
    per step, all in W's dtype, so that every per-coordinate operation is the torch optimiser's, in
    its dtype and order; ``kind`` = (preconditioner code, decoupled, bias correction)."""
    control = flush_subnormals()
    y, feature_noise, support, values = data
    preconditioner, decoupled, corrected = kind
    q = hyper[_Q]
    d, filters = W.shape
    m = filters // 2
    steps, width = batches.shape
    s = support.shape[1]
    scratch = np.zeros((d, filters), dtype=W.dtype)
    rho = np.empty((width, filters), dtype=W.dtype)
    signal = np.empty((width, filters), dtype=W.dtype)
    noise_coef = np.empty((width, filters), dtype=W.dtype)
    ell = np.empty((width, 2), dtype=W.dtype)
    flat_w = W.reshape(-1)
    flat_scratch = scratch.reshape(-1)
    flat_first = mom1.reshape(-1)
    flat_second = mom2.reshape(-1)
    for step in range(steps):
        size = lengths[step]
        for b in range(size):
            i = batches[step, b]
            for f in range(filters):
                rho[b, f] = W[0, f] * feature_noise[i]
                signal[b, f] = W[0, f] * y[i]
            for k in range(s):
                row = W[support[i, k]]
                value = values[i, k]
                for f in range(filters):
                    rho[b, f] += row[f] * value
        for b in range(size):
            i = batches[step, b]
            logit0 = 0.0
            logit1 = 0.0
            for r in range(m):
                logit0 += _positive_power(signal[b, r], q) + _positive_power(rho[b, r], q)
                logit1 += _positive_power(signal[b, m + r], q) + _positive_power(rho[b, m + r], q)
            top = max(logit0, logit1)
            e0 = math.exp(logit0 - top)
            e1 = math.exp(logit1 - top)
            own = 0 if y[i] > 0 else 1
            ell[b, 0] = (1.0 if own == 0 else 0.0) - e0 / (e0 + e1)
            ell[b, 1] = (1.0 if own == 1 else 0.0) - e1 / (e0 + e1)
        for b in range(size):
            i = batches[step, b]
            for f in range(filters):
                head = ell[b, f // m]
                coef = -head * q * _positive_power(rho[b, f], q - 1) / size
                noise_coef[b, f] = coef
                scratch[0, f] += (
                    -head * q * _positive_power(signal[b, f], q - 1) * y[i] / size
                    + coef * feature_noise[i]
                )
            for k in range(s):
                target = scratch[support[i, k]]
                value = values[i, k]
                for f in range(filters):
                    target[f] += noise_coef[b, f] * value
        if preconditioner == 0:
            update = schedule[step]
            _adam(
                flat_w, flat_first, flat_second, flat_scratch, hyper, update, decoupled, corrected
            )
        else:
            _plain(flat_w, flat_scratch, hyper, preconditioner == 1, decoupled)
    restore_control(control)


@numba.njit(cache=True, parallel=True, nogil=True, error_model="numpy")
def _all_members(W, mom1, mom2, batches, lengths, data, hyper, schedule, kind):
    y, feature_noise, support, values = data
    for e in numba.prange(W.shape[0]):
        member_data = (y[e], feature_noise[e], support[e], values[e])
        _member_steps(
            W[e],
            mom1[e],
            mom2[e],
            batches[e],
            lengths,
            member_data,
            hyper[e],
            schedule[:, e],
            kind,
        )


def run_steps(
    W: np.ndarray,
    mom1: np.ndarray,
    mom2: np.ndarray,
    batches: npt.NDArray[np.int64],
    lengths: npt.NDArray[np.int64],
    y: np.ndarray,
    feature_noise: np.ndarray,
    support: npt.NDArray[np.int64],
    values: np.ndarray,
    q: np.ndarray,
    hyper: dict[str, np.ndarray],
    t0: int,
    preconditioner: str,
    decoupled: bool,
    bias_correction: bool,
) -> int:
    """Run ``batches.shape[1]`` steps of every member in place; returns the new step counter.

    Shapes: W, mom1, mom2 (E, d, 2 m), coordinate-major and C-contiguous (the moments are ignored by
    the sign and GD steps, and may then have 0 columns);
    ``batches`` (E, steps, B) sample indices, of which the first ``lengths[step]`` are used; y,
    feature_noise (E, n) labels and xi_i[1] = -alpha y_i; ``support``, ``values`` (E, n, s) the
    noise coordinates (0 is the feature) and xi there; q and every ``hyper`` entry (E,) in W's
    dtype. The bias-correction terms of steps t0 + 1, ... are computed here as the torch optimiser
    computes them (t as a float of W's dtype); without bias correction the step size is eta.
    """
    dtype = W.dtype.type
    one = dtype(1.0)
    eta, lam, beta1, beta2 = (hyper[name] for name in ("eta", "lam", "beta1", "beta2"))
    columns = {
        **hyper,
        "q": q,
        "keep": one - eta * lam,
        "forget1": one - beta1,
        "forget2": one - beta2,
    }
    rows = np.stack([columns[name] for name in HYPER_COLUMNS], axis=1)
    t = (t0 + 1 + np.arange(batches.shape[1])).astype(W.dtype)[:, None]
    if bias_correction:
        step_size, correction = eta / (one - beta1**t), np.sqrt(one - beta2**t)
    else:  # the kernel skips the division, so the correction column is never read
        step_size = np.broadcast_to(eta, (len(t), len(eta)))
        correction = np.ones_like(step_size)
    schedule = np.stack([step_size, correction], axis=-1)
    _all_members(
        W,
        mom1,
        mom2,
        batches,
        lengths,
        (y, feature_noise, support, values),
        np.ascontiguousarray(rows, dtype=W.dtype),
        np.ascontiguousarray(schedule, dtype=W.dtype),
        (PRECONDITIONER_CODES[preconditioner], decoupled, bias_correction),
    )
    return t0 + batches.shape[1]
