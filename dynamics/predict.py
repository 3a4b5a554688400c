"""Predictions from the reduced dynamics: outcome of a run, Adam/AdamW stuck thresholds, the batch
size at which large-batch memorisation begins, (B, lam) phase diagrams, time scales read off
trajectories.

Outcome labels and thresholds come from :mod:`dynamics.outcomes`, the same rules ``validation``
applies to the CNN. Figures of these results are drawn in ``validation.reports.figures``.
"""

from __future__ import annotations

import dataclasses
import math
import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import numpy.typing as npt

from dynamics.mean_field import run_mean_field
from dynamics.outcomes import (
    any_memorises,
    bracket,
    classify,
    is_collapsed,
    memorisation_boundary,
    outcome,
)
from dynamics.problem import Reduction, sample_reduced_problem
from dynamics.reduced import ReducedDynamics, simulate
from dynamics.trajectory import Trajectory
from theorykit.errors import ParameterError
from theorykit.outcome_labels import STUCK
from theorykit.params import ProblemParams

Array = npt.NDArray[np.float64]


def epochs_for_steps(params: ProblemParams, steps: int) -> int:
    """The fewest epochs of ``params.iterations_per_epoch`` (ceil(n/B)) that give at least ``steps``
    iterations: a horizon in iterations that is the same for every batch size."""
    if steps < 1:
        raise ParameterError("steps", steps, "steps >= 1")
    return math.ceil(steps / params.iterations_per_epoch)


def predict_final(
    params: ProblemParams, seed: int = 0, record_every: int | None = None
) -> dict[str, float]:
    """Final metrics of the exact reduced dynamics (:func:`dynamics.reduced.simulate`) over
    ``params.epochs``."""
    (trajectory,) = simulate(
        sample_reduced_problem([params], [seed]),
        seed=seed,
        record_every=record_every or params.epochs,
    )
    return trajectory.final()


@dataclasses.dataclass(frozen=True)
class PhaseDiagram:
    """Mean-field predictions on a (B, lam) grid: arrays of shape (len(batch_sizes), len(lams))."""

    base: ProblemParams
    batch_sizes: tuple[int, ...]
    lams: tuple[float, ...]
    steps: int
    train_error: Array
    test_error: Array
    feature: Array  # max over heads of max_r gamma_{j,r}
    stuck: npt.NDArray[np.bool_]  # collapsed: weight_max below COLLAPSE_FRACTION of its start

    def outcomes(self) -> npt.NDArray[np.str_]:
        """:func:`dynamics.outcomes.classify` of every cell ("stuck" where collapsed)."""
        return np.vectorize(
            lambda train, test, stuck: (
                STUCK if stuck else classify({"train_error": train, "test_error": test})
            )
        )(self.train_error, self.test_error, self.stuck)


def _phase_chunk(
    settings: list[ProblemParams], steps: int, samples: int, seed: int
) -> dict[str, Array]:
    """Final mean-field metrics of one chunk of settings (a top-level function: it crosses process
    boundaries)."""
    problem = sample_reduced_problem(settings, [seed] * len(settings), samples=samples)
    initial = ReducedDynamics.start(problem).weight_max()
    final = run_mean_field(problem, steps, seed).measure(np.random.default_rng(seed + 1))
    return {
        **final,
        "stuck": np.array(
            [is_collapsed(a, b) for a, b in zip(initial, final["weight_max"], strict=True)]
        ),
    }


def phase_diagram(
    base: ProblemParams,
    batch_sizes: Sequence[int],
    lams: Sequence[float],
    *,
    steps: int,
    samples: int = 64,
    seed: int = 0,
    chunk: int = 20,
    workers: int = 1,
) -> PhaseDiagram:
    """Run the mean-field dynamics (:mod:`dynamics.mean_field`) for every (B, lam), ``steps`` steps.

    ``samples`` representatives per setting (64 reproduces the exact dynamics' large-batch reversal
    on the paper's setting; fewer under-sample the top of the initial rho distribution, which drives
    it). Settings run ``chunk`` at a time: arrays small enough to stay in cache are faster per
    setting than one large array (``benchmarks/results/README.md``). Every setting gets the same
    data seed, so cells differ only by (B, lam). Chunks are independent, so ``workers`` > 1 runs
    them in that many spawned processes with the same result, bit for bit.
    """
    if len(batch_sizes) == 0 or len(lams) == 0:
        raise ParameterError(
            "grid", (len(batch_sizes), len(lams)), "at least one batch size and one lam"
        )
    if chunk < 1:
        raise ParameterError("chunk", chunk, "chunk >= 1")
    if workers < 1:
        raise ParameterError("workers", workers, "workers >= 1")
    settings = [base.replace(B=int(B), lam=float(lam)) for B in batch_sizes for lam in lams]
    chunks = [settings[start : start + chunk] for start in range(0, len(settings), chunk)]
    arguments = ([steps] * len(chunks), [min(samples, base.n)] * len(chunks), [seed] * len(chunks))
    if workers == 1:
        parts = list(map(_phase_chunk, chunks, *arguments))
    else:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            parts = list(pool.map(_phase_chunk, chunks, *arguments))
    final = {name: np.concatenate([part[name] for part in parts]) for name in parts[0]}
    shape = (len(batch_sizes), len(lams))
    return PhaseDiagram(
        base,
        tuple(int(B) for B in batch_sizes),
        tuple(float(lam) for lam in lams),
        steps,
        final["train_error"].reshape(shape),
        final["test_error"].reshape(shape),
        np.maximum(final["feature_pos"], final["feature_neg"]).reshape(shape),
        final["stuck"].reshape(shape),
    )


