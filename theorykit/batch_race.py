"""The large/mini-batch race of Tang et al. 2025 as a finite-size prediction: the critical batch
size B*.

Stage I of the proofs (Lemmas B.6/B.10 for SignSGD(W), Lemma C.2 for Adam(W)) is a race between
the feature coefficient gamma = <w_{j,r}, j v> and each sample's noise coefficient
rho_i = <w_{y_i,r}, xi_i>. Per epoch of P = n/B iterations (notes §5.3, 5.6):

* the feature coordinate gets a consistent batch gradient every iteration, so a sign-type step moves
  gamma by eta per iteration: **eta P per epoch**;
* sample i is drawn once per epoch. A sign step moves each of its s noise coordinates by eta towards
  sgn(xi_i[k]), so rho_i grows by eta ||xi_i||_1 per visit (SignSGD, SignSGDW). Adam's moments
  spread the one spike over the period: the steady-state sum of the normalised steps is S(P; beta1,
  beta2) (``closed_forms.PERIODIC_SPIKE_STEP_SUM``), so rho_i grows by **eta S(P) ||xi_i||_1 per
  epoch** (Adam, AdamW).

The noise-to-feature growth ratio per epoch is therefore

    R(P) = C_batch_race * S(P) * E||xi_i||_1 / P,     E||xi_i||_1 = sqrt(2/pi) s sigma_p

(S = 1 for SignSGD(W); E||xi||_1 from Def. 3.1's s Gaussian coordinates N(0, sigma_p^2); the feature
coordinate xi_i[1] = -alpha y_i is not a noise coordinate). The feature wins -- mini-batch, Thm
4.2/4.5 -- when R < 1, the noise wins -- large batch, Thm 4.1/4.4 -- when R > 1. R(P) decreases in
P (S grows like sqrt(P) at most), so there is one critical P* with R(P*) = 1 and the large-batch
failure begins at B* = n / P*. Without Adam's moments this is the paper's "n/B vs s sigma_p"; with
them it is "sqrt(n/B) vs s sigma_p" for P << 1/(1 - beta2), the beta-aware correction of notes §5.6.

``C_batch_race`` (``HiddenConstants.batch_race``, default 1) is the Theta(1) the race hides: which
level gamma and rho must reach, the 1/2 of filters whose rho starts positive, and -- not modelled at
all -- coupling between samples whose supports overlap. ``theorykit compare``
(:mod:`validation.batch_comparison`) measures how far the CNN's boundary sits from B*: on
2026-11-23, at 6000 iterations, the constant that puts B* at the CNN's boundary was 0.53 on both
disjoint-support settings that have a boundary (Adam and AdamW alike), and 0.21-0.33 on the paper's
overlapping supports.

Conventions: the decay lam is left out (Stage I, lam eta P << 1); S(P) is the bias-correction-free,
eps = 0 steady state; float64.
"""

from __future__ import annotations

import math
import sys

import sympy as sp
from scipy import optimize

from theorykit import symbols as S
from theorykit.closed_forms import PERIODIC_SPIKE_STEP_SUM
from theorykit.constants import HiddenConstants
from theorykit.errors import ParameterError
from theorykit.formula import Formula
from theorykit.params import ProblemParams

EXPECTED_NOISE_L1 = Formula(
    "expected_noise_l1",
    sp.sqrt(2 / sp.pi) * S.s * S.sigma_p,
    "E||xi_i||_1 over the support B_i: s coordinates N(0, sigma_p^2) (Def. 3.1), E|N(0, 1)| = "
    "sqrt(2/pi)",
)

SIGN_NOISE_TO_FEATURE = Formula(
    "sign_noise_to_feature",
    S.C_batch_race * S.l1_noise / S.P,
    "per-epoch growth of rho_i over that of gamma under SignSGD(W): eta ||xi_i||_1 per visit vs "
    "eta per iteration (Lemmas B.6/B.10; notes §5.3); > 1: noise memorisation wins",
)

