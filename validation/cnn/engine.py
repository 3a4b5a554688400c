"""Train many CNNs at once: one stacked ensemble per (n, d, m, optimiser, B, epochs, bias
correction).

:func:`train` groups compatible :class:`~validation.runs.spec.RunSpec` s, trains each group as one
ensemble (one optimiser step advances every member; members may differ in eta, lam, betas, eps, q,
sigma0 and all data parameters except n and d), and returns one
:class:`~dynamics.trajectory.Trajectory` per spec in input order.

Measurements (App. D.2 metrics, :data:`dynamics.trajectory.METRICS`), at the epochs of
:func:`dynamics.recording.recorded_epochs` (every ``record_every``-th, ``log_records`` log-spaced
ones, the first and the last): feature learning max_r <w_{j,r}, j v> for j = +1 and j = -1;
noise memorisation min_i and max_i of max_r <w_{y_i,r}, xi_i>; train error, data loss
(cross-entropy without the lam/2 ||W||^2 term) and test error on ``test_size`` fresh examples per
member. The ensemble a group trains as: :mod:`validation.cnn.ensemble`; its device, dtype and
compiled step: :mod:`validation.cnn.device`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

from dynamics.recording import recorded_epochs
from dynamics.trajectory import METRICS, Trajectory
from validation.cnn.ensemble import build_ensemble
from validation.runs.spec import EngineOptions, RunSpec, group_specs

#: Most steps handed to the fused kernel at once (between recordings the loop collects whole
#: epochs; this bounds the index buffer).
MAX_FUSED_STEPS = 20_000


def train_group(
    specs: Sequence[RunSpec],
    options: EngineOptions = EngineOptions(),
    progress: Callable[[int, int], None] | None = None,
) -> list[Trajectory]:
    """Train one compatible group as a stacked ensemble (specs share :meth:`RunSpec.group_key`)."""
    ensemble = build_ensemble(specs, options)
    epochs = specs[0].params.epochs
    records: list[dict[str, torch.Tensor]] = []
    epochs_recorded: list[int] = []

    failures: list[str | None] = [None] * len(specs)

    def record(epoch: int) -> None:
        records.append({k: v.detach().cpu() for k, v in ensemble.measure().items()})
        epochs_recorded.append(epoch)
        finite = torch.isfinite(ensemble.W).flatten(1).all(dim=1).cpu()
        for member in torch.nonzero(~finite).flatten().tolist():
            if failures[member] is None:
                failures[member] = f"non-finite weights (NaN or inf) at epoch {epoch}"

    record(0)
    pending: list[torch.Tensor] = []
    schedule = recorded_epochs(epochs, options.record_every, options.log_records)
    for epoch in range(1, epochs + 1):
        pending += ensemble.epoch_batches(epoch)
        recording = epoch in schedule
        if recording or progress is not None or len(pending) >= MAX_FUSED_STEPS:
            ensemble.advance(pending)
            pending = []
        if recording:
            record(epoch)
        if progress is not None:
            progress(epoch, epochs)
    recorded = np.asarray(epochs_recorded, dtype=np.float64)
    return [
        Trajectory(
            recorded,
            {name: np.array([r[name][e].item() for r in records]) for name in METRICS},
            failures[e],
        )
        for e in range(len(specs))
    ]


def train(
    specs: Sequence[RunSpec],
    options: EngineOptions = EngineOptions(),
    on_group_done: Callable[[list[Trajectory]], None] | None = None,
    on_group: Callable[[Sequence[int]], Callable[[int, int], None] | None] | None = None,
) -> list[Trajectory]:
    """Train every spec, one stacked ensemble per group; ``on_group`` receives each group's
    indices before it trains and may return a per-epoch progress callback for it;
    ``on_group_done`` sees each group as it finishes."""
    results: list[Trajectory | None] = [None] * len(specs)
    for indices in group_specs(specs):
        progress = on_group(indices) if on_group is not None else None
        trajectories = train_group([specs[i] for i in indices], options, progress)
        for index, trajectory in zip(indices, trajectories, strict=True):
            results[index] = trajectory
        if on_group_done is not None:
            on_group_done(trajectories)
    return [trajectory for trajectory in results if trajectory is not None]
