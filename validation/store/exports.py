"""The stored runs as flat tables: rows, pandas frames, CSV and Parquet files.

:func:`flat_rows` gives one flat dict per run (:data:`RUN_COLUMNS`, :data:`PROVENANCE_COLUMNS`,
every :class:`~theorykit.params.ProblemParams` field, the final metrics), :func:`run_frame` the
same as a tidy pandas DataFrame, :func:`trajectory_frame` and :func:`prediction_frame` the long
form (one row per run and recorded epoch, measured or predicted) and :func:`write_table` a
``.csv`` (standard library) or ``.parquet`` (pandas + pyarrow) file, once :func:`export_target`
has refused a target that is the store itself (:func:`validation.store.files.refuse_store_target`).
pandas is imported only by the frames, so that a CSV export needs neither pandas nor torch.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dynamics.trajectory import METRICS, Trajectory
from theorykit.errors import ParameterError
from theorykit.params import ProblemParams
from validation.runs.records import RunRecord
from validation.store import files as store_file

if TYPE_CHECKING:
    import pandas as pd

#: Columns of :func:`run_frame` / CSV export before the parameter and metric columns.
RUN_COLUMNS = (
    "key",
    "sweep",
    "name",
    "status",
    "failure",
    "code_version",
    "finished_at",
    "data_seed",
    "init_seed",
    "supports",
    "labels",
)
#: Provenance columns of the flat table (``validation.cnn.tasks.provenance``; empty for runs stored
#: before provenance was recorded).
PROVENANCE_COLUMNS = ("host", "torch", "cuda", "device", "dtype", "tf32", "kernel", "threads")
#: Every column of the flat table, in order.
FLAT_COLUMNS = (
    *RUN_COLUMNS,
    *PROVENANCE_COLUMNS,
    *ProblemParams.__dataclass_fields__,
    *METRICS,
)
#: (key, recorded epochs, metric series) of one run, measured or predicted.
Series = tuple[str, Iterable[float], Mapping[str, Any]]


def flat_row(record: RunRecord) -> dict[str, Any]:
    """One run as a flat dict: :data:`FLAT_COLUMNS`, the final metrics None for a failed run (its
    metrics are not trustworthy, see the ``failure`` column)."""
    run = {name: getattr(record, name) for name in RUN_COLUMNS}
    where = {name: record.provenance.get(name) for name in PROVENANCE_COLUMNS}
    finals = {metric: None if record.failure else record.final.get(metric) for metric in METRICS}
    return {**run, **where, **record.params.to_dict(), **finals}


def flat_rows(records: Iterable[RunRecord]) -> list[dict[str, Any]]:
    """:func:`flat_row` of each of ``records``."""
    return [flat_row(record) for record in records]


def run_frame(records: Iterable[RunRecord]) -> pd.DataFrame:
    """:func:`flat_rows` as a tidy pandas DataFrame: one row per run, every configuration column
    beside the final metrics, metrics as float64 (NaN where a run failed)."""
    import pandas as pd

    frame = pd.DataFrame(flat_rows(records), columns=list(FLAT_COLUMNS))
    return frame.astype(dict.fromkeys(METRICS, "float64"))


def trajectory_frame(runs: Mapping[str, RunRecord]) -> pd.DataFrame:
    """Long form, tidy: one row per (run, recorded epoch) of ``runs`` (by key), its configuration
    columns (those of :func:`run_frame` but the final metrics) joined, the recorded metrics as
    float64."""
    return _long_frame(runs, [(key, record.epoch, record.metrics) for key, record in runs.items()])


def prediction_frame(
    runs: Mapping[str, RunRecord], predicted: Mapping[str, tuple[str, Trajectory]]
) -> pd.DataFrame:
    """Long form, tidy: one row per (predicted run, recorded epoch) with the reduction that
    predicted it (``predicted``: by key, reduction and trajectory), the run's configuration
    columns joined from ``runs``, the predicted metrics as float64."""
    return _long_frame(
        runs,
        [(key, trajectory.epoch, trajectory.metrics) for key, (_, trajectory) in predicted.items()],
        reductions={key: reduction for key, (reduction, _) in predicted.items()},
    )


def _long_frame(
    runs: Mapping[str, RunRecord],
    series: Iterable[Series],
    reductions: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """One row per (key, epoch) of ``series``, joined to the configuration of each key
    (:func:`run_frame` of ``runs`` without its final metrics)."""
    import pandas as pd

    configuration = run_frame(runs.values()).drop(columns=list(METRICS)).set_index("key")
    rows = []
    for key, epochs, metrics in series:
        for index, epoch in enumerate(epochs):
            row = {"key": key, "epoch": float(epoch)}
            if reductions is not None:
                row["reduction"] = reductions[key]
            rows.append({**row, **{m: metrics[m][index] for m in METRICS if m in metrics}})
    columns = ["key", "epoch", *(["reduction"] if reductions is not None else []), *METRICS]
    frame = pd.DataFrame(rows, columns=columns).astype(dict.fromkeys(METRICS, "float64"))
    return frame.join(configuration, on="key")


def export_target(store: Path, target: str | Path) -> Path:
    """``target`` as a path to export the store at ``store`` to, refused when it is the store
    itself (:func:`validation.store.files.refuse_store_target`) or ends in neither ``.csv`` nor
    ``.parquet``."""
    path = Path(target)
    store_file.refuse_store_target(store, path, "export")
    if path.suffix.lower() not in (".csv", ".parquet"):
        raise ParameterError("export", str(path), "a path ending in .csv or .parquet")
    return path


def write_table(path: Path, records: Iterable[RunRecord]) -> Path:
    """Write the flat table of ``records`` to ``path`` (checked by :func:`export_target`):
    ``.csv`` with the standard library, ``.parquet`` through pandas + pyarrow."""
    if path.suffix.lower() == ".csv":
        with path.open("w", newline="") as stream:
            writer = csv.DictWriter(stream, fieldnames=FLAT_COLUMNS)
            writer.writeheader()
            writer.writerows(flat_rows(records))
    else:
        run_frame(records).to_parquet(path, index=False)
    return path
