"""Run a sweep: pending runs -> stacked-ensemble tasks -> any executor -> one store write per group.

:func:`run_sweep` asks the :class:`~validation.store.results.ResultsStore` which runs are done,
groups the rest by :meth:`~validation.runs.spec.RunSpec.group_key` (at most ``group_size`` members
each, :mod:`validation.runs.sizing`'s default otherwise) and keeps the executor's ``capacity`` of
tasks in flight (:mod:`validation.sweeps.executors`), claiming each task's runs in the store just
before it is submitted. Each group's records are stored in one transaction as soon as its task
finishes, in whatever order tasks finish. A driver object holds one call's state: the tasks queued
and in flight, and the counts of the outcome.

* **Several drivers on one store** (two terminals, two cluster jobs) split the work: a run claimed
  by a live driver is left to it (:meth:`validation.store.leases.Leases.claim`); a driver renews
  its leases while it works, so the runs of a driver that died are taken over once its leases
  expire (:data:`LEASE_S`). A driver whose work is done waits for the runs other drivers hold and
  returns when the store is complete; every driver then reports the same, true count.
* **Faults**: killing the driver or a worker loses at most the groups in flight; a rerun trains
  exactly what is missing. A task whose worker was lost is retried (:data:`RETRIES` times) while
  the other groups go on; a task that keeps failing is reported in :class:`SweepOutcome`.
* **Interrupts** (Ctrl-C; SIGTERM and SIGHUP where
  :func:`validation.termination.terminate_as_interrupt` is active, as in ``theorykit``): tasks not
  yet started are cancelled,
  the workers stopped, every finished task stored -- a group whose write the signal cut short
  included -- and the claims released; :class:`SweepInterrupted` says how many runs are stored
  (``theorykit`` prints it in one line and exits with status 128 + the signal: 130, 143, 129).

A member whose weights turn NaN/inf is not a task failure: it is stored as a ``failed`` run with
its reason (``Trajectory.failure``). Tasks (:func:`validation.cnn.tasks.train_task`) return plain
data, so the executor may live in another process or on another machine. :func:`train_or_resume`
is the same for a named list of runs (the presets and the comparisons), returning their records in
spec order.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import TextIO

from theorykit.errors import ParameterError
from validation.cnn.device import resolve_device
from validation.cnn.tasks import TaskResult, train_task
from validation.errors import MachineError, SweepInterrupted
from validation.progress import STDERR
from validation.runs.records import RunRecord, engine_identity, run_key
from validation.runs.sizing import group_size
from validation.runs.spec import EngineOptions, RunSpec
from validation.store.heartbeat import LeaseHeartbeat
from validation.store.leases import default_owner, owner_is_dead
from validation.store.results import ResultsStore
from validation.sweeps.executors import InlineExecutor
from validation.sweeps.grid import SweepSpec
from validation.sweeps.preflight import check_memory, check_names
from validation.termination import signal_of

#: Seconds a claim lives without renewal: a driver renews every LEASE_S / 4 while it works, so a
#: claim outlives a driver on another machine by at most this long (one on this machine is seen
#: dead at once: :func:`validation.store.leases.owner_is_dead`).
LEASE_S = 30.0
#: How often (seconds) a driver with nothing left to do looks at the runs other drivers hold.
POLL_S = 2.0
#: How many times a task whose worker was lost is submitted again.
RETRIES = 2


@dataclasses.dataclass(frozen=True)
class SweepOutcome:
    """``runs`` in the sweep, ``already`` stored before this call, ``added`` by it, ``elsewhere``
    stored by other drivers meanwhile, ``errors`` of tasks that kept failing."""

    runs: int
    already: int
    added: int
    errors: tuple[str, ...]
    elsewhere: int = 0

    @property
    def stored(self) -> int:
        return self.already + self.added + self.elsewhere

    @property
    def complete(self) -> bool:
        return self.stored == self.runs


def _work(spec: SweepSpec, indices: Sequence[int], options: EngineOptions) -> float:
    """The tasks' cost in the fused kernel's model (``validation.runs.sizing.group_size``), which
    weighs a B = 100 step against a B = 2 one; only the ETA's proportions use it."""
    return sum(group_size([spec.runs[i]], options).seconds or 0.0 for i in indices)


