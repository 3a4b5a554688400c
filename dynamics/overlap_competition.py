"""The overlap competition of the reduced dynamics' step on overlapping supports
(docs/notes/overlap.md): a sample keeps only part of each normalised step on coordinates others
feed, so its u update is multiplied by the competition factor of :mod:`theorykit.overlap` -- for
Adam kappa(x_i) with x_i = O_i / A_i, A_i = V_i ||xi_i||_2^2 / s its second moment per coordinate
and O_i = s/(d-1) sum_{i' != i} A_i' the others' on a shared one; for sign steps sqrt(A_i / (A_i +
O_i)) with the squared pushes of the batch's other members in place of the moments. Gradient
descent is linear and exact through the coupling alone. With L2 decay an untouched coordinate's
decay step is shared likewise (:attr:`dynamics.problem.ReducedProblem.decay_competes`).

The numpy reference of the compiled kernel's :mod:`dynamics.kernel_competition`; its caches live
on the dynamics (:class:`CompetitionState`), where :mod:`dynamics.compiled` converts them.
"""

from __future__ import annotations

import functools
from typing import Protocol

import numpy as np
import numpy.typing as npt

from dynamics.optimizers import Moments, StepScale
from dynamics.problem import ReducedProblem
from dynamics.sample_axis import batch_index, coordinate_sum, gather, project
from theorykit.overlap import adam_competition, adam_competition_inverse

Array = npt.NDArray[np.float64]


class CompetitionState(Protocol):
    """What the competition reads and writes of a :class:`dynamics.reduced.ReducedDynamics`: the
    step count, this step's batch and the competition caches (None until computed)."""

    t: int
    _batch: npt.NDArray[np.int64] | None
    _others: Array | None  # O_i (S, 2, m, n)
    _kappa: Array | None  # kappa(O_i / A_i) (S, 2, m, n)
    _coordinate_moments: Array | None  # v[k] (S, 2, m, d - 1)
    _background_share: Array | None  # (S, 2, m)
    _untouched: Array | None  # (S, 2, m)


