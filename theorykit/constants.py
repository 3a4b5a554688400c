"""The hidden constants of the theorems' asymptotic statements, with the values the toolkit reads
them at.

Tang et al. 2025 state their conditions with o(.), omega(.), Theta(.) and Theta~(.). At a finite
setting each such statement needs a constant (``a = o(b)`` read as ``a <= C b``, ``n/B = Theta(1)``
as ``n/B <= C``, ...). Every constant is a named sympy symbol
(``theorykit.symbols.HIDDEN_CONSTANTS``) so a formula keeps it visible, and :class:`HiddenConstants`
holds the numbers it is evaluated at. How a reading turns into a verdict: ``docs/conventions.md``
(asymptotic statements).
"""

from __future__ import annotations

import dataclasses
import math

from theorykit.errors import ParameterError

#: The constants that are a spread over seeds (a standard deviation, 0 allowed), not a factor.
SPREADS = ("race_spread",)


@dataclasses.dataclass(frozen=True)
class HiddenConstants:
    """Values of the theorems' hidden constants (``theorykit.symbols.HIDDEN_CONSTANTS``).

    The theorems' constants are 1 except ``large_batch = 2``: with 1, "n/B = Theta(1)" (Thm 4.1/4.4)
    would admit only the full batch, whereas the paper's own large-batch run (App. D.2: n = 200, B =
    100) has n/B = 2.

    ``margin`` is the factor of the softer data and hyper-parameter conditions of
    :mod:`theorykit.conditions` (``a = o(b)`` read as ``a <= b / margin``, ``omega`` as
    ``a >= b margin``, ``Theta`` as ``b / margin <= a <= b margin``).

    The finite-size models' constants are calibrated on CNN runs by ``theorykit compare``
    (calibration section; ``validation.experiments.calibration``) on the settings of
    :data:`theorykit.calibration.CALIBRATION_SETTINGS` -- the paper's App. D.2 setting, d = 2000
    and one disjoint-support setting for the race, the paper's B = 16 threshold grid for AdamW --
    and shipped rounded: ``batch_race`` 1.24 (fitted 1.244), ``overlap`` 0.37 (fitted 0.366) and
    ``race_spread`` 0.44 (fitted 0.437) of :mod:`theorykit.batch_race` with Adam's step
    amplification (:mod:`theorykit.step_amplification`) and a run's memorisation read as a class
    flip (:mod:`theorykit.class_flip`), fitted together (B* by least squares, the spread by the
    likelihood of the heads' reversals), and ``adamw_step`` 0.6 (fitted 0.595) of
    :mod:`theorykit.collapse`; 2 seeds per grid point. Without the spread the race's fit is
    ``batch_race`` 1.130, ``overlap`` 0.366. Their
    accuracy on the settings not used for the fit is the accuracy table of ``theorykit
    compare``, and the spread's its forecast section.
    """

    adam_ceiling: float = 1.0
    adam_stuck: float = 1.0
    adamw_floor: float = 1.0
    adamw_ceiling: float = 1.0
    large_batch: float = 2.0
    mini_batch: float = 1.0
    adamw_mini_batch: float = 1.0
    batch_race: float = 1.24
    overlap: float = 0.37
    adamw_step: float = 0.6
    race_spread: float = 0.44
    margin: float = 2.0

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            spread = field.name in SPREADS
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not (value >= 0 if spread else value > 0)
                or not math.isfinite(value)
            ):
                raise ParameterError(
                    field.name,
                    value,
                    "a spread over seeds must be a finite number >= 0"
                    if spread
                    else "a hidden constant must be a finite number > 0",
                )

    def symbol_values(self) -> dict[str, float]:
        """``{"C_adam_ceiling": ..., "margin": ...}``: the keyword arguments of ``Formula``."""
        values = {
            f"C_{field.name}": getattr(self, field.name) for field in dataclasses.fields(self)
        }
        values["margin"] = values.pop("C_margin")
        return values
