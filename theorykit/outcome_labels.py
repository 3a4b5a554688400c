"""The outcome labels: one vocabulary for the theorems, the finite-size verdict and measured runs.

A run ends in one of the paper's regimes, read at a finite horizon (docs/conventions.md):

* :data:`LEARNS` -- "learns feature": fitted, test error o(1) (Thms 4.2/4.5; GD: Zou et al. 2023);
* :data:`MEMORISES` -- "memorises noise": fitted, test error >= 1/2 - o(1) (Thms 4.1/4.4);
* :data:`STUCK` -- "stuck": stuck at initialisation, the weights collapsing to 0 (Cor 4.3);
* :data:`NOT_FITTED` -- "not fitted": a measured run that neither collapsed nor fitted the data
  within its horizon (no theorem predicts it);
* :data:`UNDETERMINED` -- "undetermined at this horizon": the finite-size verdict declines to call
  an outcome (``theorykit.verdict``).

:data:`OUTCOMES` holds the labels a measured run can get (``dynamics.outcomes.classify``, applied
to the reduced dynamics and the CNN alike); ``theorykit.regimes.theorem_outcome`` and
``theorykit.verdict.finite_size_verdict`` use the same words, so predicted and measured labels
compare directly. Standard library only.
"""

from __future__ import annotations

LEARNS = "learns feature"
MEMORISES = "memorises noise"
STUCK = "stuck"
NOT_FITTED = "not fitted"
UNDETERMINED = "undetermined at this horizon"

#: The outcome of a measured run (``dynamics.outcomes.classify``), in table order.
OUTCOMES: tuple[str, ...] = (LEARNS, MEMORISES, NOT_FITTED, STUCK)
