"""Closed forms derived from the per-step updates (Tang et al. 2025, App. B-C; notes Sec. 5.3-5.6).

* The per-epoch SignSGDW recursion and its fixed points gamma* = 1/lam and
  zeta* ~ B ||xi||_1 / (n lam) (Lemmas B.8/B.11: rho* = Theta(B s sigma_p / (n lam))).
* The Adam feature stationary point (q/2) gamma^{q-1} |ell(gamma)| = lam gamma (Lemma C.7 Stage II;
  the paper's explicit level (1/m log(1/lam - 1))^{1/q} is ``ADAM_STAGE2_LEVEL``).
* The periodic-spike Adam step sum S(P; beta1, beta2), the beta-aware constant in the
  n/B >= Theta(log 1/eps) batch condition of Thm 4.2 (notes Sec. 5.6).

The per-epoch forms take the sign of every drive as constant over the epoch (positive feature drive;
the sampled noise coordinate steps towards sgn(xi_i[k])), which is the Stage-I situation of Lemmas
B.6/B.10. P = n/B is the number of iterations per epoch; tau in {0, ..., P-1} is the position of
sample i inside its epoch (Lemma C.2's fixed cyclic order).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import sympy as sp
from sympy.codegen.cfunctions import expm1, log1p

from theorykit import symbols as S
from theorykit.errors import ParameterError
from theorykit.formula import Formula

_DECAY = 1 - S.eta * S.lam
_LOG_DECAY = log1p(-S.eta * S.lam)  # log(1 - eta lam), for the cancellation-free numeric forms

SIGNSGDW_EPOCH_FEATURE = Formula(
    "signsgdw_epoch_feature",
    _DECAY**S.P * S.gamma + (1 - _DECAY**S.P) / S.lam,
    "P = n/B SignSGDW steps (B.5) with sgn(drive) = +1: gamma -> (1-eta lam)^P gamma + (1-(1-eta lam)^P)/lam "
    "(notes Sec. 5.3: (1-eta lam)^{n/B} gamma + Theta(eta n/B)); needs lam > 0",
    numeric=sp.exp(S.P * _LOG_DECAY) * S.gamma - expm1(S.P * _LOG_DECAY) / S.lam,
)

SIGNSGDW_EPOCH_PURE_NOISE = Formula(
    "signsgdw_epoch_pure_noise",
    _DECAY**S.P * S.zeta + S.eta * S.l1_noise * _DECAY ** (S.P - 1 - S.tau),
    "one epoch of (B.6) with sample i drawn once, at position tau: zeta -> (1-eta lam)^P zeta "
    "+ eta ||xi_i||_1 (1-eta lam)^{P-1-tau} (notes Sec. 5.3: + Theta~(eta s sigma_p) per epoch)",
)

SIGNSGDW_FEATURE_FIXED_POINT = Formula(
    "signsgdw_feature_fixed_point",
    sp.solve(sp.Eq(S.gamma, SIGNSGDW_EPOCH_FEATURE.expr), S.gamma)[0],
    "fixed point of SIGNSGDW_EPOCH_FEATURE: gamma* = 1/lam (Lemmas B.8/B.11: Theta~(1/lam))",
)

SIGNSGDW_PURE_NOISE_FIXED_POINT = Formula(
    "signsgdw_pure_noise_fixed_point",
    sp.solve(sp.Eq(S.zeta, SIGNSGDW_EPOCH_PURE_NOISE.expr), S.zeta)[0],
    "fixed point of SIGNSGDW_EPOCH_PURE_NOISE: eta ||xi||_1 (1-eta lam)^{P-1-tau} / (1-(1-eta lam)^P) "
    "-> ||xi||_1/(P lam) = B ||xi||_1/(n lam) as eta lam -> 0 (Lemmas B.8/B.11: Theta~(B s sigma_p/(n lam)))",
    numeric=-S.eta * S.l1_noise * sp.exp((S.P - 1 - S.tau) * _LOG_DECAY) / expm1(S.P * _LOG_DECAY),
)

ADAM_FEATURE_STATIONARITY = Formula(
    "adam_feature_stationarity",
    S.q / 2 * S.gamma ** (S.q - 1) / (1 + sp.exp(S.m_eff * S.gamma**S.q)) - S.lam * S.gamma,
    "zero at a stationary point of the sign-type feature update (B.3) in Stage II: (q/2) gamma^{q-1} |ell(gamma)| "
    "= lam gamma with |ell| = 1/(1 + exp(m_eff gamma^q)); the 1/2 is the share of a batch with y_i = j "
    "(notes Sec. 5.4(b); m_eff = 1 matches the CNN's surviving filter)",
)

ADAM_STAGE2_LEVEL = Formula(
    "adam_stage2_level",
    (sp.log(1 / S.lam - 1) / S.m) ** (1 / S.q),
    "Lemma C.7 proof (Tang et al. 2025): the mini-batch Adam feature grows while <w, j v> <= "
    "((1/m) log(1/lam - 1))^{1/q}; needs lam < 1/2",
)

_R = S.beta1 / sp.sqrt(S.beta2)

PERIODIC_SPIKE_STEP_SUM = Formula(
    "periodic_spike_step_sum",
    (1 - S.beta1) / sp.sqrt(1 - S.beta2) * sp.sqrt(1 - S.beta2**S.P) / (1 - S.beta1**S.P) * (1 - _R**S.P) / (1 - _R),
    "notes Sec. 5.6: steady-state sum over one period of the normalised Adam steps m/sqrt(v) (no bias "
    "correction, eps = 0, lam = 0) of a coordinate whose gradient is a spike every P = n/B iterations; "
    "S(1) = 1 (a sign step), S(P) ~ sqrt(P) for P << 1/(1 - beta2); needs beta1^2 < beta2",
)


def _stationarity_ratio(gamma: npt.NDArray[np.float64], q: npt.NDArray[np.float64],
                        m_eff: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """h(gamma) = (q/2) gamma^{q-2} |ell(gamma)|: the data-to-decay balance divided by lam * gamma."""
    log_abs_ell = -np.logaddexp(0.0, m_eff * gamma**q)  # |ell| = 1/(1 + exp(m_eff gamma^q))
    return q / 2 * np.exp((q - 2) * np.log(gamma) + log_abs_ell)


def adam_feature_fixed_point(q: npt.ArrayLike, lam: npt.ArrayLike, m_eff: npt.ArrayLike = 1.0,
                             iterations: int = 200) -> npt.NDArray[np.float64] | float:
    """The stable (largest) root of ``ADAM_FEATURE_STATIONARITY`` in gamma, float64, broadcast.

    h(gamma) = (q/2) gamma^{q-2} / (1 + exp(m_eff gamma^q)) is unimodal on gamma > 0 for q > 2
    (d log h / d gamma = (q-2)/gamma - q m_eff gamma^{q-1} sigmoid(m_eff gamma^q) is decreasing), so the
    equation h = lam has at most two roots; the larger one is where the Stage-II feature saturates
    (beyond it weight decay wins, below it the data gradient wins). Both roots are found by bisection
    to float64 precision. Where lam exceeds max h there is no root and the result is NaN: Adam's L2
    term then beats the data gradient at every feature level (the mechanism of Cor. 4.3).

    Example: q = 3, lam = 1e-5, m_eff = 1 gives 2.337 (the notes' CNN run saturates at 2.343).
    """
    q_arr, lam_arr, m_arr = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (q, lam, m_eff)))
    for name, values, rule in (("q", q_arr, "q > 2"), ("lam", lam_arr, "lam > 0 (no stationary point without decay)"),
                               ("m_eff", m_arr, "m_eff > 0")):
        bad = ~(np.isfinite(values) & (values > (2.0 if name == "q" else 0.0)))
        if np.any(bad):
            raise ParameterError(name, values[bad].flat[0].item(), rule)

    # Peak of h: root of the decreasing d log h / d gamma, bracketed in (0, hi].
    def slope(g: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        z = m_arr * g**q_arr
        return (q_arr - 2) / g - q_arr * m_arr * g ** (q_arr - 1) / (1 + np.exp(-z))

    lo = np.full(q_arr.shape, 1e-300)
    hi = np.ones(q_arr.shape)
    while np.any(slope(hi) > 0):
        hi = np.where(slope(hi) > 0, 2 * hi, hi)
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        rising = slope(mid) > 0
        lo, hi = np.where(rising, mid, lo), np.where(rising, hi, mid)
    peak = 0.5 * (lo + hi)
    solvable = _stationarity_ratio(peak, q_arr, m_arr) >= lam_arr

    # Largest root: h decreases on [peak, inf); expand the upper end until h < lam.
    lo = peak.copy()
    hi = 2 * peak
    while np.any(solvable & (_stationarity_ratio(hi, q_arr, m_arr) >= lam_arr)):
        hi = np.where(_stationarity_ratio(hi, q_arr, m_arr) >= lam_arr, 2 * hi, hi)
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        above = _stationarity_ratio(mid, q_arr, m_arr) >= lam_arr
        lo, hi = np.where(above, mid, lo), np.where(above, hi, mid)
    root = np.where(solvable, 0.5 * (lo + hi), np.nan)
    return float(root) if root.ndim == 0 else root
