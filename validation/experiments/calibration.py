"""Calibrating theorykit's hidden constants on CNN runs, and re-checking the predictions elsewhere.

Only the settings marked ``calibration`` in :mod:`validation.experiments.settings` enter a fit; the
accuracy of the predictions is then reported on the others (``theorykit compare``):

* the race's ``batch_race`` and ``overlap`` constants (:mod:`theorykit.batch_race`): least squares
  of log B* against the log of the CNN's measured boundary (the bracket's geometric mean), Adam
  and AdamW together, by Nelder-Mead in log constants from the shipped defaults;
* the race's ``race_spread``: the maximum likelihood of the calibration runs' head reversals
  (0, 1 or 2 heads per B and seed, binomial(2, P_rev) under the race), the other two held; the
  three are fitted in turn until no constant moves by :data:`SPREAD_TOLERANCE` (at most
  :data:`SPREAD_ROUNDS` rounds). The race fitted
  without a spread (``race_spread`` = 0) is kept beside them (``narrow``: the forecast it is scored
  against, :mod:`validation.experiments.forecast`);
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
from validation.experiments.forecast import row_race
from validation.experiments.threshold_comparison import ThresholdRow
from validation.reports.tables import markdown_table


@dataclasses.dataclass(frozen=True)
class Calibration:
    """Fitted constants, the settings they came from and the spread of implied values."""

    constants: HiddenConstants
    settings: tuple[str, ...]
    implied_overlap: dict[str, float | None]  # by "optimizer label [seed k]"
    implied_adamw_step: dict[str, float | None]
    narrow: HiddenConstants  # the race fitted with race_spread = 0


def _predicted(row: BatchRow, constants: HiddenConstants) -> float:
    return critical_batch_size(
        row.params,
        constants,
        seeds=len(row.seeds),
        **row.setting.race_options,
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


#: Rounds of (race_spread, then batch_race and overlap) after the narrow fit: the spread moves B*,
#: which the next least squares absorbs, and so on until no constant moves by more than
#: SPREAD_TOLERANCE (relative) in a round.
SPREAD_ROUNDS = 20
SPREAD_TOLERANCE = 2e-3
#: Reversal probabilities are read within [floor, 1 - floor] in the likelihood: a head that
#: contradicts a probability of exactly 0 or 1 would make it -inf for every spread.
LIKELIHOOD_FLOOR = 1e-6


def fit_spread(rows: Sequence[BatchRow], start: HiddenConstants) -> HiddenConstants:
    """``race_spread`` of the largest likelihood of the calibration runs' head reversals (k of 2
    heads per B and seed, binomial(2, P_rev)), the other constants held at ``start``; searched on
    [0, 2] (a standard deviation of log R)."""
    chosen = [row for row in rows if row.setting.calibration]
    if not chosen:
        return start

    def negative_log_likelihood(spread: float) -> float:
        constants = dataclasses.replace(start, race_spread=spread)
        total = 0.0
        for row in chosen:
            for B, heads in zip(row.grid, row.cnn_heads, strict=True):
                p = row_race(row, B, constants).reversal_probability
                p = min(max(p, LIKELIHOOD_FLOOR), 1 - LIKELIHOOD_FLOOR)
                for k in heads:
                    if k is not None:
                        total -= k * math.log(p) + (2 - k) * math.log(1 - p)
        return total

    result = optimize.minimize_scalar(
        negative_log_likelihood, bounds=(0.0, 2.0), method="bounded", options={"xatol": 1e-3}
    )
    return dataclasses.replace(start, race_spread=float(result.x))


def _settled(before: HiddenConstants, after: HiddenConstants) -> bool:
    """Whether no race constant moved by more than :data:`SPREAD_TOLERANCE` (relative) in a
    round (the spread from 0 counts as moved)."""
    return all(
        abs(getattr(after, name) - getattr(before, name))
        <= SPREAD_TOLERANCE * abs(getattr(before, name))
        for name in ("batch_race", "overlap", "race_spread")
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
    start = start or HiddenConstants()
    narrow = fit_race(batch, dataclasses.replace(start, race_spread=0.0))
    race_constants = narrow
    for _ in range(SPREAD_ROUNDS):
        previous, race_constants = (
            race_constants,
            fit_race(batch, fit_spread(batch, race_constants)),
        )
        if _settled(previous, race_constants):
            break
    constants = fit_adamw_step(thresholds, race_constants)
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
    narrow = dataclasses.replace(narrow, adamw_step=constants.adamw_step)
    return Calibration(constants, names, implied_overlap, implied_step, narrow)


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
        for name in ("batch_race", "overlap", "race_spread", "adamw_step")
    ]
    return [
        "## Calibration",
        "",
        f"Fitted on: {', '.join(calibration.settings)} (marked 'calibration' below; left out of "
        "the accuracy figures). The race's batch_race and overlap by least squares of log B* on "
        "the measured boundaries of both optimisers, its race_spread by the likelihood of the "
        "heads' reversals (the three in turn); AdamW's step by matching its measured collapse "
        "threshold. "
        f"Without a spread the race fits batch_race {calibration.narrow.batch_race:.3g} and "
        f"overlap {calibration.narrow.overlap:.3g} (the narrow race of the forecast section).",
        "",
        *markdown_table(("constant", "fitted here", "shipped in HiddenConstants"), rows),
        "",
        "Spread of the value each setting would imply on its own (the others held at the fit): "
        f"C_overlap over settings {_spread(calibration.implied_overlap, False)}; over single seeds "
        f"{_spread(calibration.implied_overlap, True)}; C_adamw_step over settings "
        f"{_spread(_finite(calibration.implied_adamw_step), False)}.",
        "",
    ]
