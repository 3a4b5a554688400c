"""Which settings the finite-size models' hidden constants were fitted on: calibration provenance.

The race's ``C_batch_race``, ``C_overlap`` and ``C_race_spread`` (:mod:`theorykit.batch_race`)
and AdamW's ``C_adamw_step`` (:mod:`theorykit.collapse`) are fitted on CNN runs (``theorykit
compare``, calibration section, ``validation.experiments.calibration``) at the settings of
:data:`CALIBRATION_SETTINGS`, fixed before any run was looked at; the values shipped are in
:class:`theorykit.constants.HiddenConstants`. A prediction at one of these settings is
**in-sample**: it confirms the fit, not the model. :func:`calibrated_on` tells a setting which of
its predictions are. lambda*_Adam (``bounds.LAMBDA_STAR_ADAM``) has no fitted constant.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from theorykit.params import tang2025_synthetic
from theorykit.setting import Setting

#: The fields that make two settings the same problem for the fit: the data (Def. 3.1), the model
#: (Def. 3.2) and the step size and moments; the batch size, lam, optimiser and horizon are what a
#: fit varies or reads at.
PROBLEM_FIELDS = ("n", "d", "s", "sigma_p", "alpha", "m", "q", "sigma0", "eta", "beta1", "beta2")


def problem_fields(params: Setting) -> dict[str, Any]:
    """The :data:`PROBLEM_FIELDS` of ``params``."""
    values = params.to_dict()
    return {name: values[name] for name in PROBLEM_FIELDS}


@dataclasses.dataclass(frozen=True)
class CalibrationSetting:
    """One setting a fit used: ``overrides`` of the paper's App. D.2 setting, the data's
    ``supports``, the ``horizon`` in iterations of its runs and the hidden ``constants`` (names of
    :class:`~theorykit.constants.HiddenConstants` fields) fitted on it."""

    label: str
    overrides: Mapping[str, Any]
    supports: str
    horizon: int
    constants: tuple[str, ...]

    def problem(self) -> dict[str, Any]:
        """The :data:`PROBLEM_FIELDS` of this setting."""
        return problem_fields(tang2025_synthetic(**self.overrides))


RACE_CONSTANTS = ("batch_race", "overlap", "race_spread")
COLLAPSE_CONSTANTS = ("adamw_step",)

#: Every setting a shipped constant was fitted on (Adam lam = 1e-5 and AdamW lam = 0.01 over each
#: setting's batch grid for the race; AdamW over a lam grid at B = 16 for the collapse step).
CALIBRATION_SETTINGS: tuple[CalibrationSetting, ...] = (
    CalibrationSetting("paper (App. D.2)", {}, "overlapping", 6000, RACE_CONSTANTS),
    CalibrationSetting("d = 2000", {"d": 2000}, "overlapping", 6000, RACE_CONSTANTS),
    CalibrationSetting(
        "disjoint, n = 40, s = 20, sigma_p = 0.3",
        {"n": 40, "s": 20, "sigma_p": 0.3},
        "disjoint",
        6000,
        RACE_CONSTANTS,
    ),
    CalibrationSetting(
        "paper (App. D.2), B = 16", {"B": 16}, "overlapping", 4000, COLLAPSE_CONSTANTS
    ),
)


def calibrated_on(params: Setting, constants: tuple[str, ...] | None = None) -> tuple[str, ...]:
    """The labels of the calibration settings that share ``params``' problem
    (:data:`PROBLEM_FIELDS`, any horizon, batch size or supports) and fitted any of ``constants``
    (default: every fitted constant): a prediction at ``params`` that uses those constants is
    in-sample. Empty for a held-out setting."""
    problem = problem_fields(params)
    return tuple(
        entry.label
        for entry in CALIBRATION_SETTINGS
        if entry.problem() == problem
        and (constants is None or set(entry.constants) & set(constants))
    )


def find_calibration_setting(
    overrides: Mapping[str, Any], supports: str, horizon: int
) -> CalibrationSetting | None:
    """The entry of :data:`CALIBRATION_SETTINGS` with exactly these overrides, supports and
    horizon (how the comparison settings of ``theorykit compare`` know they are calibration
    settings), or None."""
    for entry in CALIBRATION_SETTINGS:
        if (dict(entry.overrides), entry.supports, entry.horizon) == (
            dict(overrides),
            supports,
            horizon,
        ):
            return entry
    return None


def in_sample_note(labels: tuple[str, ...]) -> str:
    """``"in-sample (calibration setting: paper (App. D.2))"``, or ``""`` for a held-out one."""
    return f"in-sample (calibration setting: {'; '.join(labels)})" if labels else ""
