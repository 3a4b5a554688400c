"""What the finite-size models predict at one setting, where the asymptotic theorems may be silent.

:func:`finite_size_verdict` reads the setting's optimiser, lam, B and horizon against the
finite-size thresholds, in this order:

1. **stuck** -- Adam or SignSGD with L2 above lambda*_Adam (``bounds.LAMBDA_STAR_ADAM``, Cor 4.3 at
   t = 0), or AdamW/SignSGDW above the collapse threshold at its eta and horizon
   (:func:`theorykit.collapse.collapse_threshold`); margin lam / threshold;
2. **memorises noise** -- B at or above the race's B*
   (:func:`theorykit.batch_race.critical_batch_size`: a head reverses within the horizon), margin B
   / B*;
3. **learns feature** -- otherwise, margin B* / B (and threshold / lam for the decay).

GD is read with the n SNR^q race of Zou et al. 2023 (``bounds.GD_LEARNS_FEATURE``). The margin is
a ratio >= 1 in the direction of the verdict: near 1 the verdict is a coin flip (the race's
probability is in :func:`theorykit.batch_race.race`).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from theorykit import bounds
from theorykit.batch_race import critical_batch_size
from theorykit.collapse import collapse_threshold
from theorykit.conditions import lambda_thresholds
from theorykit.constants import HiddenConstants
from theorykit.params import ProblemParams


@dataclasses.dataclass(frozen=True)
class Verdict:
    """``outcome`` (one of dynamics.outcomes' labels: learns feature, memorises noise, stuck), the
    ``margin`` (>= 1) by which the setting sits on that side, and ``reason`` in words."""

    outcome: str
    margin: float
    reason: str

    def __str__(self) -> str:
        return f"{self.outcome} (margin {self.margin:.3g}: {self.reason})"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _ratio(a: float, b: float) -> float:
    return a / b if b > 0 else float("inf")


def finite_size_verdict(params: ProblemParams, constants: HiddenConstants | None = None) -> Verdict:
    """The finite-size prediction at ``params`` (see the module docstring)."""
    constants = constants or HiddenConstants()
    kind = params.kind
    if kind.preconditioner == "none":
        race = bounds.GD_LEARNS_FEATURE.evaluate(params, constants)
        ratio = _ratio(race.quantity, race.threshold)
        if race.holds:
            return Verdict(
                "learns feature", ratio, f"n SNR^q = {race.quantity:.3g} >= {race.threshold:g}"
            )
        return Verdict(
            "memorises noise", 1 / ratio, f"n SNR^q = {race.quantity:.3g} < {race.threshold:g}"
        )
    if kind.decoupled:
        threshold, name = collapse_threshold(params, constants), "collapse threshold"
    else:
        threshold, name = lambda_thresholds(params, constants)["lambda_star_adam"], "lambda*_Adam"
    if params.lam >= threshold > 0:
        return Verdict(
            "stuck",
            _ratio(params.lam, threshold),
            f"lam = {params.lam:g} >= {name} {threshold:.3g}",
        )
    batch = critical_batch_size(params, constants)
    decay = f"; lam = {params.lam:g} below the {name} {threshold:.3g}"
    if batch <= params.B:
        return Verdict(
            "memorises noise", _ratio(params.B, batch), f"B = {params.B} >= B* = {batch:.3g}{decay}"
        )
    return Verdict(
        "learns feature", _ratio(batch, params.B), f"B = {params.B} < B* = {batch:.3g}{decay}"
    )
