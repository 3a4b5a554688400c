"""AdamW's collapse threshold at a finite horizon: the lam above which every weight ends below a
tenth of the largest initial one (the collapse rule of ``dynamics.outcomes``).

With decoupled decay (eq. 3.6) the weights do not grow from initialisation and then stop: each
relaxes towards the balance of its normalised step and eta lam w within about 1/(eta lam)
iterations (docs/notes/overlap.md §6; the notes of overlap_and_horizon §4 measured it). The
largest weight at the end of T iterations is the larger of

* the initial weights, decayed: W0 (1 - eta lam)^T, W0 = sigma0 E[max |Z|] over the 2 m d weights
  (``initialization.expected_max_abs_std_normal``);
* the feature coordinate, which the batch gradient pushes the same way every iteration with a
  normalised step u: gamma_T = gamma0 (1 - eta lam)^T + u (1 - (1 - eta lam)^T) / lam, the
  SignSGDW recursion of Lemmas B.6/B.8 (its fixed point u/lam) run for T iterations. The noise
  coordinates, fed once per epoch or with random signs, settle lower.

Collapse therefore needs both lam > ln(10) / (eta T) (the initial weights must have decayed) and
u / lam below W0 / 10 once relaxed: the threshold moves with eta and the horizon, and with
sigma0 only through W0 and gamma0. ``C_adamw_step`` (u, ``HiddenConstants.adamw_step``) is the
normalised step of the feature near collapse (1 for a sign-consistent gradient; calibrated in
``theorykit compare``). The threshold is monotone in lam under this model; the CNN's failure of
training is not (notes on overlap_and_horizon §4), which this threshold does not claim to describe.
"""

from __future__ import annotations

import math

import sympy as sp
from scipy import optimize

from theorykit import symbols as S
from theorykit.constants import HiddenConstants
from theorykit.errors import ParameterError
from theorykit.formula import Formula
from theorykit.initialization import expected_max_abs_std_normal
from theorykit.params import ProblemParams

#: Fraction of the largest initial |weight| below which every weight must end (dynamics.outcomes).
COLLAPSE_FRACTION = sp.Rational(1, 10)

_DECAY_T = (1 - S.eta * S.lam) ** S.horizon

ADAMW_FEATURE_AT_HORIZON = Formula(
    "adamw_feature_at_horizon",
    S.gamma0 * _DECAY_T + S.C_adamw_step * (1 - _DECAY_T) / S.lam,
    "Lemmas B.6/B.8 recursion (1 - eta lam) gamma + eta u for T = horizon iterations from gamma0: "
    "the feature coordinate of AdamW (3.6) with normalised step u = C_adamw_step; fixed point "
    "u/lam",
)

INITIAL_WEIGHTS_AT_HORIZON = Formula(
    "initial_weights_at_horizon",
    S.W0 * _DECAY_T,
    "eq. (3.6): the largest initial |weight| W0 after T = horizon decoupled decays (1 - eta lam)",
)


def largest_initial_weight(params: ProblemParams) -> float:
    """W0 = sigma0 E[max |Z|] over the 2 m d initial weights (Def. 3.2)."""
    return params.sigma0 * expected_max_abs_std_normal(2 * params.m * params.d)


def largest_weight_at_horizon(
    params: ProblemParams, constants: HiddenConstants | None = None, lam: float | None = None
) -> float:
    """max(feature at the horizon, decayed initial weights) at ``params`` (lam, eta and the horizon
    ``epochs * iterations_per_epoch`` included); ``lam`` replaces ``params.lam`` in the formulas
    (the root search of :func:`collapse_threshold`, which may try values no setting holds)."""
    constants = constants or HiddenConstants()
    horizon = params.iterations
    values = {"horizon": horizon, "W0": largest_initial_weight(params), **constants.symbol_values()}
    if lam is not None:
        values["lam"] = lam
    feature = float(ADAMW_FEATURE_AT_HORIZON.at(params, **values))
    initial = float(INITIAL_WEIGHTS_AT_HORIZON.at(params, **values))
    return max(feature, initial)


def collapse_threshold(params: ProblemParams, constants: HiddenConstants | None = None) -> float:
    """The smallest lam at which AdamW collapses within the horizon of ``params`` (every weight
    below W0/10), by Brent's method in log lam on (0, 1/eta); inf when even lam -> 1/eta keeps a
    weight above W0/10 (too short a horizon). ``params.optimizer`` must be decoupled (adamw,
    signsgdw)."""
    if not params.kind.decoupled:
        raise ParameterError(
            "optimizer", params.optimizer, "adamw or signsgdw (decoupled decay, eq. 3.6)"
        )
    bound = float(COLLAPSE_FRACTION) * largest_initial_weight(params)

    def excess(log_lam: float) -> float:
        return largest_weight_at_horizon(params, constants, lam=math.exp(log_lam)) - bound

    # The search starts at lam = 1e-8, or eight decades below 1/eta where that is smaller.
    high = math.log(0.999 / params.eta)
    low = min(math.log(1e-8), high - 8 * math.log(10))
    if excess(high) >= 0:
        return math.inf
    if excess(low) < 0:
        return math.exp(low)
    return math.exp(optimize.brentq(excess, low, high, xtol=1e-12))
