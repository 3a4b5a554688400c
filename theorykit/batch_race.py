"""The large/mini-batch race of Tang et al. 2025 at a finite setting: the critical batch size B*,
the reversal time and the probability that a head's feature reverses.

Stage I of the proofs (Lemmas B.6/B.10 for SignSGD(W), Lemma C.2 for Adam(W)) is a race between the
feature coefficient gamma = <w_{j,r}, j v> of a head's best filter and the noise coefficients
rho_i = <w_{y_i,r}, xi_i> of its samples (docs/notes/overlap.md §5 derives what follows). Per
iteration, with P = n/B iterations per epoch:

* the feature coordinate gets a consistent batch gradient every iteration: a sign-type step moves
  gamma by **eta**;
* sample i is drawn once per epoch. A sign step moves its s noise coordinates by eta towards
  sgn(xi_i[k]); Adam's moments spread the one spike over the period, S(P; beta1, beta2) sign steps
  in all (``closed_forms.PERIODIC_SPIKE_STEP_SUM``); on coordinates other samples share, the sample
  keeps the competition factor kappa of :mod:`theorykit.overlap` of that step. So rho_i grows by
  **eta kappa S(P) E||xi||_1 / P** per iteration (S = 1 for sign steps).

Under Adam both steps exceed these while their gradients grow (v lags behind the growing square):
by the factors a_f and a_n of :mod:`theorykit.step_amplification` (docs/notes/overlap.md §8; 1
for sign steps), so everything below runs with a_f eta in place of eta and R a_n / a_f in place of
R (:class:`Race` reports both factors).

The rate ratio ``R(P) = C_batch_race kappa S(P) E||xi||_1 / P`` (E||xi||_1 = sqrt(2/pi) s sigma_p)
uses the competition at x = C_overlap times the shared samples: all (n - 1) s / (d - 1) of them for
Adam (its second moment remembers every arrival), the (B - 1) s / (d - 1) of one batch for sign
steps. Memorisation becomes test error only when a head's feature **reverses** (notes §3): the
feature-noise term alpha sigma'(rho) beats sigma'(gamma) once rho / gamma exceeds
A = (f alpha)^{-1/(q-1)}, f the fraction of the head's samples whose noise grows at all: 1 but for
Adam, whose coupled weight decay holds down the noise of samples that start below a level set by
lam (:mod:`theorykit.noise_decay`, Thms 4.1/4.2's lam = o(sigma0^{q-2} sigma_p / n)). Starting
from gamma(0) = gamma0 and rho(0) = rho0 (Lemma A.3), growing at eta and R eta, the ratio reaches
A at

    t_r = (A gamma0 - rho0) / (eta (R - A))                                  (R > A)

iterations, and the feature then falls back through 0 about as long again: a horizon of T
iterations shows the reversal when 2 t_r + gamma0 / eta <= T. The best filter's gamma0 is
sigma0 max_r Z_r, so a head reverses within the horizon with probability

    P_rev = Phi(z*)^m,   z* = (eta (R - A) (T - gamma0/eta) / 2 + rho0) / (A sigma0)

(0 when R <= A). A run's test error rises earlier than that: a class's test points are
misclassified once the other head's most negative filter outweighs the best filter of their own
head, which the same linear race of every filter decides before the best filter reverses
(:mod:`theorykit.class_flip`, notes §9); a run memorises when a class flips
(:meth:`Race.memorisation_probability`). ``critical_batch_size`` is the B at which a setting
memorises with probability 1/2
in at least one of ``seeds`` runs (the measured boundary's rule, ``dynamics.outcomes``); it is not
rounded and not clipped: B* > n means no batch size memorises within the horizon, B* < 1 that every
batch size does.

**Stage I's length.** The data loss is halved, the CNN's measured end of Stage I
(``dynamics.outcomes.measured_time_scales``), when a sample's margin reaches z = log(1 + sqrt(2))
(log(1 + e^{-z}) = log(2)/2). The filters that grow are the m/2 whose coefficient starts positive
(sigma'(z) = 0 below 0): their feature coefficient by eta and the sample's noise coefficient by
R eta per iteration, so the margin is (m/2) (eta t)^q (1 + R^q) once the growth dominates the
start, and

    T0 = (2 z / (m (1 + R^q)))^{1/q} / eta                                   (RACE_STAGE1_LENGTH)

with no constant of its own (R carries C_batch_race and C_overlap). Lemmas C.3-C.6 give its order:
1/(eta s sigma_p) at large batch, where R^q dominates, 1/eta at mini-batch.

**Spread over seeds.** Phi(z*)^m carries only gamma0's spread, which is narrow: near the boundary
it turns the race into a step in B, while the CNN's heads at one setting reverse in some seeds and
not in others (the paper's Table 1 Adam run at B = 100 ends with none, one or both heads reversed
by seed). What R averages over -- each sample's ||xi_i||_1 (relative spread sqrt((pi/2 - 1)/s) per
sample, about sqrt(2/n) of that over a head's n/2 samples) and the batch order (one draw per
epoch, its gaps averaged over the epochs) -- moves R by about 1% at the paper's setting, far less
than that. The linear race is the noise's fastest path: it holds the loss derivative at its
initial level, and everything it leaves out (the feature or other samples' noise lowering a
sample's loss, Stage II setting in) slows a head's noise, never speeds it. So the spread is
one-sided, a hidden constant read as a head's own rate ratio R_head = R exp(-C_race_spread |eps|),
eps ~ N(0, 1) independent per head and seed:

    P_rev = E_eps[ Phi(z*(R_head))^m ]        (the term is 0 where R_head <= A)
          = P( log R - C_race_spread |eps| > log max(A, A_T(gamma0)) ),

averaged over gamma0's quantiles (:data:`INIT_QUANTILES`): 2 Phi(log(R / needed) / C) - 1 where R
exceeds the needed ratio, else 0. C_race_spread = 0 is the narrow race above. The same heads give
the spread of the reversal time over seeds: :func:`reversal_time_band` is the 0.1-0.9 range of
t_r over the heads that reverse within the horizon and :func:`median_reversal_time` its median,
the point prediction of the CNN's T_r over seeds (the linear race's t_r, eps = 0, is the fastest
typical head's, below the median wherever C_race_spread > 0). The number of heads that reverse
is binomial(2, P_rev) (:meth:`Race.reversed_heads`), and with it the test error level:
about 0 with none, 1/2 with one, 1 with both (notes §3).

Hidden constants (``HiddenConstants``): ``batch_race`` (C_batch_race) scales R, ``overlap``
(C_overlap) the effective competition, ``race_spread`` (C_race_spread) spreads R over heads and
seeds; all calibrated on CNN runs (``theorykit compare``, calibration section: the first two by
least squares of log B*, the spread by the likelihood of the heads' reversals). Conventions: lam
enters through f only (the decay's pull on gamma and on a growing rho is left out: Stage I,
lam eta P << 1); S(P) is the bias-correction-free, eps = 0 steady state;
iterations and epochs as in docs/conventions.md.
"""

