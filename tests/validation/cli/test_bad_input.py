"""Every bad input and machine state the CLI meets ends in one line on stderr, the right exit status
and no traceback, before anything trains (issue 17's table of cases, one row each).

Exit statuses (``validation.cli.main``): 2 for a value the user can fix, 1 for the machine's state,
0 where a value is legal (a refusal there was a bug), 141 (silent) for a closed pipe.
"""

from __future__ import annotations

import io
import json
import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from validation.cli import main

#: A case: the argv (``{tmp}`` is the test's directory, ``{spec}`` a small sweep spec), the exit
#: status, and a fragment the one stderr line must contain.
CASES: list[tuple[str, list[str], int, str]] = [
    ("q below the theory's range", ["bounds", "--q", "2"], 2, "'q' = 2"),
    ("q so large the formulas overflow", ["bounds", "--q", "1000"], 2, "'q' = 1000"),
    ("n beyond any dataset", ["bounds", "--n", "1e308"], 2, "'n' = 1e+308"),
    (
        "gd eta beyond float32",
        ["bounds", "--eta", "1e308", "--optimizer", "gd"],
        2,
        "'eta' = 1e+308",
    ),
    ("lam beyond float32 as json", ["bounds", "--lam", "1e308", "--json"], 2, "'lam' = 1e+308"),
    ("sigma_p beyond float32", ["bounds", "--sigma_p", "1e308"], 2, "'sigma_p' = 1e+308"),
    ("epochs beyond any horizon", ["bounds", "--epochs", "1e10"], 2, "'epochs'"),
    ("negative sigma0", ["bounds", "--sigma0", "-1"], 2, "'sigma0' = -1"),
    ("unknown hidden constant", ["bounds", "--constant", "margn=3"], 2, "'margn'"),
    ("device mps", ["validate", "--device", "mps", "--out", "{tmp}/v"], 2, "'device' = 'mps'"),
    ("device meta", ["validate", "--device", "meta", "--out", "{tmp}/v"], 2, "'device' = 'meta'"),
    ("cpu index", ["validate", "--device", "cpu:7", "--out", "{tmp}/v"], 2, "'device'"),
    ("absent cuda", ["validate", "--device", "cuda:99", "--out", "{tmp}/v"], 2, "'device'"),
    ("sweep device", ["sweep", "{spec}", "--device", "mps"], 2, "'device' = 'mps'"),
    ("out is a file", ["validate", "--out", "{tmp}/a-file"], 2, "'out'"),
    ("compare out is a file", ["compare", "--out", "{tmp}/a-file"], 2, "'out'"),
    ("images out is a file", ["images", "--out", "{tmp}/a-file"], 2, "'out'"),
    ("out below a file", ["validate", "--out", "{tmp}/a-file/sub"], 2, "is a file"),
    (
        "cifar dir without pickles",
        ["images", "--dataset", "cifar10", "--cifar-dir", "{tmp}/not-cifar", "--out", "{tmp}/i"],
        2,
        "cifar",
    ),
    ("export format", ["sweep", "{spec}", "--export", "{tmp}/x.xlsx"], 2, "'export'"),
    ("export directory", ["sweep", "{spec}", "--export", "{tmp}/no/such/x.csv"], 2, "'export'"),
    ("unknown executor", ["sweep", "{spec}", "--executor", "threads:2"], 2, "'executor'"),
    ("missing spec", ["sweep", "{tmp}/none.toml"], 2, "none.toml"),
    ("missing store", ["report", "{tmp}/none.sqlite"], 2, "none.sqlite"),
    ("foreign store", ["report", "{tmp}/foreign.sqlite"], 2, "foreign.sqlite"),
    ("malformed store", ["report", "{tmp}/malformed.sqlite"], 2, "malformed.sqlite"),
    ("grid larger than memory", ["sweep", "{huge}"], 2, "memory"),
]


