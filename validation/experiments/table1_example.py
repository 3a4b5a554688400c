"""The paper's Table 1 at B = 100 as a worked example of the spread over seeds: how many of a run's
two heads reverse, predicted and counted over :data:`EXAMPLE_SEEDS` seeds of the CNN.

The run is the paper's App. D.2 setting with torch-style Adam, lam = 1e-5, B = 100 and 10^4 epochs
(2 10^4 iterations), where the paper reports one test error (0.9545). The CNN runs are the horizon
check's Adam runs at B = 100 (:func:`validation.experiments.horizon_check.horizon_plan`: the same
runs under the same keys, so the check's seeds are not trained twice) over more seeds. A head has
reversed when its best feature coefficient max_r <w_{j,r}, j v> ends negative; the race predicts
binomial(2, P_rev) reversed heads (:meth:`theorykit.batch_race.Race.reversed_heads`), and the
test error's level by the classes whose test points flip (``Race.flipped_classes``,
:mod:`theorykit.class_flip`: test error below 1/4, 1/4 to 3/4, above 3/4 for 0, 1, 2 classes),
at the constants fitted by ``theorykit compare`` -- in-sample, since the paper's setting is a
calibration setting of the race's constants. The "Table 1 at B = 100" section of
``theorykit compare``: :func:`example_lines`.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TextIO

from dynamics.outcomes import FAILED_TEST_ERROR
from theorykit.batch_race import race
from theorykit.calibration import RACE_CONSTANTS, calibrated_on, in_sample_note
from theorykit.constants import HiddenConstants
from validation.experiments.comparison_progress import JobProgress
from validation.experiments.horizon_check import HORIZONS, PAPER, horizon_plan
from validation.progress import STDERR
from validation.reports.seed_spread import reversed_heads
from validation.reports.tables import markdown_table
from validation.runs.spec import EngineOptions, RunSpec
from validation.sweeps.runner import train_or_resume

#: Seeds of the example (at least 10, so that each of the three counts is seen).
EXAMPLE_SEEDS = tuple(range(12))
#: The paper's large batch.
EXAMPLE_BATCH = 100


def example_plan() -> tuple[EngineOptions, list[RunSpec]]:
    """The example's CNN runs (the Adam runs of the horizon check at B = 100, every seed of
    :data:`EXAMPLE_SEEDS`) and their options."""
    options, specs = horizon_plan(EXAMPLE_BATCH, EXAMPLE_SEEDS)
    return options, [spec for spec in specs if spec.params.optimizer == "adam"]


@dataclasses.dataclass(frozen=True)
class Table1Example:
    """Predicted probabilities of 0, 1 and 2 reversed heads and of 0, 1 and 2 flipped classes,
    and the CNN's reversed heads and test error per seed."""

    predicted: tuple[float, float, float]
    flipped: tuple[float, float, float]
    reversed_by_seed: dict[int, int]
    test_error_by_seed: dict[int, float]
    in_sample: str


def table1_example(
    store: Path,
    constants: HiddenConstants | None = None,
    log: TextIO = STDERR,
    job: JobProgress | None = None,
) -> Table1Example:
    """Train or resume :func:`example_plan` (counted in ``job``) and read each seed's reversed
    heads."""
    options, specs = example_plan()
    records = train_or_resume("table1-example", specs, options, store, log)
    if job is not None:
        job.trained(record.key for record in records)
    params = specs[0].params
    reversed_by_seed, errors = {}, {}
    for spec, record in zip(specs, records, strict=True):
        reversed_by_seed[spec.data_seed] = reversed_heads(record) or 0
        errors[spec.data_seed] = record.final_value("test_error")
    at = race(params, constants)
    return Table1Example(
        at.reversed_heads(),
        at.flipped_classes,
        reversed_by_seed,
        errors,
        in_sample_note(calibrated_on(params, RACE_CONSTANTS)),
    )


def example_lines(example: Table1Example) -> list[str]:
    """The "Table 1 at B = 100" section of ``theorykit compare``: predicted probability and CNN
    count of each number of reversed heads and of each test error level."""
    seeds = len(example.reversed_by_seed)
    levels = {seed: _flipped_level(error) for seed, error in example.test_error_by_seed.items()}
    rows = []
    for count, (probability, flipped, level) in enumerate(
        zip(example.predicted, example.flipped, ("about 0", "about 1/2", "about 1"), strict=True)
    ):
        which = [seed for seed, heads in example.reversed_by_seed.items() if heads == count]
        at_level = [seed for seed, flips in levels.items() if flips == count]
        rows.append(
            (
                count,
                level,
                f"{probability:.3f}",
                f"{probability * seeds:.1f}",
                len(which),
                ", ".join(map(str, which)) or "none",
                f"{flipped:.3f}",
                f"{flipped * seeds:.1f}",
                len(at_level),
            )
        )
    errors = ", ".join(f"{e:.3f}" for e in example.test_error_by_seed.values())
    return [
        "## Table 1 at B = 100: the spread over seeds",
        "",
        f"{PAPER.label}, torch-style Adam, lam = 1e-5, B = {EXAMPLE_BATCH}, {HORIZONS[-1]} "
        f"iterations (10^4 epochs; the paper reports test error 0.9545), {seeds} CNN seeds "
        f"(test errors {errors}). The race's probabilities of 0, 1 and 2 reversed heads "
        "(binomial(2, P_rev)) against the CNN's count, and of 0, 1 and 2 classes whose test "
        "points flip (theorykit.class_flip) against the CNN's seeds at that test error level "
        f"(below 1/4, 1/4 to 3/4, above 3/4); {example.in_sample or 'held out'}.",
        "",
        *markdown_table(
            (
                "reversed heads",
                "test error",
                "predicted probability",
                f"expected of {seeds}",
                "CNN seeds",
                "which",
                "P(classes flipped)",
                f"expected of {seeds}",
                "CNN seeds at that level",
            ),
            rows,
        ),
        "",
    ]


def _flipped_level(test_error: float) -> int:
    """The classes a test error stands for (each flipped class misclassifies half the test points):
    0 below ``dynamics.outcomes.FAILED_TEST_ERROR`` (1/4, memorisation's own threshold), 2 above
    1 minus it, 1 between."""
    if test_error < FAILED_TEST_ERROR:
        return 0
    return 1 if test_error <= 1 - FAILED_TEST_ERROR else 2