def stuck_threshold(
    base: ProblemParams, lams: Sequence[float], *, steps: int, samples: int = 64, seed: int = 0
) -> tuple[float, float] | None:
    """(largest lam that trains, smallest lam above it that is stuck: the weights collapse,
    :func:`dynamics.outcomes.is_collapsed`) on the ``lams`` grid at ``base.B``, from the
    mean-field dynamics after ``steps`` steps; None if the grid shows no transition."""
    diagram = phase_diagram(base, [base.B], sorted(lams), steps=steps, samples=samples, seed=seed)
    return bracket(diagram.lams, list(diagram.stuck[0]))


@dataclasses.dataclass(frozen=True)
class BatchSweep:
    """Exact reduced dynamics over batch sizes at a fixed horizon in iterations; ``train_error``,
    ``test_error`` and ``seed_outcomes`` have shape (len(batch_sizes), len(seeds))."""

    base: ProblemParams
    batch_sizes: tuple[int, ...]
    steps: int
    seeds: tuple[int, ...]
    train_error: Array
    test_error: Array
    seed_outcomes: npt.NDArray[np.str_]

    def outcomes(self) -> list[str]:
        """Per batch size, :func:`dynamics.outcomes.any_memorises` over the seeds."""
        return [any_memorises(list(row)) for row in self.seed_outcomes]

    def boundary(self) -> tuple[float, float] | None:
        """:func:`memorisation_boundary` of :meth:`outcomes`."""
        return memorisation_boundary(self.batch_sizes, self.outcomes())


def batch_sweep(
    bases: Sequence[ProblemParams],
    batch_sizes: Sequence[int],
    *,
    steps: int,
    seeds: Sequence[int] = (0, 1, 2),
    reduction: Reduction = "shared",
) -> list[BatchSweep]:
    """Run :func:`dynamics.reduced.simulate` for every setting of ``bases`` at every B of
    ``batch_sizes`` for ``steps`` iterations (:func:`epochs_for_steps`: Thms 4.1/4.2 and 4.4/4.5
    compare batch sizes at one horizon); one :class:`BatchSweep` per setting, in order.

    Every B uses the same data and initialisation seeds, so rows differ only by B. Settings that
    share (n, m, q) -- and s for "support-resolved", (s, d) for "overlap-aware" -- step together as
    one array program (one q keeps the activation's fast integer power). ``reduction`` as in
    :func:`dynamics.problem.sample_reduced_problem`: "shared" is the phase diagrams' model,
    "support-resolved" is exact on disjoint supports for every optimiser, "overlap-aware" draws
    overlapping supports as in the paper's experiment (see :mod:`dynamics.reduced`).
    """
    _check_sweep(bases, batch_sizes, seeds)
    keys = [_array_program_key(p, reduction) for p in bases]
    train = np.empty((len(bases), len(batch_sizes), len(seeds)))
    test = np.empty_like(train)
    labels = np.empty(train.shape, dtype=object)
    for key in dict.fromkeys(keys):
        members = [k for k, other in enumerate(keys) if other == key]
        for b, B in enumerate(batch_sizes):
            group = [bases[k] for k in members]
            trajectories = _simulate_at_batch_size(group, int(B), steps, seeds, reduction)
            for position, k in enumerate(members):
                own = trajectories[position * len(seeds) : (position + 1) * len(seeds)]
                train[k, b] = [trajectory.final()["train_error"] for trajectory in own]
                test[k, b] = [trajectory.final()["test_error"] for trajectory in own]
                labels[k, b] = [outcome(trajectory) for trajectory in own]
    return [
        BatchSweep(
            p,
            tuple(int(B) for B in batch_sizes),
            steps,
            tuple(seeds),
            train[k],
            test[k],
            labels[k].astype(str),
        )
        for k, p in enumerate(bases)
    ]


def _check_sweep(
    bases: Sequence[ProblemParams], batch_sizes: Sequence[int], seeds: Sequence[int]
) -> None:
    """Raise :class:`ParameterError` for a sweep :func:`batch_sweep` cannot run."""
    if not bases:
        raise ParameterError("bases", list(bases), "at least one setting")
    if not batch_sizes or list(batch_sizes) != sorted(set(batch_sizes)):
        raise ParameterError(
            "batch_sizes", list(batch_sizes), "a non-empty, strictly ascending list"
        )
    if not seeds:
        raise ParameterError("seeds", list(seeds), "at least one seed")


def _array_program_key(
    p: ProblemParams, reduction: Reduction
) -> tuple[int, int, float, int | None, int | None]:
    """What settings must share to step together in :func:`batch_sweep`: (n, m, q), s unless
    "shared", d for "overlap-aware"."""
    return (
        p.n,
        p.m,
        p.q,
        p.s if reduction != "shared" else None,
        p.d if reduction == "overlap-aware" else None,
    )


def _simulate_at_batch_size(
    group: Sequence[ProblemParams],
    B: int,
    steps: int,
    seeds: Sequence[int],
    reduction: Reduction,
) -> list[Trajectory]:
    """Every setting of ``group`` at batch size ``B`` with every seed, as one problem, for the
    epochs that give ``steps`` iterations: the trajectories setting by setting, seeds within."""
    at_B = [p.replace(B=B) for p in group]
    epochs = epochs_for_steps(at_B[0], steps)
    params = [p.replace(epochs=epochs) for p in at_B for _ in seeds]
    problem = sample_reduced_problem(params, list(seeds) * len(at_B), reduction=reduction)
    return simulate(problem, seed=seeds[0], record_every=epochs)
