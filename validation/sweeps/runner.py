"""Run a sweep: pending runs -> stacked-ensemble tasks -> any executor -> one store write per group.

:func:`run_sweep` asks the :class:`~validation.store.results.ResultsStore` which runs are done,
groups the rest by :meth:`~validation.runs.spec.RunSpec.group_key` (at most ``group_size`` members
each, :mod:`validation.runs.sizing`'s default otherwise) and keeps the executor's ``capacity`` of
tasks
in flight (:mod:`validation.sweeps.executors`), claiming each task's runs in the store just before
it is submitted. Each group's records are stored in one transaction as soon as its task finishes,
in whatever order tasks finish.

* **Several drivers on one store** (two terminals, two cluster jobs) split the work: a run claimed
  by a live driver is left to it (:meth:`ResultsStore.claim`); a driver renews its leases while it
  works, so the runs of a driver that died are taken over once its leases expire (:data:`LEASE_S`).
  A driver whose work is done waits for the runs other drivers hold and returns when the store is
  complete; every driver then reports the same, true count.
* **Faults**: killing the driver or a worker loses at most the groups in flight; a rerun trains
  exactly what is missing. A task whose worker was lost is retried (:data:`RETRIES` times) while
  the other groups go on; a task that keeps failing is reported in :class:`SweepOutcome`.
* **Interrupts** (Ctrl-C; SIGTERM and SIGHUP where :func:`validation.termination.
  terminate_as_interrupt` is active, as in ``theorykit``): tasks not yet started are cancelled,
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
import json
import os
import platform
import sqlite3
import threading
import time
import uuid
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
from validation.runs.records import RunRecord, configuration_text, engine_identity, run_key
from validation.runs.sizing import group_size, physical_memory
from validation.runs.spec import EngineOptions, RunSpec
from validation.store.results import ResultsStore
from validation.sweeps.executors import InlineExecutor
from validation.sweeps.grid import SweepSpec
from validation.termination import signal_of

#: Seconds a claim lives without renewal: a driver renews every LEASE_S / 4 while it works, so a
#: claim outlives a driver on another machine by at most this long (one on this machine is seen
#: dead at once: :func:`owner_is_dead`).
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


def default_owner() -> str:
    """A driver's name in the claims table: host, process and a random suffix."""
    return f"{platform.node()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def owner_is_dead(owner: str) -> bool:
    """Whether the driver ``owner`` (:func:`default_owner`'s form) ran on this machine and its
    process is gone; a driver elsewhere is judged by its lease alone."""
    host, _, rest = owner.partition(":")
    pid = rest.partition(":")[0]
    if host != platform.node() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


class _Heartbeat:
    """Renews an owner's leases every ``lease_s / 4`` seconds from its own store connection.

    A renewal that fails (the store locked past ``store_file.LOCK_WAIT_S``, a lost file system)
    is retried at the next beat; the first failure of a streak is logged in one line, and so is
    the moment the leases have gone unrenewed for ``lease_s``: another driver may then take the
    runs over and train them too (each run is still stored once). Nothing in this thread raises.
    """

    def __init__(self, path: Path, owner: str, lease_s: float, log: TextIO) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(path, owner, lease_s, log), name="lease-heartbeat", daemon=True
        )
        self._thread.start()

    def _run(self, path: Path, owner: str, lease_s: float, log: TextIO) -> None:
        store: ResultsStore | None = None
        renewed, failing, expired = time.monotonic(), False, False
        while not self._stop.wait(lease_s / 4):
            try:
                if store is None:  # an empty store is falsy (len 0): test for None
                    store = ResultsStore(path)
                store.renew(owner, lease_s)
            except (MachineError, ParameterError, OSError, sqlite3.Error) as error:
                if not failing:
                    print(f"lease renewal failed, retrying: {error}", file=log)
                failing = True
                if not expired and time.monotonic() - renewed > lease_s:
                    expired = True
                    print(
                        f"this driver's leases expired ({lease_s:.0f} s unrenewed): another "
                        "driver may train its runs too (each is stored once)",
                        file=log,
                    )
                continue
            if failing:
                print("lease renewal resumed", file=log)
            renewed, failing, expired = time.monotonic(), False, False
        if store is not None:
            store.close()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def check_memory(tasks: Sequence[Sequence[RunSpec]], options: EngineOptions) -> None:
    """Refuse, before anything trains, a task whose arrays would not fit in this machine's memory
    (:mod:`validation.runs.sizing`'s estimate), naming the estimate and the fix."""
    memory = physical_memory()
    if memory is None:
        return
    for task in tasks:
        size = group_size(task, options)
        if size.memory_bytes > memory:
            raise ParameterError(
                "group_size",
                size.members,
                f"tasks that fit in memory: {size.members} members need "
                f"~{size.memory_bytes / 2**30:.1f} GiB of {memory / 2**30:.1f} GiB (lower "
                "group_size or test_size)",
            )


