"""Where large-batch memorisation begins: theorykit's race vs the reduced dynamics vs the CNN.

For every setting of :data:`validation.experiments.settings.ACCURACY_SETTINGS` and both optimisers
of the paper's Tables 1-2 (Adam lam = 1e-5, AdamW lam = 0.01), one batch-size grid at one horizon in
iterations (the same for every B; :func:`dynamics.predict.epochs_for_steps`) gives three answers:

* theorykit's B* (:func:`theorykit.batch_race.critical_batch_size`: the B from which at least one of
  two runs memorises with probability 1/2 within the horizon);
* the reduced dynamics' bracket, for the settings marked ``simulate`` (every disjoint one and the
  paper's): each CNN run predicted from its own data, initialisation and batches
  (:mod:`validation.experiments.prediction`; stored beside the runs) -- exact on disjoint supports
  (support-resolved), so there its bracket must be the CNN's; the overlap-aware closure on the
  paper's overlapping supports;
* the CNN's bracket (the scope's seeds, two in the full comparison,
  :func:`validation.sweeps.runner.train_or_resume`: resumable, in ``DIR/cnn/results.sqlite``).

The settings, seeds and batch sizes are those of a
:class:`~validation.experiments.comparison_scope.ComparisonScope` (the whole comparison by default).

A bracket is (largest B that learns the feature, smallest larger B that memorises noise: train error
< 0.1, test error >= 0.25), a B counting as memorising when any seed memorises
(:func:`dynamics.outcomes.any_memorises`); its geometric mean is the measured boundary. The
"Batch boundary" section of ``theorykit compare``: :func:`batch_comparison_lines`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from dynamics.outcomes import any_memorises, memorisation_boundary, open_bracket, outcome
from dynamics.predict import epochs_for_steps
from dynamics.trajectory import Trajectory
from theorykit.batch_race import critical_batch_size
from theorykit.constants import HiddenConstants
from theorykit.outcome_labels import MEMORISES
from theorykit.params import ProblemParams
from validation.experiments.comparison_progress import JobProgress
from validation.experiments.comparison_scope import FULL_SCOPE, ComparisonScope
from validation.experiments.comparison_scoring import agrees, interval_text, ratio_text
from validation.experiments.prediction import predictions_for
from validation.experiments.settings import LARGE_BATCH_RUNS, ComparisonSetting
from validation.progress import STDERR
from validation.reports.seed_spread import reversed_heads
from validation.reports.tables import markdown_table
from validation.runs.records import RunRecord
from validation.runs.spec import EngineOptions, RunSpec
from validation.sweeps.runner import train_or_resume

#: Records per run: the time-scale comparison reads T0 and T_r off them.
RECORDS = 40
#: Test points per CNN run (a test error near the 0.25 cut has standard error 0.010).
TEST_SIZE = 2000


def geometric_mean(pair: tuple[float, float] | None) -> float | None:
    """The bracket's geometric mean, the measured boundary (None without a bracket)."""
    return None if pair is None else math.sqrt(pair[0] * pair[1])


@dataclasses.dataclass(frozen=True)
class BatchRow:
    """One (setting, optimiser): theorykit's B* for runs of ``seeds``, and per B of ``grid`` the
    outcomes of every seed of the reduced dynamics and of the CNN."""

    setting: ComparisonSetting
    params: ProblemParams
    grid: tuple[int, ...]
    predicted: float
    reduced: tuple[tuple[str, ...], ...]
    cnn: tuple[tuple[str, ...], ...]
    cnn_test_error: tuple[tuple[float, ...], ...]
    seeds: tuple[int, ...] = FULL_SCOPE.seeds
    #: Per B and seed, how many of the CNN run's heads reversed (None: not read off the run).
    cnn_heads: tuple[tuple[int | None, ...], ...] = ()

    def bracket(
        self, outcomes: Sequence[Sequence[str]], seed: int | None = None
    ) -> tuple[float, float] | None:
        """The memorisation bracket of ``outcomes`` (any seed memorises; or the ``seed``-th's)."""
        labels = [any_memorises(list(row)) if seed is None else row[seed] for row in outcomes]
        return memorisation_boundary(self.grid, labels)

    def measured(self) -> float | None:
        """The CNN's boundary, the geometric mean of its bracket."""
        return geometric_mean(self.bracket(self.cnn))

    def measured_interval(self) -> tuple[float, float]:
        """The CNN's bracket, or the open interval its grid leaves ((largest B, inf) when no B
        memorises, (0, smallest B) when every B does)."""
        return open_bracket(self.grid, [any_memorises(list(row)) == MEMORISES for row in self.cnn])


