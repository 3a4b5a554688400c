"""The weight-decay (lambda) and batch-size bounds of Tang et al. 2025.

Two kinds of statement live here.

**Asymptotic statements** (:class:`Bound`): the theorems' conditions, with every hidden constant a
named sympy symbol (``theorykit.symbols.HIDDEN_CONSTANTS``, default value 1 in
:class:`HiddenConstants`). At a finite setting, ``lam = o(f)`` is read as ``lam <= C f``,
``lam = omega(f)`` / ``Omega~(f)`` as ``lam >= C f``, ``n/B = Theta(1)`` as ``n/B <= C``; the
constant is exposed so that a user can ask how the verdict moves with it.

* Thm 4.1/4.2 (Adam admissible): lam = o(sigma0^{q-2} sigma_p / n)
* Cor 4.3 (Adam stuck at initialisation): lam = omega(sigma0^{q-2})
* Thm 4.4/4.5, Cor 4.6 (AdamW window): Omega~(B^2/n ^ 1) <= lam <= O~(1)
* batch regimes: n/B = Theta(1) (Thm 4.1, 4.4), n/B >= Theta(log 1/eps) (Thm 4.2, 4.5),
  n/B = omega(s sigma_p v sqrt n) (Thm 4.5), n/B = o(s sigma_p) (Thm 4.4)

**Finite-size thresholds** (``LAMBDA_STAR_ADAM``, ``LAMBDA_STAR_ADAMW``): explicit predictions of
the lam above which the feature coefficient cannot grow from initialisation. Derivation (Lemma A.7
at t = 0, as in the proofs of Lemma C.10/B.5):

1. At t = 0 the two heads' outputs are O(m sigma0^q) apart, so |ell_{j,i}^(0)| = 1/2 (Lemma A.3:
   Theta(1); the value 1/2 is its leading order).
2. For the best filter of head j, gamma0 = max_r <w^(0)_{j,r}, j v> (``theorykit.initialization``),
   the batch-mean feature drive (``updates.FEATURE_DRIVE_PER_SAMPLE`` averaged over the batch and
   over the initialisation) is ``D0 = |ell0| [ (1/2) q gamma0^{q-1} - alpha q (sigma0
   noise_norm)^{q-1} M_{q-1} ]``: half of the samples have y_i = j and feed sigma'(gamma0); every
   sample feeds the feature-noise term through xi_i[1] = -alpha y_i with rho^(0) ~ N(0, sigma0^2
   noise_norm^2), and E[sigma'(rho^(0))] = q (sigma0 noise_norm)^{q-1} M_{q-1}, M_k = E[max(Z,
   0)^k]. (Adam's beta1 averages over ~1/(1-beta1) batches, so the batch mean, not one batch, sets
   the sign.)
3. Adam (L2 inside the normalisation, (3.3)-(3.5)) moves gamma by +-eta along sgn(D0 - lam gamma0)
   (Lemma C.2), so the feature grows iff lam < D0 / gamma0 =: lambda*_Adam. Above it gamma shrinks,
   gamma^{q-2} shrinks with it and the inequality only worsens: training is stuck (Cor. 4.3). The
   scale is (q/4) gamma0^{q-2} ~ sigma0^{q-2}, Cor. 4.3's.
4. AdamW ((3.6)) moves gamma by eta u - eta lam gamma0 with the normalised step
   u = D0 / (|D0| + eps) (the steady state m = g, v = g^2 of a constant gradient), so the feature
   grows iff lam < u / gamma0 =: lambda*_AdamW ~ 1/sigma0, a constant-order window as in Cor. 4.6.

A negative threshold means the feature-noise term already wins at initialisation: no lam >= 0 lets
the feature grow. Thresholds are not clamped, and none is compared where it is not a positive finite
number (:func:`readable_threshold`; q >~ 12.5 at the paper's setting makes lambda*_Adam negative):
the comparison is not made, the threshold prints as n/a and the verdict says why.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Literal, NamedTuple

import sympy as sp

from theorykit import symbols as S
from theorykit.constants import HiddenConstants
from theorykit.formula import Formula
from theorykit.initialization import positive_part_moment
from theorykit.optimizers import optimizer_kind
from theorykit.setting import Setting

ABS_ELL_AT_INIT = sp.Rational(1, 2)

FEATURE_DRIVE_AT_INIT = Formula(
    "feature_drive_at_init",
    ABS_ELL_AT_INIT
    * (
        S.q * S.gamma0 ** (S.q - 1) / 2
        - S.alpha * S.q * (S.sigma0 * S.noise_norm) ** (S.q - 1) * positive_part_moment(S.q - 1)
    ),
    "Lemma A.7 (k = 1) at t = 0, averaged over the batch and the initialisation, for the best "
    "filter gamma0; |ell^(0)| = 1/2 (Lemma A.3)",
)

LAMBDA_STAR_ADAM = Formula(
    "lambda_star_adam",
    FEATURE_DRIVE_AT_INIT.expr / S.gamma0,
    "finite-size Cor. 4.3: Adam's feature grows from init iff lam < D0/gamma0 (derivation in "
    "theorykit.bounds)",
)

LAMBDA_STAR_ADAMW = Formula(
    "lambda_star_adamw",
    FEATURE_DRIVE_AT_INIT.expr / (sp.Abs(FEATURE_DRIVE_AT_INIT.expr) + S.eps) / S.gamma0,
    "finite-size counterpart for AdamW (3.6): feature grows from init iff lam < u0/gamma0, u0 = "
    "D0/(|D0| + eps)",
)

ADAM_LAMBDA_CEILING = Formula(
    "adam_lambda_ceiling",
    S.C_adam_ceiling * S.sigma0 ** (S.q - 2) * S.sigma_p / S.n,
    "Thm 4.1/4.2: 0 < lam = o(sigma0^{q-2} sigma_p / n), read as lam <= C_adam_ceiling "
    "sigma0^{q-2} sigma_p/n",
)

ADAM_STUCK_FLOOR = Formula(
    "adam_stuck_floor",
    S.C_adam_stuck * S.sigma0 ** (S.q - 2),
    "Cor 4.3: lam = omega(sigma0^{q-2}) => Adam stuck at init, read as lam >= C_adam_stuck "
    "sigma0^{q-2}",
)

ADAMW_LAMBDA_FLOOR = Formula(
    "adamw_lambda_floor",
    S.C_adamw_floor * sp.Min(S.B**2 / S.n, 1),
    "Thm 4.4/4.5, Cor 4.6: lam = Omega~(B^2/n ^ 1), read as lam >= C_adamw_floor min(B^2/n, 1)",
)

ADAMW_LAMBDA_CEILING = Formula(
    "adamw_lambda_ceiling",
    S.C_adamw_ceiling * sp.Integer(1),
    "Thm 4.4/4.5, Cor 4.6: lam = O~(1), read as lam <= C_adamw_ceiling",
)

STEPS_PER_EPOCH = Formula("steps_per_epoch", S.n / S.B, "n/B iterations per epoch (Sec. 3)")

LARGE_BATCH_CEILING = Formula(
    "large_batch_ceiling",
    S.C_large_batch * sp.Integer(1),
    "Thm 4.1/4.4: n/B = Theta(1), read as n/B <= C_large_batch",
)

MINI_BATCH_FLOOR = Formula(
    "mini_batch_floor",
    S.C_mini_batch * sp.log(1 / S.eps),
    "Thm 4.2/4.5: n/B >= Theta(log 1/eps), read as n/B >= C_mini_batch log(1/eps) (eps: Adam's "
    "stability constant)",
)

ADAMW_MINI_BATCH_FLOOR = Formula(
    "adamw_mini_batch_floor",
    S.C_adamw_mini_batch * sp.Max(S.s * S.sigma_p, sp.sqrt(S.n)),
    "Thm 4.5: n/B = omega(s sigma_p v n^{1/2}), read as n/B >= C_adamw_mini_batch max(s sigma_p, "
    "sqrt n)",
)

ADAMW_LARGE_BATCH_CEILING = Formula(
    "adamw_large_batch_ceiling",
    S.s * S.sigma_p / S.C_adamw_mini_batch,
    "Thm 4.4: n/B = o(s sigma_p), read as n/B < s sigma_p / C_adamw_mini_batch",
)


def readable_threshold(value: float) -> bool:
    """True where ``value`` can be compared with: a positive finite number. Every lambda and
    batch-size threshold of the theorems (Thms 4.1-4.5, Cor 4.3/4.6 and their finite-size
    readings) is positive by construction; 0, a negative number, inf or NaN means float64 or the
    model has left its range at this setting, and no verdict is read from it."""
    return math.isfinite(value) and value > 0


def threshold_text(value: float | None, digits: str = ".4g") -> str:
    """A threshold as printed: the number where :func:`readable_threshold`, else ``n/a`` with the
    value it took."""
    if value is None:
        return "n/a"
    if readable_threshold(value):
        return f"{value:{digits}}"
    return f"n/a ({value:{digits}}, not a positive finite number)"


def unreadable_reason(name: str, value: float) -> str:
    """Why a verdict that needs the threshold ``name`` is not given."""
    return f"{name} is not a positive finite number at this setting ({value:.3g})"


class Evaluation(NamedTuple):
    """A :class:`Bound` at one setting: the quantity, its threshold(s) and the verdict.
    ``readable`` is False where a threshold of a bound that needs a positive one is not a positive
    finite number; ``holds`` is then False and means nothing."""

    quantity: float
    threshold: float
    holds: bool
    lower: float | None = None
    readable: bool = True


@dataclasses.dataclass(frozen=True)
class Bound:
    """A finite-size reading of one asymptotic statement: ``quantity <relation> threshold``.

    ``relation`` is ``"<="``, ``">="``, ``"<"``, or ``"between"`` (``lower <= quantity <=
    threshold``, the reading of a Theta(.) statement). ``positive_threshold``: the threshold is a
    lambda or batch-size scale of the theorems, positive by construction, so a value that is not
    a positive finite number (:func:`readable_threshold`) is not compared with.
    """

    name: str
    statement: str
    quantity: Formula
    relation: Literal["<=", ">=", "<", "between"]
    threshold: Formula
    lower: Formula | None = None
    positive_threshold: bool = False

    def evaluate(self, params: Setting, constants: HiddenConstants | None = None) -> Evaluation:
        """The quantity, threshold(s) and verdict at ``params``."""
        values = (constants or HiddenConstants()).symbol_values()
        quantity = float(self.quantity.at(params, **values))
        threshold = float(self.threshold.at(params, **values))
        lower = None
        if self.relation == "between":
            if self.lower is None:
                raise ValueError(f"bound {self.name!r}: relation 'between' needs a lower threshold")
            lower = float(self.lower.at(params, **values))
        limits = (threshold,) if lower is None else (lower, threshold)
        if self.positive_threshold and not all(readable_threshold(limit) for limit in limits):
            return Evaluation(quantity, threshold, False, lower, readable=False)
        if lower is not None:
            return Evaluation(quantity, threshold, lower <= quantity <= threshold, lower)
        holds = {
            "<=": quantity <= threshold,
            ">=": quantity >= threshold,
            "<": quantity < threshold,
        }[self.relation]
        return Evaluation(quantity, threshold, holds)

    def unreadable_reason(self, evaluation: Evaluation) -> str:
        """Why ``evaluation`` (not readable) gives no verdict, naming the statement."""
        value = evaluation.threshold
        if evaluation.lower is not None and not readable_threshold(evaluation.lower):
            value = evaluation.lower
        return unreadable_reason(f"the threshold of {self.statement.split('  [')[0]}", value)


_LAM = Formula("lam", S.lam, "weight decay")

ADAM_ADMISSIBLE = Bound(
    "adam_admissible",
    "lam = o(sigma0^{q-2} sigma_p / n)  [Thm 4.1/4.2]",
    _LAM,
    "<=",
    ADAM_LAMBDA_CEILING,
    positive_threshold=True,
)
ADAM_STUCK = Bound(
    "adam_stuck",
    "lam = omega(sigma0^{q-2})  [Cor 4.3]",
    _LAM,
    ">=",
    ADAM_STUCK_FLOOR,
    positive_threshold=True,
)
ADAMW_ABOVE_FLOOR = Bound(
    "adamw_above_floor",
    "lam = Omega~(B^2/n ^ 1)  [Thm 4.4/4.5]",
    _LAM,
    ">=",
    ADAMW_LAMBDA_FLOOR,
    positive_threshold=True,
)
ADAMW_BELOW_CEILING = Bound(
    "adamw_below_ceiling",
    "lam = O~(1)  [Thm 4.4/4.5]",
    _LAM,
    "<=",
    ADAMW_LAMBDA_CEILING,
    positive_threshold=True,
)
LARGE_BATCH = Bound(
    "large_batch",
    "n/B = Theta(1)  [Thm 4.1/4.4]",
    STEPS_PER_EPOCH,
    "<=",
    LARGE_BATCH_CEILING,
    positive_threshold=True,
)
MINI_BATCH = Bound(
    "mini_batch",
    "n/B >= Theta(log 1/eps)  [Thm 4.2/4.5]",
    STEPS_PER_EPOCH,
    ">=",
    MINI_BATCH_FLOOR,
    positive_threshold=True,
)
ADAMW_MINI_BATCH = Bound(
    "adamw_mini_batch",
    "n/B = omega(s sigma_p v sqrt n)  [Thm 4.5]",
    STEPS_PER_EPOCH,
    ">=",
    ADAMW_MINI_BATCH_FLOOR,
    positive_threshold=True,
)
ADAMW_LARGE_BATCH = Bound(
    "adamw_large_batch",
    "n/B = o(s sigma_p)  [Thm 4.4]",
    STEPS_PER_EPOCH,
    "<",
    ADAMW_LARGE_BATCH_CEILING,
    positive_threshold=True,
)

GD_SNR = Formula(
    "gd_snr",
    1 / (sp.sqrt(S.s) * S.sigma_p),
    "Zou et al. 2023 (Zou notes §5): SNR = ||v||_2 / ||xi||_2 = 1 / (sqrt(s) sigma_p) for the "
    "s-sparse noise patch",
)
GD_FEATURE_RACE = Formula(
    "gd_feature_race",
    S.n * GD_SNR.expr**S.q,
    "Zou et al. 2023 / Cao et al. 2022: n SNR^q, the ratio of GD's feature to noise tensor-power "
    "growth rates",
)
GD_RACE_THRESHOLD = Formula(
    "gd_race_threshold",
    sp.Integer(2),
    "Zou notes §5 [D]: GD's feature blows up first (t*_gamma < t*_rho) iff n SNR^q >~ 2",
)
GD_LEARNS_FEATURE = Bound(
    "gd_learns_feature",
    "n SNR^q >~ 2  [Zou et al. 2023, GD]",
    GD_FEATURE_RACE,
    ">=",
    GD_RACE_THRESHOLD,
    positive_threshold=True,
)


def batch_regime(params: Setting, constants: HiddenConstants | None = None) -> str:
    """``"large-batch"``, ``"mini-batch"`` or ``"intermediate"`` for the Adam or AdamW theorems.

    Adam family (adam, signsgd): large iff n/B = Theta(1) (Thm 4.1); mini iff n/B >= Theta(log
    1/eps) (Thm 4.2). AdamW family (adamw, signsgdw): large iff n/B = Theta(1) or n/B = o(s sigma_p)
    (Thm 4.4); mini iff n/B >= Theta(log 1/eps) and n/B = omega(s sigma_p v sqrt n) (Thm 4.5).
    ``gd`` is read with the Adam-family batch conditions. "intermediate" means no theorem covers it.
    """

    def holds(bound: Bound) -> bool:
        return bound.evaluate(params, constants).holds

    if optimizer_kind(params.optimizer).family == "adamw":
        if holds(LARGE_BATCH) or holds(ADAMW_LARGE_BATCH):
            return "large-batch"
        return "mini-batch" if holds(MINI_BATCH) and holds(ADAMW_MINI_BATCH) else "intermediate"
    if holds(LARGE_BATCH):
        return "large-batch"
    return "mini-batch" if holds(MINI_BATCH) else "intermediate"


#: The lambda regime where a threshold it needs is not a positive finite number.
UNREADABLE_REGIME = "undetermined"


def _lambda_bounds(family: str | None) -> tuple[Bound, ...]:
    return {
        "adam": (ADAM_STUCK, ADAM_ADMISSIBLE),
        "adamw": (ADAMW_ABOVE_FLOOR, ADAMW_BELOW_CEILING),
    }.get(family or "", ())


def lambda_regime(params: Setting, constants: HiddenConstants | None = None) -> str:
    """Where ``params.lam`` sits relative to the theorems' lambda statements for its optimiser.

    Adam family: "admissible" (Thm 4.1/4.2), "stuck" (Cor 4.3) or "gap" (between the two, where no
    statement applies). AdamW family: "window" (Thm 4.4/4.5), "below window", "above window".
    GD: "n/a" (Tang et al. make no GD statement). "undetermined" (:data:`UNREADABLE_REGIME`) where
    a threshold the reading needs is not a positive finite number (:func:`readable_threshold`).
    """
    family = optimizer_kind(params.optimizer).family
    if family == "adam":
        stuck = ADAM_STUCK.evaluate(params, constants)
        if stuck.readable and stuck.holds:  # Cor 4.3 needs its floor only
            return "stuck"
        admissible = ADAM_ADMISSIBLE.evaluate(params, constants)
        if not (stuck.readable and admissible.readable):
            return UNREADABLE_REGIME
        return "admissible" if admissible.holds else "gap"
    if family == "adamw":
        floor = ADAMW_ABOVE_FLOOR.evaluate(params, constants)
        ceiling = ADAMW_BELOW_CEILING.evaluate(params, constants)
        if not (floor.readable and ceiling.readable):
            return UNREADABLE_REGIME
        if not floor.holds:
            return "below window"
        return "window" if ceiling.holds else "above window"
    return "n/a"


#: (family, batch regime, lambda regime) -> (outcome class, the theorem's words).
_OUTCOMES = {
    ("adam", "large-batch", "admissible"): (
        "memorises noise",
        "train error 0, test error >= 1/2 - o(1)  [Thm 4.1]",
    ),
    ("adam", "mini-batch", "admissible"): (
        "learns feature",
        "train error 0, test error o(1)  [Thm 4.2]",
    ),
    ("adamw", "large-batch", "window"): (
        "memorises noise",
        "train error 0, test error >= 1/2 - o(1)  [Thm 4.4]",
    ),
    ("adamw", "mini-batch", "window"): (
        "learns feature",
        "train error 0, test error o(1)  [Thm 4.5]",
    ),
}


def theorem_outcome(
    params: Setting, constants: HiddenConstants | None = None
) -> tuple[str | None, str]:
    """(outcome class, words) of the theorem that applies at ``params``: the class is one of
    ``dynamics.outcomes``' labels (learns feature, memorises noise, stuck), None where no theorem
    applies (the words then say which condition fails, :func:`why_no_theorem`).

    Reads :func:`batch_regime` and :func:`lambda_regime` together: Cor 4.3's "stuck at
    initialisation" holds in either batch regime; Thms 4.1/4.2/4.4/4.5 need both their batch and
    their lambda condition. GD: the n SNR^q race of Zou et al. 2023.
    """
    family = optimizer_kind(params.optimizer).family
    if family is None:
        gd_race = GD_LEARNS_FEATURE.evaluate(params, constants)
        if not gd_race.readable or math.isnan(gd_race.quantity):
            reason = (
                GD_LEARNS_FEATURE.unreadable_reason(gd_race)
                if not gd_race.readable
                else "n SNR^q is not a number at this setting"
            )
            return None, f"no theorem applies: {reason}"
        if gd_race.holds:
            return (
                "learns feature",
                "GD learns the feature: test error o(1)  [Zou et al. 2023, n SNR^q >= 2]",
            )
        return (
            "memorises noise",
            "GD memorises noise: n SNR^q < 2  [Zou et al. 2023 / Cao et al. 2022]",
        )
    regime, lam_regime = batch_regime(params, constants), lambda_regime(params, constants)
    if family == "adam" and lam_regime == "stuck":
        return "stuck", "training stuck at initialisation  [Cor 4.3]"
    found = _OUTCOMES.get((family, regime, lam_regime))
    return found or (None, f"no theorem applies: {why_no_theorem(params, constants)}")


def predicted_outcome(params: Setting, constants: HiddenConstants | None = None) -> str:
    """The theorem that applies at ``params`` and what it predicts, or why none applies: the words
    of :func:`theorem_outcome`."""
    return theorem_outcome(params, constants)[1]


def _failing(bound: Bound, params: Setting, constants: HiddenConstants | None) -> str:
    at = bound.evaluate(params, constants)
    if not at.readable:
        return bound.unreadable_reason(at)
    return f"{bound.statement.split('  [')[0]} fails ({at.quantity:.3g} vs {at.threshold:.3g})"


def why_no_theorem(params: Setting, constants: HiddenConstants | None = None) -> str:
    """Which of the Adam or AdamW theorems' conditions fail at ``params``, with the numbers: the
    batch regime's (Thm 4.1/4.2/4.4/4.5) and the lambda statement's (Thm 4.1/4.2, Cor 4.3 or the
    AdamW window of Thm 4.4/4.5); a threshold that is not a positive finite number is named as
    such, never compared."""
    family = optimizer_kind(params.optimizer).family
    reasons = []
    if batch_regime(params, constants) == "intermediate":
        large = _failing(LARGE_BATCH, params, constants)
        mini = [
            _failing(bound, params, constants)
            for bound in (MINI_BATCH, *((ADAMW_MINI_BATCH,) if family == "adamw" else ()))
            if not bound.evaluate(params, constants).holds
        ]
        reasons.append(f"B neither large ({large}) nor mini ({'; '.join(mini)})")
    lam_regime = lambda_regime(params, constants)
    if lam_regime == "gap":
        admissible = ADAM_ADMISSIBLE.evaluate(params, constants).threshold
        stuck = ADAM_STUCK.evaluate(params, constants).threshold
        reasons.append(
            f"lam = {params.lam:g} lies between Thm 4.1/4.2's o(sigma0^(q-2) sigma_p/n) = "
            f"{admissible:.3g} and Cor 4.3's omega(sigma0^(q-2)) = {stuck:.3g}"
        )
    elif lam_regime == "below window":
        reasons.append(_failing(ADAMW_ABOVE_FLOOR, params, constants))
    elif lam_regime == "above window":
        reasons.append(_failing(ADAMW_BELOW_CEILING, params, constants))
    elif lam_regime == UNREADABLE_REGIME:
        for bound in _lambda_bounds(family):
            at = bound.evaluate(params, constants)
            if not at.readable:
                reasons.append(bound.unreadable_reason(at))
    return "; ".join(reasons) or "the conditions of every theorem hold only in part"
