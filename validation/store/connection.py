"""A results store's connection: the file opened (or refused) once, and every write one transaction.

:class:`StoreConnection` decides whether the store at a path is written or only read, opens it
through :mod:`validation.store.files` (created with its schema on first use, checked for another
program's tables and another schema version) and runs each write in one immediate transaction
(:meth:`StoreConnection.write`), so that a process killed at any moment leaves every write
completely present or absent. :class:`~validation.store.results.ResultsStore` keeps the rows,
:class:`~validation.store.leases.Leases` the claims; both write through one such connection.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

from theorykit.errors import ParameterError
from validation.errors import MachineError
from validation.store import files as store_file


def _store_path(path: str | Path) -> Path:
    """``path`` as a :class:`Path`, refused when it is no path at all or a directory."""
    if not isinstance(path, str | os.PathLike) or not str(path):
        raise ParameterError("store", path, "a file path (e.g. runs/NAME/results.sqlite)")
    path = Path(path)
    if path.is_dir():
        raise ParameterError(
            "store",
            str(path),
            "a file path (e.g. runs/NAME/results.sqlite), not a directory",
        )
    return path


def _opens_read_only(path: Path, read_only: bool) -> bool:
    """Whether the store at ``path`` is only read: asked to be, or this process may not write it
    (a store that is read is never created: a missing one is refused)."""
    # The file is read through SQLite only: closing any other descriptor on it would drop this
    # process's POSIX locks, and another process could then delete the write-ahead log that this
    # process's open connections still write to (their rows would vanish until close).
    exists = path.exists()
    if read_only and not exists:
        raise ParameterError(
            "store",
            str(path),
            "an existing results store (no such file; a store that is read is never created)",
        )
    directory_writable = os.access(store_file.nearest_existing(path.parent), os.W_OK)
    read_only = read_only or not directory_writable or (exists and not os.access(path, os.W_OK))
    if read_only and not exists:
        raise MachineError(
            f"store {path}: no such file, and it cannot be created here (no write "
            "permission); choose a writable --store"
        )
    return read_only


def _open(path: Path, read_only: bool) -> sqlite3.Connection:
    """The connection to the store at ``path``: read-only ones refuse another program's file
    before anything else; both refuse another schema version."""
    if read_only:
        connection = store_file.open_read_only(path)
        try:
            tables = store_file.retry_locked(lambda: store_file.table_names(connection), path)
            store_file.refuse_foreign(path, tables)
        except BaseException:
            connection.close()
            raise
    else:
        connection = store_file.open_writable(path)
    try:
        store_file.check_schema_version(connection, path)
    except BaseException:
        connection.close()
        raise
    return connection


class StoreConnection:
    """The open SQLite file of the store at ``path`` (see
    :class:`~validation.store.results.ResultsStore` for what is refused and when a store opens
    read-only): :attr:`path`, :attr:`read_only` and the SQLite :attr:`connection`."""

    def __init__(self, path: str | Path, read_only: bool = False) -> None:
        self.path = _store_path(path)
        self.read_only = _opens_read_only(self.path, read_only)
        try:
            self.connection = _open(self.path, self.read_only)
        except sqlite3.DatabaseError as error:
            cause = "this file is not SQLite" if "not a database" in str(error) else str(error)
            raise ParameterError(
                "store", str(self.path), f"a readable SQLite results store ({cause})"
            ) from None

    def write(self, statements: Callable[[sqlite3.Connection], int]) -> int:
        """Run ``statements`` in one immediate transaction; the machine's refusals (read-only,
        a lock held too long, full disk, I/O) become one :class:`MachineError` sentence, and
        nothing is half-written."""
        if self.read_only:
            raise MachineError(
                f"store {self.path} is read-only here; copy it to a writable place to add runs"
            )
        connection = self.connection
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
                self.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.connection.close()
