"""Memorisation as a forecast: the race's probability that a run memorises, scored per run against
the CNN like a weather forecast.

Every (setting, optimiser, B, seed) of the batch-boundary runs
(:mod:`validation.experiments.batch_comparison`) is one forecast: the probability that the run
memorises within the setting's horizon (:meth:`theorykit.batch_race.Race.memorisation_probability`
of one run) against whether the CNN's run did (:func:`dynamics.outcomes.outcome`). Three forecasts
are scored on the settings *not* used for calibration, each with its constants fitted on the
calibration settings:

* **spread race**: the race with ``C_race_spread`` (the module docstring of
  :mod:`theorykit.batch_race`);
* **narrow race**: the race without it (``C_race_spread`` = 0, the other constants refitted);
* **0/1 verdict**: memorises exactly when B >= B* of the narrow race (the finite-size verdict's
  rule, :func:`theorykit.batch_race.critical_batch_size` for the comparison's seeds).

Scores: the Brier score (mean squared difference of probability and outcome, 0 is perfect), the
base rate's (the held-out frequency f forecast for every run: f (1 - f)), and the **confident
misses**, runs whose outcome differs from the forecast by more than :data:`CONFIDENT_MISS`; for
the spread race also its reliability table and the Brier score's decomposition into reliability,
resolution and uncertainty (:mod:`validation.experiments.reliability`). The
"Memorisation as a forecast" section of ``theorykit compare``: :func:`forecast_lines`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

from theorykit.batch_race import Race, critical_batch_size
from theorykit.constants import HiddenConstants
from theorykit.outcome_labels import MEMORISES
from validation.experiments.batch_comparison import BatchRow
from validation.experiments.reliability import (
    brier_decomposition,
    reliability_bins,
    reliability_table,
)
from validation.reports.tables import markdown_table

#: |outcome - probability| above this is a confident miss: a run forecast to memorise with
#: probability below 0.1 that memorised, or above 0.9 that did not.
CONFIDENT_MISS = 0.9


@dataclasses.dataclass(frozen=True)
class Forecast:
    """One run: its row's label, B, seed, forecast probability, outcome (1 memorised) and how many
    of its heads' best feature coefficients ended negative (None: not read off the run)."""

    label: str
    B: int
    seed: int
    probability: float
    memorised: bool
    calibration: bool
    reversed_heads: int | None = None


def run_forecasts(
    rows: Sequence[BatchRow], probability: Callable[[BatchRow, int], float]
) -> list[Forecast]:
    """One :class:`Forecast` per (row, B, seed) of ``rows``, the probability from
    ``probability(row, B)`` (one per B: the seeds of a B share it)."""
    forecasts = []
    for row in rows:
        label = f"{row.params.optimizer} {row.setting.label}"
        for index, B in enumerate(row.grid):
            p = probability(row, B)
            heads = row.cnn_heads[index] if row.cnn_heads else (None,) * len(row.seeds)
            for seed, result, reversed_heads in zip(row.seeds, row.cnn[index], heads, strict=True):
                forecasts.append(
                    Forecast(
                        label,
                        B,
                        seed,
                        p,
                        result == MEMORISES,
                        row.setting.calibration,
                        reversed_heads,
                    )
                )
    return forecasts


def row_race(row: BatchRow, B: int, constants: HiddenConstants) -> Race:
    """The race of ``row``'s setting at B, over the row's horizon and supports."""
    return row.setting.race(row.params.replace(B=B), constants)


def race_probability(constants: HiddenConstants) -> Callable[[BatchRow, int], float]:
    """The race's probability that one run of ``row`` at B memorises within the row's horizon."""

    def probability(row: BatchRow, B: int) -> float:
        return row_race(row, B, constants).memorisation_probability(1)

    return probability


def verdict_probability(constants: HiddenConstants) -> Callable[[BatchRow, int], float]:
    """1 where B >= B* at ``constants`` (the row's seeds, horizon and supports), else 0."""
    boundaries: dict[int, float] = {}

    def probability(row: BatchRow, B: int) -> float:
        key = id(row)
        if key not in boundaries:
            boundaries[key] = critical_batch_size(
                row.params,
                constants,
                seeds=len(row.seeds),
                **row.setting.race_options,
            )
        return 1.0 if boundaries[key] <= B else 0.0

    return probability


def brier(forecasts: Sequence[Forecast]) -> float:
    """Mean of (probability - outcome)^2."""
    return sum((f.probability - f.memorised) ** 2 for f in forecasts) / len(forecasts)


def confident_misses(forecasts: Sequence[Forecast]) -> list[Forecast]:
    """The forecasts whose outcome differs from the probability by more than
    :data:`CONFIDENT_MISS`."""
    return [f for f in forecasts if abs(f.memorised - f.probability) > CONFIDENT_MISS]


@dataclasses.dataclass(frozen=True)
class ForecastScore:
    """One forecast's scores on the held-out runs."""

    name: str
    brier: float
    misses: tuple[Forecast, ...]


