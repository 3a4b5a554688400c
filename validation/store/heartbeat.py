"""A driver's heartbeat: a thread that renews the driver's leases while it trains.

:class:`LeaseHeartbeat` keeps the claims of one owner (:mod:`validation.store.leases`) alive from
its own connection to the store, so that a driver busy training never loses its runs to another
driver; a driver that dies stops renewing, and its runs are taken over once its leases expire.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import TextIO

from theorykit.errors import ParameterError
from validation.errors import MachineError
from validation.store.results import ResultsStore


class LeaseHeartbeat:
    """Renews an owner's leases every ``lease_s / 4`` seconds from its own store connection.

    A renewal that fails (the store locked past ``store_file.LOCK_WAIT_S``, a lost file system)
    is retried at the next beat; the first failure of a streak is logged in one line, and so is
    the moment the leases have gone unrenewed for ``lease_s``: another driver may then take the
    runs over and train them too (each run is still stored once). Nothing in this thread raises.
    """

    def __init__(self, path: Path, owner: str, lease_s: float, log: TextIO) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(path, owner, lease_s, log), name="lease-heartbeat", daemon=True
        )
        self._thread.start()

    def _run(self, path: Path, owner: str, lease_s: float, log: TextIO) -> None:
        store: ResultsStore | None = None
        renewed, failing, expired = time.monotonic(), False, False
        while not self._stop.wait(lease_s / 4):
            try:
                if store is None:  # an empty store is falsy (len 0): test for None
                    store = ResultsStore(path)
                store.leases.renew(owner, lease_s)
            except (MachineError, ParameterError, OSError, sqlite3.Error) as error:
                if not failing:
                    print(f"lease renewal failed, retrying: {error}", file=log)
                failing = True
                if not expired and time.monotonic() - renewed > lease_s:
                    expired = True
                    print(
                        f"this driver's leases expired ({lease_s:.0f} s unrenewed): another "
                        "driver may train its runs too (each is stored once)",
                        file=log,
                    )
                continue
            if failing:
                print("lease renewal resumed", file=log)
            renewed, failing, expired = time.monotonic(), False, False
        if store is not None:
            store.close()

    def stop(self) -> None:
        """Stop renewing (the thread closes its connection) and wait for the thread."""
        self._stop.set()
        self._thread.join()
