"""Closed forms derived from the per-step updates (Tang et al. 2025, App. B-C; notes §5.3-5.6).

* The per-epoch SignSGDW recursion and its fixed points gamma* = 1/lam and
  zeta* ~ B ||xi||_1 / (n lam) (Lemmas B.8/B.11: rho* = Theta(B s sigma_p / (n lam))).
* The Adam feature stationary point (q/2) gamma^{q-1} |ell(gamma)| = lam gamma (Lemma C.7 Stage II;
  the paper's explicit level (1/m log(1/lam - 1))^{1/q} is ``ADAM_STAGE2_LEVEL``).
* The periodic-spike Adam step sum S(P; beta1, beta2), the beta-aware constant in the
  n/B >= Theta(log 1/eps) batch condition of Thm 4.2 (notes §5.6).

The per-epoch forms take the sign of every drive as constant over the epoch (positive feature drive;
the sampled noise coordinate steps towards sgn(xi_i[k])), which is the Stage-I situation of Lemmas
B.6/B.10. P = n/B is the number of iterations per epoch; tau in {0, ..., P-1} is the position of
sample i inside its epoch (Lemma C.2's fixed cyclic order).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import sympy as sp
from scipy import special
from scipy.optimize import elementwise
from sympy.codegen.cfunctions import expm1, log1p

from theorykit import symbols as S
from theorykit.errors import ParameterError
from theorykit.formula import Formula

_DECAY = 1 - S.eta * S.lam
_LOG_DECAY = log1p(-S.eta * S.lam)  # log(1 - eta lam), for the cancellation-free numeric forms

SIGNSGDW_EPOCH_FEATURE = Formula(
    "signsgdw_epoch_feature",
    _DECAY**S.P * S.gamma + (1 - _DECAY**S.P) / S.lam,
    "P = n/B SignSGDW steps (B.5) with sgn(drive) = +1: gamma -> (1-eta lam)^P gamma + (1-(1-eta "
    "lam)^P)/lam (notes §5.3: (1-eta lam)^{n/B} gamma + Theta(eta n/B)); needs lam > 0",
    numeric=sp.exp(S.P * _LOG_DECAY) * S.gamma - expm1(S.P * _LOG_DECAY) / S.lam,
)

SIGNSGDW_EPOCH_PURE_NOISE = Formula(
    "signsgdw_epoch_pure_noise",
    _DECAY**S.P * S.zeta + S.eta * S.l1_noise * _DECAY ** (S.P - 1 - S.tau),
    "one epoch of (B.6) with sample i drawn once, at position tau: zeta -> (1-eta lam)^P zeta "
    "+ eta ||xi_i||_1 (1-eta lam)^{P-1-tau} (notes §5.3: + Theta~(eta s sigma_p) per epoch)",
)

SIGNSGDW_FEATURE_FIXED_POINT = Formula(
    "signsgdw_feature_fixed_point",
    1 / S.lam,
    "fixed point of SIGNSGDW_EPOCH_FEATURE: gamma* = 1/lam (Lemmas B.8/B.11: Theta~(1/lam))",
)

SIGNSGDW_PURE_NOISE_FIXED_POINT = Formula(
    "signsgdw_pure_noise_fixed_point",
    S.eta * S.l1_noise * _DECAY ** (S.P - 1 - S.tau) / (1 - _DECAY**S.P),
    "fixed point of SIGNSGDW_EPOCH_PURE_NOISE: eta ||xi||_1 (1-eta lam)^{P-1-tau} / (1-(1-eta "
    "lam)^P) -> ||xi||_1/(P lam) = B ||xi||_1/(n lam) as eta lam -> 0 (Lemmas B.8/B.11: Theta~(B "
    "s sigma_p/(n lam)))",
    numeric=-S.eta * S.l1_noise * sp.exp((S.P - 1 - S.tau) * _LOG_DECAY) / expm1(S.P * _LOG_DECAY),
)

ADAM_FEATURE_STATIONARITY = Formula(
    "adam_feature_stationarity",
    S.q / 2 * S.gamma ** (S.q - 1) / (1 + sp.exp(S.m_eff * S.gamma**S.q)) - S.lam * S.gamma,
    "zero at a stationary point of the sign-type feature update (B.3) in Stage II: (q/2) "
    "gamma^{q-1} |ell(gamma)| = lam gamma with |ell| = 1/(1 + exp(m_eff gamma^q)); the 1/2 is the "
    "share of a batch with y_i = j (notes §5.4(b); m_eff = 1 matches the CNN's surviving "
    "filter)",
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
    (1 - S.beta1)
    / sp.sqrt(1 - S.beta2)
    * sp.sqrt(1 - S.beta2**S.P)
    / (1 - S.beta1**S.P)
    * (1 - _R**S.P)
    / (1 - _R),
    "notes §5.6: steady-state sum over one period of the normalised Adam steps m/sqrt(v) (no "
    "bias correction, eps = 0, lam = 0) of a coordinate whose gradient is a spike every P = n/B "
    "iterations; S(1) = 1 (a sign step), S(P) ~ sqrt(P) for P << 1/(1 - beta2); needs beta1^2 < "
    "beta2",
)


def _log_stationarity_ratio(
    log_gamma: npt.NDArray[np.float64], q: npt.NDArray[np.float64], m_eff: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """log h(gamma), h = (q/2) gamma^{q-2} |ell(gamma)|: the data-to-decay balance divided by lam
    gamma, with |ell| = 1/(1 + exp(m_eff gamma^q)); -inf where m_eff gamma^q overflows."""
    with np.errstate(over="ignore"):
        return (
            np.log(q / 2) + (q - 2) * log_gamma - np.logaddexp(0.0, m_eff * np.exp(q * log_gamma))
        )


def adam_feature_fixed_point(
    q: npt.ArrayLike, lam: npt.ArrayLike, m_eff: npt.ArrayLike = 1.0
) -> npt.NDArray[np.float64] | float:
    """The stable (largest) root of ``ADAM_FEATURE_STATIONARITY`` in gamma, float64, broadcast.

    h(gamma) = (q/2) gamma^{q-2} / (1 + exp(m_eff gamma^q)) is unimodal on gamma > 0 for q > 2
    (d log h / d log gamma = (q-2) - q z sigmoid(z), z = m_eff gamma^q, is decreasing), so the
    equation h = lam has at most two roots; the larger one is where the Stage-II feature saturates
    (beyond it weight decay wins, below it the data gradient wins). The peak is the root z* of
    z sigmoid(z) = (q-2)/q in (0, 2); the larger root is found in log gamma to the right of it. Both
    by ``scipy.optimize.elementwise`` (bracketing, to float64 precision). Where lam exceeds max h
    there is no root and the result is NaN: Adam's L2 term then beats the data gradient at every
    feature level (the mechanism of Cor. 4.3).

    Example: q = 3, lam = 1e-5, m_eff = 1 gives 2.337 (the CNN saturates at 2.343, notes §6.4).
    """
    q_arr, lam_arr, m_arr = np.broadcast_arrays(
        *(np.asarray(v, dtype=np.float64) for v in (q, lam, m_eff))
    )
    for name, values, rule in (
        ("q", q_arr, "q > 2"),
        ("lam", lam_arr, "lam > 0 (no stationary point without decay)"),
        ("m_eff", m_arr, "m_eff > 0"),
    ):
        bad = ~(np.isfinite(values) & (values > (2.0 if name == "q" else 0.0)))
        if np.any(bad):
            raise ParameterError(name, values[bad].flat[0].item(), rule)

    peak_z = elementwise.find_root(
        lambda z, q_: z * special.expit(z) - (q_ - 2) / q_, (0.0, 2.0), args=(q_arr,)
    ).x
    log_peak = np.log(peak_z / m_arr) / q_arr
    solvable = _log_stationarity_ratio(log_peak, q_arr, m_arr) >= np.log(lam_arr)

    def excess(log_gamma, q_, m_, log_lam):
        return _log_stationarity_ratio(log_gamma, q_, m_) - log_lam

    args = (q_arr, m_arr, np.log(lam_arr))
    bracket = elementwise.bracket_root(excess, log_peak, log_peak + 1.0, xmin=log_peak, args=args)
    root = elementwise.find_root(excess, (bracket.bracket[0], bracket.bracket[1]), args=args).x
    result = np.where(solvable, np.exp(root), np.nan)
    return float(result) if result.ndim == 0 else result
