"""Statistics of the Gaussian initialisation (Tang et al. 2025, Lemma A.3; Def. 3.2).

With w^(0)_{j,r} ~ N(0, sigma0^2 I_d):

* gamma_{j,r}^(0) = <w^(0)_{j,r}, j v> ~ N(0, sigma0^2), i.i.d. over the m filters of a head. Only a
  filter with gamma > 0 receives signal gradient (sigma'(gamma) = 0 otherwise), and with probability
  2^{-m} a head has none. The best filter therefore starts, in expectation given that the head can
  learn at all, at ``gamma0 = sigma0 * E[max_r Z_r | max_r Z_r > 0]`` (Lemma A.3:
  max_r <w^(0)_{j,r}, j v> = Theta~(sigma0));
* rho_{j,r,i}^(0) = <w^(0)_{j,r}, xi_i> ~ N(0, sigma0^2 ||xi_i||^2) with
  E||xi_i||_2^2 = s sigma_p^2 + alpha^2 (Def. 3.1: Gaussian part plus the feature noise -alpha y v),
  so ``noise_norm = sqrt(s sigma_p^2 + alpha^2)`` (Lemma A.3: Theta~(s^{1/2} sigma_p sigma0)).

All numbers are float64.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import sympy as sp
from scipy import integrate, special

from theorykit import symbols as S
from theorykit.errors import ParameterError
from theorykit.formula import Formula


def _check_filter_count(m: int) -> int:
    if isinstance(m, bool) or not isinstance(m, (int, float)) or int(m) != m or m < 1:
        raise ParameterError("m", m, "a whole number >= 1 (filters per head)")
    return int(m)


def _max_normal_density_times_z(z: float, m: int) -> float:
    return z * m * math.exp(-0.5 * z * z) / math.sqrt(2 * math.pi) * special.ndtr(z) ** (m - 1)


@functools.cache
def expected_positive_max_std_normal(m: int) -> float:
    """E[max_r Z_r | max_r Z_r > 0] for m i.i.d. standard normals (float64).

    = E[max_r Z_r ; max > 0] / (1 - 2^{-m}). m = 1 gives sqrt(2/pi) = 0.7979; m = 20 gives 1.8675
    (the unconditioned E[max] is 1.8675 too: the conditioning matters only at small m). This is
    ``gamma0 / sigma0`` (Lemma A.3).
    """
    m = _check_filter_count(m)
    value, _ = integrate.quad(
        _max_normal_density_times_z, 0.0, 12.0, args=(m,), limit=200, epsabs=1e-13
    )
    return float(value) / (1.0 - 2.0 ** (-m))


@functools.cache
def expected_max_abs_std_normal(count: int) -> float:
    """E[max_k |Z_k|] for ``count`` i.i.d. standard normals: integral_0^inf 1 - (2 Phi(z) - 1)^count
    dz (float64). The largest initial |weight| of the CNN is sigma0 times this for count = 2 m d
    (Def. 3.2); the collapse rule of ``dynamics.outcomes`` compares the final largest |weight| with
    it. count = 1 gives sqrt(2/pi); 40 000 (the paper's 2 m d) gives 4.335."""
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ParameterError("count", count, "a whole number >= 1")

    def tail(z: float) -> float:
        return -math.expm1(count * math.log1p(-math.erfc(z / math.sqrt(2))))

    value, _ = integrate.quad(tail, 0.0, 40.0, limit=400, epsabs=1e-12)
    return float(value)


def positive_part_moment(k: sp.Expr) -> sp.Expr:
    """M_k = E[max(Z, 0)^k] for Z ~ N(0, 1): 2^{k/2} Gamma((k+1)/2) / (2 sqrt(pi)), k > -1.

    Enters the expected activation derivative E[sigma'(rho^(0))] = q (sigma0 * noise_norm)^{q-1}
    M_{q-1}.
    """
    return 2 ** (k / 2) * sp.gamma((k + 1) / 2) / (2 * sp.sqrt(sp.pi))


NOISE_NORM = Formula(
    "noise_norm",
    sp.sqrt(S.s * S.sigma_p**2 + S.alpha**2),
    "sqrt(E||xi_i||_2^2) = sqrt(s sigma_p^2 + alpha^2); Def. 3.1 (the feature-noise coordinate "
    "included)",
)


#: The derived scalars :func:`derived_values` computes, and the fields each is computed from.
DERIVED_FROM: dict[str, tuple[str, ...]] = {
    "gamma0": ("sigma0", "m"),
    "noise_norm": ("s", "sigma_p", "alpha"),
}


@functools.partial(np.vectorize, otypes=[np.float64])
def _gamma0_over_sigma0(m: Any) -> float:
    """:func:`expected_positive_max_std_normal` elementwise over a scalar or an array of m (each
    as a Python number, so that its whole-number check sees the value, not the numpy type)."""
    return expected_positive_max_std_normal(m.item() if isinstance(m, np.generic) else m)


def derived_values(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The derived scalars a formula may need (:data:`DERIVED_FROM`), from a setting's fields
    (scalars or broadcasting arrays): ``gamma0`` (Lemma A.3's best filter, sigma0 E[max_r Z_r |
    max > 0]) and ``noise_norm``."""
    return {
        "gamma0": np.multiply(fields["sigma0"], _gamma0_over_sigma0(fields["m"]))[()],
        "noise_norm": NOISE_NORM.evaluate(fields),
    }
