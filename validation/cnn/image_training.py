"""The small image CNN of the real-image check and its training loop (Tang et al. 2025, Sec. 4 /
App. D.1).

A small CNN (two 3 x 3 convolutions with ReLU, max-pooling, global 2 x 2 average pooling, one linear
layer) is trained with the stock optimisers the paper used: ``torch.optim.Adam(weight_decay=lam)``
(L2 inside the moments, eq. 3.3) and ``torch.optim.AdamW(weight_decay=lam)`` (decoupled, eq. 3.6),
betas (0.9, 0.99), no data augmentation. Images arrive as numpy arrays
(``validation.experiments.image_data.ImageSplit``) and are moved to the device here.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from theorykit.errors import ParameterError
from validation.cnn.device import resolve_device


class SmallCNN(nn.Module):
    """conv3x3(C -> 16) - ReLU - maxpool2 - conv3x3(16 -> 32) - ReLU - avgpool to 2 x 2 - linear(128
    -> classes)."""

    def __init__(self, channels: int, classes: int) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(channels, 16, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(2),
        )
        self.head = nn.Linear(32 * 2 * 2, classes)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(images).flatten(1))


def _error(model: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> float:
    with torch.no_grad():
        return float((model(images).argmax(dim=1) != labels).float().mean().item())


def _train_epoch(
    model: nn.Module,
    step: torch.optim.Optimizer,
    images: torch.Tensor,
    labels: torch.Tensor,
    B: int,
    shuffler: torch.Generator,
) -> int:
    """One epoch of minibatch steps on the cross-entropy, in a fresh order drawn from
    ``shuffler`` (the last batch smaller when B does not divide N); the number of steps."""
    order = torch.randperm(len(labels), generator=shuffler).to(images.device)
    for start in range(0, len(labels), B):
        batch = order[start : start + B]
        step.zero_grad(set_to_none=True)
        nn.functional.cross_entropy(model(images[batch]), labels[batch]).backward()
        step.step()
    return -(-len(labels) // B)


def train_image_cnn(
    train_images: np.ndarray,
    train_labels: np.ndarray,
    test_images: np.ndarray,
    test_labels: np.ndarray,
    *,
    optimizer: str,
    lam: float,
    B: int,
    lr: float,
    epochs: int,
    seed: int,
    device: str = "auto",
    target_train_error: float | None = None,
    max_steps: int | None = None,
) -> dict[str, float]:
    """Train one run of :class:`SmallCNN` (images (N, C, H, W) float32 in [0, 1], labels (N,) int64)
    and return its final ``train_error``, ``test_error`` and the ``steps`` and ``epochs`` it took.
    ``optimizer`` is "adam" or "adamw".

    Without ``target_train_error`` it trains ``epochs`` epochs. With it, it stops at the end of the
    first epoch whose train error is at most the target, or once ``max_steps`` optimiser steps are
    done (App. D.1 trains "until convergence"; a run that stops on the budget reports its train
    error, which then says it did not get there)."""
    torch.manual_seed(seed)
    target = resolve_device(device)
    classes = int(max(train_labels.max(), test_labels.max())) + 1
    model = SmallCNN(train_images.shape[1], classes).to(target)
    optimizer_class = torch.optim.Adam if optimizer == "adam" else torch.optim.AdamW
    step = optimizer_class(model.parameters(), lr=lr, betas=(0.9, 0.99), weight_decay=lam)
    images, labels = (
        torch.from_numpy(train_images).to(target),
        torch.from_numpy(train_labels).to(target),
    )
    if target_train_error is not None and (max_steps is None or max_steps < 1):
        raise ParameterError("max_steps", max_steps, "a step budget >= 1 with target_train_error")
    shuffler = torch.Generator().manual_seed(seed)
    steps = epoch = 0
    while target_train_error is not None or epoch < epochs:
        epoch += 1
        steps += _train_epoch(model, step, images, labels, B, shuffler)
        if target_train_error is not None and (
            steps >= max_steps or _error(model, images, labels) <= target_train_error
        ):
            break
    return {
        "train_error": _error(model, images, labels),
        "test_error": _error(
            model,
            torch.from_numpy(test_images).to(target),
            torch.from_numpy(test_labels).to(target),
        ),
        "steps": float(steps),
        "epochs": float(epoch),
    }