def forecast_scores(
    rows: Sequence[BatchRow], spread: HiddenConstants, narrow: HiddenConstants
) -> tuple[list[ForecastScore], list[Forecast]]:
    """The three forecasts' scores on the held-out runs of ``rows`` (the module docstring), and
    the spread race's forecasts of every run (calibration runs included, marked); no scores
    without a held-out run."""
    held_out = [row for row in rows if not row.setting.calibration]
    if not held_out:
        return [], run_forecasts(rows, race_probability(spread))
    scores = []
    for name, probability in (
        ("spread race", race_probability(spread)),
        ("narrow race", race_probability(narrow)),
        ("0/1 verdict (B >= B*)", verdict_probability(narrow)),
    ):
        forecasts = run_forecasts(held_out, probability)
        scores.append(ForecastScore(name, brier(forecasts), tuple(confident_misses(forecasts))))
    return scores, run_forecasts(rows, race_probability(spread))


def _miss_text(misses: Sequence[Forecast]) -> str:
    shown = ", ".join(
        f"{f.label} B={f.B} seed {f.seed} ({f.probability:.2f}, "
        f"{'memorised' if f.memorised else 'learned'})"
        for f in misses[:6]
    )
    return shown + (f" and {len(misses) - 6} more" if len(misses) > 6 else "")


def forecast_note(scores: Sequence[ForecastScore], every: Sequence[Forecast]) -> list[str]:
    """The conclusion's line on the forecast (none without held-out runs): the spread race's
    held-out Brier score and confident misses next to the 0/1 verdict's."""
    held_out = sum(not f.calibration for f in every)
    if not held_out:
        return []
    spread, _, verdict = scores
    return [
        f"Memorisation as a forecast, {held_out} held-out runs: the race's probability scores "
        f"Brier {spread.brier:.4f} with {len(spread.misses)} confident misses, the 0/1 verdict "
        f"{verdict.brier:.4f} with {len(verdict.misses)} (section 'Memorisation as a forecast')."
    ]


def _reliability_lines(held_out: Sequence[Forecast]) -> list[str]:
    """The spread race's held-out forecasts binned by probability against the frequency of
    memorisation, with Murphy's decomposition of the binned Brier score
    (:mod:`validation.experiments.reliability`)."""
    bins = reliability_bins((f.probability, f.memorised) for f in held_out)
    terms = brier_decomposition(bins)
    return [
        "The spread race's held-out forecasts binned by probability (validation.experiments."
        "reliability): Murphy's decomposition of the binned Brier score "
        f"{terms.binned:.4f} (the unbinned one {brier(held_out):.4f}) is reliability "
        f"{terms.reliability:.4f} (the bins' forecasts against their outcomes; 0 is calibrated) "
        f"- resolution {terms.resolution:.4f} (the bins' outcomes against the base rate; larger "
        f"is sharper) + uncertainty {terms.uncertainty:.4f} (the base rate's own score).",
        "",
        *reliability_table(bins, "runs", "observed fraction memorised"),
        "",
    ]


def _unreversed_text(held_out: Sequence[Forecast]) -> str:
    """How many held-out runs memorised with no head reversed: the runs a forecast of reversed
    heads alone would miss, and the reason the race forecasts a class flip instead."""
    memorised = [f for f in held_out if f.memorised and f.reversed_heads is not None]
    if not memorised:
        return ""
    unreversed = sum(f.reversed_heads == 0 for f in memorised)
    return (
        f" Of the {len(memorised)} held-out runs that memorised, {unreversed} ended with both "
        "heads' best feature coefficients positive: a run memorises when a class's test points "
        "flip, which the other head's negative filters bring about before any best filter "
        "reverses (theorykit.class_flip, docs/notes/overlap.md §9), and that is what the race "
        "forecasts."
    )


def forecast_lines(scores: Sequence[ForecastScore], every: Sequence[Forecast]) -> list[str]:
    """The "Memorisation as a forecast" section of ``theorykit compare`` for
    :func:`forecast_scores`' ``scores`` and forecasts ``every``."""
    held_out = [f for f in every if not f.calibration]
    if not held_out:
        return []
    base = sum(f.memorised for f in held_out) / len(held_out)
    table = [
        (score.name, f"{score.brier:.4f}", len(score.misses), _miss_text(score.misses) or "none")
        for score in scores
    ]
    table.append((f"base rate ({base:.3f} for every run)", f"{base * (1 - base):.4f}", "", ""))
    in_sample = [f for f in every if f.calibration]
    lines = [
        "## Memorisation as a forecast",
        "",
        f"Every held-out run ({len(held_out)}: each (setting, optimiser, B, seed) of the batch "
        "boundary on the settings not used for calibration) forecast by the probability that it "
        "memorises within the horizon; the constants of each forecast are fitted on the "
        "calibration settings (validation.experiments.forecast). A confident miss differs from "
        f"its outcome by more than {CONFIDENT_MISS:g}. Spread race / 0/1 verdict Brier ratio: "
        + (
            f"{scores[0].brier / scores[2].brier:.3f}."
            if scores[2].brier > 0
            else "n/a (the verdict makes no error)."
        )
        + _unreversed_text(held_out),
        "",
        *markdown_table(("forecast", "Brier score", "confident misses", "which"), table),
        "",
        *_reliability_lines(held_out),
    ]
    if in_sample:
        lines += [
            f"In-sample (calibration runs, {len(in_sample)}): spread race Brier "
            f"{brier(in_sample):.4f}, {len(confident_misses(in_sample))} confident misses.",
            "",
        ]
    return lines
