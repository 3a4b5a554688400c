"""``theorykit images``'s size flags and dry run: the plan of the default job and of a reduced one,
printed without torch and without training, and every bad size value refused in one line before
anything trains."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from validation.cli import main


def test_the_default_dry_run_lists_the_41_runs_and_trains_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["images", "--dry-run", "--out", str(tmp_path / "digits")]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == (
        "theorykit images --dataset digits (1078 training and 719 test images of 1 x 8 x 8, "
        "1 seed):"
    )
    assert lines[1].startswith(
        "  batch sizes (Fig. 1): 30 runs, 120,444 optimiser steps at most, ~"
    )
    assert lines[32].startswith("  weight decays (Fig. 2): 11 runs, 22,440 optimiser steps, ~")
    assert lines[2].startswith(
        "    adam lam=0.0005 B=4 lr=0.0005 until train error <= 0.01 or 4000 steps seed=0: "
        "at most 4,050 steps, ~"
    )
    assert lines[33].startswith("    adam lam=1e-05 B=16 lr=0.001 epochs=30 seed=0: 2,040 steps")
    assert lines[-1].startswith("estimated total: ~") and len(lines) == 45
    assert not (tmp_path / "digits").exists()


def test_a_reduced_dry_run_needs_no_torch(
    tmp_path: Path, without_torch: Callable[..., subprocess.CompletedProcess]
) -> None:
    argv = ["images", "--dry-run", "--out", str(tmp_path), "--seeds", "2"]
    argv += ["--batch-sizes", "64,16", "--lams", "1e-1,1e-4"]
    result = without_torch("from validation.cli import main\nsys.exit(main(sys.argv[1:]))", *argv)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].endswith(", 2 seeds):")
    # 2 optimisers x 2 B x 3 learning rates x 2 seeds; 2 optimisers x 2 lams x 2 seeds
    assert lines[1].startswith("  batch sizes (Fig. 1): 24 runs, ")
    assert lines[2].startswith("    adam lam=0.0005 B=16 lr=0.0005 ")
    assert lines[26].startswith("  weight decays (Fig. 2): 8 runs, ")
    assert lines[27].startswith("    adam lam=0.0001 B=16 lr=0.001 epochs=30 seed=0: ")
    assert lines[28].startswith("    adam lam=0.0001 B=16 lr=0.001 epochs=30 seed=1: ")
    assert len(lines) == 24 + 8 + 4 and not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("flag", "value", "name"),
    [
        ("--seeds", "0", "'seeds' = '0'"),
        ("--seeds", "two", "'seeds' = 'two'"),
        ("--seeds", "1000000", "'seeds'"),
        ("--batch-sizes", "16", "'batch_sizes' = '16'"),
        ("--batch-sizes", "0,16", "'batch_sizes' = '0,16'"),
        ("--batch-sizes", "16,x", "'batch_sizes' = '16,x'"),
        ("--batch-sizes", "16,1.5", "'batch_sizes'"),
        ("--batch-sizes", "16,5000", "'batch_sizes' = [5000]"),
        ("--lams", "-1,1", "'lams' = '-1,1'"),
        ("--lams", "nan,1", "'lams'"),
        ("--lams", "1e-3", "'lams' = '1e-3'"),
    ],
)
@pytest.mark.parametrize("dry_run", [[], ["--dry-run"]], ids=["train", "dry-run"])
def test_a_bad_size_is_one_line_naming_the_parameter_before_anything_trains(
    flag: str,
    value: str,
    name: str,
    dry_run: list[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = [
        "images",
        "--out",
        str(tmp_path / "out"),
        "--device",
        "cpu",
        f"{flag}={value}",
        *dry_run,
    ]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert name in err and "breaks the rule" in err
    assert not (tmp_path / "out").exists()
