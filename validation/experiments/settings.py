"""The named settings of the experiments, in one registry: the paper's runs and the comparison
variants.

Every entry is (label, overrides of ``theorykit.tang2025_synthetic``), the paper's App. D.2 problem
(n = 200, d = 1000, s = 100, sigma_p = 0.1, alpha = 0.2, sigma0 = 0.01, m = 20, q = 3, eta = 5e-5).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from theorykit.batch_race import Race, race
from theorykit.calibration import find_calibration_setting
from theorykit.constants import HiddenConstants
from theorykit.params import ProblemParams, tang2025_synthetic
from validation.runs.spec import Supports

#: (optimizer, lam, B) of App. D.2: Tables 1-2 (B = 100 vs 2) and the large-lam runs of Figs 5-6.
PAPER_SETTINGS: tuple[tuple[str, float, int], ...] = (
    ("adam", 1e-5, 100),
    ("adam", 1e-5, 2),
    ("adamw", 0.01, 100),
    ("adamw", 0.01, 2),
    ("adam", 0.05, 2),
    ("adamw", 0.5, 2),
)

#: (optimizer, lam) of the large-batch runs of Tables 1-2: the batch-boundary and time-scale
#: comparisons.
LARGE_BATCH_RUNS: tuple[tuple[str, float], ...] = (("adam", 1e-5), ("adamw", 0.01))


@dataclasses.dataclass(frozen=True)
class ComparisonSetting:
    """One setting of the accuracy table of ``theorykit compare``: overrides of the paper's App. D.2
    problem, the data's supports, the horizon of its batch-boundary runs in iterations, and whether
    the calibration of theorykit's hidden constants uses it (:attr:`calibration`, read from
    :data:`theorykit.calibration.CALIBRATION_SETTINGS`; such settings are marked in the report and
    left out of the accuracy figures)."""

    label: str
    overrides: dict
    supports: Supports = "overlapping"
    steps: int = 6000
    #: Also run the reduced dynamics over the batch grid (every disjoint setting, where it is exact,
    #: and the paper's: on overlapping supports a grid costs about an hour on 2 cores).
    simulate: bool = False
    #: The (optimizer, lam) of its batch-boundary runs: both large-batch runs of the paper, or
    #: Adam alone at another lam (Adam's coupled decay, ``theorykit.noise_decay``).
    runs: tuple[tuple[str, float], ...] = LARGE_BATCH_RUNS

    @property
    def calibration(self) -> bool:
        """Whether a shipped hidden constant was fitted on this setting (same overrides, supports
        and horizon as an entry of :data:`theorykit.calibration.CALIBRATION_SETTINGS`)."""
        return find_calibration_setting(self.overrides, self.supports, self.steps) is not None

    def params(self, **changes: object) -> ProblemParams:
        """The setting's :class:`ProblemParams`, torch-style Adam (bias correction), with
        ``changes``."""
        return tang2025_synthetic(bias_correction=True, **{**self.overrides, **changes})

    @property
    def race_options(self) -> dict[str, Any]:
        """The keyword arguments of :mod:`theorykit.batch_race`'s functions (``race``,
        ``critical_batch_size``, ``reversal_time_band``, ``median_reversal_time``) for this
        setting: its supports and the horizon of its batch-boundary runs."""
        return {"overlapping": self.supports == "overlapping", "horizon": self.steps}

    def race(self, params: ProblemParams, constants: HiddenConstants | None = None) -> Race:
        """:func:`theorykit.batch_race.race` at ``params`` (this setting's, at some B) over the
        setting's horizon and supports."""
        return race(params, constants, **self.race_options)


def adam_decay_setting(label: str, overrides: dict, lam: float) -> ComparisonSetting:
    """A setting whose batch-boundary runs are Adam's alone at weight decay ``lam`` (its coupled
    decay against the noise, ``theorykit.noise_decay``); lam is one of its overrides, so that it is
    never taken for a calibration setting of the same other fields."""
    return ComparisonSetting(label, {**overrides, "lam": lam}, runs=(("adam", lam),))


#: The accuracy table: n s / d (sharing) varied through d and s, and n, sigma_p, sigma0, q, m,
#: alpha, eta, Adam's (beta1, beta2) (the paper's Figs 9-10 vary them with beta1^2 < beta2), the
#: horizon and Adam's lam (at q = 3 and 4: its coupled decay against the noise) varied one at a
#: time, in both support regimes. Calibration settings
#: (``theorykit.calibration``): the paper's, d = 2000 (half the sharing) and one disjoint.
ACCURACY_SETTINGS: tuple[ComparisonSetting, ...] = (
    ComparisonSetting("paper (App. D.2)", {}, simulate=True),
    ComparisonSetting("d = 2000", {"d": 2000}),
    ComparisonSetting("d = 4000", {"d": 4000}),
    ComparisonSetting("s = 50", {"s": 50}),
    ComparisonSetting("s = 200, sigma_p = 0.0707", {"s": 200, "sigma_p": 0.0707}),
    ComparisonSetting("n = 100", {"n": 100}),
    ComparisonSetting("sigma_p = 0.15", {"sigma_p": 0.15}),
    ComparisonSetting("sigma0 = 0.005", {"sigma0": 0.005}),
    ComparisonSetting("sigma0 = 0.02", {"sigma0": 0.02}),
    ComparisonSetting("q = 4", {"q": 4}),
    ComparisonSetting("m = 10", {"m": 10}),
    ComparisonSetting("alpha = 0.1", {"alpha": 0.1}),
    ComparisonSetting("alpha = 0.3", {"alpha": 0.3}),
    ComparisonSetting("eta = 1e-4", {"eta": 1e-4}),
    ComparisonSetting("eta = 2.5e-5", {"eta": 2.5e-5}),
    ComparisonSetting("beta1 = 0.5, beta2 = 0.9", {"beta1": 0.5, "beta2": 0.9}),
    ComparisonSetting("beta1 = 0.9, beta2 = 0.99", {"beta1": 0.9, "beta2": 0.99}),
    ComparisonSetting("beta1 = 0.95, beta2 = 0.999", {"beta1": 0.95, "beta2": 0.999}),
    ComparisonSetting("horizon 3000 iterations", {}, steps=3000),
    ComparisonSetting("horizon 12000 iterations", {}, steps=12_000),
    ComparisonSetting("horizon 20000 iterations", {}, steps=20_000),
    adam_decay_setting("lam = 1e-4 (Adam)", {}, 1e-4),
    adam_decay_setting("lam = 2e-4 (Adam)", {}, 2e-4),
    adam_decay_setting("q = 4, lam = 1e-6 (Adam)", {"q": 4}, 1e-6),
    adam_decay_setting("q = 4, lam = 3e-6 (Adam)", {"q": 4}, 3e-6),
    ComparisonSetting(
        "disjoint, n = 40, s = 20, sigma_p = 0.2",
        {"n": 40, "s": 20, "sigma_p": 0.2},
        supports="disjoint",
        simulate=True,
    ),
    ComparisonSetting(
        "disjoint, n = 40, s = 20, sigma_p = 0.3",
        {"n": 40, "s": 20, "sigma_p": 0.3},
        supports="disjoint",
        simulate=True,
    ),
    ComparisonSetting(
        "disjoint, n = 40, s = 20", {"n": 40, "s": 20}, supports="disjoint", simulate=True
    ),
)


#: Batch sizes of the batch-boundary runs, by n: divisors of n, so that every epoch is P = n/B
#: equal batches, the race's P (B = 32 at n = 40 would be epochs of a 32- and an 8-batch).
BATCH_GRIDS: dict[int, tuple[int, ...]] = {
    40: (1, 2, 4, 5, 8, 10, 20, 40),
    100: (2, 4, 5, 10, 20, 25, 50, 100),
    200: (2, 5, 10, 20, 25, 40, 50, 100, 200),
}


def batch_grid(n: int) -> tuple[int, ...]:
    """:data:`BATCH_GRIDS` for n, else every divisor of n from 2 to n."""
    return BATCH_GRIDS.get(n, tuple(B for B in range(2, n + 1) if n % B == 0))


#: The threshold table (lambda*_Adam, AdamW collapse): B = 16 (the setting of the AdamW
#: measurements of docs/notes/overlap_and_horizon.md §4), horizons 4000 iterations, and one factor
#: changed at a time; the calibration setting (AdamW's C_adamw_step) is the paper's.
THRESHOLD_SETTINGS: tuple[ComparisonSetting, ...] = (
    ComparisonSetting("paper (App. D.2), B = 16", {"B": 16}, steps=4000),
    ComparisonSetting("sigma0 = 0.005", {"B": 16, "sigma0": 0.005}, steps=4000),
    ComparisonSetting("sigma0 = 0.02", {"B": 16, "sigma0": 0.02}, steps=4000),
    ComparisonSetting("q = 4", {"B": 16, "q": 4}, steps=4000),
    ComparisonSetting("m = 10", {"B": 16, "m": 10}, steps=4000),
    ComparisonSetting("n = 100", {"B": 16, "n": 100}, steps=4000),
    ComparisonSetting("s = 50", {"B": 16, "s": 50}, steps=4000),
    ComparisonSetting("sigma_p = 0.2", {"B": 16, "sigma_p": 0.2}, steps=4000),
    ComparisonSetting("d = 2000", {"B": 16, "d": 2000}, steps=4000),
    ComparisonSetting("alpha = 0.1", {"B": 16, "alpha": 0.1}, steps=4000),
    ComparisonSetting("eta = 1e-4", {"B": 16, "eta": 1e-4}, steps=4000),
    ComparisonSetting("horizon 1000 iterations", {"B": 16}, steps=1000),
    ComparisonSetting("horizon 12000 iterations", {"B": 16}, steps=12_000),
    ComparisonSetting("B = 2", {"B": 2}, steps=4000),
    ComparisonSetting(
        "disjoint, n = 40, s = 20, B = 8",
        {"n": 40, "s": 20, "B": 8},
        supports="disjoint",
        steps=4000,
    ),
)
