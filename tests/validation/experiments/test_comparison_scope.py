"""``theorykit compare``'s size knobs (``--seeds``, ``--settings``, ``--batch-sizes``) and its
progress over the whole job: each knob checked before anything trains, the dry run sizing exactly
the runs the stages train (training replaced by a fake that records them), the keys of a narrowed
run those of the full comparison, and one progress line per sub-sweep counting the whole job."""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from dynamics.trajectory import METRICS, Trajectory
from validation.cli import main
from validation.experiments import (
    batch_comparison,
    horizon_check,
    table1_example,
    threshold_comparison,
)
from validation.experiments.batch_comparison import batch_plan
from validation.experiments.comparison_plan import comparison_stages
from validation.experiments.comparison_progress import JobProgress, Stage
from validation.experiments.comparison_scope import (
    FULL_SCOPE,
    ComparisonScope,
    comparison_scope,
    split_labels,
    valid_labels,
)
from validation.experiments.threshold_comparison import threshold_plan
from validation.runs.records import RunRecord, run_key
from validation.runs.spec import EngineOptions, RunSpec

#: A narrow scope: the paper's setting and a disjoint one (whose label holds commas), one seed.
NARROW = [
    "--seeds",
    "1",
    "--settings",
    "paper (App. D.2),disjoint, n = 40, s = 20",
    "--batch-sizes",
    "2,4,100",
]


def fake_trajectory(spec: RunSpec, options: EngineOptions) -> Trajectory:
    """A made-up record of ``spec`` at every ``record_every`` epochs: large batches memorise,
    small ones learn the feature, large lam collapses (outcomes that give every stage a bracket
    to read, not the CNN's)."""
    p = spec.params
    epoch = np.arange(0, p.epochs + 1, options.record_every, dtype=np.float64)
    if epoch[-1] != p.epochs:
        epoch = np.append(epoch, float(p.epochs))
    t = epoch / p.epochs
    memorises = p.n // 4 <= p.B
    weight_end = 0.01 if p.lam > 0.05 else 2.0
    values = {
        "feature_pos": 0.01 + (0.0 if memorises else 1.0) * t,
        "feature_neg": 0.01 - 0.02 * t * (spec.data_seed % 2),
        "noise_min": -0.1 * t,
        "noise_max": (1.0 if memorises else 0.1) * t,
        "train_error": 0.5 * (1 - t),
        "test_error": 0.5 - (0.1 if memorises else 0.48) * t,
        "loss": 0.7 * (1 - t) + 0.01,
        "weight_max": 1.0 + (weight_end - 1.0) * t,
    }
    return Trajectory(epoch, {name: values[name] for name in METRICS})


def narrow_scope() -> ComparisonScope:
    """:data:`NARROW` as a scope."""
    return comparison_scope(seeds=1, labels=split_labels(NARROW[3]), batch_sizes=[2, 4, 100])


class FakeTraining:
    """Stands in for ``train_or_resume`` and ``predictions_for``: records every spec it is given
    and returns made-up records and predictions."""

    def __init__(self) -> None:
        self.trained: dict[str, RunSpec] = {}
        self.predicted: set[str] = set()

    def train_or_resume(
        self, name: str, specs: Sequence[RunSpec], options: EngineOptions, *_: object
    ) -> list[RunRecord]:
        records = []
        for spec in specs:
            key = run_key(spec, options)
            self.trained[key] = spec
            records.append(RunRecord.of(key, spec, fake_trajectory(spec, options)))
        return records

    def predictions_for(
        self, records: Sequence[RunRecord], options: EngineOptions, *_: object
    ) -> dict[str, tuple[str, Trajectory]]:
        self.predicted |= {record.key for record in records}
        return {r.key: ("fake", fake_trajectory(r.spec, options)) for r in records}


