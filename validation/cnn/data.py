"""Signal + sparse-noise patch data (Tang et al. 2025, Definition 3.1), seeded and reproducible.

An example is x = [x_1, x_2] with one patch the signal y v (v = e_1) and the other the noise patch
xi: s coordinates of [d] minus {1} chosen uniformly without replacement, Gaussian N(0, sigma_p^2) on
them, zero elsewhere, and then the feature noise xi <- xi - alpha y v (so xi[1] = -alpha y). The CNN
of Definition 3.2 sums over patches, so only (y, xi) are stored; the signal patch is implied.

The data options (``supports``, ``labels``) are those of :mod:`validation.runs.spec`.
"""

from __future__ import annotations

import dataclasses

import torch

from validation.runs.spec import Labels, Supports, check_data_options


@dataclasses.dataclass(frozen=True)
class PatchData:
    """Labels ``y`` (n,) in {-1, +1} and noise patches ``xi`` (n, d) of one data set (float64 or
    float32)."""

    y: torch.Tensor
    xi: torch.Tensor


def sample_patch_data(
    n: int,
    d: int,
    s: int,
    sigma_p: float,
    alpha: float,
    *,
    seed: int,
    supports: Supports = "overlapping",
    labels: Labels = "balanced",
    dtype: torch.dtype = torch.float64,
) -> PatchData:
    """Draw n examples from Definition 3.1 with a ``torch.Generator`` seeded by ``seed``."""
    check_data_options(n, d, s, supports, labels)
    generator = torch.Generator().manual_seed(seed)
    if labels == "balanced":
        y = torch.cat([torch.ones(n // 2), -torch.ones(n // 2)])[
            torch.randperm(n, generator=generator)
        ]
    else:
        y = torch.randint(0, 2, (n,), generator=generator) * 2.0 - 1.0
    if supports == "disjoint":
        coordinates = (torch.randperm(d - 1, generator=generator)[: n * s] + 1).reshape(n, s)
    else:
        coordinates = torch.argsort(torch.rand(n, d - 1, generator=generator), dim=1)[:, :s] + 1
    xi = torch.zeros(n, d, dtype=torch.float64)
    xi.scatter_(
        1, coordinates, torch.randn(n, s, generator=generator, dtype=torch.float64) * sigma_p
    )
    xi[:, 0] = -alpha * y.double()
    return PatchData(y=y.to(dtype), xi=xi.to(dtype))
