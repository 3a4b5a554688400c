"""A stored row read back into a typed object, or the reason it cannot be.

The store writes every row itself (:mod:`validation.store.results`), but a store is a file a user
may edit, copy from another version or damage. Each reader here checks what the reports rely on --
strict JSON, the keys present, numbers where numbers belong, a parameter set
:class:`theorykit.params.ProblemParams` accepts -- and raises :class:`MalformedRow` with a
reason in a few words otherwise; the store skips that row, names it in
``ResultsStore.malformed`` and reads the rest.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from dynamics.trajectory import Trajectory
from theorykit.errors import ParameterError
from theorykit.params import ProblemParams
from validation.runs.records import RunRecord, as_float
from validation.runs.spec import check_data_options


class MalformedRow(ValueError):
    """A stored row that cannot be read; the message says which part and why."""


def _json(text: object, column: str) -> Any:
    if not isinstance(text, str):
        raise MalformedRow(f"{column}: not JSON text")
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as error:  # RecursionError: nesting beyond any row's
        raise MalformedRow(f"{column}: invalid JSON ({type(error).__name__})") from None


def _mapping(value: object, place: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise MalformedRow(f"{place}: an object expected, found {type(value).__name__}")
    return value


def _field(data: Mapping[str, Any], name: str, place: str) -> Any:
    if name not in data:
        raise MalformedRow(f"{place}: missing {name!r}")
    return data[name]


def _number(value: object, place: str, allow_none: bool = False) -> float | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MalformedRow(f"{place}: a finite number expected, found {value!r}")
    try:
        finite = math.isfinite(value)
    except OverflowError:  # an integer beyond float64
        finite = False
    if not finite:
        raise MalformedRow(f"{place}: a finite number expected, found {str(value)[:20]!r}")
    return value


def _seed(value: object, place: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise MalformedRow(f"{place}: a non-negative integer expected, found {value!r}")
    return value


def _series(data: Mapping[str, Any], column: str) -> tuple[tuple[float, ...], dict]:
    """The recorded epochs and metric series of a trajectory column, equal lengths."""
    epochs = _field(data, "epoch", column)
    if not isinstance(epochs, list):
        raise MalformedRow(f"{column}.epoch: a list expected")
    epoch = tuple(float(_number(e, f"{column}.epoch")) for e in epochs)
    metrics = {}
    for name, values in _mapping(_field(data, "metrics", column), f"{column}.metrics").items():
        if not isinstance(values, list) or len(values) != len(epoch):
            raise MalformedRow(f"{column}.metrics.{name}: a list as long as epoch expected")
        metrics[name] = tuple(_number(x, f"{column}.metrics.{name}", True) for x in values)
    return epoch, metrics


def _params(config: Mapping[str, Any]) -> ProblemParams:
    try:
        return ProblemParams.from_dict(_mapping(_field(config, "params", "config"), "params"))
    except ParameterError as error:
        raise MalformedRow(f"config.params: {error}") from None
    except TypeError as error:
        raise MalformedRow(f"config.params: {error}") from None


def run_record(row: Mapping[str, Any]) -> RunRecord:
    """The :class:`RunRecord` of one ``runs`` row (:class:`MalformedRow` if it cannot be read)."""
    config = _mapping(_json(row["config"], "config"), "config")
    params = _params(config)
    supports, labels = _field(config, "supports", "config"), _field(config, "labels", "config")
    try:
        check_data_options(params.n, params.d, params.s, supports, labels)
    except ParameterError as error:
        raise MalformedRow(f"config: {error}") from None
    epoch, metrics = _series(
        _mapping(_json(row["trajectory"], "trajectory"), "trajectory"), "trajectory"
    )
    final = {
        name: _number(value, f"final.{name}", True)
        for name, value in _mapping(_json(row["final"], "final"), "final").items()
    }
    for name in ("train_error", "test_error"):  # what every report reads
        if name not in final or name not in metrics:
            raise MalformedRow(f"final and trajectory.metrics: missing {name!r}")
    if not isinstance(row["name"], str):
        raise MalformedRow("name: text expected")
    return RunRecord(
        key=row["key"],
        name=row["name"],
        params=params,
        data_seed=_seed(_field(config, "data_seed", "config"), "config.data_seed"),
        init_seed=_seed(_field(config, "init_seed", "config"), "config.init_seed"),
        supports=supports,
        labels=labels,
        epoch=epoch,
        metrics=metrics,
        final=final,
        failure=row["failure"],
        sweep=row["sweep"],
        code_version=row["code_version"],
        finished_at=row["finished_at"],
        engine=_mapping(config.get("engine") or {}, "config.engine"),
        provenance=_mapping(config.get("provenance") or {}, "config.provenance"),
    )


def configuration(config_text: object) -> tuple[ProblemParams, Any, Any, Mapping[str, Any]]:
    """(params, supports, labels, engine) of a ``runs.config`` column."""
    config = _mapping(_json(config_text, "config"), "config")
    return (
        _params(config),
        _field(config, "supports", "config"),
        _field(config, "labels", "config"),
        _mapping(config.get("engine") or {}, "config.engine"),
    )


def prediction(trajectory_text: object) -> Trajectory:
    """The predicted :class:`~dynamics.trajectory.Trajectory` of a ``predictions`` row."""
    data = _mapping(_json(trajectory_text, "trajectory"), "trajectory")
    epoch, metrics = _series(data, "trajectory")
    return Trajectory(
        np.asarray(epoch, dtype=float),
        {
            name: np.array([as_float(x) for x in values], dtype=float)
            for name, values in metrics.items()
        },
    )


def image_run(config_text: object, final_text: object) -> dict[str, Any]:
    """An ``image_runs`` row's config fields and final errors in one dict."""
    config = _mapping(_json(config_text, "config"), "config")
    final = _mapping(_json(final_text, "final"), "final")
    return {**config, **{name: _number(v, f"final.{name}", True) for name, v in final.items()}}