@pytest.fixture
def fake_training(monkeypatch: pytest.MonkeyPatch) -> FakeTraining:
    fake = FakeTraining()
    for module in (batch_comparison, threshold_comparison, horizon_check, table1_example):
        monkeypatch.setattr(module, "train_or_resume", fake.train_or_resume)
    monkeypatch.setattr(batch_comparison, "predictions_for", fake.predictions_for)
    return fake


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["--seeds", "0"], "'seeds' = 0"),
        (["--seeds", "two"], "'seeds' = 'two'"),
        (["--settings", "d = 3000"], "'settings' = 'd = 3000'"),
        (["--batch-sizes", "3"], "'batch_sizes' = '3'"),
        (["--batch-sizes", "2,x"], "'batch_sizes' = '2,x'"),
        (["--batch-sizes", "1"], "n = 200: 2, 5"),  # 1 is only in the n = 40 grid
    ],
)
def test_a_bad_knob_is_one_line_with_status_2_before_anything_trains(
    argv: list[str], fragment: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["compare", "--out", str(tmp_path / "out"), *argv]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert fragment in err, err
    assert not (tmp_path / "out").exists()


def test_an_unknown_label_lists_the_valid_ones(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", "--dry-run", "--settings", "paper"]) == 2
    err = capsys.readouterr().err
    assert all(label in err for label in valid_labels())


def test_labels_with_commas_split_by_the_longest_known_label() -> None:
    text = "d = 2000,disjoint, n = 40, s = 20,sigma0 = 0.02"
    assert split_labels(text) == ["d = 2000", "disjoint, n = 40, s = 20", "sigma0 = 0.02"]
    assert split_labels("paper (App. D.2), B = 16") == ["paper (App. D.2), B = 16"]


def test_a_label_selects_its_settings_in_both_tables() -> None:
    scope = comparison_scope(labels=["paper (App. D.2)", "B = 2"])
    assert [s.label for s in scope.settings] == ["paper (App. D.2)"]
    assert [s.label for s in scope.thresholds] == ["paper (App. D.2), B = 16", "B = 2"]
    assert scope.horizon and scope.seeds == FULL_SCOPE.seeds
    only_thresholds = comparison_scope(labels=["sigma_p = 0.2"])
    assert not only_thresholds.settings and not only_thresholds.horizon
    assert comparison_scope() == FULL_SCOPE


def test_a_narrowed_scope_trains_runs_of_the_full_comparison_under_their_keys() -> None:
    scope = narrow_scope()
    assert scope.grid(200) == (2, 100) and scope.grid(40) == (2, 4)

    def keys(plan: list[tuple[EngineOptions, list[RunSpec]]]) -> set[str]:
        return {run_key(spec, options) for options, specs in plan for spec in specs}

    narrow = keys(batch_plan(scope))
    assert len(narrow) == 2 * 2 * 2 and narrow < keys(batch_plan())
    assert keys(threshold_plan(scope)) < keys(threshold_plan())


def test_the_dry_run_sizes_exactly_what_the_stages_train(
    tmp_path: Path, fake_training: FakeTraining, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["compare", "--dry-run", "--out", str(out), *NARROW]) == 0
    dry = capsys.readouterr().out
    assert "scope: seeds 0;" in dry and "horizon check yes" in dry
    stages = comparison_stages(out / "cnn" / "results.sqlite", scope=narrow_scope())
    assert f"collapse thresholds: {stages[0].pending} CNN runs" in dry

    assert main(["compare", "--out", str(out), "--no-coefficients", *NARROW]) == 0
    err = capsys.readouterr().err
    training = [stage for stage in stages if not stage.predicts]
    assert set(fake_training.trained) == set().union(*(stage.keys for stage in training))
    assert len(fake_training.trained) == sum(stage.pending for stage in training)
    (predicting,) = [stage for stage in stages if stage.predicts]
    assert fake_training.predicted == predicting.keys
    total = sum(stage.pending for stage in training)
    progress = [line for line in err.splitlines() if line.startswith("compare: ")]
    assert len(progress) >= 3, err
    assert progress[-1].startswith(f"compare: {total}/{total} CNN runs, 8/8 predictions;")
    assert "(1 seeds;" in (out / "comparison.md").read_text()


def test_job_progress_counts_the_whole_job_and_scales_the_estimate() -> None:
    now = [0.0]
    stages = [
        Stage("a", 4, 2, 0, 100.0, keys=frozenset({"k1", "k2"})),
        Stage("b", 2, 2, 0, 100.0, predicts=True, keys=frozenset({"k1", "k3"})),
    ]
    log = io.StringIO()
    job = JobProgress(stages, log, clock=lambda: now[0])
    assert job.seconds_left() == 200.0
    now[0] = 60.0
    job.trained(["k1", "k9"])
    job.trained(["k1"])  # counted once: no second line
    assert log.getvalue().splitlines() == [
        "compare: 1/2 CNN runs, 0/2 predictions; 1.0 min elapsed, ~3.0 min left (whole job)"
    ]
    assert math.isclose(job.seconds_left(), 150 * 60 / 50)
    job.predicted(["k1", "k3"])
    assert "1/2 CNN runs, 2/2 predictions" in log.getvalue().splitlines()[-1]


def test_a_scope_of_threshold_settings_alone_writes_the_report(
    tmp_path: Path, fake_training: FakeTraining, capsys: pytest.CaptureFixture[str]
) -> None:
    """No accuracy setting selected: no batch run, no horizon check, the report still whole."""
    out = tmp_path / "out"
    argv = [
        "compare",
        "--out",
        str(out),
        "--no-coefficients",
        "--seeds",
        "1",
        "--settings",
        "B = 2",
    ]
    assert main(argv) == 0
    assert len(fake_training.trained) == 2 * 9 and not fake_training.predicted
    report = (out / "comparison.md").read_text()
    assert "## Collapse thresholds" in report and "## The verdict across horizons" not in report
    capsys.readouterr()
