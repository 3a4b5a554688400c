"""Where sweep tasks run: any :class:`concurrent.futures.Executor`, chosen by a short address.

* ``inline`` -- in this process, one task after another (:class:`InlineExecutor`; the default).
* ``process`` or ``process:N`` -- N worker processes on this machine (default: one per core),
  started with ``spawn`` (torch is not fork-safe once its thread pools exist), each its own
  one-process pool (:class:`WorkerSlots`): a worker that dies fails only the task it held, and its
  slot is rebuilt. Each worker's torch uses cores / N threads so that the pool does not
  oversubscribe the machine; workers ignore Ctrl-C, SIGTERM and SIGHUP (the driver decides what
  stops) and die with the driver, even one killed before they started
  (``validation.cnn.tasks.share_cores``).
* ``dask://HOST:PORT`` -- a Dask distributed cluster whose scheduler listens at HOST:PORT, through
  ``Client.get_executor(pure=False)`` (every task runs, none is deduplicated by Dask). The driver
  first checks that the workers run the same versions of Python, numpy, torch, dask and this
  package as itself (:class:`validation.errors.MachineError` naming the difference otherwise).
  Workers need this package installed; they return records to the driver, which alone writes the
  results store, so workers need no shared file system. Needs the ``sweep`` extra
  (``distributed``).

Every executor here has a ``capacity``: how many tasks it runs at once (the runner keeps that many
in flight, so that a driver never holds more work than it is doing; see
``validation.sweeps.runner``).
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import multiprocessing
import os
import platform
import re
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from theorykit.errors import ParameterError
from validation.cnn.tasks import share_cores
from validation.errors import MachineError

EXECUTOR_RULE = "'inline', 'process', 'process:N' (N >= 1 workers) or 'dask://HOST:PORT'"
_PROCESS = re.compile(r"process(?::(\d+))?")
_DASK = re.compile(r"dask://([^\s/:]+):(\d{1,5})")


class InlineExecutor(Executor):
    """Runs each task when it is submitted, in the calling process; returns a finished future."""

    capacity = 1

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        future: Future = Future()
        future.set_running_or_notify_cancel()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as error:  # the task's failure belongs to its future, as in any executor
            future.set_exception(error)
        return future


class WorkerSlots(Executor):
    """``workers`` one-process pools (spawned, :func:`validation.cnn.tasks.share_cores` with
    ``threads``): each task goes to the slot with the fewest tasks; a slot whose worker died is
    replaced as soon as its failure is seen (a worker that died idle, when the next task comes to
    its slot), so one lost worker costs only its own task (a single
    ``ProcessPoolExecutor`` would fail every task in flight). :meth:`terminate` kills the workers
    (an interrupted driver does not wait for them)."""

    def __init__(self, workers: int, threads: int) -> None:
        self.capacity = workers
        self._threads = threads
        self._lock = threading.Lock()
        self._slots = [self._new_slot() for _ in range(workers)]
        self._load = [0] * workers

    def _new_slot(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=share_cores,
            initargs=(self._threads, os.getpid()),
        )

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        with self._lock:
            number = min(range(len(self._slots)), key=self._load.__getitem__)
            slot = self._slots[number]
            try:
                future = slot.submit(fn, *args, **kwargs)
            except BrokenProcessPool:  # its worker died idle: no task was lost, rebuild the slot
                slot = self._rebuild(number)
                future = slot.submit(fn, *args, **kwargs)
            self._load[number] += 1
        future.add_done_callback(lambda done: self._finished(number, slot, done))
        return future

    def _finished(self, number: int, slot: ProcessPoolExecutor, future: Future) -> None:
        with self._lock:
            self._load[number] -= 1
            broken = not future.cancelled() and isinstance(future.exception(), BrokenProcessPool)
            if broken and self._slots[number] is slot:
                self._rebuild(number)

    def _rebuild(self, number: int) -> ProcessPoolExecutor:
        """Replace slot ``number``, whose worker died, by a new one (the caller holds the lock)."""
        self._slots[number].shutdown(wait=False, cancel_futures=True)
        self._slots[number] = self._new_slot()
        return self._slots[number]

    def terminate(self) -> None:
        """Kill every worker now (their tasks' work is lost; the driver stores what finished)."""
        with self._lock:
            for slot in self._slots:
                for process in list(getattr(slot, "_processes", {}).values()):
                    with contextlib.suppress(OSError, AttributeError):
                        process.kill()
                slot.shutdown(wait=False, cancel_futures=True)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            slots = list(self._slots)
        for slot in slots:
            slot.shutdown(wait=wait, cancel_futures=cancel_futures)


@contextlib.contextmanager
def open_executor(address: str = "inline") -> Iterator[Executor]:
    """The executor named by ``address`` (see the module docstring), shut down on exit."""
    if not isinstance(address, str):
        raise ParameterError("executor", address, EXECUTOR_RULE)
    if address == "inline":
        yield InlineExecutor()
        return
    process = _PROCESS.fullmatch(address)
    if process:
        workers = int(process.group(1) or os.cpu_count() or 1)
        if workers < 1:
            raise ParameterError("executor", address, EXECUTOR_RULE)
        slots = WorkerSlots(workers, max(1, (os.cpu_count() or 1) // workers))
        try:
            yield slots
        finally:
            slots.shutdown(wait=True, cancel_futures=True)
        return
    dask = _DASK.fullmatch(address)
    if dask:
        with _dask_executor(dask.group(1), int(dask.group(2)), address) as executor:
            yield executor
        return
    raise ParameterError("executor", address, EXECUTOR_RULE)


@contextlib.contextmanager
def _dask_executor(host: str, port: int, address: str) -> Iterator[Executor]:
    try:
        from distributed import Client
    except ImportError:
        raise ParameterError(
            "executor", address, "the 'distributed' package: pip install 'theorykit[sweep]'"
        ) from None
    try:
        client = Client(f"tcp://{host}:{port}", timeout="20s")
    except OSError as error:
        raise ParameterError("executor", address, f"a reachable Dask scheduler ({error})") from None
    try:
        check_versions(client, address)
        executor = client.get_executor(pure=False)
        executor.capacity = max(1, sum(client.nthreads().values()))
        yield executor
    finally:
        client.close()


#: Packages whose versions must agree between the driver and the Dask workers.
CHECKED_PACKAGES = ("numpy", "torch", "dask", "distributed", "theorykit")


def package_versions() -> dict[str, str]:
    """Python's and :data:`CHECKED_PACKAGES`' versions in this process ("not installed" where
    absent); also run on every Dask worker by :func:`check_versions`."""
    versions = {"python": platform.python_version()}
    for name in CHECKED_PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def check_versions(client: Any, address: str) -> None:
    """Refuse a cluster whose workers run other versions of Python or :data:`CHECKED_PACKAGES`
    than the driver (results would silently depend on the worker), naming the package and both
    versions."""
    mine = package_versions()
    for worker, theirs in client.run(package_versions).items():
        for name, version in mine.items():
            if theirs.get(name) != version:
                raise MachineError(
                    f"Dask cluster {address}: worker {worker} runs {name} {theirs.get(name)}, "
                    f"this driver {version}; install the same versions on both"
                )
