"""The progress of a whole ``theorykit compare`` job, across its stages (:class:`Stage`: one
stage's pending runs and estimated time, as :mod:`validation.experiments.comparison_plan` sizes
them).

The stages' runner reports each sub-sweep on its own
(:func:`validation.sweeps.runner.train_or_resume`: "x/y runs" of that sub-sweep).
:class:`JobProgress` counts the job instead: built from the stages of
:func:`validation.experiments.comparison_plan.comparison_stages` (the runs and predictions the store
lacked when the job began, each stage with its estimated seconds), it is told the keys each stage
has finished and prints one line: CNN runs and predictions done of the job's, the time elapsed and
an estimate of the time left (the plan's estimate of the work left, scaled by the ratio of the time
spent to the plan's estimate of the work done).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable, Sequence
from typing import TextIO

from validation.progress import STDERR
from validation.runs.sizing import duration_text


@dataclasses.dataclass(frozen=True)
class Stage:
    """One stage's pending runs (their keys) and estimated seconds (training, or prediction when
    ``predicts``)."""

    name: str
    runs: int
    pending: int
    member_steps: int
    seconds: float
    predicts: bool = False
    keys: frozenset[str] = frozenset()

    def line(self) -> str:
        what = "predictions" if self.predicts else "CNN runs"
        stored = f", {self.runs - self.pending} already stored" if self.pending < self.runs else ""
        return (
            f"  {self.name}: {self.pending} {what}{stored}, {self.member_steps:,} member-steps, "
            f"~{duration_text(self.seconds)}"
        )


class JobProgress:
    """Runs and predictions done across the ``stages`` of one job; a line on ``log`` whenever a
    stage finishes some of its pending work."""

    def __init__(
        self,
        stages: Sequence[Stage],
        log: TextIO = STDERR,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.stages = list(stages)
        self.left = [set(stage.keys) for stage in self.stages]
        self.log, self.clock = log, clock
        self.started = clock()

    def trained(self, keys: Iterable[str]) -> None:
        """Count the CNN runs ``keys`` as done (those still pending in a training stage)."""
        self._finish(set(keys), predicts=False)

    def predicted(self, keys: Iterable[str]) -> None:
        """Count the predictions of the runs ``keys`` as done."""
        self._finish(set(keys), predicts=True)

    def _finish(self, keys: set[str], predicts: bool) -> None:
        changed = False
        for stage, left in zip(self.stages, self.left, strict=True):
            if stage.predicts == predicts and left & keys:
                left -= keys
                changed = True
        if changed:
            print(self.line(), file=self.log)

    def _count(self, predicts: bool) -> tuple[int, int]:
        """(done, pending at the start) over the stages that train, or that predict."""
        chosen = [
            (stage.pending, len(left))
            for stage, left in zip(self.stages, self.left, strict=True)
            if stage.predicts == predicts
        ]
        total = sum(pending for pending, _ in chosen)
        return total - sum(left for _, left in chosen), total

    def seconds_left(self) -> float:
        """The estimated seconds left: the plan's estimate of the work left, scaled by the time
        spent over the plan's estimate of the work done (the plan's alone before any is done)."""
        estimated = sum(stage.seconds for stage in self.stages)
        done = sum(
            stage.seconds * (stage.pending - len(left)) / stage.pending
            for stage, left in zip(self.stages, self.left, strict=True)
            if stage.pending
        )
        if done <= 0:
            return estimated
        return (estimated - done) * (self.clock() - self.started) / done

    def line(self) -> str:
        """``compare: 22/40 CNN runs, 0/4 predictions; 3.1 min elapsed, ~5 min left``."""
        runs, run_total = self._count(predicts=False)
        predictions, prediction_total = self._count(predicts=True)
        elapsed = (self.clock() - self.started) / 60
        return (
            f"compare: {runs}/{run_total} CNN runs, {predictions}/{prediction_total} predictions; "
            f"{elapsed:.1f} min elapsed, ~{duration_text(self.seconds_left())} left (whole job)"
        )
