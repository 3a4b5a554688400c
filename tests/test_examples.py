"""Every script of examples/ runs at a tiny size (``--smoke``) and writes its figure."""

import importlib.util
from pathlib import Path

import pytest

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
    assert figure.with_suffix(".svg").stat().st_size > 0
