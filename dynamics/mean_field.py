"""Mean-field reduced dynamics: a few representative samples stand for all n, so many settings run
at once.

The exact reduced dynamics (:mod:`dynamics.reduced`) carry every sample: (S, 2, m, n) noise
coordinates per step. Here each setting carries K representative samples drawn from Definition 3.1
(:func:`dynamics.problem.sample_reduced_problem` with ``samples=K``), with

* the feature coordinate driven by the mean of the per-sample gradients over the representatives
  (the expectation of Lemma A.7's batch mean; the batch-to-batch fluctuation is dropped);
* each representative sampled exactly once per epoch of P = ceil(n / B) steps, at a fresh uniformly
  random step of the epoch (per-epoch reshuffling, notes §2.4), when it gets the 1/B-weighted
  gradient of its noise coordinates; the other P - 1 steps its coordinates see weight decay and
  Adam's decaying moments only — the race of notes §5.3/5.6 (feature: P steps per epoch,
  noise: one visit per epoch, worth S(P; beta1, beta2) sign steps under Adam).

Because the schedule is per setting, settings with different B (and n) step together: a whole (B,
lam) grid is one array program (:mod:`dynamics.predict`).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from dynamics.problem import ReducedProblem
from dynamics.recording import SPAN_STEPS
from dynamics.reduced import ReducedDynamics
from theorykit.errors import ParameterError

Array = npt.NDArray[np.float64]


def run_mean_field(
    problem: ReducedProblem, steps: int, seed: int = 0, dtype: str = "float64"
) -> ReducedDynamics:
    """Iterate ``steps`` optimiser steps of every setting; returns the final state (``.measure``
    reads it). The schedule of visits is drawn here, a span of
    :data:`dynamics.recording.SPAN_STEPS` steps at a time, and the steps run in the compiled kernel
    (:meth:`ReducedDynamics.run` with ``visits``: :meth:`ReducedDynamics.step_mean_field`'s
    arithmetic, in ``dtype``)."""
    if steps < 1:
        raise ParameterError("steps", steps, "steps >= 1")
    rng = np.random.default_rng(seed)
    dynamics = ReducedDynamics.start(problem)
    period = np.array([p.iterations_per_epoch for p in problem.params])[
        :, None
    ]  # (S, 1): ceil(n/B)
    S, K = problem.y.shape
    everyone = [np.broadcast_to(np.arange(K), (S, K))]
    position = rng.integers(0, period, size=(S, K))
    for first in range(0, steps, SPAN_STEPS):
        visits = []
        for t in range(first, min(first + SPAN_STEPS, steps)):
            phase = t % period  # (S, 1)
            new_epoch = (phase == 0) & (t > 0)
            if new_epoch.any():
                redrawn = rng.integers(0, period, size=(S, K))
                position = np.where(new_epoch, redrawn, position)
            visits.append(position == phase)
        dynamics.run(everyone * len(visits), dtype, visits=np.stack(visits, axis=1))
    return dynamics
