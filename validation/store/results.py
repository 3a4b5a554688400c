"""The sweep results store: one SQLite file, one row per finished run, written one group at a time.

Each row holds a run's key (:func:`validation.runs.records.run_key`: sha1 of its parameters,
seeds, data and engine options), the sweep that produced it, its full configuration, the code
version that trained it, its status (``finished`` or ``failed`` -- weights went NaN/inf, with the
reason), its final metrics and its whole trajectory (JSON). :meth:`ResultsStore.add` writes a
group's rows in one transaction (``synchronous=FULL``, WAL journal): a process killed at any moment
leaves every group either completely present or absent, and readers never see a half-written group.
A key that is already present is left untouched (``ON CONFLICT DO NOTHING``), so a task that ran
twice -- a Dask worker retried after a crash -- never duplicates a run. A rerun asks :meth:`keys`
and trains the rest.

Runs of the real-image check (``validation.experiments.image_experiment``) live in the same file,
in the table
``image_runs`` (:meth:`add_image_run`, :meth:`image_records`): one row per (optimiser, lam, B, lr,
epochs, seed) with its final errors, written as each run finishes.

The reduced dynamics' prediction of a stored run (``validation.experiments.prediction``) lives in
the table ``predictions``, keyed by the run's key and the reduction (:meth:`add_predictions`,
:meth:`predictions`), written one group at a time like the runs.

Drivers that share a store share its work through the table ``claims``: a driver claims the keys
of a task before it trains them (:meth:`claim`, one transaction: keys stored or claimed by a live
driver are skipped), renews its leases while it trains (:meth:`renew`) and releases them when the
task is stored or abandoned (:meth:`release`). A lease that is not renewed expires, so the runs of
a killed driver are taken over by the next driver that asks.

Exports: :meth:`records` (typed :class:`~validation.runs.records.RunRecord` s, which the reports
read), :meth:`dataframe` (pandas, one flat row per run: every parameter and final metric),
:meth:`trajectory_frame` (long form, one row per run and recorded epoch), :meth:`export` (``.csv``
with the standard library, ``.parquet`` through pandas + pyarrow).
"""

from __future__ import annotations

import contextlib
import csv
import datetime
import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from dynamics.trajectory import METRICS, Trajectory
from theorykit.errors import ParameterError
from theorykit.params import ProblemParams
from validation.errors import MachineError
from validation.runs.records import RunRecord, configuration_text, finite_or_none
from validation.store import files as store_file
from validation.store import rows as store_rows

