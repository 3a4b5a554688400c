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

    def update(self, w: Array, g_data: Array, hyper: Hyper, state: Moments | None, t: int) -> None:
        """Step ``t`` (1-based) on ``w`` in place; ``g_data`` is the data-loss gradient (no weight
        decay).

        The Adam branch works in one scratch array (in-place numpy), since it is the hot loop of the
        reduced dynamics; the arithmetic is the module docstring's, term by term.
        """
        parts = self.kind
        eta, lam = hyper.at("eta", w.ndim), hyper.at("lam", w.ndim)
        gradient = g_data if parts.decoupled else g_data + lam * w
        if parts.decoupled:
            w *= 1 - eta * lam
        if parts.preconditioner == "sign":
            w -= eta * np.sign(gradient)
        elif parts.preconditioner == "none":
            w -= eta * gradient
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
            w -= scratch
