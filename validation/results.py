"""Run identity and records: what makes two runs the same, and how a finished run is written down.

:func:`run_key` derives a run's key from everything that determines it (the full parameter set,
seeds, data options and the engine options that change what is recorded); the results store
(:mod:`validation.store`) keys its rows by it, so a rerun skips what is done.
:func:`trajectory_record` is a finished run as a plain JSON-able dict (non-finite metrics as null).
:func:`write_json_atomic` writes a JSON document through a temporary file and ``os.replace``, so a
killed process leaves either the old or the new complete file, never a half-written one.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from validation.engine import EngineOptions, RunSpec, Trajectory


def run_key(spec: RunSpec, options: EngineOptions) -> str:
    """A stable identifier of a run: sha1 of its parameters, seeds, data options and engine options."""
    identity = {
        "params": spec.params.to_dict(),
        "data_seed": spec.data_seed, "init_seed": spec.init_seed, "supports": spec.supports, "labels": spec.labels,
        **engine_identity(options),
    }
    return hashlib.sha1(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:16]


def engine_identity(options: EngineOptions) -> dict[str, Any]:
    """The engine options that change what a run records (not where or how fast it runs)."""
    return {"record_every": options.record_every, "test_size": options.test_size, "test_seed": options.test_seed,
            "order": options.order, "dtype": str(options.dtype)}


def trajectory_record(trajectory: Trajectory) -> dict[str, Any]:
    spec = trajectory.spec
    return {
        "name": spec.name, "params": spec.params.to_dict(), "data_seed": spec.data_seed, "init_seed": spec.init_seed,
        "supports": spec.supports, "labels": spec.labels,
        "epoch": trajectory.epoch.tolist(),
        "metrics": {name: [_finite_or_none(v) for v in values.tolist()] for name, values in trajectory.metrics.items()},
        "final": {name: _finite_or_none(value) for name, value in trajectory.final().items()},
        "failure": trajectory.failure,
    }


def _finite_or_none(value: float) -> float | None:
    """JSON has no NaN or infinity: a failed run's non-finite metrics are stored as null."""
    return value if np.isfinite(value) else None


def write_json_atomic(path: Path, document: Any) -> None:
    """Write ``document`` as JSON to ``path`` through a temporary file and ``os.replace`` (never half-written)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(handle, "w") as stream:
            json.dump(document, stream, indent=1, default=_jsonable)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if dataclasses.is_dataclass(value):
        return dataclasses.asdict(value)
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")
