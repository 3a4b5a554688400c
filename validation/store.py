"""The sweep results store: one SQLite file, one row per finished run, written one group at a time.

Each row holds a run's key (:func:`validation.results.run_key`: sha1 of its parameters, seeds, data
and engine options), the sweep that produced it, its full configuration, the code version that
trained it, its status (``finished`` or ``failed`` -- weights went NaN/inf, with the reason), its
final metrics and its whole trajectory (JSON). :meth:`ResultsStore.add` writes a group's rows in one
transaction (``synchronous=FULL``, WAL journal): a process killed at any moment leaves every group
either completely present or absent, and readers never see a half-written group. A key that is
already present is left untouched (``ON CONFLICT DO NOTHING``), so a task that ran twice -- a Dask
worker retried after a crash -- never duplicates a run. A rerun asks :meth:`keys` and trains the rest.

Exports: :meth:`records` (the same dicts as ``validation.results.trajectory_record``, which the
reports read), :meth:`dataframe` (pandas, one flat row per run: every parameter and final metric),
:meth:`trajectory_frame` (long form, one row per run and recorded epoch), :meth:`export` (``.csv``
with the standard library, ``.parquet`` through pandas + pyarrow).
"""

from __future__ import annotations

import csv
import datetime
import json
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from theorykit.errors import ParameterError
from theorykit.params import ProblemParams

SCHEMA_VERSION = "1"
STATUSES = ("finished", "failed")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    key TEXT PRIMARY KEY,
    sweep TEXT NOT NULL,
    name TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('finished', 'failed')),
    failure TEXT,
    code_version TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    config TEXT NOT NULL,
    final TEXT NOT NULL,
    trajectory TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
#: Columns of :meth:`ResultsStore.dataframe` / CSV export before the parameter and metric columns.
RUN_COLUMNS = ("key", "sweep", "name", "status", "failure", "code_version", "finished_at",
               "data_seed", "init_seed", "supports", "labels")


class ResultsStore:
    """An SQLite results file at ``path`` (created with its schema on first use)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if self.path.exists() and self.path.is_dir():
            raise ParameterError("store", str(self.path), "a file path (e.g. runs/NAME/results.sqlite), not a directory")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._connection = sqlite3.connect(self.path, timeout=60, isolation_level=None)
            self._connection.execute("PRAGMA journal_mode=WAL")
            self._connection.execute("PRAGMA synchronous=FULL")
            self._connection.executescript(_SCHEMA)
            self._connection.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,))
        except sqlite3.DatabaseError as error:
            raise ParameterError("store", str(self.path), f"an SQLite results store ({error})") from None
        version = self._connection.execute("SELECT value FROM meta WHERE name = 'schema_version'").fetchone()[0]
        if version != SCHEMA_VERSION:
            raise ParameterError("store", str(self.path), f"schema version {SCHEMA_VERSION} (found {version})")

    def close(self) -> None:
        self._connection.close()

    def __enter__(self) -> ResultsStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def keys(self) -> set[str]:
        """Keys of every stored run (finished or failed)."""
        return {row[0] for row in self._connection.execute("SELECT key FROM runs")}

    def __len__(self) -> int:
        return self._connection.execute("SELECT COUNT(*) FROM runs").fetchone()[0]

    def add(self, sweep: str, items: Iterable[tuple[str, dict[str, Any]]], engine: dict[str, Any],
            code_version: str) -> int:
        """Store ``(key, record)`` pairs of one group in one transaction; returns how many were new.

        ``record`` is a :func:`validation.results.trajectory_record` dict, ``engine`` the group's
        recorded engine options (:func:`validation.results.engine_identity`). Keys already present are
        skipped, never overwritten.
        """
        now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        rows = [(key, sweep, record["name"], "failed" if record.get("failure") else "finished", record.get("failure"),
                 code_version, now, json.dumps({**_config(record), "engine": engine}), json.dumps(record["final"]),
                 json.dumps({"epoch": record["epoch"], "metrics": record["metrics"]}))
                for key, record in items]
        connection = self._connection
        connection.execute("BEGIN IMMEDIATE")
        try:
            before = connection.total_changes
            connection.executemany("INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(key) DO NOTHING",
                                   rows)
            added = connection.total_changes - before
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        return added

    def _rows(self, keys: Iterable[str] | None) -> list[sqlite3.Row]:
        self._connection.row_factory = sqlite3.Row
        try:
            rows = self._connection.execute("SELECT * FROM runs ORDER BY sweep, name, key").fetchall()
        finally:
            self._connection.row_factory = None
        if keys is None:
            return rows
        by_key = {row["key"]: row for row in rows}
        return [by_key[key] for key in keys if key in by_key]

    def records(self, keys: Iterable[str] | None = None) -> dict[str, dict[str, Any]]:
        """Stored runs as ``validation.results.trajectory_record`` dicts by key: all of them (by sweep and
        name), or those of ``keys`` that are stored, in the order of ``keys``."""
        records = {}
        for row in self._rows(keys):
            config, trajectory = json.loads(row["config"]), json.loads(row["trajectory"])
            records[row["key"]] = {
                "name": row["name"], **config, "epoch": trajectory["epoch"], "metrics": trajectory["metrics"],
                "final": json.loads(row["final"]), "status": row["status"], "failure": row["failure"], "sweep": row["sweep"],
                "code_version": row["code_version"], "finished_at": row["finished_at"],
            }
        return records

    def flat_rows(self) -> list[dict[str, Any]]:
        """One flat dict per run: :data:`RUN_COLUMNS`, then every ProblemParams field, then final metrics."""
        return [{**{column: key if column == "key" else record[column] for column in RUN_COLUMNS},
                 **record["params"], **record["final"]} for key, record in self.records().items()]

    def dataframe(self):  # noqa: ANN201 - a pandas.DataFrame (pandas is imported only here)
        """:meth:`flat_rows` as a pandas DataFrame (one row per run)."""
        import pandas as pd

        return pd.DataFrame(self.flat_rows(), columns=self._flat_columns())

    def trajectory_frame(self):  # noqa: ANN201 - a pandas.DataFrame
        """Long form: one row per (run, recorded epoch) with the run's key, name and every metric."""
        import pandas as pd

        rows = []
        for key, record in self.records().items():
            for index, epoch in enumerate(record["epoch"]):
                rows.append({"key": key, "name": record["name"], "epoch": epoch,
                             **{metric: values[index] for metric, values in record["metrics"].items()}})
        return pd.DataFrame(rows)

    def export(self, path: str | Path) -> Path:
        """Write the flat table to ``path``: ``.csv`` (standard library) or ``.parquet`` (pandas + pyarrow)."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix == ".csv":
            with path.open("w", newline="") as stream:
                writer = csv.DictWriter(stream, fieldnames=self._flat_columns())
                writer.writeheader()
                writer.writerows(self.flat_rows())
        elif suffix == ".parquet":
            self.dataframe().to_parquet(path, index=False)
        else:
            raise ParameterError("export", str(path), "a path ending in .csv or .parquet")
        return path

    def _flat_columns(self) -> list[str]:
        from validation.engine import METRICS

        return [*RUN_COLUMNS, *(field for field in ProblemParams.__dataclass_fields__), *METRICS]


def _config(record: dict[str, Any]) -> dict[str, Any]:
    """What determines a run, as stored in the ``config`` column."""
    return {key: record[key] for key in ("params", "data_seed", "init_seed", "supports", "labels")}
