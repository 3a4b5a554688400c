"""Read a CNN ensemble in the reduced model's coordinates (Tang et al. 2025; notes §5.0).

* :func:`coefficients` -- gamma_{j,r} = j w_{j,r}[1] (E, 2, m) and rho_{j,r,i} = <w_{j,r}, xi_i>
  (E, 2, m, n) of the current weights;
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

from dynamics.problem import ReducedProblem
from dynamics.trajectory import HEAD_SIGNS
from validation.cnn.engine import Ensemble

Array = npt.NDArray[np.float64]


def coefficients(ensemble: Ensemble) -> tuple[Array, Array]:
    """(gamma (E, 2, m), rho (E, 2, m, n)) of the ensemble's current weights, float64."""
    W = ensemble.W.detach().to(torch.float64).cpu()
    gamma = torch.from_numpy(HEAD_SIGNS).view(1, 2, 1) * W[..., 0]
    rho = torch.einsum("ejrd,end->ejrn", W, ensemble.xi.detach().to(torch.float64).cpu())
    return gamma.numpy(), rho.numpy()


def reduced_problem_of(ensemble: Ensemble, resolve_supports: bool = False) -> ReducedProblem:
    """The reduced data and initial coefficients of a CNN ensemble (see the module docstring).

    ``resolve_supports`` also reads each sample's support B_i (its s nonzero noise coordinates), the
    values xi_i[k] there and the initial w_{j,r}[k] on them, for the support-resolved dynamics.
    """
    W = ensemble.W.detach().to(torch.float64).cpu()
    xi = ensemble.xi.detach().to(torch.float64).cpu()
    noise = xi[..., 1:]
    resolved: tuple[Array | None, Array | None] = (None, None)
    if resolve_supports:
        s = ensemble.specs[0].params.s
        support = torch.topk(
            (noise != 0).to(torch.int8), s, dim=-1
        ).indices  # (E, n, s), coordinates of B_i
        w_support = torch.stack(
            [W[e, :, :, 1:][:, :, support[e]] for e in range(W.shape[0])]
        )  # (E, 2, m, n, s)
        resolved = (torch.gather(noise, 2, support).numpy(), w_support.numpy())
    return ReducedProblem(
        tuple(spec.params for spec in ensemble.specs),
        y=ensemble.y.detach().to(torch.float64).cpu().numpy(),
        l1=noise.abs().sum(-1).numpy(),
        l2sq=(noise**2).sum(-1).numpy(),
        w_feature0=W[..., 0].numpy(),
        zeta0=torch.einsum("ejrd,end->ejrn", W[..., 1:], noise).numpy(),
        xi_support=resolved[0],
        w_support0=resolved[1],
    )
