"""Run a sweep: pending runs -> stacked-ensemble tasks -> any executor -> one store write per group.

:func:`run_sweep` asks the :class:`~validation.sweeps.store.ResultsStore` which runs are done,
groups the rest by :meth:`~validation.specs.RunSpec.group_key` (at most ``group_size`` members
each), submits one task per group to the executor (:mod:`validation.sweeps.executors`), and stores
each group's records in one transaction as soon as its task finishes, in whatever order tasks
finish. Killing the driver or a worker loses at most the groups in flight; a rerun trains exactly
what is missing. A task that raises (a worker lost for good, a process pool broken by a killed
worker) is reported in :class:`SweepOutcome` and the other groups go on. A member whose weights turn
NaN/inf is not a task failure: it is stored as a ``failed`` run with its reason
(``Trajectory.failure``).

Tasks (:func:`validation.cnn.tasks.train_task`) return plain data, so the executor may live in
another process or on another machine. :func:`train_or_resume` is the same for a named list of runs
(the presets and the comparisons), returning their records in spec order.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future, as_completed
from pathlib import Path
from typing import TextIO

from theorykit.errors import ParameterError
from validation.cnn.tasks import TaskResult, train_task
from validation.specs import EngineOptions, RunSpec
from validation.sweeps.executors import InlineExecutor
from validation.sweeps.records import RunRecord, engine_identity, run_key
from validation.sweeps.spec import SweepSpec
from validation.sweeps.store import ResultsStore


@dataclasses.dataclass(frozen=True)
class SweepOutcome:
    """``runs`` in the sweep, ``already`` stored before this call, ``added`` by it, ``errors``."""

    runs: int
    already: int
    added: int
    errors: tuple[str, ...]

    @property
    def complete(self) -> bool:
        return self.already + self.added == self.runs


def run_sweep(
    spec: SweepSpec,
    store: ResultsStore,
    executor: Executor | None = None,
    options: EngineOptions | None = None,
    log: TextIO = sys.stderr,
    progress: Callable[[str], Callable[[int, int], None]] | None = None,
) -> SweepOutcome:
    """Train the runs of ``spec`` that ``store`` lacks and store each group as its task finishes.

    ``options`` replaces ``spec.options`` for where and how fast to train (device, compile); it must
    record the same things (:func:`validation.sweeps.records.engine_identity`), so that keys do not
    change. ``progress(label)`` gives a per-epoch callback for a group; it is used only with the
    in-process executor (a callback does not cross process boundaries).
    """
    executor = executor or InlineExecutor()
    options = options or spec.options
    if engine_identity(options) != engine_identity(spec.options):
        raise ParameterError(
            "options", options, "the spec's recording options (only device and compile may differ)"
        )
    keys = [run_key(run, spec.options) for run in spec.runs]
    stored = store.keys()
    pending = [index for index, key in enumerate(keys) if key not in stored]
    already = len(spec.runs) - len(pending)
    if already:
        print(f"resuming: {already} of {len(spec.runs)} runs already in {store.path}", file=log)
    tasks = [[pending[j] for j in group] for group in spec.tasks([spec.runs[i] for i in pending])]
    inline = isinstance(executor, InlineExecutor)
    in_flight: dict[Future, tuple[str, list[int]]] = {}
    added, errors = 0, []

    def store_finished(future: Future) -> None:
        nonlocal added
        label, indices = in_flight.pop(future)
        try:
            result: TaskResult = future.result()
        except Exception as error:  # a lost worker or broken pool: report it, keep the other groups
            errors.append(f"{label}: {type(error).__name__}: {error}")
            print(
                f"{label} failed, not stored (a rerun retries it): {type(error).__name__}: {error}",
                file=log,
            )
            return
        records = [
            RunRecord.of(keys[i], spec.runs[i], trajectory)
            for i, trajectory in zip(indices, result.trajectories, strict=True)
        ]
        added += store.add(spec.name, records, engine_identity(spec.options), result.code_version)
        print(f"{label} stored: {already + added}/{len(spec.runs)} runs in {store.path}", file=log)

    for number, indices in enumerate(tasks, start=1):
        first = spec.runs[indices[0]].params
        label = (
            f"task {number}/{len(tasks)} ({first.optimizer}, B={first.B}, {len(indices)} members)"
        )
        callback = progress(label) if progress is not None and inline else None
        in_flight[
            executor.submit(train_task, [spec.runs[i] for i in indices], options, callback)
        ] = (label, indices)
        for future in [
            future for future in in_flight if future.done()
        ]:  # the inline executor is done at once
            store_finished(future)
    for future in as_completed(list(in_flight)):
        store_finished(future)
    return SweepOutcome(len(spec.runs), already, added, tuple(errors))


def train_or_resume(
    name: str,
    runs: Sequence[RunSpec],
    options: EngineOptions,
    store_path: Path,
    log: TextIO = sys.stderr,
    progress: Callable[[str], Callable[[int, int], None]] | None = None,
) -> list[RunRecord]:
    """Train what the store at ``store_path`` lacks of ``runs`` (in this process), then return every
    run's record in the order of ``runs``. A failed task is a RuntimeError naming it."""
    spec = SweepSpec(name, tuple(runs), options, ())
    with ResultsStore(store_path) as store:
        outcome = run_sweep(spec, store, log=log, progress=progress)
        if outcome.errors:
            raise RuntimeError(
                f"{len(outcome.errors)} group(s) failed: {'; '.join(outcome.errors)}"
            )
        keys = [run_key(run, options) for run in runs]
        records = store.records(keys)
    return [records[key] for key in keys]
