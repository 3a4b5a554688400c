"""Every finite-size prediction at one setting, in one object: what ``theorykit bounds`` prints
below the theorems' asymptotic regimes.

The asymptotic theorems (Thms 4.1-4.5, Cor 4.3/4.6) are silent wherever a hidden Theta/o/omega is
not clearly met, which includes the paper's own experiment. The finite-size models answer there,
each at the setting's eta and horizon T = ``epochs * iterations_per_epoch`` iterations
(docs/conventions.md for iterations vs epochs):

* **B*** -- the batch size from which Adam, AdamW and SignSGD/SignSGDW memorise noise within T
  (:func:`theorykit.batch_race.critical_batch_size`, docs/notes/overlap.md §5), and the band
  around it where the spread over seeds decides: one run memorises with probability 0.1 at its
  lower end and 0.9 at its upper end (:func:`theorykit.batch_race.critical_batch_band`);
* **lambda*_Adam** -- the L2 strength above which Adam is stuck at initialisation
  (``bounds.LAMBDA_STAR_ADAM``, Cor 4.3 at t = 0);
* **the AdamW collapse threshold** -- the decoupled lam above which every weight ends below a tenth
  of the largest initial one within T (:func:`theorykit.collapse.collapse_threshold`, notes §6);
* **T0** -- Stage I's length, the iterations until the data loss is halved, from the race's
  growth rates (:data:`theorykit.batch_race.RACE_STAGE1_LENGTH`: no constant of its own), with
  Adam's step amplification of the growing feature and noise
  (:mod:`theorykit.step_amplification`, printed beside it); where
  there is no race (GD; beta1^2 >= beta2) the lemmas' mini-batch order 1/eta (Lemmas C.4-C.6,
  :mod:`theorykit.time_scales`), which fits no constant;
* **t_r and the reversal probability** -- when a head's feature reverses under the race (the
  fastest head's, eps = 0), the median and the band of a reversing head's t_r over the spread of
  seeds (:func:`theorykit.batch_race.median_reversal_time`, the point prediction of the CNN's T_r
  over seeds; :func:`theorykit.batch_race.reversal_time_band`), the probability that a head
  reverses within T over that spread, the probabilities that 0, 1 or 2 of a run's heads do, and
  that 0, 1 or 2 classes' test points flip (test error about 0, 1/2, 1; a run memorises when one
  does; :func:`theorykit.batch_race.race`, :mod:`theorykit.class_flip`);
* **f** -- the fraction of a head's samples whose noise outgrows Adam's coupled (L2) decay, which
  sets the race's reversal ratio (:func:`theorykit.noise_decay.escape_fraction`; 1 for the other
  optimisers and lam = 0);
* **B*_inf** -- the batch size from which a class flips at *some* horizon
  (:func:`theorykit.batch_race.asymptotic_critical_batch_size`); between B*_inf and B* the
  verdict is "undetermined at this horizon";
* **the verdict** -- learns feature / memorises noise / stuck / undetermined at this horizon, with
  its margin (:func:`theorykit.verdict.finite_size_verdict`).

Hidden constants (``HiddenConstants.batch_race``, ``overlap``, ``race_spread``, ``adamw_step``) are
calibrated on CNN runs in ``theorykit compare``; the values used are part of the returned object,
and so is ``in_sample``: per prediction, the calibration settings (:mod:`theorykit.calibration`)
that share this setting's problem and fitted a constant it uses. A prediction listed there is
in-sample.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from theorykit.asymptotic_reading import threshold_text
from theorykit.batch_race import (
    BAND_LEVELS,
    asymptotic_critical_batch_size,
    critical_batch_band,
    critical_batch_size,
    median_reversal_time,
    race,
    reversal_time_band,
)
from theorykit.calibration import COLLAPSE_CONSTANTS, RACE_CONSTANTS, calibrated_on
from theorykit.collapse import collapse_threshold
from theorykit.conditions import json_safe, lambda_thresholds
from theorykit.constants import HiddenConstants
from theorykit.errors import ParameterError
from theorykit.noise_decay import escape_fraction
from theorykit.params import ProblemParams
from theorykit.time_scales import STAGE1_LENGTH_MINI_BATCH
from theorykit.verdict import Verdict, finite_size_verdict

#: Optimiser families of the race's B* at the setting's lam, each named by the optimiser it is
#: computed for: lam enters only through Adam's coupled decay (:mod:`theorykit.noise_decay`), so
#: AdamW has its own B* and SignSGD and SignSGDW share one.
RACE_FAMILIES = {"adam": "adam", "adamw": "adamw", "signsgd/signsgdw": "signsgd"}


def race_family(params: ProblemParams) -> str:
    """The :data:`RACE_FAMILIES` key of ``params.optimizer``."""
    if not params.kind.has_moments:
        return "signsgd/signsgdw"
    return "adamw" if params.kind.decoupled else "adam"


@dataclasses.dataclass(frozen=True)
class FiniteSizePredictions:
    """The output of :func:`finite_size_predictions` (see the module docstring). Iterations for
    every time; ``None`` where a model does not apply (a B* for beta1^2 >= beta2, t_r when no head
    reverses, the race of GD)."""

    params: ProblemParams
    constants: HiddenConstants
    horizon: float
    critical_batch_sizes: dict[str, float | None]
    critical_batch_band: tuple[float, float] | None
    asymptotic_critical_batch_size: float | None
    noise_escape_fraction: float
    lambda_star_adam: float
    adamw_collapse_threshold: float | None
    stage1_length: float
    step_amplification: tuple[float, float] | None
    reversal_time: float | None
    median_reversal_time: float | None
    reversal_time_band: tuple[float, float] | None
    reversal_probability: float | None
    memorisation_probability: float | None
    reversed_heads: tuple[float, float, float] | None
    flipped_classes: tuple[float, float, float] | None
    verdict: Verdict | None
    in_sample: dict[str, tuple[str, ...]]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values: every non-finite number (a B* of inf, an unbounded margin, a NaN)
        as None, as :func:`conditions.json_safe` writes."""
        values = {
            field.name: getattr(self, field.name)
            for field in dataclasses.fields(self)
            if field.name not in ("params", "constants", "verdict", "in_sample")
        }
        return json_safe(
            {
                **values,
                "in_sample": {name: list(labels) for name, labels in self.in_sample.items()},
                "constants": dataclasses.asdict(self.constants),
                "verdict": None if self.verdict is None else self.verdict.to_dict(),
            }
        )

    def lines(self) -> list[str]:
        """The text block of ``theorykit bounds``."""
        c = self.constants

        def number(value: float | None, absent: str = "n/a") -> str:
            if value is None:
                return absent
            return f"{value:.4g}" if math.isfinite(value) else f"n/a ({value:.4g})"

        def batch(value: float | None, event: str, absent: str = "n/a") -> str:
            """B*(T) or B*_inf: 0 and inf are the ends of the race's range of P = n/B."""
            if value is None:
                return absent
            if value == 0:
                return f"n/a (0: every B >= n/10^6 {event})"
            if value == math.inf:
                return f"n/a (inf: no B <= 1000 n {event})"
            return f"{value:.4g}"

        collapse = self.adamw_collapse_threshold
        rows = [
            *(
                (
                    f"B*(T) {family} (memorises within T from)",
                    batch(
                        value,
                        "memorises within T",
                        "n/a: eta lam >= 1 for decoupled decay"
                        if family == "adamw" and self.params.eta * self.params.lam >= 1
                        else "n/a: beta1^2 >= beta2",
                    ),
                )
                for family, value in self.critical_batch_sizes.items()
            ),
            (
                f"B band (one run memorises w.p. {BAND_LEVELS[0]:g} / {BAND_LEVELS[1]:g} at)",
                "n/a"
                if self.critical_batch_band is None
                else " / ".join(
                    batch(value, "memorises within T") for value in self.critical_batch_band
                ),
            ),
            (
                "B*_inf (a head reverses at some horizon from)",
                batch(self.asymptotic_critical_batch_size, "reverses a head"),
            ),
            (
                "samples whose noise outgrows Adam's L2 decay (fraction f)",
                number(self.noise_escape_fraction),
            ),
            ("lambda*_Adam (stuck above)", threshold_text(self.lambda_star_adam)),
            (
                "AdamW collapse threshold (lam, at eta and T)",
                "n/a: eta lam >= 1 for AdamW"
                if collapse is None
                else "n/a (inf: no lam < 1/eta collapses within T)"
                if collapse == math.inf
                else threshold_text(collapse),
            ),
            ("T0, Stage-I length (iterations)", number(self.stage1_length)),
            (
                "Adam's step amplification over Stage I (feature / noise)",
                "n/a"
                if self.step_amplification is None
                else " / ".join(f"{value:.3f}" for value in self.step_amplification),
            ),
            ("t_r, reversal time (iterations)", number(self.reversal_time, "no reversal")),
            (
                "t_r over seeds, median of the heads that reverse",
                number(self.median_reversal_time, "no reversal"),
            ),
            (
                "t_r band over seeds (0.1 / 0.9 of the heads that reverse)",
                "no reversal"
                if self.reversal_time_band is None
                else " / ".join(number(value) for value in self.reversal_time_band),
            ),
            ("P(one head reverses within T)", number(self.reversal_probability)),
            ("P(a run memorises within T)", number(self.memorisation_probability)),
            (
                "P(0 / 1 / 2 heads reverse)",
                "n/a"
                if self.reversed_heads is None
                else " / ".join(f"{p:.3f}" for p in self.reversed_heads),
            ),
            (
                "P(0 / 1 / 2 classes flip: test error ~0 / ~1/2 / ~1)",
                "n/a"
                if self.flipped_classes is None
                else " / ".join(f"{p:.3f}" for p in self.flipped_classes),
            ),
        ]
        return [
            f"finite-size predictions over T = {self.horizon:.6g} iterations (C_batch_race = "
            f"{c.batch_race:g}, C_overlap = {c.overlap:g}, C_race_spread = {c.race_spread:g}, "
            f"C_adamw_step = {c.adamw_step:g})",
            *(f"  {label:<62} {value}" for label, value in rows),
            *(
                f"  in-sample: {name} (fitted on {'; '.join(labels)})"
                for name, labels in self.in_sample.items()
                if labels
            ),
            "predicted at this setting: "
            + (str(self.verdict) if self.verdict else "no prediction (beta1^2 >= beta2: no race)"),
        ]