from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np
import sympy as sp
from scipy import optimize, special

from theorykit import symbols as S
from theorykit.class_flip import flipped_classes
from theorykit.closed_forms import PERIODIC_SPIKE_STEP_SUM
from theorykit.constants import HiddenConstants
from theorykit.errors import ParameterError
from theorykit.formula import Formula
from theorykit.noise_decay import escape_fraction
from theorykit.overlap import (
    SHARED_SAMPLES,
    SHARED_SAMPLES_PER_BATCH,
    adam_competition,
    sign_competition,
)
from theorykit.params import ProblemParams
from theorykit.step_amplification import growth_amplification

EXPECTED_NOISE_L1 = Formula(
    "expected_noise_l1",
    sp.sqrt(2 / sp.pi) * S.s * S.sigma_p,
    "Def. 3.1: E||xi_i||_1 = s sigma_p E|N(0, 1)| over the support B_i, E|N(0, 1)| = sqrt(2/pi)",
)

REVERSAL_RATIO = Formula(
    "reversal_ratio",
    (S.escape_fraction * S.alpha) ** (-1 / (S.q - 1)),
    "notes §3 (Lemma C.3/C.13's reversal): f alpha sigma'(rho) > sigma'(gamma) once rho / gamma > "
    "(f alpha)^{-1/(q-1)}, sigma'(z) = q z^{q-1}, f the fraction of the head's samples whose noise "
    "grows (theorykit.noise_decay; 1 but for Adam's coupled decay)",
)

