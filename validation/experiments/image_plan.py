"""What ``theorykit images`` trains and how long it should take: its ``--dry-run``, the estimate it
prints before it starts and the ETA of its progress lines (torch-free).

The stages are the two sweeps of :class:`validation.experiments.image_runs.ImageSweep`: the batch
sizes (Tang et al. Fig. 1) and the weight decays (Fig. 2). Runs already in the store are not
counted (they resume). Times are :mod:`validation.runs.image_sizing`'s, for this machine's CPU. A
run of the batch sweep is sized at its step budget: it stops at the first epoch whose train error
reaches the target, so its steps and time are upper bounds.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from validation.experiments.image_data import ImageSplit
from validation.experiments.image_runs import ImageRun, ImageSweep
from validation.runs.image_sizing import COMMAND_SECONDS, ImageShape, run_seconds
from validation.runs.sizing import duration_text
from validation.store.results import ResultsStore


def image_shape(data: ImageSplit) -> ImageShape:
    """The image counts and one image's channels, height and width of ``data``."""
    _, channels, height, width = data.train_images.shape
    return ImageShape(len(data.train_labels), len(data.test_labels), channels, height, width)


def estimated_seconds(run: ImageRun, shape: ImageShape) -> float:
    """Estimated seconds of ``run`` on data of ``shape`` at its planned (at most) epochs."""
    return run_seconds(
        run.B, run.planned_epochs(shape.train), run.train_evaluations(shape.train), shape
    )


@dataclasses.dataclass(frozen=True)
class ImageStage:
    """One sweep: its name, how many runs it has and those the store lacks."""

    name: str
    runs: int
    pending: tuple[ImageRun, ...]

    def lines(self, shape: ImageShape) -> list[str]:
        """The stage's line (pending runs, steps, estimated time), then one line per pending run."""
        steps = sum(run.planned_steps(shape.train) for run in self.pending)
        seconds = sum(estimated_seconds(run, shape) for run in self.pending)
        stored = self.runs - len(self.pending)
        bound = " at most" if any(run.max_steps is not None for run in self.pending) else ""
        lines = [
            f"  {self.name}: {len(self.pending)} runs"
            + (f", {stored} already stored" if stored else "")
            + f", {steps:,} optimiser steps{bound}, ~{duration_text(seconds)}"
        ]
        for run in self.pending:
            bound = "at most " if run.max_steps is not None else ""
            lines.append(
                f"    {run.key()}: {bound}{run.planned_steps(shape.train):,} steps, "
                f"~{duration_text(estimated_seconds(run, shape))}"
            )
        return lines


def image_stages(sweep: ImageSweep, stored: set[str]) -> list[ImageStage]:
    """The two sweeps of ``sweep``, each with the runs whose keys are not in ``stored``."""
    named = (
        ("batch sizes (Fig. 1)", sweep.batch_sweep_runs()),
        ("weight decays (Fig. 2)", sweep.lam_sweep_runs()),
    )
    return [
        ImageStage(name, len(runs), tuple(run for run in runs if run.key() not in stored))
        for name, runs in named
    ]


def stored_image_keys(store: Path, dataset: str) -> set[str]:
    """Keys of the image runs of ``dataset`` in the store at ``store`` (none when it does not exist
    yet)."""
    if not store.exists():
        return set()
    with ResultsStore(store, read_only=True) as opened:
        return set(opened.image_records(dataset))


def describe_images(
    dataset: str, data: ImageSplit, sweep: ImageSweep, store: Path, device: str = "auto"
) -> str:
    """The ``theorykit images --dry-run`` text: the data, one line per stage and per pending run,
    and the total."""
    sweep.check_batch_sizes(len(data.train_labels))
    shape = image_shape(data)
    stages = image_stages(sweep, stored_image_keys(store, dataset))
    seeds = len(sweep.seeds)
    lines = [
        f"theorykit images --dataset {dataset} ({shape.train} training and {shape.test} test "
        f"images of {shape.channels} x {shape.height} x {shape.width}, {seeds} "
        f"seed{'s' if seeds != 1 else ''}):"
    ]
    for stage in stages:
        lines += stage.lines(shape)
    total = sum(estimated_seconds(run, shape) for stage in stages for run in stage.pending)
    lines.append(
        f"estimated total: ~{duration_text(total + COMMAND_SECONDS)} with the start and the "
        f"report, {_where(device)}"
    )
    return "\n".join(lines)


def _where(device: str) -> str:
    """Where the estimate holds: this machine's CPU, also when ``device`` is CUDA (not sized)."""
    if device.startswith("cuda"):
        return (
            "for this machine's CPU; training on CUDA is not sized (validation.runs.image_sizing)"
        )
    return "on this machine's CPU (validation.runs.image_sizing)"


class ImageProgress:
    """The progress lines of one call of the experiment: a first line with the runs to train and
    the estimated total, then one per finished run with the runs stored out of the whole job's,
    the time elapsed and an estimate of the time left -- the elapsed time scaled by the sizing
    model's estimates of the runs left over those done (as the sweep runner's ETA)."""

    def __init__(
        self, runs: Sequence[ImageRun], stored: int, shape: ImageShape, log: TextIO
    ) -> None:
        self.total, self.done, self.shape, self.log = len(runs) + stored, stored, shape, log
        self.left = sum(estimated_seconds(run, shape) for run in runs)
        self.finished_work = 0.0
        self.started = time.perf_counter()

    def start(self, device_type: str) -> None:
        """Print the first line: runs to train, runs already stored, estimated total."""
        pending = self.total - self.done
        stored = f" ({self.done} already stored)" if self.done else ""
        print(
            f"{pending} of {self.total} runs to train{stored}, estimated "
            f"~{duration_text(self.left)} {_where(device_type)}",
            file=self.log,
            flush=True,
        )

    def finished(self, run: ImageRun, test_error: float, seconds: float) -> None:
        """Print the line of a finished run."""
        self.done += 1
        work = estimated_seconds(run, self.shape)
        self.finished_work += work
        self.left -= work
        elapsed = time.perf_counter() - self.started
        left = elapsed * max(self.left, 0.0) / self.finished_work
        print(
            f"[{self.done}/{self.total}] {run.key()}: test error {test_error:.3f} "
            f"({seconds:.0f}s; {duration_text(elapsed)} elapsed, ~{duration_text(left)} left)",
            file=self.log,
            flush=True,
        )
