"""Per-step scalar updates of the feature and noise coefficients (Tang et al. 2025, App. A-B).

Everything here is one optimiser step on one filter (j, r) and is exact for the two-layer CNN of
Definition 3.2 when the noise supports B_i are disjoint (Lemma A.4); the sign surrogates are the
paper's SignSGD (5.1)/(B.1) and SignSGDW (B.2).

Conventions
-----------
* sigma(z) = max(z, 0)^q, sigma'(z) = q max(z, 0)^{q-1}; sgn(0) = 0.
* The data *drive* of the feature coordinate is minus the gradient of the data loss along j v. Lemma
  A.7 (k = 1) gives, per sample i, ``|ell_{j,i}| [sigma'(j y_i gamma) - alpha
  sigma'(rho_{j,r,i})]``, and the step uses its batch mean ``drive = (1/B) sum_{i in I_t} (...)``
  (B.3 divided by B).
* On a noise coordinate k in B_i, minus the data gradient is
  ``(1[i in I_t] / B) ell_{j,i} sigma'(rho_{j,r,i}) xi_i[k]`` (Lemma A.7, second case).
* Adam/SignSGD/GD carry the L2 gradient ``+lam * w`` of objective (3.1) (lambda/2 in the loss);
  AdamW/SignSGDW multiply by (1 - eta*lam) and see only the data gradient, eqs. (3.2), (3.6), (B.2).
* gamma = <w, j v> = j w[1] and Adam is coordinate-wise and odd in the gradient, so every update of
  w[1] is the same update of gamma with the gradient ``-drive`` (+ ``lam * gamma`` for L2).
"""

from __future__ import annotations

import dataclasses

import sympy as sp

from theorykit import symbols as S
from theorykit.formula import Formula

__all__ = [
    "ADAMW_FEATURE_UPDATE",
    "ADAMW_NOISE_COORDINATE_UPDATE",
    "ADAM_FEATURE_UPDATE",
    "ADAM_NOISE_COORDINATE_UPDATE",
    "FEATURE_DRIVE_PER_SAMPLE",
    "GD_FEATURE_STEP",
    "GD_NOISE_COORDINATE_STEP",
    "GD_NOISE_STEP",
    "NOISE_DRIVE_PER_SAMPLE",
    "NOISE_FROM_PURE_NOISE",
    "SIGNSGDW_FEATURE_STEP",
    "SIGNSGDW_NOISE_COORDINATE_STEP",
    "SIGNSGD_FEATURE_STEP",
    "SIGNSGD_NOISE_COORDINATE_STEP",
    "AdamUpdate",
    "adam_update",
    "sigma",
    "sigma_prime",
]


def sigma(z: sp.Expr) -> sp.Expr:
    """ReLU^q activation, sigma(z) = max(z, 0)^q (Def. 3.2)."""
    return sp.Max(z, 0) ** S.q


def sigma_prime(z: sp.Expr) -> sp.Expr:
    """sigma'(z) = q max(z, 0)^{q-1} (Def. 3.2; enters every gradient of Lemma A.5)."""
    return S.q * sp.Max(z, 0) ** (S.q - 1)


FEATURE_DRIVE_PER_SAMPLE = Formula(
    "feature_drive_per_sample",
    S.abs_ell * (sigma_prime(S.jy * S.gamma) - S.alpha * sigma_prime(S.rho)),
    "Lemma A.7, k = 1: -j * (per-sample gradient on w[1]) = |ell_{j,i}| [sigma'(j y_i gamma) - "
    "alpha sigma'(rho)]; the -alpha term is the feature noise xi_i[1] = -alpha y_i (Def. 3.1)",
)

NOISE_DRIVE_PER_SAMPLE = Formula(
    "noise_drive_per_sample",
    S.sampled / S.B * S.ell * sigma_prime(S.rho),
    "Lemma A.7, k in B_i: minus the data gradient on w[k] is (1[i in I_t]/B) ell_{j,i} "
    "sigma'(rho_{j,r,i}) xi_i[k]; this is the factor in front of xi_i[k]",
)

NOISE_FROM_PURE_NOISE = Formula(
    "rho_from_zeta",
    S.zeta - S.alpha * S.jy * S.gamma,
    "notes §5.0: rho_{j,r,i} = zeta_{j,r,i} - alpha j y_i gamma_{j,r} (xi_i[1] = -alpha y_i)",
)

SIGNSGD_FEATURE_STEP = Formula(
    "signsgd_feature_step",
    S.gamma + S.eta * sp.sign(S.drive - S.lam * S.gamma),
    "(B.3)/(5.1): SignSGD = Adam with L2 inside the sign; gamma' = gamma + eta sgn(drive - lam "
    "gamma)",
)

SIGNSGDW_FEATURE_STEP = Formula(
    "signsgdw_feature_step",
    (1 - S.eta * S.lam) * S.gamma + S.eta * sp.sign(S.drive),
    "(B.5)/(B.2): SignSGDW; gamma' = (1 - eta lam) gamma + eta sgn(drive)",
)

GD_FEATURE_STEP = Formula(
    "gd_feature_step",
    S.gamma + S.eta * (S.drive - S.lam * S.gamma),
    "Zou notes §5.3 (GD on objective (3.1)); minibatch SGD when drive is a batch mean",
)

_NOISE_COORDINATE_DRIVE = NOISE_DRIVE_PER_SAMPLE.expr * S.xi_k

