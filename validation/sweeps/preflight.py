"""The refusals of a sweep before anything trains, each one sentence that names the fix.

:func:`check_memory`: a task whose arrays would not fit in this machine's memory
(:mod:`validation.runs.sizing`'s estimate). :func:`check_names`: a run name the store already holds
with another configuration. :func:`validation.sweeps.runner.run_sweep` calls both.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from theorykit.errors import ParameterError
from validation.runs.records import configuration_text, engine_identity
from validation.runs.sizing import group_size, physical_memory
from validation.runs.spec import EngineOptions, RunSpec
from validation.store.results import ResultsStore
from validation.sweeps.grid import SweepSpec


def check_memory(tasks: Sequence[Sequence[RunSpec]], options: EngineOptions) -> None:
    """Refuse, before anything trains, a task whose arrays would not fit in this machine's memory
    (:mod:`validation.runs.sizing`'s estimate), naming the estimate and the fix."""
    memory = physical_memory()
    if memory is None:
        return
    for task in tasks:
        size = group_size(task, options)
        if size.memory_bytes > memory:
            raise ParameterError(
                "group_size",
                size.members,
                f"tasks that fit in memory: {size.members} members need "
                f"~{size.memory_bytes / 2**30:.1f} GiB of {memory / 2**30:.1f} GiB (lower "
                "group_size or test_size)",
            )


def check_names(spec: SweepSpec, store: ResultsStore) -> None:
    """Refuse a spec whose run names the store already holds with another configuration (the
    reports group runs by name and configuration, but one name for two experiments is a mistake
    worth a sentence before training)."""
    stored = store.configurations()
    for run in spec.runs:
        known = stored.get(run.name)
        if not known:
            continue
        mine = configuration_text(
            run.params, run.supports, run.labels, engine_identity(spec.options)
        )
        if mine not in known:
            other = json.loads(next(iter(known)))
            engine = engine_identity(spec.options)
            differ = [
                f"{field} = {other['params'][field]!r} (this spec: {value!r})"
                for field, value in run.params.to_dict().items()
                if other["params"].get(field) != value
            ] + [
                f"engine {field} = {other['engine'].get(field)!r} (this spec: {value!r})"
                for field, value in engine.items()
                if other["engine"].get(field) != value
            ] or ["data options"]
            raise ParameterError(
                "name",
                run.name,
                f"a run name the store {store.path} holds for one configuration only: it has "
                f"{run.name!r} with {', '.join(differ)}; use another --store, or move the "
                "differing fields into [grid] (run names are the grid's labels)",
            )