def check_names(spec: SweepSpec, store: ResultsStore) -> None:
    """Refuse a spec whose run names the store already holds with another configuration (the
    reports group runs by name and configuration, but one name for two experiments is a mistake
    worth a sentence before training)."""
    stored = store.configurations()
    for run in spec.runs:
        known = stored.get(run.name)
        if not known:
            continue
        mine = configuration_text(
            run.params, run.supports, run.labels, engine_identity(spec.options)
        )
        if mine not in known:
            other = json.loads(next(iter(known)))
            engine = engine_identity(spec.options)
            differ = [
                f"{field} = {other['params'][field]!r} (this spec: {value!r})"
                for field, value in run.params.to_dict().items()
                if other["params"].get(field) != value
            ] + [
                f"engine {field} = {other['engine'].get(field)!r} (this spec: {value!r})"
                for field, value in engine.items() | other["engine"].items()
                if other["engine"].get(field) != engine.get(field) and field in engine
            ] or ["data options"]
            raise ParameterError(
                "name",
                run.name,
                f"a run name the store {store.path} holds for one configuration only: it has "
                f"{run.name!r} with {', '.join(differ)}; use another --store, or move the "
                "differing fields into [grid] (run names are the grid's labels)",
            )


def _work(spec: SweepSpec, indices: Sequence[int], options: EngineOptions) -> float:
    """The tasks' cost in the fused kernel's model (``validation.runs.sizing.group_size``), which
    weighs a B = 100 step against a B = 2 one; only the ETA's proportions use it."""
    return sum(group_size([spec.runs[i]], options).seconds or 0.0 for i in indices)


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
    driver in the store's claims (default: host, pid, a random suffix).
    """
    executor = executor or InlineExecutor()
    options = options or spec.options
    if engine_identity(options) != engine_identity(spec.options):
        raise ParameterError(
            "options", options, "the spec's recording options (only device and compile may differ)"
        )
    owner = owner or default_owner()
    keys = [run_key(run, spec.options) for run in spec.runs]
    check_names(spec, store)
    wanted = set(keys)
    stored = store.keys()
    pending = [index for index, key in enumerate(keys) if key not in stored]
    already = len(spec.runs) - len(pending)
    if already:
        print(f"resuming: {already} of {len(spec.runs)} runs already in {store.path}", file=log)
    device_type = "cuda" if options.device.startswith("cuda") else "cpu"
    if options.device == "auto":
        device_type = resolve_device("auto").type
    queue = [
        [pending[j] for j in group]
        for group in spec.tasks([spec.runs[i] for i in pending], device_type)
    ]
    check_memory([[spec.runs[i] for i in task] for task in queue], options)
    inline = isinstance(executor, InlineExecutor)
    capacity = max(1, int(getattr(executor, "capacity", os.cpu_count() or 1)))
    in_flight: dict[Future, tuple[str, list[int], int]] = {}
    added, errors, number, waiting_for = 0, [], 0, -1
    started, work_total, work_done = time.perf_counter(), _work(spec, pending, options), 0.0
    heartbeat = _Heartbeat(store.path, owner, lease_s, log) if not store.read_only else None

    def store_finished(future: Future) -> None:
        nonlocal added, work_done
        # The future leaves in_flight only once its group is stored (or given up): an interrupt
        # during the write leaves it there, and the interrupt's clean-up stores it.
        label, indices, tries = in_flight[future]
        try:
            result: TaskResult = future.result()
        except Exception as error:  # a lost worker or broken pool: retry, then report
            del in_flight[future]
            if isinstance(error, BrokenProcessPool | OSError) and tries < RETRIES:
                print(f"{label}: worker lost ({type(error).__name__}), retrying", file=log)
                submit(indices, label, tries + 1)
                return
            errors.append(f"{label}: {type(error).__name__}: {error}")
            store.release(owner, [keys[i] for i in indices])
            print(
                f"{label} failed, not stored (a rerun retries it): {type(error).__name__}: {error}",
                file=log,
            )
            return
        records = [
            RunRecord.of(keys[i], spec.runs[i], trajectory)
            for i, trajectory in zip(indices, result.trajectories, strict=True)
        ]
        added += store.add(
            spec.name,
            records,
            engine_identity(spec.options),
            result.code_version,
            result.provenance,
        )
        del in_flight[future]
        store.release(owner, [keys[i] for i in indices])
        work_done += _work(spec, indices, options)
        elapsed = time.perf_counter() - started
        left = elapsed * (work_total - work_done) / work_done if work_done else 0.0
        print(
            f"{label} stored: {len(store.keys() & wanted)}/{len(spec.runs)} runs in "
            f"{store.path} ({elapsed / 60:.1f} min elapsed, ~{max(left, 0.0) / 60:.1f} min left "
            "for this driver)",
            file=log,
        )

    def submit(indices: list[int], label: str, tries: int = 0) -> None:
        callback = progress(label) if progress is not None and inline else None
        future = executor.submit(train_task, [spec.runs[i] for i in indices], options, callback)
        in_flight[future] = (label, indices, tries)
        if future.done():  # the inline executor is done at once
            store_finished(future)

    try:
        while True:
            while queue and len(in_flight) < capacity:
                task = queue.pop(0)
                claimed = set(store.claim([keys[i] for i in task], owner, lease_s, owner_is_dead))
                indices = [i for i in task if keys[i] in claimed]
                if indices:
                    number += 1
                    first = spec.runs[indices[0]].params
                    submit(
                        indices,
                        f"task {number} ({first.optimizer}, B={first.B}, {len(indices)} members)",
                    )
            if in_flight:
                done, _ = wait(list(in_flight), return_when=FIRST_COMPLETED)
                for future in done:
                    store_finished(future)
                continue
            done_keys = store.keys()
            missing = [i for i, key in enumerate(keys) if key not in done_keys]
            if not missing or errors:
                break
            held = store.claimed_elsewhere([keys[i] for i in missing], owner, owner_is_dead)
            free = [i for i in missing if keys[i] not in held]
            if free:  # a driver died and its leases expired: take its runs over
                queue = [
                    [free[j] for j in group]
                    for group in spec.tasks([spec.runs[i] for i in free], device_type)
                ]
                continue
            if len(missing) != waiting_for:
                waiting_for = len(missing)
                print(f"waiting for {waiting_for} runs that another driver is training", file=log)
            time.sleep(POLL_S)
    except KeyboardInterrupt as interrupt:
        for future in list(in_flight):
            future.cancel()
        terminate = getattr(executor, "terminate", None)
        if terminate is not None:
            terminate()
        for future in [f for f in in_flight if f.done() and not f.cancelled()]:
            if future.exception() is None:
                store_finished(future)
            else:
                del in_flight[future]
        store.release(owner)
        raise SweepInterrupted(
            len(store.keys() & wanted), len(spec.runs), store.path, signal_of(interrupt)
        ) from None
    finally:
        if heartbeat is not None:
            heartbeat.stop()
        if not store.read_only:
            store.release(owner)
    total = len(store.keys() & wanted)
    return SweepOutcome(len(spec.runs), already, added, tuple(errors), total - already - added)


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
