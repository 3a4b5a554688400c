"""Size a group of runs before training it: member-steps, memory and an estimated wall time
(torch-free: ``--dry-run`` and the checks before a sweep use it).

* **member-steps** -- sum over the members of epochs x ceil(n/B) optimiser steps;
* **memory** -- per member, W, the two Adam moments and the gradient scratch (4 x 2 m d values)
  plus the dense training and test patches ((n + test_size) x d values), times the dtype's size;
  the estimate the engine's arrays take, not counting the interpreter and torch themselves;
* **wall time** -- for the fused CPU kernel (``EngineOptions.kernel``, the CPU default), per
  member-step ``STEP_PER_WEIGHT[dtype] x 2 m d + STEP_PER_BATCH_ENTRY[dtype] x B 2 m (s + 1)``
  seconds plus one measurement per recording epoch, ``MEASURE_PER_ENTRY[dtype] x (n + test_size)
  x 2 m d``; the constants are fits to the wall times of the tang2025-table preset
  (``benchmarks/results/tang2025_table.md``, 2-core AMD EPYC, 2026-12) and scale to other machines
  only roughly. No estimate for the torch path (CUDA, ``--compile``):
  ``benchmarks/engine_throughput.py`` measures it.

:func:`default_group_size` caps a task's members when a spec does not: at most
:data:`DEFAULT_GROUP_SIZE` for the device type, and at most what fits in half of this machine's
memory.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Sequence

from dynamics.recording import recorded_epochs
from validation.specs import EngineOptions, RunSpec

ITEMSIZE = {"float32": 4, "float64": 8}
#: Seconds per weight per member-step of the fused kernel on one core, loop overhead included: the
#: solution, with STEP_PER_BATCH_ENTRY, of the B = 2 and B = 100 groups of the tang2025-table
#: preset (benchmarks/results/tang2025_table.md: 10 members at B = 2, 5 at B = 100, 2 cores).
STEP_PER_WEIGHT = {"float32": 0.86e-9, "float64": 2.48e-9}
#: Seconds per (batch sample x filter x support coordinate) per member-step of the fused kernel.
STEP_PER_BATCH_ENTRY = {"float32": 1.39e-9, "float64": 1.83e-9}
#: Seconds per (sample x filter x coordinate) of one measurement (dense forward passes).
MEASURE_PER_ENTRY = {"float32": 0.3e-9, "float64": 0.5e-9}
#: Members per task when a spec sets no group_size: CPU groups gain nothing past a few members per
#: core; a GPU needs many members to fill it.
DEFAULT_GROUP_SIZE = {"cpu": 32, "cuda": 256}


@dataclasses.dataclass(frozen=True)
class GroupSize:
    """The size of one stacked group (see the module docstring); ``seconds`` is None where no
    estimate exists."""

    members: int
    member_steps: int
    memory_bytes: int
    seconds: float | None

    def line(self, label: str) -> str:
        time = "no estimate (torch path)" if self.seconds is None else _duration(self.seconds)
        return (
            f"{label}: {self.members} member{'s' if self.members != 1 else ''}, "
            f"{self.member_steps:,} member-steps, "
            f"{self.memory_bytes / 2**20:,.0f} MiB, ~{time}"
        )


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def member_bytes(spec: RunSpec, options: EngineOptions) -> int:
    """The engine's arrays for one member (see the module docstring)."""
    p = spec.params
    weights = 2 * p.m * p.d
    return ITEMSIZE[options.dtype] * (4 * weights + (p.n + options.test_size) * p.d)


def group_size(specs: Sequence[RunSpec], options: EngineOptions, fused: bool = True) -> GroupSize:
    """Member-steps, memory and (for the fused kernel) estimated seconds of one group."""
    steps = sum(spec.params.epochs * spec.params.iterations_per_epoch for spec in specs)
    memory = sum(member_bytes(spec, options) for spec in specs)
    if not fused:
        return GroupSize(len(specs), steps, memory, None)
    seconds = 0.0
    for spec in specs:
        p = spec.params
        weights = 2 * p.m * p.d
        per_step = STEP_PER_WEIGHT[options.dtype] * weights + STEP_PER_BATCH_ENTRY[
            options.dtype
        ] * p.B * 2 * p.m * (p.s + 1)
        records = len(recorded_epochs(p.epochs, options.record_every, options.log_records))
        measure = MEASURE_PER_ENTRY[options.dtype] * (p.n + options.test_size) * weights
        seconds += per_step * p.epochs * p.iterations_per_epoch + records * measure
    return GroupSize(len(specs), steps, memory, seconds / min(available_cores(), len(specs)))


def available_cores() -> int:
    """The CPU cores this process may run on (its affinity where the OS reports one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def physical_memory() -> int | None:
    """This machine's memory in bytes (None where the OS does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def default_group_size(spec: RunSpec, options: EngineOptions, device_type: str) -> int:
    """Members per task without a spec's group_size (see the module docstring)."""
    cap = DEFAULT_GROUP_SIZE.get(device_type, DEFAULT_GROUP_SIZE["cpu"])
    memory = physical_memory()
    if memory is None:
        return cap
    return max(1, min(cap, math.floor(memory / 2 / member_bytes(spec, options))))
