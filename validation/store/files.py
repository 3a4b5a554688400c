"""A results store's SQLite file: opened safely by any number of processes from the first instant.

:class:`validation.store.results.ResultsStore` keeps the rows; this module owns the file:

* **Creation is one transaction.** The schema (:data:`SCHEMA_STATEMENTS`) and its version row are
  written inside one ``BEGIN IMMEDIATE`` ... ``COMMIT``, so another process looking at a store
  being created sees either no table or all of them -- never a half-written schema that it would
  take for another program's file.
* **Locks are waited for, not reported.** Switching the journal to WAL needs the file to itself
  for an instant; several drivers started in the same second (a SLURM array) meet there. A lock
  is retried for up to :data:`LOCK_WAIT_S` seconds (:func:`retry_locked`); only a lock held longer
  than that is reported, as one :class:`~validation.errors.MachineError` sentence that says so.
* **A foreign file is refused untouched**: its tables are read through a read-only connection
  before anything is written (:func:`refuse_foreign`).
* **Read-only stores open everywhere** (:func:`open_read_only`): ``mode=ro``, and where SQLite
  cannot open the write-ahead log's index beside the file (a read-only file system or directory)
  ``immutable=1``, which reads the file as it lies.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from theorykit.errors import ParameterError
from validation.errors import MachineError

SCHEMA_VERSION = "1"
#: The tables of a store, one statement each (``validation.store.results`` documents the rows).
SCHEMA_STATEMENTS = (
    """CREATE TABLE IF NOT EXISTS runs (
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
)""",
    """CREATE TABLE IF NOT EXISTS image_runs (
    key TEXT PRIMARY KEY,
    dataset TEXT NOT NULL,
    code_version TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    config TEXT NOT NULL,
    final TEXT NOT NULL
)""",
    """CREATE TABLE IF NOT EXISTS predictions (
    key TEXT NOT NULL,
    reduction TEXT NOT NULL,
    code_version TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    trajectory TEXT NOT NULL,
    PRIMARY KEY (key, reduction)
)""",
    """CREATE TABLE IF NOT EXISTS claims (
    key TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    expires REAL NOT NULL
)""",
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
)
#: The tables a theorykit store holds (a file with other tables belongs to another program).
STORE_TABLES = frozenset({"runs", "image_runs", "predictions", "claims", "meta"})
#: Seconds a process waits for another's lock on the file before it reports it (SQLite's busy
#: timeout and :func:`retry_locked`'s deadline). A group's write holds the lock for milliseconds,
#: so a longer hold means a stalled process or file system, worth one line.
LOCK_WAIT_S = 60.0

_T = TypeVar("_T")


def is_lock_error(error: sqlite3.Error) -> bool:
    """Whether ``error`` is SQLite's refusal because another connection holds a lock."""
    text = str(error).lower()
    return "locked" in text or "busy" in text


def lock_message(path: Path) -> str:
    """The sentence for a lock held longer than :data:`LOCK_WAIT_S`."""
    return (
        f"store {path}: another process has held its lock for over {LOCK_WAIT_S:.0f} s (a stalled "
        "driver or a slow network file system)"
    )


def retry_locked(action: Callable[[], _T], path: Path, deadline_s: float = LOCK_WAIT_S) -> _T:
    """``action()``, retried with a growing pause while SQLite reports a lock, for up to
    ``deadline_s`` seconds; then one :class:`MachineError` (:func:`lock_message`)."""
    deadline = time.monotonic() + deadline_s
    pause = 0.01
    while True:
        try:
            return action()
        except sqlite3.OperationalError as error:
            if not is_lock_error(error):
                raise
            if time.monotonic() >= deadline:
                raise MachineError(f"{lock_message(path)}; rerun when it is free") from None
        time.sleep(pause)
        pause = min(2 * pause, 0.5)


def table_names(connection: sqlite3.Connection) -> set[str]:
    """The tables of the database behind ``connection``."""
    rows = connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
    return {row[0] for row in rows}


def refuse_foreign(path: Path, tables: set[str]) -> None:
    """Refuse a file whose tables are not (a subset of) a store's, or that has tables but no
    ``meta``: it belongs to another program and is left untouched."""
    foreign = sorted(tables - STORE_TABLES)
    if foreign or (tables and "meta" not in tables):
        raise ParameterError(
            "store",
            str(path),
            "a theorykit results store; this SQLite file belongs to another program (tables "
            f"{', '.join(foreign or sorted(tables))}) and is left untouched",
        )


