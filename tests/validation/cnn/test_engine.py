"""validation engine: grouping, stacked training equals training members alone, resume without
rework."""

import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from dynamics.trajectory import METRICS
from theorykit import ParameterError, tang2025_synthetic
from validation.cnn.device import resolve_device
from validation.cnn.engine import train, train_group
from validation.experiments.preset_report import run_preset, write_report
from validation.experiments.presets import Expectation, Preset
from validation.runs.spec import EngineOptions, RunSpec, group_specs
from validation.store.results import ResultsStore

OPTIONS = EngineOptions(record_every=2, test_size=100)


def _spec(seed: int, **overrides: object) -> RunSpec:
    base = dict(n=20, d=60, s=5, m=4, B=4, epochs=4, eta=1e-3, lam=1e-4, bias_correction=True)
    return RunSpec(
        tang2025_synthetic(**{**base, **overrides}),
        data_seed=seed,
        init_seed=seed,
        name=f"run{seed}",
    )


def test_trajectory_schema_and_recording_cadence() -> None:
    (trajectory,) = train_group([_spec(0)], OPTIONS)
    np.testing.assert_array_equal(trajectory.epoch, [0, 2, 4])
    assert set(trajectory.metrics) == set(METRICS)
    assert all(values.shape == (3,) for values in trajectory.metrics.values())


@pytest.mark.parametrize("optimizer", ["adam", "adamw", "signsgd", "signsgdw", "gd"])
def test_a_member_trains_the_same_alone_and_in_an_ensemble(optimizer: str) -> None:
    # float64, identical operations per member: stacking must not couple members (rtol 1e-10 for
    # reordered sums).
    specs = [
        _spec(seed, optimizer=optimizer, lam=lam) for seed, lam in ((1, 1e-4), (2, 3e-2), (3, 0.0))
    ]
    together = train_group(specs, OPTIONS)
    alone = train_group([specs[1]], OPTIONS)[0]
    for name in METRICS:
        np.testing.assert_allclose(
            together[1].metrics[name], alone.metrics[name], rtol=1e-10, atol=1e-12
        )


def test_incompatible_specs_are_grouped_apart() -> None:
    specs = [_spec(0), _spec(1, B=5), _spec(2), _spec(3, optimizer="adamw")]
    assert group_specs(specs) == [[0, 2], [1], [3]]
    with pytest.raises(ParameterError):
        train_group(specs, OPTIONS)
    trained = train(specs, OPTIONS)  # one trajectory per spec, in input order
    for spec, trajectory in zip(specs, trained, strict=True):
        (alone,) = train_group([spec], OPTIONS)
        np.testing.assert_allclose(trajectory.metrics["loss"], alone.metrics["loss"], rtol=1e-10)


def test_partial_last_batch_is_used(tmp_path: Path) -> None:
    (trajectory,) = train_group([_spec(0, B=6)], OPTIONS)  # 20 = 3 * 6 + 2
    assert np.all(np.isfinite(trajectory.metrics["loss"]))


def test_rerun_resumes_from_the_results_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    preset = Preset(
        "tiny",
        "two tiny runs",
        (_spec(0), _spec(1, B=5)),
        OPTIONS,
        (Expectation("run0", "train_error", "<=", 1.0, "trivial"),),
    )
    first = run_preset(preset, tmp_path)
    with ResultsStore(tmp_path / "results.sqlite") as store:
        assert store.keys() == {record.key for record in first}

    import validation.cnn.tasks as tasks

    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("a finished run was trained again")

    monkeypatch.setattr(tasks, "train_group", fail)
    assert run_preset(preset, tmp_path) == first
    text, checks, _ = write_report(preset, first, tmp_path)
    assert "reproduced" in text and checks[0].holds
    assert (tmp_path / "trajectories.png").exists() and (tmp_path / "test_error.png").exists()
    assert not list(tmp_path.glob("*.tmp"))


