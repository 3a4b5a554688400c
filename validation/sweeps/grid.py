"""Declarative sweeps: a TOML file expanded into validated :class:`RunSpec` s before anything
trains.

A spec is a grid over :class:`theorykit.ProblemParams` fields on top of a named base setting::

    # optional; default: the file's stem. Letters, digits, '-', '_', '.'
    name = "batch-vs-lambda"
    base = "tang2025-synthetic"     # optional; a theorykit.params.NAMED_SETTINGS entry
    # optional (default [0]); each run uses data_seed = init_seed = seed
    seeds = [0, 1]
    # optional: at most this many members per stacked ensemble (a task)
    group_size = 32

    [params]                        # fixed ProblemParams fields
    eta = 5e-5
    epochs = 40
    bias_correction = true

    # axes of the Cartesian product: ProblemParams fields -> non-empty lists
    [grid]
    optimizer = ["adam", "adamw"]
    B = [2, 100]
    lam = [1e-5, 0.01]

    [data]                          # optional: validation.cnn.data options
    supports = "overlapping"        # or "disjoint" (needs n s <= d - 1)
    labels = "balanced"             # or "rademacher"

    [engine]                        # optional: what is recorded and how batches are ordered
    record_every = 10
    test_size = 1000
    test_seed = 12345
    order = "reshuffle"             # or "cyclic"
    dtype = "float64"               # or "float32"

Where the runs execute (device, ``torch.compile``, executor) is not part of the spec: it does not
change what a run is, only where it runs (``theorykit sweep --device/--compile/--executor``).

Every value is checked when the spec loads, with the same rules as ``ProblemParams`` (Tang et al.
2025, Def. 3.1, 3.2, eqs. 3.3-3.6), for every combination of the grid: a bad value raises
:class:`ParameterError` whose name is the value's place in the file (``grid.lam``, ``params.q``,
``engine.dtype``), so that a typo is reported before any training starts and never surfaces from
inside torch.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from theorykit.errors import ParameterError
from theorykit.params import NAMED_SETTINGS, ProblemParams
from validation.runs.sizing import default_group_size, duration_text, group_size, prediction_seconds
from validation.runs.spec import DTYPES, EngineOptions, RunSpec, check_data_options, group_specs

TOP_LEVEL_KEYS = ("name", "base", "seeds", "group_size", "params", "grid", "data", "engine")
DATA_KEYS = ("supports", "labels")
ENGINE_KEYS = ("record_every", "log_records", "test_size", "test_seed", "order", "dtype")
#: Seeds are below 2^32, so that every torch generator seed derived from them (data, test,
#: shuffling) fits.
SEED_LIMIT = 2**32
SEED_RULE = "integers in [0, 2^32) (torch generators are seeded from them)"
NAME_PATTERN = re.compile(r"[A-Za-z0-9_.-]{1,100}")
PARAM_FIELDS = tuple(field.name for field in dataclasses.fields(ProblemParams))


@dataclasses.dataclass(frozen=True)
class SweepSpec:
    """An expanded sweep: every run (grid combination x seed) and the engine options they share.

    ``axes`` names the grid's fields in file order (the run names and the report's columns use
    them); ``group_size`` caps the members of one stacked ensemble, None for no cap.
    """

    name: str
    runs: tuple[RunSpec, ...]
    options: EngineOptions
    axes: tuple[str, ...]
    group_size: int | None = None

    def tasks(
        self, runs: Sequence[RunSpec] | None = None, device_type: str = "cpu"
    ) -> list[list[int]]:
        """Indices of ``runs`` (default: all) per task: :func:`validation.runs.spec.group_specs`,
        each split into chunks of at most ``group_size`` members, or of
        :func:`validation.runs.sizing.default_group_size` for ``device_type`` when the spec sets
        none."""
        chosen = self.runs if runs is None else runs
        groups = group_specs(chosen)
        tasks = []
        for group in groups:
            size = self.group_size or default_group_size(
                chosen[group[0]], self.options, device_type
            )
            tasks += [group[start : start + size] for start in range(0, len(group), size)]
        return tasks

    def describe(self, device_type: str = "cpu", predict: bool = False) -> str:
        """``theorykit sweep --dry-run``: runs, axes, then per task its members, member-steps,
        memory and estimated time (:mod:`validation.runs.sizing`, in the kernel the options pick),
        the predictions' time with ``predict``, and the totals."""
        tasks = self.tasks(device_type=device_type)
        sizes = [
            group_size([self.runs[i] for i in task], self.options, device_type) for task in tasks
        ]
        lines = [
            f"sweep {self.name!r}: {len(self.runs)} runs over axes "
            f"{', '.join(self.axes) or '(none)'}, {len(tasks)} tasks (stacked ensembles), "
            f"{sum(size.member_steps for size in sizes):,} member-steps in all"
        ]
        for number, (task, size) in enumerate(zip(tasks, sizes, strict=True), start=1):
            first = self.runs[task[0]].params
            lines.append(size.line(f"  task {number} ({first.optimizer}, B={first.B})"))
        if device_type == "cpu" and sizes:
            total = sum(size.seconds or 0.0 for size in sizes)
            lines.append(
                f"estimated wall time on {device_type}, one task at a time: "
                f"~{duration_text(total)} (validation.runs.sizing)"
            )
            if predict:
                predicting = prediction_seconds(self.runs, self.options)
                lines.append(
                    f"predictions (--predict): ~{duration_text(predicting)}; total "
                    f"~{duration_text(total + predicting)}"
                )
        return "\n".join(lines)


