"""theorykit: the theory of mini-batch Adam/AdamW generalization, as code.

Symbolic core (sympy, with fast numpy evaluation) for Tang, Zhang, Cao, Zou, "Understanding the
Generalization of Stochastic Gradient Adam in Learning Neural Networks" (NeurIPS 2025, arXiv
2510.11354) and Zou, Cao, Li, Gu (ICLR 2023, arXiv 2108.11371). Conventions (lam/2 in the loss,
AdamW's (1 - eta lam), bias correction, sgn(0) = 0, epochs vs iterations): docs/conventions.md.

Public names (each documents the equation, lemma or theorem it encodes), imported on first use so
that ``import theorykit.errors`` stays free of sympy and scipy:

* :class:`ProblemParams`, :func:`tang2025_synthetic`, :class:`ParameterError` -- the problem.
* :func:`check_conditions`, :func:`bounds_summary`, :class:`HiddenConstants` -- which theorem
  applies.
* :data:`OPTIMIZERS`, :mod:`theorykit.optimizers` -- optimiser kinds as data.
* :mod:`theorykit.updates` -- per-step updates of gamma = <w, j v> and rho = <w, xi_i> (B.3-B.6,
  3.4-3.6).
* :mod:`theorykit.closed_forms` -- per-epoch recursions, fixed points, S(P; beta1, beta2).
* :mod:`theorykit.bounds` -- lambda and batch-size bounds, asymptotic and finite-size.
"""

from __future__ import annotations

from theorykit.lazy_exports import lazy_exports

#: Public name -> the module that defines it.
_EXPORTS = {
    "OPTIMIZERS": "theorykit.optimizers",
    "Formula": "theorykit.formula",
    "HiddenConstants": "theorykit.constants",
    "ParameterError": "theorykit.errors",
    "ProblemParams": "theorykit.params",
    "bounds_summary": "theorykit.summary",
    "check_conditions": "theorykit.conditions",
    "tang2025_synthetic": "theorykit.params",
}

__all__ = sorted(_EXPORTS)
__version__ = "0.1.0"
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
