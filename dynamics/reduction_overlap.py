"""The overlap-aware reduction ("overlap-aware" of :data:`dynamics.problem.Reduction`,
docs/notes/overlap.md): the shared displacement of :mod:`dynamics.reduction_shared` on supports
that overlap. A coordinate shared by several samples moves with all of them, so zeta_i = zeta0_i
b/sigma0 + sum_i' G_{ii'} u_i' (the coupling G of :class:`dynamics.problem.SharedSupports`: the
diagonal is ||xi_i||_1, the rest projects the others' displacements on sample i), and a sample
keeps only part of each normalised step on coordinates others feed
(:mod:`dynamics.overlap_competition`). Gradient descent is linear and exact through G alone; the
other optimisers follow the closure of docs/notes/overlap.md. Without overlap G is diagonal and the
competition is 1: the shared reduction, unchanged."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from dynamics.optimizers import StepScale
from dynamics.overlap_competition import CompetitionState, OverlapCompetition
from dynamics.problem import ReducedProblem
from dynamics.reduction_shared import SharedDisplacement
from dynamics.sample_axis import coordinate_sum, project

Array = npt.NDArray[np.float64]
Index = npt.NDArray[np.int64]


class OverlapAware(SharedDisplacement):
    """:class:`dynamics.reductions.NoiseReduction` of the shared displacement coupled through the
    samples' shared coordinates, ``u`` (S, 2, m, n)."""

    def __init__(self, problem: ReducedProblem) -> None:
        super().__init__(problem)
        assert problem.overlap is not None
        self._supports = problem.overlap
        self._competition = OverlapCompetition(problem)

    def _projected(self, u: Array) -> Array:
        """(G u)_{j,r,i} = sum_i' G_{ii'} u_{j,r,i'}."""
        return project(u, self._supports.coupling)

    def _projected_of(self, u: Array, idx: Index) -> Array:
        rows = np.arange(idx.shape[0])[:, None]
        return project(u, self._supports.coupling[rows, idx])

    def step_scales(
        self, dynamics: CompetitionState, noise_gradient: Array
    ) -> tuple[StepScale | None, StepScale | None]:
        """:meth:`dynamics.overlap_competition.OverlapCompetition.step_scales`."""
        return self._competition.step_scales(dynamics, noise_gradient)

    def displacements(self, u: Array) -> Array:
        """Per noise coordinate k, sum_i u_i sgn(xi_i[k]), (S, 2, m, d - 1)."""
        return coordinate_sum(u, np.sign(self._supports.noise))

    def touched_weights(self, u: Array, e: int) -> tuple[Array, bool]:
        """Every noise coordinate, the displacement sum_i u_i phi_i[k] (docs/notes/overlap.md §4;
        phi as in the coupling); initial parts to be drawn."""
        noise = self._supports.noise[e]
        if self._problem.first.kind.preconditioner == "none":
            direction = noise * (self._problem.l1[e] / self._problem.l2sq[e])[:, None]
        else:
            direction = np.sign(noise)
        return np.einsum("jrn,nk->jrk", u[e], direction), True