INITIAL_NOISE_LEVEL = Formula(
    "initial_noise_level",
    sp.sqrt(2 / sp.pi) * S.sigma0 * S.noise_norm,
    "Lemma A.3: rho(0) ~ N(0, sigma0^2 ||xi||_2^2); E[rho(0) | rho(0) > 0] for the samples whose "
    "noise grows (sigma'(rho) = 0 below 0)",
)

RACE_REVERSAL_TIME = Formula(
    "race_reversal_time",
    (S.reversal_ratio * S.gamma0 - S.rho0) / (S.eta * (S.rate_ratio - S.reversal_ratio)),
    "docs/notes/overlap.md §5: iterations until rho/gamma = A when gamma grows by eta and rho by "
    "R eta per iteration from gamma0, rho0 (R > A; Lemma C.3/C.13's T_r at a finite setting)",
)

RACE_STAGE1_LENGTH = Formula(
    "race_stage1_length",
    (2 * sp.log(1 + sp.sqrt(2)) / (S.m * (1 + S.rate_ratio**S.q))) ** (1 / S.q) / S.eta,
    "docs/notes/overlap.md §5: Stage I ends when the data loss is halved, log(1 + e^{-z}) = "
    "log(2)/2 at the margin z = log(1 + sqrt(2)); the m/2 filters with a positive start grow "
    "their feature by eta and their noise by R eta per iteration, so the margin is (m/2) (eta "
    "t)^q (1 + R^q) (Lemmas C.3-C.6's T0 at a finite setting)",
)

HORIZON_RATIO = Formula(
    "horizon_ratio",
    S.reversal_ratio + 2 * (S.reversal_ratio * S.gamma0 - S.rho0) / (S.eta * S.horizon - S.gamma0),
    "docs/notes/overlap.md §5: the smallest R whose reversal shows within T iterations, "
    "2 t_r + gamma0/eta <= T; A as T -> infinity",
)


def reversal_ratio(params: ProblemParams) -> float:
    """A = (f alpha)^{-1/(q-1)} at ``params`` (:data:`REVERSAL_RATIO`, f from
    :func:`theorykit.noise_decay.escape_fraction`); inf where no head can reverse (alpha = 0, or no
    sample's noise outgrows Adam's coupled decay, f = 0)."""
    f = escape_fraction(params)
    if params.alpha == 0 or f == 0:
        return math.inf
    return float(REVERSAL_RATIO.at(params, escape_fraction=f))


def _check_race(params: ProblemParams) -> None:
    if params.kind.preconditioner == "none":
        raise ParameterError(
            "optimizer",
            params.optimizer,
            "a sign-type optimiser (adam, adamw, signsgd, signsgdw); GD's race is "
            "theorykit.bounds.GD_LEARNS_FEATURE",
        )
    if params.kind.has_moments and not params.beta1**2 < params.beta2:
        raise ParameterError(
            "beta1",
            params.beta1,
            f"beta1^2 < beta2 = {params.beta2} for S(P; beta1, beta2) (Lemma C.1; notes §5.6)",
        )


def competition(
    params: ProblemParams,
    constants: HiddenConstants | None = None,
    steps_per_epoch: float | None = None,
) -> float:
    """kappa of the race at ``params`` (:mod:`theorykit.overlap`): Adam at x = C_overlap (n - 1)
    s / (d - 1), sign steps at x = C_overlap (B - 1) s / (d - 1) with B = n / P; 1 for disjoint
    supports is the caller's choice (``overlapping`` of :func:`rate_ratio`)."""
    constants = constants or HiddenConstants()
    if params.kind.has_moments:
        return float(adam_competition(constants.overlap * SHARED_SAMPLES.at(params)))
    batch = params.B if steps_per_epoch is None else params.n / steps_per_epoch
    return float(sign_competition(constants.overlap * SHARED_SAMPLES_PER_BATCH.at(params, B=batch)))


def rate_ratio(
    params: ProblemParams,
    constants: HiddenConstants | None = None,
    steps_per_epoch: float | None = None,
    overlapping: bool = True,
) -> float:
    """R(P): the noise coefficient's growth per iteration over the feature's (P = n/B unless
    ``steps_per_epoch`` is given). ``overlapping`` is True for supports drawn independently per
    sample (Def. 3.1, the data's default; the competition vanishes smoothly as n s / d -> 0) and
    False for supports made pairwise disjoint (``supports="disjoint"`` of the data), which drops it.
    """
    _check_race(params)
    constants = constants or HiddenConstants()
    P = params.steps_per_epoch if steps_per_epoch is None else steps_per_epoch
    if not P > 0:
        raise ParameterError("steps_per_epoch", P, "P > 0")
    spread = float(PERIODIC_SPIKE_STEP_SUM.at(params, P=P)) if params.kind.has_moments else 1.0
    kappa = competition(params, constants, P) if overlapping else 1.0
    return constants.batch_race * kappa * spread * float(EXPECTED_NOISE_L1.at(params)) / P


