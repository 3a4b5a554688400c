"""When a run is recorded: the one schedule the CNN engine, the reduced dynamics and the
prediction of a stored run share, so that their records fall on the same epochs.

:func:`recorded_epochs` gives epoch 0, every ``record_every``-th epoch, the last one, and, with
``log_records`` > 0, at least that many distinct epochs spaced evenly in log(epoch) over
[1, epochs] (or every epoch where there are fewer). Log spacing records densely where the dynamics
change fastest -- the first epochs, Stage I and the reversal of a large-batch run -- and sparsely
on the long plateau that follows, so that a curve has tens of points without storing every epoch.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from theorykit.errors import ParameterError


def _log_spaced(epochs: int, count: int) -> npt.NDArray[np.int64]:
    """At least ``min(count, epochs)`` distinct integers in [1, epochs], evenly spaced in log
    (rounding merges the first few; more points are asked for until enough are distinct)."""
    asked = count
    while asked < epochs:
        points = np.unique(np.rint(np.geomspace(1, epochs, asked)).astype(np.int64))
        if len(points) >= count:
            return points
        asked += count - len(points)
    return np.arange(1, epochs + 1)


def recorded_epochs(epochs: int, record_every: int, log_records: int = 0) -> frozenset[int]:
    """The epochs recorded in a run of ``epochs`` epochs (see the module docstring)."""
    for name, value, minimum in (
        ("epochs", epochs, 1),
        ("record_every", record_every, 1),
        ("log_records", log_records, 0),
    ):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
            raise ParameterError(name, value, f"an integer >= {minimum}")
    regular = set(range(0, epochs + 1, record_every)) | {0, epochs}
    if log_records:
        regular |= {int(e) for e in _log_spaced(epochs, log_records)}
    return frozenset(regular)


#: Most steps of one span of :func:`epoch_spans` (bounds the batches held at once and the time
#: between progress reports and signal checks).
SPAN_STEPS = 8192


def epoch_spans(epochs: int, schedule: frozenset[int], iterations_per_epoch: int) -> list[range]:
    """Epochs 1..``epochs`` cut into consecutive spans that each end at a recorded epoch of
    ``schedule`` or after :data:`SPAN_STEPS` steps (``ProblemParams.iterations_per_epoch`` per
    epoch), whichever comes first: the stretches a compiled kernel runs in one call between two
    measurements."""
    longest = max(1, SPAN_STEPS // iterations_per_epoch)
    spans, start = [], 1
    for epoch in range(1, epochs + 1):
        if epoch in schedule or epoch - start + 1 >= longest or epoch == epochs:
            spans.append(range(start, epoch + 1))
            start = epoch + 1
    return spans
