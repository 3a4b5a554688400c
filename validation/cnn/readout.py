"""Read a CNN ensemble in the reduced model's coordinates (Tang et al. 2025; notes §5.0).

* :func:`coefficients` -- gamma_{j,r} = j w_{j,r}[1] (E, 2, m) and rho_{j,r,i} = <w_{j,r}, xi_i>
  (E, 2, m, n) of the current weights;
* :func:`implied_weights` -- the CNN weights a reduced state stands for, to measure a prediction
  on the CNN's own data and test set;
* :func:`reduced_problem_of` -- the data and initial coefficients of the ensemble as a
  :class:`dynamics.problem.ReducedProblem`: y_i, ||xi_i||_1 and ||xi_i||_2^2 over the noise
  coordinates (index >= 1; xi_i[1] = -alpha y_i is alpha's), w_{j,r}[1], zeta_{j,r,i}(0) = sum_{k >=
  2} w_{j,r}[k] xi_i[k], and optionally every support coordinate (support-resolved dynamics).

So the reduced dynamics can start from the CNN's own initialisation and be fed the same batches
(``validation.experiments.coefficient_check``). Results are float64 numpy arrays.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import torch

from dynamics.problem import ReducedProblem, Reduction, SharedSupports
from dynamics.reduced import ReducedDynamics
from dynamics.trajectory import HEAD_SIGNS
from validation.cnn.ensemble import Ensemble

Array = npt.NDArray[np.float64]


def coefficients(ensemble: Ensemble) -> tuple[Array, Array]:
    """(gamma (E, 2, m), rho (E, 2, m, n)) of the ensemble's current weights, float64."""
    W = ensemble.W.detach().to(torch.float64).cpu()
    gamma = torch.from_numpy(HEAD_SIGNS).view(1, 2, 1) * W[..., 0]
    rho = torch.einsum("ejrd,end->ejrn", W, ensemble.xi.detach().to(torch.float64).cpu())
    return gamma.numpy(), rho.numpy()


def _supports(noise: torch.Tensor, s: int) -> torch.Tensor:
    """The s noise coordinates of every sample's support B_i (E, n, s), 0-based among the noise
    coordinates, in the order the support-resolved reduction carries them."""
    return torch.topk((noise != 0).to(torch.int8), s, dim=-1).indices


def implied_weights(
    ensemble: Ensemble, initial: torch.Tensor, dynamics: ReducedDynamics
) -> torch.Tensor:
    """The CNN weights (E, 2, m, d) a reduced state stands for, on the ensemble's data, given the
    initial weights ``initial`` it was read from (the inverse of :func:`reduced_problem_of`;
    :mod:`dynamics.reduced`'s model): w_{j,r}[1] is the feature coordinate; every noise coordinate
    is its initial weight shrunk like an untouched coordinate (b / sigma0) plus each sample's
    displacement u_{j,r,i} along phi_i (sgn(xi_i), or xi_i ||xi_i||_1 / ||xi_i||_2^2 for gradient
    descent: docs/notes/overlap.md §4), or, support-resolved, the carried weights on B_i. Its
    inner products with xi_i are the reduced rho_{j,r,i} by construction, so measuring it
    (``Ensemble.measure(weights)``) gives the prediction's metrics on the CNN's own train and test
    sets. Computed in float64, returned in the ensemble's dtype."""
    problem = dynamics.problem
    W = initial.detach().to(torch.float64).cpu().clone()
    sigma0 = torch.from_numpy(problem.column("sigma0")).view(-1, 1, 1, 1)
    W[..., 1:] *= torch.from_numpy(dynamics.b)[..., None] / sigma0
    W[..., 0] = torch.from_numpy(dynamics.w_feature)
    noise = ensemble.xi.detach().to(torch.float64).cpu()[..., 1:]
    u = torch.from_numpy(dynamics.u)
    if problem.support_resolved:
        support = _supports(noise, problem.first.s)  # (E, n, s)
        E, heads, m = W.shape[:3]
        index = support.reshape(E, 1, 1, -1).expand(E, heads, m, -1)
        W[..., 1:].scatter_(-1, index, u.reshape(E, heads, m, -1))
        return W.to(ensemble.W.dtype)
    if problem.first.kind.preconditioner == "none":
        l1, l2sq = noise.abs().sum(-1), (noise**2).sum(-1)
        direction = noise * (l1 / l2sq)[..., None]
    else:
        direction = torch.sign(noise)
    W[..., 1:] += torch.einsum("ejrn,enk->ejrk", u, direction)
    return W.to(ensemble.W.dtype)


def reduced_problem_of(ensemble: Ensemble, reduction: Reduction = "shared") -> ReducedProblem:
    """The reduced data and initial coefficients of a CNN ensemble (see the module docstring), for
    the ``reduction`` of :data:`dynamics.problem.Reduction`: "support-resolved" also reads each
    sample's support B_i (its s nonzero noise coordinates), the values xi_i[k] there and the
    initial w_{j,r}[k] on them; "overlap-aware" the supports and the samples' coupling
    (:class:`dynamics.problem.SharedSupports`)."""
    resolve_supports = reduction == "support-resolved"
    W = ensemble.W.detach().to(torch.float64).cpu()
    xi = ensemble.xi.detach().to(torch.float64).cpu()
    noise = xi[..., 1:]
    resolved: tuple[Array | None, Array | None] = (None, None)
    if resolve_supports:
        support = _supports(noise, ensemble.specs[0].params.s)
        w_support = torch.stack(
            [W[e, :, :, 1:][:, :, support[e]] for e in range(W.shape[0])]
        )  # (E, 2, m, n, s)
        resolved = (torch.gather(noise, 2, support).numpy(), w_support.numpy())
    overlap = None
    if reduction == "overlap-aware":
        overlap = SharedSupports.of(noise.numpy(), ensemble.specs[0].params.kind)
    return ReducedProblem(
        tuple(spec.params for spec in ensemble.specs),
        y=ensemble.y.detach().to(torch.float64).cpu().numpy(),
        l1=noise.abs().sum(-1).numpy(),
        l2sq=(noise**2).sum(-1).numpy(),
        w_feature0=W[..., 0].numpy(),
        zeta0=torch.einsum("ejrd,end->ejrn", W[..., 1:], noise).numpy(),
        xi_support=resolved[0],
        w_support0=resolved[1],
        overlap=overlap,
    )