def _within_spread(margin: np.ndarray | float, spread: float) -> np.ndarray:
    """P(spread |eps| < margin), eps ~ N(0, 1): 2 Phi(margin / spread) - 1 for a positive margin
    (log R over the ratio a head needs), 0 otherwise; spread > 0."""
    margin = np.asarray(margin, dtype=float)
    return np.where(margin > 0, 2 * special.ndtr(np.maximum(margin, 0) / spread) - 1, 0.0)


#: Quantiles of gamma0 a spread race averages over (midpoints in u = Phi(M)^m, M the largest of m
#: standard normals): with C_race_spread > 0 the integrand is smooth in u.
INIT_QUANTILES = 256


@dataclasses.dataclass(frozen=True)
class _ClassFlips:
    """The arguments of :func:`theorykit.class_flip.flipped_classes` at one race, or None where no
    class flips: A infinite, a horizon the feature needs to leave its start, or one before Stage
    I's end (the data are not fitted, and a class would flip on its initial filters alone)."""

    arguments: tuple[int, float, float, float, float, float, float, float] | None

    def probabilities(self) -> tuple[float, float, float]:
        """(P(0), P(1), P(2)) flipped classes."""
        return (1.0, 0.0, 0.0) if self.arguments is None else flipped_classes(*self.arguments)


@dataclasses.dataclass(frozen=True)
class Race:
    """The race at one setting: R (with Adam's step amplification, R a_n / a_f), the reversal
    ratio A, the horizon's ratio A_T, the reversal time (iterations, None when R <= A: the linear
    race's, eps = 0), the probability that one head's feature reverses within the horizon, over
    gamma0 and the spread of R, Stage I's length T0 (iterations, :data:`RACE_STAGE1_LENGTH`),
    Adam's step amplification a_f of the feature and a_n of the noise (1 for sign steps), and the
    probabilities that 0, 1 and 2 classes' test points flip within the horizon (test error about
    0, 1/2, 1; :func:`theorykit.class_flip.flipped_classes`; all docs/notes/overlap.md §5, §8, §9
    and the module docstring)."""

    rate_ratio: float
    reversal_ratio: float
    horizon_ratio: float
    reversal_time: float | None
    reversal_probability: float
    stage1_length: float
    feature_amplification: float
    noise_amplification: float
    _flips: _ClassFlips = dataclasses.field(repr=False, compare=False)

    @functools.cached_property
    def flipped_classes(self) -> tuple[float, float, float]:
        """Probabilities that 0, 1 and 2 classes' test points flip within the horizon
        (:func:`theorykit.class_flip.flipped_classes`; computed when first asked for)."""
        return self._flips.probabilities()

    def memorisation_probability(self, seeds: int = 1) -> float:
        """Probability that at least one of ``seeds`` runs misclassifies a class's test points
        within the horizon (:func:`theorykit.class_flip.flipped_classes`: test error about 1/2 or
        more, which the CNN calls memorising noise)."""
        return 1.0 - self.flipped_classes[0] ** seeds

    def reversed_heads(self) -> tuple[float, float, float]:
        """Probabilities that 0, 1 and 2 of a run's heads reverse within the horizon (independent
        heads): test error about 0, 1/2 and 1 (notes §3)."""
        p = self.reversal_probability
        return (1.0 - p) ** 2, 2.0 * p * (1.0 - p), p**2


@dataclasses.dataclass(frozen=True)
class _RaceStart:
    """What the race at a setting and horizon does not take from P = n/B: the reversal ratio A,
    the best filter's gamma0 (Lemma A.3), rho0 (:data:`INITIAL_NOISE_LEVEL`) and the horizon T
    (iterations)."""

    reversal_ratio: float
    gamma0: float
    rho0: float
    horizon: float

    @classmethod
    def of(cls, params: ProblemParams, horizon: float | None) -> _RaceStart:
        """At ``params`` over ``horizon`` iterations (default: ``params.iterations``)."""
        values = params.formula_values()
        horizon = params.iterations if horizon is None else horizon
        rho0 = float(INITIAL_NOISE_LEVEL(sigma0=params.sigma0, noise_norm=values["noise_norm"]))
        return cls(reversal_ratio(params), values["gamma0"], rho0, horizon)

    def usable(self, feature_rate: float) -> float:
        """rate T - gamma0: the feature's rise over the horizon at ``feature_rate`` per iteration
        less its start (it needs gamma0 / rate to fall back through 0)."""
        return feature_rate * self.horizon - self.gamma0


