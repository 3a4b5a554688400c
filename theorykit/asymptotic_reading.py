"""Reading an asymptotic statement of Tang et al. 2025 at a finite setting: :class:`Bound`.

The theorems state their conditions with o(.), omega(.), Theta(.) and Theta~(.), every hidden
constant a named sympy symbol (``theorykit.symbols.HIDDEN_CONSTANTS``, default value 1 in
:class:`~theorykit.constants.HiddenConstants`). At a finite setting, ``lam = o(f)`` is read as
``lam <= C f``, ``lam = omega(f)`` / ``Omega~(f)`` as ``lam >= C f``, ``n/B = Theta(1)`` as
``n/B <= C``; the constant is exposed so that a user can ask how the verdict moves with it. The
statements themselves are in :mod:`theorykit.theorem_statements`.

A threshold is compared with only where it is a positive finite number
(:func:`readable_threshold`): elsewhere the comparison is not made, the threshold prints as n/a
(:func:`threshold_text`) and the verdict says why (:func:`unreadable_reason`).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Literal, NamedTuple

from theorykit.constants import HiddenConstants
from theorykit.formula import Formula
from theorykit.setting import Setting


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

    @property
    def short_statement(self) -> str:
        """The statement without its ``[source]``, as a reason names it."""
        return self.statement.split("  [")[0]

    def unreadable_reason(self, evaluation: Evaluation) -> str:
        """Why ``evaluation`` (not readable) gives no verdict, naming the statement."""
        value = evaluation.threshold
        if evaluation.lower is not None and not readable_threshold(evaluation.lower):
            value = evaluation.lower
        return unreadable_reason(f"the threshold of {self.short_statement}", value)
