"""The shared-displacement reduction ("shared" of :data:`dynamics.problem.Reduction`; the model of
:mod:`dynamics.reduced`): sample i's noise coordinates k in B_i are w_{j,r}[k] = a_k +
u_{j,r,i} sgn(xi_i[k]), a_k the initial value shrinking like the untouched coordinate b, u one
displacement per (j, r, i), so zeta_{j,r,i} = zeta0_{j,r,i} b/sigma0 + ||xi_i||_1 u_{j,r,i}; u
follows the optimiser with |xi_i[k]| replaced by c_i = ||xi_i||_2^2 / ||xi_i||_1 (Lemma A.7, k in
B_i). Exact on disjoint supports for GD, SignSGDW, SignSGD without decay and AdamW up to eps
(Lemma A.4)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from dynamics.overlap_competition import no_competition
from dynamics.problem import ReducedProblem
from dynamics.sample_axis import batch_index, gather

Array = npt.NDArray[np.float64]
Index = npt.NDArray[np.int64]


class SharedDisplacement:
    """:class:`dynamics.reductions.NoiseReduction` of one displacement per sample and filter, ``u``
    (S, 2, m, n) (n: the problem's samples, or its representatives in mean-field steps)."""

    def __init__(self, problem: ReducedProblem) -> None:
        self._problem = problem
        self._sigma0 = problem.column("sigma0").reshape(-1, 1, 1)
        self._coordinate_scale = problem.l2sq / problem.l1  # c_i

    def initial_noise(self) -> Array:
        return np.zeros_like(self._problem.zeta0)

    def zeta(self, u: Array, b: Array) -> Array:
        """zeta0 b/sigma0 + the displacement's projection (:meth:`_projected`)."""
        return self._initial_part(self._problem.zeta0, b) + self._projected(u)

    def zeta_of(self, u: Array, b: Array, idx: Index) -> Array:
        zeta0 = gather(self._problem.zeta0, idx)
        return self._initial_part(zeta0, b) + self._projected_of(u, idx)

    def _initial_part(self, zeta0: Array, b: Array) -> Array:
        """The initial weights' share zeta0 b/sigma0 (they shrink like an untouched coordinate)."""
        return zeta0 * (b / self._sigma0)[..., None]

    def _projected(self, u: Array) -> Array:
        """The displacement's share of every sample's zeta, ||xi_i||_1 u_{j,r,i}."""
        return self._problem.l1[:, None, None, :] * u

    def _projected_of(self, u: Array, idx: Index) -> Array:
        """:meth:`_projected` of the samples ``idx`` only."""
        rows = np.arange(idx.shape[0])[:, None]
        return self._problem.l1[rows, idx][:, None, None, :] * gather(u, idx)

    def batch_noise_gradient(self, drive: Array, idx: Index, u: Array) -> Array:
        """-(1[i in I_t]/B) ell_{j,i} sigma'(rho_{j,r,i}) c_i on u_{j,r,i} (Lemma A.7 in the
        displacement's basis)."""
        rows = np.arange(idx.shape[0])[:, None]
        noise = drive * self._coordinate_scale[rows, idx][:, None, None, :]
        gradient = np.zeros_like(u)
        np.put_along_axis(gradient, batch_index(idx, u.shape), noise / idx.shape[1], axis=3)
        return gradient

    #: No sample competes for a coordinate on disjoint supports.
    step_scales = no_competition

    def mean_field_scale(self) -> Array:
        """c_i of every representative."""
        return self._coordinate_scale

    def displacements(self, u: Array) -> Array:
        return u

    def touched_weights(self, u: Array, e: int) -> tuple[Array, bool]:
        """Sample i's s coordinates each at u_i (the sign of xi_i[k] does not matter for a fresh
        test value), representatives standing for n / K samples each; initial parts to be
        drawn."""
        params = self._problem.params[e]
        slots = (np.arange(params.n * params.s) // params.s) % u.shape[3]
        return u[e][..., slots], True