ADAM_NOISE_TO_FEATURE = Formula(
    "adam_noise_to_feature",
    S.C_batch_race * PERIODIC_SPIKE_STEP_SUM.expr * S.l1_noise / S.P,
    "per-epoch growth of rho_i over that of gamma under Adam(W): eta S(P) ||xi_i||_1 per epoch vs "
    "eta P (Lemma C.2; notes §5.6); > 1: noise memorisation wins",
)


def _ratio_formula(params: ProblemParams) -> Formula:
    """The sign steps move a visited coordinate once (S = 1); Adam's moments spread a visit over the
    period (S = S(P; beta1, beta2))."""
    if params.kind.preconditioner == "sign":
        return SIGN_NOISE_TO_FEATURE
    if params.kind.has_moments:
        if not params.beta1**2 < params.beta2:
            raise ParameterError(
                "beta1",
                params.beta1,
                f"beta1^2 < beta2 = {params.beta2} for S(P; beta1, beta2) (Lemma C.1; notes §5.6)",
            )
        return ADAM_NOISE_TO_FEATURE
    raise ParameterError(
        "optimizer",
        params.optimizer,
        "a sign-type optimiser (adam, adamw, signsgd, signsgdw); "
        "GD's race is theorykit.bounds.GD_LEARNS_FEATURE",
    )


def noise_to_feature_ratio(
    params: ProblemParams,
    constants: HiddenConstants | None = None,
    steps_per_epoch: float | None = None,
) -> float:
    """R(P) at ``params`` (P = n/B unless ``steps_per_epoch`` is given): the noise coefficient's
    growth per epoch over the feature's, with E||xi||_1 for ||xi_i||_1. R > 1 predicts large-batch
    memorisation."""
    formula = _ratio_formula(params)
    P = params.steps_per_epoch if steps_per_epoch is None else steps_per_epoch
    if not P > 0:
        raise ParameterError("steps_per_epoch", P, "P > 0")
    values = (constants or HiddenConstants()).symbol_values()
    return float(formula.at(params, P=P, l1_noise=EXPECTED_NOISE_L1.at(params), **values))


def critical_steps_per_epoch(
    params: ProblemParams, constants: HiddenConstants | None = None
) -> float:
    """P* with R(P*) = 1: fewer iterations per epoch than P* (larger batches) memorise noise.

    SignSGD(W): P* = C_batch_race E||xi||_1 in closed form. Adam(W): the root of log R(P) in log P
    by Brent's method (``scipy.optimize.brentq``) to float64 precision; R(P) is decreasing in P
    (checked by a property test), so the root is unique. P* < 1 means the feature wins even at full
    batch.
    """
    if params.kind.preconditioner == "sign":
        return noise_to_feature_ratio(params, constants, steps_per_epoch=1.0)

    def log_ratio(log_p: float) -> float:
        return math.log(noise_to_feature_ratio(params, constants, steps_per_epoch=math.exp(log_p)))

    lo = hi = 0.0  # bracket in log P: log R(lo) > 0 >= log R(hi), doubling P outwards from P = 1
    while log_ratio(lo) <= 0.0:
        lo -= math.log(2.0)
    while log_ratio(hi) > 0.0:
        hi += math.log(2.0)
    return math.exp(optimize.brentq(log_ratio, lo, hi, xtol=1e-15, rtol=4 * sys.float_info.epsilon))


def critical_batch_size(params: ProblemParams, constants: HiddenConstants | None = None) -> float:
    """B* = n / P*: the batch size from which the race predicts noise memorisation (Thm 4.1/4.4)
    rather than feature learning (Thm 4.2/4.5). Not rounded and not clipped to [1, n]: B* > n means
    no batch size memorises, B* < 1 means every batch size does."""
    return params.n / critical_steps_per_epoch(params, constants)
