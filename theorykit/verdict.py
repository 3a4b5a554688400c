"""What the finite-size models predict at one setting, where the asymptotic theorems may be silent.

:func:`finite_size_verdict` reads the setting's optimiser, lam, B and horizon T (iterations) against
the finite-size thresholds, in this order:

1. **stuck** -- Adam or SignSGD with L2 above lambda*_Adam (``bounds.LAMBDA_STAR_ADAM``, Cor 4.3 at
   t = 0), or AdamW/SignSGDW above the collapse threshold at its eta and horizon
   (:func:`theorykit.collapse.collapse_threshold`); margin lam / threshold. With L2 decay the
   weights shrink by at most about eta per (sign-type) step, so the collapse rule of
   ``dynamics.outcomes`` cannot be met before ``(1 - 1/10) W0 / eta`` iterations (W0 the largest
   initial weight): a shorter horizon is **undetermined**. A lambda*_Adam that is not a positive
   finite number (negative where the feature-noise term already wins at t = 0, e.g. q >~ 12.5 at
   the paper's setting) is never compared with: the verdict is **undetermined**, naming its value
   (``bounds.readable_threshold``);
2. **memorises noise** -- B at or above the race's B*(T)
   (:func:`theorykit.batch_race.critical_batch_size`: a class's test points flip within T with
   probability 1/2 over two seeds, :mod:`theorykit.class_flip`), margin B / B*(T);
3. **undetermined at this horizon** -- B between the race's B*_inf
   (:func:`theorykit.batch_race.asymptotic_critical_batch_size`, where a class flips at some
   horizon, in the race because a head reverses) and B*(T): the race reverses a head, but the
   reversal has not shown by T (T < 2 t_r + gamma0/(a_f eta), the race's horizon rule with Adam's
   step amplification a_f of the feature, 1 for sign steps). A class can flip before its best filter
   reverses (the other head's negative filters, :mod:`theorykit.class_flip`), but not by T with
   probability 1/2, so neither outcome is called; margin (2 t_r + gamma0/(a_f eta)) / T, how much
   longer the horizon would have to be for the reversal itself;
4. **learns feature** -- B below B*_inf (no class ever flips in the race), once the feature has at
   least doubled from its initial scale, T >= gamma0 / eta (Lemma A.3: gamma0 = sigma0 E[max_r
   Z_r]; a sign-type step moves it by eta, and Adam's amplification, which builds up as the
   gradient grows, is not counted for this first doubling); margin B*_inf / B (and threshold /
   lam for the decay). A shorter horizon is undetermined.

GD is read with the n SNR^q race of Zou et al. 2023 (``bounds.GD_LEARNS_FEATURE``). The margin is
a ratio >= 1 in the direction of the verdict: near 1 the verdict is a coin flip (the race's
probability is in :func:`theorykit.batch_race.race`). ``in_sample`` names the calibration settings
(:mod:`theorykit.calibration`) whose fit supplied a constant the verdict used: there it is not an
independent prediction.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from theorykit.asymptotic_reading import readable_threshold, unreadable_reason
from theorykit.batch_race import asymptotic_critical_batch_size, critical_batch_size, race
from theorykit.calibration import (
    COLLAPSE_CONSTANTS,
    RACE_CONSTANTS,
    calibrated_on,
    in_sample_note,
)
from theorykit.collapse import COLLAPSE_FRACTION, collapse_threshold, largest_initial_weight
from theorykit.conditions import lambda_thresholds
from theorykit.constants import HiddenConstants
from theorykit.noise_decay import escape_fraction
from theorykit.outcome_labels import LEARNS, MEMORISES, STUCK, UNDETERMINED
from theorykit.params import ProblemParams
from theorykit.theorem_statements import GD_LEARNS_FEATURE

#: The verdict's labels (:mod:`theorykit.outcome_labels`): three of the outcomes of a run and the
#: refusal to call one.
VERDICT_OUTCOMES = (LEARNS, MEMORISES, STUCK, UNDETERMINED)


@dataclasses.dataclass(frozen=True)
class Verdict:
    """``outcome`` (one of :data:`VERDICT_OUTCOMES`), the ``margin`` (>= 1) by which the setting
    sits on that side (for :data:`UNDETERMINED`: how many times longer the horizon would have to
    be), ``reason`` in words, and ``in_sample``: the calibration settings whose fit supplied a
    constant this verdict used (empty: held out)."""

    outcome: str
    margin: float
    reason: str
    in_sample: tuple[str, ...] = ()

    @property
    def called(self) -> bool:
        """False where the verdict declines to call an outcome (:data:`UNDETERMINED`)."""
        return self.outcome != UNDETERMINED

    def __str__(self) -> str:
        sample = f"; {in_sample_note(self.in_sample)}" if self.in_sample else ""
        if not self.called:
            return f"{self.outcome} ({self.reason}{sample})"
        margin = f"{self.margin:.3g}" if math.isfinite(self.margin) else "unbounded"
        return f"{self.outcome} (margin {margin}: {self.reason}{sample})"

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "in_sample": list(self.in_sample)}


def _ratio(a: float, b: float) -> float:
    return a / b if b > 0 else float("inf")


def _gd_verdict(params: ProblemParams, constants: HiddenConstants) -> Verdict:
    race = GD_LEARNS_FEATURE.evaluate(params, constants)
    ratio = _ratio(race.quantity, race.threshold)
    if race.holds:
        return Verdict(LEARNS, ratio, f"n SNR^q = {race.quantity:.3g} >= {race.threshold:g}")
    return Verdict(
        MEMORISES,
        _ratio(race.threshold, race.quantity),
        f"n SNR^q = {race.quantity:.3g} < {race.threshold:g}",
    )


def _stuck_verdict(
    params: ProblemParams, threshold: float, name: str, in_sample: tuple[str, ...]
) -> Verdict:
    """lam >= threshold: stuck, or undetermined where L2 decay has not had the iterations to
    shrink the largest initial weight below a tenth (decoupled decay's threshold already reads the
    horizon)."""
    reason = f"lam = {params.lam:g} >= {name} {threshold:.3g}"
    if not params.kind.decoupled:
        needed = float(1 - COLLAPSE_FRACTION) * largest_initial_weight(params) / params.eta
        T = params.iterations
        if needed > T:
            return Verdict(
                UNDETERMINED,
                needed / T,
                f"{reason}, but T = {T} < 0.9 W0/eta = {needed:.4g} iterations: the weights "
                "cannot have collapsed yet",
                in_sample,
            )
    return Verdict(STUCK, _ratio(params.lam, threshold), reason, in_sample)


def _decay_threshold(
    params: ProblemParams, constants: HiddenConstants, lambda_star_adam: float | None
) -> tuple[float, str, tuple[str, ...]]:
    """(threshold, its name, the calibration settings that fitted it) of the decay: the AdamW
    collapse threshold at the setting's eta and horizon for decoupled decay, lambda*_Adam (Cor 4.3
    at t = 0, no fitted constant) for L2 decay."""
    if params.kind.decoupled:
        return (
            collapse_threshold(params, constants),
            "collapse threshold",
            calibrated_on(params, COLLAPSE_CONSTANTS),
        )
    if lambda_star_adam is None:
        lambda_star_adam = lambda_thresholds(params, constants)["lambda_star_adam"]
    return lambda_star_adam, "lambda*_Adam", ()


#: The verdict names the fraction of a head's samples whose noise outgrows Adam's L2 decay below
#: this (above it the race is within 1% of the decay-free one).
ESCAPE_NAMED_BELOW = 0.99


def _decay_words(params: ProblemParams, threshold: float, name: str) -> str:
    """The decay's part of a reason, for a lam below its threshold: the threshold, and where
    Adam's L2 decay holds the noise of part of the samples down, the fraction that escapes it
    (:func:`theorykit.noise_decay.escape_fraction`)."""
    if math.isfinite(threshold):
        words = f"; lam = {params.lam:g} below the {name} {threshold:.3g}"
    else:
        words = f"; no lam < 1/eta collapses the weights within T = {params.iterations} iterations"
    escaping = escape_fraction(params)
    if escaping < ESCAPE_NAMED_BELOW:
        words += (
            f"; Adam's L2 decay holds the noise of all but f = {escaping:.3g} of a head's samples "
            "down (theorykit.noise_decay)"
        )
    return words


def _memorises_verdict(
    params: ProblemParams, batch: float, decay: str, in_sample: tuple[str, ...]
) -> Verdict:
    """B at or above the race's B*(T): memorises noise within the horizon."""
    return Verdict(
        MEMORISES,
        _ratio(params.B, batch),
        f"B = {params.B} >= B*(T) = {batch:.3g}{decay}"
        if batch > 0
        else f"every B >= n/10^6 memorises within T (B*(T) below the race's range){decay}",
        in_sample,
    )


