"""The numpy optimiser of the reduced dynamics and the torch optimiser of the CNN take the same
steps."""

import numpy as np
import pytest
import torch

from dynamics.optimizers import CoordinateOptimizer, Hyper
from theorykit.optimizers import OPTIMIZERS, optimizer_kind
from validation.cnn.optim import Hyper as TorchHyper
from validation.cnn.optim import StackedOptimizer


@pytest.mark.parametrize("kind", OPTIMIZERS)
@pytest.mark.parametrize("bias_correction", [True, False])
def test_numpy_and_torch_optimisers_take_the_same_steps(kind: str, bias_correction: bool) -> None:
    # Same float64 arithmetic in the same order on both sides: rtol 1e-12 over 20 steps.
    rng = np.random.default_rng(0)
    values = ([1e-2, 3e-3], [1e-3, 0.5], [0.9, 0.5], [0.999, 0.9], [1e-8, 1e-3])
    numpy_hyper = Hyper(*(np.array(v) for v in values))
    torch_hyper = TorchHyper(*(torch.tensor(v, dtype=torch.float64) for v in values))
    w = rng.normal(size=(2, 3, 4))
    W = torch.tensor(w)
    ours, theirs = (
        CoordinateOptimizer(optimizer_kind(kind), bias_correction),
        StackedOptimizer(optimizer_kind(kind), bias_correction),
    )
    state, torch_state = ours.init(w), theirs.init(W)
    for t in range(1, 21):
        g = rng.normal(size=w.shape)
        ours.update(w, g, numpy_hyper, state, t)
        theirs.update(W, torch.tensor(g), torch_hyper, torch_state)
    np.testing.assert_allclose(w, W.numpy(), rtol=1e-12, atol=1e-15)
