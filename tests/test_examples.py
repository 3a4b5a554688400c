"""Every script of examples/ runs at a tiny size (``--smoke``) and writes its figure, and ends a
bad invocation in one line on stderr with exit status 2, before anything trains."""

import importlib.util
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

from validation.reports.figures.style import figure_formats

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("*.py"))


def test_every_example_is_tested() -> None:
    assert {path.stem for path in EXAMPLES} == {
        "adam_batch_memorisation",
        "lambda_cliff",
        "full_batch_adam_vs_gd",
        "dask_sweep",
        "store_to_pandas",
    }


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.stem)
def test_example_runs_and_writes_its_figure(path: Path, tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location(f"example_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    figure = module.main(["--smoke", "--out", str(tmp_path / path.stem)])
    assert figure.suffix == ".png" and figure.stat().st_size > 0
    assert all(figure.with_suffix(f).stat().st_size > 0 for f in figure_formats())


#: A bad invocation: (case, example, argv -- ``{tmp}`` is the test's directory, holding the plain
#: file ``a-file`` --, exit status, a fragment of the one stderr line). Each fails before training.
BAD_INVOCATIONS: list[tuple[str, str, list[str], int, str]] = [
    ("B above n", "adam_batch_memorisation", ["--B", "1000", "--smoke"], 2, "'B' = 1000"),
    ("B zero", "adam_batch_memorisation", ["--B", "0", "--smoke"], 2, "'B' = 0"),
    ("B negative", "adam_batch_memorisation", ["--B", "-3"], 2, "'B' = -3"),
    ("adam out a file", "adam_batch_memorisation", ["--out", "{tmp}/a-file"], 2, "'out'"),
    ("gd out a file", "full_batch_adam_vs_gd", ["--out", "{tmp}/a-file"], 2, "'out'"),
    ("cliff out a file", "lambda_cliff", ["--out", "{tmp}/a-file"], 2, "'out'"),
    ("dask out a file", "dask_sweep", ["--out", "{tmp}/a-file"], 2, "'out'"),
    ("slurm negative", "dask_sweep", ["--slurm", "-1", "--out", "{tmp}/d"], 2, "'slurm' = -1"),
    (
        "slurm with a scheduler",
        "dask_sweep",
        ["--slurm", "2", "--scheduler", "localhost:1", "--out", "{tmp}/d"],
        2,
        "'slurm' = 2",
    ),
    (
        "slurm without dask-jobqueue",
        "dask_sweep",
        ["--slurm", "2", "--out", "{tmp}/d"],
        2,
        "pip install dask-jobqueue",
    ),
    ("mistyped store", "store_to_pandas", ["{tmp}/no/s.sqlite", "--out", "{tmp}/p"], 2, "'store'"),
    ("store a directory", "store_to_pandas", ["{tmp}", "--out", "{tmp}/p"], 2, "'store'"),
    ("store not SQLite", "store_to_pandas", ["{tmp}/a-file", "--out", "{tmp}/p"], 2, "'store'"),
    ("pandas out a file", "store_to_pandas", ["--smoke", "--out", "{tmp}/a-file"], 2, "'out'"),
]


@pytest.mark.parametrize(
    ("example", "argv", "status", "fragment"),
    [case[1:] for case in BAD_INVOCATIONS],
    ids=[case[0] for case in BAD_INVOCATIONS],
)
def test_a_bad_invocation_ends_in_one_line_before_training(
    example: str,
    argv: list[str],
    status: int,
    fragment: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The script runs as ``python examples/NAME.py ARGV`` would (its ``__main__`` block, in this
    process for speed); dask-jobqueue is made unimportable, and training is replaced by a failure,
    so a case that reached it would fail loudly."""
    (tmp_path / "a-file").write_text("not a directory, not a store\n")
    path = EXAMPLES[0].parent / f"{example}.py"
    args = [arg.format(tmp=tmp_path) for arg in argv]
    monkeypatch.setattr(sys, "argv", [str(path), *args])
    monkeypatch.setitem(sys.modules, "dask_jobqueue", None)  # import dask_jobqueue: ImportError
    _forbid_training(monkeypatch)
    with pytest.raises(SystemExit) as ended:
        runpy.run_path(str(path), run_name="__main__")
    captured = capsys.readouterr()
    assert ended.value.code == status, captured.err
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err
    assert captured.err.startswith(f"{example}.py: ") and fragment in captured.err
    assert not (tmp_path / "no").exists()  # a store that is read is never created


def _forbid_training(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every way the examples train or start a cluster raises an AssertionError."""
    import dynamics.predict
    import validation.experiments.setting_comparison as setting_comparison
    import validation.sweeps.runner as runner

    def trained(*_: object, **__: object) -> None:
        raise AssertionError("a bad invocation reached training")

    monkeypatch.setattr(setting_comparison, "train", trained)
    monkeypatch.setattr(dynamics.predict, "phase_diagram", trained)
    monkeypatch.setattr(runner, "train_or_resume", trained)
    monkeypatch.setattr(runner, "run_sweep", trained)
    monkeypatch.setattr("distributed.LocalCluster", trained)


def test_a_missing_store_ends_the_process_in_one_line_and_is_not_created(tmp_path: Path) -> None:
    """The same refusal in a real process: status 2, one line, no traceback, no file created."""
    store = tmp_path / "mistyped" / "results.sqlite"
    path = EXAMPLES[0].parent / "store_to_pandas.py"
    ended = subprocess.run(
        [sys.executable, str(path), str(store), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert ended.returncode == 2, ended.stderr
    assert ended.stderr.count("\n") == 1 and "Traceback" not in ended.stderr
    assert "'store'" in ended.stderr and str(store) in ended.stderr
    assert not store.parent.exists() and not (tmp_path / "out").exists()
