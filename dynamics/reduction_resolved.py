"""The support-resolved reduction ("support-resolved" of :data:`dynamics.problem.Reduction`):
instead of (a_k, u_{j,r,i}), every noise coordinate w_{j,r}[k], k in B_i, is carried, with its own
optimiser state, and zeta_{j,r,i} = sum_{k in B_i} w[k] xi_i[k]. Its data gradient is exactly Lemma
A.7's -(1[i in I_t]/B) ell_{j,i} sigma'(rho_{j,r,i}) xi_i[k], so on disjoint supports this is
exact for every optimiser, L2 and Adam's per-coordinate moments included (it is the CNN restricted
to the coordinates training touches). It costs s times the memory of the shared displacement: for
coefficient checks and single settings, not for phase diagrams."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from dynamics.overlap_competition import no_competition
from dynamics.problem import ReducedProblem
from theorykit.errors import ParameterError

Array = npt.NDArray[np.float64]
Index = npt.NDArray[np.int64]


def support_index(idx: Index, shape: tuple[int, ...]) -> tuple[Index, ...]:
    """Index of support weights of ``shape`` (S, 2, m, n, s) at the samples ``idx`` (S, B):
    selects (S, 2, m, B, s)."""
    S, _, m = shape[:3]
    return (
        np.arange(S)[:, None, None, None],
        np.arange(2)[None, :, None, None],
        np.arange(m)[None, None, :, None],
        idx[:, None, None, :],
    )


class SupportResolved:
    """:class:`dynamics.reductions.NoiseReduction` carrying the support weights w_{j,r}[k], ``u``
    (S, 2, m, n, s)."""

    def __init__(self, problem: ReducedProblem) -> None:
        assert problem.xi_support is not None and problem.w_support0 is not None
        self._problem = problem
        self._xi_support: Array = problem.xi_support
        self._w_support0: Array = problem.w_support0

    def initial_noise(self) -> Array:
        return self._w_support0.copy()

    def zeta(self, u: Array, b: Array) -> Array:
        """sum_{k in B_i} w[k] xi_i[k] (the initial weights are carried in ``u``, ``b`` unused)."""
        return np.einsum("ejrnk,enk->ejrn", u, self._xi_support)

    def zeta_of(self, u: Array, b: Array, idx: Index) -> Array:
        rows = np.arange(idx.shape[0])[:, None]
        support = u[support_index(idx, u.shape)]
        return np.einsum("ejrnk,enk->ejrn", support, self._xi_support[rows, idx])

    def batch_noise_gradient(self, drive: Array, idx: Index, u: Array) -> Array:
        """Coordinate k of sample i: -(1[i in I_t]/B) ell sigma'(rho) xi_i[k]."""
        rows = np.arange(idx.shape[0])[:, None]
        gradient = np.zeros_like(u)
        gradient[support_index(idx, u.shape)] = (
            drive[..., None] * self._xi_support[rows, idx][:, None, None] / idx.shape[1]
        )
        return gradient

    #: No sample competes for a coordinate on disjoint supports.
    step_scales = no_competition

    def mean_field_scale(self) -> Array:
        """Not defined: mean-field steps carry representative samples' shared displacements."""
        raise ParameterError(
            "problem",
            "support-resolved",
            "the shared-displacement problem for mean-field steps",
        )

    def displacements(self, u: Array) -> Array:
        """The support weights themselves."""
        return u

    def touched_weights(self, u: Array, e: int) -> tuple[Array, bool]:
        """The n s support weights, carried whole."""
        return u[e].reshape(2, self._problem.params[e].m, -1), False