class _SweepDriver:
    """One call of :func:`run_sweep`: the runs' keys, the queue of tasks not yet submitted, the
    futures in flight (each with its label, run indices and tries) and the counters of the
    outcome. Built from the store's state at once: the runs already stored are announced and left
    out of the queue."""

    def __init__(
        self,
        spec: SweepSpec,
        store: ResultsStore,
        executor: Executor,
        options: EngineOptions,
        log: TextIO,
        progress: Callable[[str], Callable[[int, int], None]] | None,
        owner: str,
        lease_s: float,
    ) -> None:
        self.spec, self.store, self.executor, self.options = spec, store, executor, options
        self.log, self.owner, self.lease_s = log, owner, lease_s
        inline = isinstance(executor, InlineExecutor)
        self.progress = progress if inline else None  # a callback does not cross processes
        self.capacity = max(1, int(getattr(executor, "capacity", os.cpu_count() or 1)))
        self.keys = [run_key(run, spec.options) for run in spec.runs]
        self.wanted = frozenset(self.keys)
        stored = store.keys()
        pending = [index for index, key in enumerate(self.keys) if key not in stored]
        self.already = len(spec.runs) - len(pending)
        if self.already:
            print(
                f"resuming: {self.already} of {len(spec.runs)} runs already in {store.path}",
                file=log,
            )
        self.device_type = (
            resolve_device("auto").type if options.device == "auto" else options.device_type()
        )
        self.queue = self._tasks(pending)
        self.in_flight: dict[Future, tuple[str, list[int], int]] = {}
        self.added, self.errors, self.number, self.waiting_for = 0, [], 0, -1
        self.work_total, self.work_done = _work(spec, pending, options), 0.0
        self.started = time.perf_counter()

    def _tasks(self, indices: list[int]) -> list[list[int]]:
        """The runs ``indices`` grouped into tasks (:meth:`SweepSpec.tasks`), as run indices."""
        groups = self.spec.tasks([self.spec.runs[i] for i in indices], self.device_type)
        return [[indices[j] for j in group] for group in groups]

    def stored(self) -> int:
        """How many of the sweep's runs the store holds now."""
        return len(self.store.keys() & self.wanted)

    def run(self) -> SweepOutcome:
        """Train until every run is stored (or only failed tasks are left): see the module
        docstring. An interrupt stores what finished, releases the claims and raises
        :class:`SweepInterrupted`."""
        store = self.store
        heartbeat = (
            LeaseHeartbeat(store.path, self.owner, self.lease_s, self.log)
            if not store.read_only
            else None
        )
        try:
            while self._step():
                pass
        except KeyboardInterrupt as interrupt:
            raise self._interrupted(interrupt) from None
        finally:
            if heartbeat is not None:
                heartbeat.stop()
            if not store.read_only:
                store.leases.release(self.owner)
        total = self.stored()
        return SweepOutcome(
            len(self.spec.runs),
            self.already,
            self.added,
            tuple(self.errors),
            total - self.already - self.added,
        )

    def _step(self) -> bool:
        """Fill the executor, then store the tasks that finish first, or, with none in flight,
        look at what the store still lacks; False once there is nothing left to do."""
        self._submit_queued()
        if not self.in_flight:
            return self._look_for_missing()
        done, _ = wait(list(self.in_flight), return_when=FIRST_COMPLETED)
        for future in done:
            self.collect(future)
        return True

    def _submit_queued(self) -> None:
        """Claim and submit queued tasks while the executor has room; runs another driver
        claimed first are left out of their task."""
        while self.queue and len(self.in_flight) < self.capacity:
            task = self.queue.pop(0)
            keys = [self.keys[i] for i in task]
            claimed = set(self.store.leases.claim(keys, self.owner, self.lease_s, owner_is_dead))
            indices = [i for i in task if self.keys[i] in claimed]
            if indices:
                self.number += 1
                first = self.spec.runs[indices[0]].params
                members = len(indices)
                self.submit(
                    indices,
                    f"task {self.number} ({first.optimizer}, B={first.B}, {members} members)",
                )

    def _look_for_missing(self) -> bool:
        """With nothing in flight: False when the store is complete (or a task failed); else
        queue the missing runs no live driver holds (a dead driver's, once its leases expired),
        or wait :data:`POLL_S` for the drivers that hold them."""
        done_keys = self.store.keys()
        missing = [i for i, key in enumerate(self.keys) if key not in done_keys]
        if not missing or self.errors:
            return False
        held = self.store.leases.claimed_elsewhere(
            [self.keys[i] for i in missing], self.owner, owner_is_dead
        )
        free = [i for i in missing if self.keys[i] not in held]
        if free:
            self.queue = self._tasks(free)
            return True
        if len(missing) != self.waiting_for:
            self.waiting_for = len(missing)
            print(
                f"waiting for {self.waiting_for} runs that another driver is training",
                file=self.log,
            )
        time.sleep(POLL_S)
        return True

    def submit(self, indices: list[int], label: str, tries: int = 0) -> None:
        """Submit the task of runs ``indices``; the inline executor's, done at once, is stored
        at once."""
        callback = self.progress(label) if self.progress is not None else None
        runs = [self.spec.runs[i] for i in indices]
        future = self.executor.submit(train_task, runs, self.options, callback)
        self.in_flight[future] = (label, indices, tries)
        if future.done():
            self.collect(future)

    def collect(self, future: Future) -> None:
        """Store the group of a finished task, or retry or report a failed one. The future leaves
        :attr:`in_flight` only once its group is stored (or given up): an interrupt during the
        write leaves it there, and the interrupt's clean-up stores it."""
        label, indices, tries = self.in_flight[future]
        try:
            result: TaskResult = future.result()
        except Exception as error:  # a lost worker or broken pool: retry, then report
            del self.in_flight[future]
            self._failed(label, indices, tries, error)
            return
        self.store_group(indices, result)
        del self.in_flight[future]
        self.store.leases.release(self.owner, [self.keys[i] for i in indices])
        self._report_stored(label, indices)

    def _failed(self, label: str, indices: list[int], tries: int, error: Exception) -> None:
        """Submit a task whose worker was lost again (:data:`RETRIES` times); report one that
        keeps failing, its runs released for a rerun."""
        if isinstance(error, BrokenProcessPool | OSError) and tries < RETRIES:
            print(f"{label}: worker lost ({type(error).__name__}), retrying", file=self.log)
            self.submit(indices, label, tries + 1)
            return
        self.errors.append(f"{label}: {type(error).__name__}: {error}")
        self.store.leases.release(self.owner, [self.keys[i] for i in indices])
        print(
            f"{label} failed, not stored (a rerun retries it): {type(error).__name__}: {error}",
            file=self.log,
        )

    def store_group(self, indices: list[int], result: TaskResult) -> None:
        """Store the records of the task of runs ``indices`` in one transaction."""
        records = [
            RunRecord.of(self.keys[i], self.spec.runs[i], trajectory)
            for i, trajectory in zip(indices, result.trajectories, strict=True)
        ]
        self.added += self.store.add(
            self.spec.name,
            records,
            engine_identity(self.spec.options),
            result.code_version,
            result.provenance,
        )

    def _report_stored(self, label: str, indices: list[int]) -> None:
        """One line: the runs stored so far, the time elapsed and this driver's estimate of the
        time left (in proportion to the kernel's cost model, :func:`_work`)."""
        self.work_done += _work(self.spec, indices, self.options)
        elapsed = time.perf_counter() - self.started
        done = self.work_done
        left = elapsed * (self.work_total - done) / done if done else 0.0
        print(
            f"{label} stored: {self.stored()}/{len(self.spec.runs)} runs in "
            f"{self.store.path} ({elapsed / 60:.1f} min elapsed, ~{max(left, 0.0) / 60:.1f} min "
            "left for this driver)",
            file=self.log,
        )

    def _interrupted(self, interrupt: KeyboardInterrupt) -> SweepInterrupted:
        """Cancel the tasks not started, stop the workers, store every finished task (a group
        whose write the interrupt cut short included), release the claims; the exception that
        says how many runs are stored."""
        for future in list(self.in_flight):
            future.cancel()
        terminate = getattr(self.executor, "terminate", None)
        if terminate is not None:
            terminate()
        for future in [f for f in self.in_flight if f.done() and not f.cancelled()]:
            if future.exception() is None:
                self.collect(future)
            else:
                del self.in_flight[future]
        self.store.leases.release(self.owner)
        return SweepInterrupted(
            self.stored(), len(self.spec.runs), self.store.path, signal_of(interrupt)
        )


