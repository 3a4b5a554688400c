"""A store as an adversary or an unlucky cluster meets it: exports aimed at the store, hand-edited
and extreme rows, stores created by several processes in the same instant, read-only file systems,
lost leases, names that escape their directory. Each case ends in one clear line or in the
documented behaviour, and no finished run is lost. No case trains a network: the stores are
written through the API with synthetic records.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import itertools
import json
import multiprocessing
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from dynamics.trajectory import METRICS
from theorykit import tang2025_synthetic
from theorykit.errors import ParameterError
from validation.cli import main
from validation.errors import MachineError
from validation.runs.records import RunRecord, engine_identity
from validation.runs.spec import EngineOptions
from validation.store.heartbeat import LeaseHeartbeat
from validation.store.leases import Leases
from validation.store.results import ResultsStore
from validation.sweeps.grid import parse_spec_text
from validation.sweeps.preflight import check_names

RUNS = 6


def _record(index: int, name: str | None = None) -> RunRecord:
    """A finished two-record run of the paper's setting (B = 2 + index: keys and names differ)."""
    params = tang2025_synthetic(B=2 + index, lam=0.01)
    metrics = dict.fromkeys(METRICS, (0.5, 0.1 * (index % 3)))
    return RunRecord(
        f"key{index:02d}",
        name or f"B={2 + index}",
        params,
        0,
        0,
        "overlapping",
        "balanced",
        (0.0, 10.0),
        metrics,
        {metric: values[-1] for metric, values in metrics.items()},
    )


def _store(path: Path, runs: int = RUNS) -> Path:
    with ResultsStore(path) as store:
        store.add("hostile", [_record(i) for i in range(runs)], {}, "test")
    return path


