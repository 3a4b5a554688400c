"""The convex counterpart (Zou et al. 2023, Zou notes §4.3): with weight decay, every
optimiser that trains reaches the same solution.

Objective: L2-regularised logistic regression on Definition 3.1 data with a linear model whose
weight vector is shared by the two patches, f(w, x) = <w, y v> + <w, xi>:

    L(w) = (1/n) sum_i log(1 + exp(-y_i f(w, x_i))) + (lam/2) ||w||^2,

lam-strongly convex, so its minimiser w* is unique. :func:`minimiser` finds it by Newton's method
(quadratic convergence; float64); :func:`optimise` runs full-batch Adam (L2 inside the moments),
SignSGD with L2, GD, and AdamW (decoupled (1 - eta lam) decay, i.e. *not* this objective) with the
step sizes eta_t = eta0 / sqrt(t) (GD: a constant 1/L step), using
:class:`dynamics.optimizers.CoordinateOptimizer`. The first three minimise L and end at w*;
decoupled AdamW's fixed point solves lam w = -m / (sqrt(v) + eps) instead (|lam w_k| <= 1), a
different point unless lam -> 0 — the contrast that "AdamW-as-L2" (AdamW's decay set to 0 and lam
put into the loss) is just Adam.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import numpy.typing as npt

from dynamics.optimizers import CoordinateOptimizer, Hyper
from theorykit.errors import ParameterError
from theorykit.optimizers import optimizer_kind
from theorykit.params import ProblemParams

Array = npt.NDArray[np.float64]


@dataclasses.dataclass(frozen=True)
class LogisticProblem:
    """Inputs z_i = y_i v + xi_i (the two patches summed, (n, d)), labels y (n,), and lam > 0."""

    z: Array
    y: Array
    lam: float

    def __post_init__(self) -> None:
        if not self.lam > 0:
            raise ParameterError("lam", self.lam, "lam > 0 (strong convexity needs weight decay)")

    def loss(self, w: Array) -> float:
        return float(np.logaddexp(0.0, -self.y * (self.z @ w)).mean() + 0.5 * self.lam * w @ w)

    def data_gradient(self, w: Array) -> Array:
        """Gradient of the mean logistic loss, for w of shape (d,) or (S, d)."""
        margins = self.y * (w @ self.z.T)
        weights = -self.y / (1.0 + np.exp(margins)) / len(self.y)
        return weights @ self.z

    def smoothness(self) -> float:
        """L = lambda_max(Z^T Z) / (4 n) + lam, the gradient's Lipschitz constant."""
        return float(np.linalg.eigvalsh(self.z.T @ self.z / len(self.y)).max() / 4 + self.lam)


def logistic_problem(params: ProblemParams, seed: int = 0) -> LogisticProblem:
    """Definition 3.1 data (n samples, dimension d, s-sparse noise on random supports, xi[1] =
    -alpha y)."""
    rng = np.random.default_rng(seed)
    y = rng.permutation(np.repeat([1.0, -1.0], [params.n - params.n // 2, params.n // 2]))
    z = np.zeros((params.n, params.d))
    for i in range(params.n):
        support = rng.choice(np.arange(1, params.d), size=params.s, replace=False)
        z[i, support] = rng.normal(0.0, params.sigma_p, size=params.s)
    z[:, 0] = y * (1.0 - params.alpha)  # signal y v plus feature noise -alpha y v
    return LogisticProblem(z, y, float(params.lam))


def minimiser(problem: LogisticProblem, tol: float = 1e-13) -> Array:
    """w* by Newton's method from 0 (the Hessian is >= lam I, so every step is well posed)."""
    w = np.zeros(problem.z.shape[1])
    for _ in range(100):
        gradient = problem.data_gradient(w) + problem.lam * w
        p = 1.0 / (1.0 + np.exp(-problem.y * (problem.z @ w)))
        hessian = (problem.z.T * (p * (1 - p))) @ problem.z / len(problem.y) + problem.lam * np.eye(
            len(w)
        )
        w -= np.linalg.solve(hessian, gradient)
        if np.linalg.norm(gradient) < tol:
            break
    return w


def optimise(
    problem: LogisticProblem,
    kind: str,
    steps: int,
    eta0: float = 0.01,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
) -> Array:
    """Full-batch ``kind`` from w = 0 for ``steps`` steps (eta_t = eta0/sqrt(t); GD: eta = 1/L)."""
    if steps < 1:
        raise ParameterError("steps", steps, "steps >= 1")
    optimizer = CoordinateOptimizer(optimizer_kind(kind))
    w = np.zeros((1, problem.z.shape[1]))
    state = optimizer.init(w)
    constant = 1.0 / problem.smoothness()
    for t in range(1, steps + 1):
        eta = constant if optimizer.kind.preconditioner == "none" else eta0 / np.sqrt(t)
        hyper = Hyper(*(np.array([value]) for value in (eta, problem.lam, beta1, beta2, eps)))
        optimizer.update(w, problem.data_gradient(w), hyper, state, t)
    return w[0]
