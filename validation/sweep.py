"""Run a sweep: pending runs -> stacked-ensemble tasks -> any executor -> one store write per group.

:func:`run_sweep` asks the :class:`~validation.store.ResultsStore` which runs are done, groups the
rest by :meth:`RunSpec.group_key` (at most ``group_size`` members each), submits one task per group
to the executor (:mod:`validation.executors`), and stores each group's records in one transaction as
soon as its task finishes, in whatever order tasks finish. Killing the driver or a worker loses at
most the groups in flight; a rerun trains exactly what is missing. A task that raises (a worker lost
for good, a process pool broken by a killed worker) is reported in :class:`SweepOutcome` and the
other groups go on. A member whose weights turn NaN/inf is not a task failure: it is stored as a
``failed`` run with its reason (``validation.engine.Trajectory.failure``).

Tasks return plain dicts, so the executor may live in another process or on another machine.
"""

from __future__ import annotations

import dataclasses
import functools
import subprocess
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future, as_completed
from pathlib import Path
from typing import Any, TextIO

import theorykit
from dynamics.predict import iterations_per_epoch
from theorykit.errors import ParameterError
from validation.engine import EngineOptions, RunSpec, group_specs, train_group
from validation.executors import InlineExecutor
from validation.results import engine_identity, run_key, trajectory_record
from validation.store import ResultsStore
from validation.sweep_spec import SweepSpec


@dataclasses.dataclass(frozen=True)
class TaskResult:
    """What a worker sends back: one record per member (input order) and the code that trained them."""

    records: list[dict[str, Any]]
    code_version: str


@dataclasses.dataclass(frozen=True)
class SweepOutcome:
    """``runs`` in the sweep, ``already`` stored before this call, ``added`` by it, task ``errors``."""

    runs: int
    already: int
    added: int
    errors: tuple[str, ...]

    @property
    def complete(self) -> bool:
        return self.already + self.added == self.runs


@functools.lru_cache(maxsize=1)
def code_version() -> str:
    """``theorykit X.Y.Z`` plus the git commit of the source tree (``+dirty`` with local changes), if any."""
    source = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=source, capture_output=True,
                                text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=source,
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return f"theorykit {theorykit.__version__}"
    return f"theorykit {theorykit.__version__} git {commit}{'+dirty' if dirty else ''}"


def train_task(specs: Sequence[RunSpec], options: EngineOptions,
               progress: Callable[[int, int], None] | None = None) -> TaskResult:
    """Train one group (:func:`validation.engine.train_group`) and return its records."""
    trajectories = train_group(list(specs), options, progress)
    return TaskResult([trajectory_record(trajectory) for trajectory in trajectories], code_version())


def plan_groups(runs: Sequence[RunSpec], group_size: int | None) -> list[list[int]]:
    """Indices of ``runs`` per task: :func:`group_specs`, each split into chunks of <= ``group_size``."""
    groups = group_specs(runs)
    if group_size is None:
        return groups
    return [group[start:start + group_size] for group in groups for start in range(0, len(group), group_size)]


def describe(spec: SweepSpec) -> str:
    """One line for ``theorykit sweep --dry-run``: runs, axes, tasks and member-steps."""
    steps = sum(iterations_per_epoch(run.params) * run.params.epochs for run in spec.runs)
    return (f"sweep {spec.name!r}: {len(spec.runs)} runs over axes {', '.join(spec.axes) or '(none)'}, "
            f"{len(plan_groups(spec.runs, spec.group_size))} tasks (stacked ensembles), {steps} member-steps in all")


def run_sweep(spec: SweepSpec, store: ResultsStore, executor: Executor | None = None,
              options: EngineOptions | None = None, log: TextIO = sys.stderr,
              progress: Callable[[str], Callable[[int, int], None]] | None = None) -> SweepOutcome:
    """Train the runs of ``spec`` that ``store`` lacks and store each group as its task finishes.

    ``options`` replaces ``spec.options`` for where and how fast to train (device, compile); it must
    record the same things (:func:`validation.results.engine_identity`), so that keys do not change.
    ``progress(label)`` gives a per-epoch callback for a group; it is used only with the in-process
    executor (a callback does not cross process boundaries).
    """
    executor = executor or InlineExecutor()
    options = options or spec.options
    if engine_identity(options) != engine_identity(spec.options):
        raise ParameterError("options", options, "the spec's recording options (only device and compile may differ)")
    keys = [run_key(run, spec.options) for run in spec.runs]
    stored = store.keys()
    pending = [index for index, key in enumerate(keys) if key not in stored]
    already = len(spec.runs) - len(pending)
    if already:
        print(f"resuming: {already} of {len(spec.runs)} runs already in {store.path}", file=log)
    tasks = [[pending[j] for j in group] for group in plan_groups([spec.runs[i] for i in pending], spec.group_size)]
    inline = isinstance(executor, InlineExecutor)
    in_flight: dict[Future, tuple[str, list[int]]] = {}
    added, errors = 0, []

    def store_finished(future: Future) -> None:
        nonlocal added
        label, indices = in_flight.pop(future)
        try:
            result = future.result()
        except Exception as error:  # a lost worker or broken pool: report it, keep the other groups
            errors.append(f"{label}: {type(error).__name__}: {error}")
            print(f"{label} failed, not stored (a rerun retries it): {type(error).__name__}: {error}", file=log)
            return
        added += store.add(spec.name, zip((keys[i] for i in indices), result.records), engine_identity(spec.options),
                           result.code_version)
        print(f"{label} stored: {already + added}/{len(spec.runs)} runs in {store.path}", file=log)

    for number, indices in enumerate(tasks, start=1):
        first = spec.runs[indices[0]].params
        label = f"task {number}/{len(tasks)} ({first.optimizer}, B={first.B}, {len(indices)} members)"
        callback = progress(label) if progress is not None and inline else None
        in_flight[executor.submit(train_task, [spec.runs[i] for i in indices], options, callback)] = (label, indices)
        for future in [future for future in in_flight if future.done()]:  # the inline executor is done at once
            store_finished(future)
    for future in as_completed(list(in_flight)):
        store_finished(future)
    return SweepOutcome(len(spec.runs), already, added, tuple(errors))
