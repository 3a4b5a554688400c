"""Reduced dynamics: iterate the feature coordinate and one representative noise coordinate per
(j, r, i).

Model (Tang et al. 2025, Lemma A.7; notes §5.0/5.3). For each setting, head j in (+1, -1) (index
0, 1), filter r and sample i:

* the feature coordinate w_{j,r}[1] (gamma_{j,r} = j w_{j,r}[1]) with its exact data gradient
  -(1/B) sum_{i in I_t} ell_{j,i} y_i [sigma'(j y_i gamma_{j,r}) - alpha sigma'(rho_{j,r,i})]
  (Lemma A.7, k = 1);
* the noise coordinates k in B_i, written w_{j,r}[k] = a_k + u_{j,r,i} sgn(xi_i[k]): a_k the
  initial value, u a displacement shared by all k. The data gradient of coordinate k in that basis
  is -(1[i in I_t]/B) ell_{j,i} sigma'(rho_{j,r,i}) |xi_i[k]| (Lemma A.7, k in B_i); ``u`` follows
  the optimiser with |xi_i[k]| replaced by c_i = ||xi_i||_2^2 / ||xi_i||_1, and the initial parts
  a_k shrink like an untouched coordinate b(t) (b(0) = sigma0, data gradient 0);
* rho_{j,r,i} = zeta0_{j,r,i} b(t)/sigma0 + ||xi_i||_1 u_{j,r,i} - alpha j y_i gamma_{j,r}.

How the noise coordinates are carried is the problem's reduction, a strategy chosen once at
:meth:`ReducedDynamics.start` (:mod:`dynamics.reductions`): the shared displacement above
(:mod:`dynamics.reduction_shared`); **overlapping supports**, where a coordinate shared by several
samples moves with all of them and a sample keeps only part of each normalised step on coordinates
others feed (:mod:`dynamics.reduction_overlap`, :mod:`dynamics.overlap_competition`,
docs/notes/overlap.md); **support-resolved**, every noise coordinate w_{j,r}[k], k in B_i, with its
own optimiser state (:mod:`dynamics.reduction_resolved`).

Exactness, for disjoint supports (Lemma A.4): GD (linear steps: Delta zeta = eta ell sigma'
||xi||_2^2 / B, the ``GD_NOISE_STEP`` of theorykit), SignSGDW (every coordinate moves by the same
eta sgn, decay is (1 - eta lam) on all of them) and SignSGD with lam = 0 are exact up to
round-off; AdamW is exact up to eps (Adam's step is scale-free in the gradient, so every k moves
alike). Adam/SignSGD with L2 are an approximation: they apply the decay to the shared displacement
and to the initial part at once. The support-resolved reduction is exact for every optimiser. On
overlapping supports GD stays exact; the others are the closure of docs/notes/overlap.md.
``validation.experiments.coefficient_check`` measures all of it against the CNN.

Test error (Def. 3.1 test point, fresh support of s random coordinates): by Monte Carlo over points
(:mod:`dynamics.generalisation`), the modelled weights on the coordinates training touched,
initial weights shrunk like b elsewhere; the same point meets every filter.

Two implementations of one step: :meth:`ReducedDynamics.step`, numpy, the readable reference (one
step of every setting per call, float64), and :meth:`ReducedDynamics.run`, the compiled kernel of
:mod:`dynamics.kernel` (whole spans of steps per call, float64 or float32), equal to it up to
round-off (``tests/dynamics/test_kernel.py``); :func:`simulate` and the predictions of
``validation`` use the second.

Measurements use the names of :data:`dynamics.trajectory.METRICS`. Conventions:
docs/conventions.md.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

from dynamics import compiled
from dynamics.activation import ell, sigma, sigma_prime
from dynamics.generalisation import monte_carlo_test_error
from dynamics.kernel_layout import CompetitionCaches
from dynamics.optimizers import CoordinateOptimizer, Hyper, Moments, StepScale
from dynamics.problem import ReducedProblem
from dynamics.recording import epoch_spans, recorded_epochs
from dynamics.reductions import NoiseReduction, reduction_of
from dynamics.trajectory import HEAD_SIGNS, METRICS, Trajectory
from theorykit.errors import ParameterError
from theorykit.initialization import expected_max_abs_std_normal

Array = npt.NDArray[np.float64]


@dataclasses.dataclass
class ReducedDynamics:
    """The state of S reduced settings; :meth:`step` mirrors
    ``validation.cnn.ensemble.Ensemble.step``."""

    problem: ReducedProblem
    w_feature: Array  # (S, 2, m): w_{j,r}[1]
    # (S, 2, m, n): shared displacement of sample i's noise coordinates; support-resolved: w[k] (S,
    # 2, m, n, s)
    u: Array
    b: Array  # (S, 2, m): an untouched coordinate of each filter, b(0) = sigma0
    optimizer: CoordinateOptimizer
    hyper: Hyper
    states: tuple[Moments | None, Moments | None, Moments | None]
    t: int = 0
    #: This step's batch and the overlap competition's caches (:mod:`dynamics.overlap_competition`),
    #: None until set.
    _others: Array | None = dataclasses.field(default=None, repr=False)
    _coordinate_moments: Array | None = dataclasses.field(default=None, repr=False)
    _untouched: Array | None = dataclasses.field(default=None, repr=False)
    _kappa: Array | None = dataclasses.field(default=None, repr=False)
    _batch: npt.NDArray[np.int64] | None = dataclasses.field(default=None, repr=False)
    _background_share: Array | None = dataclasses.field(default=None, repr=False)
    #: The competition caches in the compiled kernel's layout after :meth:`run` (the fields above
    #: are then stale until :meth:`step` converts them back).
    _compiled: CompetitionCaches | None = dataclasses.field(default=None, repr=False)
    #: The problem's reduction (:func:`dynamics.reductions.reduction_of`).
    reduction: NoiseReduction = dataclasses.field(kw_only=True, repr=False)

    @classmethod
    def start(cls, problem: ReducedProblem) -> ReducedDynamics:
        """Initial state: w[1] from the problem, u = 0 (support-resolved: the initial support
        weights), b = sigma0 (Def. 3.2 initialisation)."""
        first = problem.first
        reduction = reduction_of(problem)
        optimizer = CoordinateOptimizer(first.kind, first.bias_correction)
        w_feature = problem.w_feature0.copy()
        u = reduction.initial_noise()
        b = np.broadcast_to(problem.column("sigma0")[:, None, None], w_feature.shape).copy()
        hyper = Hyper(*(problem.column(name) for name in ("eta", "lam", "beta1", "beta2", "eps")))
        return cls(
            problem,
            w_feature,
            u,
            b,
            optimizer,
            hyper,
            (optimizer.init(w_feature), optimizer.init(u), optimizer.init(b)),
            reduction=reduction,
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
        return self.reduction.zeta(self.u, self.b) - self._feature_part(self.problem.y)

    def _rho_of(self, idx: npt.NDArray[np.int64], y: Array) -> Array:
        """rho_{j,r,i} for the samples ``idx`` (S, B) only, labels ``y`` (S, B): (S, 2, m, B)."""
        return self.reduction.zeta_of(self.u, self.b, idx) - self._feature_part(y)

    def _feature_part(self, y: Array) -> Array:
        """alpha j y_i gamma_{j,r}, the feature-noise coordinate's share of rho (xi_i[1] = -alpha
        y_i)."""
        jy = HEAD_SIGNS[None, :, None, None] * y[:, None, None, :]
        return self._col("alpha", 4) * jy * self.gamma[..., None]

    def logits(self, rho: Array) -> Array:
        """F_j(W, x_i) = sum_r sigma(j y_i gamma_{j,r}) + sigma(rho_{j,r,i}) (S, 2, n), Def 3.2."""
        q = self._q(4)
        jy = HEAD_SIGNS[None, :, None, None] * self.problem.y[:, None, None, :]
        return (sigma(jy * self.gamma[..., None], q) + sigma(rho, q)).sum(axis=2)

    def _per_sample_gradients(self, rho: Array, y: Array) -> tuple[Array, Array]:
        """Per-sample data gradients (Lemma A.7) of the samples with noise inner products ``rho``
        (S, 2, m, K) and labels ``y`` (S, K): on w_{j,r}[1], and the noise coordinates' drive
        -ell_{j,i} sigma'(rho_{j,r,i}) (times a coordinate's xi_i[k] or c_i), both (S, 2, m, K)."""
        q, alpha = self._q(4), self._col("alpha", 4)
        signal = HEAD_SIGNS[None, :, None, None] * y[:, None, None, :] * self.gamma[..., None]
        logits = (sigma(signal, q) + sigma(rho, q)).sum(axis=2)
        ell_ji = ell(logits, y)[:, :, None, :]  # (S, 2, 1, K)
        noise_drive = sigma_prime(rho, q)
        feature = -ell_ji * y[:, None, None, :] * (sigma_prime(signal, q) - alpha * noise_drive)
        return feature, -ell_ji * noise_drive

    def _apply(
        self,
        feature_gradient: Array,
        noise_gradient: Array,
        competition: StepScale | None = None,
        background: StepScale | None = None,
    ) -> None:
        self.t += 1
        feature_state, noise_state, background_state = self.states
        self.optimizer.update(self.w_feature, feature_gradient, self.hyper, feature_state, self.t)
        self.optimizer.update(self.u, noise_gradient, self.hyper, noise_state, self.t, competition)
        self.optimizer.update(
            self.b, np.zeros_like(self.b), self.hyper, background_state, self.t, background
        )

    def step(self, idx: npt.NDArray[np.int64]) -> None:
        """One optimiser step of every setting on its minibatch ``idx`` (S, B) of distinct sample
        indices: the batch-mean gradients of Lemma A.7 (1/B sum over I_t), the noise coordinates'
        and the competition of their steps by the reduction."""
        compiled.restore_reference_caches(self)
        self._batch = idx
        y = self.problem.y[np.arange(idx.shape[0])[:, None], idx]
        feature, drive = self._per_sample_gradients(self._rho_of(idx, y), y)
        noise_gradient = self.reduction.batch_noise_gradient(drive, idx, self.u)
        competition, background = self.reduction.step_scales(self, noise_gradient)
        self._apply(feature.sum(axis=-1) / idx.shape[1], noise_gradient, competition, background)

    def run(
        self,
        batches: Sequence[npt.NDArray[np.int64]],
        dtype: str = "float64",
        parallel: bool = True,
        visits: npt.NDArray[np.bool_] | None = None,
    ) -> None:
        """Every step of ``batches`` ((S, B) each, in order) in the compiled kernel
        (:mod:`dynamics.kernel`, through :func:`dynamics.compiled.run`): :meth:`step`'s
        arithmetic, equal to it up to round-off in float64; ``dtype="float32"`` stores and steps
        the state in float32 (written back as float64). ``parallel``: the settings on numba's
        threads, or one after another on the calling thread. ``visits`` (S, steps, K): mean-field
        steps instead (:meth:`step_mean_field`'s ``in_batch`` per step), every batch then all K
        representatives."""
        compiled.run(self, batches, dtype, parallel, visits)

    def step_mean_field(self, in_batch: npt.NDArray[np.bool_]) -> None:
        """One step with representative samples: the feature gradient is the mean over the
        representatives (the expectation of the batch mean), a representative's noise coordinates
        get their 1/B-weighted gradient when ``in_batch`` (S, K) marks it as sampled, and nothing
        otherwise."""
        scale = self.reduction.mean_field_scale()[:, None, None, :]
        feature, drive = self._per_sample_gradients(self.rho(), self.problem.y)
        noise = drive * scale
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
        touched = functools.partial(self.reduction.touched_weights, self.u)
        test_error = monte_carlo_test_error(rng, p.params, gamma, self.b, touched, test_size)
        return {
            "feature_pos": gamma[:, 0].max(axis=1),
            "feature_neg": gamma[:, 1].max(axis=1),
            "noise_min": memorised.min(axis=1),
            "noise_max": memorised.max(axis=1),
            "train_error": (~(margin > 0)).mean(axis=1),
            "test_error": test_error,
            "loss": np.logaddexp(0.0, -margin).mean(axis=1),
            "weight_max": self.weight_max(),
        }

    def weight_max(self) -> Array:
        """max |w| over every weight of each setting, (S,): the feature coordinates exactly; the
        noise coordinates as their initial part's largest value, sigma0 E[max |Z|] over 2 m d
        (:func:`theorykit.initialization.expected_max_abs_std_normal`), shrunk like b, plus the
        largest displacement (per coordinate on overlapping supports). An upper estimate of the
        noise part, exact at t = 0 in expectation."""
        p = self.problem
        S, _, m = self.w_feature.shape
        initial = np.array([q.sigma0 * expected_max_abs_std_normal(2 * m * q.d) for q in p.params])
        displaced = np.abs(self.reduction.displacements(self.u))
        noise = initial[:, None, None] * self.b / self._col("sigma0", 3) + displaced.reshape(
            S, 2, m, -1
        ).max(axis=-1)
        return np.maximum(np.abs(self.w_feature).max(axis=(1, 2)), noise.max(axis=(1, 2)))


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
    log_records: int = 0,
    test_size: int = 2000,
    order: str = "reshuffle",
    progress: Callable[[int, int], None] | None = None,
    dtype: str = "float64",
) -> list[Trajectory]:
    """Run the reduced dynamics for ``epochs`` (default: the settings' ``epochs``) with minibatches
    drawn without replacement (reshuffled every epoch, or one fixed ``"cyclic"`` order), recorded at
    :func:`dynamics.recording.recorded_epochs`; one trajectory per setting. The steps run in the
    compiled kernel (:meth:`ReducedDynamics.run`, in ``dtype``) between records."""
    if order not in ("reshuffle", "cyclic"):
        raise ParameterError("order", order, "'reshuffle' or 'cyclic'")
    keys = {(p.n, p.B, p.epochs) for p in problem.params}
    if len(keys) != 1 or problem.y.shape[1] != problem.first.n:
        raise ParameterError(
            "problem", sorted(keys), "all n samples and equal (n, B, epochs) for the exact dynamics"
        )
    total = problem.first.epochs if epochs is None else epochs
    schedule = recorded_epochs(total, record_every, log_records)
    rng = np.random.default_rng(seed)
    measure_rng = np.random.default_rng(seed + 1)
    dynamics = ReducedDynamics.start(problem)
    S, n, B = len(problem.params), problem.first.n, problem.first.B
    records: list[dict[str, Array]] = [dynamics.measure(measure_rng, test_size)]
    recorded = [0]
    sample_order = epoch_orders(rng, S, n)
    for span in epoch_spans(total, schedule, problem.first.iterations_per_epoch):
        batches = []
        for epoch in span:
            if order == "reshuffle" and epoch > 1:
                sample_order = epoch_orders(rng, S, n)
            batches += [sample_order[:, start : start + B] for start in range(0, n, B)]
        dynamics.run(batches, dtype)
        if span[-1] in schedule:
            records.append(dynamics.measure(measure_rng, test_size))
            recorded.append(span[-1])
        if progress is not None:
            progress(span[-1], total)
    epochs_array = np.asarray(recorded, dtype=float)
    return [
        Trajectory(
            epochs_array, {name: np.array([r[name][e] for r in records]) for name in METRICS}
        )
        for e in range(S)
    ]
