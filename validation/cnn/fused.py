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
tolerance). Float32 and float64; CPU only (CUDA uses the torch path).
"""

from __future__ import annotations

import math

import numba
import numpy as np
import numpy.typing as npt

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


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _adam_l2(
    w, first, second, scratch, lam, beta1, beta2, forget1, forget2, size_step, correction, eps
):
    for k in range(w.shape[0]):
        g = scratch[k] + lam * w[k]
        scratch[k] = 0.0
        first[k] = first[k] * beta1 + forget1 * g
        second[k] = second[k] * beta2 + forget2 * g * g
        w[k] = w[k] - size_step * first[k] / (math.sqrt(second[k]) / correction + eps)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _adam_decoupled(
    w, first, second, scratch, keep, beta1, beta2, forget1, forget2, size_step, correction, eps
):
    for k in range(w.shape[0]):
        g = scratch[k]
        scratch[k] = 0.0
        w[k] = w[k] * keep
        first[k] = first[k] * beta1 + forget1 * g
        second[k] = second[k] * beta2 + forget2 * g * g
        w[k] = w[k] - size_step * first[k] / (math.sqrt(second[k]) / correction + eps)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _adam_plain_l2(w, first, second, scratch, lam, beta1, beta2, forget1, forget2, size_step, eps):
    for k in range(w.shape[0]):
        g = scratch[k] + lam * w[k]
        scratch[k] = 0.0
        first[k] = first[k] * beta1 + forget1 * g
        second[k] = second[k] * beta2 + forget2 * g * g
        w[k] = w[k] - size_step * first[k] / (math.sqrt(second[k]) + eps)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _adam_plain_decoupled(
    w, first, second, scratch, keep, beta1, beta2, forget1, forget2, size_step, eps
):
    for k in range(w.shape[0]):
        g = scratch[k]
        scratch[k] = 0.0
        w[k] = w[k] * keep
        first[k] = first[k] * beta1 + forget1 * g
        second[k] = second[k] * beta2 + forget2 * g * g
        w[k] = w[k] - size_step * first[k] / (math.sqrt(second[k]) + eps)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _plain(w, scratch, eta, lam, keep, sign, decoupled):
    """Sign steps and gradient descent, L2 or decoupled."""
    for k in range(w.shape[0]):
        g = scratch[k]
        scratch[k] = 0.0
        if decoupled:
            w[k] = w[k] * keep
        else:
            g = g + lam * w[k]
        if sign:
            w[k] = w[k] - eta * ((g > 0) - (g < 0))
        else:
            w[k] = w[k] - eta * g


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _member_steps(
    W,
    mom1,
    mom2,
    batches,
    lengths,
    y,
    feature_noise,
    support,
    values,
    q,
    eta,
    lam,
    beta1,
    beta2,
    eps,
    keep,
    forget1,
    forget2,
    step_size,
    correction,
    preconditioner,
    decoupled,
    bias_correction,
):
    """One member's steps (see the module docstring). W and the moments are coordinate-major,
    (d, 2 m): filter f = j m + r (heads j = +1, -1 at 0, 1), so the inner loops over filters are
    contiguous. ``keep`` = 1 - eta lam, ``forget1/2`` = 1 - beta1/2, ``step_size`` and
    ``correction`` per step (bias correction), all in W's dtype, so that every per-coordinate
    operation is the torch optimiser's, in its dtype and order."""
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
        if preconditioner != 0:
            _plain(flat_w, flat_scratch, eta, lam, keep, preconditioner == 1, decoupled)
        elif bias_correction and decoupled:
            _adam_decoupled(
                flat_w,
                flat_first,
                flat_second,
                flat_scratch,
                keep,
                beta1,
                beta2,
                forget1,
                forget2,
                step_size[step],
                correction[step],
                eps,
            )
        elif bias_correction:
            _adam_l2(
                flat_w,
                flat_first,
                flat_second,
                flat_scratch,
                lam,
                beta1,
                beta2,
                forget1,
                forget2,
                step_size[step],
                correction[step],
                eps,
            )
        elif decoupled:
            _adam_plain_decoupled(
                flat_w,
                flat_first,
                flat_second,
                flat_scratch,
                keep,
                beta1,
                beta2,
                forget1,
                forget2,
                step_size[step],
                eps,
            )
        else:
            _adam_plain_l2(
                flat_w,
                flat_first,
                flat_second,
                flat_scratch,
                lam,
                beta1,
                beta2,
                forget1,
                forget2,
                step_size[step],
                eps,
            )


@numba.njit(cache=True, parallel=True, nogil=True, error_model="numpy")
def _all_members(
    W,
    mom1,
    mom2,
    batches,
    lengths,
    y,
    feature_noise,
    support,
    values,
    q,
    eta,
    lam,
    beta1,
    beta2,
    eps,
    keep,
    forget1,
    forget2,
    step_size,
    correction,
    preconditioner,
    decoupled,
    bias_correction,
):
    for e in numba.prange(W.shape[0]):
        _member_steps(
            W[e],
            mom1[e],
            mom2[e],
            batches[e],
            lengths,
            y[e],
            feature_noise[e],
            support[e],
            values[e],
            q[e],
            eta[e],
            lam[e],
            beta1[e],
            beta2[e],
            eps[e],
            keep[e],
            forget1[e],
            forget2[e],
            step_size[:, e],
            correction[:, e],
            preconditioner,
            decoupled,
            bias_correction,
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
    eta, lam, beta1, beta2, eps = (hyper[name] for name in ("eta", "lam", "beta1", "beta2", "eps"))
    t = (t0 + 1 + np.arange(batches.shape[1])).astype(W.dtype)[:, None]
    if bias_correction:
        step_size = (eta / (one - beta1**t)).astype(W.dtype)
        correction = np.sqrt(one - beta2**t).astype(W.dtype)
    else:
        step_size = np.broadcast_to(eta, (batches.shape[1], W.shape[0])).astype(W.dtype)
        correction = np.ones_like(step_size)
    _all_members(
        W,
        mom1,
        mom2,
        batches,
        lengths,
        y,
        feature_noise,
        support,
        values,
        q,
        eta,
        lam,
        beta1,
        beta2,
        eps,
        (one - eta * lam).astype(W.dtype),
        (one - beta1).astype(W.dtype),
        (one - beta2).astype(W.dtype),
        step_size,
        correction,
        PRECONDITIONER_CODES[preconditioner],
        decoupled,
        bias_correction,
    )
    return t0 + batches.shape[1]
