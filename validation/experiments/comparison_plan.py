"""What ``theorykit compare`` trains and predicts, stage by stage, and how long it should take:
its ``--dry-run`` and the estimate it prints before it starts.

The stages are those of :func:`validation.experiments.comparison.write_comparison`, each named by
the function that lists its runs: the collapse thresholds
(:func:`validation.experiments.threshold_comparison.threshold_plan`), the batch boundary
(:func:`validation.experiments.batch_comparison.batch_plan`, and the reduced dynamics of the
settings it simulates, :func:`~validation.experiments.batch_comparison.predicted_plan`) and the
horizon check on the paper's setting (:func:`validation.experiments.horizon_check.horizon_plan`).
Runs already in the store are not counted (they resume). Times are :mod:`validation.runs.sizing`'s,
for this machine's CPU; the coefficient checks (a few CNN runs of 10^3 steps) are not sized.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from validation.experiments.batch_comparison import batch_plan, predicted_plan
from validation.experiments.horizon_check import BATCH_SIZES, horizon_plan
from validation.experiments.threshold_comparison import threshold_plan
from validation.runs.records import run_key
from validation.runs.sizing import duration_text, group_size, prediction_seconds
from validation.runs.spec import EngineOptions, RunSpec, group_specs
from validation.store.results import ResultsStore

Plan = list[tuple[EngineOptions, list[RunSpec]]]


@dataclasses.dataclass(frozen=True)
class Stage:
    """One stage's pending runs and estimated seconds (training, or prediction when
    ``predicts``)."""

    name: str
    runs: int
    pending: int
    member_steps: int
    seconds: float
    predicts: bool = False

    def line(self) -> str:
        what = "predictions" if self.predicts else "CNN runs"
        stored = f", {self.runs - self.pending} already stored" if self.pending < self.runs else ""
        return (
            f"  {self.name}: {self.pending} {what}{stored}, {self.member_steps:,} member-steps, "
            f"~{duration_text(self.seconds)}"
        )


def comparison_stages(store: Path, reduced: bool = True) -> list[Stage]:
    """The stages of ``theorykit compare`` with the runs the store at ``store`` lacks."""
    trained, predicted = _stored_keys(store)
    plans: list[tuple[str, Plan, bool]] = [
        ("collapse thresholds", threshold_plan(), False),
        ("batch boundary", batch_plan(), False),
        ("horizon check", [horizon_plan(B) for B in BATCH_SIZES], False),
    ]
    if reduced:
        plans.append(("batch boundary, reduced dynamics", predicted_plan(), True))
    return [
        _stage(name, plan, predicts, predicted if predicts else trained)
        for name, plan, predicts in plans
    ]


def describe_comparison(store: Path, reduced: bool = True, coefficients: bool = True) -> str:
    """The ``theorykit compare --dry-run`` text: one line per stage and the total."""
    stages = comparison_stages(store, reduced)
    total = sum(stage.seconds for stage in stages)
    lines = ["theorykit compare:", *(stage.line() for stage in stages)]
    lines.append(
        f"estimated total: ~{duration_text(total)} (validation.runs.sizing)"
        + ("; plus the coefficient checks, not sized (--no-coefficients)" if coefficients else "")
    )
    return "\n".join(lines)


def _stage(name: str, plan: Plan, predicts: bool, stored: set[str]) -> Stage:
    runs = pending = steps = 0
    seconds = 0.0
    for options, specs in plan:
        runs += len(specs)
        left = [spec for spec in specs if run_key(spec, options) not in stored]
        pending += len(left)
        steps += sum(s.params.iterations for s in left)
        if predicts:
            seconds += prediction_seconds(left, options)
        else:
            seconds += sum(
                group_size([left[i] for i in group], options).seconds or 0.0
                for group in group_specs(left)
            )
    return Stage(name, runs, pending, steps, seconds, predicts)


def _stored_keys(store: Path) -> tuple[set[str], set[str]]:
    """Keys of the runs in the store and of those with a stored prediction (none when the store
    does not exist yet)."""
    if not store.exists():
        return set(), set()
    with ResultsStore(store, read_only=True) as opened:
        return opened.keys(), opened.prediction_keys()
