"""Which of the theorems' conditions hold at a concrete setting: a readable report, not a bool.

The conditions are Tang et al. 2025's Condition A.1 (data), Condition A.2 (hyper-parameters), the
side conditions used inside its proofs, and the batch-size and weight-decay statements of Thms
4.1-4.5 and Cor 4.3 (``theorykit.theorem_statements``). Asymptotic relations are read at the finite
point with the named constants of :class:`~theorykit.constants.HiddenConstants`: ``a = o(b)`` as
``a <= b / margin``, ``a = omega(b)`` as ``a >= b * margin``, ``a = Theta(b)`` as ``b / margin <= a
<= b * margin``, and polylog(n) as anything in [1, (ln n)^2]. Every row shows the quantity and the
threshold so the reader can judge a borderline verdict.
"""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any, Literal

import sympy as sp

from theorykit import regimes
from theorykit import symbols as S
from theorykit import theorem_statements as statements
from theorykit.asymptotic_reading import Bound, Evaluation
from theorykit.constants import HiddenConstants
from theorykit.formula import Formula
from theorykit.lambda_star import LAMBDA_STAR_ADAM, LAMBDA_STAR_ADAMW
from theorykit.optimizers import ADAM_FAMILY, ADAM_MOMENTS, ADAMW_FAMILY
from theorykit.setting import Setting

Verdict = Literal["holds", "fails", "n/a"]

_POLYLOG = sp.log(S.n) ** 2


def _bound(
    name: str,
    statement: str,
    quantity: sp.Expr,
    relation: str,
    threshold: sp.Expr,
    source: str,
    lower: sp.Expr | None = None,
) -> Bound:
    return Bound(
        name,
        statement,
        Formula(name, quantity, source),
        relation,  # type: ignore[arg-type]
        Formula(f"{name}_threshold", threshold, source),
        None if lower is None else Formula(f"{name}_lower", lower, source),
    )


#: (bound, optimisers it applies to; None = all)
DATA_AND_STEP_CONDITIONS: tuple[tuple[Bound, frozenset[str] | None], ...] = (
    (
        _bound(
            "disjoint_supports",
            "supports B_i pairwise disjoint w.h.p.; s = Theta(d^{1/2}/n^2)  [Lemma A.4, Cond. "
            "A.1.2]",
            S.n * (S.n - 1) / 2 * S.s**2 / (S.d - 1),
            "<=",
            1 / S.margin,
            "expected shared coordinates over all sample pairs, C(n,2) s^2/(d-1), bounds P(any "
            "overlap)",
        ),
        None,
    ),
    (
        _bound(
            "noise_l1_dominates",
            "s sigma_p = omega(1)  [Cond. A.2 asymptotics]",
            S.s * S.sigma_p,
            ">=",
            S.margin,
            "noise l1 mass beats the feature's: large-batch noise memorisation outpaces feature "
            "learning",
        ),
        None,
    ),
    (
        _bound(
            "noise_l2_bounded",
            "s^{1/2} sigma_p = O~(1), sigma_p^2 = Theta(1/(s polylog n))  [Cond. A.1.3]",
            S.s * S.sigma_p**2,
            "<=",
            S.margin,
            "noise l2 norm squared",
        ),
        None,
    ),
    (
        _bound(
            "feature_noise_small",
            "alpha = o(1)  [Cond. A.1.4]",
            S.alpha,
            "<=",
            1 / S.margin,
            "feature-noise strength",
        ),
        None,
    ),
    (
        _bound(
            "feature_noise_scale",
            "alpha = Theta(sigma_p polylog n)  [Cond. A.1.4]",
            S.alpha / S.sigma_p,
            "between",
            S.margin * _POLYLOG,
            "alpha / sigma_p",
            lower=1 / S.margin,
        ),
        None,
    ),
    (
        _bound(
            "init_scale",
            "sigma0 = Theta(d^{-1/4})  [Cond. A.2.1]",
            S.sigma0 * S.d ** sp.Rational(1, 4),
            "between",
            S.margin,
            "sigma0 d^{1/4}",
            lower=1 / S.margin,
        ),
        None,
    ),
    (
        _bound(
            "width_polylog",
            "m = polylog(n)  [Cond. A.2.2]",
            S.m,
            "<=",
            S.margin * _POLYLOG,
            "filters per head",
        ),
        None,
    ),
    (
        _bound(
            "step_below_init_power",
            "eta = o(sigma0^{q-1})  [Lemma C.5]",
            S.eta / S.sigma0 ** (S.q - 1),
            "<=",
            1 / S.margin,
            "eta / sigma0^{q-1}",
        ),
        None,
    ),
    (
        _bound(
            "step_times_sparsity",
            "eta s = o(sigma0^{q-1})  [Cond. A.2 side condition]",
            S.eta * S.s / S.sigma0 ** (S.q - 1),
            "<=",
            1 / S.margin,
            "eta s / sigma0^{q-1}",
        ),
        None,
    ),
    (
        _bound(
            "decay_per_epoch_small",
            "lam eta n/B = o(1)  [Cond. A.2 side condition]",
            S.lam * S.eta * S.n / S.B,
            "<=",
            1 / S.margin,
            "decay accumulated over one epoch",
        ),
        None,
    ),
    (
        _bound(
            "eps_scale",
            "eps = Theta(lam eta)  [Cond. A.2.4]",
            S.eps / (S.lam * S.eta),
            "between",
            S.margin,
            "eps / (lam eta)",
            lower=1 / S.margin,
        ),
        ADAM_MOMENTS,
    ),
    (
        _bound(
            "beta_order",
            "beta1^2 < beta2  [Lemma C.1]",
            S.beta1**2,
            "<",
            S.beta2,
            "Adam moment decay rates",
        ),
        ADAM_MOMENTS,
    ),
)

