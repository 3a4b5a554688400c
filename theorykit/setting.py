"""The fields of a setting, and what the formulas read from them: the :class:`Setting` base class.

:class:`theorykit.params.ProblemParams` is the one class to construct: it adds validation (every
field's rule) and the derived views on top of these fields. The modules below it in the package
(``formula``, ``bounds``, ``conditions``) are typed against :class:`Setting` instead of importing
``ProblemParams``, so that ``ProblemParams`` can offer ``.conditions()`` without an import cycle.
Standard library only. Each field's meaning: ``theorykit.params.FIELD_DOCS``; conventions:
``docs/conventions.md``.
"""

from __future__ import annotations

import abc
import dataclasses
from typing import Any


@dataclasses.dataclass(frozen=True)
class Setting(abc.ABC):
    """The data (Def. 3.1), model (Def. 3.2) and optimiser (eqs. 3.3-3.6, 5.1, B.1-B.2) fields of
    Tang et al. 2025. Abstract: construct :class:`~theorykit.params.ProblemParams`, which validates
    them and derives the formula values."""

    n: int
    d: int
    s: int
    sigma_p: float
    alpha: float
    m: int
    q: float
    sigma0: float
    optimizer: str
    eta: float
    B: int
    lam: float
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    bias_correction: bool = False
    epochs: int = 10_000

    @property
    def steps_per_epoch(self) -> float:
        """n/B, the number of iterations in one epoch (Sec. 3; a real number in the theorems)."""
        return self.n / self.B

    def to_dict(self) -> dict[str, Any]:
        """All fields as a plain ``dict`` (JSON-serialisable)."""
        return dataclasses.asdict(self)

    @abc.abstractmethod
    def formula_values(self, **overrides: Any) -> dict[str, Any]:
        """Every field and derived scalar (``gamma0``, ``noise_norm``) by symbol name, with
        ``overrides`` applied to the fields before anything is derived: what ``Formula.at``
        evaluates with."""
