"""The reductions of :data:`dynamics.problem.Reduction` as strategies of
:class:`dynamics.reduced.ReducedDynamics`: how the noise coordinates are carried, one class each.

* "shared": one displacement u_{j,r,i} per sample and filter (:mod:`dynamics.reduction_shared`);
* "support-resolved": every support coordinate w_{j,r}[k], k in B_i
  (:mod:`dynamics.reduction_resolved`);
* "overlap-aware": the shared displacement coupled through the samples' shared coordinates, with
  the overlap competition of the step (:mod:`dynamics.reduction_overlap`).

The dynamics keeps what every reduction shares (the feature coordinate, the untouched coordinate
b, the per-sample gradients of Lemma A.7, the optimiser); :class:`NoiseReduction` is the rest.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import numpy.typing as npt

from dynamics.optimizers import StepScale
from dynamics.overlap_competition import CompetitionState
from dynamics.problem import ReducedProblem
from dynamics.reduction_overlap import OverlapAware
from dynamics.reduction_resolved import SupportResolved
from dynamics.reduction_shared import SharedDisplacement

Array = npt.NDArray[np.float64]
Index = npt.NDArray[np.int64]


class NoiseReduction(Protocol):
    """What the reduced dynamics asks of its reduction. ``u`` is the carried noise state: (S, 2,
    m, n) displacements, or (S, 2, m, n, s) support weights; ``b`` (S, 2, m) the untouched
    coordinate; ``idx`` (S, B) a minibatch of sample indices."""

    def initial_noise(self) -> Array:
        """``u`` at initialisation (Def. 3.2)."""
        ...

    def zeta(self, u: Array, b: Array) -> Array:
        """zeta_{j,r,i} = sum_{k in B_i} w_{j,r}[k] xi_i[k] of every sample, (S, 2, m, n) (notes
        §5.0: rho = zeta - alpha j y_i gamma)."""
        ...

    def zeta_of(self, u: Array, b: Array, idx: Index) -> Array:
        """zeta_{j,r,i} of the samples ``idx`` only, (S, 2, m, B)."""
        ...

    def batch_noise_gradient(self, drive: Array, idx: Index, u: Array) -> Array:
        """The batch-mean data gradient of ``u`` (Lemma A.7, 1/B sum over I_t), from each batch
        member's drive -ell_{j,i} sigma'(rho_{j,r,i}) (S, 2, m, B)."""
        ...

    def step_scales(
        self, dynamics: CompetitionState, noise_gradient: Array
    ) -> tuple[StepScale | None, StepScale | None]:
        """The competition factors of this step's u and b updates (None: 1), computed after
        ``dynamics``' batch is set and before its update."""
        ...

    def mean_field_scale(self) -> Array:
        """(S, K): the factor from a representative's drive to its u-gradient in mean-field steps
        (:meth:`dynamics.reduced.ReducedDynamics.step_mean_field`)."""
        ...

    def displacements(self, u: Array) -> Array:
        """The carried noise weights' movement per coordinate, (S, 2, m, ...), whose largest
        magnitude :meth:`dynamics.reduced.ReducedDynamics.weight_max` adds to the initial part."""
        ...

    def touched_weights(self, u: Array, e: int) -> tuple[Array, bool]:
        """Setting ``e``'s weights on the coordinates training touches, (2, m, K), and whether
        their initial part is still to be drawn (True: the model carries only the displacement,
        the initial weight of each coordinate is N(0, sigma0^2) shrunk like b; False: carried
        whole), for the Monte Carlo test error (:mod:`dynamics.generalisation`)."""
        ...


def reduction_of(problem: ReducedProblem) -> NoiseReduction:
    """The reduction ``problem`` was drawn for: support-resolved with ``xi_support``,
    overlap-aware with ``overlap``, shared otherwise."""
    if problem.support_resolved:
        return SupportResolved(problem)
    if problem.overlap is not None:
        return OverlapAware(problem)
    return SharedDisplacement(problem)
