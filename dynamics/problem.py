"""The data of the reduced dynamics: per sample y_i, ||xi_i||_1, ||xi_i||_2^2 and the initial
coefficients.

Tang et al. 2025 (Lemmas A.3-A.7) track gamma_{j,r} = <w_{j,r}, j v> and rho_{j,r,i} = <w_{j,r},
xi_i>; the CNN's weights enter the training dynamics only through them and through the noise
coordinates w_{j,r}[k], k in B_i. :class:`ReducedProblem` holds, for S settings stacked on a leading
axis, what those dynamics need and nothing of dimension d:

* ``y`` (S, n) labels; ``l1`` (S, n) = ||xi_i||_1 and ``l2sq`` (S, n) = ||xi_i||_2^2 over B_i (the
  feature-noise coordinate xi_i[1] = -alpha y_i excluded; it enters through alpha);
* ``w_feature0`` (S, 2, m): w_{j,r}[1] at initialisation (so gamma_{j,r}(0) = j w_{j,r}[1]);
* ``zeta0`` (S, 2, m, n): zeta_{j,r,i}(0) = sum_{k in B_i} w_{j,r}[k] xi_i[k] at initialisation
  (notes §5.0: rho = zeta - alpha j y_i gamma);
* optionally, support-resolved: ``xi_support`` (S, n, s) the values xi_i[k] on the support B_i and
  ``w_support0`` (S, 2, m, n, s) the initial w_{j,r}[k] there, for the dynamics that carry every
  support coordinate (exact for every optimiser on disjoint supports, :mod:`dynamics.reduced`);
* optionally, for overlapping supports, ``overlap`` (:class:`SharedSupports`): each sample's
  noise patch on the d - 1 noise coordinates, and the coupling G (S, n, n), G_{ii'} = sum_{k in B_i
  cap B_i'} xi_i[k] phi_i'[k], how a displacement of sample i' along its own coordinates moves
  rho_i (docs/notes/overlap.md §4). phi = sgn(xi) for the sign-type and Adam preconditioners
  (every coordinate of a sample moves by the same amount), phi = xi ||xi||_1 / ||xi||_2^2 for
  gradient descent (exact). The diagonal is ||xi_i||_1, so a problem without overlap is the
  diagonal case.

:func:`sample_reduced_problem` draws them from Definition 3.1 / Def. 3.2's initialisation exactly:
xi_i[k] ~ N(0, sigma_p^2) on s coordinates and, for disjoint supports, given xi_i,
zeta_{j,r,i}(0) ~ N(0, sigma0^2 ||xi_i||_2^2) independent across i (Lemma A.4); for overlapping
supports it draws the supports and the initial weights on every coordinate, so zeta(0) carries the
samples' correlations and the coupling is that of the drawn data. ``validation.cnn.readout``
builds the same object from a real CNN's data and weights instead. Float64 throughout.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Sequence
from typing import Literal

import numpy as np
import numpy.typing as npt

from theorykit.errors import ParameterError
from theorykit.optimizers import OptimizerKind
from theorykit.params import ProblemParams

Array = npt.NDArray[np.float64]

#: The reduced models of :mod:`dynamics.reduced`: one displacement per sample and filter
#: ("shared", exact on disjoint supports for GD, SignSGDW, SignSGD without decay and AdamW up to
#: eps), every support coordinate ("support-resolved", exact on disjoint supports for every
#: optimiser), or the shared displacement with the samples' coupling on overlapping supports
#: ("overlap-aware"). The first two model disjoint supports, the third overlapping ones.
Reduction = Literal["shared", "support-resolved", "overlap-aware"]

#: Steps between refreshes of Adam's competition on overlapping supports where batches visit each
#: sample more than once per period on average
#: (:attr:`ReducedProblem.competition_refresh`): the others' second moments change on the
#: 1/(1 - beta2) scale and at their own visits, the own one at every visit (between refreshes the
#: batch members' kappa is re-read at every step). Accuracy against cost, measured in
#: docs/notes/overlap.md §2 ("The refresh period").
DENSE_VISITS_REFRESH = 16
#: The longer period where its batches visit each sample at most once on average (B times it at
#: most n): there the others' moments go stale by the beta2 decay and a few visits; what it costs
#: in agreement with the CNN is measured in docs/notes/overlap.md §2.
SPARSE_VISITS_REFRESH = 32


def competition_refresh(B: int, n: int) -> int:
    """Steps between refreshes of Adam's competition on overlapping supports for batches of ``B``
    of ``n`` samples (docs/notes/overlap.md §2, "The refresh period"):
    :data:`SPARSE_VISITS_REFRESH` where that many steps visit each sample at most once on average
    (B times it at most n), else :data:`DENSE_VISITS_REFRESH`."""
    return SPARSE_VISITS_REFRESH if n >= B * SPARSE_VISITS_REFRESH else DENSE_VISITS_REFRESH


def best_reduction(supports: str) -> Reduction:
    """The most faithful reduction for the supports: support-resolved where they are disjoint,
    overlap-aware where they overlap (docs/notes/overlap.md)."""
    return "overlap-aware" if supports == "overlapping" else "support-resolved"


@dataclasses.dataclass(frozen=True)
class SharedSupports:
    """Overlapping supports of S settings: ``noise`` (S, n, d - 1) each sample's noise patch on
    the d - 1 noise coordinates (s nonzero entries per sample, xi_i[k] on its support B_i) and the
    ``coupling`` G (S, n, n) of :func:`coupling_matrix`. Sums over the samples that share a
    coordinate are products with ``noise`` (or its square or sign)."""

    noise: Array
    coupling: Array

    @classmethod
    def of(cls, dense: Array, kind: OptimizerKind) -> SharedSupports:
        """From dense noise patches (S, n, d - 1)."""
        return cls(dense, np.stack([coupling_matrix(member, kind) for member in dense]))


@dataclasses.dataclass(frozen=True)
class ReducedProblem:
    """S settings sharing (m, optimizer, bias_correction) and a sample count; see the module
    docstring.

    The sample axis usually holds all n samples (exact dynamics, :func:`dynamics.reduced.simulate`);
    :mod:`dynamics.mean_field` uses a few representative samples instead, and then B, n may differ
    between settings.
    """

    params: tuple[ProblemParams, ...]
    y: Array
    l1: Array
    l2sq: Array
    w_feature0: Array
    zeta0: Array
    xi_support: Array | None = None
    w_support0: Array | None = None
    overlap: SharedSupports | None = None

    def __post_init__(self) -> None:
        keys = {(p.m, p.optimizer, p.bias_correction) for p in self.params}
        if len(keys) != 1:
            raise ParameterError(
                "params", sorted(keys), "one group: equal (m, optimizer, bias_correction)"
            )
        S, n, m = len(self.params), self.y.shape[-1], self.params[0].m
        expected = {
            "y": (S, n),
            "l1": (S, n),
            "l2sq": (S, n),
            "w_feature0": (S, 2, m),
            "zeta0": (S, 2, m, n),
        }
        if (self.xi_support is None) != (self.w_support0 is None):
            raise ParameterError(
                "xi_support",
                None,
                "xi_support and w_support0 given together (support-resolved) or neither",
            )
        if self.xi_support is not None:
            s = self.xi_support.shape[-1]
            expected |= {"xi_support": (S, n, s), "w_support0": (S, 2, m, n, s)}
        if self.overlap is not None:
            if self.xi_support is not None:
                raise ParameterError(
                    "overlap",
                    "support-resolved",
                    "shared supports for the shared-displacement problem only",
                )
            for name, shape in (
                ("coupling", (S, n, n)),
                ("noise", (S, n, self.params[0].d - 1)),
            ):
                if getattr(self.overlap, name).shape != shape:
                    raise ParameterError(
                        f"overlap.{name}",
                        getattr(self.overlap, name).shape,
                        f"shape {shape} for S={S}, n={n}",
                    )
        for name, shape in expected.items():
            if getattr(self, name).shape != shape:
                raise ParameterError(
                    name, getattr(self, name).shape, f"shape {shape} for S={S}, n={n}, m={m}"
                )

    @property
    def support_resolved(self) -> bool:
        """True when every noise coordinate of every sample's support is carried (``xi_support``,
        ``w_support0``)."""
        return self.xi_support is not None

    @property
    def overlapping(self) -> bool:
        """True when samples share noise coordinates (``overlap`` is given)."""
        return self.overlap is not None

    @property
    def decay_competes(self) -> bool:
        """True when an untouched coordinate's L2 decay step is scaled by the share others' data
        gradients leave it: overlapping supports, with Adam or sign steps and L2 decay
        (docs/notes/overlap.md); decoupled decay and gradient descent decay every coordinate
        alike."""
        kind = self.first.kind
        return self.overlapping and not kind.decoupled and kind.preconditioner != "none"

    @property
    def competition_refresh(self) -> int:
        """:func:`competition_refresh` of the largest batch among the settings: one period for
        every setting, as their steps are counted together."""
        return competition_refresh(int(self.column("B").max()), self.y.shape[1])

    @property
    def first(self) -> ProblemParams:
        return self.params[0]

    def column(self, field: str) -> Array:
        """One parameter per setting, shape (S,)."""
        return np.array([float(getattr(p, field)) for p in self.params])


def coupling_matrix(xi: Array, kind: OptimizerKind) -> Array:
    """G (n, n) of noise patches ``xi`` (n, k), the coordinates they may share as columns:
    G_{ii'} = sum_k xi_i[k] phi_i'[k] with phi = sgn(xi) (sign and Adam preconditioners) or
    xi ||xi||_1 / ||xi||_2^2 (gradient descent); diagonal ||xi_i||_1 (docs/notes/overlap.md §4)."""
    if kind.preconditioner == "none":
        l1, l2sq = np.abs(xi).sum(axis=1), (xi**2).sum(axis=1)
        return xi @ (xi * (l1 / l2sq)[:, None]).T
    return xi @ np.sign(xi).T


def sample_reduced_problem(
    params: Sequence[ProblemParams],
    seeds: Sequence[int],
    labels: str = "balanced",
    samples: int | None = None,
    reduction: Reduction = "shared",
) -> ReducedProblem:
    """Draw the reduced data and initialisation of each setting (Def. 3.1, Def. 3.2) for the
    ``reduction`` of :data:`Reduction`.

    "shared" and "support-resolved" draw disjoint supports (Lemma A.4): each sample's s noise
    values; "support-resolved" also draws the initial w_{j,r}[k] ~ N(0, sigma0^2) on every support
    coordinate (zeta0 is then their inner product with xi_i; needs one s for all settings).
    "overlap-aware" draws the supports themselves, uniform s-subsets of the d - 1 noise coordinates
    as in the paper's experiment (App. D.2), the initial weights on every coordinate and the
    coupling between the samples (see the module docstring; needs one (s, d) for all settings).
    ``samples`` (default n) draws that many samples instead: the representatives of
    :mod:`dynamics.mean_field` ("shared" only).
    """
    _check_sampling(params, seeds, labels, samples, reduction)
    draws = [
        _draw_setting(p, seed, p.n if samples is None else samples, labels, reduction)
        for p, seed in zip(params, seeds, strict=True)
    ]

    def stacked(name: str) -> Array:
        return np.stack([getattr(draw, name) for draw in draws])

    resolved = (
        (stacked("xi_support"), stacked("w_support0"))
        if reduction == "support-resolved"
        else (None, None)
    )
    overlapping = reduction == "overlap-aware"
    return ReducedProblem(
        tuple(params),
        *(stacked(name) for name in ("y", "l1", "l2sq", "w_feature0", "zeta0")),
        *resolved,
        overlap=SharedSupports.of(stacked("noise"), params[0].kind) if overlapping else None,
    )


def _check_sampling(
    params: Sequence[ProblemParams],
    seeds: Sequence[int],
    labels: str,
    samples: int | None,
    reduction: str,
) -> None:
    """Raise :class:`ParameterError` for arguments :func:`sample_reduced_problem` cannot draw."""
    if reduction not in typing.get_args(Reduction):
        raise ParameterError("reduction", reduction, f"one of {typing.get_args(Reduction)}")
    if reduction == "overlap-aware" and len({(p.s, p.d) for p in params}) != 1:
        raise ParameterError(
            "s",
            sorted({(p.s, p.d) for p in params}),
            "one (s, d) for all settings with overlapping supports",
        )
    if samples is not None and reduction != "shared":
        raise ParameterError(
            "samples", samples, "None unless reduction='shared' (the others carry all n samples)"
        )
    if reduction == "support-resolved" and len({p.s for p in params}) != 1:
        raise ParameterError(
            "s", sorted({p.s for p in params}), "one s for all settings when support-resolved"
        )
    if len(params) != len(seeds):
        raise ParameterError("seeds", len(seeds), f"one seed per setting ({len(params)} settings)")
    if labels not in ("balanced", "rademacher"):
        raise ParameterError("labels", labels, "'balanced' or 'rademacher'")
    if samples is not None and samples < 2:
        raise ParameterError("samples", samples, "at least 2 samples (one per label when balanced)")


@dataclasses.dataclass(frozen=True)
class _SettingDraw:
    """One setting's draws, named as the :class:`ReducedProblem` fields they stack into
    (``noise``: the dense patches of :class:`SharedSupports`)."""

    y: Array
    l1: Array
    l2sq: Array
    w_feature0: Array
    zeta0: Array
    xi_support: Array | None = None
    w_support0: Array | None = None
    noise: Array | None = None


def _draw_setting(
    p: ProblemParams, seed: int, count: int, labels: str, reduction: str
) -> _SettingDraw:
    """``count`` samples of setting ``p`` and its initialisation from ``seed`` (the draws of
    :func:`sample_reduced_problem`, in a fixed order)."""
    rng = np.random.default_rng(seed)
    if labels == "balanced":
        y = rng.permutation(np.repeat([1.0, -1.0], [count - count // 2, count // 2]))
    else:
        y = rng.choice([1.0, -1.0], size=count)
    xi = rng.normal(0.0, p.sigma_p, size=(count, p.s))
    l2sq = (xi**2).sum(axis=1)
    data = (y, np.abs(xi).sum(axis=1), l2sq, rng.normal(0.0, p.sigma0, size=(2, p.m)))
    if reduction == "overlap-aware":
        dense = np.zeros((count, p.d - 1))
        chosen = np.argsort(rng.random((count, p.d - 1)), axis=1)[:, : p.s]
        np.put_along_axis(dense, chosen, xi, axis=1)
        weights = rng.normal(0.0, p.sigma0, size=(2, p.m, p.d - 1))
        return _SettingDraw(*data, weights @ dense.T, noise=dense)
    if reduction == "support-resolved":
        w_support = rng.normal(0.0, p.sigma0, size=(2, p.m, count, p.s))
        return _SettingDraw(*data, (w_support * xi).sum(axis=-1), xi, w_support)
    return _SettingDraw(*data, rng.normal(size=(2, p.m, count)) * p.sigma0 * np.sqrt(l2sq))
