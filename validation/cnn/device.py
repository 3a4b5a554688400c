"""Where and how a group's steps run in torch: the device of ``EngineOptions.device``, the
dtype of ``EngineOptions.dtype``, and the ``torch.compile`` of one training step
(``EngineOptions.compile``) with the mode each device needs. The fused CPU kernel is
:mod:`validation.cnn.fused`; which of the two runs is
:meth:`validation.runs.spec.EngineOptions.runs_fused`.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from theorykit.errors import ParameterError
from validation.cnn.model import data_gradient
from validation.cnn.optim import AdamState, Hyper, StackedOptimizer

#: torch dtype of each ``EngineOptions.dtype`` name.
TORCH_DTYPES = {"float64": torch.float64, "float32": torch.float32}


def resolve_device(name: str) -> torch.device:
    """The torch device of ``EngineOptions.device``: CUDA when present for "auto"; a clear
    :class:`ParameterError` for an unknown or absent one."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    rule = "'auto', 'cpu', 'cuda' or 'cuda:N' (the engine runs on CPUs and CUDA GPUs only)"
    try:
        device = torch.device(name)
    except (RuntimeError, TypeError):
        raise ParameterError("device", name, rule) from None
    if device.type not in ("cpu", "cuda") or (device.type == "cpu" and device.index):
        raise ParameterError("device", name, rule)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ParameterError(
            "device", name, "CUDA is not available on this machine; use 'auto' or 'cpu'"
        )
    if device.type == "cuda" and (device.index or 0) >= torch.cuda.device_count():
        raise ParameterError(
            "device", name, f"a CUDA device index below {torch.cuda.device_count()}"
        )
    return device


def train_step(
    optimizer: StackedOptimizer,
    W: torch.Tensor,
    state: AdamState | None,
    y: torch.Tensor,
    xi: torch.Tensor,
    q: torch.Tensor,
    hyper: Hyper,
) -> None:
    """Data gradient (Lemma A.5) on the minibatch (y, xi) and one optimiser step, in place on W and
    state."""
    optimizer.update(W, data_gradient(W, y, xi, q), hyper, state)


#: Compiled graphs kept per process: one per (kind, E, B, dtype, device) a process trains; torch's
#: default (8) would silently fall back to eager after a few groups.
COMPILED_SHAPES_LIMIT = 64


def compile_mode(device: torch.device) -> str:
    """The ``torch.compile`` mode of a training step on ``device``: ``"reduce-overhead"`` on CUDA,
    which replays the step as a captured CUDA graph (a B = 2 step is launch-bound: a few small
    kernels per step), ``"default"`` on CPUs, where graphs do not exist and the fused kernel is the
    faster path anyway."""
    return "reduce-overhead" if device.type == "cuda" else "default"


def compiled_train_step(device: torch.device) -> Callable[..., None]:
    import torch._dynamo

    torch._dynamo.config.recompile_limit = max(
        torch._dynamo.config.recompile_limit, COMPILED_SHAPES_LIMIT
    )
    return torch.compile(train_step, dynamic=False, mode=compile_mode(device))
