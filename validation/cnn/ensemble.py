"""A group's training state as one stacked ensemble: data (Def. 3.1), initial weights (Def. 3.2),
optimiser state (eqs. 3.3-3.6, 5.1, B.2) and minibatch order per member, with one step, a span of
steps (the fused CPU kernel, :mod:`validation.cnn.fused`, or one torch step each) and the App. D.2
metrics. :func:`validation.cnn.engine.train_group` is the loop over it; the benchmarks and the
coefficient check drive the same object step by step.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import numpy as np
import torch

from dynamics.kernel_layout import padded_batches
from theorykit.errors import ParameterError
from validation.cnn.data import sample_patch_data
from validation.cnn.device import TORCH_DTYPES, compiled_train_step, resolve_device, train_step
from validation.cnn.fused import run_steps
from validation.cnn.model import cross_entropy, error_rate, forward, label_index
from validation.cnn.optim import AdamState, Hyper, StackedOptimizer
from validation.runs.spec import EngineOptions, RunSpec


def _stack_data(
    specs: Sequence[RunSpec],
    size: int | None,
    seed_of: Callable[[RunSpec], int],
    dtype: torch.dtype,
    device: torch.device,
) -> tuple[torch.Tensor, torch.Tensor]:
    sets = []
    for spec in specs:
        p = spec.params
        n = p.n if size is None else size
        sets.append(
            sample_patch_data(
                n,
                p.d,
                p.s,
                p.sigma_p,
                p.alpha,
                seed=seed_of(spec),
                supports=spec.supports if size is None else "overlapping",
                labels=spec.labels,
                dtype=dtype,
            )
        )
    return (
        torch.stack([s.y for s in sets]).to(device),
        torch.stack([s.xi for s in sets]).to(device),
    )


def _measure(
    W: torch.Tensor,
    y: torch.Tensor,
    xi: torch.Tensor,
    q: torch.Tensor,
    y_test: torch.Tensor,
    xi_test: torch.Tensor,
) -> dict[str, torch.Tensor]:
    out = forward(W, y, xi, q)
    own_head = label_index(y)[:, None, None, :].expand(-1, 1, W.shape[2], -1)
    memorised = (
        out.rho.gather(1, own_head).squeeze(1).amax(dim=1)
    )  # max_r <w_{y_i,r}, xi_i>, (E, n)
    test_logits = forward(W, y_test, xi_test, q).logits
    return {
        "feature_pos": W[:, 0, :, 0].amax(dim=1),
        "feature_neg": (-W[:, 1, :, 0]).amax(dim=1),
        "noise_min": memorised.amin(dim=1),
        "noise_max": memorised.amax(dim=1),
        "train_error": error_rate(out.logits, y),
        "test_error": error_rate(test_logits, y_test),
        "loss": cross_entropy(out.logits, y),
        "weight_max": W.abs().flatten(1).amax(dim=1),
    }


@dataclasses.dataclass
class Ensemble:
    """A group's training state: data, weights, optimiser state and minibatch order (one per
    member).

    :meth:`epoch_batches` yields each epoch's (E, B) sample indices (the last batch smaller when B
    does not divide n), :meth:`step` applies one optimiser step to every member, :meth:`measure`
    returns the App. D.2 metrics. :func:`train_group` is the loop over these; the benchmarks and the
    dynamics coefficient check drive the same object step by step.
    """

    specs: tuple[RunSpec, ...]
    options: EngineOptions
    W: torch.Tensor  # (E, 2, m, d)
    y: torch.Tensor  # (E, n)
    xi: torch.Tensor  # (E, n, d)
    q: torch.Tensor  # (E,)
    hyper: Hyper
    optimizer: StackedOptimizer
    state: AdamState | None
    shufflers: list[torch.Generator]
    order: torch.Tensor  # (E, n): the current epoch's sample order
    y_test: torch.Tensor | None = None
    xi_test: torch.Tensor | None = None
    step_function: Callable[..., None] = train_step
    _sparse: tuple[np.ndarray, np.ndarray, np.ndarray] | None = dataclasses.field(
        default=None, repr=False
    )

    @property
    def batch_size(self) -> int:
        return self.specs[0].params.B

    def _permutation(self) -> torch.Tensor:
        n = self.y.shape[1]
        return torch.stack([torch.randperm(n, generator=g) for g in self.shufflers]).to(
            self.W.device
        )

    def epoch_batches(self, epoch: int) -> list[torch.Tensor]:
        """Sample indices of every step of ``epoch`` (1-based): a fresh order per epoch when
        reshuffling."""
        if self.options.order == "reshuffle" and epoch > 1:
            self.order = self._permutation()
        n, B = self.y.shape[1], self.batch_size
        return [self.order[:, start : start + B] for start in range(0, n, B)]

    @property
    def fused(self) -> bool:
        """True when the steps run in the fused CPU kernel (``EngineOptions.kernel``)."""
        return self.options.runs_fused(self.W.device.type)

    def advance(self, batches: Sequence[torch.Tensor]) -> None:
        """Every step of ``batches`` ((E, B) each, in order): one fused kernel call, or one
        :meth:`step` each."""
        if not self.fused:
            for idx in batches:
                self.step(idx)
            return
        if self._sparse is None:
            self._sparse = _sparse_noise(self.xi, max(spec.params.s for spec in self.specs))
        padded, lengths = padded_batches([idx.cpu().numpy() for idx in batches])
        kind = self.optimizer.kind
        W = _coordinate_major(self.W)
        if self.state is not None:
            moments = (_coordinate_major(self.state.mom1), _coordinate_major(self.state.mom2))
        else:
            moments = (W[..., :0], W[..., :0])
        t0 = int(self.state.t.item()) if self.state else 0
        support, values, feature_noise = self._sparse
        run_steps(
            W,
            *moments,
            padded,
            lengths,
            self.y.numpy(),
            feature_noise,
            support,
            values,
            self.q.numpy(),
            {
                name: getattr(self.hyper, name).numpy()
                for name in ("eta", "lam", "beta1", "beta2", "eps")
            },
            t0,
            kind.preconditioner,
            kind.decoupled,
            self.optimizer.bias_correction,
        )
        if self.state is not None:
            self.state.t.add_(len(batches))

    def step(self, idx: torch.Tensor) -> None:
        """One optimiser step of every member on its own minibatch ``idx`` (E, B)."""
        members = torch.arange(idx.shape[0], device=idx.device)[:, None]
        self.step_function(
            self.optimizer,
            self.W,
            self.state,
            self.y.gather(1, idx),
            self.xi[members, idx],
            self.q,
            self.hyper,
        )

    def measure(self, weights: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """The App. D.2 metrics of every member (test error on the group's test sets), of the
        ensemble's weights or of other ``weights`` of the same shape on the same data (a
        prediction's, ``validation.cnn.readout.implied_weights``)."""
        if self.y_test is None or self.xi_test is None:
            raise ParameterError(
                "test_size",
                None,
                "an ensemble built with test data (build_ensemble(with_test=True))",
            )
        W = self.W if weights is None else weights
        return _measure(W, self.y, self.xi, self.q, self.y_test, self.xi_test)


def _coordinate_major(tensor: torch.Tensor) -> np.ndarray:
    """The (E, d, 2 m) numpy view of an (E, 2, m, d) tensor stored coordinate-major (see
    :func:`build_ensemble`); the fused kernel updates it in place."""
    E, heads, m, d = tensor.shape
    view = tensor.numpy().transpose(0, 3, 1, 2)
    if not view.flags["C_CONTIGUOUS"]:
        raise ParameterError("kernel", "fused", "weights stored coordinate-major (build_ensemble)")
    return view.reshape(E, d, heads * m)


def _sparse_noise(xi: torch.Tensor, width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each sample's noise coordinates (indices >= 1 into d, (E, n, width)), its values there, and
    xi_i[1] = -alpha y_i (E, n), read off the dense patches (Def. 3.1: s nonzero noise coordinates;
    index 0 is the feature). ``width`` is the largest s of the group's members (s is per member, not
    part of the group key): a member with fewer nonzero coordinates is padded with coordinates off
    its support, whose value 0 adds exact zeros to its sums, so it trains as it does alone."""
    noise = xi[..., 1:]
    nonzero_first = torch.topk((noise != 0).to(torch.int8), width, dim=-1).indices
    support = torch.sort(nonzero_first, dim=-1).values
    values = torch.gather(noise, 2, support)
    return (
        (support + 1).numpy().astype(np.int64),
        values.numpy().copy(),
        np.ascontiguousarray(xi[..., 0].numpy()),
    )


def _initial_weights(
    specs: Sequence[RunSpec], sigma0: torch.Tensor, coordinate_major: bool
) -> torch.Tensor:
    """Each member's w_{j,r} ~ N(0, sigma0^2 I) (Def. 3.2), drawn in float64 from its init seed,
    in sigma0's dtype and device; stored (E, d, 2, m) in memory when ``coordinate_major`` (the
    fused kernel's layout), viewed (E, 2, m, d) either way."""
    first = specs[0].params
    W = torch.stack(
        [
            torch.randn(
                2,
                first.m,
                first.d,
                generator=torch.Generator().manual_seed(spec.init_seed),
                dtype=torch.float64,
            )
            for spec in specs
        ]
    ).to(device=sigma0.device, dtype=sigma0.dtype)
    W *= sigma0.view(-1, 1, 1, 1)
    if coordinate_major:
        W = W.permute(0, 3, 1, 2).contiguous().permute(0, 2, 3, 1)
    return W


def build_ensemble(
    specs: Sequence[RunSpec], options: EngineOptions = EngineOptions(), with_test: bool = True
) -> Ensemble:
    """Data, initial weights w ~ N(0, sigma0^2 I) (Def. 3.2) and optimiser state of one compatible
    group."""
    keys = {spec.group_key() for spec in specs}
    if len(keys) != 1:
        raise ParameterError(
            "specs",
            sorted(keys),
            "one group: equal (n, d, m, optimizer, B, epochs, bias_correction)",
        )
    device, dtype = resolve_device(options.device), TORCH_DTYPES[options.dtype]
    first = specs[0].params
    y, xi = _stack_data(specs, None, lambda spec: spec.data_seed, dtype, device)
    y_test = xi_test = None
    if with_test:
        y_test, xi_test = _stack_data(
            specs, options.test_size, lambda spec: options.test_seed + spec.data_seed, dtype, device
        )

    def column(field: str) -> torch.Tensor:
        return torch.tensor(
            [getattr(spec.params, field) for spec in specs], dtype=dtype, device=device
        )

    W = _initial_weights(specs, column("sigma0"), options.runs_fused(device.type))
    optimizer = StackedOptimizer(first.kind, bias_correction=first.bias_correction)
    shufflers = [torch.Generator().manual_seed(10_007 * spec.data_seed + 1) for spec in specs]
    ensemble = Ensemble(
        tuple(specs),
        options,
        W,
        y,
        xi,
        column("q"),
        Hyper(column("eta"), column("lam"), column("beta1"), column("beta2"), column("eps")),
        optimizer,
        optimizer.init(W),
        shufflers,
        torch.empty(0),
        y_test,
        xi_test,
        compiled_train_step(W.device) if options.compile else train_step,
    )
    ensemble.order = ensemble._permutation()
    return ensemble
