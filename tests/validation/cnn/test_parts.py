"""validation: data (Def. 3.1), the CNN gradient (Lemma A.5) and the stacked optimisers vs
torch.optim."""

import pytest
import torch

from theorykit import ParameterError
from theorykit.optimizers import optimizer_kind
from validation.cnn.data import sample_patch_data
from validation.cnn.model import cross_entropy, data_gradient, error_rate, forward
from validation.cnn.optim import Hyper, StackedOptimizer


def _stacked_data(E: int, n: int, d: int, s: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    sets = [sample_patch_data(n, d, s, 0.3, 0.2, seed=seed + e) for e in range(E)]
    return torch.stack([x.y for x in sets]), torch.stack([x.xi for x in sets])


def test_data_follows_definition_3_1() -> None:
    data = sample_patch_data(40, 500, 10, 0.1, 0.2, seed=3, supports="disjoint")
    assert data.y.sum() == 0  # balanced
    assert torch.equal(data.xi[:, 0], -0.2 * data.y)  # feature noise xi[1] = -alpha y
    support = data.xi[:, 1:] != 0
    assert torch.all(support.sum(dim=1) == 10)
    assert torch.all(support.sum(dim=0) <= 1)  # disjoint
    again = sample_patch_data(40, 500, 10, 0.1, 0.2, seed=3, supports="disjoint")
    assert torch.equal(again.xi, data.xi)


def test_data_rejects_impossible_disjoint_supports() -> None:
    with pytest.raises(ParameterError) as caught:
        sample_patch_data(200, 1000, 100, 0.1, 0.2, seed=0, supports="disjoint")
    assert caught.value.name == "s"


def test_manual_gradient_equals_autograd() -> None:
    torch.manual_seed(0)
    y, xi = _stacked_data(3, 8, 30, 4, seed=10)
    W = (0.3 * torch.randn(3, 2, 5, 30, dtype=torch.float64)).requires_grad_()
    q = torch.tensor([3.0, 4.0, 3.5], dtype=torch.float64)
    loss = cross_entropy(forward(W, y, xi, q).logits, y).sum()
    (autograd,) = torch.autograd.grad(loss, W)
    manual = data_gradient(W.detach(), y, xi, q)
    torch.testing.assert_close(
        manual, autograd, rtol=1e-12, atol=1e-14
    )  # same float64 algebra, reordered


def test_error_rate_counts_ties_as_errors() -> None:
    logits = torch.tensor([[[1.0, 0.0, 0.5], [0.0, 1.0, 0.5]]])  # heads (+1, -1) for 3 samples
    y = torch.tensor([[1.0, 1.0, 1.0]])
    assert error_rate(logits, y).item() == pytest.approx(2 / 3)
    diverged = torch.full((1, 2, 3), float("nan"))
    assert (
        error_rate(diverged, y).item() == 1.0
    )  # a NaN model has not classified anything correctly


@pytest.mark.parametrize("kind", ["adam", "adamw"])
@pytest.mark.parametrize("bias_correction", [True, False])
def test_stacked_adam_equals_torch_optim_member_by_member(kind: str, bias_correction: bool) -> None:
    """Three members with different (eta, lam, beta1, beta2, eps), 25 minibatch steps, float64.

    Reference: torch.optim.Adam(weight_decay=lam) / AdamW, one member at a time (bias correction is
    torch's; without it the reference is torch with the corrections divided out by hand, which is
    the same arithmetic). rtol 1e-10: both sides do the same float64 operations, in a different
    order.
    """
    torch.manual_seed(1)
    E, n, d, m, B = 3, 12, 20, 4, 4
    y, xi = _stacked_data(E, n, d, 5, seed=20)
    q = torch.full((E,), 3.0, dtype=torch.float64)
    hyper = Hyper(
        *(
            torch.tensor(values, dtype=torch.float64)
            for values in (
                [1e-2, 3e-3, 5e-2],
                [1e-3, 0.1, 0.5],
                [0.9, 0.5, 0.0],
                [0.999, 0.9, 0.99],
                [1e-8, 1e-6, 1e-3],
            )
        )
    )
    W0 = 0.5 * torch.randn(E, 2, m, d, dtype=torch.float64)
    batches = [torch.randperm(n)[:B] for _ in range(25)]

    stacked = StackedOptimizer(optimizer_kind(kind), bias_correction=bias_correction)
    W = W0.clone()
    state = stacked.init(W)
    for idx in batches:
        grad = data_gradient(W, y[:, idx], xi[:, idx], q)
        stacked.update(W, grad, hyper, state)

    for e in range(E):
        w = W0[e].clone().requires_grad_()
        cls = torch.optim.Adam if kind == "adam" else torch.optim.AdamW
        eps = hyper.eps[e].item()
        optimizer = cls(
            [w],
            lr=hyper.eta[e].item(),
            betas=(hyper.beta1[e].item(), hyper.beta2[e].item()),
            eps=eps,
            weight_decay=hyper.lam[e].item(),
        )
        for t, idx in enumerate(batches, start=1):
            optimizer.zero_grad()
            cross_entropy(
                forward(w[None], y[e : e + 1, idx], xi[e : e + 1, idx], q[:1]).logits,
                y[e : e + 1, idx],
            ).sum().backward()
            if not bias_correction:
                # torch steps lr/c1 * m / (sqrt(v)/sqrt(c2) + eps'), c_k = 1 - beta_k^t; with lr' =
                # eta c1 / sqrt(c2) and eps' = eps / sqrt(c2) that is eta m / (sqrt(v) + eps), the
                # paper's uncorrected step.
                c1, c2 = 1 - hyper.beta1[e].item() ** t, 1 - hyper.beta2[e].item() ** t
                for group in optimizer.param_groups:
                    group["lr"] = hyper.eta[e].item() * c1 / c2**0.5
                    group["eps"] = eps / c2**0.5
                    if kind == "adamw":  # keep the decoupled factor 1 - lr' wd' = 1 - eta lam
                        group["weight_decay"] = (
                            hyper.eta[e].item() * hyper.lam[e].item() / group["lr"]
                        )
            optimizer.step()
        torch.testing.assert_close(W[e], w.detach(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kind", ["signsgd", "signsgdw", "gd"])
def test_sign_and_gd_steps_follow_their_equations(kind: str) -> None:
    W = torch.tensor([[0.5, -0.2, 0.0]], dtype=torch.float64)
    grad = torch.tensor([[0.1, 0.3, -0.4]], dtype=torch.float64)
    hyper = Hyper(*(torch.tensor([v], dtype=torch.float64) for v in (0.1, 2.0, 0.9, 0.999, 1e-8)))
    expected = {
        "signsgd": W - 0.1 * torch.sign(grad + 2.0 * W),  # (5.1)
        "signsgdw": (1 - 0.1 * 2.0) * W - 0.1 * torch.sign(grad),  # (B.2)
        "gd": W - 0.1 * (grad + 2.0 * W),
    }[kind]
    StackedOptimizer(optimizer_kind(kind)).update(W, grad, hyper, None)
    torch.testing.assert_close(W, expected)
