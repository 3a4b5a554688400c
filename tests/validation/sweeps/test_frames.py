"""Results as tidy frames: runs, trajectories and predictions each joined to their configuration in
one call, numeric columns as float64, and a row back to its ProblemParams."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dynamics.trajectory import METRICS, Trajectory
from theorykit import ProblemParams, tang2025_synthetic
from theorykit.errors import ParameterError
from validation.runs.records import RunRecord
from validation.store.results import ResultsStore


def _record(B: int, failed: bool = False) -> RunRecord:
    params = tang2025_synthetic(B=B, lam=0.01)
    values = dict.fromkeys(METRICS, (0.5, None if failed else 0.1))
    return RunRecord(
        f"k{B}",
        f"B={B}",
        params,
        0,
        0,
        "overlapping",
        "balanced",
        (0.0, 10.0),
        values,
        {metric: v[-1] for metric, v in values.items()},
        "non-finite weights" if failed else None,
    )


@pytest.fixture
def store(tmp_path: Path) -> ResultsStore:
    path = tmp_path / "frames.sqlite"
    with ResultsStore(path) as writer:
        writer.add("frames", [_record(2), _record(4), _record(8, failed=True)], {}, "test")
        guess = Trajectory(np.array([0.0, 10.0]), {m: np.array([0.4, 0.2]) for m in METRICS})
        writer.add_predictions("overlap-aware", [("k2", guess)], "test")
    opened = ResultsStore(path, read_only=True)
    yield opened
    opened.close()


def test_every_frame_joins_the_configuration_and_is_numeric(store: ResultsStore) -> None:
    runs, trajectories, predictions = (
        store.dataframe(),
        store.trajectory_frame(),
        store.prediction_frame(),
    )
    assert len(runs) == 3 and len(trajectories) == 6 and len(predictions) == 2
    for frame in (runs, trajectories, predictions):
        assert {"B", "lam", "optimizer", "data_seed", "supports", "name"} <= set(frame.columns)
        assert all(frame[metric].dtype == np.float64 for metric in METRICS)
    assert runs.loc[runs.key == "k8", "test_error"].isna().all()  # a failed run: NaN, not None
    assert set(predictions["reduction"]) == {"overlap-aware"}
    assert predictions["B"].tolist() == [2, 2]


def test_a_row_gives_back_its_problem_params(store: ResultsStore) -> None:
    for frame in (store.dataframe(), store.trajectory_frame(), store.prediction_frame()):
        row = frame.iloc[0]
        assert ProblemParams.from_record(row) == tang2025_synthetic(B=int(row["B"]), lam=0.01)
    assert ProblemParams.from_record(tang2025_synthetic().to_dict()) == tang2025_synthetic()
    with pytest.raises(ParameterError, match="'row'"):
        ProblemParams.from_record({"n": 200})
