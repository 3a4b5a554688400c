"""What ``theorykit compare`` trains and predicts, stage by stage, and how long it should take:
its ``--dry-run`` and the estimate it prints before it starts.

The stages are those of :func:`validation.experiments.comparison.write_comparison`, each named by
the function that lists its runs: the collapse thresholds
(:func:`validation.experiments.threshold_comparison.threshold_plan`), the batch boundary
(:func:`validation.experiments.batch_comparison.batch_plan`, and the reduced dynamics of the
settings it simulates, :func:`~validation.experiments.batch_comparison.predicted_plan`), the
horizon check on the paper's setting (:func:`validation.experiments.horizon_check.horizon_plan`)
and the Table 1 example beside it (:func:`validation.experiments.table1_example.example_plan`;
the seeds the horizon check trains are counted there only).
A :class:`~validation.experiments.comparison_scope.ComparisonScope` narrows every stage as it
narrows the real run (the same plan functions). Runs already in the store are not counted (they
resume). Times are :mod:`validation.runs.sizing`'s,
for this machine's CPU; the coefficient checks (a few CNN runs of 10^3 steps) are not sized.
"""

from __future__ import annotations

from pathlib import Path

from validation.experiments.batch_comparison import batch_plan, predicted_plan
from validation.experiments.comparison_progress import Stage
from validation.experiments.comparison_scope import FULL_SCOPE, ComparisonScope
from validation.experiments.horizon_check import BATCH_SIZES, horizon_plan
from validation.experiments.table1_example import example_plan
from validation.experiments.threshold_comparison import threshold_plan
from validation.runs.records import run_key
from validation.runs.sizing import duration_text, group_size, prediction_seconds
from validation.runs.spec import EngineOptions, RunSpec, group_specs
from validation.store.results import ResultsStore

Plan = list[tuple[EngineOptions, list[RunSpec]]]


def comparison_stages(
    store: Path, reduced: bool = True, scope: ComparisonScope = FULL_SCOPE
) -> list[Stage]:
    """The stages of ``theorykit compare`` over ``scope`` with the runs the store at ``store``
    lacks."""
    trained, predicted = _stored_keys(store)
    horizon = [horizon_plan(B, scope.seeds) for B in BATCH_SIZES] if scope.horizon else []
    plans: list[tuple[str, Plan, bool]] = [
        ("collapse thresholds", threshold_plan(scope), False),
        ("batch boundary", batch_plan(scope), False),
        ("horizon check", horizon, False),
        ("Table 1 at B = 100", _example(horizon) if scope.horizon else [], False),
    ]
    if reduced:
        plans.append(("batch boundary, reduced dynamics", predicted_plan(scope), True))
    return [
        _stage(name, plan, predicts, predicted if predicts else trained)
        for name, plan, predicts in plans
    ]


def _example(horizon: Plan) -> Plan:
    """The Table 1 example's runs that the horizon check's plan does not already hold."""
    shared = {run_key(spec, options) for options, specs in horizon for spec in specs}
    options, specs = example_plan()
    return [(options, [spec for spec in specs if run_key(spec, options) not in shared])]


def describe_comparison(
    stages: list[Stage], coefficients: bool = True, scope: ComparisonScope = FULL_SCOPE
) -> str:
    """The ``theorykit compare --dry-run`` text for the ``stages`` of :func:`comparison_stages`:
    the scope when narrowed, one line per stage and the total."""
    total = sum(stage.seconds for stage in stages)
    lines = ["theorykit compare:", *_scope_lines(scope), *(stage.line() for stage in stages)]
    lines.append(
        f"estimated total: ~{duration_text(total)} (validation.runs.sizing)"
        + ("; plus the coefficient checks, not sized (--no-coefficients)" if coefficients else "")
    )
    return "\n".join(lines)


def _scope_lines(scope: ComparisonScope) -> list[str]:
    """The knobs that narrow ``scope`` from the full comparison, one line (none for the full
    comparison)."""
    if scope == FULL_SCOPE:
        return []
    sizes = "every B of each grid" if scope.batch_sizes is None else scope.batch_sizes
    return [
        f"  scope: seeds {', '.join(map(str, scope.seeds))}; {len(scope.settings)} accuracy and "
        f"{len(scope.thresholds)} threshold settings; batch sizes {sizes}; horizon check "
        + ("yes" if scope.horizon else "no (the paper's setting is not selected)")
    ]


def _stage(name: str, plan: Plan, predicts: bool, stored: set[str]) -> Stage:
    runs = pending = steps = 0
    seconds = 0.0
    keys: set[str] = set()
    for options, specs in plan:
        runs += len(specs)
        pending_keys = {run_key(spec, options): spec for spec in specs}.items()
        left = [spec for key, spec in pending_keys if key not in stored]
        keys |= {key for key, _ in pending_keys if key not in stored}
        pending += len(left)
        steps += sum(s.params.iterations for s in left)
        if predicts:
            seconds += prediction_seconds(left, options)
        else:
            seconds += sum(
                group_size([left[i] for i in group], options).seconds or 0.0
                for group in group_specs(left)
            )
    return Stage(name, runs, pending, steps, seconds, predicts, frozenset(keys))


def _stored_keys(store: Path) -> tuple[set[str], set[str]]:
    """Keys of the runs in the store and of those with a stored prediction (none when the store
    does not exist yet)."""
    if not store.exists():
        return set(), set()
    with ResultsStore(store, read_only=True) as opened:
        return opened.keys(), opened.prediction_keys()
