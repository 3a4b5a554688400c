"""What a run records, shared by the reduced dynamics and the CNN: metric names, head signs,
trajectories.

The App. D.2 metrics of Tang et al. 2025, in the order :data:`METRICS` gives them:

* ``feature_pos`` / ``feature_neg``: feature learning max_r <w_{j,r}, j v> for j = +1 / -1;
* ``noise_min`` / ``noise_max``: min_i / max_i of max_r <w_{y_i,r}, xi_i> (noise memorisation);
* ``train_error`` / ``test_error``: err_S and err_D (ties and NaN count as errors);
* ``loss``: the data loss (1/n) sum_i L_i, without the (lam/2)||W||^2 term;
* ``weight_max``: max_{j,r,k} |w_{j,r}[k]|, the largest weight (the collapse rule of
  :mod:`dynamics.outcomes` compares its last record with its first).

Heads j = +1, -1 are stored at index 0, 1 (:data:`HEAD_SIGNS`). Time is in epochs of
ceil(n/B) iterations (``docs/conventions.md``). numpy only.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import numpy.typing as npt

#: The recorded metrics (see the module docstring), in storage order.
METRICS: tuple[str, ...] = (
    "feature_pos",
    "feature_neg",
    "noise_min",
    "noise_max",
    "train_error",
    "test_error",
    "loss",
    "weight_max",
)
#: j of the two output heads, by storage index (Def. 3.2: j in {+1, -1}).
HEAD_SIGNS = np.array([1.0, -1.0])


@dataclasses.dataclass(frozen=True)
class Trajectory:
    """Recorded metrics of one run: ``epoch`` (K,) and each of :data:`METRICS` (K,) as float64
    arrays.

    ``failure`` names why a run failed (its weights became NaN or infinite, first seen at a
    recording epoch), or is None.
    """

    epoch: npt.NDArray[np.float64]
    metrics: dict[str, npt.NDArray[np.float64]]
    failure: str | None = None

    def final(self) -> dict[str, float]:
        """The last recorded value of every metric."""
        return {name: float(values[-1]) for name, values in self.metrics.items()}
