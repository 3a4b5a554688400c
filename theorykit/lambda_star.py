"""The finite-size lambda thresholds of Tang et al. 2025: ``LAMBDA_STAR_ADAM``,
``LAMBDA_STAR_ADAMW``.

Explicit predictions of the lam above which the feature coefficient cannot grow from
initialisation. Derivation (Lemma A.7 at t = 0, as in the proofs of Lemma C.10/B.5):

1. At t = 0 the two heads' outputs are O(m sigma0^q) apart, so |ell_{j,i}^(0)| = 1/2 (Lemma A.3:
   Theta(1); the value 1/2 is its leading order).
2. For the best filter of head j, gamma0 = max_r <w^(0)_{j,r}, j v> (``theorykit.initialization``),
   the batch-mean feature drive (``updates.FEATURE_DRIVE_PER_SAMPLE`` averaged over the batch and
   over the initialisation) is ``D0 = |ell0| [ (1/2) q gamma0^{q-1} - alpha q (sigma0
   noise_norm)^{q-1} M_{q-1} ]``: half of the samples have y_i = j and feed sigma'(gamma0); every
   sample feeds the feature-noise term through xi_i[1] = -alpha y_i with rho^(0) ~ N(0, sigma0^2
   noise_norm^2), and E[sigma'(rho^(0))] = q (sigma0 noise_norm)^{q-1} M_{q-1}, M_k = E[max(Z,
   0)^k]. (Adam's beta1 averages over ~1/(1-beta1) batches, so the batch mean, not one batch, sets
   the sign.)
3. Adam (L2 inside the normalisation, (3.3)-(3.5)) moves gamma by +-eta along sgn(D0 - lam gamma0)
   (Lemma C.2), so the feature grows iff lam < D0 / gamma0 =: lambda*_Adam. Above it gamma shrinks,
   gamma^{q-2} shrinks with it and the inequality only worsens: training is stuck (Cor. 4.3). The
   scale is (q/4) gamma0^{q-2} ~ sigma0^{q-2}, Cor. 4.3's.
4. AdamW ((3.6)) moves gamma by eta u - eta lam gamma0 with the normalised step
   u = D0 / (|D0| + eps) (the steady state m = g, v = g^2 of a constant gradient), so the feature
   grows iff lam < u / gamma0 =: lambda*_AdamW ~ 1/sigma0, a constant-order window as in Cor. 4.6.

A negative threshold means the feature-noise term already wins at initialisation: no lam >= 0 lets
the feature grow. Thresholds are not clamped, and none is compared where it is not a positive finite
number (:func:`theorykit.asymptotic_reading.readable_threshold`; q >~ 12.5 at the paper's setting
makes lambda*_Adam negative): the comparison is not made, the threshold prints as n/a and the
verdict says why.
"""

from __future__ import annotations

import sympy as sp

from theorykit import symbols as S
from theorykit.formula import Formula
from theorykit.initialization import positive_part_moment

ABS_ELL_AT_INIT = sp.Rational(1, 2)

FEATURE_DRIVE_AT_INIT = Formula(
    "feature_drive_at_init",
    ABS_ELL_AT_INIT
    * (
        S.q * S.gamma0 ** (S.q - 1) / 2
        - S.alpha * S.q * (S.sigma0 * S.noise_norm) ** (S.q - 1) * positive_part_moment(S.q - 1)
    ),
    "Lemma A.7 (k = 1) at t = 0, averaged over the batch and the initialisation, for the best "
    "filter gamma0; |ell^(0)| = 1/2 (Lemma A.3)",
)

LAMBDA_STAR_ADAM = Formula(
    "lambda_star_adam",
    FEATURE_DRIVE_AT_INIT.expr / S.gamma0,
    "finite-size Cor. 4.3: Adam's feature grows from init iff lam < D0/gamma0 (derivation in "
    "theorykit.lambda_star)",
)

LAMBDA_STAR_ADAMW = Formula(
    "lambda_star_adamw",
    FEATURE_DRIVE_AT_INIT.expr / (sp.Abs(FEATURE_DRIVE_AT_INIT.expr) + S.eps) / S.gamma0,
    "finite-size counterpart for AdamW (3.6): feature grows from init iff lam < u0/gamma0, u0 = "
    "D0/(|D0| + eps)",
)
