"""A store several drivers share, interrupts, and store edges: the fault suite of a lab's sweeps.

Drivers are real ``theorykit sweep`` processes on one store, with the torch kernel so that a task
takes about a second (the fused kernel would finish before anything can happen to it); a driver
that only has to finish the sweep (a rerun, a store to read afterwards) runs the fused kernel, which
stores the same keys.
"""

import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from validation.errors import MachineError
from validation.store.results import ResultsStore

EPOCHS = 150
TIMEOUT_S = 240


@pytest.fixture(scope="module")
def spec_path(sweep_spec_file) -> Path:
    return sweep_spec_file(name="shared", epochs=EPOCHS)


def _driver(spec: Path, store: Path, *extra: str, kernel: str = "torch") -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "validation.cli",
            "sweep",
            str(spec),
            "--store",
            str(store),
            "--kernel",
            kernel,
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _rows(path: Path) -> int:
    try:
        with sqlite3.connect(path, timeout=30) as connection:
            return connection.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def _wait_for_rows(path: Path, at_least: int = 1) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while _rows(path) < at_least:
        assert time.monotonic() < deadline, f"no run stored in {path} within {TIMEOUT_S} s"
        time.sleep(0.05)


def _new_runs(stdout: str) -> int:
    """The driver's own count from its last line: "16/16 runs in PATH (K new)"."""
    return int(re.search(r"\((\d+) new\)", stdout).group(1))


@pytest.mark.parametrize("drivers", [2, 3])
def test_concurrent_drivers_split_the_work(spec_path: Path, tmp_path: Path, drivers: int) -> None:
    store = tmp_path / "shared.sqlite"
    processes = [_driver(spec_path, store) for _ in range(drivers)]
    outputs = [process.communicate(timeout=TIMEOUT_S) for process in processes]
    assert [process.returncode for process in processes] == [0] * drivers, outputs
    for stdout, _ in outputs:
        assert "16/16 runs in" in stdout  # every driver reports the complete store
    with sqlite3.connect(store) as connection:
        keys = [row[0] for row in connection.execute("SELECT key FROM runs")]
        claims = connection.execute("SELECT COUNT(*) FROM claims").fetchone()[0]
    assert len(keys) == len(set(keys)) == 16 and claims == 0
    # exactly one row per run and no run trained twice: the work adds up to one driver's
    assert sum(_new_runs(stdout) for stdout, _ in outputs) == 16


@pytest.mark.parametrize("executor", ["inline", "process:2"])
def test_ctrl_c_stores_what_finished_and_says_so_in_one_line(
    spec_path: Path, tmp_path: Path, executor: str
) -> None:
    store = tmp_path / "interrupted.sqlite"
    driver = _driver(spec_path, store, "--executor", executor)
    _wait_for_rows(store)
    started = time.monotonic()
    driver.send_signal(signal.SIGINT)
    _, stderr = driver.communicate(timeout=60)
    assert time.monotonic() - started < 20  # no waiting for every submitted task
    assert driver.returncode == 130
    assert "Traceback" not in stderr
    message = [line for line in stderr.splitlines() if line.strip()][-1]
    assert re.fullmatch(
        r"theorykit sweep: interrupted: (\d+)/16 runs stored in .*; rerun to resume", message
    )
    stored = int(re.search(r"interrupted: (\d+)/16", message).group(1))
    assert stored == _rows(store) and 2 <= stored < 16
    rerun = _driver(spec_path, store, kernel="fused")
    stdout, _ = rerun.communicate(timeout=TIMEOUT_S)
    assert rerun.returncode == 0 and _new_runs(stdout) == 16 - stored


