"""What a CNN run is, without torch: :class:`RunSpec` (one member) and :class:`EngineOptions` (how
runs are trained and recorded), plus the check of the data options.

A :class:`RunSpec` is a validated :class:`theorykit.ProblemParams` -- the same object the theory
evaluates, so prediction and simulation share one spec -- with data and initialisation seeds and the
data options of Definition 3.1: ``supports="disjoint"`` draws the n supports as disjoint s-subsets
(the theory's regime, Lemma A.4; needs n s <= d - 1), ``"overlapping"`` draws each independently
(the paper's experiment, App. D.2); ``labels="balanced"`` gives exactly n/2 of each label in random
order (App. D.2: 100/100), ``"rademacher"`` draws each i.i.d. (Def. 3.1).

The CNN engine that trains them is :mod:`validation.cnn.engine`; this module is what the sweep spec,
the results store and the reports need, and it imports no torch.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Literal

from dynamics.kernel_layout import DTYPES
from theorykit.errors import ParameterError
from theorykit.params import ProblemParams

Supports = Literal["disjoint", "overlapping"]
Labels = Literal["balanced", "rademacher"]
Order = Literal["reshuffle", "cyclic"]
#: How the training steps run: "fused" (one numba kernel per stretch of epochs, CPU), "torch" (one
#: torch call per step, optionally compiled; CPU or CUDA), "auto" (fused on CPU, torch on CUDA).
Kernel = Literal["auto", "fused", "torch"]


#: The most seeds a command's ``--seeds N`` takes (each repeats every run of the job).
MAX_SEEDS = 1000
#: The rule of ``--seeds N``.
SEED_COUNT_RULE = f"an integer 1 <= N <= {MAX_SEEDS} (seeds 0..N-1)"


def seed_range(count: int | str) -> tuple[int, ...]:
    """Seeds 0..N-1 of ``--seeds N`` (``theorykit images``, ``theorykit compare``): N an integer,
    or its decimal digits, in [1, :data:`MAX_SEEDS`]; a :class:`ParameterError` otherwise."""
    text = str(count).strip()
    if isinstance(count, bool) or not text.isdigit() or not 1 <= int(text) <= MAX_SEEDS:
        raise ParameterError("seeds", count, SEED_COUNT_RULE)
    return tuple(range(int(text)))


def check_data_options(n: int, d: int, s: int, supports: str, labels: str) -> None:
    """Raise :class:`ParameterError` unless (n, d, s) admit the requested supports and labels (Def.
    3.1)."""
    if supports not in ("disjoint", "overlapping"):
        raise ParameterError("supports", supports, "'disjoint' or 'overlapping'")
    if labels not in ("balanced", "rademacher"):
        raise ParameterError("labels", labels, "'balanced' or 'rademacher'")
    if not 1 <= s <= d - 1:
        raise ParameterError("s", s, f"1 <= s <= d - 1 = {d - 1}")
    if supports == "disjoint" and n * s > d - 1:
        raise ParameterError("s", s, f"n s <= d - 1 for disjoint supports (n = {n}, d = {d})")
    if labels == "balanced" and n % 2:
        raise ParameterError("n", n, "even, for balanced labels")


@dataclasses.dataclass(frozen=True)
class RunSpec:
    """One member: its parameters, seeds and data options (see the module docstring)."""

    params: ProblemParams
    data_seed: int = 0
    init_seed: int = 0
    supports: Supports = "overlapping"
    labels: Labels = "balanced"
    name: str = ""

    def group_key(self) -> tuple:
        """Runs with equal keys train as one stacked ensemble (shapes and schedule must agree)."""
        p = self.params
        return (p.n, p.d, p.m, p.optimizer, p.B, p.epochs, p.bias_correction)


@dataclasses.dataclass(frozen=True)
class EngineOptions:
    """How to train: recording cadence, test-set size, minibatch order, precision and device.

    Records fall on :func:`dynamics.recording.recorded_epochs` (``record_every``, plus
    ``log_records`` log-spaced epochs: dense where the dynamics change, sparse on plateaus).
    ``order="reshuffle"`` draws a new permutation every epoch; ``"cyclic"`` keeps one fixed order
    (Lemma C.2's schedule). Every sample is used once per epoch; when B does not divide n the last
    batch of an epoch is smaller. ``dtype`` is "float64" (default) or "float32". ``device`` is a
    torch device name ("auto": CUDA when present), resolved when a CNN is built. ``compile=True``
    runs the gradient and optimiser update as one ``torch.compile``d function (fused loops on CPU,
    fused kernels on CUDA): a one-off compile per group shape, then several times fewer passes over
    memory per step (``benchmarks/engine_throughput.py``); same arithmetic up to operation order.
    """

    record_every: int = 100
    log_records: int = 0
    test_size: int = 2000
    test_seed: int = 12345
    order: Order = "reshuffle"
    dtype: str = "float64"
    device: str = "auto"
    compile: bool = False
    kernel: Kernel = "auto"

    def runs_fused(self, device_type: str) -> bool:
        """Whether a group trains in the fused CPU kernel on a device of ``device_type`` ("cpu",
        "cuda"): ``kernel="fused"``, or ``"auto"`` on the CPU without ``compile`` (which asks for
        the torch step). The one rule the engine, the sizing of dry runs and the sweep share."""
        if self.kernel == "auto":
            return device_type == "cpu" and not self.compile
        return self.kernel == "fused"

    def device_type(self) -> str:
        """The device type a dry run assumes without torch: "cuda" for a CUDA device name, else
        "cpu" ("auto" counts as the CPU; the engine picks CUDA where one is present)."""
        return "cuda" if self.device.startswith("cuda") else "cpu"

    def __post_init__(self) -> None:
        if self.record_every < 1:
            raise ParameterError("record_every", self.record_every, "record_every >= 1 (epochs)")
        if (
            isinstance(self.log_records, bool)
            or not isinstance(self.log_records, int)
            or (self.log_records < 0)
        ):
            raise ParameterError(
                "log_records", self.log_records, "an integer >= 0 (log-spaced records)"
            )
        if self.test_size < 1:
            raise ParameterError("test_size", self.test_size, "test_size >= 1")
        if self.order not in ("reshuffle", "cyclic"):
            raise ParameterError("order", self.order, "'reshuffle' or 'cyclic'")
        if self.dtype not in DTYPES:
            raise ParameterError("dtype", self.dtype, "'float64' or 'float32'")
        if self.kernel not in ("auto", "fused", "torch"):
            raise ParameterError("kernel", self.kernel, "'auto', 'fused' or 'torch'")


def group_specs(specs: Sequence[RunSpec]) -> list[list[int]]:
    """Indices of ``specs`` grouped by :meth:`RunSpec.group_key`, in first-seen order."""
    groups: dict[tuple, list[int]] = {}
    for index, spec in enumerate(specs):
        groups.setdefault(spec.group_key(), []).append(index)
    return list(groups.values())


def prediction_groups(specs: Sequence[RunSpec]) -> list[list[int]]:
    """Indices of ``specs`` whose predictions step together: one training group
    (:meth:`RunSpec.group_key`) with one (s, supports), which one reduced problem needs."""
    groups: dict[tuple, list[int]] = {}
    for index, spec in enumerate(specs):
        groups.setdefault((spec.group_key(), spec.params.s, spec.supports), []).append(index)
    return list(groups.values())
