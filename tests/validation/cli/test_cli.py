"""``theorykit bounds``: printed numbers are the Python API's numbers; bad flags name the field."""

import json
import subprocess
import sys

import pytest

from theorykit import bounds_summary, tang2025_synthetic
from validation.cli import main

PAPER_FLAGS = [
    "--n",
    "200",
    "--d",
    "1000",
    "--s",
    "100",
    "--sigma_p",
    "0.1",
    "--alpha",
    "0.2",
    "--sigma0",
    "0.01",
    "--m",
    "20",
    "--q",
    "3",
    "--B",
    "16",
]


def test_bounds_json_equals_python_api(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bounds", *PAPER_FLAGS, "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    expected = bounds_summary(tang2025_synthetic(B=16))
    assert printed["thresholds"] == expected.thresholds
    assert [r["batch_regime"] for r in printed["regimes"]] == [
        r.batch_regime for r in expected.regimes
    ]
    assert printed["thresholds"]["lambda_star_adam"] < printed["thresholds"]["lambda_star_adamw"]


def test_bounds_table_shows_both_thresholds_and_regimes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bounds", *PAPER_FLAGS]) == 0
    out = capsys.readouterr().out
    expected = bounds_summary(tang2025_synthetic(B=16)).thresholds
    assert (
        f"{expected['lambda_star_adam']:.4g}" in out
        and f"{expected['lambda_star_adamw']:.4g}" in out
    )
    assert "adam   batch:" in out and "adamw  batch:" in out


def test_bad_flag_value_names_the_field(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bounds", "--q", "2"]) == 2
    assert "'q' = 2" in capsys.readouterr().err
    assert main(["bounds", "--constant", "margn=3"]) == 2
    assert "'margn'" in capsys.readouterr().err


def test_console_script_runs_in_a_fresh_process() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "theorykit.cli", "bounds", "--B", "2", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(result.stdout)["regimes"][0]["batch_regime"] == "mini-batch"


def test_validate_rejects_an_unknown_device_before_training(tmp_path, capsys) -> None:
    from validation.cli import main

    assert (
        main(["validate", "--preset", "quick", "--device", "warp-drive", "--out", str(tmp_path)])
        == 2
    )
    assert "'device' = 'warp-drive'" in capsys.readouterr().err
