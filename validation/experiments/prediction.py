"""The reduced dynamics' prediction of CNN runs, from the runs' own initialisation and batches.

For a group of :class:`validation.runs.spec.RunSpec` s that train as one stacked ensemble, the CNN's
data and initial weights are built exactly as training builds them
(:func:`validation.cnn.ensemble.build_ensemble`, in the run's dtype), read in the reduced
coordinates (:func:`validation.cnn.readout.reduced_problem_of`, the most faithful reduction for the
supports: :func:`dynamics.problem.best_reduction`), and the reduced dynamics
(:class:`dynamics.reduced.ReducedDynamics`) is stepped on the engine's own minibatches
(``Ensemble.epoch_batches``: the same permutation generators, so the same samples at every step)
and measured at the engine's recording epochs: the reduced state is written back as the CNN weights
it stands for (:func:`validation.cnn.readout.implied_weights`) and measured by the engine itself
(``Ensemble.measure``) on the run's own training set and test set. Every metric, the test error
included, is then comparable record by record.

Exact on disjoint supports for every optimiser (support-resolved reduction, up to round-off: the
CNN restricted to the coordinates training touches); on overlapping supports the overlap-aware
closure of docs/notes/overlap.md, whose error the coefficient check measures.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import CancelledError, ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import TextIO

import numpy as np

from dynamics.problem import Reduction, best_reduction
from dynamics.recording import epoch_spans, recorded_epochs
from dynamics.reduced import ReducedDynamics
from dynamics.trajectory import METRICS, Trajectory
from theorykit.errors import ParameterError
from validation.cnn.ensemble import build_ensemble
from validation.cnn.readout import implied_weights, reduced_problem_of
from validation.progress import STDERR
from validation.runs.provenance import code_version
from validation.runs.records import RunRecord
from validation.runs.sizing import available_cores
from validation.runs.spec import EngineOptions, RunSpec, prediction_groups
from validation.store.results import ResultsStore


def predict_group(
    specs: Sequence[RunSpec],
    options: EngineOptions,
    reduction: Reduction | None = None,
    progress: Callable[[int, int], None] | None = None,
    *,
    parallel: bool = True,
    stop: threading.Event | None = None,
) -> list[Trajectory]:
    """Predicted trajectories of one group (see the module docstring), recorded on the CNN's
    schedule (:func:`dynamics.recording.recorded_epochs` of ``options``) on the runs' test sets
    (``options.test_size``, ``test_seed``); ``options.order`` and ``options.dtype`` are followed
    (the data and initialisation are the run's, and the compiled kernel of :mod:`dynamics.kernel`
    steps in its dtype), ``device`` and ``kernel`` are not (the CPU). ``parallel``: the members on
    numba's threads (else one after another on the calling thread); ``stop``, when set, ends the
    call at its next span of steps (:class:`concurrent.futures.CancelledError`)."""
    if len(prediction_groups(specs)) != 1:
        raise ParameterError("specs", len(specs), "one group of equal shapes, s and supports")
    cpu = EngineOptions(
        record_every=options.record_every,
        log_records=options.log_records,
        test_size=options.test_size,
        test_seed=options.test_seed,
        order=options.order,
        dtype=options.dtype,
        device="cpu",
        kernel="torch",
    )
    ensemble = build_ensemble(specs, cpu)
    initial = ensemble.W.detach().clone()
    dynamics = ReducedDynamics.start(
        reduced_problem_of(ensemble, reduction or best_reduction(specs[0].supports))
    )

    def measure() -> dict[str, np.ndarray]:
        weights = implied_weights(ensemble, initial, dynamics)
        return {name: value.numpy() for name, value in ensemble.measure(weights).items()}

    records = [measure()]
    recorded = [0.0]
    epochs = specs[0].params.epochs
    schedule = recorded_epochs(epochs, options.record_every, options.log_records)
    for span in epoch_spans(epochs, schedule, specs[0].params.iterations_per_epoch):
        if stop is not None and stop.is_set():
            raise CancelledError
        batches = [idx.numpy() for epoch in span for idx in ensemble.epoch_batches(epoch)]
        dynamics.run(batches, options.dtype, parallel)
        if span[-1] in schedule:
            records.append(measure())
            recorded.append(float(span[-1]))
        if progress is not None:
            progress(span[-1], epochs)
    epoch_axis = np.asarray(recorded)
    return [
        Trajectory(epoch_axis, {name: np.array([r[name][e] for r in records]) for name in METRICS})
        for e in range(len(specs))
    ]


def predicted_groups(
    specs: Sequence[RunSpec],
    options: EngineOptions,
    reduction: Reduction | None = None,
    on_group: Callable[[Sequence[int]], Callable[[int, int], None] | None] | None = None,
) -> Iterator[tuple[list[int], list[Trajectory]]]:
    """:func:`predict_group` of every group of ``specs``, as (indices into ``specs``, trajectories)
    in the order the groups finish. Groups run concurrently on threads, one per core (the compiled
    kernel releases the GIL), the costliest first, each group's members one after another on its
    thread; a lone group puts its members on numba's threads instead. ``on_group`` receives each
    group's indices and may return a progress callback for it. Closing the iterator early (an
    exception, Ctrl-C, SIGTERM) stops the groups in flight at their next span of steps."""
    groups = sorted(
        prediction_groups(specs),
        key=lambda indices: sum(specs[i].params.iterations for i in indices),
        reverse=True,
    )
    if not groups:
        return
    stop = threading.Event()
    with ThreadPoolExecutor(min(len(groups), available_cores())) as pool:
        futures = {
            pool.submit(
                predict_group,
                [specs[i] for i in indices],
                options,
                reduction,
                on_group(indices) if on_group is not None else None,
                parallel=len(groups) == 1,
                stop=stop,
            ): indices
            for indices in groups
        }
        try:
            for future in as_completed(futures):
                yield futures[future], future.result()
        finally:
            stop.set()
            for future in futures:
                future.cancel()


def predictions_for(
    records: Sequence[RunRecord],
    options: EngineOptions,
    store_path: Path,
    log: TextIO = STDERR,
    progress: Callable[[str], Callable[[int, int], None]] | None = None,
) -> dict[str, tuple[str, Trajectory]]:
    """The prediction of every finished run of ``records`` (trained with ``options``) by run key,
    as (reduction, trajectory): read from the store at ``store_path``, the missing ones computed
    by :func:`predicted_groups` and stored as each group finishes, so an interrupted call loses at
    most the groups in flight. Failed runs get none."""
    with ResultsStore(store_path) as store:
        found = store.predictions(record.key for record in records)
        missing = [r for r in records if r.key not in found and r.failure is None]
        specs = [record.spec for record in missing]
        count = len(prediction_groups(specs))
        labels: dict[int, str] = {}

        def on_group(indices: Sequence[int]) -> Callable[[int, int], None] | None:
            first = specs[indices[0]]
            labels[indices[0]] = (
                f"prediction {len(labels) + 1}/{count} "
                f"({first.params.optimizer}, B={first.params.B}, {len(indices)} runs, "
                f"{best_reduction(first.supports)})"
            )
            return progress(labels[indices[0]]) if progress is not None else None

        for indices, group in predicted_groups(specs, options, on_group=on_group):
            reduction = best_reduction(specs[indices[0]].supports)
            pairs = [(missing[i].key, t) for i, t in zip(indices, group, strict=True)]
            store.add_predictions(reduction, pairs, code_version())
            found.update({key: (reduction, t) for key, t in pairs})
            print(f"{labels[indices[0]]} stored", file=log)
    return found


def predict(
    specs: Sequence[RunSpec],
    options: EngineOptions,
    reduction: Reduction | None = None,
    on_group: Callable[[Sequence[int]], Callable[[int, int], None] | None] | None = None,
) -> list[Trajectory]:
    """:func:`predicted_groups` of ``specs``, in spec order."""
    results: list[Trajectory | None] = [None] * len(specs)
    for indices, group in predicted_groups(specs, options, reduction, on_group):
        for index, trajectory in zip(indices, group, strict=True):
            results[index] = trajectory
    return [trajectory for trajectory in results if trajectory is not None]


def predict_stored_runs(store_path: Path, log: TextIO = STDERR) -> None:
    """The prediction of every finished run of the store at ``store_path`` that has none
    (:func:`predictions_for`), one set of recording options at a time (those the runs were trained
    with); ``theorykit report --predict`` and ``theorykit sweep --predict``."""
    with ResultsStore(store_path, read_only=True) as store:
        records = list(store.records().values())
    by_options: dict[EngineOptions, list[RunRecord]] = {}
    for record in records:
        by_options.setdefault(record.options, []).append(record)
    for options, group in by_options.items():
        predictions_for(group, options, store_path, log)
