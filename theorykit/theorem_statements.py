"""The theorems' weight-decay (lambda) and batch-size statements, each a :class:`Bound`.

Tang et al. 2025, read at a finite setting with every hidden constant named
(:mod:`theorykit.asymptotic_reading` for the reading):

* Thm 4.1/4.2 (Adam admissible): lam = o(sigma0^{q-2} sigma_p / n)
* Cor 4.3 (Adam stuck at initialisation): lam = omega(sigma0^{q-2})
* Thm 4.4/4.5, Cor 4.6 (AdamW window): Omega~(B^2/n ^ 1) <= lam <= O~(1)
* batch regimes: n/B = Theta(1) (Thm 4.1, 4.4), n/B >= Theta(log 1/eps) (Thm 4.2, 4.5),
  n/B = omega(s sigma_p v sqrt n) (Thm 4.5), n/B = o(s sigma_p) (Thm 4.4)

and GD's n SNR^q race of Zou et al. 2023 / Cao et al. 2022.
"""

from __future__ import annotations

import sympy as sp

from theorykit import symbols as S
from theorykit.asymptotic_reading import Bound
from theorykit.formula import Formula

ADAM_LAMBDA_CEILING = Formula(
    "adam_lambda_ceiling",
    S.C_adam_ceiling * S.sigma0 ** (S.q - 2) * S.sigma_p / S.n,
    "Thm 4.1/4.2: 0 < lam = o(sigma0^{q-2} sigma_p / n), read as lam <= C_adam_ceiling "
    "sigma0^{q-2} sigma_p/n",
)

ADAM_STUCK_FLOOR = Formula(
    "adam_stuck_floor",
    S.C_adam_stuck * S.sigma0 ** (S.q - 2),
    "Cor 4.3: lam = omega(sigma0^{q-2}) => Adam stuck at init, read as lam >= C_adam_stuck "
    "sigma0^{q-2}",
)

ADAMW_LAMBDA_FLOOR = Formula(
    "adamw_lambda_floor",
    S.C_adamw_floor * sp.Min(S.B**2 / S.n, 1),
    "Thm 4.4/4.5, Cor 4.6: lam = Omega~(B^2/n ^ 1), read as lam >= C_adamw_floor min(B^2/n, 1)",
)

ADAMW_LAMBDA_CEILING = Formula(
    "adamw_lambda_ceiling",
    S.C_adamw_ceiling * sp.Integer(1),
    "Thm 4.4/4.5, Cor 4.6: lam = O~(1), read as lam <= C_adamw_ceiling",
)

STEPS_PER_EPOCH = Formula("steps_per_epoch", S.n / S.B, "n/B iterations per epoch (Sec. 3)")

LARGE_BATCH_CEILING = Formula(
    "large_batch_ceiling",
    S.C_large_batch * sp.Integer(1),
    "Thm 4.1/4.4: n/B = Theta(1), read as n/B <= C_large_batch",
)

MINI_BATCH_FLOOR = Formula(
    "mini_batch_floor",
    S.C_mini_batch * sp.log(1 / S.eps),
    "Thm 4.2/4.5: n/B >= Theta(log 1/eps), read as n/B >= C_mini_batch log(1/eps) (eps: Adam's "
    "stability constant)",
)

ADAMW_MINI_BATCH_FLOOR = Formula(
    "adamw_mini_batch_floor",
    S.C_adamw_mini_batch * sp.Max(S.s * S.sigma_p, sp.sqrt(S.n)),
    "Thm 4.5: n/B = omega(s sigma_p v n^{1/2}), read as n/B >= C_adamw_mini_batch max(s sigma_p, "
    "sqrt n)",
)

ADAMW_LARGE_BATCH_CEILING = Formula(
    "adamw_large_batch_ceiling",
    S.s * S.sigma_p / S.C_adamw_mini_batch,
    "Thm 4.4: n/B = o(s sigma_p), read as n/B < s sigma_p / C_adamw_mini_batch",
)

_LAM = Formula("lam", S.lam, "weight decay")

ADAM_ADMISSIBLE = Bound(
    "adam_admissible",
    "lam = o(sigma0^{q-2} sigma_p / n)  [Thm 4.1/4.2]",
    _LAM,
    "<=",
    ADAM_LAMBDA_CEILING,
    positive_threshold=True,
)
ADAM_STUCK = Bound(
    "adam_stuck",
    "lam = omega(sigma0^{q-2})  [Cor 4.3]",
    _LAM,
    ">=",
    ADAM_STUCK_FLOOR,
    positive_threshold=True,
)
ADAMW_ABOVE_FLOOR = Bound(
    "adamw_above_floor",
    "lam = Omega~(B^2/n ^ 1)  [Thm 4.4/4.5]",
    _LAM,
    ">=",
    ADAMW_LAMBDA_FLOOR,
    positive_threshold=True,
)
ADAMW_BELOW_CEILING = Bound(
    "adamw_below_ceiling",
    "lam = O~(1)  [Thm 4.4/4.5]",
    _LAM,
    "<=",
    ADAMW_LAMBDA_CEILING,
    positive_threshold=True,
)
LARGE_BATCH = Bound(
    "large_batch",
    "n/B = Theta(1)  [Thm 4.1/4.4]",
    STEPS_PER_EPOCH,
    "<=",
    LARGE_BATCH_CEILING,
    positive_threshold=True,
)
MINI_BATCH = Bound(
    "mini_batch",
    "n/B >= Theta(log 1/eps)  [Thm 4.2/4.5]",
    STEPS_PER_EPOCH,
    ">=",
    MINI_BATCH_FLOOR,
    positive_threshold=True,
)
ADAMW_MINI_BATCH = Bound(
    "adamw_mini_batch",
    "n/B = omega(s sigma_p v sqrt n)  [Thm 4.5]",
    STEPS_PER_EPOCH,
    ">=",
    ADAMW_MINI_BATCH_FLOOR,
    positive_threshold=True,
)
ADAMW_LARGE_BATCH = Bound(
    "adamw_large_batch",
    "n/B = o(s sigma_p)  [Thm 4.4]",
    STEPS_PER_EPOCH,
    "<",
    ADAMW_LARGE_BATCH_CEILING,
    positive_threshold=True,
)

GD_SNR = Formula(
    "gd_snr",
    1 / (sp.sqrt(S.s) * S.sigma_p),
    "Zou et al. 2023 (Zou notes §5): SNR = ||v||_2 / ||xi||_2 = 1 / (sqrt(s) sigma_p) for the "
    "s-sparse noise patch",
)
GD_FEATURE_RACE = Formula(
    "gd_feature_race",
    S.n * GD_SNR.expr**S.q,
    "Zou et al. 2023 / Cao et al. 2022: n SNR^q, the ratio of GD's feature to noise tensor-power "
    "growth rates",
)
GD_RACE_THRESHOLD = Formula(
    "gd_race_threshold",
    sp.Integer(2),
    "Zou notes §5 [D]: GD's feature blows up first (t*_gamma < t*_rho) iff n SNR^q >~ 2",
)
GD_LEARNS_FEATURE = Bound(
    "gd_learns_feature",
    "n SNR^q >~ 2  [Zou et al. 2023, GD]",
    GD_FEATURE_RACE,
    ">=",
    GD_RACE_THRESHOLD,
    positive_threshold=True,
)
