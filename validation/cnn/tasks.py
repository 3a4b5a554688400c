"""The unit of work a sweep sends to an executor: train one stacked group, return plain data.

:func:`train_task` is a top-level function of picklable arguments and result, so it runs in this
process, in a process pool or on a Dask worker alike (``validation.sweeps.runner`` submits it).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import torch

from dynamics.trajectory import Trajectory
from validation.cnn.engine import train_group
from validation.provenance import code_version
from validation.specs import EngineOptions, RunSpec


@dataclasses.dataclass(frozen=True)
class TaskResult:
    """What a worker sends back: one trajectory per member (input order) and the code that trained
    them."""

    trajectories: list[Trajectory]
    code_version: str


def train_task(
    specs: Sequence[RunSpec],
    options: EngineOptions,
    progress: Callable[[int, int], None] | None = None,
) -> TaskResult:
    """Train one group (:func:`validation.cnn.engine.train_group`) and return its trajectories."""
    return TaskResult(train_group(list(specs), options, progress), code_version())


def share_cores(threads: int) -> None:
    """A pool worker's initializer: torch computes with ``threads`` threads, so that N workers share
    the machine's cores instead of each taking all of them."""
    torch.set_num_threads(threads)
