"""The unit of work a sweep sends to an executor: train one stacked group, return plain data.

:func:`train_task` is a top-level function of picklable arguments and result, so it runs in this
process, in a process pool or on a Dask worker alike (``validation.sweeps.runner`` submits it).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import dataclasses
import os
import platform
import signal
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import torch

from dynamics.trajectory import Trajectory
from validation.cnn.device import resolve_device
from validation.cnn.engine import train_group
from validation.runs.provenance import code_version
from validation.runs.spec import EngineOptions, RunSpec

#: prctl option: the signal a process receives when its parent dies (linux/prctl.h).
PR_SET_PDEATHSIG = 1


@dataclasses.dataclass(frozen=True)
class TaskResult:
    """What a worker sends back: one trajectory per member (input order), the code that trained
    them and where (:func:`provenance`)."""

    trajectories: list[Trajectory]
    code_version: str
    provenance: dict[str, Any] = dataclasses.field(default_factory=dict)


def provenance(options: EngineOptions) -> dict[str, Any]:
    """Where and how a group trained: host, torch and CUDA versions, the device's name, the dtype,
    whether TF32 matmuls were allowed, the step kernel (fused / torch / compiled) and the number of
    torch threads. Stored with every run (``ResultsStore``), never part of its key."""
    device = resolve_device(options.device)
    fused = options.runs_fused(device.type)
    return {
        "host": platform.node(),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "dtype": options.dtype,
        "tf32": bool(torch.backends.cuda.matmul.allow_tf32) if device.type == "cuda" else None,
        "kernel": "fused" if fused else ("compiled" if options.compile else "torch"),
        "threads": torch.get_num_threads(),
    }


def train_task(
    specs: Sequence[RunSpec],
    options: EngineOptions,
    progress: Callable[[int, int], None] | None = None,
) -> TaskResult:
    """Train one group (:func:`validation.cnn.engine.train_group`) and return its trajectories."""
    return TaskResult(
        train_group(list(specs), options, progress), code_version(), provenance(options)
    )


def share_cores(threads: int, driver: int) -> None:
    """A pool worker's initializer: torch computes with ``threads`` threads, so that N workers share
    the machine's cores instead of each taking all of them; Ctrl-C, SIGTERM and SIGHUP are left to
    the driver (which terminates the workers it no longer needs and stores what finished); and the
    worker dies with its driver, the process ``driver`` -- through Linux's parent-death signal
    where there is one, else a watchdog thread that sees the parent gone within a second -- so a
    killed driver leaves no worker behind. A worker whose driver died before this initializer ran
    (its parent is no longer ``driver``) exits at once: the parent-death signal cannot fire for a
    parent that is already gone."""
    for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, signal.SIG_IGN)
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != driver:
        os._exit(1)
    torch.set_num_threads(threads)

    def watch() -> None:
        while os.getppid() == driver:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watchdog", daemon=True).start()