def load_spec(path: str | Path) -> SweepSpec:
    """Read and expand the TOML spec at ``path`` (its stem is the default name)."""
    path = Path(path)
    if path.suffix.lower() != ".toml":
        raise ParameterError("spec", str(path), "a TOML file with the suffix .toml")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ParameterError("spec", str(path), f"a readable UTF-8 file ({error})") from None
    return parse_spec_text(text, default_name=path.stem)


def parse_spec_text(text: str, default_name: str = "sweep") -> SweepSpec:
    """Parse TOML ``text`` and expand it with :func:`parse_spec`; a syntax error names its line."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ParameterError("spec", "<TOML>", f"valid TOML: {error}") from None
    return parse_spec(document, default_name)


def parse_spec(document: dict[str, Any], default_name: str = "sweep") -> SweepSpec:
    """Expand a parsed spec (see the module docstring) into validated runs."""
    if not isinstance(document, dict):
        raise ParameterError("spec", document, "a table of keys (see validation.sweeps.grid)")
    _known_keys("", document, TOP_LEVEL_KEYS)
    name = document.get("name", default_name)
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name) or not name.strip("."):
        raise ParameterError(
            "name",
            name,
            "1-100 characters from letters, digits, '-', '_' and '.', not only dots (the default "
            "store is runs/NAME/results.sqlite)",
        )
    base_name = document.get("base", "tang2025-synthetic")
    if not isinstance(base_name, str) or base_name not in NAMED_SETTINGS:
        raise ParameterError("base", base_name, f"one of {', '.join(sorted(NAMED_SETTINGS))}")
    seeds = _seeds(document.get("seeds", [0]))
    group_size = document.get("group_size")
    if group_size is not None and not _is_int(group_size, minimum=1):
        raise ParameterError(
            "group_size", group_size, "an integer >= 1 (members per stacked ensemble)"
        )
    fixed = _table(document, "params")
    _known_keys("params", fixed, PARAM_FIELDS)
    grid = _table(document, "grid")
    _known_keys("grid", grid, PARAM_FIELDS)
    for field, values in grid.items():
        _axis(field, values)
        if field in fixed:
            raise ParameterError(
                f"grid.{field}", values, "a field set in [params] or swept in [grid], not both"
            )
    data = _table(document, "data")
    _known_keys("data", data, DATA_KEYS)
    options = _engine_options(_table(document, "engine"))
    supports, labels = data.get("supports", "overlapping"), data.get("labels", "balanced")

    runs = []
    for combination in itertools.product(*grid.values()):
        point = dict(zip(grid, combination, strict=True))
        params = _params(NAMED_SETTINGS[base_name], fixed, point)
        try:
            check_data_options(params.n, params.d, params.s, supports, labels)
        except ParameterError as error:
            place = (
                f"data.{error.name}"
                if error.name in DATA_KEYS
                else _place(error.name, fixed, point)
            )
            raise ParameterError(place, error.value, f"{error.rule}{_at(point)}") from None
        label = " ".join(f"{field}={_format(value)}" for field, value in point.items()) or "base"
        runs += [
            RunSpec(
                params, data_seed=seed, init_seed=seed, supports=supports, labels=labels, name=label
            )
            for seed in seeds
        ]
    return SweepSpec(name, tuple(runs), options, tuple(grid), group_size)


def _known_keys(section: str, table: dict[str, Any], allowed: tuple[str, ...]) -> None:
    for key in table:
        if key not in allowed:
            place = f"{section}.{key}" if section else str(key)
            raise ParameterError(place, table[key], f"a known key here: {', '.join(allowed)}")


def _table(document: dict[str, Any], section: str) -> dict[str, Any]:
    table = document.get(section, {})
    if not isinstance(table, dict):
        raise ParameterError(section, table, f"a table ([{section}])")
    return table


def _is_int(value: Any, minimum: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def check_seeds(seeds: Sequence[int]) -> None:
    """Refuse a seed outside [0, 2^32) or a repeated one (:class:`ParameterError` ``seeds``): the
    rule of a spec's ``seeds`` and of ``validation.compare_setting``'s."""
    for seed in seeds:
        if not 0 <= seed < SEED_LIMIT:
            raise ParameterError("seeds", seed, SEED_RULE)
    if len(set(seeds)) != len(seeds):
        raise ParameterError(
            "seeds", list(seeds), "no repeated seed (a repeat would train the same run twice)"
        )


def _seeds(seeds: Any) -> list[int]:
    if not isinstance(seeds, list) or not seeds:
        raise ParameterError("seeds", seeds, "a non-empty list of integers >= 0")
    for seed in seeds:
        if not _is_int(seed, minimum=0):
            raise ParameterError("seeds", seed, SEED_RULE)
    check_seeds(seeds)
    return seeds


def _axis(field: str, values: Any) -> None:
    if not isinstance(values, list) or not values:
        raise ParameterError(f"grid.{field}", values, "a non-empty list of values")
    for value in values:
        if values.count(value) > 1:
            raise ParameterError(
                f"grid.{field}",
                value,
                "no repeated value on an axis (it would train the same runs twice)",
            )


def _params(base: Any, fixed: dict[str, Any], point: dict[str, Any]) -> ProblemParams:
    """The base setting with [params] and one grid point applied; errors name the field's place."""
    try:
        return base(**fixed, **point)
    except ParameterError as error:
        raise ParameterError(
            _place(error.name, fixed, point), error.value, f"{error.rule}{_at(point)}"
        ) from None