def batch_specs(
    setting: ComparisonSetting, optimizer: str, lam: float, scope: ComparisonScope = FULL_SCOPE
) -> list[RunSpec]:
    """The CNN runs of one (setting, optimiser): every B of the scope's grid, every seed of the
    scope, one horizon."""
    specs = []
    for B in scope.grid(setting.params().n):
        p = setting.params(optimizer=optimizer, lam=lam, B=B)
        p = p.replace(epochs=epochs_for_steps(p, setting.steps))
        specs += [
            RunSpec(p, seed, seed, setting.supports, name=f"{optimizer} {setting.label} B={B}")
            for seed in scope.seeds
        ]
    return specs


def batch_plan(scope: ComparisonScope = FULL_SCOPE) -> list[tuple[EngineOptions, list[RunSpec]]]:
    """Every batch-boundary CNN run of ``scope`` with its engine options: runs of one horizon in
    epochs share an engine configuration (records every epochs/40), so they train together in
    stacked ensembles."""
    by_epochs: dict[int, list[RunSpec]] = {}
    for setting in scope.settings:
        for optimizer, lam in setting.runs:
            for spec in batch_specs(setting, optimizer, lam, scope):
                by_epochs.setdefault(spec.params.epochs, []).append(spec)
    return [(engine_options(epochs), by_epochs[epochs]) for epochs in sorted(by_epochs)]


def train_batch_runs(
    store: Path,
    scope: ComparisonScope = FULL_SCOPE,
    log: TextIO = STDERR,
    job: JobProgress | None = None,
) -> dict[str, RunRecord]:
    """Train (or resume) every run of :func:`batch_plan`, counting them in ``job``; records by
    run name and seed (``"NAME seed=K"``)."""
    records: dict[str, RunRecord] = {}
    for options, specs in batch_plan(scope):
        trained = train_or_resume("batch-boundary", specs, options, store, log)
        if job is not None:
            job.trained(record.key for record in trained)
        for record in trained:
            records[f"{record.name} seed={record.data_seed}"] = record
    return records


def predicted_plan(
    scope: ComparisonScope = FULL_SCOPE,
) -> list[tuple[EngineOptions, list[RunSpec]]]:
    """The runs of :func:`batch_plan` that :func:`batch_rows` predicts with the reduced dynamics
    (the settings marked ``simulate``)."""
    simulated = tuple(setting for setting in scope.settings if setting.simulate)
    return batch_plan(dataclasses.replace(scope, settings=simulated)) if simulated else []


