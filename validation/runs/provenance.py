"""Which code trained a run: the package version and the git commit of the source tree."""

from __future__ import annotations

import functools
import os
import platform
import subprocess
from pathlib import Path

import theorykit


def _git(*args: str) -> str:
    """The output of ``git ARGS`` run in the source tree."""
    return subprocess.run(
        ["git", *args],
        cwd=Path(__file__).resolve().parent,
        capture_output=True,
        text=True,
        timeout=10,
        check=True,
    ).stdout.strip()


@functools.lru_cache(maxsize=1)
def code_version() -> str:
    """``theorykit X.Y.Z`` plus the git commit of the source tree (``+dirty`` with local changes),
    if any."""
    try:
        commit = _git("rev-parse", "--short=12", "HEAD")
        dirty = _git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return f"theorykit {theorykit.__version__}"
    return f"theorykit {theorykit.__version__} git {commit}{'+dirty' if dirty else ''}"


def machine_description() -> str:
    """``<processor>, <N> cores, <host>``: where a table was measured."""
    processor = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            names = [line.split(":", 1)[1].strip() for line in cpuinfo if "model name" in line]
        processor = names[0] if names else processor
    except OSError:
        pass
    return f"{processor}, {os.cpu_count()} cores, host {platform.node()}"
