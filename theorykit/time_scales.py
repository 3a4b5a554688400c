"""Time scales of the two-stage analysis (Tang et al. 2025): Stage-I length T0 and reversal time
T_r.

All three are the lemmas' O~(.) orders with the polylog factors and constants dropped, in iterations
(notes §0 and §5.5 sort out the lemmas' mixed units):

* ``STAGE1_LENGTH_LARGE_BATCH``: T0 = 1/(eta s sigma_p), Lemmas 5.1/C.3 (large-batch Adam; C.12 for
  AdamW): each iteration adds eta s sigma_p to every rho_i, which is Theta(1) after T0;
* ``STAGE1_LENGTH_MINI_BATCH``: T0 = 1/eta, Lemmas C.4-C.6 (mini-batch Adam): the feature grows by
  eta per iteration and is Theta(1) after T0;
* ``REVERSAL_TIME``: T_r = sigma0 / (eta s sigma_p alpha^{1/(q-1)}), Lemmas C.3/C.13 (large batch):
  once alpha sigma'(rho) beats sigma'(gamma) the feature coefficient falls by Theta(eta) per
  iteration.

``dynamics.outcomes.measured_time_scales`` reads the same quantities off a trajectory (reduced
dynamics or CNN), and ``theorykit compare`` puts them side by side; the ratio measures the dropped
polylog factors and constants.
"""

from __future__ import annotations

from theorykit import symbols as S
from theorykit.formula import Formula

STAGE1_LENGTH_LARGE_BATCH = Formula(
    "stage1_length_large_batch",
    1 / (S.eta * S.s * S.sigma_p),
    "Lemma 5.1/C.3 (C.12 for AdamW): T0 = O~(1/(eta s sigma_p)) iterations, polylogs dropped",
)

STAGE1_LENGTH_MINI_BATCH = Formula(
    "stage1_length_mini_batch",
    1 / S.eta,
    "Lemmas C.4-C.6: T0 = O~(1/eta) iterations, polylogs dropped",
)

REVERSAL_TIME = Formula(
    "reversal_time",
    S.sigma0 / (S.eta * S.s * S.sigma_p * S.alpha ** (1 / (S.q - 1))),
    "Lemma C.3/C.13: T_r = O~(sigma0 / (eta s sigma_p alpha^{1/(q-1)})) iterations, polylogs "
    "dropped; needs alpha > 0",
)
