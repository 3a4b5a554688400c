"""How the benchmarks beside this file time a piece of work: the best of a few repeats, which is
the least disturbed by the other processes of a shared machine. Imported by the scripts beside it
(``python benchmarks/NAME.py`` puts this folder on the import path)."""

from __future__ import annotations

import time
from collections.abc import Callable


def best_time(function: Callable[[], object], repeats: int = 3) -> float:
    """The shortest wall time in seconds of ``repeats`` calls of ``function``."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)
