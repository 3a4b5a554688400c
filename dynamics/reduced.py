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

**Overlapping supports** (a problem with ``overlap``, docs/notes/overlap.md): a coordinate
shared by several samples moves with all of them, so rho_i = zeta0_i b/sigma0 + sum_i' G_{ii'}
u_i' - alpha j y_i gamma (the diagonal is ||xi_i||_1; the rest projects the others' displacements
on sample i), and a sample keeps only part of each normalised step on coordinates others feed:
its step is multiplied by the competition factor of :mod:`theorykit.overlap` -- for Adam
kappa(x_i) with x_i = O_i / A_i, A_i = V_i ||xi_i||_2^2 / s its second moment per coordinate and
O_i = s/(d-1) sum_{i' != i} A_i' the others' on a shared one; for sign steps sqrt(A_i / (A_i +
O_i)) with the squared pushes of the batch's other members in place of the moments. Gradient
descent is linear and exact through G alone. Without overlap G is diagonal and the competition
is 1: the disjoint model below, unchanged.

**Support-resolved** (a problem with ``xi_support``): instead of (a_k, u_{j,r,i}), every noise
coordinate w_{j,r}[k], k in B_i, is carried, with its own optimiser state, and rho = sum_{k in B_i}
w[k] xi_i[k] - alpha j y_i gamma. Its data gradient is exactly Lemma A.7's -(1[i in I_t]/B)
ell_{j,i} sigma'(rho_{j,r,i}) xi_i[k], so on disjoint supports this is exact for every optimiser,
L2 and Adam's per-coordinate moments included (it is the CNN restricted to the coordinates
training touches). It costs s times the memory of the shared displacement: for coefficient checks
and single settings, not for phase diagrams.

Exactness, for disjoint supports (Lemma A.4): GD (linear steps: Delta zeta = eta ell sigma'
||xi||_2^2 / B, the ``GD_NOISE_STEP`` of theorykit), SignSGDW (every coordinate moves by the same
eta sgn, decay is (1 - eta lam) on all of them) and SignSGD with lam = 0 are exact up to
round-off; AdamW is exact up to eps (Adam's step is scale-free in the gradient, so every k moves
alike). Adam/SignSGD with L2 are an approximation: they apply the decay to the shared displacement
and to the initial part at once. On overlapping supports GD stays exact; the others are the
closure of docs/notes/overlap.md. ``validation.experiments.coefficient_check`` measures all of it
against the CNN.

Test error (Def. 3.1 test point, fresh support of s random coordinates): F_j = sum_r
sigma(j y gamma_{j,r}) + sigma(zeta_{j,r} - alpha j y gamma_{j,r}) with zeta_{j,r} = sum over the
point's support of w_{j,r}[k] xi[k], by Monte Carlo over points: the modelled weights on the
coordinates training touched, initial weights shrunk like b elsewhere (``ReducedDynamics.
_test_error``); the same point meets every filter.

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
from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

from dynamics import compiled
from dynamics.kernel_layout import COMPETITION_REFRESH, CompetitionCaches
from dynamics.optimizers import CoordinateOptimizer, Hyper, Moments, StepScale
from dynamics.problem import ReducedProblem
from dynamics.recording import epoch_spans, recorded_epochs
from dynamics.trajectory import HEAD_SIGNS, METRICS, Trajectory
from theorykit.errors import ParameterError
from theorykit.initialization import expected_max_abs_std_normal
from theorykit.overlap import adam_competition, adam_competition_inverse

Array = npt.NDArray[np.float64]

#: Test points per block of the Monte Carlo test error (bounds its temporary arrays).
TEST_CHUNK = 500


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


def _project(per_filter: Array, rows: Array) -> Array:
    """sum_k per_filter[e, j, r, k] rows[e, i, k] for every (e, j, r, i): (S, 2, m, K) and rows
    (S, I, K) give (S, 2, m, I), as one batched matrix product (BLAS; einsum would loop)."""
    S, heads, m, _ = per_filter.shape
    flat = per_filter.reshape(S, heads * m, -1) @ rows.transpose(0, 2, 1)
    return flat.reshape(S, heads, m, -1)