def _amplified(
    params: ProblemParams,
    constants: HiddenConstants | None,
    steps_per_epoch: float | None,
    overlapping: bool,
    start: _RaceStart,
) -> tuple[float, float, float]:
    """(R a_n / a_f, a_f, a_n) at P = ``steps_per_epoch``, R of :func:`rate_ratio`: Adam's step
    amplification on the growing feature (a_f, from gamma0 at eta) and noise (a_n, from rho0 at
    R eta) coefficients (:func:`theorykit.step_amplification.growth_amplification`) over Stage I
    -- its length :data:`RACE_STAGE1_LENGTH` at the sign-step rates eta and R, or the horizon if
    shorter -- and the rate ratio they leave; (R, 1, 1) for the sign steps, which have no
    moments."""
    R = rate_ratio(params, constants, steps_per_epoch, overlapping)
    if not params.kind.has_moments:
        return R, 1.0, 1.0
    stage1 = float(RACE_STAGE1_LENGTH(m=params.m, q=params.q, eta=params.eta, rate_ratio=R))
    shape = (params.q, params.beta1, params.beta2, params.bias_correction)
    window = min(stage1, start.horizon)
    feature = growth_amplification(start.gamma0, params.eta, *shape, window)
    noise = growth_amplification(start.rho0, R * params.eta, *shape, window)
    return R * noise / feature, feature, noise


def race(
    params: ProblemParams,
    constants: HiddenConstants | None = None,
    steps_per_epoch: float | None = None,
    overlapping: bool = True,
    horizon: float | None = None,
) -> Race:
    """The :class:`Race` at ``params`` over ``horizon`` iterations (default: its
    ``epochs * iterations_per_epoch``)."""
    return _race(params, constants, steps_per_epoch, overlapping, _RaceStart.of(params, horizon))


def _race(
    params: ProblemParams,
    constants: HiddenConstants | None,
    steps_per_epoch: float | None,
    overlapping: bool,
    start: _RaceStart,
) -> Race:
    """:func:`race` from its P-independent part ``start``, which a search over P computes once."""
    constants = constants or HiddenConstants()
    R, feature, noise = _amplified(params, constants, steps_per_epoch, overlapping, start)
    sigma0, eta = params.sigma0, params.eta * feature
    A, gamma0, rho0, usable = start.reversal_ratio, start.gamma0, start.rho0, start.usable(eta)
    threshold = A + 2 * (A * gamma0 - rho0) / usable if usable > 0 else math.inf
    spread = constants.race_spread
    reversal = (A * gamma0 - rho0) / (eta * (R - A)) if R > A else None  # RACE_REVERSAL_TIME
    stage1 = float(RACE_STAGE1_LENGTH(m=params.m, q=params.q, eta=eta, rate_ratio=R))
    amplification = (feature, noise)
    if usable <= 0 or math.isinf(A):
        return Race(R, A, threshold, reversal, 0.0, stage1, *amplification, _ClassFlips(None))
    # Before Stage I's end the data are not fitted (dynamics.outcomes: a run memorises only once
    # fitted), and a class "flips" on its initial filters alone: no class flips before T0.
    fitted = start.horizon >= stage1
    flips = _ClassFlips(
        (params.m, sigma0, R, A, rho0, eta, start.horizon, spread) if fitted else None
    )
    if spread == 0:
        z = ((R - A) * usable / 2 + rho0) / (A * sigma0)
        probability = float(special.ndtr(z) ** params.m) if R > A else 0.0
        return Race(R, A, threshold, reversal, probability, stage1, *amplification, flips)
    # A head reverses when log R - spread |eps| exceeds log max(A, A_T(gamma0)), gamma0 = sigma0 M.
    gamma = _gamma0_quantiles(params)
    margin = np.log(R / _needed_ratio(A, gamma, rho0, usable))
    probability = float(np.mean(_within_spread(margin, spread)))
    return Race(R, A, threshold, reversal, probability, stage1, *amplification, flips)


