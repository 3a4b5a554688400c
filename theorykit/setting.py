"""What a formula, a bound or a condition reads from a setting: the :class:`Setting` protocol.

:class:`theorykit.params.ProblemParams` is the one implementation. The modules below it in the
package (``formula``, ``bounds``, ``conditions``) are typed against this protocol instead of
importing ``ProblemParams``, so that ``ProblemParams`` can offer ``.conditions()`` without an import
cycle. Standard library only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol


class Setting(Protocol):
    """A validated setting (Def. 3.1, Def. 3.2, eqs. 3.3-3.6); see ``ProblemParams``."""

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
    beta1: float
    beta2: float
    eps: float
    bias_correction: bool
    epochs: int

    @property
    def steps_per_epoch(self) -> float:
        """n/B, the theorems' (real) number of iterations per epoch."""
        ...

    def to_dict(self) -> dict[str, Any]:
        """Every field as a plain, JSON-serialisable dict."""
        ...

    def formula_values(self) -> Mapping[str, Any]:
        """Every field and derived scalar (``gamma0``, ``noise_norm``) by symbol name."""
        ...
