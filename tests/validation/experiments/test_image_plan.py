"""The size of an image job before it trains: the runs, steps and error evaluations the dry run and
the ETA count are those the experiment trains (counted in the training loop itself), runs already
stored are left out, and the sizing model grows with the batch and the image as a CNN step does."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import pytest

import validation.cnn.image_training as training
import validation.experiments.image_experiment as experiment
from validation.experiments.image_data import load_digits
from validation.experiments.image_plan import (
    describe_images,
    estimated_seconds,
    image_shape,
    image_stages,
)
from validation.experiments.image_runs import ImageRun, ImageSweep
from validation.runs.image_sizing import ImageShape, run_seconds, step_seconds
from validation.store.results import ResultsStore

#: Two B of the batch sweep, two lams per optimiser, two seeds: 16 runs of a few dozen steps.
TINY = ImageSweep(
    batch_sizes=(32, 256),
    learning_rates=(1e-3,),
    target_train_error=0.3,
    max_steps=40,
    adam_lams=(1e-4, 1e-1),
    adamw_lams=(1e-3, 0.5),
    lam_sweep_batch=64,
    epochs=2,
    seeds=(0, 1),
)


def test_the_plan_counts_the_runs_steps_and_evaluations_the_experiment_trains(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every run trains to its step budget (the train error is held above the target), so its
    steps and evaluations are the plan's exactly."""
    data = load_digits()
    counted: dict[str, list[int]] = {}  # key -> [steps, train evaluations, test evaluations]
    current: list[int] = []
    train_epoch = training._train_epoch

    def count_epoch(*args: object) -> int:
        steps = train_epoch(*args)  # type: ignore[arg-type]
        current[0] += steps
        return steps

    def count_error(model: object, images: object, labels: object) -> float:
        current[1 if len(labels) == len(data.train_labels) else 2] += 1  # type: ignore[arg-type]
        return 1.0  # never at the target: every batch-sweep run uses its whole budget

    train_run = experiment.train_image_run

    def count_run(run: ImageRun, *args: object) -> dict[str, float]:
        current[:] = [0, 0, 0]
        final = train_run(run, *args)  # type: ignore[arg-type]
        counted[run.key()] = list(current)
        return final

    monkeypatch.setattr(training, "_train_epoch", count_epoch)
    monkeypatch.setattr(training, "_error", count_error)
    monkeypatch.setattr(experiment, "train_image_run", count_run)
    experiment.run_image_sweep("digits", data, TINY, tmp_path, device="cpu", log=io.StringIO())

    planned = [run for stage in image_stages(TINY, set()) for run in stage.pending]
    assert [run.key() for run in planned] == list(counted) and len(planned) == 16
    n = len(data.train_labels)
    for run in planned:
        assert counted[run.key()] == [run.planned_steps(n), run.train_evaluations(n), 1], run
    assert {run.planned_steps(n) for run in planned} == {
        2 * 34,  # B = 32: 34 steps an epoch, 40 steps reached in the second
        8 * 5,  # B = 256: 5 steps an epoch
        2 * 17,  # the lam sweep: B = 64 for 2 epochs
    }


def test_the_dry_run_lists_only_the_runs_the_store_lacks(tmp_path: Path) -> None:
    data = load_digits()
    runs = TINY.runs()
    with ResultsStore(tmp_path / "results.sqlite") as store:
        for run in runs[:3]:
            final = {"train_error": 0.1, "test_error": 0.2, "steps": 1.0, "epochs": 1.0}
            store.add_image_run("digits", run.key(), dataclasses.asdict(run), final, "test")
    text = describe_images("digits", data, TINY, tmp_path / "results.sqlite")
    assert "batch sizes (Fig. 1): 5 runs, 3 already stored," in text
    assert "weight decays (Fig. 2): 8 runs," in text
    assert all(run.key() not in text for run in runs[:3])
    assert all(f"    {run.key()}: " in text for run in runs[3:])
    assert "on this machine's CPU" in text.splitlines()[-1]
    assert "for this machine's CPU; training on CUDA is not sized" in describe_images(
        "cifar10", data, TINY, tmp_path / "none.sqlite", device="cuda"
    )
    pending = sum(estimated_seconds(run, image_shape(data)) for run in runs[3:])
    assert estimated_seconds(runs[0], image_shape(data)) > 0 and pending > 0


def test_a_stored_run_of_another_data_set_is_not_counted(tmp_path: Path) -> None:
    run = TINY.runs()[0]
    with ResultsStore(tmp_path / "results.sqlite") as store:
        final = {"train_error": 0.1, "test_error": 0.2, "steps": 1.0, "epochs": 1.0}
        store.add_image_run("cifar10", run.key(), dataclasses.asdict(run), final, "test")
    text = describe_images("digits", load_digits(), TINY, tmp_path / "results.sqlite")
    assert "already stored" not in text and f"    {run.key()}: " in text


def test_the_progress_lines_count_the_whole_job_with_an_eta(tmp_path: Path) -> None:
    data = load_digits()
    sweep = dataclasses.replace(TINY, seeds=(0,), batch_sizes=(256, 512), epochs=1)
    log = io.StringIO()
    experiment.run_image_sweep("digits", data, sweep, tmp_path, device="cpu", log=log)
    lines = log.getvalue().splitlines()
    assert lines[0].startswith("8 of 8 runs to train, estimated ~") and "CPU" in lines[0]
    assert [line.split("]")[0] for line in lines[1:]] == [f"[{k}/8" for k in range(1, 9)]
    assert all(" elapsed, ~" in line and line.endswith(" left)") for line in lines[1:])
    more = dataclasses.replace(sweep, seeds=(0, 1))
    log = io.StringIO()
    experiment.run_image_sweep("digits", data, more, tmp_path, device="cpu", log=log)
    lines = log.getvalue().splitlines()
    assert lines[0].startswith("8 of 16 runs to train (8 already stored), estimated ~")
    assert lines[1].startswith("[9/16] ") and lines[-1].startswith("[16/16] ")


def test_a_step_costs_more_with_a_larger_batch_and_image() -> None:
    digits = ImageShape(train=1078, test=719, channels=1, height=8, width=8)
    cifar = ImageShape(train=50000, test=10000, channels=3, height=32, width=32)
    assert digits.forward_macs() == 9 * 16 * (64 + 32 * 16)
    assert cifar.forward_macs() == 9 * 16 * (3 * 1024 + 32 * 256)
    assert step_seconds(4, digits) < step_seconds(1024, digits) < step_seconds(1024, cifar)
    assert run_seconds(16, 100, 1, digits) < run_seconds(16, 200, 1, digits)
    assert run_seconds(16, 100, 1, digits) < run_seconds(16, 100, 50, digits)