@pytest.fixture
def workspace(tmp_path: Path, sweep_spec_file: Callable[..., Path]) -> dict[str, str]:
    """The files the cases point at: a plain file, a directory of non-pickles, a foreign and a
    malformed SQLite file, a small spec and one whose test set cannot fit in memory."""
    (tmp_path / "a-file").write_text("not a directory\n")
    (tmp_path / "not-cifar").mkdir()
    (tmp_path / "not-cifar" / "data_batch_1").write_text("not a pickle\n")
    foreign = sqlite3.connect(tmp_path / "foreign.sqlite")
    foreign.execute("CREATE TABLE invoices (id INTEGER)")
    foreign.commit()
    foreign.close()
    (tmp_path / "malformed.sqlite").write_bytes(b"SQLite format 3\x00" + b"\xff" * 4096)
    spec = sweep_spec_file(name="bad-input")
    huge = tmp_path / "huge.toml"
    huge.write_text(
        spec.read_text()
        .replace("test_size = 200", "test_size = 1000000000")
        .replace('name = "bad-input"', 'name = "huge"')
    )
    return {"tmp": str(tmp_path), "spec": str(spec), "huge": str(huge)}


@pytest.mark.parametrize(
    ("argv", "status", "fragment"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_bad_input_is_one_line_with_the_right_status(
    argv: list[str],
    status: int,
    fragment: str,
    workspace: dict[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = [arg.format(**workspace) for arg in argv]
    before = set(Path(workspace["tmp"]).rglob("*"))
    started = time.perf_counter()
    assert main(args) == status
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    assert fragment.lower() in err.lower(), err
    # Refused before anything trains: nothing new on disk, and no training time spent.
    assert set(Path(workspace["tmp"]).rglob("*")) == before
    assert time.perf_counter() - started < 20


def test_foreign_store_is_left_byte_for_byte(
    workspace: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    foreign = Path(workspace["tmp"]) / "foreign.sqlite"
    before = foreign.read_bytes()
    assert main(["sweep", workspace["spec"], "--store", str(foreign)]) == 2
    assert "foreign.sqlite" in capsys.readouterr().err
    assert foreign.read_bytes() == before


def test_legal_gd_setting_is_not_refused_by_an_adamw_rule(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["bounds", "--optimizer", "gd", "--eta", "0.5", "--lam", "2", "--B", "200"]
    assert main(argv) == 0
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    "argv",
    [
        ["bounds", "--q", "13", "--json"],  # lambda*_Adam < 0: the verdict's margin is unbounded
        ["bounds", "--B", "100", "--epochs", "300", "--lam", "0.05", "--json"],  # T < 0.9 W0/eta
        ["bounds", "--eps", "0", "--alpha", "0", "--json"],  # log(1/eps) and B*_inf infinite
    ],
    ids=["q 13", "L2 decay too short to collapse", "eps 0 alpha 0"],
)
def test_legal_extremes_print_valid_json(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """Every non-finite number of ``bounds --json`` is null: never Infinity or NaN."""
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    assert "Infinity" not in captured.out and "NaN" not in captured.out
    json.loads(captured.out)


def test_q_13_prints_lambda_star_adam_as_not_applicable(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """At q = 13 (paper's setting) lambda*_Adam < 0: printed n/a, the verdict undetermined."""
    assert main(["bounds", "--q", "13"]) == 0
    out = capsys.readouterr().out
    assert "lambda*_Adam is not a positive finite number at this setting (-1.45e-19)" in out
    assert "n/a (-1.447e-19, not a positive finite number)" in out
    assert "lambda*_Adam -" not in out and "predicted at this setting: undetermined" in out
    assert main(["bounds", "--q", "13", "--json"]) == 0
    decoded = json.loads(capsys.readouterr().out)
    assert decoded["finite_size"]["verdict"]["margin"] is None


def test_closed_pipe_ends_silently(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``theorykit bounds --json | head`` with the reader gone: status 141, nothing on stderr."""

    descriptor = os.open(os.devnull, os.O_WRONLY)

    class ClosedPipe(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

        def fileno(self) -> int:
            return descriptor

    monkeypatch.setattr("sys.stdout", ClosedPipe())
    try:
        assert main(["bounds", "--json"]) == 141
    finally:
        os.close(descriptor)
    assert capsys.readouterr().err == ""


def test_same_name_other_configuration_is_refused(
    tmp_path: Path, sweep_spec_file: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """A spec whose name the store already holds with other epochs is refused, naming the name."""
    store = str(tmp_path / "shared.sqlite")
    short = sweep_spec_file(name="shared", epochs=2)
    longer = sweep_spec_file(name="shared", epochs=3)
    assert main(["sweep", str(short), "--store", store]) == 0
    capsys.readouterr()
    assert main(["sweep", str(longer), "--store", store]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "shared" in err and len(err.strip().splitlines()) == 1
