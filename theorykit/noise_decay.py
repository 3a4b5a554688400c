"""Adam's coupled weight decay against the noise coordinates (Tang et al. 2025, Thms 4.1/4.2's
lam = o(sigma0^{q-2} sigma_p / n), Lemma C.3's condition) at a finite setting.

Adam's L2 term lam w enters the gradient before the normalisation (eqs. 3.3-3.5), so on a noise
coordinate k of sample i it competes with the data gradient itself, not with a step size. Lemma
C.3 asks that the data gradient beat it on most of B_i at initialisation; docs/notes/overlap.md §7
derives the finite-size reading used here:

1. Over an epoch sample i's coordinate gets its data gradient (1/B) |ell| sigma'(rho) |xi_i[k]|
   once and the decay lam w[k] every iteration. While Adam's second moment is steady over the
   period (P << 1/(1 - beta2)), the step follows the first moment, whose epoch mean is the mean
   gradient: the coordinate grows towards the data while (1/n) |ell| sigma'(rho) |xi_i[k]| >
   lam w[k], B drops out. Its aligned weight u_k = w[k] sgn(xi_i[k]) therefore settles at
   u_k = |ell| q rho^{q-1} |xi_i[k]| / (n lam).
2. Summed over B_i, rho = sum_k u_k |xi_i[k]| settles at |ell| q rho^{q-1} s sigma_p^2 / (n lam),
   whose fixed point rho* (``COUPLED_DECAY_NOISE_LEVEL``) is unstable for q > 2: a sample whose
   best filter starts above it outgrows the decay and enters the race of
   :mod:`theorykit.batch_race`; below it, its noise coefficient decays. |ell| = 1/2, its value at
   initialisation (Lemma A.3, as ``theorykit.lambda_star``).
3. The m filters of the sample's head start at rho_{j,r,i}(0) ~ N(0, sigma0^2 noise_norm^2)
   (``theorykit.initialization``), so the fraction of a head's samples whose noise escapes is
   f = 1 - Phi(rho* / (sigma0 noise_norm))^m (``NOISE_ESCAPE_FRACTION``).

Only escaped samples push the head's feature back through the feature noise xi_i[1] = -alpha y_i,
so the race's reversal ratio is (f alpha)^{-1/(q-1)} (``batch_race.REVERSAL_RATIO``). f = 1 for
AdamW and SignSGDW (the decay is a factor outside the normalisation, eta lam per iteration, far
below a step), for lam = 0, and for SignSGD: its sign step sees the decay alone whenever the sample
is not in the batch, a per-iteration rule that the epoch average of step 1 does not describe and
that is not modelled here. No hidden constant.
"""

from __future__ import annotations

import sympy as sp

from theorykit import symbols as S
from theorykit.formula import Formula
from theorykit.lambda_star import ABS_ELL_AT_INIT
from theorykit.params import ProblemParams

COUPLED_DECAY_NOISE_LEVEL = Formula(
    "coupled_decay_noise_level",
    (S.n * S.lam / (ABS_ELL_AT_INIT * S.q * S.s * S.sigma_p**2)) ** (1 / (S.q - 2)),
    "docs/notes/overlap.md §7 (Lemma C.3's condition at a finite setting): Adam's noise "
    "coordinates settle at |ell| q rho^{q-1} |xi_i[k]| / (n lam), so rho settles at |ell| q "
    "rho^{q-1} s sigma_p^2 / (n lam); rho* is its unstable fixed point, |ell| = 1/2",
)

NOISE_ESCAPE_FRACTION = Formula(
    "noise_escape_fraction",
    1
    - ((1 + sp.erf(COUPLED_DECAY_NOISE_LEVEL.expr / (S.sigma0 * S.noise_norm * sp.sqrt(2)))) / 2)
    ** S.m,
    "docs/notes/overlap.md §7: the probability that the best of a sample's m filters starts above "
    "rho*, rho_{j,r,i}(0) ~ N(0, sigma0^2 noise_norm^2) (Lemma A.3)",
)


def escape_fraction(params: ProblemParams) -> float:
    """The fraction f of a head's samples whose noise coefficient outgrows the decay
    (:data:`NOISE_ESCAPE_FRACTION`) for Adam with lam > 0; 1 for every other optimiser and for
    lam = 0 (the module docstring)."""
    kind = params.kind
    if not kind.has_moments or kind.decoupled or params.lam == 0:
        return 1.0
    return float(NOISE_ESCAPE_FRACTION.at(params))