def _competition_at(others: Array, own_mean: Array) -> Array:
    """kappa(O / A), 1 where the own moment A is still 0 (no gradient yet)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        x = np.where(own_mean > 0, others / own_mean, np.inf)
    return np.where(own_mean > 0, adam_competition(x), 1.0)


def no_competition(
    reduction: object, dynamics: CompetitionState, noise_gradient: Array
) -> tuple[StepScale | None, StepScale | None]:
    """The step scales of a reduction whose samples share no noise coordinate (disjoint supports):
    None, None, every sample's step whole (the ``step_scales`` of
    :class:`dynamics.reduction_shared.SharedDisplacement` and
    :class:`dynamics.reduction_resolved.SupportResolved`)."""
    return None, None


class OverlapCompetition:
    """The competition factors of one overlapping problem's steps (:meth:`step_scales`)."""

    def __init__(self, problem: ReducedProblem) -> None:
        assert problem.overlap is not None
        self._noise = problem.overlap.noise  # (S, n, d - 1)
        self._l1 = problem.l1
        self._kind = problem.first.kind
        self._decay_competes = problem.decay_competes
        self._refresh_period = problem.competition_refresh
        # From a u-gradient to its coefficient per unit xi_i[k] (the c_b of _sign_competition).
        self._gradient_scale = problem.l1 / problem.l2sq
        self._moment_scale = self._gradient_scale**2
        self._own_scale = problem.l2sq / problem.column("s").reshape(-1, 1)

    @functools.cached_property
    def _squared_noise(self) -> Array:
        """xi_i[k]^2 on the noise coordinates (S, n, d - 1), computed once."""
        return self._noise**2

    def step_scales(
        self, dynamics: CompetitionState, noise_gradient: Array
    ) -> tuple[StepScale | None, StepScale | None]:
        """The factors of u's step (Adam's kappa from the updated moments,
        :meth:`_adam_competition`, or the sign step's own-aligned share in this batch,
        :meth:`_sign_competition`; gradient descent needs none: it is exact through the coupling)
        and of b's (:meth:`_background_competition`)."""
        competition: StepScale | None = None
        if self._kind.has_moments:
            competition = functools.partial(self._adam_competition, dynamics)
        elif self._kind.preconditioner == "sign":
            competition = self._sign_competition(dynamics, noise_gradient)
        return competition, self._background_competition(dynamics)

    def _adam_competition(self, dynamics: CompetitionState, state: Moments | None) -> Array:
        """kappa(O_i / A_i) of :func:`theorykit.overlap.adam_competition` for the updated moments.

        Every :attr:`dynamics.problem.ReducedProblem.competition_refresh` steps (at t = 1, 1 +
        the period, ...) the others' second moments are summed on every noise coordinate from the
        supports (:meth:`_refresh_kappa`). Between refreshes O_i stays and kappa is re-read for
        the batch members only, whose own moment A_i = V_i ||xi_i||_2^2 / s jumps with their
        gradient; the others' A_i decay by beta2 per step, which moves their kappa by less than
        (1 - beta2^period) / 2 (1.6% at beta2 = 0.999 and a period of 32) before the next refresh,
        and jump at their own visits."""
        assert state is not None
        if dynamics._others is None or dynamics._kappa is None or self._refreshes(dynamics):
            return self._refresh_kappa(dynamics, state.second)
        assert dynamics._batch is not None
        rows, batch = np.arange(dynamics._batch.shape[0])[:, None], dynamics._batch
        V = gather(state.second, batch) * self._moment_scale[rows, batch][:, None, None, :]
        own_mean = V * self._own_scale[rows, batch][:, None, None, :]
        kappa = _competition_at(gather(dynamics._others, batch), own_mean)
        np.put_along_axis(dynamics._kappa, batch_index(batch, dynamics._kappa.shape), kappa, axis=3)
        return dynamics._kappa

    def _refreshes(self, dynamics: CompetitionState) -> bool:
        """Whether this step refreshes the competition: t = 1, 1 + period, 1 + 2 period, ..."""
        return (dynamics.t - 1) % self._refresh_period == 0

    def _refresh_kappa(self, dynamics: CompetitionState, second: Array) -> Array:
        """Every sample's kappa from the second moments ``second`` of u: v[k] = sum_{i in k} V_i
        xi_i[k]^2 on every noise coordinate (docs/notes/overlap.md §2), V_i a sample's squared
        gradient coefficient per unit xi^2 (c_i^2, or Adam's V_i of c_i), and each sample's exact
        share sum_k xi_k^2 / sqrt(v[k]) turned into an effective competition O_i (the x of
        ``adam_competition_inverse`` times A_i)."""
        V = second * self._moment_scale[:, None, None, :]
        own_mean = V * self._own_scale[:, None, None, :]
        squares = self._squared_noise
        dynamics._coordinate_moments = coordinate_sum(V, squares)
        with np.errstate(divide="ignore"):
            inverse = np.where(
                dynamics._coordinate_moments > 0, 1 / np.sqrt(dynamics._coordinate_moments), 0.0
            )
        share = project(inverse, squares) * np.sqrt(V) / self._l1[:, None, None, :]
        kappa = np.where(V > 0, np.minimum(share, 1.0), 1.0)
        dynamics._others = adam_competition_inverse(kappa) * own_mean
        dynamics._kappa = _competition_at(dynamics._others, own_mean)
        return dynamics._kappa

    def _background_competition(self, dynamics: CompetitionState) -> StepScale | None:
        """The share of the L2 decay step an untouched coordinate keeps when others' data
        gradients share it (None unless the decay competes: decoupled decay and gradient descent
        decay every coordinate alike). Adam: the mean over the noise coordinates of sqrt(v_b / (v_b
        + v[k])), v[k] the data second moment there, both read at the refreshes of
        :meth:`_adam_competition` (they change on the 1/(1 - beta2) scale); sign: the fraction of
        coordinates no batch member pushes (set by :meth:`_sign_competition` this step)."""
        if not self._decay_competes:
            return None
        if self._kind.has_moments:
            return functools.partial(self._background_share, dynamics)
        return dynamics._untouched

    def _background_share(self, dynamics: CompetitionState, state: Moments | None) -> Array:
        """Adam's share of :meth:`_background_competition` for b's updated moments ``state``."""
        assert state is not None
        if dynamics._background_share is None or self._refreshes(dynamics):
            assert dynamics._coordinate_moments is not None  # set at this refresh
            own = state.second[..., None]
            with np.errstate(divide="ignore", invalid="ignore"):
                kept = np.where(own > 0, np.sqrt(own / (own + dynamics._coordinate_moments)), 1.0)
            dynamics._background_share = kept.mean(axis=-1)
        return dynamics._background_share

    def _sign_competition(self, dynamics: CompetitionState, noise_gradient: Array) -> Array:
        """The sign step's own-aligned share of each batch member, exactly: on each of its
        coordinates the batch's summed push g[k] = sum_b c_b xi_b[k] decides the sign, so the share
        is sum_k |xi_i[k]| sgn(c_i xi_i[k]) sgn(g[k]) / ||xi_i||_1 = sgn(c_i) sum_k xi_i[k]
        sgn(g[k]) / ||xi_i||_1 (docs/notes/overlap.md §3); 1 for the samples outside the batch
        (whose data gradient is 0)."""
        batch = dynamics._batch
        assert batch is not None
        rows = np.arange(batch.shape[0])[:, None]
        c = gather(noise_gradient, batch) * self._gradient_scale[rows, batch][:, None, None, :]
        patches = self._noise[rows, batch]  # (S, B, d - 1)
        pushes = np.sign(coordinate_sum(c, patches))  # (S, 2, m, d - 1)
        dynamics._untouched = (pushes == 0).mean(axis=-1)
        aligned = np.sign(c) * project(pushes, patches)
        share = np.ones_like(noise_gradient)
        np.put_along_axis(
            share,
            batch_index(batch, share.shape),
            aligned / self._l1[rows, batch][:, None, None, :],
            axis=3,
        )
        return share