def _feature_doubling_time(params: ProblemParams) -> float:
    """gamma0 / eta: the iterations a sign-type step (eta per iteration) takes to double the best
    filter's feature from its initial scale gamma0 (Lemma A.3)."""
    return params.formula_values()["gamma0"] / params.eta


def _unshown_reversal_verdict(
    params: ProblemParams,
    constants: HiddenConstants,
    batch: float,
    asymptotic: float,
    in_sample: tuple[str, ...],
) -> Verdict:
    """B between B*_inf and B*(T): a head reverses, but not within the horizon (T < 2 t_r +
    gamma0/(a_f eta), the race's rule with Adam's step amplification a_f of the feature)."""
    T = params.iterations
    at = race(params, constants)
    feature_doubles = _feature_doubling_time(params) / at.feature_amplification
    reversal = at.reversal_time
    shows = (math.inf if reversal is None else 2 * reversal) + feature_doubles
    reverses = (
        f"B = {params.B} >= B*_inf = {asymptotic:.3g}"
        if asymptotic > 0
        else "every B >= n/10^6 reverses a head (B*_inf below the race's range)"
    )
    within = f"B*(T) = {batch:.3g}" if math.isfinite(batch) else "no B <= 1000 n memorises within T"
    return Verdict(
        UNDETERMINED,
        _ratio(shows, T),
        f"{reverses}, so a head reverses, but T = {T} < 2 t_r + gamma0/(a_f eta) = {shows:.4g} "
        f"iterations ({within}): the reversal has not shown",
        in_sample,
    )


