"""Sweeps end to end: one row per run, resume, exports, failed runs, the report, and the same
records from the in-process executor, a process pool and a real Dask LocalCluster."""

import csv
import dataclasses
import io
import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from theorykit import ParameterError
from validation.cli import main
from validation.runs.records import run_key
from validation.store.results import ResultsStore
from validation.sweeps.executors import open_executor
from validation.sweeps.grid import load_spec, parse_spec_text
from validation.sweeps.runner import SweepOutcome, run_sweep


def _run(spec_path: Path, store_path: Path, executor: str = "inline") -> dict:
    spec = load_spec(spec_path)
    with ResultsStore(store_path) as store, open_executor(executor) as pool:
        assert run_sweep(spec, store, pool, log=io.StringIO()) == SweepOutcome(16, 0, 16, ())
        return store.records()


@pytest.fixture
def inline_records(tmp_path: Path, sweep_spec_file) -> dict:
    return _run(sweep_spec_file(), tmp_path / "inline.sqlite")


def test_one_row_per_run_keyed_by_its_identity_and_a_rerun_trains_nothing(
    tmp_path: Path,
    sweep_spec_file,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spec = load_spec(sweep_spec_file())
    path = tmp_path / "r.sqlite"
    with ResultsStore(path) as store:
        assert run_sweep(spec, store, log=io.StringIO()) == SweepOutcome(16, 0, 16, ())
        records = store.records()
    assert list(records) != [] and set(records) == {run_key(run, spec.options) for run in spec.runs}
    record = next(iter(records.values()))
    assert record.status == "finished" and record.engine["record_every"] == 5
    assert record.epoch == (0, 5, 10, 15, 20) and record.code_version.startswith("theorykit 0.1.0")
    rows = (
        sqlite3.connect(path).execute("SELECT COUNT(*), COUNT(DISTINCT key) FROM runs").fetchone()
    )
    assert rows == (16, 16)

    import validation.cnn.tasks as tasks

    monkeypatch.setattr(
        tasks, "train_group", lambda *a, **k: pytest.fail("a stored run was trained again")
    )
    with ResultsStore(path) as store:
        assert run_sweep(spec, store, log=io.StringIO()) == SweepOutcome(16, 16, 0, ())
        assert store.records() == records


def test_the_store_never_overwrites_or_duplicates_a_key(
    tmp_path: Path, inline_records: dict
) -> None:
    key, record = next(iter(inline_records.items()))
    with ResultsStore(tmp_path / "s.sqlite") as store:
        assert store.add("a", [record], {}, "v1") == 1
        changed = dataclasses.replace(record, final={**record.final, "test_error": 0.123})
        assert store.add("b", [changed, dataclasses.replace(record, key="other")], {}, "v2") == 1
        assert len(store) == 2 and store.records([key])[key].final == record.final
        assert store.records([key])[key].sweep == "a"


def test_exports_csv_parquet_and_dataframes(tmp_path: Path, inline_records: dict) -> None:
    with ResultsStore(tmp_path / "inline.sqlite") as store:
        frame = store.dataframe()
        assert len(frame) == 16 and {
            "key",
            "optimizer",
            "B",
            "lam",
            "test_error",
            "code_version",
        } <= set(frame.columns)
        assert set(frame["status"]) == {"finished"}
        with open(store.export(tmp_path / "runs.csv"), newline="") as stream:
            rows = list(csv.DictReader(stream))
        assert len(rows) == 16 and float(rows[0]["lam"]) == frame["lam"].iloc[0]
        parquet = pd.read_parquet(store.export(tmp_path / "runs.parquet"))
        pd.testing.assert_frame_equal(parquet, frame, check_dtype=False)
        assert len(store.trajectory_frame()) == 16 * 5
        with pytest.raises(ParameterError, match="'export'"):
            store.export(tmp_path / "runs.xlsx")


def test_a_file_that_is_not_a_store_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.sqlite"
    path.write_text("these are not the runs you are looking for" * 100)
    with pytest.raises(ParameterError, match="'store'"):
        ResultsStore(path)


def test_a_process_pool_gives_the_same_records(
    tmp_path: Path,
    sweep_spec_file,
    inline_records: dict,
    records_match,
) -> None:
    records_match(_run(sweep_spec_file(), tmp_path / "pool.sqlite", "process:2"), inline_records)


def test_a_dask_local_cluster_gives_the_same_records(
    tmp_path: Path,
    sweep_spec_file,
    inline_records: dict,
    dask_cluster,
    records_match,
) -> None:
    address = "dask://" + dask_cluster.scheduler_address.removeprefix("tcp://")
    records_match(_run(sweep_spec_file(), tmp_path / "dask.sqlite", address), inline_records)


def test_a_diverging_run_is_stored_as_failed_and_the_sweep_goes_on(tmp_path: Path) -> None:
    spec = parse_spec_text("""
        name = "diverge"
        [params]
        n = 20
        d = 100
        s = 4
        m = 4
        optimizer = "gd"
        B = 5
        epochs = 4
        [grid]
        eta = [1e-2, 1e8]
        [engine]
        record_every = 2
        test_size = 50
    """)
    with ResultsStore(tmp_path / "r.sqlite") as store:
        assert run_sweep(spec, store, log=io.StringIO()).complete
        frame = store.dataframe()
    failed = frame[frame["status"] == "failed"]
    assert list(failed["eta"]) == [1e8] and "non-finite" in failed["failure"].iloc[0]
    assert list(frame[frame["status"] == "finished"]["eta"]) == [1e-2]
    assert main(["report", str(tmp_path / "r.sqlite")]) == 0
    text = (tmp_path / "report.md").read_text()
    assert "## Failed runs" in text and "eta=1e+08" in text


def test_sweep_and_report_commands_write_tables_plots_and_exports(
    tmp_path: Path,
    sweep_spec_file,
    capsys: pytest.CaptureFixture[str],
) -> None:
    store = tmp_path / "out" / "results.sqlite"
    assert (
        main(
            [
                "sweep",
                str(sweep_spec_file()),
                "--store",
                str(store),
                "--export",
                str(tmp_path / "x.csv"),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "16/16 runs" in out and (tmp_path / "x.csv").exists()
    report_dir = tmp_path / "report"
    assert main(["report", str(store), "--out", str(report_dir)]) == 0
    text = (report_dir / "report.md").read_text()
    summary, spread = text.split("## Spread over seeds")  # one row per grid point in each
    assert (
        summary.count("| optimizer=") == 8
        and spread.count("| optimizer=") == 8
        and "theorem (asymptotic)" in text
        and "finite-size verdict" in text
        and "16 finished, 0 failed" in text
    )
    for figure in (
        "trajectories.png",
        "test_error.png",
        "test_error_vs_lambda.png",
        "test_error_vs_batch.png",
    ):
        assert (report_dir / figure).stat().st_size > 1000
    assert main(["report", str(tmp_path / "nothing.sqlite")]) == 2


def test_a_failing_task_is_reported_the_others_are_stored_and_a_rerun_retries_it(
    tmp_path: Path,
    sweep_spec_file,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import validation.cnn.tasks as tasks

    real = tasks.train_group

    def fails_at_large_batch(specs, *args, **kwargs):
        if specs[0].params.B == 20:
            raise RuntimeError("worker lost")
        return real(specs, *args, **kwargs)

    monkeypatch.setattr(tasks, "train_group", fails_at_large_batch)
    store = tmp_path / "r.sqlite"
    assert main(["sweep", str(sweep_spec_file()), "--store", str(store)]) == 1
    assert "task failed, rerun to retry" in capsys.readouterr().err
    with ResultsStore(store) as results:
        assert len(results) == 8 and set(results.dataframe()["B"]) == {2}
    monkeypatch.setattr(tasks, "train_group", real)
    assert main(["sweep", str(sweep_spec_file()), "--store", str(store)]) == 0
    with ResultsStore(store) as results:
        assert len(results) == 16


def test_sweep_dtype_and_predict_train_in_float32_and_store_the_predictions(
    tmp_path, sweep_spec_file
) -> None:
    import sqlite3

    from validation.cli import main

    store = tmp_path / "f32.sqlite"
    spec = sweep_spec_file(name="f32", epochs=10)
    assert main(["sweep", str(spec), "--store", str(store), "--dtype", "float32", "--predict"]) == 0
    with sqlite3.connect(store) as connection:
        engines = {
            row[0]
            for row in connection.execute("SELECT json_extract(config, '$.engine.dtype') FROM runs")
        }
        predicted = connection.execute("SELECT COUNT(*) FROM predictions").fetchone()[0]
    assert engines == {"torch.float32"} and predicted == 16