SIGNSGD_NOISE_COORDINATE_STEP = Formula(
    "signsgd_noise_coordinate_step",
    S.w_k + S.eta * sp.sign(_NOISE_COORDINATE_DRIVE - S.lam * S.w_k),
    "(B.4): w[k]' = w[k] + eta sgn((1[i in I_t]/B) ell sigma'(rho) xi_i[k] - lam w[k]), k in B_i",
)

SIGNSGDW_NOISE_COORDINATE_STEP = Formula(
    "signsgdw_noise_coordinate_step",
    (1 - S.eta * S.lam) * S.w_k + S.eta * sp.sign(_NOISE_COORDINATE_DRIVE),
    "(B.6): w[k]' = (1 - eta lam) w[k] + eta sgn((1[i in I_t]/B) ell sigma'(rho) xi_i[k]), k in "
    "B_i",
)

GD_NOISE_COORDINATE_STEP = Formula(
    "gd_noise_coordinate_step",
    S.w_k + S.eta * (_NOISE_COORDINATE_DRIVE - S.lam * S.w_k),
    "gradient step on objective (3.1) for one noise coordinate k in B_i (Lemma A.5)",
)

GD_NOISE_STEP = Formula(
    "gd_noise_step",
    (1 - S.eta * S.lam) * (S.rho + S.alpha * S.jy * S.gamma)
    + S.eta * NOISE_DRIVE_PER_SAMPLE.expr * S.l2sq_noise
    - S.alpha * S.jy * S.gamma_next,
    "Zou notes §5.3 (exact for disjoint supports): rho' = zeta' - alpha j y_i "
    "gamma', zeta' = (1 - eta lam) zeta + eta (1[i in I_t]/B) ell sigma'(rho) ||xi_i||_{2,B_i}^2; "
    "gamma_next from GD_FEATURE_STEP",
)


@dataclasses.dataclass(frozen=True)
class AdamUpdate:
    """One Adam/AdamW step on one coordinate: the moment recursions (3.4) and the weight
    (3.5)/(3.6).

    ``weight`` is the next weight with the next moments substituted in, so it is a function of the
    current (weight, mom1, mom2), the data gradient and the hyper-parameters (and ``t`` with bias
    correction).
    """

    first_moment: Formula
    second_moment: Formula
    weight: Formula


def adam_update(
    weight: sp.Symbol,
    data_gradient: sp.Expr,
    *,
    decoupled: bool,
    bias_correction: bool,
    name: str,
    where: str,
) -> AdamUpdate:
    """Build the Adam (``decoupled=False``) or AdamW (``decoupled=True``) update of one coordinate.

    Adam, eqs. (3.3)-(3.5): g = data_gradient + lam * weight; AdamW, eq. (3.6): g = data_gradient
    and weight' = (1 - eta lam) weight - eta * step. Moments: m' = beta1 m + (1 - beta1) g, v' =
    beta2 v + (1 - beta2) g^2, from m = v = 0. step = m' / (sqrt(v') + eps) as in the paper, or,
    with ``bias_correction``, (m'/(1 - beta1^t)) / (sqrt(v'/(1 - beta2^t)) + eps) as in
    ``torch.optim.Adam``, t >= 1 the index of this step.
    """
    gradient = data_gradient if decoupled else data_gradient + S.lam * weight
    first = S.beta1 * S.mom1 + (1 - S.beta1) * gradient
    second = S.beta2 * S.mom2 + (1 - S.beta2) * gradient**2
    if bias_correction:
        step = (first / (1 - S.beta1**S.t)) / (sp.sqrt(second / (1 - S.beta2**S.t)) + S.eps)
    else:
        step = first / (sp.sqrt(second) + S.eps)
    decay = (1 - S.eta * S.lam) if decoupled else 1
    kind = "AdamW (3.6)" if decoupled else "Adam (3.5), L2 inside the moments"
    correction = "with" if bias_correction else "without"
    source = f"{kind}, {correction} bias correction, on {where}"
    return AdamUpdate(
        first_moment=Formula(f"{name}_first_moment", first, f"(3.4) first moment; {source}"),
        second_moment=Formula(f"{name}_second_moment", second, f"(3.4) second moment; {source}"),
        weight=Formula(f"{name}_weight", decay * weight - S.eta * step, source),
    )


#: The paper's updates (no bias correction) of the two coordinates the reduction tracks, by
#: (optimiser, coordinate): gamma = j w[1] driven by -drive, and a noise coordinate w[k], k in B_i.
_PAPER_UPDATES = {
    (kind, coordinate): adam_update(
        weight,
        -drive,
        decoupled=decoupled,
        bias_correction=False,
        name=f"{kind}_{coordinate}",
        where=where,
    )
    for kind, decoupled in (("adam", False), ("adamw", True))
    for coordinate, weight, drive, where in (
        ("feature", S.gamma, S.drive, "gamma = j w[1]"),
        ("noise_coordinate", S.w_k, _NOISE_COORDINATE_DRIVE, "w[k], k in B_i"),
    )
}
ADAM_FEATURE_UPDATE = _PAPER_UPDATES["adam", "feature"]
ADAMW_FEATURE_UPDATE = _PAPER_UPDATES["adamw", "feature"]
ADAM_NOISE_COORDINATE_UPDATE = _PAPER_UPDATES["adam", "noise_coordinate"]
ADAMW_NOISE_COORDINATE_UPDATE = _PAPER_UPDATES["adamw", "noise_coordinate"]
