"""The spread over seeds, predicted beside observed, for every run of a report (torch-free).

Where the outcome depends on the draw of the data and the initialisation, a report shows the
race's probabilities (:func:`theorykit.batch_race.race` at the shipped constants, over the run's
horizon; overlapping or disjoint supports as the run's data) beside the frequencies over the run's
seeds: that a run memorises (:meth:`~theorykit.batch_race.Race.memorisation_probability` of one
run, against the seeds whose outcome is "memorises noise", :func:`dynamics.outcomes.outcome`) and
that 0, 1 or 2 of its heads reverse (:meth:`~theorykit.batch_race.Race.reversed_heads`, against
the seeds whose heads' best feature coefficients end negative). Runs without a race (GD, beta1^2 >=
beta2) are left out. The "Spread over seeds" section of the preset and sweep reports:
:func:`seed_spread_lines`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from dynamics.outcomes import outcome
from theorykit.batch_race import Race, race
from theorykit.calibration import RACE_CONSTANTS, calibrated_on
from theorykit.errors import ParameterError
from theorykit.outcome_labels import MEMORISES
from validation.reports.tables import markdown_table
from validation.runs.records import RunRecord

#: The heads' best feature coefficients in a run's final record.
HEADS = ("feature_pos", "feature_neg")


def reversed_heads(record: RunRecord) -> int | None:
    """How many of the run's heads end with a negative best feature coefficient (None for a
    failed run or one without both coefficients)."""
    if record.failure:
        return None
    values = [record.final.get(head) for head in HEADS]
    if any(value is None or not math.isfinite(float(value)) for value in values):
        return None
    return sum(float(value) < 0 for value in values)


def _race(record: RunRecord) -> Race | None:
    """The race of the run's setting, or None where it has none."""
    if record.params.kind.preconditioner == "none":
        return None
    try:
        return race(record.params, overlapping=record.supports == "overlapping")
    except ParameterError:  # beta1^2 >= beta2: S(P) undefined
        return None


def _row(name: str, group: Sequence[RunRecord], at: Race) -> tuple[object, ...]:
    finished = [record for record in group if not record.failure]
    memorised = sum(outcome(record.trajectory()) == MEMORISES for record in finished)
    heads = [count for count in map(reversed_heads, finished) if count is not None]
    predicted = " / ".join(f"{p:.2f}" for p in at.reversed_heads())
    observed = " / ".join(str(heads.count(k)) for k in range(3)) if heads else "n/a"
    in_sample = "yes" if calibrated_on(group[0].params, RACE_CONSTANTS) else "no"
    return (
        name,
        len(finished),
        f"{at.memorisation_probability(1):.2f}",
        f"{memorised} of {len(finished)}",
        predicted,
        observed,
        in_sample,
    )


def seed_spread_lines(groups: Mapping[str, Sequence[RunRecord]]) -> list[str]:
    """The "Spread over seeds" section for the runs ``groups`` (by run label, seeds together)."""
    rows = []
    for name, group in groups.items():
        at = _race(group[0]) if group else None
        if at is not None:
            rows.append(_row(name, group, at))
    if not rows:
        return []
    return [
        "## Spread over seeds: predicted vs observed",
        "",
        "Per run: the race's probability that one run memorises within its horizon and that 0 / "
        "1 / 2 of its heads reverse (test error about 0 / 1/2 / 1; theorykit.batch_race, "
        "shipped constants), beside what the seeds did (a head reversed: its best feature "
        "coefficient ends negative). In-sample: the race's constants were fitted on this "
        "setting's problem.",
        "",
        *markdown_table(
            (
                "run",
                "seeds",
                "P(memorises)",
                "memorised",
                "P(0 / 1 / 2 heads reverse)",
                "seeds with 0 / 1 / 2",
                "in-sample",
            ),
            rows,
        ),
        "",
    ]
