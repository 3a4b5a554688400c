"""Which code trained a run: the package version and the git commit of the source tree."""

from __future__ import annotations

import functools
import subprocess
from pathlib import Path

import theorykit


@functools.lru_cache(maxsize=1)
def code_version() -> str:
    """``theorykit X.Y.Z`` plus the git commit of the source tree (``+dirty`` with local changes),
    if any."""
    source = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=source,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=source,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return f"theorykit {theorykit.__version__}"
    return f"theorykit {theorykit.__version__} git {commit}{'+dirty' if dirty else ''}"
