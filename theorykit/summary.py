"""One call for "what does the theory say at this setting": thresholds, regimes, conditions.

:func:`bounds_summary` is what ``theorykit bounds`` prints, so the command line and the Python API
return the same numbers. It evaluates the lambda thresholds of :mod:`theorykit.bounds` (once, shared
by the condition report and the finite-size predictions), reads the batch-size and lambda regimes
for both optimiser families (Adam: Thms 4.1/4.2, Cor 4.3; AdamW: Thms 4.4/4.5, Cor 4.6), gives
every finite-size prediction with the verdict where the theorems are silent
(:mod:`theorykit.finite_size`: B*, lambda*_Adam, the AdamW collapse threshold, T0, t_r) and attaches
the full condition report for ``params.optimizer``.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from theorykit.asymptotic_reading import threshold_text
from theorykit.conditions import ConditionReport, check_conditions, json_safe
from theorykit.constants import HiddenConstants
from theorykit.errors import ParameterError
from theorykit.finite_size import FiniteSizePredictions, finite_size_predictions
from theorykit.params import ProblemParams
from theorykit.regimes import batch_regime, lambda_regime, predicted_outcome

_THRESHOLD_LABELS = {
    "lambda_star_adam": "Adam: feature stuck above (finite-size Cor 4.3)",
    "adam_lambda_ceiling": "Adam: admissible below, o(sigma0^{q-2} sigma_p/n) (Thm 4.1/4.2)",
    "adam_stuck_floor": "Adam: stuck above, omega(sigma0^{q-2}) (Cor 4.3)",
    "lambda_star_adamw": (
        "AdamW: feature shrinks at t = 0 above (not a failure threshold; see collapse)"
    ),
    "adamw_lambda_floor": "AdamW: window from, Omega~(B^2/n ^ 1) (Thm 4.4/4.5)",
    "adamw_lambda_ceiling": "AdamW: window to, O~(1) (Thm 4.4/4.5)",
}


@dataclasses.dataclass(frozen=True)
class FamilyRegime:
    """How the Adam or AdamW theorems read ``params.B`` and ``params.lam``."""

    optimizer: str
    batch_regime: str
    lambda_regime: str
    predicted_outcome: str


@dataclasses.dataclass(frozen=True)
class BoundsSummary:
    """The output of :func:`bounds_summary`: ``theorem_verdict`` is what the asymptotic theorem for
    ``params.optimizer`` predicts, or why none applies (``bounds.predicted_outcome``);
    ``finite_size`` holds the finite-size predictions and their verdict."""

    params: ProblemParams
    thresholds: dict[str, float]
    regimes: tuple[FamilyRegime, ...]
    theorem_verdict: str
    finite_size: FiniteSizePredictions
    conditions: ConditionReport

    def to_dict(self) -> dict[str, Any]:
        """Standard-JSON values: every non-finite number is None (:func:`conditions.json_safe`),
        a threshold that is negative stays a number (the text prints it n/a)."""
        return json_safe(
            {
                "params": self.params.to_dict(),
                "thresholds": self.thresholds,
                "regimes": [dataclasses.asdict(regime) for regime in self.regimes],
                "theorem_verdict": self.theorem_verdict,
                "finite_size": self.finite_size.to_dict(),
                "conditions": self.conditions.to_dict()["checks"],
            }
        )

    def to_json(self) -> str:
        """``theorykit bounds --json``: always valid JSON (no NaN or Infinity tokens)."""
        return json.dumps(self.to_dict(), indent=2, allow_nan=False)

    def __str__(self) -> str:
        p = self.params
        lines = [
            f"setting: n={p.n} d={p.d} s={p.s} sigma_p={p.sigma_p:g} alpha={p.alpha:g} "
            f"sigma0={p.sigma0:g} m={p.m} q={p.q:g} B={p.B} (n/B={p.steps_per_epoch:g}) "
            f"eta={p.eta:g} eps={p.eps:g} lam={p.lam:g} epochs={p.epochs} optimizer={p.optimizer}",
            "",
            "lambda thresholds",
        ]
        lines += [
            f"  {_THRESHOLD_LABELS[name]:<62} {threshold_text(value)}"
            for name, value in self.thresholds.items()
        ]
        lines += ["", f"regimes at lam = {p.lam:g}"]
        lines += [
            f"  {r.optimizer:<6} batch: {r.batch_regime:<13} lam: {r.lambda_regime:<13} -> "
            f"{r.predicted_outcome}"
            for r in self.regimes
        ]
        lines += [
            "",
            *self.finite_size.lines(),
            f"theorem verdict for {p.optimizer}: {self.theorem_verdict}",
            "",
            f"conditions for {p.optimizer}",
            str(self.conditions),
        ]
        return "\n".join(lines)


def bounds_summary(
    params: ProblemParams, constants: HiddenConstants | None = None
) -> BoundsSummary:
    """Thresholds, per-family regimes, the finite-size predictions and the condition report at
    ``params`` (see the module docstring).

    The regimes for the Adam and AdamW families are read at the same (B, lam); lam is
    interpreted as L2 in the loss (lambda/2 convention) for Adam and as the decoupled factor
    (1 - eta lam) for AdamW (docs/conventions.md).
    """
    report = check_conditions(params, constants)
    ordered = {name: report.thresholds[name] for name in _THRESHOLD_LABELS}
    regimes = []
    for optimizer in ("adam", "adamw"):
        try:
            variant = params.replace(optimizer=optimizer)
        except ParameterError as error:  # e.g. eta lam >= 1 has no decoupled decay (eq. 3.6)
            regimes.append(FamilyRegime(optimizer, "n/a", "n/a", f"n/a: {error.rule}"))
            continue
        regimes.append(
            FamilyRegime(
                optimizer,
                batch_regime(variant, constants),
                lambda_regime(variant, constants),
                predicted_outcome(variant, constants),
            )
        )
    return BoundsSummary(
        params,
        ordered,
        tuple(regimes),
        report.predicted_outcome,
        finite_size_predictions(
            params, constants, lambda_star_adam=report.thresholds["lambda_star_adam"]
        ),
        report,
    )
