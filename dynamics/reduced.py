"""Reduced dynamics: iterate the feature coordinate and one representative noise coordinate per (j,
r, i).

Model (Tang et al. 2025, Lemma A.7 and notes §5.0/5.3). For each setting, head j in (+1,
-1) (index 0, 1), filter r and sample i:

* the feature coordinate w_{j,r}[1] (gamma_{j,r} = j w_{j,r}[1]) with its exact data gradient -(1/B)
  sum_{i in I_t} ell_{j,i} y_i [sigma'(j y_i gamma_{j,r}) - alpha sigma'(rho_{j,r,i})] (Lemma A.7, k
  = 1);
* the noise coordinates k in B_i, written w_{j,r}[k] = a_k + u_{j,r,i} sgn(xi_i[k]): a_k the initial
  value, u a displacement shared by all k. The data gradient of coordinate k in that basis is -(1[i
  in I_t]/B) ell_{j,i} sigma'(rho_{j,r,i}) |xi_i[k]| (Lemma A.7, k in B_i); ``u`` follows the
  optimiser with |xi_i[k]| replaced by c_i = ||xi_i||_2^2 / ||xi_i||_1, and the initial parts a_k
  shrink like an untouched coordinate b(t) (b(0) = sigma0, data gradient 0);
* rho_{j,r,i} = zeta0_{j,r,i} b(t)/sigma0 + ||xi_i||_1 u_{j,r,i} - alpha j y_i gamma_{j,r}.

Support-resolved (a problem with ``xi_support``): instead of (a_k, u_{j,r,i}), every noise
coordinate w_{j,r}[k], k in B_i, is carried, with its own optimiser state, and rho = sum_{k in B_i}
w[k] xi_i[k]
- alpha j y_i gamma. Its data gradient is exactly Lemma A.7's -(1[i in I_t]/B) ell_{j,i}
sigma'(rho_{j,r,i}) xi_i[k], so on disjoint supports this is exact for every optimiser, L2 and
Adam's per-coordinate moments included (it is the CNN restricted to the coordinates training
touches). It costs s times the memory of the shared displacement: for coefficient checks and single
settings, not for phase diagrams.

Exactness of the shared displacement, for disjoint supports (Lemma A.4): GD (linear steps: Delta
zeta = eta ell sigma' ||xi||_2^2 / B, the ``GD_NOISE_STEP`` of theorykit), SignSGDW (every
coordinate moves by the same eta sgn, decay is (1 - eta lam) on all of them) and SignSGD with lam =
0 are exact up to round-off; AdamW is exact up to eps (Adam's step is scale-free in the gradient, so
every k moves alike). Adam/SignSGD with L2 are an approximation: they apply the decay to the shared
displacement and to the initial part at once. Overlapping supports (the paper's d = 1000) couple
samples through shared coordinates, which this model ignores. ``validation.coefficient_check``
measures both effects against the CNN.

Test error (Def. 3.1 test point, fresh support of s random coordinates): F_j = sum_r sigma(j y
gamma_{j,r}) + sigma(zeta_{j,r} - alpha j y gamma_{j,r}) with zeta_{j,r} ~ N(0, sigma_p^2 s (b^2 +
s/(d-1) sum_i u_{j,r,i}^2)) (the mean square of w_{j,r} over a random support; with K < n carried
samples the sum is scaled by n/K), independent across (j, r); Monte Carlo.

Measurements use the names of :data:`dynamics.trajectory.METRICS`. Float64.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from dynamics.optimizers import CoordinateOptimizer, Hyper, Moments
from dynamics.problem import ReducedProblem
from dynamics.trajectory import HEAD_SIGNS, METRICS, Trajectory
from theorykit.errors import ParameterError

Array = npt.NDArray[np.float64]


def _power(z: Array, q: float | Array) -> Array:
    """max(z, 0)^q; by repeated multiplication when q is one small integer (the common case, q = 3),
    which is several times faster than a float power and equal to it up to round-off."""
    positive = np.maximum(z, 0.0)
    if isinstance(q, float) and q.is_integer() and 2 <= q <= 8:
        out = positive * positive
        for _ in range(int(q) - 2):
            out *= positive
        return out
    return positive**q


def _power_prime(z: Array, q: float | Array) -> Array:
    """sigma'(z) = q max(z, 0)^{q-1} (Def. 3.2)."""
    return q * _power(z, q - 1)