@pytest.mark.parametrize(
    ("executor", "signal_number"),
    [
        ("process:2", signal.SIGTERM),
        pytest.param("inline", signal.SIGHUP, marks=pytest.mark.slow),  # same path as SIGTERM
    ],
    ids=["sigterm-process-pool", "sighup-inline"],
)
def test_sigterm_and_sighup_end_a_driver_like_ctrl_c_and_the_sqlite_alone_holds_every_run(
    spec_path: Path, tmp_path: Path, executor: str, signal_number: int
) -> None:
    """What SLURM does at the time limit, on scancel and on preemption (SIGTERM), and a closed
    terminal (SIGHUP): exit 128 + signal, the interrupt line, no traceback, claims released, and
    a copy of the .sqlite file alone (no -wal) holds every stored run."""
    store = tmp_path / "terminated.sqlite"
    driver = _driver(spec_path, store, "--executor", executor)
    _wait_for_rows(store)
    started = time.monotonic()
    driver.send_signal(signal_number)
    _, stderr = driver.communicate(timeout=120)
    # within SLURM's default grace period (KillWait = 30 s) even on a loaded machine
    assert time.monotonic() - started < 20
    assert driver.returncode == 128 + signal_number, stderr
    assert "Traceback" not in stderr
    message = [line for line in stderr.splitlines() if line.strip()][-1]
    name = signal.Signals(signal_number).name
    assert re.fullmatch(
        rf"theorykit sweep: interrupted by {name}: (\d+)/16 runs stored in .*; rerun to resume",
        message,
    ), message
    stored = int(re.search(r": (\d+)/16", message).group(1))
    copy = tmp_path / "copy" / "copied.sqlite"
    copy.parent.mkdir()
    shutil.copyfile(store, copy)  # the .sqlite alone, as a job's output staging would copy it
    with sqlite3.connect(copy) as connection:
        assert connection.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == stored >= 2
        assert connection.execute("SELECT COUNT(*) FROM claims").fetchone()[0] == 0
    rerun = _driver(spec_path, store, kernel="fused")
    stdout, _ = rerun.communicate(timeout=TIMEOUT_S)
    assert rerun.returncode == 0 and _new_runs(stdout) == 16 - stored


@pytest.mark.slow  # the default run checks 10 x 5 simultaneous opens through the API (fast)
def test_five_drivers_started_in_the_same_instant_on_a_new_store_all_finish(
    spec_path: Path, tmp_path: Path
) -> None:
    """A SLURM array's start: five drivers on one store that does not exist yet; every driver
    exits 0 with the complete count and every run is stored once."""
    store = tmp_path / "array.sqlite"
    processes = [_driver(spec_path, store) for _ in range(5)]
    outputs = [process.communicate(timeout=2 * TIMEOUT_S) for process in processes]
    assert [process.returncode for process in processes] == [0] * 5, outputs
    with sqlite3.connect(store) as connection:
        keys = [row[0] for row in connection.execute("SELECT key FROM runs")]
    assert len(keys) == len(set(keys)) == 16
    assert sum(_new_runs(stdout) for stdout, _ in outputs) == 16


