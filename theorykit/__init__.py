"""theorykit: the theory of mini-batch Adam/AdamW generalization, as code.

Symbolic core (sympy, with fast numpy evaluation) for Tang, Zhang, Cao, Zou, "Understanding the
Generalization of Stochastic Gradient Adam in Learning Neural Networks" (NeurIPS 2025,
arXiv 2510.11354) and Zou, Cao, Li, Gu (ICLR 2023, arXiv 2108.11371).

Public names (each documents the equation, lemma or theorem it encodes):

* :class:`ProblemParams`, :func:`tang2025_synthetic`, :class:`ParameterError` -- the problem.
* :func:`check_conditions`, :func:`bounds_summary`, :class:`HiddenConstants` -- which theorem applies.
* :mod:`theorykit.updates` -- per-step updates of gamma = <w, j v> and rho = <w, xi_i> (B.3-B.6, 3.4-3.6).
* :mod:`theorykit.closed_forms` -- per-epoch recursions, fixed points, S(P; beta1, beta2).
* :mod:`theorykit.bounds` -- lambda and batch-size bounds, asymptotic and finite-size.
"""

from theorykit.bounds import HiddenConstants
from theorykit.conditions import check_conditions
from theorykit.errors import ParameterError
from theorykit.formula import Formula
from theorykit.params import OPTIMIZERS, ProblemParams, tang2025_synthetic
from theorykit.summary import bounds_summary

__all__ = [
    "OPTIMIZERS", "Formula", "HiddenConstants", "ParameterError", "ProblemParams",
    "bounds_summary", "check_conditions", "tang2025_synthetic",
]
__version__ = "0.1.0"
