"""The weight-decay (lambda) and batch-size bounds of Tang et al. 2025, in one namespace.

Two kinds of statement, each in its module and all importable from here:

* **Asymptotic statements** (:class:`Bound`, :mod:`theorykit.asymptotic_reading`): the theorems'
  conditions with every hidden constant a named sympy symbol, read at a finite setting
  (:mod:`theorykit.theorem_statements`: Thm 4.1/4.2, Cor 4.3, Thm 4.4/4.5, Cor 4.6, the batch
  regimes, GD's n SNR^q race);
* **Finite-size thresholds** (``LAMBDA_STAR_ADAM``, ``LAMBDA_STAR_ADAMW``,
  :mod:`theorykit.lambda_star`, derived from Lemma A.7 at t = 0): the lam above which the feature
  coefficient cannot grow from initialisation.

Which theorem applies at a setting and what it predicts (:func:`batch_regime`,
:func:`lambda_regime`, :func:`theorem_outcome`, :func:`why_no_theorem`): :mod:`theorykit.regimes`.
A threshold that is not a positive finite number is never compared with
(:func:`readable_threshold`).
"""

from __future__ import annotations

from theorykit.asymptotic_reading import (
    Bound,
    Evaluation,
    readable_threshold,
    threshold_text,
    unreadable_reason,
)
from theorykit.lambda_star import (
    ABS_ELL_AT_INIT,
    FEATURE_DRIVE_AT_INIT,
    LAMBDA_STAR_ADAM,
    LAMBDA_STAR_ADAMW,
)
from theorykit.regimes import (
    UNREADABLE_REGIME,
    batch_regime,
    lambda_regime,
    predicted_outcome,
    theorem_outcome,
    why_no_theorem,
)
from theorykit.theorem_statements import (
    ADAM_ADMISSIBLE,
    ADAM_LAMBDA_CEILING,
    ADAM_STUCK,
    ADAM_STUCK_FLOOR,
    ADAMW_ABOVE_FLOOR,
    ADAMW_BELOW_CEILING,
    ADAMW_LAMBDA_CEILING,
    ADAMW_LAMBDA_FLOOR,
    ADAMW_LARGE_BATCH,
    ADAMW_LARGE_BATCH_CEILING,
    ADAMW_MINI_BATCH,
    ADAMW_MINI_BATCH_FLOOR,
    GD_FEATURE_RACE,
    GD_LEARNS_FEATURE,
    GD_RACE_THRESHOLD,
    GD_SNR,
    LARGE_BATCH,
    LARGE_BATCH_CEILING,
    MINI_BATCH,
    MINI_BATCH_FLOOR,
    STEPS_PER_EPOCH,
)

__all__ = [
    "ABS_ELL_AT_INIT",
    "ADAMW_ABOVE_FLOOR",
    "ADAMW_BELOW_CEILING",
    "ADAMW_LAMBDA_CEILING",
    "ADAMW_LAMBDA_FLOOR",
    "ADAMW_LARGE_BATCH",
    "ADAMW_LARGE_BATCH_CEILING",
    "ADAMW_MINI_BATCH",
    "ADAMW_MINI_BATCH_FLOOR",
    "ADAM_ADMISSIBLE",
    "ADAM_LAMBDA_CEILING",
    "ADAM_STUCK",
    "ADAM_STUCK_FLOOR",
    "FEATURE_DRIVE_AT_INIT",
    "GD_FEATURE_RACE",
    "GD_LEARNS_FEATURE",
    "GD_RACE_THRESHOLD",
    "GD_SNR",
    "LAMBDA_STAR_ADAM",
    "LAMBDA_STAR_ADAMW",
    "LARGE_BATCH",
    "LARGE_BATCH_CEILING",
    "MINI_BATCH",
    "MINI_BATCH_FLOOR",
    "STEPS_PER_EPOCH",
    "UNREADABLE_REGIME",
    "Bound",
    "Evaluation",
    "batch_regime",
    "lambda_regime",
    "predicted_outcome",
    "readable_threshold",
    "theorem_outcome",
    "threshold_text",
    "unreadable_reason",
    "why_no_theorem",
]
