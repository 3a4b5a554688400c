"""The finite-size verdict across horizons: does it call each horizon right, or say it cannot?

On the paper's App. D.2 setting (torch-style Adam and AdamW of Tables 1-2), at a small and a large
batch size (:data:`BATCH_SIZES`) and the horizons :data:`HORIZONS` (a few hundred to 2 10^4
iterations), the verdict (:func:`theorykit.verdict.finite_size_verdict` at ``epochs = T / (n/B)``)
is read against the CNN's outcome at T (:func:`dynamics.outcomes.classify` of the record at T
against the first) for every seed of the comparison's scope
(:data:`validation.experiments.comparison_scope.SEEDS` in the full comparison).

One CNN run per (optimiser, B, seed) covers every horizon: no schedule depends on the horizon, so
the run stopped at T is the longest run's record at T (recorded at every horizon). The verdict
holds at (optimiser, B, T) when every seed has its outcome, misses when one has another, and is
not called where it says the horizon is too short
(:class:`validation.reports.verdicts.VerdictCheck`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

import numpy as np

from dynamics.outcomes import classify
from theorykit.constants import HiddenConstants
from theorykit.verdict import finite_size_verdict
from validation.experiments.batch_comparison import TEST_SIZE
from validation.experiments.comparison_progress import JobProgress
from validation.experiments.comparison_scope import SEEDS
from validation.experiments.settings import LARGE_BATCH_RUNS, ComparisonSetting
from validation.progress import STDERR
from validation.reports.tables import markdown_table
from validation.reports.verdicts import VerdictCheck
from validation.runs.records import RunRecord
from validation.runs.spec import EngineOptions, RunSpec
from validation.sweeps.runner import train_or_resume

#: Horizons in iterations, from a few hundred to 2 10^4.
HORIZONS = (300, 1000, 3000, 20_000)
#: A mini-batch and the paper's large batch (n = 200).
BATCH_SIZES = (4, 100)
#: The paper's App. D.2 setting, torch-style Adam.
PAPER = ComparisonSetting("paper (App. D.2)", {})


def _epochs(params_n: int, B: int, horizon: int) -> int:
    steps = math.ceil(params_n / B)
    if horizon % steps:
        raise ValueError(f"horizon {horizon} is not a whole number of epochs at B = {B}")
    return horizon // steps


def horizon_plan(B: int, seeds: Sequence[int] = SEEDS) -> tuple[EngineOptions, list[RunSpec]]:
    """The runs of ``seeds`` at B to the longest horizon, recorded at every horizon, and their
    options."""
    base = PAPER.params(B=B)
    epochs = [_epochs(base.n, B, T) for T in HORIZONS]
    options = EngineOptions(record_every=math.gcd(*epochs), test_size=TEST_SIZE)
    specs = [
        RunSpec(
            PAPER.params(optimizer=optimizer, lam=lam, B=B, epochs=epochs[-1]),
            seed,
            seed,
            PAPER.supports,
            name=f"horizon {optimizer} B={B}",
        )
        for optimizer, lam in LARGE_BATCH_RUNS
        for seed in seeds
    ]
    return options, specs


def _runs(
    store: Path, B: int, seeds: Sequence[int], log: TextIO, job: JobProgress | None
) -> dict[tuple[str, int], RunRecord]:
    """:func:`horizon_plan`'s runs trained or resumed (counted in ``job``), by (optimiser,
    seed)."""
    options, specs = horizon_plan(B, seeds)
    records = train_or_resume("horizon-check", specs, options, store, log)
    if job is not None:
        job.trained(record.key for record in records)
    return {
        (spec.params.optimizer, spec.data_seed): r for spec, r in zip(specs, records, strict=True)
    }


def _at(record: RunRecord, epoch: int) -> tuple[str, float]:
    """The outcome class and test error of ``record`` at ``epoch``."""
    trajectory = record.trajectory()
    index = int(np.searchsorted(trajectory.epoch, epoch))
    final = {name: float(values[index]) for name, values in trajectory.metrics.items()}
    first = {name: float(values[0]) for name, values in trajectory.metrics.items()}
    return classify(final, first), final["test_error"]


def horizon_checks(
    store: Path,
    constants: HiddenConstants | None = None,
    log: TextIO = STDERR,
    seeds: Sequence[int] = SEEDS,
    job: JobProgress | None = None,
) -> list[tuple[VerdictCheck, dict[int, float]]]:
    """Per (optimiser, B, horizon): the verdict against the CNN's ``seeds``, and each seed's test
    error at that horizon."""
    rows = []
    for B in BATCH_SIZES:
        runs = _runs(store, B, seeds, log, job)
        for optimizer, lam in LARGE_BATCH_RUNS:
            for T in HORIZONS:
                params = PAPER.params(optimizer=optimizer, lam=lam, B=B)
                epoch = _epochs(params.n, B, T)
                params = params.replace(epochs=epoch)
                measured = {seed: _at(runs[(optimizer, seed)], epoch) for seed in seeds}
                check = VerdictCheck(
                    f"{optimizer} B={B} T={T}",
                    finite_size_verdict(params, constants),
                    {seed: label for seed, (label, _) in measured.items()},
                )
                rows.append((check, {seed: error for seed, (_, error) in measured.items()}))
    return rows


def horizon_lines(rows: list[tuple[VerdictCheck, dict[int, float]]]) -> list[str]:
    """The "Verdict across horizons" section of ``theorykit compare``."""
    checks = [check for check, _ in rows]
    seeds = len(rows[0][0].outcomes) if rows else 0
    count = {s: sum(c.status == s for c in checks) for s in ("holds", "misses", "not called")}
    table = [
        (
            check.name,
            str(check.verdict),
            ", ".join(
                f"{seed}: {label} ({errors[seed]:.3f})" for seed, label in check.outcomes.items()
            ),
            check.cell(),
        )
        for check, errors in rows
    ]
    return [
        "## The verdict across horizons (paper's setting)",
        "",
        f"App. D.2 setting, Adam lam = 1e-5 and AdamW lam = 0.01 (torch-style), B in "
        f"{', '.join(map(str, BATCH_SIZES))}, horizons T = {', '.join(map(str, HORIZONS))} "
        f"iterations, {seeds} seeds; the CNN's outcome at T per seed (test error). The "
        f"verdict is called at {len(checks) - count['not called']} of {len(checks)} (B, T) "
        f"points: holds at {count['holds']}, misses at {count['misses']}; where it is not called "
        "it says which of its time scales the horizon has not reached.",
        "",
        *markdown_table(
            ("optimizer, B, T", "finite-size verdict", "CNN per seed", "vs CNN"), table
        ),
        "",
    ]
