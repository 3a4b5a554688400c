"""The fused CPU kernel trains every optimiser as the torch step does (and so as torch.optim does):
the same trajectories to round-off, members independent, partial batches handled."""

import dataclasses

import numpy as np
import pytest
import torch

from theorykit import tang2025_synthetic
from theorykit.optimizers import OPTIMIZERS
from validation.cnn.engine import train_group
from validation.cnn.ensemble import build_ensemble
from validation.runs.spec import EngineOptions, RunSpec

OPTIONS = EngineOptions(record_every=2, test_size=100)


def _specs(optimizer: str, bias_correction: bool, B: int = 6) -> list[RunSpec]:
    eta = 0.05 if optimizer == "gd" else 1e-3
    return [
        RunSpec(
            tang2025_synthetic(
                n=20,
                d=60,
                s=5,
                m=4,
                B=B,
                epochs=8,
                eta=eta,
                lam=lam,
                optimizer=optimizer,
                bias_correction=bias_correction,
            ),
            data_seed=seed,
            init_seed=seed,
        )
        for seed, lam in ((1, 1e-4), (2, 3e-2), (3, 0.0))
    ]


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("bias_correction", [True, False])
def test_fused_and_torch_steps_record_the_same_trajectories(
    optimizer: str, bias_correction: bool
) -> None:
    # float64, 8 epochs of 4 steps (B = 6 of n = 20: a partial last batch): the kernel sums the
    # batch and the support in another order than torch's einsum, so agreement is to round-off
    # accumulated over 32 steps (measured 6e-14 relative at most); 1e-9 leaves room and would catch
    # any wrong term, which moves the metrics at the 1e-3 level.
    specs = _specs(optimizer, bias_correction)
    fused = train_group(specs, dataclasses.replace(OPTIONS, kernel="fused"))
    eager = train_group(specs, dataclasses.replace(OPTIONS, kernel="torch"))
    for ours, theirs in zip(fused, eager, strict=True):
        for name, values in theirs.metrics.items():
            np.testing.assert_allclose(
                ours.metrics[name], values, rtol=1e-9, atol=1e-12, err_msg=name
            )


def test_float32_fused_steps_agree_with_the_torch_step_to_float32_round_off() -> None:
    # float32: per-coordinate arithmetic is torch's, in float32; accumulations differ in order, so
    # rtol 1e-4 over 32 steps (float32 epsilon 1.2e-7 times a few hundred operations).
    specs = _specs("adam", True)
    options = dataclasses.replace(OPTIONS, dtype="float32")
    fused = train_group(specs, dataclasses.replace(options, kernel="fused"))
    eager = train_group(specs, dataclasses.replace(options, kernel="torch"))
    for ours, theirs in zip(fused, eager, strict=True):
        for name in ("feature_pos", "feature_neg", "noise_max", "loss"):
            np.testing.assert_allclose(
                ours.metrics[name], theirs.metrics[name], rtol=1e-4, atol=1e-7
            )


def test_a_fused_member_trains_as_a_hand_written_torch_optim_loop() -> None:
    # One member against torch.optim.AdamW on the same batches (the model's own gradient): the
    # kernel equals the stacked optimiser, which equals torch.optim (tests/validation/cnn); this
    # closes the chain directly. float64, 12 steps, rtol 1e-10.
    spec = _specs("adamw", True)[1]
    ensemble = build_ensemble([spec], dataclasses.replace(OPTIONS, kernel="fused"), with_test=False)
    W = ensemble.W.detach().clone()[0].requires_grad_()
    p = spec.params
    reference = torch.optim.AdamW(
        [W], lr=p.eta, betas=(p.beta1, p.beta2), eps=p.eps, weight_decay=p.lam
    )
    from validation.cnn.model import cross_entropy, forward

    batches = ensemble.epoch_batches(1) + ensemble.epoch_batches(2) + ensemble.epoch_batches(3)
    for idx in batches:
        reference.zero_grad()
        xi, y = ensemble.xi[0, idx[0]][None], ensemble.y[0, idx[0]][None]
        cross_entropy(forward(W[None], y, xi, ensemble.q).logits, y).sum().backward()
        reference.step()
    ensemble.advance(batches)
    np.testing.assert_allclose(ensemble.W[0].numpy(), W.detach().numpy(), rtol=1e-10, atol=1e-14)


def test_members_of_a_fused_group_do_not_interact() -> None:
    specs = _specs("adam", True)
    options = dataclasses.replace(OPTIONS, kernel="fused")
    together = train_group(specs, options)
    alone = train_group([specs[1]], options)[0]
    for name, values in alone.metrics.items():
        np.testing.assert_array_equal(together[1].metrics[name], values)


def test_members_differing_in_every_per_member_field_train_as_they_do_alone() -> None:
    # Only (n, d, m, optimizer, B, epochs, bias_correction) is shared by a group (its key); every
    # other field is per member and must reach the kernel per member. In particular s: the kernel
    # reads the noise as (n, width) sparse patches, so a member whose support is wider than
    # another's must keep all of its s coordinates (truncated to a narrower member's s it would
    # train on part of its noise), and a narrower one is padded with zero values, which add exact
    # zeros. Members alone and together run the same arithmetic: bitwise equal.
    fields = (
        {"s": 5, "sigma_p": 0.13, "q": 3, "alpha": 0.2},
        {"s": 10, "sigma_p": 0.1, "q": 4, "alpha": 0.3, "sigma0": 0.02, "eta": 2e-3},
        {"s": 3, "sigma_p": 0.2, "q": 3, "beta1": 0.5, "beta2": 0.9, "eps": 1e-6},
    )
    specs = [
        RunSpec(
            dataclasses.replace(spec.params, **changes),
            data_seed=spec.data_seed,
            init_seed=spec.init_seed,
        )
        for spec, changes in zip(_specs("adam", True), fields, strict=True)
    ]
    options = dataclasses.replace(OPTIONS, kernel="fused")
    together = train_group(specs, options)
    for spec, grouped in zip(specs, together, strict=True):
        alone = train_group([spec], options)[0]
        for name, values in alone.metrics.items():
            np.testing.assert_array_equal(grouped.metrics[name], values, err_msg=name)