@pytest.mark.parametrize("orphaned", [True, False])
def test_a_worker_whose_driver_died_before_it_started_exits_at_once(orphaned: bool) -> None:
    """A pool worker orphaned while it was still importing (its parent is no longer the driver
    it was started for) leaves at its initializer instead of waiting forever; one whose driver
    is its parent goes on."""
    driver = "os.getppid() + 10**6" if orphaned else "os.getppid()"
    script = (
        "import os; from validation.cnn.tasks import share_cores; "
        f"share_cores(1, {driver}); print('working')"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert "Traceback" not in result.stderr, result.stderr
    assert (result.returncode, result.stdout.strip()) == ((1, "") if orphaned else (0, "working"))


def _children(pid: int) -> list[int]:
    """Process ids whose parent is ``pid`` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads process parents from /proc")
def test_a_killed_driver_leaves_no_worker_behind(spec_path: Path, tmp_path: Path) -> None:
    store = tmp_path / "orphans.sqlite"
    driver = _driver(spec_path, store, "--executor", "process:2")
    _wait_for_rows(store)
    workers = _children(driver.pid)
    assert workers, "the pool's workers must be running"
    driver.send_signal(signal.SIGKILL)
    driver.wait()
    deadline = time.monotonic() + 10
    alive = workers
    while alive and time.monotonic() < deadline:
        time.sleep(0.2)
        alive = [pid for pid in alive if Path(f"/proc/{pid}").exists() and not _zombie(pid)]
    assert not alive, f"workers {alive} outlived their driver by 10 s"


def _zombie(pid: int) -> bool:
    try:
        return (Path(f"/proc/{pid}") / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def test_the_sqlite_file_alone_holds_every_row_after_a_clean_finish(
    spec_path: Path, tmp_path: Path
) -> None:
    store = tmp_path / "clean.sqlite"
    driver = _driver(spec_path, store, kernel="fused")
    driver.communicate(timeout=TIMEOUT_S)
    assert driver.returncode == 0
    copy = tmp_path / "copy" / "copied.sqlite"
    copy.parent.mkdir()
    shutil.copyfile(store, copy)  # without results.sqlite-wal / -shm
    with ResultsStore(copy) as copied:
        assert len(copied) == 16


def test_a_foreign_sqlite_file_is_refused_untouched(tmp_path: Path) -> None:
    foreign = tmp_path / "app.sqlite"
    with sqlite3.connect(foreign) as connection:
        connection.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
        connection.execute("INSERT INTO users VALUES (1, 'ada')")
    before = foreign.read_bytes()
    result = subprocess.run(
        [sys.executable, "-m", "validation.cli", "report", str(foreign)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2 and "another program" in result.stderr
    assert "Traceback" not in result.stderr
    assert foreign.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.sqlite"]  # no -wal, no -shm


def test_a_read_only_store_is_reported_and_refuses_writes(spec_path: Path, tmp_path: Path) -> None:
    store = tmp_path / "ro.sqlite"
    driver = _driver(spec_path, store, kernel="fused")
    driver.communicate(timeout=TIMEOUT_S)
    with ResultsStore(store, read_only=True) as read_only:
        assert len(read_only.records()) == 16
        with pytest.raises(MachineError, match="read-only"):
            read_only.add("x", [], {}, "test")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through file permissions")
def test_a_store_in_a_read_only_directory_opens_read_only(spec_path: Path, tmp_path: Path) -> None:
    store = tmp_path / "locked" / "ro.sqlite"
    driver = _driver(spec_path, store, kernel="fused")
    driver.communicate(timeout=TIMEOUT_S)
    store.parent.chmod(0o555)
    try:
        with ResultsStore(store) as opened:
            assert opened.read_only and len(opened) == 16
    finally:
        store.parent.chmod(0o755)


def test_a_full_disk_is_one_sentence_and_writes_nothing(tmp_path: Path) -> None:
    import dataclasses

    from theorykit import tang2025_synthetic
    from validation.runs.records import RunRecord

    path = tmp_path / "full.sqlite"
    record = RunRecord(
        "", "x", tang2025_synthetic(), 0, 0, "overlapping", "balanced",
        tuple(range(5000)), {"loss": (0.5,) * 5000}, {"loss": 0.5},
    )  # fmt: skip
    with ResultsStore(path) as store:
        pages = store._connection.execute("PRAGMA page_count").fetchone()[0]
        store._connection.execute(f"PRAGMA max_page_count = {pages + 2}")  # a disk that is full
        rows = [dataclasses.replace(record, key=f"k{i}") for i in range(20)]
        with pytest.raises(MachineError, match="the disk is full"):
            store.add("full", rows, {}, "test")
        assert len(store) == 0


def test_a_malformed_store_is_one_sentence(tmp_path: Path) -> None:
    broken = tmp_path / "broken.sqlite"
    broken.write_bytes(b"SQLite format 3\x00" + os.urandom(4096))
    result = subprocess.run(
        [sys.executable, "-m", "validation.cli", "report", str(broken)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert len([line for line in result.stderr.splitlines() if line.strip()]) == 1


def _external_count(path: Path, table: str) -> int:
    """Rows of ``table`` as another process sees them."""
    script = (
        "import sqlite3, sys; "
        "print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(path), f"SELECT COUNT(*) FROM {table}"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(result.stdout)


def test_commits_stay_visible_to_other_processes_with_two_stores_open(tmp_path: Path) -> None:
    """A driver holds two connections to its store (the lease heartbeat has its own). Opening
    the second must not drop the first's file locks: otherwise another process's reader, closing
    as if it were the last, deletes the write-ahead log the first still writes into, and every
    later row is invisible to other drivers until the first closes."""
    path = tmp_path / "r.sqlite"
    with ResultsStore(path) as first:
        first.leases.claim(["a"], "me", 30)
        with ResultsStore(path):
            assert _external_count(path, "claims") == 1
            first.leases.claim(["b"], "me", 30)
            assert _external_count(path, "claims") == 2
