"""Fault tests: SIGKILL the driver, a process-pool worker, a Dask worker, or a process in the middle
of writing; rerun. Nothing finished is lost or duplicated and nothing half-written is ever read."""

import dataclasses
import io
import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from validation.runs.spec import EngineOptions
from validation.store.results import ResultsStore
from validation.sweeps.executors import open_executor
from validation.sweeps.grid import load_spec
from validation.sweeps.runner import SweepOutcome, run_sweep

#: Long enough that a task takes about a second at B = 2 in the torch kernel (one torch call per
#: step; the fused kernel would finish the sweep before a kill lands), so that a kill lands while
#: work is left.
EPOCHS = 150
KERNEL = ["--kernel", "torch"]
TIMEOUT_S = 180


def _torch(spec_path: Path) -> EngineOptions:
    """The spec's engine options with the torch kernel (see :data:`EPOCHS`)."""
    return dataclasses.replace(load_spec(spec_path).options, kernel="torch")


def _stored_rows(path: Path) -> int:
    try:
        with sqlite3.connect(path, timeout=30) as connection:
            return connection.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
    except sqlite3.OperationalError:  # not created yet
        return 0


def _wait_for_rows(path: Path, at_least: int = 1) -> int:
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        rows = _stored_rows(path)
        if rows >= at_least:
            return rows
        time.sleep(0.02)
    raise AssertionError(f"no run was stored in {path} within {TIMEOUT_S} s")


def _check_whole_groups(path: Path) -> dict:
    """The store is intact and every task's group (2 seeds of one grid point) is all there or
    absent."""
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        counts = dict(
            connection.execute("SELECT name, COUNT(*) FROM runs GROUP BY name").fetchall()
        )
    assert all(count == 2 for count in counts.values()), counts
    with ResultsStore(path) as store:
        return store.records()


@pytest.fixture(scope="module")
def spec_path(sweep_spec_file) -> Path:
    return sweep_spec_file(name="faults", epochs=EPOCHS)


