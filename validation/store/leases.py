"""The store's table ``claims``: which driver trains which runs, for how long.

Drivers that share a store share its work: a driver claims the keys of a task before it trains
them (:meth:`Leases.claim`, one transaction: keys stored or claimed by a live driver are skipped),
renews its leases while it trains (:meth:`Leases.renew`, from
:class:`~validation.store.heartbeat.LeaseHeartbeat`) and releases them when the task is stored or
abandoned (:meth:`Leases.release`). A lease that is not renewed expires, so the runs of a killed
driver are taken over by the next driver that asks. A driver is named by :func:`default_owner`;
one on this machine whose process is gone is seen dead at once (:func:`owner_is_dead`).
"""

from __future__ import annotations

import os
import platform
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterable, Sequence

from validation.store.connection import StoreConnection


def default_owner() -> str:
    """A driver's name in the claims table: host, process and a random suffix."""
    return f"{platform.node()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def owner_is_dead(owner: str) -> bool:
    """Whether the driver ``owner`` (:func:`default_owner`'s form) ran on this machine and its
    process is gone; a driver elsewhere is judged by its lease alone."""
    host, _, rest = owner.partition(":")
    pid = rest.partition(":")[0]
    if host != platform.node() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


class Leases:
    """The claims of the store behind ``store`` (its writes one transaction each)."""

    def __init__(self, store: StoreConnection) -> None:
        self._store = store

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
        self._store.write(take)
        return taken

    def renew(self, owner: str, lease_s: float) -> None:
        """Extend every lease of ``owner`` by ``lease_s`` seconds from now."""
        self._store.write(
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
        self._store.write(lambda connection: connection.executemany(statement, rows).rowcount)

    def claimed_elsewhere(
        self, keys: Iterable[str], owner: str, dead: Callable[[str], bool] = lambda owner: False
    ) -> set[str]:
        """The ``keys`` that another owner holds a live lease on (``dead`` as in :meth:`claim`)."""
        wanted = set(keys)
        rows = self._store.connection.execute(
            "SELECT key, owner FROM claims WHERE owner != ? AND expires >= ?", (owner, time.time())
        )
        return {key for key, holder in rows if not dead(holder)} & wanted
