"""What part of ``theorykit compare`` runs: its seeds, its settings and its batch sizes.

The default :data:`FULL_SCOPE` is the whole comparison. A narrower scope (``--seeds``,
``--settings``, ``--batch-sizes``) trains a subset of the full comparison's runs, under the same
run keys (a run's key is its parameters, seeds and engine options, not its name or the scope), so a
later full run resumes them. :func:`comparison_scope` checks every knob before anything trains.

* **Seeds** 0 .. N-1 of every CNN stage (collapse thresholds, batch boundary, horizon check). A B
  memorises when any seed does and a lam collapses when half the seeds do, at any N; theorykit's B*
  is the race's for N runs (:func:`theorykit.batch_race.critical_batch_size`).
* **Settings** by exact label, from the accuracy table
  (:data:`~validation.experiments.settings.ACCURACY_SETTINGS`) or the threshold table
  (:data:`~validation.experiments.settings.THRESHOLD_SETTINGS`): a label selects the settings of
  that label in both tables, and a threshold setting also by its label without its trailing
  ``", B = N"`` (``"paper (App. D.2)"`` selects both paper settings). The horizon check, on the
  paper's setting, runs when the accuracy table's paper setting is selected.
* **Batch sizes** restrict each batch-boundary grid
  (:func:`~validation.experiments.settings.batch_grid`) to its sizes among them: each must lie in
  the grid of a selected setting, and every
  selected setting must keep one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from theorykit.errors import ParameterError
from validation.experiments.settings import (
    ACCURACY_SETTINGS,
    THRESHOLD_SETTINGS,
    ComparisonSetting,
    batch_grid,
)
from validation.runs.spec import seed_range

#: Seeds of every comparison run (CNN and reduced dynamics) in the full comparison.
SEEDS = (0, 1)
#: The paper's setting in the accuracy table: the horizon check runs when it is selected.
PAPER_LABEL = ACCURACY_SETTINGS[0].label


@dataclasses.dataclass(frozen=True)
class ComparisonScope:
    """The seeds, the settings of the accuracy and threshold tables, the batch sizes (None: every
    size of each grid) and whether the horizon check runs."""

    seeds: tuple[int, ...] = SEEDS
    settings: tuple[ComparisonSetting, ...] = ACCURACY_SETTINGS
    thresholds: tuple[ComparisonSetting, ...] = THRESHOLD_SETTINGS
    batch_sizes: tuple[int, ...] | None = None
    horizon: bool = True

    def grid(self, n: int) -> tuple[int, ...]:
        """The batch-boundary grid at n: :func:`batch_grid` restricted to :attr:`batch_sizes`."""
        grid = batch_grid(n)
        return grid if self.batch_sizes is None else tuple(B for B in grid if B in self.batch_sizes)


#: The whole comparison.
FULL_SCOPE = ComparisonScope()


def valid_labels() -> list[str]:
    """Every label ``--settings`` takes: the accuracy table's, then the threshold table's."""
    labels = [s.label for s in ACCURACY_SETTINGS]
    return labels + [s.label for s in THRESHOLD_SETTINGS if s.label not in labels]


def _threshold_selected(setting: ComparisonSetting, labels: Sequence[str]) -> bool:
    return setting.label in labels or setting.label.rsplit(", B = ", 1)[0] in labels


def split_labels(text: str) -> list[str]:
    """The labels of a comma-separated list whose labels may hold commas themselves: at each
    place the longest run of items that makes a label (items stripped, joined by ``", "``); an
    item that starts none is kept alone (and refused by :func:`comparison_scope`)."""
    items, known, labels = [item.strip() for item in text.split(",")], set(valid_labels()), []
    start = 0
    while start < len(items):
        end = next(
            (e for e in range(len(items), start, -1) if ", ".join(items[start:e]) in known),
            start + 1,
        )
        labels.append(", ".join(items[start:end]))
        start = end
    return labels


def _select(labels: Sequence[str]) -> dict[str, object]:
    """The settings ``labels`` select in each table; a ParameterError for an unknown label."""
    for label in labels:
        if label not in valid_labels():
            raise ParameterError(
                "settings",
                label,
                "exact labels, comma-separated, among: " + "; ".join(valid_labels()),
            )
    settings = tuple(s for s in ACCURACY_SETTINGS if s.label in labels)
    return {
        "settings": settings,
        "thresholds": tuple(s for s in THRESHOLD_SETTINGS if _threshold_selected(s, labels)),
        "horizon": PAPER_LABEL in labels,
    }


def _check_batch_sizes(scope: ComparisonScope, sizes: Sequence[int]) -> None:
    """Each size in a selected setting's grid, and a size in every selected setting's grid."""
    grids = {s.params().n: batch_grid(s.params().n) for s in scope.settings}
    rule = (
        "batch sizes from the grid of every selected setting, one at least per grid: "
        + "; ".join(f"n = {n}: {', '.join(map(str, grid))}" for n, grid in sorted(grids.items()))
    )
    value = ",".join(map(str, sizes))
    unused = any(all(B not in grid for grid in grids.values()) for B in sizes)
    if not sizes or unused or any(not scope.grid(n) for n in grids):
        raise ParameterError("batch_sizes", value, rule)


def comparison_scope(
    seeds: int | str | None = None,
    labels: Sequence[str] | None = None,
    batch_sizes: Sequence[int] | None = None,
) -> ComparisonScope:
    """The scope of ``--seeds N``, ``--settings`` labels and ``--batch-sizes``, each checked (a
    :class:`ParameterError` naming the knob, the value and the rule); None keeps the full
    comparison's choice."""
    changes: dict[str, object] = {}
    if seeds is not None:
        changes["seeds"] = seed_range(seeds)
    if labels is not None:
        changes |= _select(labels)
    scope = dataclasses.replace(FULL_SCOPE, **changes)
    if batch_sizes is not None:
        scope = dataclasses.replace(scope, batch_sizes=tuple(sorted(set(batch_sizes))))
        _check_batch_sizes(scope, scope.batch_sizes or ())
    return scope
