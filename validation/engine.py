"""Train many CNNs at once: one stacked ensemble per (n, d, m, optimiser, B, epochs, bias correction).

A :class:`RunSpec` is one member: a validated :class:`theorykit.ProblemParams` (the same object the
theory evaluates, so prediction and simulation share one spec) plus data and initialisation seeds.
:func:`train` groups compatible specs, trains each group as one ensemble (one optimiser step advances
every member; members may differ in eta, lam, betas, eps, q, sigma0 and all data parameters except n
and d), and returns one :class:`Trajectory` per spec in input order.

Measurements (App. D.2 metrics), every ``record_every`` epochs and at the end:
feature learning max_r <w_{j,r}, j v> for j = +1 and j = -1; noise memorisation min_i and max_i of
max_r <w_{y_i,r}, xi_i>; train error, data loss (cross-entropy without the lam/2 ||W||^2 term) and
test error on ``test_size`` fresh examples per member.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Literal

import numpy as np
import torch

from theorykit.errors import ParameterError
from theorykit.params import ProblemParams
from validation.data import sample_patch_data
from validation.model import cross_entropy, data_gradient, error_rate, forward, label_index
from validation.optim import Hyper, StackedOptimizer

METRICS = ("feature_pos", "feature_neg", "noise_min", "noise_max", "train_error", "test_error", "loss")


@dataclasses.dataclass(frozen=True)
class RunSpec:
    """One member: its parameters, seeds and data options (see :mod:`validation.data`)."""

    params: ProblemParams
    data_seed: int = 0
    init_seed: int = 0
    supports: Literal["disjoint", "overlapping"] = "overlapping"
    labels: Literal["balanced", "rademacher"] = "balanced"
    name: str = ""

    def group_key(self) -> tuple:
        p = self.params
        return (p.n, p.d, p.m, p.optimizer, p.B, p.epochs, p.bias_correction)


@dataclasses.dataclass(frozen=True)
class EngineOptions:
    """How to train: recording cadence, test-set size, minibatch order, precision and device.

    ``order="reshuffle"`` draws a new permutation every epoch; ``"cyclic"`` keeps one fixed order
    (Lemma C.2's schedule). Every sample is used once per epoch; when B does not divide n the last
    batch of an epoch is smaller.
    """

    record_every: int = 100
    test_size: int = 2000
    test_seed: int = 12345
    order: Literal["reshuffle", "cyclic"] = "reshuffle"
    dtype: torch.dtype = torch.float64
    device: str = "auto"

    def __post_init__(self) -> None:
        if self.record_every < 1:
            raise ParameterError("record_every", self.record_every, "record_every >= 1 (epochs)")
        if self.test_size < 1:
            raise ParameterError("test_size", self.test_size, "test_size >= 1")
        if self.order not in ("reshuffle", "cyclic"):
            raise ParameterError("order", self.order, "'reshuffle' or 'cyclic'")

    def resolved_device(self) -> torch.device:
        if self.device == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        return torch.device(self.device)


@dataclasses.dataclass(frozen=True)
class Trajectory:
    """Recorded metrics of one member: ``epoch`` (K,) and each of :data:`METRICS` (K,) as float64 arrays."""

    spec: RunSpec
    epoch: np.ndarray
    metrics: dict[str, np.ndarray]

    def final(self) -> dict[str, float]:
        return {name: float(values[-1]) for name, values in self.metrics.items()}


def _stack_data(specs: Sequence[RunSpec], size: int | None, seed_of: Callable[[RunSpec], int],
                dtype: torch.dtype, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    sets = []
    for spec in specs:
        p = spec.params
        n = p.n if size is None else size
        sets.append(sample_patch_data(n, p.d, p.s, p.sigma_p, p.alpha, seed=seed_of(spec),
                                      supports=spec.supports if size is None else "overlapping",
                                      labels=spec.labels, dtype=dtype))
    return (torch.stack([s.y for s in sets]).to(device), torch.stack([s.xi for s in sets]).to(device))


def _measure(W: torch.Tensor, y: torch.Tensor, xi: torch.Tensor, q: torch.Tensor,
             y_test: torch.Tensor, xi_test: torch.Tensor) -> dict[str, torch.Tensor]:
    out = forward(W, y, xi, q)
    own_head = label_index(y)[:, None, None, :].expand(-1, 1, W.shape[2], -1)
    memorised = out.rho.gather(1, own_head).squeeze(1).amax(dim=1)  # max_r <w_{y_i,r}, xi_i>, (E, n)
    test_logits = forward(W, y_test, xi_test, q).logits
    return {
        "feature_pos": W[:, 0, :, 0].amax(dim=1),
        "feature_neg": (-W[:, 1, :, 0]).amax(dim=1),
        "noise_min": memorised.amin(dim=1),
        "noise_max": memorised.amax(dim=1),
        "train_error": error_rate(out.logits, y),
        "test_error": error_rate(test_logits, y_test),
        "loss": cross_entropy(out.logits, y),
    }


def train_group(specs: Sequence[RunSpec], options: EngineOptions = EngineOptions(),
                progress: Callable[[int, int], None] | None = None) -> list[Trajectory]:
    """Train one compatible group as a stacked ensemble (all specs share :meth:`RunSpec.group_key`)."""
    keys = {spec.group_key() for spec in specs}
    if len(keys) != 1:
        raise ParameterError("specs", sorted(keys), "one group: equal (n, d, m, optimizer, B, epochs, bias_correction)")
    device, dtype = options.resolved_device(), options.dtype
    first = specs[0].params
    n, d, m, B, E = first.n, first.d, first.m, first.B, len(specs)
    y, xi = _stack_data(specs, None, lambda spec: spec.data_seed, dtype, device)
    y_test, xi_test = _stack_data(specs, options.test_size, lambda spec: options.test_seed + spec.data_seed, dtype, device)

    def column(field: str) -> torch.Tensor:
        return torch.tensor([getattr(spec.params, field) for spec in specs], dtype=dtype, device=device)

    q, sigma0 = column("q"), column("sigma0")
    hyper = Hyper(column("eta"), column("lam"), column("beta1"), column("beta2"), column("eps"))
    W = torch.stack([torch.randn(2, m, d, generator=torch.Generator().manual_seed(spec.init_seed), dtype=torch.float64)
                     for spec in specs]).to(device=device, dtype=dtype) * sigma0.view(-1, 1, 1, 1)
    optimizer = StackedOptimizer(first.optimizer, bias_correction=first.bias_correction)
    state = optimizer.init(W)
    shufflers = [torch.Generator().manual_seed(10_007 * spec.data_seed + 1) for spec in specs]
    order = torch.stack([torch.randperm(n, generator=g) for g in shufflers]).to(device)
    members = torch.arange(E, device=device)[:, None]

    records: list[dict[str, torch.Tensor]] = []
    epochs_recorded: list[int] = []

    def record(epoch: int) -> None:
        records.append({k: v.detach().cpu() for k, v in _measure(W, y, xi, q, y_test, xi_test).items()})
        epochs_recorded.append(epoch)

    record(0)
    for epoch in range(1, first.epochs + 1):
        if options.order == "reshuffle" and epoch > 1:
            order = torch.stack([torch.randperm(n, generator=g) for g in shufflers]).to(device)
        for start in range(0, n, B):
            idx = order[:, start:start + B]
            grad, _ = data_gradient(W, y.gather(1, idx), xi[members, idx], q)
            optimizer.update(W, grad, hyper, state)
        if epoch % options.record_every == 0 or epoch == first.epochs:
            record(epoch)
        if progress is not None:
            progress(epoch, first.epochs)
    epochs = np.asarray(epochs_recorded, dtype=np.float64)
    return [Trajectory(spec, epochs, {name: np.array([r[name][e].item() for r in records]) for name in METRICS})
            for e, spec in enumerate(specs)]


def group_specs(specs: Sequence[RunSpec]) -> list[list[int]]:
    """Indices of ``specs`` grouped by :meth:`RunSpec.group_key`, in first-seen order."""
    groups: dict[tuple, list[int]] = {}
    for index, spec in enumerate(specs):
        groups.setdefault(spec.group_key(), []).append(index)
    return list(groups.values())


def train(specs: Sequence[RunSpec], options: EngineOptions = EngineOptions(),
          on_group_done: Callable[[list[Trajectory]], None] | None = None) -> list[Trajectory]:
    """Train every spec, one stacked ensemble per group; ``on_group_done`` sees each group as it finishes."""
    results: list[Trajectory | None] = [None] * len(specs)
    for indices in group_specs(specs):
        trajectories = train_group([specs[i] for i in indices], options)
        for index, trajectory in zip(indices, trajectories):
            results[index] = trajectory
        if on_group_done is not None:
            on_group_done(trajectories)
    return [trajectory for trajectory in results if trajectory is not None]