def _gather(values: Array, idx: npt.NDArray[np.int64]) -> Array:
    return np.take_along_axis(values, _batch_index(idx, values.shape), axis=3)


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
    _others: Array | None = dataclasses.field(default=None, repr=False)
    _coordinate_moments: Array | None = dataclasses.field(default=None, repr=False)
    _untouched: Array | None = dataclasses.field(default=None, repr=False)
    _kappa: Array | None = dataclasses.field(default=None, repr=False)
    _batch: npt.NDArray[np.int64] | None = dataclasses.field(default=None, repr=False)
    _background_share: Array | None = dataclasses.field(default=None, repr=False)
    #: The competition caches in the compiled kernel's layout after :meth:`run` (the fields above
    #: are then stale until :meth:`step` converts them back).
    _compiled: CompetitionCaches | None = dataclasses.field(default=None, repr=False)

    @classmethod
    def start(cls, problem: ReducedProblem) -> ReducedDynamics:
        """Initial state: w[1] from the problem, u = 0, b = sigma0 (Def. 3.2 initialisation)."""
        first = problem.first
        optimizer = CoordinateOptimizer(first.kind, first.bias_correction)
        w_feature = problem.w_feature0.copy()
        u = problem.w_support0.copy() if problem.support_resolved else np.zeros_like(problem.zeta0)
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
        if p.overlap is not None:
            return self._rho(p.zeta0, _project(self.u, p.overlap.coupling), p.y)
        return self._rho(p.zeta0, p.l1[:, None, None, :] * self.u, p.y)

    def _feature_part(self, y: Array) -> Array:
        """alpha j y_i gamma_{j,r}, the feature-noise coordinate's share of rho (xi_i[1] = -alpha
        y_i)."""
        jy = HEAD_SIGNS[None, :, None, None] * y[:, None, None, :]
        return self._col("alpha", 4) * jy * self.gamma[..., None]

    def _rho(self, zeta0: Array, displaced: Array, y: Array) -> Array:
        """rho = zeta0 b/sigma0 + (the displacement's projection: ||xi||_1 u, or (G u) with
        overlapping supports) - alpha j y gamma for the samples whose (zeta0, displaced, y) are
        given."""
        decay = (self.b / self._col("sigma0", 3))[..., None]
        return zeta0 * decay + displaced - self._feature_part(y)

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
        if p.overlap is not None:
            displaced = _project(self.u, p.overlap.coupling[rows, idx])
        else:
            displaced = p.l1[rows, idx][:, None, None, :] * _gather(self.u, idx)
        return self._rho(_gather(p.zeta0, idx), displaced, p.y[rows, idx])

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
        indices: the batch-mean gradients of Lemma A.7 (1/B sum over I_t)."""
        compiled.restore_reference_caches(self)
        p = self.problem
        rows = np.arange(idx.shape[0])[:, None]
        B = idx.shape[1]
        self._batch = idx
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
        self._apply(
            feature.sum(axis=-1) / B,
            noise_gradient,
            self._competition(noise_gradient),
            self._background_competition(noise_gradient),
        )

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

    def _per_coordinate(self, squares: Array) -> Array:
        """A sample's squared gradient coefficient per unit xi^2 on its coordinates: ``squares`` is
        a squared u-gradient (S, 2, m, n) (the u-gradient is c_i ||xi_i||_2^2 / ||xi_i||_1, a
        coordinate's is c_i xi_i[k]), so this is c_i^2 (or Adam's V_i of c_i)."""
        p = self.problem
        return squares * (p.l1 / p.l2sq)[:, None, None, :] ** 2

    def _competition(self, noise_gradient: Array) -> StepScale | None:
        """The overlap competition factor of this step's u update (None without overlap): Adam's
        kappa from the second moments (:meth:`_adam_competition`), or the sign step's own-aligned
        share in this batch (:meth:`_sign_competition`); gradient descent needs none (it is exact
        through the coupling)."""
        if self.problem.overlap is None or self.optimizer.kind.preconditioner == "none":
            return None
        if self.optimizer.kind.has_moments:
            return self._adam_competition
        return self._sign_competition(noise_gradient)

    def _coordinate_sum(self, per_sample: Array, patches: Array) -> Array:
        """sum_i per_sample_i patches_i[k] on every noise coordinate k: (S, 2, m, n) and patches
        (S, n, d - 1) (the noise values, their squares or signs) give (S, 2, m, d - 1)."""
        return _project(per_sample, patches.transpose(0, 2, 1))

    def _adam_competition(self, state: Moments | None) -> Array:
        """kappa(O_i / A_i) of :func:`theorykit.overlap.adam_competition` for the updated moments.

        Every :data:`COMPETITION_REFRESH` steps the others' second moments are summed on every
        noise coordinate from the supports (v[k] = sum_{i in k} V_i xi_i[k]^2, docs/notes/overlap.md
        §2) and each sample's exact share sum_k xi_k^2 / sqrt(v[k]) is turned into an effective
        competition O_i (the x of ``adam_competition_inverse`` times A_i). Between refreshes O_i
        stays and kappa is re-read for the batch members only, whose own moment A_i = V_i
        ||xi_i||_2^2 / s jumps with their gradient; the others' A_i only decay by beta2 per step,
        which moves their kappa by less than (1 - beta2^REFRESH) / 2 (0.8% at beta2 = 0.999) before
        the next refresh."""
        assert state is not None
        p, shared = self.problem, self.problem.overlap
        assert shared is not None
        if self._others is None or self._kappa is None or self.t % COMPETITION_REFRESH == 1:
            V = self._per_coordinate(state.second)
            own_mean = V * (p.l2sq / self._col("s", 2))[:, None, None, :]
            squares = self._squared_noise()
            self._coordinate_moments = self._coordinate_sum(V, squares)
            with np.errstate(divide="ignore"):
                inverse = np.where(
                    self._coordinate_moments > 0, 1 / np.sqrt(self._coordinate_moments), 0.0
                )
            share = _project(inverse, squares) * np.sqrt(V) / p.l1[:, None, None, :]
            kappa = np.where(V > 0, np.minimum(share, 1.0), 1.0)
            self._others = adam_competition_inverse(kappa) * own_mean
            self._kappa = self._competition_at(self._others, own_mean)
            return self._kappa
        assert self._batch is not None
        rows, batch = np.arange(self._batch.shape[0])[:, None], self._batch
        scale = (p.l1 / p.l2sq)[rows, batch] ** 2  # the batch members' V_i, as _per_coordinate
        V = _gather(state.second, batch) * scale[:, None, None, :]
        own_mean = V * (p.l2sq[rows, batch] / self._col("s", 2))[:, None, None, :]
        kappa = self._competition_at(_gather(self._others, self._batch), own_mean)
        np.put_along_axis(self._kappa, _batch_index(self._batch, self._kappa.shape), kappa, axis=3)
        return self._kappa

    def _squared_noise(self) -> Array:
        """xi_i[k]^2 on the noise coordinates (S, n, d - 1), computed once."""
        cache = self.__dict__.setdefault("_columns", {})
        if "squared noise" not in cache:
            assert self.problem.overlap is not None
            cache["squared noise"] = self.problem.overlap.noise**2
        return cache["squared noise"]

    @staticmethod
    def _competition_at(others: Array, own_mean: Array) -> Array:
        """kappa(O / A), 1 where the own moment A is still 0 (no gradient yet)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            x = np.where(own_mean > 0, others / own_mean, np.inf)
        return np.where(own_mean > 0, adam_competition(x), 1.0)

    def _background_competition(self, noise_gradient: Array) -> StepScale | None:
        """The share of the L2 decay step an untouched coordinate keeps when others' data gradients
        share it (Adam and SignSGD with L2 on overlapping supports; None otherwise: decoupled decay
        and gradient descent decay every coordinate alike). Adam: the mean over the noise
        coordinates of sqrt(v_b / (v_b + v[k])), v[k] the data second moment there, both read at the
        refreshes of :meth:`_adam_competition` (they change on the 1/(1 - beta2) scale); sign: the
        fraction of coordinates no batch member pushes."""
        if not self.problem.decay_competes:
            return None
        if self.optimizer.kind.has_moments:

            def share(state: Moments | None) -> Array:
                assert state is not None
                if self._background_share is None or self.t % COMPETITION_REFRESH == 1:
                    assert self._coordinate_moments is not None  # set at this refresh
                    own = state.second[..., None]
                    with np.errstate(divide="ignore", invalid="ignore"):
                        kept = np.where(
                            own > 0, np.sqrt(own / (own + self._coordinate_moments)), 1.0
                        )
                    self._background_share = kept.mean(axis=-1)
                return self._background_share

            return share
        return self._untouched

    def _sign_competition(self, noise_gradient: Array) -> Array:
        """The sign step's own-aligned share of each batch member, exactly: on each of its
        coordinates the batch's summed push g[k] = sum_b c_b xi_b[k] decides the sign, so the share
        is sum_k |xi_i[k]| sgn(c_i xi_i[k]) sgn(g[k]) / ||xi_i||_1 = sgn(c_i) sum_k xi_i[k]
        sgn(g[k]) / ||xi_i||_1 (docs/notes/overlap.md §3); 1 for the samples outside the batch
        (whose data gradient is 0)."""
        p, shared, batch = self.problem, self.problem.overlap, self._batch
        assert shared is not None and batch is not None
        rows = np.arange(batch.shape[0])[:, None]
        c = _gather(noise_gradient, batch) * (p.l1 / p.l2sq)[rows, batch][:, None, None, :]
        patches = shared.noise[rows, batch]  # (S, B, d - 1)
        pushes = np.sign(self._coordinate_sum(c, patches))  # (S, 2, m, d - 1)
        self._untouched = (pushes == 0).mean(axis=-1)
        aligned = np.sign(c) * _project(pushes, patches)
        share = np.ones_like(noise_gradient)
        np.put_along_axis(
            share,
            _batch_index(batch, share.shape),
            aligned / p.l1[rows, batch][:, None, None, :],
            axis=3,
        )
        return share

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
        if p.overlap is not None:
            displaced = np.abs(self._coordinate_sum(self.u, np.sign(p.overlap.noise)))
        else:
            displaced = np.abs(self.u)
        noise = initial[:, None, None] * self.b / self._col("sigma0", 3) + displaced.reshape(
            S, 2, m, -1
        ).max(axis=-1)
        return np.maximum(np.abs(self.w_feature).max(axis=(1, 2)), noise.max(axis=(1, 2)))

    def _touched_weights(self, e: int) -> tuple[Array, bool]:
        """Setting ``e``'s weights on the coordinates training touches, (2, m, K), and whether
        their initial part is still to be drawn (True: the model carries only the displacement,
        the initial weight of each coordinate is N(0, sigma0^2) shrunk like b; False: carried
        whole). Support-resolved: the n s support weights; overlapping supports: every noise
        coordinate, the displacement sum_i u_i phi_i[k] (docs/notes/overlap.md §4); shared, on
        disjoint supports: sample i's s coordinates each at u_i (the sign of xi_i[k] does not
        matter for a fresh test value), representatives standing for n / K samples each."""
        p = self.problem
        first = p.params[e]
        if p.support_resolved:
            return self.u[e].reshape(2, first.m, -1), False
        if p.overlap is not None:
            noise = p.overlap.noise[e]
            if self.optimizer.kind.preconditioner == "none":
                direction = noise * (p.l1[e] / p.l2sq[e])[:, None]
            else:
                direction = np.sign(noise)
            return np.einsum("jrn,nk->jrk", self.u[e], direction), True
        carried = self.u.shape[3]
        slots = (np.arange(first.n * first.s) // first.s) % carried
        return self.u[e][..., slots], True

    def _test_error(self, rng: np.random.Generator, size: int) -> Array:
        """Monte Carlo test error of every setting (Def. 3.1 test points): each point draws a
        fresh support of s of the d - 1 noise coordinates and its values; on a touched coordinate
        (:meth:`_touched_weights`) filter (j, r) has its modelled weight, on the others an initial
        weight N(0, sigma0^2) shrunk like b, independent across filters, which enters as a
        Gaussian of variance b^2 sum_k xi[k]^2 given the point. The same point meets every filter,
        so the filters' noise inner products are correlated as in the CNN."""
        errors = np.empty(self.w_feature.shape[0])
        q, gamma = self._q(3), self.gamma
        for e, p in enumerate(self.problem.params):
            touched, initial_unknown = self._touched_weights(e)
            K = touched.shape[-1]
            wrong = 0
            for start in range(0, size, TEST_CHUNK):
                count = min(TEST_CHUNK, size - start)
                y = rng.choice([1.0, -1.0], size=count)
                positions = np.argpartition(rng.random((count, p.d - 1)), p.s - 1, axis=1)
                positions = positions[:, : p.s]
                xi = rng.normal(0.0, p.sigma_p, size=(count, p.s))
                hit = positions < K
                weights = touched[:, :, np.where(hit, positions, 0)] * hit  # (2, m, count, s)
                zeta = (weights * xi).sum(axis=-1)
                unknown = xi**2 if initial_unknown else np.where(hit, 0.0, xi**2)
                spread = self.b[e][..., None] * np.sqrt(unknown.sum(axis=-1))  # (2, m, count)
                zeta = zeta + rng.normal(size=zeta.shape) * spread
                jy = HEAD_SIGNS[:, None, None] * y
                g = gamma[e][..., None]
                qe = q if isinstance(q, float) else float(q[e].flat[0])
                logits = (_power(jy * g, qe) + _power(zeta - p.alpha * jy * g, qe)).sum(axis=1)
                own = (y < 0).astype(int)
                own_logit = logits[own, np.arange(count)]
                other_logit = logits[1 - own, np.arange(count)]
                wrong += int((~(own_logit > other_logit)).sum())  # ties and NaN count as errors
            errors[e] = wrong / size
        return errors


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
