"""dynamics: numpy iteration of the reduced (gamma, rho) dynamics encoded in :mod:`theorykit`, and
the predictions read off it. Depends on theorykit only; numba compiles the steps in
:mod:`dynamics.kernel`.

Public names, imported on first use (``import dynamics`` loads neither sympy nor numba):

* :func:`sample_reduced_problem`, :class:`ReducedProblem`, :func:`best_reduction` -- Def. 3.1 /
  Def. 3.2 initialisation in reduced coordinates, and which reduction predicts a setting;
* :class:`ReducedDynamics`, :func:`simulate` -- Lemma A.7 gradients and eqs. 3.3-3.6, 5.1, B.2
  steps on (gamma, rho) (:mod:`dynamics.reduced`);
* :func:`run_mean_field` -- K representative samples, one visit per epoch
  (:mod:`dynamics.mean_field`);
* :func:`phase_diagram`, :func:`batch_sweep`, :func:`stuck_threshold`, :func:`epochs_for_steps` --
  outcomes over (B, lam) and over B at one horizon (:mod:`dynamics.predict`);
* :func:`classify`, :func:`measured_time_scales` -- a run's outcome class and its T0 and T_r
  (:mod:`dynamics.outcomes`);
* :class:`Trajectory` -- recorded metrics of one run, CNN or reduced (:mod:`dynamics.trajectory`);
* :class:`CoordinateOptimizer` -- the optimisers on numpy coordinates (:mod:`dynamics.optimizers`).

Conventions: ``docs/conventions.md``.
"""

from __future__ import annotations

from theorykit.lazy_exports import lazy_exports

#: Public name -> the module that defines it.
_EXPORTS = {
    "CoordinateOptimizer": "dynamics.optimizers",
    "ReducedDynamics": "dynamics.reduced",
    "ReducedProblem": "dynamics.problem",
    "Trajectory": "dynamics.trajectory",
    "batch_sweep": "dynamics.predict",
    "best_reduction": "dynamics.problem",
    "classify": "dynamics.outcomes",
    "epochs_for_steps": "dynamics.predict",
    "measured_time_scales": "dynamics.outcomes",
    "phase_diagram": "dynamics.predict",
    "run_mean_field": "dynamics.mean_field",
    "sample_reduced_problem": "dynamics.problem",
    "simulate": "dynamics.reduced",
    "stuck_threshold": "dynamics.predict",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
