"""Report building blocks over typed records: measured stuck thresholds (the collapse rule),
failed runs left out."""

from theorykit import tang2025_synthetic
from validation.reports.store_report import failed_run_lines, measured_stuck_thresholds
from validation.runs.records import RunRecord


def _record(
    optimizer: str,
    lam: float,
    train_error: float,
    failure: str | None = None,
    weight_max: float = 1.0,
) -> RunRecord:
    """A two-record run: weights from 0.04 to ``weight_max``, train error from 0.5 to
    ``train_error``."""
    params = tang2025_synthetic(optimizer=optimizer, B=2, lam=lam)
    metrics = {
        "train_error": (0.5, train_error),
        "test_error": (0.5, train_error),
        "weight_max": (0.04, weight_max),
    }
    return RunRecord(
        f"{optimizer}-{lam}",
        f"{optimizer} lam={lam:g}",
        params,
        0,
        0,
        "overlapping",
        "balanced",
        (0.0, 1.0),
        metrics,
        {name: values[-1] for name, values in metrics.items()},
        failure,
    )


def test_measured_stuck_threshold_reads_the_collapse_rule() -> None:
    # lam = 2e-2: every weight below a tenth of the largest initial one (stuck) while its train
    # error, set by round-off-level weights, happens to be 0.02; lam = 1e-2 keeps its weights.
    grid = [(1e-3, 0.0, 1.0), (1e-2, 0.45, 0.02), (2e-2, 0.02, 1e-6), (4e-2, 0.7, 1e-7)]
    records = [_record("adam", lam, err, weight_max=w) for lam, err, w in grid]
    records.append(_record("adamw", 0.5, 0.0))  # fewer than 3 lam values: no verdict for adamw
    assert measured_stuck_thresholds(records) == {("adam", 2): (1e-2, 2e-2)}


def test_a_diverged_run_is_not_counted_as_stuck_and_is_listed_as_failed() -> None:
    grid = [(1e-3, 0.0, 1.0), (1e-2, 0.02, 1.0), (4e-2, 0.7, 1e-6)]
    records = [_record("adam", lam, err, weight_max=w) for lam, err, w in grid]
    records.append(_record("adam", 2e-2, 1.0, failure="non-finite weights (NaN or inf) at epoch 3"))
    assert measured_stuck_thresholds(records) == {("adam", 2): (1e-2, 4e-2)}
    assert any("non-finite weights" in line for line in failed_run_lines(records))


def test_one_name_with_two_configurations_reports_as_two_groups(tmp_path, sweep_spec_file) -> None:
    """Two specs that share a name but not their epochs (trained into separate stores, then
    merged into one, e.g. by a lab copying rows together) are two groups, each with its own
    seeds, never one row averaged over both."""
    import io

    from validation.reports.store_report import write_sweep_report
    from validation.store.results import ResultsStore
    from validation.sweeps.grid import load_spec
    from validation.sweeps.runner import run_sweep

    merged = tmp_path / "merged.sqlite"
    for epochs in (2, 3):
        spec = load_spec(sweep_spec_file(name="twins", epochs=epochs))
        with ResultsStore(tmp_path / f"e{epochs}.sqlite") as alone:
            assert run_sweep(spec, alone, log=io.StringIO()).complete
            records = list(alone.records().values())
        with ResultsStore(merged) as store:
            for record in records:
                store.add(spec.name, [record], record.engine, "test")
    text, _ = write_sweep_report(merged)
    summary = text.split("## Spread over seeds")[0]  # the run table, not the per-run sections
    rows = [
        line for line in summary.splitlines() if line.startswith("| optimizer=adam B=2 lam=1e-05")
    ]
    assert sorted(row.split("|")[1].strip() for row in rows) == [
        "optimizer=adam B=2 lam=1e-05 [epochs=2]",
        "optimizer=adam B=2 lam=1e-05 [epochs=3]",
    ]
    assert all(row.split("|")[2].strip() == "2" for row in rows)  # two seeds each, not four


def test_report_predict_stores_predictions_and_reports_them(
    tmp_path, sweep_spec_file, capsys
) -> None:
    """``theorykit report --predict`` computes each run's prediction once and stores it; the
    report (and any later one, torch-free) has the theory-next-to-simulation section with one row
    per run and the agreement figure."""
    from validation.cli import main
    from validation.store.results import ResultsStore

    store = tmp_path / "r.sqlite"
    assert (
        main(["sweep", str(sweep_spec_file(name="predicted", epochs=4)), "--store", str(store)])
        == 0
    )
    assert main(["report", str(store)]) == 0
    assert "report STORE --predict" in (tmp_path / "report.md").read_text()
    assert main(["report", str(store), "--predict"]) == 0
    text = (tmp_path / "report.md").read_text()
    section = text.split("## Theory next to simulation")[1]
    assert sum(line.startswith("| optimizer=") for line in section.splitlines()) == 16
    assert (tmp_path / "agreement.png").stat().st_size > 0
    with ResultsStore(store, read_only=True) as opened:
        assert len(opened.predictions(opened.keys())) == 16
    capsys.readouterr()
    assert main(["report", str(store)]) == 0  # reads the stored predictions, computes none
    assert "prediction 1/" not in capsys.readouterr().err
    assert "## Theory next to simulation" in (tmp_path / "report.md").read_text()


def test_a_record_gives_back_the_recording_options_it_trained_with() -> None:
    import dataclasses

    from validation.runs.records import engine_identity
    from validation.runs.spec import EngineOptions

    options = EngineOptions(
        record_every=7, test_size=123, test_seed=5, order="cyclic", dtype="float32"
    )
    record = dataclasses.replace(_record("adam", 1e-5, 0.0), engine=engine_identity(options))
    assert record.options == options
    assert engine_identity(record.options) == record.engine
