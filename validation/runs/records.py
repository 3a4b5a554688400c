"""Run identity and records: what makes two runs the same, and how a finished run is written down.

:func:`run_key` derives a run's key from everything that determines it (the full parameter set,
seeds, data options and the engine options that change what is recorded); the results store
(:mod:`validation.store.results`) keys its rows by it, so a rerun skips what is done.
:class:`RunRecord` is a finished run, typed and frozen, shared by the store, the reports and the
comparisons; non-finite metrics (a failed run) are stored as None (JSON null). torch-free.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from dynamics.outcomes import outcome
from dynamics.trajectory import Trajectory
from theorykit.params import ProblemParams
from validation.runs.spec import EngineOptions, Labels, RunSpec, Supports

#: Final metric values as stored: a float, or None where the run's metric was not finite.
Finals = Mapping[str, float | None]


def engine_identity(options: EngineOptions) -> dict[str, Any]:
    """The engine options that change what a run records (not where or how fast it runs).

    ``dtype`` is written as ``torch.<name>``, the form keys have always been derived from, so that
    stores written before the engine options became torch-free keep their keys.
    """
    identity = {
        "record_every": options.record_every,
        "test_size": options.test_size,
        "test_seed": options.test_seed,
        "order": options.order,
        "dtype": f"torch.{options.dtype}",
    }
    if options.log_records:  # absent at 0, so that the keys of stores without it are unchanged
        identity["log_records"] = options.log_records
    return identity


def run_key(spec: RunSpec, options: EngineOptions) -> str:
    """A stable identifier of a run: sha1 of its parameters, seeds, data and engine options."""
    identity = {
        "params": spec.params.to_dict(),
        "data_seed": spec.data_seed,
        "init_seed": spec.init_seed,
        "supports": spec.supports,
        "labels": spec.labels,
        **engine_identity(options),
    }
    return hashlib.sha1(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:16]


def finite_or_none(value: float) -> float | None:
    """JSON has no NaN or infinity: a failed run's non-finite metrics are stored as None."""
    return value if math.isfinite(value) else None


def as_float(value: float | None) -> float:
    """A stored metric as a float; NaN where it is None (a failed run)."""
    return float("nan") if value is None else float(value)


