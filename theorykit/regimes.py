"""Which theorem of Tang et al. 2025 applies at a setting, and what it predicts.

:func:`batch_regime` and :func:`lambda_regime` read the setting's B and lam against the theorems'
statements (:mod:`theorykit.theorem_statements`); :func:`theorem_outcome` combines them into the
outcome of the theorem that applies (Thms 4.1/4.2/4.4/4.5, Cor 4.3; GD: the n SNR^q race of Zou et
al. 2023), with the labels of :mod:`theorykit.outcome_labels`, or :func:`why_no_theorem` names the
conditions that fail.
"""

from __future__ import annotations

import math

from theorykit.asymptotic_reading import Bound
from theorykit.constants import HiddenConstants
from theorykit.optimizers import optimizer_kind
from theorykit.outcome_labels import LEARNS, MEMORISES, STUCK
from theorykit.setting import Setting
from theorykit.theorem_statements import (
    ADAM_ADMISSIBLE,
    ADAM_STUCK,
    ADAMW_ABOVE_FLOOR,
    ADAMW_BELOW_CEILING,
    ADAMW_LARGE_BATCH,
    ADAMW_MINI_BATCH,
    GD_LEARNS_FEATURE,
    LARGE_BATCH,
    MINI_BATCH,
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
    a threshold the reading needs is not a positive finite number
    (:func:`theorykit.asymptotic_reading.readable_threshold`).
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
        MEMORISES,
        "train error 0, test error >= 1/2 - o(1)  [Thm 4.1]",
    ),
    ("adam", "mini-batch", "admissible"): (
        LEARNS,
        "train error 0, test error o(1)  [Thm 4.2]",
    ),
    ("adamw", "large-batch", "window"): (
        MEMORISES,
        "train error 0, test error >= 1/2 - o(1)  [Thm 4.4]",
    ),
    ("adamw", "mini-batch", "window"): (
        LEARNS,
        "train error 0, test error o(1)  [Thm 4.5]",
    ),
}


def _gd_outcome(params: Setting, constants: HiddenConstants | None) -> tuple[str | None, str]:
    """GD's outcome by the n SNR^q race of Zou et al. 2023 / Cao et al. 2022."""
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
            LEARNS,
            "GD learns the feature: test error o(1)  [Zou et al. 2023, n SNR^q >= 2]",
        )
    return (
        MEMORISES,
        "GD memorises noise: n SNR^q < 2  [Zou et al. 2023 / Cao et al. 2022]",
    )


def theorem_outcome(
    params: Setting, constants: HiddenConstants | None = None
) -> tuple[str | None, str]:
    """(outcome class, words) of the theorem that applies at ``params``: the class is one of the
    labels of :mod:`theorykit.outcome_labels` (learns feature, memorises noise, stuck), None where
    no theorem applies (the words then say which condition fails, :func:`why_no_theorem`).

    Reads :func:`batch_regime` and :func:`lambda_regime` together: Cor 4.3's "stuck at
    initialisation" holds in either batch regime; Thms 4.1/4.2/4.4/4.5 need both their batch and
    their lambda condition. GD: the n SNR^q race of Zou et al. 2023.
    """
    family = optimizer_kind(params.optimizer).family
    if family is None:
        return _gd_outcome(params, constants)
    regime, lam_regime = batch_regime(params, constants), lambda_regime(params, constants)
    if family == "adam" and lam_regime == "stuck":
        return STUCK, "training stuck at initialisation  [Cor 4.3]"
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
    return f"{bound.short_statement} fails ({at.quantity:.3g} vs {at.threshold:.3g})"


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