def _place(field: str, fixed: dict[str, Any], point: dict[str, Any]) -> str:
    if field in point:
        return f"grid.{field}"
    if field in fixed:
        return f"params.{field}"
    return f"base.{field}"


def _at(point: dict[str, Any]) -> str:
    return f" (at grid point {point})" if point else ""


def _format(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _engine_options(engine: dict[str, Any]) -> EngineOptions:
    _known_keys("engine", engine, ENGINE_KEYS)
    for key in ("record_every", "test_size"):
        if key in engine and not _is_int(engine[key], minimum=1):
            raise ParameterError(f"engine.{key}", engine[key], "an integer >= 1")
    if "log_records" in engine and not _is_int(engine["log_records"], minimum=0):
        raise ParameterError(
            "engine.log_records", engine["log_records"], "an integer >= 0 (log-spaced records)"
        )
    if "test_seed" in engine and (
        not _is_int(engine["test_seed"], minimum=0) or engine["test_seed"] >= SEED_LIMIT
    ):
        raise ParameterError("engine.test_seed", engine["test_seed"], "an integer in [0, 2^32)")
    if "order" in engine and engine["order"] not in ("reshuffle", "cyclic"):
        raise ParameterError("engine.order", engine["order"], "'reshuffle' or 'cyclic'")
    dtype = engine.get("dtype", "float64")
    if not isinstance(dtype, str) or dtype not in DTYPES:
        raise ParameterError("engine.dtype", dtype, "'float64' or 'float32'")
    values = {
        key: engine[key]
        for key in ("record_every", "log_records", "test_size", "test_seed", "order")
        if key in engine
    }
    return EngineOptions(**values, dtype=dtype)