def _read_only_connection(path: Path, immutable: bool) -> sqlite3.Connection:
    uri = f"{path.resolve().as_uri()}?mode=ro" + ("&immutable=1" if immutable else "")
    return sqlite3.connect(uri, uri=True, timeout=LOCK_WAIT_S, isolation_level=None)


def open_read_only(path: Path) -> sqlite3.Connection:
    """A read-only connection that works on a read-only file system or directory too: ``mode=ro``
    first (it reads the rows still in the write-ahead log, where SQLite can open the log and its
    index), ``immutable=1`` where it cannot (the file as it lies)."""
    connection = _read_only_connection(path, immutable=False)
    try:
        retry_locked(lambda: table_names(connection), path)
    except sqlite3.OperationalError as error:
        connection.close()
        if "unable to open" not in str(error):
            raise
        return _read_only_connection(path, immutable=True)
    return connection


def check_tables(path: Path) -> None:
    """Refuse, reading only, an existing file that is not a store (:func:`refuse_foreign`)."""
    if not path.exists() or path.stat().st_size == 0:
        return
    probe = open_read_only(path)
    try:
        refuse_foreign(path, retry_locked(lambda: table_names(probe), path))
    finally:
        probe.close()


def create_schema(connection: sqlite3.Connection, path: Path) -> None:
    """Every table and the schema version, in one immediate transaction (see the module
    docstring); the tables found first are checked (:func:`refuse_foreign`)."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        refuse_foreign(path, table_names(connection))
        for statement in SCHEMA_STATEMENTS:
            connection.execute(statement)
        connection.execute(
            "INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,)
        )
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise


def open_writable(path: Path) -> sqlite3.Connection:
    """A connection that writes the store at ``path``: created with its schema when new, WAL
    journal, ``synchronous=FULL``; locks met on the way are waited for (:func:`retry_locked`)."""
    check_tables(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path, timeout=LOCK_WAIT_S, isolation_level=None)
    try:
        retry_locked(lambda: connection.execute("PRAGMA journal_mode=WAL").fetchone(), path)
        connection.execute("PRAGMA synchronous=FULL")
        retry_locked(lambda: create_schema(connection, path), path)
    except BaseException:
        connection.close()
        raise
    return connection


def check_schema_version(connection: sqlite3.Connection, path: Path) -> None:
    """Refuse a store of another schema version (or none)."""
    row = retry_locked(
        lambda: connection.execute(
            "SELECT value FROM meta WHERE name = 'schema_version'"
        ).fetchone(),
        path,
    )
    if row is None or row[0] != SCHEMA_VERSION:
        raise ParameterError(
            "store",
            str(path),
            f"schema version {SCHEMA_VERSION} (found {None if row is None else row[0]})",
        )


def nearest_existing(path: Path) -> Path:
    """``path`` itself if it exists, else its nearest existing ancestor: where a new file's or
    directory's parents would be created (a store's, a report's, an ``--out``)."""
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    return existing


def journal_files(path: Path) -> tuple[Path, ...]:
    """The store's file and the files SQLite keeps beside it (write-ahead log, its index, the
    rollback journal)."""
    return (path, *(path.with_name(path.name + suffix) for suffix in ("-wal", "-shm", "-journal")))


def writes_store(store: Path, target: Path) -> bool:
    """Whether writing ``target`` would overwrite the store at ``store`` or one of its
    :func:`journal_files` (any suffix, any spelling of the path, a link to it)."""
    resolved = target.resolve()
    for own in journal_files(store):
        if own.resolve() == resolved:
            return True
        if own.exists() and target.exists() and os.path.samefile(own, target):
            return True
    return False


def refuse_store_target(store: Path, target: str | Path, flag: str) -> None:
    """Refuse, before anything runs, an output path (``--export``, a report or figure) that is
    the store itself: the write would destroy every run."""
    if writes_store(Path(store), Path(target)):
        raise ParameterError(
            flag,
            str(target),
            f"a path other than the results store {store} (writing there would destroy it)",
        )