@dataclasses.dataclass(frozen=True)
class RunRecord:
    """A finished run: its identity, configuration, recorded trajectory and provenance.

    ``epoch`` and each ``metrics`` series are the recorded values (None where not finite);
    ``final`` is the last record of each metric. ``failure`` names why a run failed (its weights
    became NaN or infinite), or is None. ``sweep``, ``code_version``, ``finished_at``, ``engine``
    and ``provenance`` (host, torch/CUDA versions, device, dtype, TF32, kernel:
    ``validation.cnn.tasks.provenance``) are filled in by the store.
    """

    key: str
    name: str
    params: ProblemParams
    data_seed: int
    init_seed: int
    supports: Supports
    labels: Labels
    epoch: tuple[float, ...]
    metrics: Mapping[str, tuple[float | None, ...]]
    final: Finals
    failure: str | None = None
    sweep: str = ""
    code_version: str = ""
    finished_at: str = ""
    engine: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    provenance: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def status(self) -> str:
        """``"failed"`` (non-finite weights) or ``"finished"``."""
        return "failed" if self.failure else "finished"

    @property
    def outcome(self) -> str:
        """The run's outcome class (:func:`dynamics.outcomes.outcome`, the collapse rule
        included), or ``"failed"`` (non-finite weights)."""
        return "failed" if self.failure else outcome(self.trajectory())

    @property
    def spec(self) -> RunSpec:
        """The :class:`RunSpec` this run trained."""
        return RunSpec(
            self.params, self.data_seed, self.init_seed, self.supports, self.labels, self.name
        )

    @property
    def options(self) -> EngineOptions:
        """The recording options this run trained with (the inverse of :func:`engine_identity`;
        device, compile and kernel, which change no result, at their defaults)."""
        return EngineOptions(
            record_every=self.engine["record_every"],
            log_records=self.engine.get("log_records", 0),
            test_size=self.engine["test_size"],
            test_seed=self.engine["test_seed"],
            order=self.engine["order"],
            dtype=self.engine["dtype"].removeprefix("torch."),
        )

    def final_value(self, metric: str) -> float:
        """A final metric as a float; NaN for a failed run (whose metrics are not trustworthy)."""
        return float("nan") if self.failure else as_float(self.final[metric])

    def series(self, metric: str) -> np.ndarray:
        """A recorded metric as a float64 array (NaN where not finite)."""
        return np.array([as_float(value) for value in self.metrics[metric]], dtype=np.float64)

    def trajectory(self) -> Trajectory:
        """The recorded metrics as a :class:`dynamics.trajectory.Trajectory`."""
        return Trajectory(
            np.asarray(self.epoch, dtype=np.float64),
            {metric: self.series(metric) for metric in self.metrics},
            self.failure,
        )

    def config(self) -> dict[str, Any]:
        """What determines the run (the store's ``config`` column, with the engine identity)."""
        return {
            "params": self.params.to_dict(),
            "data_seed": self.data_seed,
            "init_seed": self.init_seed,
            "supports": self.supports,
            "labels": self.labels,
            "engine": dict(self.engine),
        }

    @classmethod
    def of(cls, key: str, spec: RunSpec, trajectory: Trajectory) -> RunRecord:
        """The record of ``spec`` trained into ``trajectory``."""
        metrics = {
            name: tuple(finite_or_none(v) for v in values.tolist())
            for name, values in trajectory.metrics.items()
        }
        return cls(
            key,
            spec.name,
            spec.params,
            spec.data_seed,
            spec.init_seed,
            spec.supports,
            spec.labels,
            tuple(trajectory.epoch.tolist()),
            metrics,
            {name: finite_or_none(value) for name, value in trajectory.final().items()},
            trajectory.failure,
        )


def configuration_text(
    params: ProblemParams, supports: str, labels: str, engine: Mapping[str, Any]
) -> str:
    """What a run is apart from its seeds, as canonical JSON: its parameters, data options and
    recorded engine options (:func:`engine_identity`). Reports group runs by name and this; a sweep
    refuses a name the store holds with another one."""
    return json.dumps(
        {"params": params.to_dict(), "supports": supports, "labels": labels, "engine": engine},
        sort_keys=True,
    )


def group_runs(records: Sequence[RunRecord]) -> dict[str, list[RunRecord]]:
    """Records grouped by run name and configuration (:func:`configuration_text`; the seeds of
    one grid point share both), in first-seen order, keyed by a label: the name, or where one name
    holds several configurations, the name and the fields that tell them apart
    (``"adam B=2 [epochs=40]"``), so that two experiments are never averaged into one row."""
    groups: dict[tuple[str, str], list[RunRecord]] = {}
    for record in records:
        config = configuration_text(record.params, record.supports, record.labels, record.engine)
        groups.setdefault((record.name, config), []).append(record)
    configs_by_name: dict[str, list[dict[str, Any]]] = {}
    for name, config in groups:
        configs_by_name.setdefault(name, []).append(_flat(json.loads(config)))
    labelled = {}
    for (name, config), group in groups.items():
        variants = configs_by_name[name]
        if len(variants) == 1:
            labelled[name] = group
            continue
        mine = _flat(json.loads(config))
        differ = [field for field in mine if len({str(v.get(field)) for v in variants}) > 1]
        labelled[f"{name} [{', '.join(f'{f}={mine[f]}' for f in differ)}]"] = group
    return labelled


def _flat(config: dict[str, Any]) -> dict[str, Any]:
    """A configuration's fields in one level (parameters, data options, engine options)."""
    return {
        **config["params"],
        "supports": config["supports"],
        "labels": config["labels"],
        **(config.get("engine") or {}),
    }
