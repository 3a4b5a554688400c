"""Signal + sparse-noise patch data (Tang et al. 2025, Definition 3.1), seeded and reproducible.

An example is x = [x_1, x_2] with one patch the signal y v (v = e_1) and the other the noise patch
xi: s coordinates of [d] minus {1} chosen uniformly without replacement, Gaussian N(0, sigma_p^2) on
them, zero elsewhere, and then the feature noise xi <- xi - alpha y v (so xi[1] = -alpha y).
The CNN of Definition 3.2 sums over patches, so only (y, xi) are stored; the signal patch is implied.

``supports="disjoint"`` draws the n supports as disjoint s-subsets (the theory's regime, Lemma A.4;
needs n s <= d - 1); ``"overlapping"`` draws each independently (the paper's experiment, App. D.2).
``labels="balanced"`` gives exactly n/2 of each label in random order (App. D.2: 100/100);
``"rademacher"`` draws each i.i.d. (Def. 3.1).
"""

from __future__ import annotations

import dataclasses
from typing import Literal

import torch

from theorykit.errors import ParameterError


@dataclasses.dataclass(frozen=True)
class PatchData:
    """Labels ``y`` (n,) in {-1, +1} and noise patches ``xi`` (n, d) of one data set (float64 or float32)."""

    y: torch.Tensor
    xi: torch.Tensor


def check_data_options(n: int, d: int, s: int, supports: str, labels: str) -> None:
    """Raise :class:`ParameterError` unless (n, d, s) admit the requested supports and labels."""
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


def sample_patch_data(n: int, d: int, s: int, sigma_p: float, alpha: float, *, seed: int,
                      supports: Literal["disjoint", "overlapping"] = "overlapping",
                      labels: Literal["balanced", "rademacher"] = "balanced",
                      dtype: torch.dtype = torch.float64) -> PatchData:
    """Draw n examples from Definition 3.1 with a dedicated ``torch.Generator`` seeded by ``seed``."""
    check_data_options(n, d, s, supports, labels)
    generator = torch.Generator().manual_seed(seed)
    if labels == "balanced":
        y = torch.cat([torch.ones(n // 2), -torch.ones(n // 2)])[torch.randperm(n, generator=generator)]
    else:
        y = torch.randint(0, 2, (n,), generator=generator) * 2.0 - 1.0
    if supports == "disjoint":
        coordinates = (torch.randperm(d - 1, generator=generator)[: n * s] + 1).reshape(n, s)
    else:
        coordinates = torch.argsort(torch.rand(n, d - 1, generator=generator), dim=1)[:, :s] + 1
    xi = torch.zeros(n, d, dtype=torch.float64)
    xi.scatter_(1, coordinates, torch.randn(n, s, generator=generator, dtype=torch.float64) * sigma_p)
    xi[:, 0] = -alpha * y.double()
    return PatchData(y=y.to(dtype), xi=xi.to(dtype))
