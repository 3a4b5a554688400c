"""Shared test configuration: hypothesis profiles and a small sweep spec.

``ci`` (selected when the CI environment variable is set, as in .ci/run): derandomized, no deadline,
so CI is reproducible and not flaky on a slow 2-core machine. ``dev``: random exploration, no
deadline (sympy's first lambdify of an expression is slow, which is not what the tests measure).

Figures are written as PNG alone (``THEORYKIT_FIGURE_FORMATS``, here and in every process a test
starts): PDF and SVG double a report's drawing time; the tests of the formats themselves unset it.
"""

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from validation.reports.figures.style import FORMATS_VARIABLE

os.environ[FORMATS_VARIABLE] = "png"

settings.register_profile(
    "ci",
    deadline=None,
    derandomize=True,
    max_examples=60,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None, max_examples=60)
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "dev"))


SWEEP_SPEC = """
name = "{name}"
seeds = [0, 1]
group_size = 2
[params]
n = {n}
d = {d}
s = 4
m = {m}
eta = {eta}
epochs = {epochs}
bias_correction = true
[grid]
optimizer = ["{optimizer}", "adamw"]
B = [2, 20]
lam = [1e-5, 0.01]
[engine]
record_every = 5
test_size = 200
"""


@pytest.fixture(scope="session")
def sweep_spec_file(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """Write a small sweep spec (16 runs: 2 optimisers x 2 B x 2 lam x 2 seeds, 8 tasks of 2
    members)."""
    directory = tmp_path_factory.mktemp("specs")

    def write(
        name: str = "small",
        epochs: int = 20,
        eta: float = 1e-3,
        optimizer: str = "adam",
        size: tuple[int, int, int] = (20, 100, 4),
    ) -> Path:
        """``size`` is (n, d, m): larger ones make tasks slow enough for a fault to land."""
        n, d, m = size
        path = directory / f"{name}-{epochs}-{eta:g}-{optimizer}-{n}-{d}-{m}.toml"
        path.write_text(
            SWEEP_SPEC.format(name=name, epochs=epochs, eta=eta, optimizer=optimizer, n=n, d=d, m=m)
        )
        return path

    return write


@pytest.fixture(scope="session")
def dask_cluster():
    """A real Dask cluster on this machine: 2 worker processes (with nannies, which restart a killed
    worker)."""
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        yield cluster


def _records_match(actual: dict, expected: dict) -> None:  # key -> RunRecord
    """Same runs (keys, configs, failures) and the same metrics to float64 round-off.

    Tolerance rtol 1e-9: the workers of another executor may give torch a different number of
    threads, which changes the order of float64 reductions (round-off only); anything a real
    difference in training would change (an error rate, a sign) is orders of magnitude larger.
    """
    import numpy as np

    assert actual.keys() == expected.keys()
    for key, record in expected.items():
        other = actual[key]
        for field in (
            "name",
            "params",
            "data_seed",
            "init_seed",
            "supports",
            "labels",
            "epoch",
            "failure",
        ):
            assert getattr(other, field) == getattr(record, field), (key, field)
        for metric in record.metrics:
            np.testing.assert_allclose(
                other.series(metric),
                record.series(metric),
                rtol=1e-9,
                atol=1e-12,
                err_msg=f"{key} {metric}",
            )


@pytest.fixture
def records_match() -> Callable[[dict, dict], None]:
    """Assert two stores' records describe the same runs with the same metrics (see
    ``_records_match``)."""
    return _records_match


#: Refuses every import of torch in a child process (the read paths and dry runs must not need it).
BLOCK_TORCH = """
import importlib.abc, sys
class BlockTorch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ImportError("torch is blocked in this test")
sys.meta_path.insert(0, BlockTorch())
"""


@pytest.fixture(scope="session")
def without_torch() -> Callable[..., subprocess.CompletedProcess]:
    """Run ``code`` (with ``argv`` as sys.argv[1:]) in a fresh Python that cannot import torch,
    from the repository root."""

    def run(code: str, *argv: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-c", BLOCK_TORCH + code, *argv],
            capture_output=True,
            text=True,
            cwd=Path(__file__).resolve().parents[1],
        )

    return run
