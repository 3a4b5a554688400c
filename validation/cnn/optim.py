"""Optimisers for a stacked ensemble, with per-member hyper-parameters, as (init, update) pairs.

The optimisers of :mod:`theorykit.optimizers` (a preconditioner composed with a decay placement).
One optimiser kind per ensemble (members are grouped by kind and batch size); every hyper-parameter
is a tensor of shape (E,), so members may differ in eta, lam, beta1, beta2, eps. Updates act in
place on W of shape (E, ...). Conventions (Tang et al. 2025; ``theorykit.updates`` holds the same
steps in sympy):

* ``adam``: g = grad + lam w (L2 inside the moments, eqs. 3.3-3.5), as
  ``torch.optim.Adam(weight_decay=lam)``;
* ``adamw``: w <- (1 - eta lam) w, then the Adam step on grad (eq. 3.6), as ``torch.optim.AdamW``;
* ``signsgd``: w <- w - eta sgn(grad + lam w) (5.1)/(B.1);  ``signsgdw``: w <- (1 - eta lam) w - eta
  sgn(grad) (B.2);
* ``gd``: w <- w - eta (grad + lam w) (minibatch SGD; full-batch GD when B = n).

m = beta1 m + (1 - beta1) g, v = beta2 v + (1 - beta2) g^2 from zero. With ``bias_correction`` the
step is eta (m / (1 - beta1^t)) / (sqrt(v) / sqrt(1 - beta2^t) + eps), torch's arithmetic order;
without it eta m / (sqrt(v) + eps), the paper's.
"""

from __future__ import annotations

import dataclasses

import torch

from theorykit.optimizers import OptimizerKind


@dataclasses.dataclass(frozen=True)
class Hyper:
    """Per-member hyper-parameters, each a tensor of shape (E,)."""

    eta: torch.Tensor
    lam: torch.Tensor
    beta1: torch.Tensor
    beta2: torch.Tensor
    eps: torch.Tensor

    def broadcast(self, name: str, ndim: int) -> torch.Tensor:
        """The field reshaped to (E, 1, ..., 1) with ``ndim`` dimensions in all."""
        value: torch.Tensor = getattr(self, name)
        return value.view(-1, *([1] * (ndim - 1)))


@dataclasses.dataclass
class AdamState:
    """First and second moments and the step count t (a one-element tensor, 0 before the first
    step).

    t is a tensor, not a Python int, so that a compiled step (``EngineOptions(compile=True)``) sees
    the same graph at every step instead of recompiling for each new t.
    """

    mom1: torch.Tensor
    mom2: torch.Tensor
    t: torch.Tensor


@dataclasses.dataclass(frozen=True)
class StackedOptimizer:
    """``init`` builds the state, ``update`` applies one step in place
    (``theorykit.optimizers.optimizer_kind`` gives ``kind`` from a name)."""

    kind: OptimizerKind
    bias_correction: bool = False

    def init(self, W: torch.Tensor) -> AdamState | None:
        if self.kind.has_moments:
            return AdamState(
                torch.zeros_like(W),
                torch.zeros_like(W),
                torch.zeros(1, dtype=W.dtype, device=W.device),
            )
        return None

    def update(
        self, W: torch.Tensor, grad: torch.Tensor, hyper: Hyper, state: AdamState | None
    ) -> None:
        """One step of ``kind`` on W (in place), with ``grad`` the data-loss gradient (no weight
        decay)."""
        eta, lam = hyper.broadcast("eta", W.ndim), hyper.broadcast("lam", W.ndim)
        gradient = grad if self.kind.decoupled else grad + lam * W
        if self.kind.decoupled:
            W.mul_(1 - eta * lam)
        if self.kind.preconditioner == "sign":
            W.sub_(eta * torch.sign(gradient))
        elif self.kind.preconditioner == "none":
            W.sub_(eta * gradient)
        else:
            assert state is not None
            self._adam_step(W, gradient, hyper, state)

    def _adam_step(
        self, W: torch.Tensor, gradient: torch.Tensor, hyper: Hyper, state: AdamState
    ) -> None:
        beta1, beta2 = hyper.broadcast("beta1", W.ndim), hyper.broadcast("beta2", W.ndim)
        eta, eps = hyper.broadcast("eta", W.ndim), hyper.broadcast("eps", W.ndim)
        state.t.add_(1)
        state.mom1.mul_(beta1).add_((1 - beta1) * gradient)
        state.mom2.mul_(beta2).add_((1 - beta2) * gradient * gradient)
        if self.bias_correction:
            step_size = eta / (1 - beta1**state.t)
            denom = state.mom2.sqrt() / torch.sqrt(1 - beta2**state.t) + eps
        else:
            step_size = eta
            denom = state.mom2.sqrt() + eps
        W.sub_(step_size * state.mom1 / denom)
