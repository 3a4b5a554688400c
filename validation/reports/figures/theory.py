"""The theory's numbers at one setting, as the marks the figures draw (torch-free).

:func:`theory_marks` reads, for a :class:`theorykit.params.ProblemParams`:

* from :func:`theorykit.finite_size.finite_size_predictions`: B*(T) of the setting's optimiser
  family and B*_inf (lines on test error vs B), the band around B* where one run memorises with
  probability 0.1 to 0.9 (:func:`theory_band`, a shaded span), lambda*_Adam and the AdamW
  collapse threshold
  (lines on test error vs lam), T0 and T_r in iterations (the race's; T_r its median over seeds
  of a reversing head, as the trajectories are seed means; marks on trajectories),
  each with whether it was calibrated on this setting (in-sample, ``theorykit.calibration``);
* the Stage-II feature level, a horizontal line on trajectories: for Adam with L2 the stable root
  of the stationarity (q/2) gamma^{q-1} |ell(gamma)| = lam gamma
  (:func:`theorykit.closed_forms.adam_feature_fixed_point`, m_eff = 1, Lemma C.7), for the
  decoupled optimisers the SignSGDW fixed point gamma* = 1/lam (Lemmas B.8/B.11; AdamW ~ SignSGDW,
  Tang et al. Sec. 5); none without weight decay, for GD, or where no root exists.

A value that is not a positive finite number is left out (never drawn, as ``theorykit.bounds``
never compares with one).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Mapping
from types import MappingProxyType

from theorykit.closed_forms import SIGNSGDW_FEATURE_FIXED_POINT, adam_feature_fixed_point
from theorykit.finite_size import FiniteSizePredictions, finite_size_predictions, race_family
from theorykit.params import ProblemParams


@dataclasses.dataclass(frozen=True)
class Mark:
    """One theory value to draw: its :data:`validation.reports.figures.style.THEORY` name, the
    value, and whether its hidden constant was fitted on this very setting."""

    name: str
    value: float
    in_sample: bool = False


def _positive(value: float | None) -> bool:
    return value is not None and math.isfinite(value) and value > 0


def stage2_feature_level(params: ProblemParams) -> float | None:
    """The Stage-II feature level gamma* at ``params`` (see the module docstring), or None."""
    kind = params.kind
    if params.lam <= 0 or kind.preconditioner == "none":
        return None
    if kind.decoupled:
        return float(SIGNSGDW_FEATURE_FIXED_POINT.at(params))
    if kind.has_moments:
        level = adam_feature_fixed_point(params.q, params.lam)
        return float(level) if math.isfinite(level) else None
    return None


@functools.lru_cache(maxsize=256)
def _predictions(params: ProblemParams) -> FiniteSizePredictions:
    """:func:`theorykit.finite_size.finite_size_predictions` at ``params``, once per setting for
    both :func:`theory_marks` and :func:`theory_band`."""
    return finite_size_predictions(params)


@functools.lru_cache(maxsize=256)
def theory_marks(params: ProblemParams) -> Mapping[str, Mark]:
    """The drawable theory values at ``params`` by :data:`~validation.reports.figures.style.THEORY`
    name (see the module docstring); a name is absent where the theory gives no positive finite
    number. Cached per setting (every figure of a report asks for the same ones), hence
    read-only."""
    predictions = _predictions(params)
    sign_type = params.kind.preconditioner != "none"  # T0 is the Adam / sign-step Stage I
    race_in_sample = bool(predictions.in_sample["critical_batch_sizes"])
    values = {
        "critical_batch_size": (
            predictions.critical_batch_sizes.get(race_family(params)),
            race_in_sample,
        ),
        "asymptotic_critical_batch_size": (
            predictions.asymptotic_critical_batch_size,
            race_in_sample,
        ),
        "lambda_star_adam": (predictions.lambda_star_adam, False),
        "adamw_collapse_threshold": (
            predictions.adamw_collapse_threshold,
            bool(predictions.in_sample["adamw_collapse_threshold"]),
        ),
        "stage1_length": (
            predictions.stage1_length if sign_type else None,
            bool(predictions.in_sample["stage1_length"]),
        ),
        "reversal_time": (predictions.median_reversal_time, race_in_sample),
        "fixed_point": (stage2_feature_level(params), False),
    }
    return MappingProxyType(
        {
            name: Mark(name, float(value), in_sample)
            for name, (value, in_sample) in values.items()
            if _positive(value)
        }
    )


@dataclasses.dataclass(frozen=True)
class Band:
    """The batch sizes between which one run's memorisation probability goes from 0.1 to 0.9
    (:func:`theorykit.batch_race.critical_batch_band`), and whether the race's constants were
    fitted on this very setting."""

    low: float
    high: float
    in_sample: bool = False


@functools.lru_cache(maxsize=256)
def theory_band(params: ProblemParams) -> Band | None:
    """The band around B* at ``params`` (see :class:`Band`), or None where the race gives none
    (GD, beta1^2 >= beta2) or an end is not a positive finite number."""
    predictions = _predictions(params)
    band = predictions.critical_batch_band
    if band is None or not all(_positive(value) for value in band):
        return None
    return Band(*band, in_sample=bool(predictions.in_sample["critical_batch_band"]))
