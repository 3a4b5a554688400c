"""Size a group of runs before training it: member-steps, memory and an estimated wall time
(torch-free: ``--dry-run`` and the checks before a sweep use it).

* **member-steps** -- sum over the members of epochs x ceil(n/B) optimiser steps;
* **memory** -- per member, W, the two Adam moments and the gradient scratch (4 x 2 m d values)
  plus the dense training and test patches ((n + test_size) x d values), times the dtype's size;
  the estimate the engine's arrays take, not counting the interpreter and torch themselves;
* **training time** -- for the fused CPU kernel (``EngineOptions.runs_fused``, the CPU default),
  per member-step ``STEP_PER_WEIGHT[dtype] x 2 m d + STEP_PER_BATCH_ENTRY[dtype] x B 2 m (s + 1)``
  core-seconds, members on the cores; for the torch step on the CPU ``TORCH_STEP_PER_WEIGHT x
  2 m d``; plus one measurement per recording epoch, ``MEASURE_PER_ENTRY[dtype] x (n + test_size)
  x 2 m d``; the sum times ``TRAINING_OVERHEAD``; plus ``PER_RUN_SECONDS`` per run (drawing,
  building and storing it: what a grid of many tiny runs spends its time on). No estimate on
  CUDA: ``benchmarks/engine_throughput.py`` measures it;
* **prediction time** -- the reduced dynamics' kernel (:mod:`dynamics.kernel`) in the reduction a
  prediction uses (:func:`dynamics.problem.best_reduction`), per member-step
  ``PREDICTION_PER_ENTRY x state + PREDICTION_PER_BATCH_ENTRY x batch`` (:func:`prediction_work`)
  core-seconds, groups concurrently, one per core
  (``validation.experiments.prediction.predicted_groups``), plus the same measurement per record,
  times ``PREDICTION_OVERHEAD``; the overlap-aware constants are fitted to Adam at the paper's
  setting, whose refresh of the competition sets the cost (sign and gradient-descent steps refresh
  nothing and cost less);
* **the command** -- ``theorykit validate`` adds ``VALIDATE_COMMAND_SECONDS`` for its start and
  its report.

The constants are fits to this project's measurements on a 2-core Intel Xeon (AVX-512, 2026-12):
the fused kernel's and the reduced kernel's to ``benchmarks/results/prediction_cost.md`` (twice
their per member-step times: 2 threads over 10 members), the torch step's and the overheads to the
validate presets' measured times on the same machine; they scale to other machines only roughly
(the fused kernel ran about 1.3x faster on the 2-core AMD EPYC of
``benchmarks/results/tang2025_table.md``).

:func:`default_group_size` caps a task's members when a spec does not: at most
:data:`DEFAULT_GROUP_SIZE` for the device type, and at most what fits in half of this machine's
memory.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Sequence

from dynamics.problem import Reduction, best_reduction, competition_refresh
from dynamics.recording import recorded_epochs
from theorykit.params import ProblemParams
from validation.runs.spec import EngineOptions, RunSpec, prediction_groups

ITEMSIZE = {"float32": 4, "float64": 8}
#: Seconds per weight per member-step of the fused kernel on one core: with STEP_PER_BATCH_ENTRY,
#: the line through its B = 2 and B = 100 times in benchmarks/results/prediction_cost.md (CNN
#: column, d = 1000: twice the per member-step time, 2 threads over 10 members).
STEP_PER_WEIGHT = {"float32": 6.23e-10, "float64": 2.09e-9}
#: Seconds per (batch sample x filter x support coordinate) per member-step of the fused kernel.
STEP_PER_BATCH_ENTRY = {"float32": 4.32e-10, "float64": 6.03e-10}
#: Wall seconds per (sample x filter x coordinate) of one measurement (dense forward passes on
#: torch's threads; ``Ensemble.measure`` timed at the paper's setting, 1-10 members, 2000 and 10 000
#: test points: 2.2-2.6e-11 in float32, 4.2-4.7e-11 in float64).
MEASURE_PER_ENTRY = {"float32": 2.5e-11, "float64": 4.5e-11}
#: Whole training (or prediction) wall time over what its kernel times and measurements predict:
#: epoch orders, calls, data and ensemble construction, and two threads sharing caches and memory.
#: Measured on validate's quick preset (float64: 1.14 training, 1.16 predictions: 14.6-15.2 s and
#: 8.4-8.5 s against 13.1 s and 7.3 s) and the tang2025-table protocol (float32: 1.11-1.15
#: training, 1.05 predictions: 330-342 s and 312 s against 297 s and 298 s); the middle values are
#: used, so every estimate lands within 1.1x of those measurements (in-sample: fitted on them).
#: With the kernel constants refitted to the current benchmark table and the command's own
#: seconds, whole ``validate`` commands against their wall times on the same machine: quick ~33 s
#: against 36.3-36.8 s (``--no-predict`` ~26 s against 27.3 s), tang2025-table float32 ~10.9 min
#: against 10.45 min (``--no-predict`` ~6.5 min against 6.65 min).
TRAINING_OVERHEAD = 1.13
PREDICTION_OVERHEAD = 1.1
#: Wall seconds of ``theorykit validate`` besides training and predicting: its start (imports,
#: compiled kernels loaded from numba's cache) and its report (verdicts, tables, figures in every
#: format). Measured with the runs and predictions already stored, so the command does only these:
#: 8.8-9.6 s for the quick preset, 10.1 s for tang2025-table (2 cores); it hardly grows with the
#: runs.
VALIDATE_COMMAND_SECONDS = 9.5
#: Seconds per weight per member-step of the torch step on the CPU (a sequence of torch operations
#: per step on torch's threads, overhead-bound): fitted to validate's quick preset with
#: ``--kernel torch`` (1-2 members per group; in-sample), whose training took 65 s in one session
#: and 108 s (twice) in another on the same 2-core machine: the geometric middle, 84 s, so either
#: is within 1.3x. Larger groups amortise the per-step overhead differently
#: (``benchmarks/results/engine_throughput_cpu_float64.md``).
TORCH_STEP_PER_WEIGHT = 1.0e-8
#: Wall seconds per run besides its steps and measurements: drawing its data, building it into
#: its group, writing its row, its share of the report. Grids of tiny runs (2 cores): 10 000 runs
#: of 8 steps took 22.8 s (2.0 ms each, report included), 120 000 runs 3.7 min (1.85 ms each).
PER_RUN_SECONDS = 1.9e-3
#: Seconds per state entry per member-step of the reduced kernel on one core, per reduction: the
#: state of :func:`prediction_work` (overlap-aware: the refresh of Adam's competition over the n s
#: support entries, spread over its period, carries the step's own pass). With
#: PREDICTION_PER_BATCH_ENTRY, the line through the reduction's B = 2 and B = 100 rows of
#: benchmarks/results/prediction_cost.md (twice the per member-step time, as for the CNN).
#: ``tests/validation/test_sizing.py`` checks every row against these constants.
PREDICTION_PER_ENTRY: dict[str, dict[Reduction, float]] = {
    "float64": {"overlap-aware": 1.27e-9, "support-resolved": 1.59e-9},
    "float32": {"overlap-aware": 6.65e-10, "support-resolved": 5.6e-10},
}
#: Seconds per batch entry per member-step of the reduced kernel on one core (the batch's coupling
#: products and competition factors, its rho and gradients).
PREDICTION_PER_BATCH_ENTRY: dict[str, dict[Reduction, float]] = {
    "float64": {"overlap-aware": 1.85e-10, "support-resolved": 8.4e-10},
    "float32": {"overlap-aware": 1.73e-10, "support-resolved": 4.26e-10},
}
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
        time = "no estimate (torch path)" if self.seconds is None else duration_text(self.seconds)
        return (
            f"{label}: {self.members} member{'s' if self.members != 1 else ''}, "
            f"{self.member_steps:,} member-steps, "
            f"{self.memory_bytes / 2**20:,.0f} MiB, ~{time}"
        )


def duration_text(seconds: float) -> str:
    """A duration as '45 s', '3.2 min' or '1.5 h'."""
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


def group_size(
    specs: Sequence[RunSpec], options: EngineOptions, device_type: str = "cpu"
) -> GroupSize:
    """Member-steps, memory and (on the CPU) estimated seconds of training one group on
    ``device_type``, in the kernel :meth:`validation.runs.spec.EngineOptions.runs_fused` picks."""
    steps = sum(spec.params.iterations for spec in specs)
    memory = sum(member_bytes(spec, options) for spec in specs)
    if device_type != "cpu":
        return GroupSize(len(specs), steps, memory, None)
    fused = options.runs_fused(device_type)
    steps_seconds, measuring = 0.0, 0.0
    for spec in specs:
        p = spec.params
        if fused:
            per_step = fused_step_seconds(p, options.dtype)
        else:
            per_step = TORCH_STEP_PER_WEIGHT * 2 * p.m * p.d
        steps_seconds += per_step * p.iterations
        measuring += _measurements(spec, options)
    # The fused kernel runs members on numba's threads; the torch step all members in one sequence
    # of operations on torch's threads.
    parallel = steps_seconds / (min(available_cores(), len(specs)) if fused else 1)
    seconds = TRAINING_OVERHEAD * (parallel + measuring) + PER_RUN_SECONDS * len(specs)
    return GroupSize(len(specs), steps, memory, seconds)


def fused_step_seconds(params: ProblemParams, dtype: str) -> float:
    """Seconds of one member-step of the fused kernel on one core: ``STEP_PER_WEIGHT`` per weight
    (2 m d) and ``STEP_PER_BATCH_ENTRY`` per (batch sample x filter x support coordinate, the
    feature's included)."""
    weights = 2 * params.m * params.d
    batch = params.B * 2 * params.m * (params.s + 1)
    return STEP_PER_WEIGHT[dtype] * weights + STEP_PER_BATCH_ENTRY[dtype] * batch


def _measurements(spec: RunSpec, options: EngineOptions) -> float:
    """Wall seconds of a run's measurements: one per recorded epoch on its train and test sets."""
    p = spec.params
    records = len(recorded_epochs(p.epochs, options.record_every, options.log_records))
    return records * MEASURE_PER_ENTRY[options.dtype] * (p.n + options.test_size) * 2 * p.m * p.d


def prediction_work(spec: RunSpec) -> tuple[Reduction, int, int]:
    """(reduction, state entries, batch entries) of one member-step of a run's prediction, in the
    reduction :func:`dynamics.problem.best_reduction` picks for its supports: state 2 m n s per
    refresh period (overlap-aware: the support entries a refresh of Adam's competition passes
    over, once per :func:`dynamics.problem.competition_refresh` steps) or per step (the weights,
    support-resolved); batch B 2 m n (the coupling rows, overlap-aware) or B 2 m s
    (support-resolved)."""
    p = spec.params
    reduction = best_reduction(spec.supports)
    filters = 2 * p.m
    batch = p.n if reduction == "overlap-aware" else p.s
    state = filters * p.n * p.s
    if reduction == "overlap-aware":
        state //= competition_refresh(p.B, p.n)
    return reduction, state, p.B * filters * batch


def prediction_step_seconds(spec: RunSpec, dtype: str) -> float:
    """Seconds of one member-step of a run's prediction on one core: ``PREDICTION_PER_ENTRY`` per
    state entry and ``PREDICTION_PER_BATCH_ENTRY`` per batch entry of :func:`prediction_work`."""
    reduction, state, batch = prediction_work(spec)
    return (
        PREDICTION_PER_ENTRY[dtype][reduction] * state
        + PREDICTION_PER_BATCH_ENTRY[dtype][reduction] * batch
    )


def prediction_seconds(specs: Sequence[RunSpec], options: EngineOptions) -> float:
    """Estimated wall seconds of predicting every run of ``specs``: the groups of
    :func:`validation.runs.spec.prediction_groups` run concurrently, one per core, each group's
    members one after another on its core (a lone group spreads its members over the cores)."""
    groups = prediction_groups(specs)
    if not groups:
        return 0.0
    per_group, measuring = [], 0.0
    for indices in groups:
        seconds = 0.0
        for index in indices:
            spec = specs[index]
            seconds += prediction_step_seconds(spec, options.dtype) * spec.params.iterations
            measuring += _measurements(spec, options)
        per_group.append(seconds)
    cores = available_cores()
    if len(groups) == 1:
        stepping = per_group[0] / min(cores, len(groups[0]))
    else:
        stepping = max(sum(per_group) / min(cores, len(groups)), max(per_group))
    return PREDICTION_OVERHEAD * (stepping + measuring)


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