def _cli(*argv: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """``theorykit ARGV`` in this process (the command line's own error handling, stdout and
    stderr captured), run from ``cwd``: what a subprocess would see, without its start-up."""
    out, err = io.StringIO(), io.StringIO()
    previous = Path.cwd()
    try:
        if cwd is not None:
            os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = main(list(argv))
    finally:
        os.chdir(previous)
    return subprocess.CompletedProcess(argv, status, out.getvalue(), err.getvalue())


def _one_line(result: subprocess.CompletedProcess) -> str:
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


# 1. An export aimed at the store is refused before anything is written.


@pytest.mark.parametrize("store_name", ["data.csv", "results.sqlite", "runs.parquet"])
def test_report_export_onto_the_store_is_refused_and_the_store_kept(
    tmp_path: Path, store_name: str
) -> None:
    store = _store(tmp_path / store_name)
    before = store.read_bytes()
    for target in (store_name, f"./{store_name}"):
        result = _cli("report", store_name, "--export", target, cwd=tmp_path)
        assert result.returncode == 2 and "'export'" in _one_line(result)
        assert "other than the results store" in result.stderr
    assert store.read_bytes() == before
    with ResultsStore(store, read_only=True) as kept:
        assert len(kept) == RUNS


def test_sweep_export_onto_its_store_is_refused_before_training(tmp_path: Path) -> None:
    spec = tmp_path / "s.toml"
    spec.write_text('name = "s"\n[grid]\nB = [2, 4]\n')
    result = _cli("sweep", str(spec), "--store", "x.csv", "--export", "x.csv", cwd=tmp_path)
    assert result.returncode == 2 and "'export'" in _one_line(result)
    assert not (tmp_path / "x.csv").exists()  # refused before the store was even created


def test_the_api_export_refuses_the_store_and_its_journal_files(tmp_path: Path) -> None:
    store_path = _store(tmp_path / "s.sqlite")
    link = tmp_path / "link.csv"
    link.symlink_to(store_path)
    with ResultsStore(store_path) as store:
        for target in (store_path, tmp_path / "s.sqlite-wal", link):
            with pytest.raises(ParameterError, match="other than the results store"):
                store.export(target)
        assert len(store) == RUNS


# 3. Stores created by several processes in the same instant.


def _open_at_barrier(path: str, barrier: multiprocessing.Barrier, results) -> None:
    try:
        barrier.wait(timeout=60)
        with ResultsStore(path) as store:
            store.add("race", [_record(0)], {}, "test")
        results.put("ok")
    except BaseException as error:  # reported to the test, which prints it
        results.put(f"{type(error).__name__}: {error}")


def test_five_processes_creating_one_store_in_the_same_instant_all_succeed(
    tmp_path: Path,
) -> None:
    """10 trials x 5 processes released by one barrier onto a new store (a SLURM array's start):
    every open succeeds and the run is stored once."""
    context = multiprocessing.get_context("fork")
    for trial in range(10):
        path = tmp_path / f"new-{trial}.sqlite"
        barrier, results = context.Barrier(5), context.Queue()
        processes = [
            context.Process(target=_open_at_barrier, args=(str(path), barrier, results))
            for _ in range(5)
        ]
        for process in processes:
            process.start()
        outcomes = [results.get(timeout=120) for _ in processes]
        for process in processes:
            process.join(timeout=60)
        assert outcomes == ["ok"] * 5, f"trial {trial}: {outcomes}"
        with ResultsStore(path, read_only=True) as store:
            assert len(store) == 1


def test_a_half_created_theorykit_store_is_never_called_foreign(tmp_path: Path) -> None:
    """A process that looks while another holds the schema transaction open waits for it."""
    path = tmp_path / "slow.sqlite"
    creator = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    creator.execute("PRAGMA journal_mode=WAL")
    creator.execute("BEGIN IMMEDIATE")
    creator.execute("CREATE TABLE runs (key TEXT PRIMARY KEY)")  # the creation is under way

    def finish() -> None:
        time.sleep(1.0)
        creator.execute("ROLLBACK")  # the other process's schema transaction ends

    finisher = threading.Thread(target=finish)
    finisher.start()
    with ResultsStore(path) as store:  # waits for the lock, then creates the schema itself
        assert len(store) == 0
    finisher.join()
    creator.close()


# 4. A heartbeat that meets a long lock.


def test_a_heartbeat_that_cannot_renew_logs_once_retries_and_never_raises(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _store(tmp_path / "lease.sqlite")
    renewals = {"failed": 0, "done": 0}
    real_renew = Leases.renew

    def flaky_renew(self: Leases, owner: str, lease_s: float) -> None:
        if renewals["failed"] < 6:  # a lock held over 1.5 leases
            renewals["failed"] += 1
            raise MachineError(f"store {path}: another process has held its lock")
        renewals["done"] += 1
        real_renew(self, owner, lease_s)

    errors: list[BaseException] = []
    monkeypatch.setattr(Leases, "renew", flaky_renew)
    monkeypatch.setattr(threading, "excepthook", lambda hook: errors.append(hook.exc_value))
    log = io.StringIO()
    heartbeat = LeaseHeartbeat(path, "me", lease_s=0.4, log=log)
    deadline = time.monotonic() + 60
    while renewals["done"] < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    heartbeat.stop()
    assert renewals["done"] >= 2 and not errors
    lines = log.getvalue().splitlines()
    assert sum("lease renewal failed" in line for line in lines) == 1
    assert sum("leases expired" in line for line in lines) == 1
    assert lines[-1] == "lease renewal resumed"


def test_a_lock_held_too_long_is_named_as_a_lock_not_a_full_disk(tmp_path: Path) -> None:
    path = _store(tmp_path / "locked.sqlite")
    with ResultsStore(path) as store:
        store._connection.execute("PRAGMA busy_timeout = 100")  # not a minute, for the test
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        try:
            with pytest.raises(MachineError, match="held its lock") as raised:
                store.add("late", [_record(RUNS)], {}, "test")
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert "full" not in str(raised.value)
        assert store.add("late", [_record(RUNS)], {}, "test") == 1  # the rerun stores it


# 6. Read-only stores.


def _can_mount_read_only() -> bool:
    probe = subprocess.run(
        ["unshare", "-m", "sh", "-c", "mount -t tmpfs none /mnt && mount -o remount,ro /mnt"],
        capture_output=True,
    )
    return probe.returncode == 0


@pytest.mark.skipif(
    shutil.which("unshare") is None or not _can_mount_read_only(),
    reason="needs a mount namespace (unshare -m) to make a read-only file system",
)
@pytest.mark.parametrize("with_log", [False, True])
def test_a_store_on_a_read_only_file_system_is_fully_readable(
    tmp_path: Path, with_log: bool
) -> None:
    """Report, export and ``read_only=True`` on a read-only bind mount of the store's directory,
    with the write-ahead log checkpointed and with rows still in it (a copy of a live store)."""
    data = tmp_path / "data"
    data.mkdir()
    store = _store(data / "results.sqlite")
    if with_log:  # rows in the -wal file that the .sqlite does not hold yet
        keeper = sqlite3.connect(store)
        keeper.execute("PRAGMA wal_autocheckpoint = 0")
        with ResultsStore(store) as writer:
            writer._connection.execute("PRAGMA wal_autocheckpoint = 0")
            writer.add("late", [_record(RUNS)], {}, "test")
            shutil.copytree(data, tmp_path / "copy")  # .sqlite, -wal, -shm as they lie
        keeper.close()
        shutil.rmtree(data)
        (tmp_path / "copy").rename(data)
    expected = RUNS + with_log
    mount = tmp_path / "ro"
    mount.mkdir()
    script = (
        "import sys; from validation.store.results import ResultsStore; "
        "s = ResultsStore(sys.argv[1], read_only=True); print(len(s.records())); s.close()"
    )
    commands = " && ".join(
        [
            f"mount --bind {data} {mount}",
            f"mount -o remount,ro,bind {mount}",
            f"{sys.executable} -c '{script}' {mount}/results.sqlite",
            f"{sys.executable} -m validation.cli report {mount}/results.sqlite "
            f"--out {tmp_path}/out --export {tmp_path}/runs.csv",
        ]
    )
    result = subprocess.run(
        ["unshare", "-m", "sh", "-c", commands], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert result.stdout.splitlines()[0] == str(expected)
    assert (tmp_path / "out" / "report.md").is_file()
    assert len((tmp_path / "runs.csv").read_text().splitlines()) == 1 + expected


def test_a_store_that_is_read_is_never_created(tmp_path: Path) -> None:
    missing = tmp_path / "typo.sqlite"
    with pytest.raises(ParameterError, match="no such file"):
        ResultsStore(missing, read_only=True)
    assert not missing.exists()


@pytest.mark.parametrize("path", [3, None, ""])
def test_a_store_path_that_is_not_a_path_is_one_sentence(path: object) -> None:
    with pytest.raises(ParameterError, match="'store'"):
        ResultsStore(path)  # type: ignore[arg-type]


# 7 and 10. Hand-edited, damaged and extreme rows: reported by key, the rest of the store kept.

#: (what, SQL that damages row key00) -- each leaves every other row readable.
DAMAGED_ROWS = [
    ("config not JSON", "UPDATE runs SET config = '{not json' WHERE key = 'key00'"),
    ("config missing params", "UPDATE runs SET config = '{}' WHERE key = 'key00'"),
    (
        "eta at float64's end",
        "UPDATE runs SET config = json_set(config, '$.params.eta', 1e308) WHERE key = 'key00'",
    ),
    (
        "a string where a number belongs",
        "UPDATE runs SET final = json_set(final, '$.test_error', 'low') WHERE key = 'key00'",
    ),
    (
        "a seed that is text",
        "UPDATE runs SET config = json_set(config, '$.data_seed', 'zero') WHERE key = 'key00'",
    ),
    ("trajectory cut short", "UPDATE runs SET trajectory = '{\"epoch\": [0]}' WHERE key = 'key00'"),
    ("final not an object", "UPDATE runs SET final = '[1, 2]' WHERE key = 'key00'"),
    ("config a number", "UPDATE runs SET config = 7 WHERE key = 'key00'"),
    (
        "an integer beyond float64",
        'UPDATE runs SET trajectory = \'{"epoch": [0, 1' + "0" * 400 + '], "metrics": {}}\' '
        "WHERE key = 'key00'",
    ),
    (
        "JSON nested past any row",
        "UPDATE runs SET final = '" + "[" * 5000 + "' WHERE key = 'key00'",
    ),
    ("no final test error", "UPDATE runs SET final = '{}' WHERE key = 'key00'"),
]


@pytest.mark.parametrize(("what", "damage"), DAMAGED_ROWS, ids=[w for w, _ in DAMAGED_ROWS])
def test_a_malformed_row_is_reported_by_key_and_the_rest_reported(
    tmp_path: Path, what: str, damage: str
) -> None:
    store = _store(tmp_path / "edited.sqlite")
    with sqlite3.connect(store) as connection:
        connection.execute(damage)
    connection.close()
    with ResultsStore(store, read_only=True) as opened:
        assert len(opened.records()) == RUNS - 1 and set(opened.malformed) == {"key00"}
    result = _cli("report", str(store), "--export", str(tmp_path / "runs.csv"))
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    report = (tmp_path / "report.md").read_text()
    assert "Unreadable rows (1" in report and "`key00`" in report
    assert len((tmp_path / "runs.csv").read_text().splitlines()) == RUNS  # header + 5 rows


def test_a_store_of_only_malformed_rows_is_one_sentence(tmp_path: Path) -> None:
    store = _store(tmp_path / "all-bad.sqlite", runs=2)
    with sqlite3.connect(store) as connection:
        connection.execute("UPDATE runs SET config = '{'")
    connection.close()
    result = _cli("report", str(store))
    assert result.returncode == 2 and "2 rows could not be read" in _one_line(result)


@pytest.mark.parametrize("name", ["$\\frac{1}{0", "a $x$ b", "B=2 | lam", "<b>bold</b>", "a\nb"])
def test_a_run_name_with_mathtext_or_markup_is_drawn_and_tabled_as_written(
    tmp_path: Path, name: str
) -> None:
    path = tmp_path / "names.sqlite"
    with ResultsStore(path) as store:
        store.add("names", [_record(0, name=name), _record(1)], {}, "test")
    result = _cli("report", str(path))
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    lines = (tmp_path / "report.md").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| run "))
    table = list(itertools.takewhile(lambda line: line.startswith("|"), lines[start:]))
    columns = {len(re.findall(r"(?<!\\)\|", line)) for line in table}
    assert len(table) == 4 and len(columns) == 1  # header, rule, two runs; no column split


# 12. Names and directories.


def test_two_stores_in_one_directory_never_overwrite_each_others_report(tmp_path: Path) -> None:
    first, second = _store(tmp_path / "a.sqlite"), _store(tmp_path / "b.sqlite")
    assert _cli("report", str(first)).returncode == 0
    report = (tmp_path / "report.md").read_text()
    result = _cli("report", str(second))  # the directory holds a's report: b's goes beside it
    assert result.returncode == 0 and f"written: {tmp_path / 'b-report' / 'report.md'}" in (
        result.stdout
    )
    assert (tmp_path / "report.md").read_text() == report
    assert "b.sqlite" in (tmp_path / "b-report" / "report.md").read_text().splitlines()[-1]
    asked = _cli("report", str(second), "--out", str(tmp_path))  # asked for a's directory
    assert asked.returncode == 2 and "another store's report" in _one_line(asked)
    assert (tmp_path / "report.md").read_text() == report
    assert _cli("report", str(first)).returncode == 0  # its own report is rewritten in place


def test_a_store_named_like_a_figure_is_never_overwritten_by_its_report(tmp_path: Path) -> None:
    store = _store(tmp_path / "trajectories.png")
    before = store.read_bytes()
    result = _cli("report", str(store))
    assert result.returncode == 2 and "'out'" in _one_line(result)
    assert store.read_bytes() == before


@pytest.mark.parametrize("name", ["..", ".", "..."])
def test_a_sweep_name_of_dots_is_refused(name: str) -> None:
    with pytest.raises(ParameterError, match="'name'"):
        parse_spec_text(f'name = "{name}"\n[grid]\nB = [2, 4]\n')


def test_the_name_clash_advice_names_a_fix_that_works(tmp_path: Path) -> None:
    path = _store(tmp_path / "clash.sqlite")
    other = dataclasses.replace(_record(0).params, epochs=7)
    spec = parse_spec_text(f'name = "c"\n[params]\nepochs = {other.epochs}\n[grid]\nB = [2]\n')
    with ResultsStore(path) as store, pytest.raises(ParameterError) as refused:
        check_names(spec, store)
    assert "into [grid]" in str(refused.value) and "rename the sweep" not in str(refused.value)


def test_the_report_mark_names_the_store(tmp_path: Path) -> None:
    store = _store(tmp_path / "marked.sqlite")
    assert _cli("report", str(store)).returncode == 0
    last = (tmp_path / "report.md").read_text().splitlines()[-1]
    assert json.dumps(str(store.resolve()))[1:-1] in last


def test_a_report_of_a_moved_store_is_rewritten_in_place(tmp_path: Path) -> None:
    """A folder copied from a cluster names the store's old path in its report.md: that store no
    longer exists there, so the report is this store's to rewrite."""
    store = _store(tmp_path / "results.sqlite")
    (tmp_path / "report.md").write_text(
        "old\n<!-- results store: /cluster/gone/results.sqlite -->\n"
    )
    result = _cli("report", str(store))
    assert result.returncode == 0 and f"written: {tmp_path / 'report.md'}" in result.stdout


def test_the_heartbeat_opens_an_empty_store_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from validation.store import files as store_file

    path = tmp_path / "empty.sqlite"
    ResultsStore(path).close()
    opened = []
    real = store_file.open_writable
    monkeypatch.setattr(store_file, "open_writable", lambda p: opened.append(p) or real(p))
    heartbeat = LeaseHeartbeat(path, "me", lease_s=0.2, log=io.StringIO())
    time.sleep(1.0)  # about 20 beats
    heartbeat.stop()
    assert len(opened) == 1


def test_a_name_clash_names_the_engine_option_that_differs(tmp_path: Path) -> None:
    path = _store(tmp_path / "engine.sqlite")
    spec = parse_spec_text('name = "c"\n[grid]\nB = [2]\n[engine]\nlog_records = 8\n')
    spec = dataclasses.replace(
        spec,
        runs=tuple(dataclasses.replace(r, params=_record(0).params, name="B=2") for r in spec.runs),
    )
    with ResultsStore(path) as store, pytest.raises(ParameterError) as refused:
        check_names(spec, store)
    assert "engine log_records" in str(refused.value)


def test_the_name_clash_names_each_differing_engine_option_once_with_both_values(
    tmp_path: Path,
) -> None:
    path = tmp_path / "engine.sqlite"
    record = _record(0, name="B=2")
    with ResultsStore(path) as store:
        store.add("e", [record], engine_identity(EngineOptions(record_every=37)), "test")
    spec = parse_spec_text(
        f'name = "e"\n[params]\nepochs = {record.params.epochs}\nlam = {record.params.lam}\n'
        "[grid]\nB = [2]\n[engine]\nrecord_every = 75\n"
    )
    with ResultsStore(path) as store, pytest.raises(ParameterError) as refused:
        check_names(spec, store)
    message = str(refused.value)
    assert message.count("record_every") == 1
    assert "engine record_every = 37 (this spec: 75)" in message