def _learns_verdict(
    params: ProblemParams, asymptotic: float, decay: str, in_sample: tuple[str, ...]
) -> Verdict:
    """B below B*_inf: no head ever reverses; learns the feature once it has at least doubled from
    its initial scale (T >= gamma0/eta), undetermined before."""
    T = params.iterations
    feature_doubles = _feature_doubling_time(params)
    if feature_doubles > T:
        return Verdict(
            UNDETERMINED,
            feature_doubles / T,
            f"T = {T} < gamma0/eta = {feature_doubles:.4g} iterations: the feature has not left "
            "its initial scale",
            in_sample,
        )
    return Verdict(
        LEARNS,
        _ratio(asymptotic, params.B),
        f"B = {params.B} < B*_inf = {asymptotic:.3g}{decay}"
        if math.isfinite(asymptotic)
        else f"no B <= 1000 n reverses a head (B*_inf above the race's range){decay}",
        in_sample,
    )


def finite_size_verdict(
    params: ProblemParams,
    constants: HiddenConstants | None = None,
    *,
    lambda_star_adam: float | None = None,
) -> Verdict:
    """The finite-size prediction at ``params`` (see the module docstring). ``lambda_star_adam``:
    lambda*_Adam at ``params`` and ``constants`` where the caller has it already
    (:func:`theorykit.conditions.lambda_thresholds`); computed here otherwise."""
    constants = constants or HiddenConstants()
    if params.kind.preconditioner == "none":
        return _gd_verdict(params, constants)
    threshold, name, decay_sample = _decay_threshold(params, constants, lambda_star_adam)
    # inf is a readable collapse threshold (no lam < 1/eta collapses within T), not a readable
    # lambda*: a lambda*_Adam that is not a positive finite number is never compared with.
    if not (readable_threshold(threshold) or (params.kind.decoupled and threshold == math.inf)):
        return Verdict(UNDETERMINED, math.inf, unreadable_reason(name, threshold))
    if params.lam >= threshold:
        return _stuck_verdict(params, threshold, name, decay_sample)
    in_sample = tuple(dict.fromkeys(calibrated_on(params, RACE_CONSTANTS) + decay_sample))
    decay = _decay_words(params, threshold, name)
    batch = critical_batch_size(params, constants)
    if batch <= params.B:
        return _memorises_verdict(params, batch, decay, in_sample)
    asymptotic = asymptotic_critical_batch_size(params, constants)
    if asymptotic <= params.B:
        return _unshown_reversal_verdict(params, constants, batch, asymptotic, in_sample)
    return _learns_verdict(params, asymptotic, decay, in_sample)