def _ell(logits: Array, y: Array) -> Array:
    """ell_{j,i} = 1[y_i = j] - softmax_j(F(x_i)) (Lemma A.5); logits (S, 2, n), y (S, n)."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    own = (y[:, None, :] == HEAD_SIGNS[None, :, None]).astype(float)
    return own - probs


def _batch_index(idx: npt.NDArray[np.int64], shape: tuple[int, ...]) -> npt.NDArray[np.int64]:
    """``idx`` (S, B) broadcast to (S, 2, m, B) for indexing the sample axis of an (S, 2, m, n)
    array."""
    return np.broadcast_to(idx[:, None, None, :], (*shape[:3], idx.shape[1]))


def _gather(values: Array, idx: npt.NDArray[np.int64]) -> Array:
    return np.take_along_axis(values, _batch_index(idx, values.shape), axis=3)


@dataclasses.dataclass
class ReducedDynamics:
    """The state of S reduced settings; :meth:`step` mirrors ``validation.engine.Ensemble.step``."""

    problem: ReducedProblem
    w_feature: Array  # (S, 2, m): w_{j,r}[1]
    # (S, 2, m, n): shared displacement of sample i's noise coordinates; support-resolved: w[k] (S,
    # 2, m, n, s)
    u: Array
    b: Array  # (S,): an untouched coordinate, b(0) = sigma0
    optimizer: CoordinateOptimizer
    hyper: Hyper
    states: tuple[Moments | None, Moments | None, Moments | None]
    t: int = 0

    @classmethod
    def start(cls, problem: ReducedProblem) -> ReducedDynamics:
        """Initial state: w[1] from the problem, u = 0, b = sigma0 (Def. 3.2 initialisation)."""
        first = problem.first
        optimizer = CoordinateOptimizer(first.kind, first.bias_correction)
        w_feature = problem.w_feature0.copy()
        u = problem.w_support0.copy() if problem.support_resolved else np.zeros_like(problem.zeta0)
        b = problem.column("sigma0")
        hyper = Hyper(*(problem.column(name) for name in ("eta", "lam", "beta1", "beta2", "eps")))
        return cls(
            problem,
            w_feature,
            u,
            b,
            optimizer,
            hyper,
            (optimizer.init(w_feature), optimizer.init(u), optimizer.init(b)),
        )

    def _column(self, field: str) -> Array:
        """A per-setting parameter (S,), built once (the hot loop asks for the same few)."""
        cache = self.__dict__.setdefault("_columns", {})
        if field not in cache:
            cache[field] = self.problem.column(field)
        return cache[field]

    def _col(self, field: str, ndim: int) -> Array:
        return self._column(field).reshape(-1, *([1] * (ndim - 1)))

    def _q(self, ndim: int) -> float | Array:
        """The activation power: one float when every setting shares it (fast integer powers), else
        (S, 1, ...)."""
        q = self._column("q")
        return float(q[0]) if (q == q[0]).all() else q.reshape(-1, *([1] * (ndim - 1)))

    @property
    def gamma(self) -> Array:
        """gamma_{j,r} = <w_{j,r}, j v>, (S, 2, m)."""
        return HEAD_SIGNS[None, :, None] * self.w_feature

    def rho(self) -> Array:
        """rho_{j,r,i} = <w_{j,r}, xi_i>, (S, 2, m, n)."""
        p = self.problem
        if p.support_resolved:
            return self._rho_resolved(self.u, p.xi_support, p.y)
        return self._rho(p.zeta0, p.l1, self.u, p.y)

    def _feature_part(self, y: Array) -> Array:
        """alpha j y_i gamma_{j,r}, the feature-noise coordinate's share of rho (xi_i[1] = -alpha
        y_i)."""
        jy = HEAD_SIGNS[None, :, None, None] * y[:, None, None, :]
        return self._col("alpha", 4) * jy * self.gamma[..., None]

    def _rho(self, zeta0: Array, l1: Array, u: Array, y: Array) -> Array:
        """rho = zeta0 b/sigma0 + ||xi||_1 u - alpha j y gamma for the samples whose (zeta0, l1, u,
        y) are given."""
        decay = (self.b / self._column("sigma0"))[:, None, None, None]
        return zeta0 * decay + l1[:, None, None, :] * u - self._feature_part(y)

    def _rho_resolved(self, w_support: Array, xi_support: Array, y: Array) -> Array:
        """rho = sum_{k in B_i} w[k] xi_i[k] - alpha j y gamma (support-resolved), for the given
        samples."""
        return np.einsum("ejrnk,enk->ejrn", w_support, xi_support) - self._feature_part(y)

    def logits(self, rho: Array) -> Array:
        """F_j(W, x_i) = sum_r sigma(j y_i gamma_{j,r}) + sigma(rho_{j,r,i}) (S, 2, n), Def 3.2."""
        q = self._q(4)
        jy = HEAD_SIGNS[None, :, None, None] * self.problem.y[:, None, None, :]
        return (_power(jy * self.gamma[..., None], q) + _power(rho, q)).sum(axis=2)

    def _rho_of(self, idx: npt.NDArray[np.int64]) -> Array:
        """rho_{j,r,i} for the samples ``idx`` (S, B) only, shape (S, 2, m, B)."""
        p = self.problem
        rows = np.arange(idx.shape[0])[:, None]
        if p.support_resolved:
            return self._rho_resolved(
                self._support_of(idx), p.xi_support[rows, idx], p.y[rows, idx]
            )
        return self._rho(
            _gather(p.zeta0, idx), p.l1[rows, idx], _gather(self.u, idx), p.y[rows, idx]
        )

    def _support_index(self, idx: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.int64], ...]:
        """Index of the support weights (S, 2, m, n, s) at the samples ``idx`` (S, B): selects (S,
        2, m, B, s)."""
        S, _, m = self.w_feature.shape
        return (
            np.arange(S)[:, None, None, None],
            np.arange(2)[None, :, None, None],
            np.arange(m)[None, None, :, None],
            idx[:, None, None, :],
        )

    def _support_of(self, idx: npt.NDArray[np.int64]) -> Array:
        """The support weights w_{j,r}[k], k in B_i, of samples ``idx`` (S, B): (S, 2, m, B, s)."""
        return self.u[self._support_index(idx)]

    def _per_sample_gradients(self, rho: Array, y: Array, scale: Array) -> tuple[Array, Array]:
        """Per-sample data gradients (Lemma A.7) on w_{j,r}[1] and on u_{j,r,i}, both (S, 2, m, K),
        for the samples with noise inner products ``rho`` (S, 2, m, K), labels ``y`` (S, K),
        coordinate scales (S, K)."""
        q, alpha = self._q(4), self._col("alpha", 4)
        signal = HEAD_SIGNS[None, :, None, None] * y[:, None, None, :] * self.gamma[..., None]
        ell = _ell((_power(signal, q) + _power(rho, q)).sum(axis=2), y)[
            :, :, None, :
        ]  # (S, 2, 1, K)
        noise_drive = _power_prime(rho, q)
        feature = -ell * y[:, None, None, :] * (_power_prime(signal, q) - alpha * noise_drive)
        return feature, -ell * noise_drive * scale[:, None, None, :]

    def _apply(self, feature_gradient: Array, noise_gradient: Array) -> None:
        self.t += 1
        feature_state, noise_state, background_state = self.states
        self.optimizer.update(self.w_feature, feature_gradient, self.hyper, feature_state, self.t)
        self.optimizer.update(self.u, noise_gradient, self.hyper, noise_state, self.t)
        self.optimizer.update(self.b, np.zeros_like(self.b), self.hyper, background_state, self.t)

    def step(self, idx: npt.NDArray[np.int64]) -> None:
        """One optimiser step of every setting on its minibatch ``idx`` (S, B) of distinct sample
        indices: the batch-mean gradients of Lemma A.7 (1/B sum over I_t)."""
        p = self.problem
        rows = np.arange(idx.shape[0])[:, None]
        B = idx.shape[1]
        noise_gradient = np.zeros_like(self.u)
        if p.support_resolved:  # coordinate k of sample i: -(1/B) ell sigma'(rho) xi_i[k]
            feature, drive = self._per_sample_gradients(
                self._rho_of(idx), p.y[rows, idx], np.ones(idx.shape)
            )
            noise_gradient[self._support_index(idx)] = (
                drive[..., None] * p.xi_support[rows, idx][:, None, None] / B
            )
        else:
            feature, noise = self._per_sample_gradients(
                self._rho_of(idx), p.y[rows, idx], (p.l2sq / p.l1)[rows, idx]
            )
            np.put_along_axis(noise_gradient, _batch_index(idx, self.u.shape), noise / B, axis=3)
        self._apply(feature.sum(axis=-1) / B, noise_gradient)

    def step_mean_field(self, in_batch: npt.NDArray[np.bool_]) -> None:
        """One step with representative samples: the feature gradient is the mean over the
        representatives (the expectation of the batch mean), a representative's noise coordinates
        get their 1/B-weighted gradient when ``in_batch`` (S, K) marks it as sampled, and nothing
        otherwise."""
        p = self.problem
        if p.support_resolved:
            raise ParameterError(
                "problem",
                "support-resolved",
                "the shared-displacement problem for mean-field steps",
            )
        feature, noise = self._per_sample_gradients(self.rho(), p.y, p.l2sq / p.l1)
        batch = self._col("B", 4)
        self._apply(feature.mean(axis=-1), np.where(in_batch[:, None, None, :], noise / batch, 0.0))

    def measure(self, rng: np.random.Generator, test_size: int = 2000) -> dict[str, Array]:
        """The App. D.2 metrics of every setting, shape (S,) each; test error by Monte Carlo."""
        p = self.problem
        rho = self.rho()
        own = (p.y < 0).astype(int)  # head index of the true label
        memorised = np.take_along_axis(
            rho, own[:, None, None, :].repeat(rho.shape[2], axis=2), axis=1
        )[:, 0].max(axis=1)
        logits = self.logits(rho)
        own_logit = np.take_along_axis(logits, own[:, None, :], axis=1)[:, 0]
        other_logit = np.take_along_axis(logits, 1 - own[:, None, :], axis=1)[:, 0]
        margin = own_logit - other_logit
        gamma = self.gamma
        return {
            "feature_pos": gamma[:, 0].max(axis=1),
            "feature_neg": gamma[:, 1].max(axis=1),
            "noise_min": memorised.min(axis=1),
            "noise_max": memorised.max(axis=1),
            "train_error": (~(margin > 0)).mean(axis=1),
            "test_error": self._test_error(rng, test_size),
            "loss": np.logaddexp(0.0, -margin).mean(axis=1),
        }

    def _test_error(self, rng: np.random.Generator, size: int) -> Array:
        S, _, m = self.w_feature.shape
        s, d, sigma_p = (self._col(f, 3) for f in ("s", "d", "sigma_p"))
        b_square = self.b.reshape(-1, 1, 1) ** 2
        if (
            self.problem.support_resolved
        ):  # untouched coordinates at b, the n s support ones as carried
            n = self._col("n", 3)
            if np.any(n * s > d - 1):
                raise ParameterError(
                    "s",
                    self._column("s").tolist(),
                    "n s <= d - 1 (disjoint supports) for the support-resolved test error",
                )
            mean_square = ((d - 1 - n * s) * b_square + (self.u**2).sum(axis=(-2, -1))) / (d - 1)
        else:
            represented = (
                self._col("n", 3) / self.u.shape[3]
            )  # samples per carried sample (1 unless mean-field)
            mean_square = b_square + s / (d - 1) * represented * (self.u**2).sum(
                axis=-1
            )  # (S, 2, m)
        y = rng.choice([1.0, -1.0], size=(S, 1, 1, size))
        zeta = rng.normal(size=(S, 2, m, size)) * (sigma_p * np.sqrt(s * mean_square))[..., None]
        jy = HEAD_SIGNS[None, :, None, None] * y
        q, alpha = self._q(4), self._col("alpha", 4)
        gamma = self.gamma[..., None]
        logits = (_power(jy * gamma, q) + _power(zeta - alpha * jy * gamma, q)).sum(
            axis=2
        )  # (S, 2, size)
        own = (y[:, 0, 0, :] < 0).astype(int)
        own_logit = np.take_along_axis(logits, own[:, None, :], axis=1)[:, 0]
        other_logit = np.take_along_axis(logits, 1 - own[:, None, :], axis=1)[:, 0]
        return (~(own_logit > other_logit)).mean(axis=1)  # ties and NaN count as errors


def epoch_orders(rng: np.random.Generator, S: int, n: int) -> npt.NDArray[np.int64]:
    """One without-replacement order per setting (S, n) (notes §2.4: each sample once per
    epoch)."""
    return np.argsort(rng.random((S, n)), axis=1)


def simulate(
    problem: ReducedProblem,
    *,
    seed: int = 0,
    epochs: int | None = None,
    record_every: int = 100,
    test_size: int = 2000,
    order: str = "reshuffle",
    progress: Callable[[int, int], None] | None = None,
) -> list[Trajectory]:
    """Run the reduced dynamics for ``epochs`` (default: the settings' ``epochs``) with minibatches
    drawn without replacement (reshuffled every epoch, or one fixed ``"cyclic"`` order); one
    trajectory per setting."""
    if order not in ("reshuffle", "cyclic"):
        raise ParameterError("order", order, "'reshuffle' or 'cyclic'")
    if record_every < 1:
        raise ParameterError("record_every", record_every, "record_every >= 1 (epochs)")
    keys = {(p.n, p.B, p.epochs) for p in problem.params}
    if len(keys) != 1 or problem.y.shape[1] != problem.first.n:
        raise ParameterError(
            "problem", sorted(keys), "all n samples and equal (n, B, epochs) for the exact dynamics"
        )
    total = problem.first.epochs if epochs is None else epochs
    rng = np.random.default_rng(seed)
    measure_rng = np.random.default_rng(seed + 1)
    dynamics = ReducedDynamics.start(problem)
    S, n, B = len(problem.params), problem.first.n, problem.first.B
    records: list[dict[str, Array]] = [dynamics.measure(measure_rng, test_size)]
    recorded = [0]
    sample_order = epoch_orders(rng, S, n)
    for epoch in range(1, total + 1):
        if order == "reshuffle" and epoch > 1:
            sample_order = epoch_orders(rng, S, n)
        for start in range(0, n, B):
            dynamics.step(sample_order[:, start : start + B])
        if epoch % record_every == 0 or epoch == total:
            records.append(dynamics.measure(measure_rng, test_size))
            recorded.append(epoch)
        if progress is not None:
            progress(epoch, total)
    epochs_array = np.asarray(recorded, dtype=float)
    return [
        Trajectory(
            epochs_array, {name: np.array([r[name][e] for r in records]) for name in METRICS}
        )
        for e in range(S)
    ]
