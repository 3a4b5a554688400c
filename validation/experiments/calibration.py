"""Calibrating theorykit's hidden constants on CNN runs, and re-checking the predictions elsewhere.

Only the settings marked ``calibration`` in :mod:`validation.experiments.settings` enter a fit; the
accuracy of the predictions is then reported on the others (``theorykit compare``):

* the race's ``batch_race`` and ``overlap`` constants (:mod:`theorykit.batch_race`): least squares
  of log B* against the log of the CNN's measured boundary (the bracket's geometric mean), Adam
  and AdamW together, by Nelder-Mead in log constants from the shipped defaults;
* AdamW's ``adamw_step`` (:mod:`theorykit.collapse`): the value that puts the collapse threshold at
  the calibration setting's measured one (log-mean over calibration rows).

For the spread, every row with a measured boundary gets its **implied** constant (the one that puts
the prediction exactly there, the others held at the fit), per run and per seed. The "Calibration"
section of ``theorykit compare``: :func:`calibration_lines`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence

from scipy import optimize

from theorykit.batch_race import critical_batch_size
from theorykit.collapse import collapse_threshold
from theorykit.constants import HiddenConstants
from validation.experiments.batch_comparison import BatchRow, geometric_mean
from validation.experiments.threshold_comparison import ThresholdRow
from validation.reports.tables import markdown_table


@dataclasses.dataclass(frozen=True)
class Calibration:
    """Fitted constants, the settings they came from and the spread of implied values."""

    constants: HiddenConstants
    settings: tuple[str, ...]
    implied_overlap: dict[str, float | None]  # by "optimizer label [seed k]"
    implied_adamw_step: dict[str, float | None]


def _predicted(row: BatchRow, constants: HiddenConstants) -> float:
    return critical_batch_size(
        row.params,
        constants,
        seeds=len(row.seeds),
        overlapping=row.setting.supports == "overlapping",
        horizon=row.setting.steps,
    )


def _solve_log(function: Callable[[float], float], low: float, high: float) -> float | None:
    """The root of a monotone ``function`` of log c on [low, high] (None when it has none there)."""
    try:
        return math.exp(optimize.brentq(function, low, high, xtol=1e-6))
    except ValueError:
        return None


def _implied_overlap(row: BatchRow, measured: float, constants: HiddenConstants) -> float | None:
    def gap(log_c: float) -> float:
        return math.log(
            _predicted(row, dataclasses.replace(constants, overlap=math.exp(log_c)))
        ) - math.log(measured)

    return _solve_log(gap, math.log(1e-4), math.log(1e3))


def fit_race(rows: Sequence[BatchRow], start: HiddenConstants | None = None) -> HiddenConstants:
    """``batch_race`` and ``overlap`` from the calibration rows with a measured boundary."""
    start = start or HiddenConstants()
    chosen = [(row, row.measured()) for row in rows if row.setting.calibration and row.measured()]

    def loss(logs: Sequence[float]) -> float:
        constants = dataclasses.replace(
            start, batch_race=math.exp(logs[0]), overlap=math.exp(logs[1])
        )
        return sum((math.log(_predicted(row, constants)) - math.log(m)) ** 2 for row, m in chosen)

    if not chosen:
        return start
    result = optimize.minimize(
        loss,
        [math.log(start.batch_race), math.log(start.overlap)],
        method="Nelder-Mead",
        options={"xatol": 1e-3, "fatol": 1e-6},
    )
    return dataclasses.replace(
        start, batch_race=math.exp(result.x[0]), overlap=math.exp(result.x[1])
    )


def fit_adamw_step(rows: Sequence[ThresholdRow], start: HiddenConstants) -> HiddenConstants:
    """``adamw_step`` from the AdamW calibration rows (the collapse threshold is proportional to it
    once relaxed; the ratio is applied and re-solved to absorb the horizon term)."""
    chosen = [
        row
        for row in rows
        if row.params.kind.decoupled and row.setting.calibration and row.measured()
    ]
    if not chosen:
        return start
    logs = [math.log(_implied_step(row, start)) for row in chosen]
    logs = [value for value in logs if math.isfinite(value)]
    return dataclasses.replace(start, adamw_step=math.exp(sum(logs) / len(logs))) if logs else start


def _implied_step(row: ThresholdRow, constants: HiddenConstants) -> float:
    measured = row.measured()
    assert measured is not None

    def gap(log_u: float) -> float:
        changed = dataclasses.replace(constants, adamw_step=math.exp(log_u))
        return math.log(collapse_threshold(row.params, changed)) - math.log(measured)

    found = _solve_log(gap, math.log(1e-3), math.log(1e2))
    return math.nan if found is None else found


def calibrate(
    batch: Sequence[BatchRow],
    thresholds: Sequence[ThresholdRow],
    start: HiddenConstants | None = None,
) -> Calibration:
    """Fit every calibrated constant and compute the implied values of every row and seed."""
    constants = fit_adamw_step(thresholds, fit_race(batch, start))
    implied_overlap: dict[str, float | None] = {}
    for row in batch:
        if row.setting.supports != "overlapping":
            continue
        label = f"{row.params.optimizer} {row.setting.label}"
        measured = row.measured()
        implied_overlap[label] = (
            None if measured is None else _implied_overlap(row, measured, constants)
        )
        for index, seed in enumerate(row.seeds):
            one = geometric_mean(row.bracket(row.cnn, index))
            implied_overlap[f"{label} [seed {seed}]"] = (
                None if one is None else _implied_overlap(row, one, constants)
            )
    implied_step = {
        row.setting.label: (_implied_step(row, constants) if row.measured() else None)
        for row in thresholds
        if row.params.kind.decoupled
    }
    names = tuple(
        sorted({row.setting.label for row in [*batch, *thresholds] if row.setting.calibration})
    )
    return Calibration(constants, names, implied_overlap, implied_step)


def _spread(values: Mapping[str, float | None], seeds: bool) -> str:
    """Median and range of the implied values (those of single seeds, or of whole settings)."""
    chosen = [v for key, v in values.items() if v is not None and ("[seed" in key) == seeds]
    if not chosen:
        return "n/a"
    chosen.sort()
    median = chosen[len(chosen) // 2]
    return f"median {median:.3g}, range {chosen[0]:.3g}-{chosen[-1]:.3g} ({len(chosen)} values)"


def _finite(values: Mapping[str, float | None]) -> dict[str, float]:
    return {k: v for k, v in values.items() if v and math.isfinite(v)}


def calibration_lines(calibration: Calibration) -> list[str]:
    """The "Calibration" section of ``theorykit compare``: the fitted constants next to the
    shipped ones, and the spread of the values each setting and seed would imply."""
    shipped, fitted = HiddenConstants(), calibration.constants
    rows = [
        (name, f"{getattr(fitted, name):.3g}", f"{getattr(shipped, name):.3g}")
        for name in ("batch_race", "overlap", "adamw_step")
    ]
    return [
        "## Calibration",
        "",
        f"Fitted on: {', '.join(calibration.settings)} (marked 'calibration' below; left out of "
        "the accuracy figures). The race's constants by least squares of log B* on the measured "
        "boundaries of both optimisers; AdamW's step by matching its measured collapse threshold.",
        "",
        *markdown_table(("constant", "fitted here", "shipped in HiddenConstants"), rows),
        "",
        "Spread of the value each setting would imply on its own (the others held at the fit): "
        f"C_overlap over settings {_spread(calibration.implied_overlap, False)}; over single seeds "
        f"{_spread(calibration.implied_overlap, True)}; C_adamw_step over settings "
        f"{_spread(_finite(calibration.implied_adamw_step), False)}.",
        "",
    ]
