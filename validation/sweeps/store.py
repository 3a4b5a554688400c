"""The sweep results store: one SQLite file, one row per finished run, written one group at a time.

Each row holds a run's key (:func:`validation.sweeps.records.run_key`: sha1 of its parameters,
seeds, data and engine options), the sweep that produced it, its full configuration, the code
version that trained it, its status (``finished`` or ``failed`` -- weights went NaN/inf, with the
reason), its final metrics and its whole trajectory (JSON). :meth:`ResultsStore.add` writes a
group's rows in one transaction (``synchronous=FULL``, WAL journal): a process killed at any moment
leaves every group either completely present or absent, and readers never see a half-written group.
A key that is already present is left untouched (``ON CONFLICT DO NOTHING``), so a task that ran
twice -- a Dask worker retried after a crash -- never duplicates a run. A rerun asks :meth:`keys`
and trains the rest.

Runs of the real-image check (``validation.experiments.images``) live in the same file, in the table
``image_runs`` (:meth:`add_image_run`, :meth:`image_records`): one row per (optimiser, lam, B, lr,
epochs, seed) with its final errors, written as each run finishes.

Exports: :meth:`records` (typed :class:`~validation.sweeps.records.RunRecord` s, which the reports
read), :meth:`dataframe` (pandas, one flat row per run: every parameter and final metric),
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

from dynamics.trajectory import METRICS
from theorykit.errors import ParameterError
from theorykit.params import ProblemParams
from validation.sweeps.records import RunRecord

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
CREATE TABLE IF NOT EXISTS image_runs (
    key TEXT PRIMARY KEY,
    dataset TEXT NOT NULL,
    code_version TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    config TEXT NOT NULL,
    final TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
#: Columns of :meth:`ResultsStore.dataframe` / CSV export before the parameter and metric columns.
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


class ResultsStore:
    """An SQLite results file at ``path`` (created with its schema on first use)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if self.path.exists() and self.path.is_dir():
            raise ParameterError(
                "store",
                str(self.path),
                "a file path (e.g. runs/NAME/results.sqlite), not a directory",
            )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._connection = sqlite3.connect(self.path, timeout=60, isolation_level=None)
            self._connection.execute("PRAGMA journal_mode=WAL")
            self._connection.execute("PRAGMA synchronous=FULL")
            self._connection.executescript(_SCHEMA)
            self._connection.execute(
                "INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,)
            )
        except sqlite3.DatabaseError as error:
            raise ParameterError(
                "store", str(self.path), f"an SQLite results store ({error})"
            ) from None
        version = self._connection.execute(
            "SELECT value FROM meta WHERE name = 'schema_version'"
        ).fetchone()[0]
        if version != SCHEMA_VERSION:
            raise ParameterError(
                "store", str(self.path), f"schema version {SCHEMA_VERSION} (found {version})"
            )

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

    def add(
        self, sweep: str, records: Iterable[RunRecord], engine: dict[str, Any], code_version: str
    ) -> int:
        """Store the records of one group in one transaction; returns how many were new.

        ``engine`` is the group's recorded engine options
        (:func:`validation.sweeps.records.engine_identity`). Keys already present are skipped, never
        overwritten.
        """
        now = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
        rows = [
            (
                record.key,
                sweep,
                record.name,
                record.status,
                record.failure,
                code_version,
                now,
                json.dumps({**record.config(), "engine": engine}),
                json.dumps(dict(record.final)),
                json.dumps(
                    {
                        "epoch": list(record.epoch),
                        "metrics": {k: list(v) for k, v in record.metrics.items()},
                    }
                ),
            )
            for record in records
        ]
        connection = self._connection
        connection.execute("BEGIN IMMEDIATE")
        try:
            before = connection.total_changes
            connection.executemany(
                "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(key) DO "
                "NOTHING",
                rows,
            )
            added = connection.total_changes - before
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        return added

    def add_image_run(
        self,
        dataset: str,
        key: str,
        config: dict[str, Any],
        final: dict[str, float],
        code_version: str,
    ) -> bool:
        """Store one finished image run (in its own transaction); False when ``key`` was already
        stored."""
        now = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
        cursor = self._connection.execute(
            "INSERT INTO image_runs VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(key) DO NOTHING",
            (key, dataset, code_version, now, json.dumps(config), json.dumps(final)),
        )
        return cursor.rowcount == 1

    def image_records(self, dataset: str) -> dict[str, dict[str, Any]]:
        """The stored image runs of ``dataset`` by key: each its config fields and final errors in
        one dict."""
        rows = self._connection.execute(
            "SELECT key, config, final FROM image_runs WHERE dataset = ? ORDER BY key", (dataset,)
        )
        return {key: {**json.loads(config), **json.loads(final)} for key, config, final in rows}

    def _rows(self, keys: Iterable[str] | None) -> list[sqlite3.Row]:
        self._connection.row_factory = sqlite3.Row
        try:
            rows = self._connection.execute(
                "SELECT * FROM runs ORDER BY sweep, name, key"
            ).fetchall()
        finally:
            self._connection.row_factory = None
        if keys is None:
            return rows
        by_key = {row["key"]: row for row in rows}
        return [by_key[key] for key in keys if key in by_key]

    def records(self, keys: Iterable[str] | None = None) -> dict[str, RunRecord]:
        """Stored runs by key: all of them (by sweep and name), or those of ``keys`` that are
        stored, in the order of ``keys``."""
        records = {}
        for row in self._rows(keys):
            config, trajectory = json.loads(row["config"]), json.loads(row["trajectory"])
            records[row["key"]] = RunRecord(
                key=row["key"],
                name=row["name"],
                params=ProblemParams.from_dict(config["params"]),
                data_seed=config["data_seed"],
                init_seed=config["init_seed"],
                supports=config["supports"],
                labels=config["labels"],
                epoch=tuple(trajectory["epoch"]),
                metrics={name: tuple(values) for name, values in trajectory["metrics"].items()},
                final=json.loads(row["final"]),
                failure=row["failure"],
                sweep=row["sweep"],
                code_version=row["code_version"],
                finished_at=row["finished_at"],
                engine=config.get("engine", {}),
            )
        return records

    def flat_rows(self) -> list[dict[str, Any]]:
        """One flat dict per run: :data:`RUN_COLUMNS`, then every ProblemParams field, then final
        metrics (None for a failed run: its metrics are not trustworthy, see the ``failure``
        column)."""
        rows = []
        for record in self.records().values():
            run = {
                "key": record.key,
                "sweep": record.sweep,
                "name": record.name,
                "status": record.status,
                "failure": record.failure,
                "code_version": record.code_version,
                "finished_at": record.finished_at,
                "data_seed": record.data_seed,
                "init_seed": record.init_seed,
                "supports": record.supports,
                "labels": record.labels,
            }
            finals = {
                metric: None if record.failure else record.final.get(metric) for metric in METRICS
            }
            rows.append({**run, **record.params.to_dict(), **finals})
        return rows

    def dataframe(self):
        """:meth:`flat_rows` as a pandas DataFrame (one row per run)."""
        import pandas as pd

        return pd.DataFrame(self.flat_rows(), columns=self._flat_columns())

    def trajectory_frame(self):
        """Long form: one row per (run, recorded epoch) with the key, the name and every metric."""
        import pandas as pd

        rows = []
        for key, record in self.records().items():
            for index, epoch in enumerate(record.epoch):
                rows.append(
                    {
                        "key": key,
                        "name": record.name,
                        "epoch": epoch,
                        **{metric: values[index] for metric, values in record.metrics.items()},
                    }
                )
        return pd.DataFrame(rows)

    def export(self, path: str | Path) -> Path:
        """Write the flat table to ``path``: ``.csv`` (standard library) or ``.parquet`` (pandas +
        pyarrow)."""
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
        return [*RUN_COLUMNS, *(field for field in ProblemParams.__dataclass_fields__), *METRICS]
