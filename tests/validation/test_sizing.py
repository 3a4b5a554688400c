"""Sizing before training (validation.runs.sizing): member-steps and memory are exact counts of
what the engine allocates and runs; the time estimate scales with the work; the dry runs print all
three."""

import dataclasses
import json
import re
from pathlib import Path

import pytest

from theorykit import tang2025_synthetic
from validation.cli import main
from validation.cli.validate import describe
from validation.experiments.presets import PRESETS
from validation.runs.sizing import (
    ITEMSIZE,
    PREDICTION_PER_ENTRY,
    VALIDATE_COMMAND_SECONDS,
    duration_text,
    fused_step_seconds,
    group_size,
    member_bytes,
    prediction_seconds,
    prediction_step_seconds,
    prediction_work,
)
from validation.runs.spec import EngineOptions, RunSpec, group_specs


def test_member_steps_and_memory_count_the_engine_arrays() -> None:
    p = tang2025_synthetic(B=16, epochs=10)  # n = 200: 13 steps an epoch (the last one smaller)
    options = EngineOptions(test_size=300, dtype="float32")
    specs = [RunSpec(p, seed, seed) for seed in range(3)]
    size = group_size(specs, options)
    assert size.member_steps == 3 * 10 * 13
    weights = 2 * p.m * p.d
    assert member_bytes(specs[0], options) == ITEMSIZE["float32"] * (
        4 * weights + (p.n + 300) * p.d
    )
    assert size.memory_bytes == 3 * member_bytes(specs[0], options)


def test_estimated_time_grows_with_the_work() -> None:
    options = EngineOptions(test_size=300, record_every=100)  # measurements are a small share
    short = group_size([RunSpec(tang2025_synthetic(B=2, epochs=1000), 0, 0)], options)
    longer = group_size([RunSpec(tang2025_synthetic(B=2, epochs=10000), 0, 0)], options)
    wide = group_size([RunSpec(tang2025_synthetic(B=100, epochs=1000), 0, 0)], options)
    assert short.seconds is not None and longer.seconds is not None and wide.seconds is not None
    assert longer.seconds == pytest.approx(10 * short.seconds, rel=0.1)
    # A B = 100 step touches 50x the batch entries of a B = 2 step, over 50x fewer steps.
    assert wide.seconds != pytest.approx(short.seconds, rel=0.01)
    assert group_size([RunSpec(tang2025_synthetic(), 0, 0)], options, "cuda").seconds is None


def test_the_estimate_follows_the_kernel_that_will_run() -> None:
    """The torch step on the CPU is overhead-bound, several times the fused kernel's time (the
    quick preset measured 70 s against 12.7 s); the estimate uses the rule the engine uses
    (EngineOptions.runs_fused)."""
    spec = RunSpec(tang2025_synthetic(B=2, epochs=100), 0, 0)
    fused = group_size([spec], EngineOptions(record_every=100))
    torch_step = group_size([spec], EngineOptions(record_every=100, kernel="torch"))
    compiled = group_size([spec], EngineOptions(record_every=100, compile=True))
    assert fused.seconds is not None and torch_step.seconds is not None
    assert torch_step.seconds > 3 * fused.seconds
    assert compiled.seconds == torch_step.seconds


@pytest.mark.parametrize(
    ("kernel", "compile_", "device_type", "fused"),
    [
        ("auto", False, "cpu", True),
        ("auto", True, "cpu", False),
        ("auto", False, "cuda", False),
        ("fused", False, "cpu", True),
        ("torch", False, "cpu", False),
    ],
)
def test_one_rule_decides_the_fused_kernel_for_the_engine_and_the_dry_run(
    kernel: str, compile_: bool, device_type: str, fused: bool
) -> None:
    options = EngineOptions(kernel=kernel, compile=compile_)
    assert options.runs_fused(device_type) is fused
    if device_type == "cpu" and not compile_:
        from validation.cnn.ensemble import build_ensemble

        ensemble = build_ensemble(
            [RunSpec(tang2025_synthetic(n=8, d=50, s=4, m=2, B=2, epochs=1), 0, 0)],
            EngineOptions(kernel=kernel, device="cpu", test_size=10),
        )
        assert ensemble.fused is fused


