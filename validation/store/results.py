"""The sweep results store: one SQLite file, one row per finished run, written one group at a time.

Each row holds a run's key (:func:`validation.runs.records.run_key`: sha1 of its parameters,
seeds, data and engine options), the sweep that produced it, its full configuration, the code
version that trained it, its status (``finished`` or ``failed`` -- weights went NaN/inf, with the
reason), its final metrics and its whole trajectory (JSON). :meth:`ResultsStore.add` writes a
group's rows in one transaction (``synchronous=FULL``, WAL journal:
:mod:`validation.store.connection`): a process killed at any moment leaves every group either
completely present or absent, and readers never see a half-written group. A key that is already
present is left untouched (``ON CONFLICT DO NOTHING``), so a task that ran twice -- a Dask worker
retried after a crash -- never duplicates a run. A rerun asks :meth:`keys` and trains the rest.

Runs of the real-image check (``validation.experiments.image_experiment``) live in the same file,
in the table ``image_runs`` (:meth:`add_image_run`, :meth:`image_records`): one row per
(optimiser, lam, B, lr, epochs, seed) with its final errors, written as each run finishes.

The reduced dynamics' prediction of a stored run (``validation.experiments.prediction``) lives in
the table ``predictions``, keyed by the run's key and the reduction (:meth:`add_predictions`,
:meth:`predictions`), written one group at a time like the runs.

Drivers that share a store share its work through the table ``claims``
(:mod:`validation.store.leases`), reached as ``store.leases``: ``claim``, ``renew``, ``release``
and ``claimed_elsewhere``.

Exports (:mod:`validation.store.exports`): :meth:`records` (typed
:class:`~validation.runs.records.RunRecord` s, which the reports read), :meth:`dataframe` (pandas,
one flat row per run: every parameter and final metric), :meth:`trajectory_frame` (long form, one
row per run and recorded epoch), :meth:`export` (``.csv`` with the standard library, ``.parquet``
through pandas + pyarrow).
"""

from __future__ import annotations

import datetime
import json
import sqlite3
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from dynamics.trajectory import Trajectory
from validation.runs.records import RunRecord, configuration_text, finite_or_none
from validation.store import exports as store_exports
from validation.store import rows as store_rows
from validation.store.connection import StoreConnection
from validation.store.leases import Leases

if TYPE_CHECKING:
    import pandas as pd

_Parsed = TypeVar("_Parsed")


def _trajectory_json(epoch: Iterable[float], metrics: Mapping[str, Iterable[float | None]]) -> str:
    """Recorded epochs and metrics as strict JSON (a non-finite value as null)."""
    return json.dumps(
        {
            "epoch": [float(e) for e in epoch],
            "metrics": {
                k: [None if x is None else finite_or_none(float(x)) for x in v]
                for k, v in metrics.items()
            },
        },
        allow_nan=False,
    )


def _now() -> str:
    """The time a row is written: UTC, ISO 8601, to the second."""
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def _insert_many(statement: str, rows: list[tuple]) -> Callable[[sqlite3.Connection], int]:
    """The write that runs ``statement`` over ``rows`` and returns how many rows it added."""

    def insert(connection: sqlite3.Connection) -> int:
        before = connection.total_changes
        connection.executemany(statement, rows)
        return connection.total_changes - before

    return insert