#: Theorem statements of :mod:`theorykit.theorem_statements`, with the optimiser families they
#: speak about.
THEOREM_CONDITIONS: tuple[tuple[Bound, frozenset[str] | None], ...] = (
    (statements.LARGE_BATCH, None),
    (statements.MINI_BATCH, None),
    (statements.ADAMW_LARGE_BATCH, ADAMW_FAMILY),
    (statements.ADAMW_MINI_BATCH, ADAMW_FAMILY),
    (statements.ADAM_ADMISSIBLE, ADAM_FAMILY),
    (statements.ADAM_STUCK, ADAM_FAMILY),
    (statements.ADAMW_ABOVE_FLOOR, ADAMW_FAMILY),
    (statements.ADAMW_BELOW_CEILING, ADAMW_FAMILY),
)


@dataclasses.dataclass(frozen=True)
class ConditionCheck:
    """One row: the paper's statement, its finite-size reading, the numbers and the verdict."""

    name: str
    statement: str
    reading: str
    value: float
    threshold: float
    verdict: Verdict


@dataclasses.dataclass(frozen=True)
class ConditionReport:
    """All condition rows at one setting, with the regime summary and the finite-size thresholds."""

    params: Setting
    checks: tuple[ConditionCheck, ...]
    batch_regime: str
    lambda_regime: str
    predicted_outcome: str
    thresholds: dict[str, float]

    def failing(self) -> tuple[ConditionCheck, ...]:
        return tuple(check for check in self.checks if check.verdict == "fails")

    def to_dict(self) -> dict[str, Any]:
        """Every field as standard JSON (``theorykit bounds --json``), in declaration order but
        the checks last."""
        regimes = ("batch_regime", "lambda_regime", "predicted_outcome")
        return {
            "params": self.params.to_dict(),
            **{name: getattr(self, name) for name in regimes},
            "thresholds": json_safe(self.thresholds),
            "checks": [json_safe(dataclasses.asdict(check)) for check in self.checks],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, allow_nan=False)

    def __str__(self) -> str:
        width = max(len(check.statement) for check in self.checks)
        lines = [
            f"optimizer {self.params.optimizer}, B = {self.params.B} (n/B = "
            f"{self.params.steps_per_epoch:.4g}), lam = {self.params.lam:.4g}",
            f"batch regime: {self.batch_regime};  lam regime: {self.lambda_regime}",
            f"prediction: {self.predicted_outcome}",
            "",
            f"{'condition':<{width}}  {'value':>11}  {'reading':<26}  verdict",
        ]
        for check in self.checks:
            lines.append(
                f"{check.statement:<{width}}  {check.value:>11.4g}  {check.reading:<26}  "
                f"{check.verdict}"
            )
        return "\n".join(lines)