#: Quantiles of |eps| (the spread of R over heads) that :func:`reversal_time_band` and
#: :func:`median_reversal_time` average over, beside gamma0's :data:`INIT_QUANTILES`.
SPREAD_QUANTILES = 256


def reversal_time_band(
    params: ProblemParams,
    constants: HiddenConstants | None = None,
    steps_per_epoch: float | None = None,
    overlapping: bool = True,
    horizon: float | None = None,
) -> tuple[float, float] | None:
    """The spread over seeds of a head's reversal time: the :data:`BAND_LEVELS` (0.1 and 0.9)
    quantiles of t_r over the heads that reverse within ``horizon``
    (:func:`_reversing_head_times`). None where no head reverses within the horizon. Arguments
    as for :func:`race`."""
    times = _reversing_head_times(params, constants, steps_per_epoch, overlapping, horizon)
    if times is None:
        return None
    low, high = np.quantile(times, BAND_LEVELS)
    return float(low), float(high)


def median_reversal_time(
    params: ProblemParams,
    constants: HiddenConstants | None = None,
    steps_per_epoch: float | None = None,
    overlapping: bool = True,
    horizon: float | None = None,
) -> float | None:
    """The median over seeds of a reversing head's reversal time (iterations): the 0.5 quantile
    of t_r over the heads that reverse within ``horizon`` (:func:`_reversing_head_times`), the
    point prediction of a median over seeds of the CNN's T_r. It lies above :class:`Race`'s
    ``reversal_time`` (the linear race's head, eps = 0: the fastest typical one, since the
    spread only slows a head) wherever C_race_spread > 0. None where no head reverses within the
    horizon. Arguments as for :func:`race`."""
    times = _reversing_head_times(params, constants, steps_per_epoch, overlapping, horizon)
    return None if times is None else float(np.median(times))


def _reversing_head_times(
    params: ProblemParams,
    constants: HiddenConstants | None,
    steps_per_epoch: float | None,
    overlapping: bool,
    horizon: float | None,
) -> np.ndarray | None:
    """t_r (:data:`RACE_REVERSAL_TIME`) of every head of the race's grid that reverses within
    ``horizon``, equally weighted: each head with its own gamma0 = sigma0 M
    (:data:`INIT_QUANTILES`) and rate ratio R e^{-C_race_spread |eps|} (:data:`SPREAD_QUANTILES`
    of |eps|; gamma0 alone where C_race_spread = 0). A head whose ratio rho0/gamma0 already
    exceeds A falls from the start: its t_r is 0 (the linear race's root then lies before the
    start). None where no head reverses within the horizon."""
    start = _RaceStart.of(params, horizon)
    A, rho0 = start.reversal_ratio, start.rho0
    if math.isinf(A):
        return None
    constants = constants or HiddenConstants()
    R, feature, _ = _amplified(params, constants, steps_per_epoch, overlapping, start)
    eta = params.eta * feature
    usable = start.usable(eta)
    if usable <= 0:
        return None
    gamma = _gamma0_quantiles(params)[:, None]
    spread = constants.race_spread
    if spread > 0:
        v = (np.arange(SPREAD_QUANTILES) + 0.5) / SPREAD_QUANTILES
        head_ratio = R * np.exp(-spread * special.ndtri((1 + v) / 2))[None, :]
    else:
        head_ratio = np.full((1, 1), R)
    reverses = head_ratio > _needed_ratio(A, gamma, rho0, usable)  # so head_ratio > A there
    if not reverses.any():
        return None
    with np.errstate(divide="ignore", invalid="ignore"):
        times = np.maximum((A * gamma - rho0) / (eta * (head_ratio - A)), 0.0)
    return np.broadcast_to(times, reverses.shape)[reverses]


def _gamma0_quantiles(params: ProblemParams) -> np.ndarray:
    """gamma0 = sigma0 M at the :data:`INIT_QUANTILES` midpoints of u = Phi(M)^m."""
    u = (np.arange(INIT_QUANTILES) + 0.5) / INIT_QUANTILES
    return params.sigma0 * special.ndtri(u ** (1 / params.m))


