"""Sizing before training (validation.sizing): member-steps and memory are exact counts of what the
engine allocates and runs; the time estimate scales with the work; the dry runs print all three."""

import pytest

from theorykit import tang2025_synthetic
from validation.cli import main
from validation.sizing import ITEMSIZE, group_size, member_bytes
from validation.specs import EngineOptions, RunSpec


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
    assert group_size([RunSpec(tang2025_synthetic(), 0, 0)], options, fused=False).seconds is None


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