def _critical_batch_size(
    params: ProblemParams, optimizer: str, constants: HiddenConstants
) -> float | None:
    """B* of ``optimizer`` at ``params``' other fields; None where it has no race (beta1^2 >=
    beta2) or the setting is invalid for it (eta lam >= 1 with decoupled decay)."""
    try:
        return critical_batch_size(params.replace(optimizer=optimizer), constants)
    except ParameterError as error:
        if error.name not in ("beta1", "lam"):
            raise
        return None


def _collapse_threshold(params: ProblemParams, constants: HiddenConstants) -> float | None:
    """AdamW's collapse threshold at the setting's eta and horizon (None where eta lam >= 1 makes
    the setting itself invalid for decoupled decay)."""
    try:
        adamw = params.replace(optimizer="adamw")
    except ParameterError:
        return None
    return collapse_threshold(adamw, constants)


def finite_size_predictions(
    params: ProblemParams,
    constants: HiddenConstants | None = None,
    *,
    lambda_star_adam: float | None = None,
) -> FiniteSizePredictions:
    """Every finite-size prediction at ``params`` (see the module docstring): B* per family,
    lambda*_Adam and the AdamW collapse threshold whatever ``params.optimizer`` is; T0, t_r, the
    probabilities and the verdict for ``params.optimizer`` (t_r and the probabilities are None for
    GD, which has no race; the probabilities and the verdict also for beta1^2 >= beta2, where S(P)
    is undefined). ``lambda_star_adam``: lambda*_Adam at ``params`` and ``constants`` where the
    caller has it already (:func:`theorykit.conditions.lambda_thresholds`); computed here
    otherwise, once."""
    constants = constants or HiddenConstants()
    if lambda_star_adam is None:
        lambda_star_adam = lambda_thresholds(params, constants)["lambda_star_adam"]
    batch = {
        family: _critical_batch_size(params, name, constants)
        for family, name in RACE_FAMILIES.items()
    }
    own = race_family(params)
    sign_type = params.kind.preconditioner != "none"
    at_race = race(params, constants) if sign_type and batch[own] is not None else None
    race_sample = calibrated_on(params, RACE_CONSTANTS)
    return FiniteSizePredictions(
        params=params,
        constants=constants,
        horizon=float(params.iterations),
        critical_batch_sizes=batch,
        critical_batch_band=None if at_race is None else critical_batch_band(params, constants),
        asymptotic_critical_batch_size=asymptotic_critical_batch_size(params, constants)
        if sign_type and batch[own] is not None
        else None,
        noise_escape_fraction=escape_fraction(params),
        lambda_star_adam=lambda_star_adam,
        adamw_collapse_threshold=_collapse_threshold(params, constants),
        stage1_length=float(STAGE1_LENGTH_MINI_BATCH.at(params))
        if at_race is None
        else at_race.stage1_length,
        step_amplification=None
        if at_race is None
        else (at_race.feature_amplification, at_race.noise_amplification),
        reversal_time=None if at_race is None else at_race.reversal_time,
        median_reversal_time=None if at_race is None else median_reversal_time(params, constants),
        reversal_time_band=None if at_race is None else reversal_time_band(params, constants),
        reversal_probability=None if at_race is None else at_race.reversal_probability,
        memorisation_probability=None if at_race is None else at_race.memorisation_probability(),
        reversed_heads=None if at_race is None else at_race.reversed_heads(),
        flipped_classes=None if at_race is None else at_race.flipped_classes,
        verdict=finite_size_verdict(params, constants, lambda_star_adam=lambda_star_adam)
        if at_race is not None or not sign_type
        else None,
        in_sample={
            "critical_batch_sizes": race_sample,
            "critical_batch_band": race_sample if at_race is not None else (),
            "reversal_time": race_sample,
            "median_reversal_time": race_sample,
            "reversal_time_band": race_sample,
            "stage1_length": race_sample if at_race is not None else (),
            "step_amplification": race_sample if at_race is not None else (),
            "reversal_probability": race_sample,
            "adamw_collapse_threshold": calibrated_on(params, COLLAPSE_CONSTANTS),
        },
    )
