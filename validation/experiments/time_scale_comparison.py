"""Reversal time, Stage-I length and the probability that a head reverses: theorykit vs the CNN.

Read off the batch-boundary runs of :mod:`validation.experiments.batch_comparison` (nothing is
trained twice):

* **time scales** at B = n/2 (the paper's large batch), per setting, optimiser and seed: the
  reversal time T_r (the peak of a head's best feature coefficient, when it then falls back by half
  its rise, :func:`dynamics.outcomes.measured_time_scales`) and the Stage-I length T0 (the data
  loss halved) against the race's finite-size numbers (:func:`theorykit.batch_race.race`: t_r and
  ``RACE_STAGE1_LENGTH``; the median over seeds of a reversing head's t_r,
  :func:`theorykit.batch_race.median_reversal_time`) and the lemmas' orders
  (``theorykit.time_scales``); scored on the held-out settings per (setting, optimiser), the
  median over seeds within 2x of the race's median T_r and of its T0 (:func:`held_out_accuracy`);
  and each reversing head's T_r against the race's band over seeds
  (:func:`theorykit.batch_race.reversal_time_band`, :func:`band_coverage`);
* **head reversals** over every held-out (setting, optimiser, B, seed): the fraction of heads
  whose best feature coefficient ends negative, binned by the race's predicted probability (over
  the spread of seeds, ``C_race_spread``).

Both sections of ``theorykit compare``: :func:`time_scale_lines`; its conclusion's line:
:func:`time_scale_note`.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
from collections.abc import Mapping, Sequence

from dynamics.outcomes import measured_time_scales
from theorykit.batch_race import median_reversal_time, reversal_time_band
from theorykit.constants import HiddenConstants
from theorykit.time_scales import REVERSAL_TIME, STAGE1_LENGTH_LARGE_BATCH
from validation.experiments.comparison_scope import FULL_SCOPE, ComparisonScope
from validation.experiments.comparison_scoring import ratio_text, within
from validation.experiments.reliability import (
    ReliabilityBin,
    reliability_bins,
    reliability_table,
)
from validation.experiments.settings import ComparisonSetting
from validation.reports.seed_spread import HEADS
from validation.reports.tables import markdown_table
from validation.runs.records import RunRecord


@dataclasses.dataclass(frozen=True)
class TimeScaleRow:
    """One (setting, optimiser, seed) at B = n/2: predicted and measured times, in iterations."""

    label: str
    optimizer: str
    seed: int
    calibration: bool
    #: The race's t_r: its fastest typical head's (eps = 0), and the median over seeds of a
    #: reversing head's (:func:`theorykit.batch_race.median_reversal_time`; None: no reversal).
    predicted_reversal: float | None
    predicted_median_reversal: float | None
    lemma_reversal: float
    measured_reversal: float | None
    #: The race's band of a reversing head's T_r over seeds (0.1 / 0.9 quantiles,
    #: :func:`theorykit.batch_race.reversal_time_band`; None: no head reverses), and the CNN's T_r
    #: of each head (+1, -1; None where that head did not reverse).
    predicted_reversal_band: tuple[float, float] | None
    measured_head_reversals: tuple[float | None, float | None]
    predicted_stage1: float
    lemma_stage1: float
    measured_stage1: float | None


def _record(
    records: Mapping[str, RunRecord], optimizer: str, setting: ComparisonSetting, B: int, seed: int
) -> RunRecord:
    return records[f"{optimizer} {setting.label} B={B} seed={seed}"]


def time_scale_rows(
    records: Mapping[str, RunRecord],
    constants: HiddenConstants | None = None,
    scope: ComparisonScope = FULL_SCOPE,
) -> list[TimeScaleRow]:
    """T_r and T0 at B = n/2 for every setting, optimiser and seed of the batch runs of ``scope``
    (none where its grid leaves out n/2)."""
    rows = []
    for setting in scope.settings:
        for optimizer, lam in setting.runs:
            base = setting.params(optimizer=optimizer, lam=lam)
            B = base.n // 2
            if B not in scope.grid(base.n):
                continue
            params = base.replace(B=B)
            predicted = setting.race(params, constants)
            band = reversal_time_band(params, constants, **setting.race_options)
            median = median_reversal_time(params, constants, **setting.race_options)
            for seed in scope.seeds:
                trajectory = _record(records, optimizer, setting, B, seed).trajectory()
                measured = measured_time_scales(
                    trajectory.epoch * params.iterations_per_epoch, trajectory.metrics
                )
                rows.append(
                    TimeScaleRow(
                        setting.label,
                        optimizer,
                        seed,
                        setting.calibration,
                        predicted.reversal_time,
                        median,
                        float(REVERSAL_TIME.at(params)),
                        measured["reversal"],
                        band,
                        (measured["reversal_pos"], measured["reversal_neg"]),
                        predicted.stage1_length,
                        float(STAGE1_LENGTH_LARGE_BATCH.at(params)),
                        measured["stage1_end"],
                    )
                )
    return rows


def held_out_accuracy(rows: Sequence[TimeScaleRow]) -> dict[str, tuple[int, int]]:
    """Per time scale ("T_r", "T0"): (within 2x, scored) over the held-out (setting, optimiser)
    pairs where the CNN has the time in every seed and the race predicts one: the median over the
    seeds of the CNN's time against the race's (for T_r its median over seeds,
    :func:`theorykit.batch_race.median_reversal_time`: a median against a median, where the
    race's eps = 0 head is its fastest). Calibration settings are left out."""
    groups: dict[tuple[str, str], list[TimeScaleRow]] = {}
    for row in rows:
        if not row.calibration:
            groups.setdefault((row.label, row.optimizer), []).append(row)
    scores = {}
    for name, measured, predicted in (
        ("T_r", lambda r: r.measured_reversal, lambda r: r.predicted_median_reversal),
        ("T0", lambda r: r.measured_stage1, lambda r: r.predicted_stage1),
    ):
        pairs = [
            (statistics.median(measured(r) for r in group), predicted(group[0]))
            for group in groups.values()
            if all(measured(r) is not None for r in group) and predicted(group[0]) is not None
        ]
        scores[name] = (sum(within(m, p) for m, p in pairs), len(pairs))
    return scores


def band_coverage(rows: Sequence[TimeScaleRow]) -> tuple[int, int]:
    """(inside, heads): the held-out CNN heads that reversed, and how many of their T_r fall in the
    race's 0.1-0.9 band over seeds (a calibrated band holds about 80% of them). Calibration
    settings are left out."""
    times = [
        (time, row.predicted_reversal_band)
        for row in rows
        if not row.calibration
        for time in row.measured_head_reversals
        if time is not None
    ]
    inside = sum(band is not None and band[0] <= time <= band[1] for time, band in times)
    return inside, len(times)


def reliability(
    records: Mapping[str, RunRecord],
    constants: HiddenConstants | None = None,
    scope: ComparisonScope = FULL_SCOPE,
) -> list[ReliabilityBin]:
    """Predicted probability that a head reverses vs the observed fraction, over every batch run of
    the settings not used for calibration."""
    pairs: list[tuple[float, bool]] = []
    for setting in (setting for setting in scope.settings if not setting.calibration):
        for optimizer, lam in setting.runs:
            base = setting.params(optimizer=optimizer, lam=lam)
            for B in scope.grid(base.n):
                probability = setting.race(base.replace(B=B), constants).reversal_probability
                for seed in scope.seeds:
                    final = _record(records, optimizer, setting, B, seed).final
                    for head in HEADS:
                        value = final.get(head)
                        if value is not None and math.isfinite(value):
                            pairs.append((probability, value < 0))
    return reliability_bins(pairs)


def _iterations(value: float | None) -> str:
    return "none" if value is None else f"{value:.0f}"


def _band(band: tuple[float, float] | None) -> str:
    return "none" if band is None else f"{band[0]:.0f} / {band[1]:.0f}"


def _time_scale_table(rows: Sequence[TimeScaleRow]) -> list[str]:
    """One row per (setting, optimiser, seed): T_r and T0 of the race and of the lemmas against
    the CNN's, with the ratios; calibration settings marked."""
    table = [
        (
            f"{r.label} (calibration)" if r.calibration else r.label,
            r.optimizer,
            r.seed,
            _iterations(r.predicted_reversal),
            _iterations(r.predicted_median_reversal),
            _band(r.predicted_reversal_band),
            f"{r.lemma_reversal:.0f}",
            " / ".join(_iterations(value) for value in r.measured_head_reversals),
            ratio_text(r.measured_reversal, r.predicted_median_reversal),
            ratio_text(r.measured_reversal, r.lemma_reversal),
            f"{r.predicted_stage1:.0f}",
            f"{r.lemma_stage1:.0f}",
            _iterations(r.measured_stage1),
            ratio_text(r.measured_stage1, r.predicted_stage1),
            ratio_text(r.measured_stage1, r.lemma_stage1),
        )
        for r in rows
    ]
    return markdown_table(
        (
            "setting",
            "optimizer",
            "seed",
            "T_r (race, eps = 0)",
            "T_r (race, median over seeds)",
            "T_r band (race, 0.1 / 0.9 over seeds)",
            "T_r (lemma order)",
            "T_r CNN (head +1 / -1)",
            "CNN / race median",
            "CNN / lemma",
            "T0 (race)",
            "T0 (lemma order)",
            "T0 CNN",
            "CNN / race",
            "CNN / lemma",
        ),
        table,
    )


def _reliability_lines(bins: Sequence[ReliabilityBin]) -> list[str]:
    """The "Head reversals" section: :func:`reliability`'s bins as a table."""
    return [
        "## Head reversals: predicted probability vs observed frequency",
        "",
        "Every batch-boundary run of the settings not used for calibration (both optimisers, "
        "every B, every seed), each of its two heads: "
        "the race's probability that the head reverses within the horizon "
        "(theorykit.batch_race.race) against the fraction of heads whose best feature coefficient "
        "ends negative.",
        "",
        *reliability_table(bins, "heads", "observed fraction"),
        "",
    ]


def _held_out_text(rows: Sequence[TimeScaleRow]) -> str:
    inside, heads = band_coverage(rows)
    return (
        "; ".join(
            f"{name} {hits} of {scored}" for name, (hits, scored) in held_out_accuracy(rows).items()
        )
        + f"; a reversing head's T_r inside the race's 0.1-0.9 band over seeds: {inside} of {heads}"
    )


def time_scale_note(rows: Sequence[TimeScaleRow]) -> list[str]:
    """The conclusion's line on the time scales (none without held-out rows)."""
    if all(row.calibration for row in rows):
        return []
    return [
        "Time scales at B = n/2, held out (per setting and optimiser, the median over seeds "
        f"within 2x of the race's median T_r and of its T0): {_held_out_text(rows)} (section "
        "'Time scales')."
    ]


def time_scale_lines(
    records: Mapping[str, RunRecord],
    rows: Sequence[TimeScaleRow],
    constants: HiddenConstants | None = None,
    scope: ComparisonScope = FULL_SCOPE,
) -> list[str]:
    """The "Time scales" and "Head reversals" sections of ``theorykit compare``: ``rows`` of
    :func:`time_scale_rows` and the reliability of the batch-boundary runs ``records`` of
    ``scope`` (:func:`reliability`)."""
    reversed_runs = [r for r in rows if r.measured_reversal and r.predicted_median_reversal]
    good = sum(within(r.measured_reversal, r.predicted_median_reversal) for r in reversed_runs)
    held_out = _held_out_text(rows)
    return [
        "## Time scales at B = n/2 (iterations)",
        "",
        "T_r and T0 (the data loss halved): the race's finite-size numbers (theorykit.batch_race: "
        "t_r and RACE_STAGE1_LENGTH, which has no constant of its own) and the lemmas' orders "
        "(theorykit.time_scales) against the CNN's (dynamics.outcomes.measured_time_scales). "
        "The race's T_r at eps = 0 is its fastest typical head's (the spread only slows a head); "
        "over seeds a reversing head's T_r has the race's median "
        "(theorykit.batch_race.median_reversal_time), which the CNN's T_r is scored against, and "
        "falls in its band from the 0.1 to the 0.9 quantile "
        "(theorykit.batch_race.reversal_time_band), the CNN's per head beside it. "
        f"T_r within 2x of the race's median in {good} of {len(reversed_runs)} runs that "
        "reversed. Held out (settings not used for calibration; per setting and optimiser, the "
        "median over seeds of the CNN's time where every seed has one, within 2x of the race's "
        f"median T_r and of its T0): {held_out}.",
        "",
        *_time_scale_table(rows),
        "",
        *_reliability_lines(reliability(records, constants, scope)),
    ]