def test_compiled_step_equals_eager_step() -> None:
    # float64; torch.compile fuses the same operations in another order, so agreement is to
    # round-off accumulated over 4 epochs x 5 steps (rtol 1e-9), not bitwise.
    specs = [_spec(seed, lam=lam) for seed, lam in ((1, 1e-4), (2, 3e-2))]
    eager = train_group(specs, OPTIONS)
    compiled = train_group(specs, EngineOptions(record_every=2, test_size=100, compile=True))
    for fast, slow in zip(compiled, eager, strict=True):
        for name in METRICS:
            np.testing.assert_allclose(
                fast.metrics[name], slow.metrics[name], rtol=1e-9, atol=1e-12
            )


def test_compile_mode_captures_graphs_on_cuda_only() -> None:
    import torch

    from validation.cnn.device import compile_mode

    assert compile_mode(torch.device("cuda", 0)) == "reduce-overhead"
    assert compile_mode(torch.device("cpu")) == "default"


def test_cuda_training_equals_cpu_training() -> None:
    """The CUDA path (captured compiled step, device-side data) gives the CPU's float64 numbers to
    round-off (rtol 1e-9, as the compiled-vs-eager test); skipped without a GPU."""
    import torch

    if not torch.cuda.is_available():
        pytest.skip("no CUDA device on this machine")
    specs = [_spec(seed, lam=lam) for seed, lam in ((1, 1e-4), (2, 3e-2))]
    cpu = train_group(specs, EngineOptions(record_every=2, test_size=100, device="cpu"))
    cuda = train_group(
        specs, EngineOptions(record_every=2, test_size=100, device="cuda", compile=True)
    )
    for on_cpu, on_cuda in zip(cpu, cuda, strict=True):
        for name in METRICS:
            np.testing.assert_allclose(
                on_cuda.metrics[name], on_cpu.metrics[name], rtol=1e-9, atol=1e-12
            )


def test_float32_training_runs_and_rejects_other_dtypes() -> None:
    (trajectory,) = train_group(
        [_spec(0)], EngineOptions(record_every=2, test_size=100, dtype="float32")
    )
    assert np.all(np.isfinite(trajectory.metrics["loss"]))
    with pytest.raises(ParameterError) as caught:
        EngineOptions(dtype="float16")
    assert caught.value.name == "dtype"


def test_unknown_or_absent_device_is_a_parameter_error() -> None:
    import torch

    with pytest.raises(ParameterError) as caught:
        resolve_device("tpu-please")
    assert caught.value.name == "device"
    if not torch.cuda.is_available():
        with pytest.raises(ParameterError, match="CUDA is not available"):
            resolve_device("cuda")


def test_a_diverging_member_is_recorded_as_failed_and_spares_the_others(tmp_path: Path) -> None:
    """GD with eta = 1e8 overflows to inf/NaN; the member beside it trains as if alone, the results
    file stores nulls (valid JSON) and the report lists the failure and counts its claims as not
    reproduced."""
    diverging = _spec(1, optimizer="gd", eta=1e8, epochs=4)
    healthy = _spec(2, optimizer="gd", eta=1e-2, epochs=4)
    failed, fine = train_group([diverging, healthy], OPTIONS)
    assert failed.failure is not None and "non-finite" in failed.failure and fine.failure is None
    alone = train_group([healthy], OPTIONS)[0]
    for name in METRICS:
        np.testing.assert_allclose(fine.metrics[name], alone.metrics[name], rtol=1e-10, atol=1e-12)

    preset = Preset(
        "diverging",
        "one run diverges",
        (diverging, healthy),
        OPTIONS,
        (Expectation("run1", "train_error", "<=", 1.0, "any finite value"),),
    )
    records = run_preset(preset, tmp_path)
    with sqlite3.connect(tmp_path / "results.sqlite") as connection:
        ((final,),) = connection.execute(
            "SELECT final FROM runs WHERE status = 'failed'"
        ).fetchall()
    json.loads(
        final, parse_constant=lambda token: pytest.fail(f"non-JSON {token}")
    )  # nulls, not NaN
    text, checks, _ = write_report(preset, records, tmp_path)
    assert "## Failed runs" in text and not checks[0].holds