STATUSES = ("finished", "failed")
_Parsed = TypeVar("_Parsed")
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
#: Provenance columns of the flat table (``validation.cnn.tasks.provenance``; empty for runs stored
#: before provenance was recorded).
PROVENANCE_COLUMNS = ("host", "torch", "cuda", "device", "dtype", "tf32", "kernel", "threads")


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
        if not isinstance(path, str | os.PathLike) or not str(path):
            raise ParameterError("store", path, "a file path (e.g. runs/NAME/results.sqlite)")
        self.path = Path(path)
        if self.path.is_dir():
            raise ParameterError(
                "store",
                str(self.path),
                "a file path (e.g. runs/NAME/results.sqlite), not a directory",
            )
        # The file is read through SQLite only: closing any other descriptor on it would drop
        # this process's POSIX locks, and another process could then delete the write-ahead log
        # that this process's open connections still write to (their rows would vanish until
        # close).
        exists = self.path.exists()
        if read_only and not exists:
            raise ParameterError(
                "store",
                str(self.path),
                "an existing results store (no such file; a store that is read is never created)",
            )
        directory_writable = os.access(store_file.nearest_existing(self.path.parent), os.W_OK)
        self.read_only = (
            read_only or not directory_writable or (exists and not os.access(self.path, os.W_OK))
        )
        if self.read_only and not exists:
            raise MachineError(
                f"store {self.path}: no such file, and it cannot be created here (no write "
                "permission); choose a writable --store"
            )
        try:
            self._connection = self._connect()
        except sqlite3.DatabaseError as error:
            cause = "this file is not SQLite" if "not a database" in str(error) else str(error)
            raise ParameterError(
                "store", str(self.path), f"a readable SQLite results store ({cause})"
            ) from None
        #: Rows the last read could not parse, by key: the reason (hand-edited or damaged rows;
        #: the reports list them and go on with the rest).
        self.malformed: dict[str, str] = {}

    def _connect(self) -> sqlite3.Connection:
        if self.read_only:
            connection = store_file.open_read_only(self.path)
            try:
                tables = store_file.retry_locked(
                    lambda: store_file.table_names(connection), self.path
                )
                store_file.refuse_foreign(self.path, tables)
            except BaseException:
                connection.close()
                raise
        else:
            connection = store_file.open_writable(self.path)
        try:
            store_file.check_schema_version(connection, self.path)
        except BaseException:
            connection.close()
            raise
        return connection

    def _write(self, statements: Callable[[sqlite3.Connection], int]) -> int:
        """Run ``statements`` in one immediate transaction; the machine's refusals (read-only,
        a lock held too long, full disk, I/O) become one :class:`MachineError` sentence, and
        nothing is half-written."""
        if self.read_only:
            raise MachineError(
                f"store {self.path} is read-only here; copy it to a writable place to add runs"
            )
        connection = self._connection
        try:
            connection.execute("BEGIN IMMEDIATE")
            try:
                changed = statements(connection)
                connection.execute("COMMIT")
            except BaseException:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                raise
        except sqlite3.OperationalError as error:
            if store_file.is_lock_error(error):
                cause = store_file.lock_message(self.path)
            elif "full" in str(error):
                cause = f"store {self.path}: the disk is full (free space)"
            else:
                cause = f"store {self.path}: {error}"
            raise MachineError(
                f"{cause}; nothing of this write was stored (rerun to resume)"
            ) from None
        return changed

    def close(self) -> None:
        """Checkpoint the write-ahead log into the file (so the .sqlite alone holds every row)
        and close."""
        if not self.read_only:
            with contextlib.suppress(sqlite3.Error):
                self._connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self._connection.close()

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
                json.dumps({**record.config(), "engine": engine, "provenance": provenance or {}}),
                json.dumps(dict(record.final)),
                _trajectory_json(record.epoch, record.metrics),
            )
            for record in records
        ]

        def insert(connection: sqlite3.Connection) -> int:
            before = connection.total_changes
            connection.executemany(
                "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(key) DO "
                "NOTHING",
                rows,
            )
            return connection.total_changes - before

        return self._write(insert)

    def claim(
        self,
        keys: Sequence[str],
        owner: str,
        lease_s: float,
        dead: Callable[[str], bool] = lambda owner: False,
    ) -> list[str]:
        """Claim for ``owner`` the ``keys`` that are neither stored nor claimed by a live owner,
        for ``lease_s`` seconds; returns them in the order given (one transaction, so two drivers
        never claim one key). Claims whose lease expired, or whose owner ``dead`` says is gone,
        are dropped first."""
        now = time.time()

        def take(connection: sqlite3.Connection) -> int:
            connection.execute("DELETE FROM claims WHERE expires < ?", (now,))
            owners = {row[0] for row in connection.execute("SELECT DISTINCT owner FROM claims")}
            connection.executemany(
                "DELETE FROM claims WHERE owner = ?", [(o,) for o in owners if dead(o)]
            )
            stored = {row[0] for row in connection.execute("SELECT key FROM runs")}
            held = dict(connection.execute("SELECT key, owner FROM claims"))
            free = [k for k in keys if k not in stored and held.get(k, owner) == owner]
            connection.executemany(
                "INSERT INTO claims VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET "
                "expires = excluded.expires",
                [(k, owner, now + lease_s) for k in free],
            )
            taken.extend(free)
            return len(free)

        taken: list[str] = []
        self._write(take)
        return taken

    def renew(self, owner: str, lease_s: float) -> None:
        """Extend every lease of ``owner`` by ``lease_s`` seconds from now."""
        self._write(
            lambda connection: (
                connection.execute(
                    "UPDATE claims SET expires = ? WHERE owner = ?", (time.time() + lease_s, owner)
                ).rowcount
            )
        )

    def release(self, owner: str, keys: Iterable[str] | None = None) -> None:
        """Drop the claims of ``owner`` (all, or those of ``keys``)."""
        if keys is None:
            statement, rows = "DELETE FROM claims WHERE owner = ?", [(owner,)]
        else:
            statement = "DELETE FROM claims WHERE owner = ? AND key = ?"
            rows = [(owner, key) for key in keys]
        self._write(lambda connection: connection.executemany(statement, rows).rowcount)

    def claimed_elsewhere(
        self, keys: Iterable[str], owner: str, dead: Callable[[str], bool] = lambda owner: False
    ) -> set[str]:
        """The ``keys`` that another owner holds a live lease on (``dead`` as in :meth:`claim`)."""
        wanted = set(keys)
        rows = self._connection.execute(
            "SELECT key, owner FROM claims WHERE owner != ? AND expires >= ?", (owner, time.time())
        )
        return {key for key, holder in rows if not dead(holder)} & wanted

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
        row = (key, dataset, code_version, now, json.dumps(config), json.dumps(final))

        def insert(connection: sqlite3.Connection) -> int:
            statement = "INSERT INTO image_runs VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
            return connection.execute(statement, row).rowcount

        return bool(self._write(insert))

    def add_predictions(
        self, reduction: str, predicted: Iterable[tuple[str, Trajectory]], code_version: str
    ) -> int:
        """Store the predicted trajectories of one group (run key, trajectory) in one transaction;
        returns how many were new (a stored (key, reduction) is never overwritten)."""
        now = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
        rows = [
            (key, reduction, code_version, now, _trajectory_json(t.epoch, t.metrics))
            for key, t in predicted
        ]

        def insert(connection: sqlite3.Connection) -> int:
            before = connection.total_changes
            connection.executemany(
                "INSERT INTO predictions VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING", rows
            )
            return connection.total_changes - before

        return self._write(insert)

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
        """One flat dict per run: :data:`RUN_COLUMNS`, :data:`PROVENANCE_COLUMNS`, then every
        ProblemParams field, then final
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
            where = {name: record.provenance.get(name) for name in PROVENANCE_COLUMNS}
            rows.append({**run, **where, **record.params.to_dict(), **finals})
        return rows

    def dataframe(self):
        """:meth:`flat_rows` as a tidy pandas DataFrame: one row per run, every configuration
        column beside the final metrics, metrics as float64 (NaN where a run failed)."""
        import pandas as pd

        frame = pd.DataFrame(self.flat_rows(), columns=self._flat_columns())
        return frame.astype(dict.fromkeys(METRICS, "float64"))

    def trajectory_frame(self):
        """Long form, tidy: one row per (run, recorded epoch), its configuration columns (those
        of :meth:`dataframe` but the final metrics) joined, the recorded metrics as float64."""
        return self._long_frame(
            (key, record.epoch, record.metrics) for key, record in self.records().items()
        )

    def prediction_frame(self):
        """Long form, tidy: one row per (predicted run, recorded epoch) with the reduction that
        predicted it, the run's configuration columns joined, the predicted metrics as float64."""
        runs = self.records()
        predicted = self.predictions(runs)
        return self._long_frame(
            (
                (key, trajectory.epoch, trajectory.metrics)
                for key, (_, trajectory) in predicted.items()
            ),
            reductions={key: reduction for key, (reduction, _) in predicted.items()},
        )

    def _long_frame(self, series, reductions: Mapping[str, str] | None = None):
        """One row per (key, epoch) of ``series`` ((key, epochs, metrics) triples), joined to the
        configuration of each key (:meth:`dataframe` without its final metrics)."""
        import pandas as pd

        configuration = self.dataframe().drop(columns=list(METRICS)).set_index("key")
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

    def export(self, path: str | Path) -> Path:
        """Write the flat table to ``path``: ``.csv`` (standard library) or ``.parquet`` (pandas +
        pyarrow); the store itself is refused as a target
        (:func:`validation.store.files.refuse_store_target`)."""
        path = Path(path)
        store_file.refuse_store_target(self.path, path, "export")
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
        return [
            *RUN_COLUMNS,
            *PROVENANCE_COLUMNS,
            *(field for field in ProblemParams.__dataclass_fields__),
            *METRICS,
        ]