class ResultsStore:
    """An SQLite results file at ``path`` (created with its schema on first use; any number of
    processes may open one at once, :mod:`validation.store.files`).

    Refused untouched, each with one sentence (:class:`theorykit.errors.ParameterError`): a
    directory, a file that is not SQLite, an SQLite file of another program, a malformed
    database, another schema version; with ``read_only``, a missing file (a store that is read is
    never created). A store on a file or directory this process may not write opens read-only
    (``read_only`` forces it): reports and exports work, writes raise
    :class:`validation.errors.MachineError`. A row that cannot be parsed (hand-edited, damaged)
    is skipped by every read and named in :attr:`malformed` with its reason. :meth:`close`
    checkpoints the write-ahead log into the main file, so that the ``.sqlite`` file alone holds
    every row.
    """

    def __init__(self, path: str | Path, read_only: bool = False) -> None:
        self._file = StoreConnection(path, read_only)
        #: The claims that drivers sharing this store take, renew and release.
        self.leases = Leases(self._file)
        self.path: Path = self._file.path
        self.read_only: bool = self._file.read_only
        self._connection = self._file.connection
        #: Rows the last read could not parse, by key: the reason (hand-edited or damaged rows;
        #: the reports list them and go on with the rest).
        self.malformed: dict[str, str] = {}

    def close(self) -> None:
        """Checkpoint the write-ahead log into the file (so the .sqlite alone holds every row)
        and close."""
        self._file.close()

    def __enter__(self) -> ResultsStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _read(self, key: str, parse: Callable[[], _Parsed]) -> _Parsed | None:
        """``parse()``, or None with ``key``'s reason kept in :attr:`malformed`."""
        try:
            return parse()
        except store_rows.MalformedRow as error:
            self.malformed[key] = str(error)
            return None

    def configurations(self) -> dict[str, set[str]]:
        """Per stored run name, the configurations stored under it
        (:func:`validation.runs.records.configuration_text`); malformed rows skipped."""
        found: dict[str, set[str]] = {}
        for key, name, config in self._connection.execute("SELECT key, name, config FROM runs"):
            parsed = self._read(key, lambda config=config: store_rows.configuration(config))
            if parsed is not None:
                found.setdefault(name, set()).add(configuration_text(*parsed))
        return found

    def keys(self) -> set[str]:
        """Keys of every stored run (finished or failed)."""
        return {row[0] for row in self._connection.execute("SELECT key FROM runs")}

    def prediction_keys(self) -> set[str]:
        """Keys of the runs with a stored prediction."""
        return {row[0] for row in self._connection.execute("SELECT key FROM predictions")}

    def __len__(self) -> int:
        return self._connection.execute("SELECT COUNT(*) FROM runs").fetchone()[0]

    def add(
        self,
        sweep: str,
        records: Iterable[RunRecord],
        engine: dict[str, Any],
        code_version: str,
        provenance: dict[str, Any] | None = None,
    ) -> int:
        """Store the records of one group in one transaction; returns how many were new.

        ``engine`` is the group's recorded engine options
        (:func:`validation.runs.records.engine_identity`); ``provenance`` where and how it trained
        (``validation.cnn.tasks.provenance``), kept in the ``config`` column beside the engine
        options but never part of a key. Keys already present are skipped, never overwritten.
        """
        now = _now()
        rows = [
            (
                record.key,
                sweep,
                record.name,
                record.status,
                record.failure,
                code_version,
                now,
                json.dumps({**record.config(), "engine": engine, "provenance": provenance or {}}),
                json.dumps(dict(record.final)),
                _trajectory_json(record.epoch, record.metrics),
            )
            for record in records
        ]
        statement = (
            "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(key) DO NOTHING"
        )
        return self._file.write(_insert_many(statement, rows))

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
        row = (key, dataset, code_version, _now(), json.dumps(config), json.dumps(final))
        statement = "INSERT INTO image_runs VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
        return bool(
            self._file.write(lambda connection: connection.execute(statement, row).rowcount)
        )

    def add_predictions(
        self, reduction: str, predicted: Iterable[tuple[str, Trajectory]], code_version: str
    ) -> int:
        """Store the predicted trajectories of one group (run key, trajectory) in one transaction;
        returns how many were new (a stored (key, reduction) is never overwritten)."""
        now = _now()
        rows = [
            (key, reduction, code_version, now, _trajectory_json(t.epoch, t.metrics))
            for key, t in predicted
        ]
        statement = "INSERT INTO predictions VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
        return self._file.write(_insert_many(statement, rows))

    def predictions(self, keys: Iterable[str]) -> dict[str, tuple[str, Trajectory]]:
        """The stored predictions of the runs ``keys``: by key, (reduction, trajectory);
        malformed rows skipped (:attr:`malformed`)."""
        wanted = set(keys)
        found = {}
        for key, reduction, text in self._connection.execute(
            "SELECT key, reduction, trajectory FROM predictions ORDER BY key, reduction"
        ):
            if key in wanted:
                trajectory = self._read(key, lambda text=text: store_rows.prediction(text))
                if trajectory is not None:
                    found[key] = (reduction, trajectory)
        return found

    def image_records(self, dataset: str) -> dict[str, dict[str, Any]]:
        """The stored image runs of ``dataset`` by key: each its config fields and final errors in
        one dict; malformed rows skipped (:attr:`malformed`)."""
        rows = self._connection.execute(
            "SELECT key, config, final FROM image_runs WHERE dataset = ? ORDER BY key", (dataset,)
        )
        found = {}
        for key, config, final in rows:
            parsed = self._read(key, lambda c=config, f=final: store_rows.image_run(c, f))
            if parsed is not None:
                found[key] = parsed
        return found

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
        stored, in the order of ``keys``; a row that cannot be read is skipped and named in
        :attr:`malformed` (:mod:`validation.store.rows`)."""
        self.malformed = {}
        records = {}
        for row in self._rows(keys):
            record = self._read(row["key"], lambda row=row: store_rows.run_record(row))
            if record is not None:
                records[row["key"]] = record
        return records

    def flat_rows(self) -> list[dict[str, Any]]:
        """One flat dict per run (:func:`validation.store.exports.flat_row`): run columns,
        provenance, every ProblemParams field, then final metrics (None for a failed run: its
        metrics are not trustworthy, see the ``failure`` column)."""
        return store_exports.flat_rows(self.records().values())

    def dataframe(self) -> pd.DataFrame:
        """:meth:`flat_rows` as a tidy pandas DataFrame: one row per run, every configuration
        column beside the final metrics, metrics as float64 (NaN where a run failed)."""
        return store_exports.run_frame(self.records().values())

    def trajectory_frame(self) -> pd.DataFrame:
        """Long form, tidy: one row per (run, recorded epoch), its configuration columns (those
        of :meth:`dataframe` but the final metrics) joined, the recorded metrics as float64."""
        return store_exports.trajectory_frame(self.records())

    def prediction_frame(self) -> pd.DataFrame:
        """Long form, tidy: one row per (predicted run, recorded epoch) with the reduction that
        predicted it, the run's configuration columns joined, the predicted metrics as float64."""
        runs = self.records()
        return store_exports.prediction_frame(runs, self.predictions(runs))

    def export(self, path: str | Path) -> Path:
        """Write the flat table to ``path``: ``.csv`` (standard library) or ``.parquet`` (pandas +
        pyarrow); the store itself is refused as a target
        (:func:`validation.store.files.refuse_store_target`)."""
        target = store_exports.export_target(self.path, path)
        return store_exports.write_table(target, self.records().values())