def engine_options(epochs: int) -> EngineOptions:
    """The engine options of the batch-boundary runs of a horizon of ``epochs``."""
    return EngineOptions(record_every=max(1, epochs // RECORDS), test_size=TEST_SIZE)


def _predictions(
    runs: Sequence[Sequence[RunRecord]], store: Path, log: TextIO, job: JobProgress | None
) -> dict[str, tuple[str, Trajectory]]:
    """The reduced prediction of every run (from its own data, initialisation and batches;
    :func:`validation.experiments.prediction.predictions_for`, stored with the runs), counted in
    ``job``."""
    by_epochs: dict[int, list[RunRecord]] = {}
    for row in runs:
        for run in row:
            by_epochs.setdefault(run.params.epochs, []).append(run)
    found: dict[str, tuple[str, Trajectory]] = {}
    for epochs, group in sorted(by_epochs.items()):
        found |= predictions_for(group, engine_options(epochs), store, log)
    if job is not None:
        job.predicted(found)
    return found


def _batch_row(
    setting: ComparisonSetting,
    optimizer: str,
    lam: float,
    records: dict[str, RunRecord],
    constants: HiddenConstants | None,
    scope: ComparisonScope,
    simulate: Callable[[list[list[RunRecord]]], list[list[str]]] | None,
) -> BatchRow:
    """The :class:`BatchRow` of one (setting, optimiser) from its CNN records; the reduced
    dynamics' outcomes from ``simulate`` where given (settings marked ``simulate``)."""
    base = setting.params(optimizer=optimizer, lam=lam)
    grid = scope.grid(base.n)
    runs = [
        [records[f"{optimizer} {setting.label} B={B} seed={seed}"] for seed in scope.seeds]
        for B in grid
    ]
    simulated = simulate(runs) if simulate and setting.simulate else [[] for _ in grid]
    predicted = critical_batch_size(
        base,
        constants,
        seeds=len(scope.seeds),
        **setting.race_options,
    )
    return BatchRow(
        setting,
        base,
        grid,
        predicted,
        tuple(map(tuple, simulated)),
        tuple(tuple(outcome(run.trajectory()) for run in row) for row in runs),
        tuple(tuple(run.final_value("test_error") for run in row) for row in runs),
        scope.seeds,
        tuple(tuple(reversed_heads(run) for run in row) for row in runs),
    )


def batch_rows(
    store: Path,
    constants: HiddenConstants | None = None,
    scope: ComparisonScope = FULL_SCOPE,
    log: TextIO = STDERR,
    reduced: bool = True,
    job: JobProgress | None = None,
) -> list[BatchRow]:
    """One :class:`BatchRow` per (setting, optimiser) of ``scope``: the CNN runs trained or
    resumed, the reduced dynamics run (unless ``reduced=False``), theorykit's B* at
    ``constants``; the runs and predictions counted in ``job``."""
    records = train_batch_runs(store, scope, log, job)

    def simulate(runs: list[list[RunRecord]]) -> list[list[str]]:
        predicted_runs = _predictions(runs, store, log, job)
        return [[outcome(predicted_runs[run.key][1]) for run in row] for row in runs]

    return [
        _batch_row(
            setting, optimizer, lam, records, constants, scope, simulate if reduced else None
        )
        for setting in scope.settings
        for optimizer, lam in setting.runs
    ]


def _pair(pair: tuple[float, float] | None) -> str:
    return "none in grid" if pair is None else f"({pair[0]:.4g}, {pair[1]:.4g})"


def _test_errors(row: BatchRow) -> str:
    """The CNN's final test error per B of the grid, seed by seed (``"2: 0.01/0.02, ..."``)."""
    return ", ".join(
        f"{B}: " + "/".join(f"{e:.2f}" for e in row.cnn_test_error[k])
        for k, B in enumerate(row.grid)
    )


def _table_row(row: BatchRow) -> tuple[object, ...]:
    return (
        row.setting.label,
        row.setting.supports,
        "calibration" if row.setting.calibration else "held out",
        row.setting.steps,
        f"{row.predicted:.3g}",
        _pair(row.bracket(row.reduced)) if row.reduced[0] else "not run",
        interval_text(row.measured_interval()),
        ratio_text(row.measured(), row.predicted),
        "yes" if agrees(row.measured_interval(), row.predicted) else "NO",
        _test_errors(row),
    )


def batch_comparison_lines(rows: Sequence[BatchRow]) -> list[str]:
    """The "Batch boundary" section of ``theorykit compare``: per optimiser, one row per setting
    with theorykit's B*, the reduced dynamics' and the CNN's brackets and whether they agree
    (:func:`validation.experiments.comparison_scoring.agrees`)."""
    lines = ["## Batch boundary", ""]
    for optimizer in ("adam", "adamw"):
        table = [_table_row(row) for row in rows if row.params.optimizer == optimizer]
        lam = dict(LARGE_BATCH_RUNS)[optimizer]
        seeds = "/".join(map(str, rows[0].seeds)) if rows else ""
        lines += [
            f"### {optimizer}, lam = {lam:g} (a setting that names lam: its own)",
            "",
            *markdown_table(
                (
                    "setting",
                    "supports",
                    "role",
                    "horizon (iterations)",
                    "B* (theorykit)",
                    "reduced-dynamics bracket",
                    "CNN bracket",
                    "CNN / theorykit",
                    "agrees",
                    f"CNN test error by B (seed {seeds})",
                ),
                table,
            ),
            "",
        ]
    return lines
