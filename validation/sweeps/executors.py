"""Where sweep tasks run: any :class:`concurrent.futures.Executor`, chosen by a short address.

* ``inline`` -- in this process, one task after another (:class:`InlineExecutor`; the default).
* ``process`` or ``process:N`` -- a pool of N worker processes on this machine (default: one per
  core), started with ``spawn`` (torch is not fork-safe once its thread pools exist); each worker's
  torch uses cores / N threads so that the pool does not oversubscribe the machine.
* ``dask://HOST:PORT`` -- a Dask distributed cluster whose scheduler listens at HOST:PORT, through
  ``Client.get_executor(pure=False)`` (every task runs, none is deduplicated by Dask). Workers need
  this package installed; they return records to the driver, which alone writes the results store,
  so workers need no shared file system. Needs the ``sweep`` extra (``distributed``).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import re
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from typing import Any

from theorykit.errors import ParameterError
from validation.cnn.tasks import share_cores

EXECUTOR_RULE = "'inline', 'process', 'process:N' (N >= 1 workers) or 'dask://HOST:PORT'"
_PROCESS = re.compile(r"process(?::(\d+))?")
_DASK = re.compile(r"dask://([^\s/:]+):(\d{1,5})")


class InlineExecutor(Executor):
    """Runs each task when it is submitted, in the calling process; returns a finished future."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        future: Future = Future()
        future.set_running_or_notify_cancel()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as error:  # the task's failure belongs to its future, as in any executor
            future.set_exception(error)
        return future


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
        threads = max(1, (os.cpu_count() or 1) // workers)
        with ProcessPoolExecutor(
            workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=share_cores,
            initargs=(threads,),
        ) as pool:
            yield pool
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
        yield client.get_executor(pure=False)
    finally:
        client.close()
