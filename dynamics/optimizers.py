"""Coordinate-wise optimiser steps on numpy arrays of scalar coordinates, as (init, update) pairs.

The optimisers of :mod:`theorykit.optimizers` (a preconditioner composed with a decay placement),
the same rules as ``theorykit.updates`` (sympy) and ``validation.cnn.optim`` (torch), for arrays
whose leading axis is the setting (hyper-parameters of shape (S,), broadcast):

* ``adam``: g = g_data + lam w; Adam moments (3.4); w <- w - eta m / (sqrt(v) + eps) (3.5);
* ``adamw``: g = g_data; w <- (1 - eta lam) w - eta m / (sqrt(v) + eps) (3.6);
* ``signsgd``: w <- w - eta sgn(g_data + lam w) (5.1)/(B.1); ``signsgdw``: w <- (1 - eta lam) w -
  eta sgn(g_data) (B.2);
* ``gd``: w <- w - eta (g_data + lam w).

Moments start at 0 (m^(0) = v^(0) = 0); with ``bias_correction`` the step is torch's
eta (m / (1 - beta1^t)) / (sqrt(v) / sqrt(1 - beta2^t) + eps), without it the paper's. sgn(0) = 0.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from theorykit.optimizers import OptimizerKind

Array = npt.NDArray[np.float64]


@dataclasses.dataclass(frozen=True)
class Hyper:
    """Per-setting hyper-parameters, each of shape (S,)."""

    eta: Array
    lam: Array
    beta1: Array
    beta2: Array
    eps: Array

    def at(self, name: str, ndim: int) -> Array:
        """The field reshaped to (S, 1, ..., 1) with ``ndim`` dimensions."""
        value: Array = getattr(self, name)
        return value.reshape(-1, *([1] * (ndim - 1)))


@dataclasses.dataclass
class Moments:
    """Adam's first and second moments of one coordinate array."""

    first: Array
    second: Array


@dataclasses.dataclass(frozen=True)
class CoordinateOptimizer:
    """``init(w)`` gives the state (moments for the Adam preconditioner, else None); ``update``
    steps ``w`` in place (``theorykit.optimizers.optimizer_kind(name)`` gives ``kind`` from a name).
    """

    kind: OptimizerKind
    bias_correction: bool = False

    def init(self, w: Array) -> Moments | None:
        return Moments(np.zeros_like(w), np.zeros_like(w)) if self.kind.has_moments else None

    def update(
        self,
        w: Array,
        g_data: Array,
        hyper: Hyper,
        state: Moments | None,
        t: int,
        step_scale: StepScale | None = None,
    ) -> None:
        """Step ``t`` (1-based) on ``w`` in place; ``g_data`` is the data-loss gradient (no weight
        decay).

        ``step_scale`` multiplies the preconditioned step (not the decoupled decay factor): an array
        broadcastable to ``w``, or a function of the freshly updated moments that returns one (the
        overlap competition factors of :mod:`theorykit.overlap`; ``None`` is 1).

        The Adam branch works in one scratch array (in-place numpy), since it is the hot loop of the
        reduced dynamics; the arithmetic is the module docstring's, term by term.
        """
        parts = self.kind
        eta, lam = hyper.at("eta", w.ndim), hyper.at("lam", w.ndim)
        gradient = g_data if parts.decoupled else g_data + lam * w
        if parts.decoupled:
            w *= 1 - eta * lam
        if parts.preconditioner != "adam":
            step = eta * (np.sign(gradient) if parts.preconditioner == "sign" else gradient)
            w -= step if step_scale is None else step * _resolve(step_scale, state)
        else:
            assert state is not None
            beta1, beta2, eps = (
                hyper.at("beta1", w.ndim),
                hyper.at("beta2", w.ndim),
                hyper.at("eps", w.ndim),
            )
            scratch = np.multiply(gradient, 1 - beta1)
            state.first *= beta1
            state.first += scratch
            np.multiply(gradient, gradient, out=scratch)
            scratch *= 1 - beta2
            state.second *= beta2
            state.second += scratch
            np.sqrt(state.second, out=scratch)
            if self.bias_correction:
                scratch /= np.sqrt(1 - beta2**t)
                scratch += eps
                np.divide(state.first, scratch, out=scratch)
                scratch *= eta / (1 - beta1**t)
            else:
                scratch += eps
                np.divide(state.first, scratch, out=scratch)
                scratch *= eta
            if step_scale is not None:
                scratch *= _resolve(step_scale, state)
            w -= scratch


#: A step multiplier: an array, or a function of the updated Adam moments (None for sign and GD).
StepScale = Array | Callable[[Moments | None], Array]


def _resolve(step_scale: StepScale, state: Moments | None) -> Array:
    return step_scale(state) if callable(step_scale) else step_scale
