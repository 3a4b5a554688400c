"""The forecast of memorisation (validation.experiments.forecast) and the fit of the race's spread
(validation.experiments.calibration.fit_spread): Brier scores and confident misses on made-up
outcomes, and the spread recovered from outcomes drawn from the race itself."""

from __future__ import annotations

import numpy as np
import pytest

from theorykit.batch_race import race
from theorykit.constants import HiddenConstants
from theorykit.outcome_labels import MEMORISES
from validation.experiments.batch_comparison import BatchRow
from validation.experiments.calibration import fit_spread
from validation.experiments.forecast import (
    CONFIDENT_MISS,
    brier,
    confident_misses,
    forecast_lines,
    forecast_scores,
    race_probability,
    run_forecasts,
)
from validation.experiments.settings import ACCURACY_SETTINGS
from validation.experiments.table1_example import _flipped_level

LEARNS = "learns feature"
PAPER = ACCURACY_SETTINGS[0]  # a calibration setting
HELD_OUT = ACCURACY_SETTINGS[2]  # d = 4000
GRID = (2, 10, 25, 50, 100, 200)


def _row(setting, outcomes: list[list[bool]], heads: list[list[int]] | None = None) -> BatchRow:
    """A batch row of ``setting`` (Adam) over :data:`GRID`, outcomes (and reversed heads) per B
    and seed."""
    seeds = tuple(range(len(outcomes[0])))
    labels = tuple(tuple(MEMORISES if hit else LEARNS for hit in row) for row in outcomes)
    return BatchRow(
        setting,
        setting.params(optimizer="adam", lam=1e-5),
        GRID,
        float("nan"),
        tuple(() for _ in GRID),
        labels,
        tuple(tuple(0.0 for _ in row) for row in outcomes),
        seeds,
        tuple(map(tuple, heads)) if heads else (),
    )


def test_brier_and_confident_misses_on_known_forecasts() -> None:
    row = _row(PAPER, [[False, True]] + [[True, True]] * (len(GRID) - 1))
    probabilities = dict(zip(GRID, (0.05, 0.5, 1.0, 1.0, 1.0, 1.0), strict=True))
    forecasts = run_forecasts([row], lambda _, B: probabilities[B])
    assert len(forecasts) == 2 * len(GRID)
    # B = 2: (0.05 - 0)^2 + (0.05 - 1)^2; B = 10: 2 (0.5 - 1)^2; the rest exact.
    expected = (0.05**2 + 0.95**2 + 2 * 0.25) / len(forecasts)
    assert brier(forecasts) == pytest.approx(expected, rel=1e-12)
    (miss,) = confident_misses(forecasts)
    assert (miss.B, miss.seed, miss.memorised) == (2, 1, True)
    assert abs(miss.memorised - miss.probability) > CONFIDENT_MISS


def test_only_held_out_runs_are_scored() -> None:
    # Every calibration run contradicts the forecast, every held-out one agrees with the 0/1
    # verdict's side: the scores see only the held-out row.
    constants = HiddenConstants(race_spread=0.2)
    held_out_outcomes = [[race(HELD_OUT.params(optimizer="adam", lam=1e-5, B=B), constants,
                               horizon=HELD_OUT.steps).memorisation_probability(1) > 0.5] * 2
                         for B in GRID]  # fmt: skip
    rows = [_row(PAPER, [[True, True]] * len(GRID)), _row(HELD_OUT, held_out_outcomes)]
    scores, every = forecast_scores(rows, constants, constants)
    assert len(every) == 4 * len(GRID)
    assert all(score.brier < 0.25 for score in scores)
    by_name = {score.name: score for score in scores}
    assert by_name["spread race"].brier == pytest.approx(
        brier(run_forecasts(rows[1:], race_probability(constants))), rel=1e-12
    )
    # the section bins the held-out forecasts only: as many runs in its table as held out
    text = "\n".join(forecast_lines(scores, every))
    assert "Murphy's decomposition" in text
    counted = sum(int(line.split("|")[2]) for line in text.splitlines() if line.startswith("| ["))
    assert counted == 2 * len(GRID)


def test_the_section_counts_the_held_out_runs_that_memorised_without_a_reversed_head() -> None:
    # Held out: memorised at the three largest B in both seeds, with 0, 1 and 2 reversed heads in
    # seed 0 and 2 in seed 1; learned below. Four of the six memorising runs reversed a head.
    outcomes = [[False, False]] * 3 + [[True, True]] * 3
    heads = [[0, 0]] * 3 + [[0, 2], [1, 2], [2, 2]]
    rows = [_row(PAPER, [[True, True]] * len(GRID)), _row(HELD_OUT, outcomes, heads)]
    scores, every = forecast_scores(rows, HiddenConstants(), HiddenConstants(race_spread=0.0))
    assert [f.reversed_heads for f in every if not f.calibration][-6:] == [0, 2, 1, 2, 2, 2]
    text = "\n".join(forecast_lines(scores, every))
    assert "Of the 6 held-out runs that memorised, 1 ended with both heads' best feature" in text


def test_the_table1_levels_follow_memorisation_s_threshold() -> None:
    levels = [_flipped_level(error) for error in (0.0, 0.249, 0.25, 0.48, 0.75, 0.751, 0.965)]
    assert levels == [0, 0, 1, 1, 1, 2, 2]


def test_the_spread_is_recovered_from_head_reversals_drawn_from_the_race() -> None:
    # 400 seeds per B over the paper's grid, each run's reversed heads drawn binomial(2, P_rev)
    # from the race at spread 0.3 (P_rev 0.36 and 0.90 at B = 100 and 200 over the paper's 6000
    # iterations): over 20 such draws the likelihood's maximum ranged from 0.285 to 0.310; the
    # bound 0.05 is about three times that, and a fit at 0.2 or 0.4 fails it.
    true = HiddenConstants(race_spread=0.3)
    rng = np.random.default_rng(1)
    heads = [
        list(rng.binomial(2, race(PAPER.params(optimizer="adam", lam=1e-5, B=B), true,
                                  horizon=PAPER.steps).reversal_probability, size=400))
        for B in GRID
    ]  # fmt: skip
    row = _row(PAPER, [[k > 0 for k in by_seed] for by_seed in heads], heads)
    fitted = fit_spread([row], HiddenConstants())
    assert fitted.race_spread == pytest.approx(0.3, abs=0.05)