@pytest.fixture(scope="module")
def reference(spec_path: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The uninterrupted in-process run of the fault tests' sweep."""
    with ResultsStore(tmp_path_factory.mktemp("reference") / "r.sqlite") as store:
        assert run_sweep(load_spec(spec_path), store, log=io.StringIO()).complete
        return store.records()


def _finish(spec_path: Path, store_path: Path) -> dict:
    """Rerun in process until complete; return the records."""
    with ResultsStore(store_path) as store:
        outcome = run_sweep(load_spec(spec_path), store, log=io.StringIO())
        assert outcome.complete and outcome.errors == ()
        return store.records()


def test_sigkill_of_the_driver_loses_nothing_finished(
    spec_path: Path, reference: dict, tmp_path: Path, records_match
) -> None:
    store_path = tmp_path / "r.sqlite"
    driver = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "validation.cli",
            "sweep",
            str(spec_path),
            "--store",
            str(store_path),
            *KERNEL,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_rows(store_path)
    finally:
        driver.send_signal(signal.SIGKILL)
        driver.wait()
    before = _check_whole_groups(store_path)
    assert 2 <= len(before) < 16, "the kill must land while work is left"
    after = _finish(spec_path, store_path)
    assert len(after) == 16 and all(after[key] == record for key, record in before.items())
    records_match(after, reference)


def _sweep_killing_a_worker(
    spec_path: Path, store_path: Path, executor, choose_worker: Callable[[], int]
) -> SweepOutcome:
    """Run the sweep on ``executor`` while a thread SIGKILLs the worker ``choose_worker()`` names,
    once the first group is stored; the kill must have landed."""
    killed = []

    def kill_a_worker() -> None:
        _wait_for_rows(store_path)
        pid = choose_worker()
        os.kill(pid, signal.SIGKILL)
        killed.append(pid)

    with ResultsStore(store_path) as store:
        killer = threading.Thread(target=kill_a_worker)
        killer.start()
        outcome = run_sweep(load_spec(spec_path), store, executor, _torch(spec_path), io.StringIO())
        killer.join()
    assert killed
    return outcome


def test_sigkill_of_a_pool_worker_loses_nothing_finished(
    spec_path: Path, reference: dict, tmp_path: Path, records_match
) -> None:
    store_path = tmp_path / "r.sqlite"
    # children that are not the pool's (a Dask test cluster's workers, say)
    others = {child.pid for child in multiprocessing.active_children()}

    def a_pool_worker() -> int:
        children = multiprocessing.active_children()
        return next(child.pid for child in children if child.pid not in others)

    with open_executor("process:2") as pool:
        outcome = _sweep_killing_a_worker(spec_path, store_path, pool, a_pool_worker)
    # the killed worker's slot is rebuilt and only its task is trained again: one pass completes
    assert outcome == SweepOutcome(16, 0, 16, ())
    records_match(_check_whole_groups(store_path), reference)


def test_a_worker_killed_while_idle_costs_no_task() -> None:
    """A worker SIGKILLed between tasks breaks its one-process pool with no task in it; the next
    task sent to that slot runs on a rebuilt one (the pool's own ``submit`` would raise)."""
    others = {child.pid for child in multiprocessing.active_children()}
    with open_executor("process:1") as pool:
        first = pool.submit(os.getpid).result(timeout=TIMEOUT_S)
        os.kill(first, signal.SIGKILL)
        broken_slot = pool._slots[0]
        deadline = time.monotonic() + TIMEOUT_S
        while not broken_slot._broken:  # the pool's manager thread sees the death
            assert time.monotonic() < deadline, "the pool never saw its worker die"
            time.sleep(0.02)
        second = pool.submit(os.getpid).result(timeout=TIMEOUT_S)
    assert second not in others | {first}


def test_sigkill_of_a_dask_worker_is_survived_without_duplicates(
    spec_path: Path, reference: dict, tmp_path: Path, dask_cluster, records_match
) -> None:
    from distributed import Client

    store_path = tmp_path / "r.sqlite"
    address = dask_cluster.scheduler_address
    with Client(address) as client:
        pids = list(client.run(os.getpid).values())
    with open_executor("dask://" + address.removeprefix("tcp://")) as executor:
        outcome = _sweep_killing_a_worker(spec_path, store_path, executor, lambda: pids[0])
    # the scheduler reruns the lost task on the other (or restarted) worker: one pass completes the
    # sweep
    assert outcome == SweepOutcome(16, 0, 16, ())
    records_match(_check_whole_groups(store_path), reference)


WRITER = """
import dataclasses, sys, uuid
from theorykit import tang2025_synthetic
from validation.runs.records import RunRecord
from validation.store.results import ResultsStore
record = RunRecord("", "", tang2025_synthetic(), 0, 0, "overlapping", "balanced",
                   tuple(range(2000)),
                   {"loss": (0.5,) * 2000}, {"loss": 0.5})
with ResultsStore(sys.argv[1]) as store:
    print("ready", flush=True)
    while True:
        group = uuid.uuid4().hex
        rows = [dataclasses.replace(record, key=f"{group}-{i}", name=group) for i in range(50)]
        store.add(group, rows, {}, "writer")
"""


@pytest.mark.parametrize("delay", [0.1, 0.3, 0.7])
def test_sigkill_while_writing_leaves_only_whole_groups(tmp_path: Path, delay: float) -> None:
    """A writer adds 50-row groups as fast as it can and is killed mid-stream, three times into one
    store."""
    store_path = tmp_path / "w.sqlite"
    for attempt in range(3):
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(store_path)], stdout=subprocess.PIPE, text=True
        )
        assert writer.stdout.readline().strip() == "ready"
        if attempt == 2:  # on a loaded machine `delay` may pass before any group is whole
            _wait_for_rows(store_path)
        time.sleep(delay)
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        with sqlite3.connect(store_path) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            counts = [
                count for (count,) in connection.execute("SELECT COUNT(*) FROM runs GROUP BY sweep")
            ]
        assert set(counts) <= {50}, counts
    with ResultsStore(store_path) as store:
        keys = sorted(store.keys())
        assert keys, "the writer must have finished some groups before the last kill"
        assert all(len(record.epoch) == 2000 for record in store.records(keys[:100]).values())