def test_prediction_work_counts_the_reductions_state_and_batch() -> None:
    p = tang2025_synthetic(B=4)  # n = 200, s = 100, m = 20
    # a refresh every 32 steps at B = 4 (32 steps visit each of the 200 samples at most once on
    # average)
    assert prediction_work(RunSpec(p, 0, 0)) == (
        "overlap-aware",
        40 * 200 * 100 // 32,
        4 * 40 * 200,
    )
    wide = RunSpec(p.replace(B=16), 0, 0)  # every 16 steps
    assert prediction_work(wide) == ("overlap-aware", 40 * 200 * 100 // 16, 16 * 40 * 200)
    disjoint = RunSpec(p.replace(d=20_001), 0, 0, supports="disjoint")
    assert prediction_work(disjoint) == ("support-resolved", 40 * 200 * 100, 4 * 40 * 100)


#: benchmarks/results/prediction_cost.json, the committed measurements the kernel constants fit.
PREDICTION_COST = Path(__file__).parents[2] / "benchmarks" / "results" / "prediction_cost.json"


def test_kernel_constants_fit_the_committed_benchmark() -> None:
    """The sizing constants against every row they were fitted to: the reduced kernel's per
    reduction, the fused CNN's at the paper's d = 1000 (its d = 20 001 rows are a larger working
    set, not part of the fit). A row's one-core time is its per member-step time times the
    benchmark machine's cores (its members share them). Tolerance 1.25x: each line passes through
    two rows measured on a machine whose timings vary by about 20% from run to run; a table
    measured again without refitting the constants fails here."""
    table = json.loads(PREDICTION_COST.read_text())
    cores = int(re.search(r"(\d+) cores", table["machine"]).group(1))
    checked = 0
    for row in table["rows"]:
        p = tang2025_synthetic(optimizer="adam", lam=1e-5, B=row["B"], d=row["d"])
        spec, dtype = RunSpec(p, 0, 0, supports=row["supports"]), row["dtype"]
        pairs = []  # (estimated one-core seconds, measured us per member-step)
        if row["reduction"] in PREDICTION_PER_ENTRY[dtype]:
            pairs.append(
                (prediction_step_seconds(spec, dtype), row["prediction_us_per_member_step"])
            )
        if row["d"] == 1000:
            pairs.append((fused_step_seconds(p, dtype), row["cnn_us_per_member_step"]))
        for estimate, measured_us in pairs:
            ratio = estimate / (1e-6 * measured_us * cores)
            assert 1 / 1.25 <= ratio <= 1.25, (row, ratio)
            checked += 1
    assert checked == 12  # 8 prediction rows (two reductions), 4 CNN rows


def test_predictions_run_concurrently_one_group_per_core(monkeypatch) -> None:
    """Two groups of one run each on two cores take one group's time; one group of two runs
    spreads them over the cores; the same two groups on one core take twice as long (up to the
    runs' measurements, which add up whatever the cores: below 1% here, 3 records of 300
    points)."""
    import validation.runs.sizing as sizing

    options = EngineOptions(record_every=100, test_size=100)
    adam = RunSpec(tang2025_synthetic(B=2, epochs=200), 0, 0)
    adamw = RunSpec(tang2025_synthetic(optimizer="adamw", B=2, epochs=200), 0, 0)
    monkeypatch.setattr(sizing, "available_cores", lambda: 2)
    one = prediction_seconds([adam], options)
    assert prediction_seconds([adam, adamw], options) == pytest.approx(one, rel=0.01)
    same = prediction_seconds([adam, RunSpec(adam.params, 1, 1)], options)
    assert same == pytest.approx(one, rel=0.01)
    monkeypatch.setattr(sizing, "available_cores", lambda: 1)
    assert prediction_seconds([adam, adamw], options) == pytest.approx(2 * one, rel=0.01)


@pytest.mark.parametrize(
    "argv",
    [
        ["validate", "--preset", "tang2025-table", "--dry-run"],
        ["sweep", "{spec}", "--dry-run"],
    ],
)
def test_dry_runs_print_member_steps_memory_and_time(
    argv: list[str], sweep_spec_file, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = str(sweep_spec_file(name="sizing"))
    assert main([arg.format(spec=spec) for arg in argv]) == 0
    out = capsys.readouterr().out
    assert "member-steps" in out and "MiB" in out and "estimated" in out


def test_validate_dry_run_total_adds_the_start_and_the_report() -> None:
    """The total is the groups' training, the predictions and the command's own seconds: the
    inputs of the estimate, not a wall time."""
    preset = PRESETS["quick"]()
    training = sum(
        group_size([preset.specs[i] for i in indices], preset.options, "cpu").seconds or 0.0
        for indices in group_specs(preset.specs)
    )
    predicting = prediction_seconds(preset.specs, preset.options)
    total = training + predicting + VALIDATE_COMMAND_SECONDS
    assert f"estimated total: ~{duration_text(total)} with the start" in describe(preset)
    unpredicted = dataclasses.replace(preset, predict=False)
    alone = training + VALIDATE_COMMAND_SECONDS
    assert f"estimated total: ~{duration_text(alone)} with the start" in describe(unpredicted)


def test_validate_dry_run_sizes_the_predictions_it_will_compute(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["validate", "--preset", "quick", "--dry-run"]) == 0
    predicted = capsys.readouterr().out
    assert "predictions: yes" in predicted and "estimated total" in predicted
    assert main(["validate", "--preset", "quick", "--dry-run", "--no-predict"]) == 0
    unpredicted = capsys.readouterr().out
    assert "predictions: no" in unpredicted and "estimated total" in unpredicted
    assert main(["validate", "--preset", "tang2025-table", "--dry-run", "--predict"]) == 0
    assert "predictions: yes" in capsys.readouterr().out
    assert main(["validate", "--preset", "quick", "--dry-run", "--kernel", "torch"]) == 0
    assert "(torch step)" in capsys.readouterr().out


def test_compare_dry_run_sizes_every_stage(tmp_path, capsys) -> None:
    """Each stage's runs are listed with their estimate, from the same plans the stages train
    (on an empty store every run is pending)."""
    from validation.experiments.batch_comparison import batch_plan
    from validation.experiments.comparison_plan import comparison_stages

    assert main(["compare", "--dry-run", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for stage in ("collapse thresholds", "batch boundary", "horizon check", "reduced dynamics"):
        assert stage in out
    assert "estimated total" in out
    stages = comparison_stages(tmp_path / "cnn" / "results.sqlite")
    (batch,) = [stage for stage in stages if stage.name == "batch boundary"]
    assert batch.pending == batch.runs == sum(len(specs) for _, specs in batch_plan())
    assert batch.seconds > 0


def test_report_predict_dry_run_counts_the_runs_without_a_prediction(
    tmp_path, sweep_spec_file, capsys
) -> None:
    store = tmp_path / "small.sqlite"
    spec = str(sweep_spec_file(name="to-predict", epochs=4))
    assert main(["sweep", spec, "--store", str(store)]) == 0
    capsys.readouterr()
    written = (tmp_path / "report.md").stat().st_mtime_ns  # the sweep's own report
    assert main(["report", str(store), "--predict", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("predictions: 16 of 16 runs lack one,") and "~" in out
    assert (tmp_path / "report.md").stat().st_mtime_ns == written
    assert main(["report", str(store), "--dry-run"]) == 2  # --dry-run sizes --predict only
