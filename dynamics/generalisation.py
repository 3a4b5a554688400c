"""Monte Carlo test error of the reduced dynamics (Def. 3.1 test points).

F_j = sum_r sigma(j y gamma_{j,r}) + sigma(zeta_{j,r} - alpha j y gamma_{j,r}) with zeta_{j,r} =
sum over the point's support of w_{j,r}[k] xi[k]: each point draws a fresh support of s of the
d - 1 noise coordinates and its values; on a coordinate training touched (the reduction's
``touched_weights``, :class:`dynamics.reductions.NoiseReduction`) filter (j, r) has its modelled
weight, on the others an initial weight N(0, sigma0^2) shrunk like b, independent across filters,
which enters as a Gaussian of variance b^2 sum_k xi[k]^2 given the point. The same point meets
every filter, so the filters' noise inner products are correlated as in the CNN.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

from dynamics.activation import sigma
from dynamics.trajectory import HEAD_SIGNS
from theorykit.params import ProblemParams

Array = npt.NDArray[np.float64]

#: Test points per block of the Monte Carlo test error (bounds its temporary arrays).
TEST_CHUNK = 500


def monte_carlo_test_error(
    rng: np.random.Generator,
    params: Sequence[ProblemParams],
    gamma: Array,
    b: Array,
    touched_weights: Callable[[int], tuple[Array, bool]],
    size: int,
) -> Array:
    """The test error of every setting (S,) over ``size`` fresh points (ties and NaN count as
    errors), from gamma (S, 2, m), the untouched coordinate b (S, 2, m) and ``touched_weights(e)``:
    setting e's weights on the touched coordinates (2, m, K) and whether their initial part is
    still to be drawn. (The blocks of points are one loop, not a function per block: a block's
    large temporaries are then freed only as the next block's replace them, which keeps the
    allocator from handing their memory back and faulting it in again: about 25% faster.)"""
    errors = np.empty(len(params))
    for e, p in enumerate(params):
        touched, initial_unknown = touched_weights(e)
        wrong = 0
        for start in range(0, size, TEST_CHUNK):
            count = min(TEST_CHUNK, size - start)
            y = rng.choice([1.0, -1.0], size=count)
            positions = np.argpartition(rng.random((count, p.d - 1)), p.s - 1, axis=1)
            positions = positions[:, : p.s]
            xi = rng.normal(0.0, p.sigma_p, size=(count, p.s))
            hit = positions < touched.shape[-1]
            weights = touched[:, :, np.where(hit, positions, 0)] * hit  # (2, m, count, s)
            zeta = (weights * xi).sum(axis=-1)
            unknown = xi**2 if initial_unknown else np.where(hit, 0.0, xi**2)
            spread = b[e][..., None] * np.sqrt(unknown.sum(axis=-1))  # (2, m, count)
            zeta = zeta + rng.normal(size=zeta.shape) * spread
            jy = HEAD_SIGNS[:, None, None] * y
            g = gamma[e][..., None]
            q = float(p.q)
            logits = (sigma(jy * g, q) + sigma(zeta - p.alpha * jy * g, q)).sum(axis=1)
            own = (y < 0).astype(int)
            own_logit = logits[own, np.arange(count)]
            other_logit = logits[1 - own, np.arange(count)]
            wrong += int((~(own_logit > other_logit)).sum())
        errors[e] = wrong / size
    return errors