def json_safe(value: Any) -> Any:
    """Standard JSON: every non-finite float (NaN for an n/a row, +-infinity, e.g. the mini-batch
    floor log(1/eps) at eps = 0 or a margin nothing bounds) becomes None (null), in nested dicts,
    lists and tuples too; other values are returned as they are."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    return value


def _reading(relation: str, evaluation: Evaluation) -> str:
    if not evaluation.readable:
        return f"n/a: threshold {evaluation.threshold:.4g}"
    if relation == "between":
        return f"in [{evaluation.lower:.4g}, {evaluation.threshold:.4g}]"
    return f"{relation} {evaluation.threshold:.4g}"


def check_conditions(params: Setting, constants: HiddenConstants | None = None) -> ConditionReport:
    """Evaluate every condition of Tang et al. 2025 at ``params`` (Cond. A.1, A.2; Thms 4.1-4.5, Cor
    4.3).

    Rows that do not concern ``params.optimizer`` (e.g. Adam's eps condition for GD, or eps =
    Theta(lam eta) when lam = 0), and theorem rows whose threshold is not a positive finite number
    (``bounds.readable_threshold``), have verdict ``"n/a"``. The thresholds are the finite-size
    predictions ``lambda_star_adam``/``lambda_star_adamw`` of :mod:`theorykit.lambda_star` and the
    asymptotic ones with their hidden constants.
    """
    constants = constants or HiddenConstants()
    checks = []
    for bound, applies_to in DATA_AND_STEP_CONDITIONS + THEOREM_CONDITIONS:
        applicable = applies_to is None or params.optimizer in applies_to
        if bound.name == "eps_scale" and params.lam == 0:
            applicable = False
        if applicable:
            evaluation = bound.evaluate(params, constants)
            checks.append(
                ConditionCheck(
                    bound.name,
                    bound.statement,
                    _reading(bound.relation, evaluation),
                    evaluation.quantity,
                    evaluation.threshold,
                    ("holds" if evaluation.holds else "fails") if evaluation.readable else "n/a",
                )
            )
        else:
            checks.append(
                ConditionCheck(bound.name, bound.statement, "-", float("nan"), float("nan"), "n/a")
            )
    return ConditionReport(
        params=params,
        checks=tuple(checks),
        batch_regime=regimes.batch_regime(params, constants),
        lambda_regime=regimes.lambda_regime(params, constants),
        predicted_outcome=regimes.predicted_outcome(params, constants),
        thresholds=lambda_thresholds(params, constants),
    )


def lambda_thresholds(
    params: Setting, constants: HiddenConstants | None = None
) -> dict[str, float]:
    """The lambda thresholds at ``params``: finite-size (lambda*_Adam, lambda*_AdamW) and asymptotic
    ones."""
    values = (constants or HiddenConstants()).symbol_values()
    formulas = (
        LAMBDA_STAR_ADAM,
        LAMBDA_STAR_ADAMW,
        statements.ADAM_LAMBDA_CEILING,
        statements.ADAM_STUCK_FLOOR,
        statements.ADAMW_LAMBDA_FLOOR,
        statements.ADAMW_LAMBDA_CEILING,
    )
    return {formula.name: float(formula.at(params, **values)) for formula in formulas}