def run_sweep(
    spec: SweepSpec,
    store: ResultsStore,
    executor: Executor | None = None,
    options: EngineOptions | None = None,
    log: TextIO = STDERR,
    progress: Callable[[str], Callable[[int, int], None]] | None = None,
    owner: str | None = None,
    lease_s: float = LEASE_S,
) -> SweepOutcome:
    """Train the runs of ``spec`` that ``store`` lacks (see the module docstring) and store each
    group as its task finishes.

    ``options`` replaces ``spec.options`` for where and how fast to train (device, compile); it must
    record the same things (:func:`validation.runs.records.engine_identity`), so that keys do not
    change. ``progress(label)`` gives a per-epoch callback for a group; it is used only with the
    in-process executor (a callback does not cross process boundaries). ``owner`` names this
    driver in the store's claims (default: :func:`validation.store.leases.default_owner`).
    """
    executor = executor or InlineExecutor()
    options = options or spec.options
    if engine_identity(options) != engine_identity(spec.options):
        raise ParameterError(
            "options", options, "the spec's recording options (only device and compile may differ)"
        )
    owner = owner or default_owner()
    check_names(spec, store)
    driver = _SweepDriver(spec, store, executor, options, log, progress, owner, lease_s)
    check_memory([[spec.runs[i] for i in task] for task in driver.queue], options)
    return driver.run()


def train_or_resume(
    name: str,
    runs: Sequence[RunSpec],
    options: EngineOptions,
    store_path: Path,
    log: TextIO = STDERR,
    progress: Callable[[str], Callable[[int, int], None]] | None = None,
) -> list[RunRecord]:
    """Train what the store at ``store_path`` lacks of ``runs`` (in this process), then return every
    run's record in the order of ``runs``. A failed task is a :class:`MachineError` naming it
    (a rerun retries it)."""
    spec = SweepSpec(name, tuple(runs), options, ())
    with ResultsStore(store_path) as store:
        outcome = run_sweep(spec, store, log=log, progress=progress)
        if outcome.errors:
            raise MachineError(
                f"{len(outcome.errors)} group(s) failed: {'; '.join(outcome.errors)}"
            )
        keys = [run_key(run, options) for run in runs]
        records = store.records(keys)
        for key in keys:
            if key not in records:
                raise ParameterError(
                    "store",
                    str(store_path),
                    f"a readable row for every run; row {key} cannot be read "
                    f"({store.malformed.get(key, 'missing')}); delete it or use another store",
                )
    return [records[key] for key in keys]
