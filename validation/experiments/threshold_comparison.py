"""The weight decay above which training collapses: theorykit vs the CNN, Adam and AdamW, across
settings.

Two finite-size thresholds are put against the CNN, each on a sqrt(2)-spaced grid around its own
prediction (:data:`GRID_FACTORS`), the seeds of the comparison's scope (two in the full
comparison), the collapse rule of :mod:`dynamics.outcomes` (every weight ends below a tenth of the
largest initial one; a lam counts as collapsing when at least half of its seeds collapse):

* Adam (L2): lambda*_Adam = D0 / gamma0 (``theorykit.bounds.LAMBDA_STAR_ADAM``, Cor 4.3 at t = 0);
* AdamW (decoupled): the collapse threshold at the run's eta and horizon
  (:func:`theorykit.collapse.collapse_threshold`).

The CNN runs are resumable (``DIR/cnn/results.sqlite``). The "Collapse thresholds" section of
``theorykit compare``: :func:`threshold_comparison_lines`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from dynamics.outcomes import bracket, is_collapsed, open_bracket
from dynamics.predict import epochs_for_steps
from theorykit.collapse import collapse_threshold
from theorykit.conditions import lambda_thresholds
from theorykit.constants import HiddenConstants
from theorykit.params import ProblemParams
from validation.experiments.comparison_progress import JobProgress
from validation.experiments.comparison_scope import FULL_SCOPE, ComparisonScope
from validation.experiments.comparison_scoring import agrees, interval_text, ratio_text
from validation.experiments.settings import ComparisonSetting
from validation.progress import STDERR
from validation.reports.tables import markdown_table
from validation.runs.spec import EngineOptions, RunSpec
from validation.sweeps.runner import train_or_resume

#: lam grid of every setting, as multiples of its predicted threshold (sqrt(2) spacing).
GRID_FACTORS = (0.25, 0.354, 0.5, 0.707, 1.0, 1.414, 2.0, 2.83, 4.0)
#: The constants the grids are centred at, fixed so that a calibration or a change of the shipped
#: defaults never moves a grid (and so never retrains a stored run): the uncalibrated values.
GRID_CONSTANTS = HiddenConstants(adamw_step=1.0)
#: The optimiser and the threshold theorykit predicts for it.
THRESHOLDS = (("adam", "lambda*_Adam"), ("adamw", "AdamW collapse threshold"))


def predicted_threshold(params: ProblemParams, constants: HiddenConstants | None = None) -> float:
    """lambda*_Adam for an L2 optimiser, the AdamW collapse threshold for a decoupled one."""
    if params.kind.decoupled:
        return collapse_threshold(params, constants)
    return lambda_thresholds(params, constants)["lambda_star_adam"]


@dataclasses.dataclass(frozen=True)
class ThresholdRow:
    """One (setting, optimiser): the prediction, the grid it centred and the CNN's collapse per lam
    and seed."""

    setting: ComparisonSetting
    params: ProblemParams
    predicted: float
    grid: tuple[float, ...]
    collapsed: tuple[tuple[bool, ...], ...]

    def bracket(self) -> tuple[float, float] | None:
        """(largest lam that trains, smallest lam above it that collapses), majority of seeds."""
        return bracket(self.grid, self._collapses())

    def measured_interval(self) -> tuple[float, float]:
        """The bracket, or the open interval the grid leaves
        (:func:`dynamics.outcomes.open_bracket`)."""
        return open_bracket(self.grid, self._collapses())

    def _collapses(self) -> list[bool]:
        return [2 * sum(row) >= len(row) for row in self.collapsed]

    def measured(self) -> float | None:
        pair = self.bracket()
        return None if pair is None else math.sqrt(pair[0] * pair[1])


def _base(setting: ComparisonSetting, optimizer: str) -> ProblemParams:
    p = setting.params(optimizer=optimizer)
    return p.replace(epochs=epochs_for_steps(p, setting.steps))


def threshold_specs(
    setting: ComparisonSetting, optimizer: str, seeds: Sequence[int] = FULL_SCOPE.seeds
) -> tuple[list[float], list[RunSpec]]:
    """The lam grid around the prediction at :data:`GRID_CONSTANTS` and its CNN runs, one per
    lam and seed."""
    base = _base(setting, optimizer)
    centre = predicted_threshold(base, GRID_CONSTANTS)
    grid = [float(f"{centre * factor:.4g}") for factor in GRID_FACTORS]
    specs = [
        RunSpec(
            base.replace(lam=lam),
            seed,
            seed,
            setting.supports,
            name=f"{optimizer} {setting.label} lam={lam:g}",
        )
        for lam in grid
        for seed in seeds
    ]
    return grid, specs


def threshold_options(epochs: int) -> EngineOptions:
    """The engine options of the threshold runs of a horizon of ``epochs``: 20 records."""
    return EngineOptions(record_every=max(1, epochs // 20), test_size=1000)


def threshold_plan(
    scope: ComparisonScope = FULL_SCOPE,
) -> list[tuple[EngineOptions, list[RunSpec]]]:
    """Every CNN run of :func:`threshold_rows` over the threshold settings and seeds of
    ``scope``, with its engine options."""
    by_epochs: dict[int, list[RunSpec]] = {}
    for optimizer, _ in THRESHOLDS:
        for setting in scope.thresholds:
            for spec in threshold_specs(setting, optimizer, scope.seeds)[1]:
                by_epochs.setdefault(spec.params.epochs, []).append(spec)
    return [(threshold_options(epochs), by_epochs[epochs]) for epochs in sorted(by_epochs)]


def threshold_rows(
    store: Path,
    constants: HiddenConstants | None = None,
    scope: ComparisonScope = FULL_SCOPE,
    log: TextIO = STDERR,
    job: JobProgress | None = None,
) -> list[ThresholdRow]:
    """Train (or resume, counting them in ``job``) the CNN grids of ``scope`` (centred at
    :data:`GRID_CONSTANTS`, so that they never move with a calibration) and return one row per
    (setting, optimiser) with the prediction at ``constants``."""
    records = {}
    for options, specs in threshold_plan(scope):
        trained = train_or_resume("thresholds", specs, options, store, log)
        if job is not None:
            job.trained(record.key for record in trained)
        for record in trained:
            records[(record.name, record.data_seed)] = record
    rows = []
    for optimizer, _ in THRESHOLDS:
        for setting in scope.thresholds:
            grid, _ = threshold_specs(setting, optimizer, scope.seeds)
            collapsed = []
            for lam in grid:
                name = f"{optimizer} {setting.label} lam={lam:g}"
                runs = [records[(name, seed)] for seed in scope.seeds]
                collapsed.append(
                    tuple(
                        is_collapsed(r.series("weight_max")[0], r.series("weight_max")[-1])
                        for r in runs
                    )
                )
            base = _base(setting, optimizer)
            rows.append(
                ThresholdRow(
                    setting,
                    base,
                    predicted_threshold(base, constants),
                    tuple(grid),
                    tuple(collapsed),
                )
            )
    return rows


def threshold_comparison_lines(rows: Sequence[ThresholdRow]) -> list[str]:
    """The "Collapse thresholds" section of ``theorykit compare``: per optimiser, one row per
    setting with theorykit's threshold, the CNN's bracket and whether they agree
    (:func:`validation.experiments.comparison_scoring.agrees`)."""
    lines = ["## Collapse thresholds (B = 16 unless stated)", ""]
    for optimizer, name in (("adam", "lambda*_Adam"), ("adamw", "collapse threshold")):
        table = [
            (
                row.setting.label,
                "calibration" if row.setting.calibration else "held out",
                f"{row.params.eta:g}",
                row.setting.steps,
                f"{row.predicted:.4g}",
                interval_text(row.measured_interval()),
                ratio_text(row.measured(), row.predicted),
                "yes" if agrees(row.measured_interval(), row.predicted) else "NO",
            )
            for row in rows
            if row.params.optimizer == optimizer
        ]
        lines += [
            f"### {optimizer}: {name}",
            "",
            *markdown_table(
                (
                    "setting",
                    "role",
                    "eta",
                    "horizon (iterations)",
                    f"{name} (theorykit)",
                    "CNN bracket",
                    "CNN / theorykit",
                    "agrees",
                ),
                table,
            ),
            "",
        ]
    return lines
