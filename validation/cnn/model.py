"""The two-layer CNN of Tang et al. 2025, Definition 3.2, for a stacked ensemble of E members.

F_j(W, x) = sum_r sigma(<w_{j,r}, x_1>) + sigma(<w_{j,r}, x_2>), sigma(z) = max(z, 0)^q, second
layer fixed to ones, heads j in (+1, -1) stored at index (0, 1)
(``dynamics.trajectory.HEAD_SIGNS``). With x = (y v, xi) and v = e_1: <w_{j,r}, y_i v> = y_i
w_{j,r}[1] and <w_{j,r}, xi_i> = rho_{j,r,i}.

Shapes: W (E, 2, m, d); labels y (E, n); noise patches xi (E, n, d); q (E,) (a member's power).
Loss: two-class cross-entropy (Sec. 3, L_i = -log softmax_{y_i}(F)), averaged over the batch; weight
decay is the optimiser's business (``validation.cnn.optim``). The gradient is written out
(Lemma A.5):

grad_{w_{j,r}} (1/B) sum_i L_i = -(1/B) sum_i ell_{j,i} [sigma'(y_i w_{j,r}[1]) y_i e_1 +
sigma'(rho_{j,r,i}) xi_i], ell_{j,i} = 1[y_i = j] - softmax_j(F(x_i)),

which ``tests/validation/cnn/test_parts.py`` checks against torch autograd.
"""

from __future__ import annotations

import dataclasses

import torch


@dataclasses.dataclass(frozen=True)
class Forward:
    """Pre-activations and outputs of one forward pass over samples (E, n)."""

    signal: torch.Tensor  # (E, 2, m, n): y_i w_{j,r}[1]
    rho: torch.Tensor  # (E, 2, m, n): <w_{j,r}, xi_i>
    logits: torch.Tensor  # (E, 2, n): F_j(x_i)


def _power(z: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    return torch.clamp_min(z, 0.0) ** q


def forward(W: torch.Tensor, y: torch.Tensor, xi: torch.Tensor, q: torch.Tensor) -> Forward:
    """F_j(W, x_i) for every member, head and sample (Def. 3.2)."""
    q4 = q.view(-1, 1, 1, 1)
    signal = W[..., :1] * y[:, None, None, :]
    rho = torch.einsum("ejrd,end->ejrn", W, xi)
    logits = (_power(signal, q4) + _power(rho, q4)).sum(dim=2)
    return Forward(signal=signal, rho=rho, logits=logits)


def label_index(y: torch.Tensor) -> torch.Tensor:
    """Head index of the true label: 0 for y = +1, 1 for y = -1."""
    return (y < 0).long()


def cross_entropy(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per-member mean of L_i = -log softmax_{y_i}(F(x_i)) (Sec. 3), shape (E,)."""
    log_probs = torch.log_softmax(logits, dim=1)
    return -log_probs.gather(1, label_index(y)[:, None, :]).squeeze(1).mean(dim=1)


def data_gradient(
    W: torch.Tensor, y: torch.Tensor, xi: torch.Tensor, q: torch.Tensor
) -> torch.Tensor:
    """Gradient of the batch-mean cross-entropy w.r.t. W (Lemma A.5), shape (E, 2, m, d); no weight
    decay.

    The training hot path: it does not form the loss (use :func:`cross_entropy` on ``forward`` for
    that).
    """
    out = forward(W, y, xi, q)
    q4 = q.view(-1, 1, 1, 1)
    probs = torch.softmax(out.logits, dim=1)  # (E, 2, n)
    own = (
        torch.nn.functional.one_hot(label_index(y), 2).permute(0, 2, 1).to(W.dtype)
    )  # 1[y_i = j], (E, 2, n)
    ell = (own - probs)[:, :, None, :]  # (E, 2, 1, n)
    batch = y.shape[1]
    coef_noise = -ell * q4 * torch.clamp_min(out.rho, 0.0) ** (q4 - 1) / batch  # (E, 2, m, n)
    coef_signal = (
        -ell * q4 * torch.clamp_min(out.signal, 0.0) ** (q4 - 1) * y[:, None, None, :] / batch
    )
    grad = torch.einsum("ejrn,end->ejrd", coef_noise, xi)
    grad[..., 0] += coef_signal.sum(dim=-1)
    return grad


def error_rate(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """err = mean 1[F_{y_i} <= F_{-y_i}] (Sec. 4 definitions; ties and NaN count as errors), shape
    (E,)."""
    index = label_index(y)[:, None, :]
    own = logits.gather(1, index).squeeze(1)
    other = logits.gather(1, 1 - index).squeeze(1)
    return (~(own > other)).to(logits.dtype).mean(dim=1)  # NaN logits count as errors too
