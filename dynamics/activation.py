"""The model's activation and loss derivative on numpy arrays of the reduced dynamics:
sigma(z) = max(z, 0)^q and sigma' (Def. 3.2), ell_{j,i} (Lemma A.5)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from dynamics.trajectory import HEAD_SIGNS

Array = npt.NDArray[np.float64]


def sigma(z: Array, q: float | Array) -> Array:
    """max(z, 0)^q; by repeated multiplication when q is one small integer (the common case, q = 3),
    which is several times faster than a float power and equal to it up to round-off."""
    positive = np.maximum(z, 0.0)
    if isinstance(q, float) and q.is_integer() and 2 <= q <= 8:
        out = positive * positive
        for _ in range(int(q) - 2):
            out *= positive
        return out
    return positive**q


def sigma_prime(z: Array, q: float | Array) -> Array:
    """sigma'(z) = q max(z, 0)^{q-1} (Def. 3.2)."""
    return q * sigma(z, q - 1)


def ell(logits: Array, y: Array) -> Array:
    """ell_{j,i} = 1[y_i = j] - softmax_j(F(x_i)) (Lemma A.5); logits (S, 2, n), y (S, n)."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    own = (y[:, None, :] == HEAD_SIGNS[None, :, None]).astype(float)
    return own - probs