def _needed_ratio(A: float, gamma: np.ndarray, rho0: float, usable: float) -> np.ndarray:
    """The rate ratio a head with start ``gamma`` needs to reverse within the horizon: the larger
    of A and :data:`HORIZON_RATIO` (``usable`` = eta T - gamma0 > 0 of the setting's gamma0)."""
    return np.maximum(A, A + 2 * (A * gamma - rho0) / usable)


def critical_batch_size(
    params: ProblemParams,
    constants: HiddenConstants | None = None,
    seeds: int = 2,
    overlapping: bool = True,
    horizon: float | None = None,
    level: float = 0.5,
) -> float:
    """B* = n / P*: the batch size from which at least one of ``seeds`` runs memorises noise with
    probability ``level`` (1/2: Thm 4.1/4.4 rather than 4.2/4.5) within ``horizon`` iterations,
    kept fixed as B varies (default: ``params.iterations``, the horizon at ``params.B``).
    ``overlapping`` as for :func:`rate_ratio`.

    The memorisation probability increases as P = n/B falls (R grows like S(P)/P); the root of
    probability - level in log P is found by Brent's method on P in [10^-3, 10^6]. Not rounded, not
    clipped (see the module docstring): n / P for P outside [1, n] is returned as computed; inf
    when no P in that interval memorises, 0 when every one does."""
    if not 0 < level < 1:
        raise ParameterError("level", level, "a probability strictly between 0 and 1")
    start = _RaceStart.of(params, horizon)  # P-independent: once for the whole search

    def excess(log_p: float) -> float:
        at = _race(params, constants, math.exp(log_p), overlapping, start)
        return at.memorisation_probability(seeds) - level

    low, high = math.log(1e-3), math.log(1e6)
    if excess(low) <= 0:
        return math.inf  # not even B = 1000 n memorises
    if excess(high) > 0:
        return 0.0  # even B = n / 10^6 memorises
    return params.n / math.exp(optimize.brentq(excess, low, high, xtol=1e-5))


#: The memorisation probabilities of one run that bound :func:`critical_batch_band`.
BAND_LEVELS = (0.1, 0.9)


def critical_batch_band(
    params: ProblemParams,
    constants: HiddenConstants | None = None,
    overlapping: bool = True,
    horizon: float | None = None,
) -> tuple[float, float]:
    """The batch sizes at which one run memorises within ``horizon`` iterations with probability
    0.1 and 0.9 (:data:`BAND_LEVELS`; :func:`critical_batch_size` with ``seeds`` = 1): inside the
    band the spread over seeds decides the outcome (two runs at one B may end one each way),
    below it nearly every seed learns the feature, above it nearly every seed memorises. The
    narrow race (C_race_spread = 0) leaves gamma0's spread only, a thin band."""
    low, high = BAND_LEVELS
    return (
        critical_batch_size(params, constants, 1, overlapping, horizon, low),
        critical_batch_size(params, constants, 1, overlapping, horizon, high),
    )


def asymptotic_critical_batch_size(
    params: ProblemParams,
    constants: HiddenConstants | None = None,
    overlapping: bool = True,
    seeds: int = 2,
) -> float:
    """B*_inf: the batch size from which a class flips at *some* horizon, with the probability
    rule of :func:`critical_batch_size` (its limit as the horizon grows): at least one of
    ``seeds`` runs has a class that flips at every long enough horizon
    (:func:`theorykit.class_flip.flipped_classes` at T = inf) with probability 1/2 -- a head with
    R e^{-C_race_spread |eps|} > A (its best filter reverses), or one whose best filter starts
    below rho0 / A. Below it no class flips (with probability 1/2); between it and
    :func:`critical_batch_size` one does, but after the horizon. inf when no P in [10^-3, 10^6]
    gets there (alpha = 0 included), 0 when every one does."""
    A = reversal_ratio(params)
    if math.isinf(A):
        return math.inf
    constants = constants or HiddenConstants()
    start = _RaceStart.of(params, math.inf)  # Adam's amplification over all of Stage I

    def excess(log_p: float) -> float:
        R = _amplified(params, constants, math.exp(log_p), overlapping, start)[0]
        unflipped = flipped_classes(
            params.m, params.sigma0, R, A, start.rho0, params.eta, math.inf, constants.race_spread
        )[0]
        return 0.5 - unflipped**seeds

    low, high = math.log(1e-3), math.log(1e6)
    if excess(low) <= 0:
        return math.inf
    if excess(high) > 0:
        return 0.0
    return params.n / math.exp(optimize.brentq(excess, low, high, xtol=1e-5))
