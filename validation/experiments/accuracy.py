"""The held-out accuracy of ``theorykit compare``: per prediction and support regime, the share of
the settings *not* used for calibration where the prediction agrees with the CNN's bracket
(:func:`validation.experiments.comparison_scoring.agrees`), every miss listed with its ratio.

Predictions scored: B* (Adam, AdamW; :mod:`validation.experiments.batch_comparison`), lambda*_Adam
and AdamW's collapse threshold (:mod:`validation.experiments.threshold_comparison`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

from validation.experiments.batch_comparison import BatchRow
from validation.experiments.comparison_scoring import agrees, describe_miss, is_open
from validation.experiments.threshold_comparison import ThresholdRow
from validation.reports.tables import markdown_table


@dataclasses.dataclass(frozen=True)
class Score:
    """One prediction's accuracy on the held-out settings of one support regime, counted two
    ways: over the settings with a measured bracket (``closed`` of them, ``closed_hits`` within
    :data:`~validation.experiments.comparison_scoring.ACCURACY_FACTOR` of its geometric mean), and
    over every setting (``scored``, ``hits``), the open brackets -- a grid without a transition --
    scored by :func:`~validation.experiments.comparison_scoring.agrees`. ``unscored`` lists the
    settings without a finite prediction."""

    quantity: str
    supports: str
    scored: int
    hits: int
    closed: int
    closed_hits: int
    misses: tuple[str, ...]
    unscored: tuple[str, ...]

    @staticmethod
    def share(hits: int, count: int) -> str:
        return f"{hits}/{count} ({100 * hits / count:.0f}%)" if count else "n/a"

    def line(self) -> tuple[str, str, str, str, str]:
        return (
            self.quantity,
            self.supports,
            self.share(self.closed_hits, self.closed),
            self.share(self.hits, self.scored),
            "; ".join(self.misses) or "none",
        )


#: One scored entry: (label, calibration?, measured interval, predicted).
Entry = tuple[str, bool, tuple[float, float], float]


def _score(quantity: str, supports: str, entries: Sequence[Entry]) -> Score:
    held = [entry for entry in entries if not entry[1]]
    scored = [(label, i, p) for label, _, i, p in held if math.isfinite(p) and p > 0]
    misses = tuple(describe_miss(label, i, p) for label, i, p in scored if not agrees(i, p))
    unscored = tuple(label for label, _, _, p in held if not (math.isfinite(p) and p > 0))
    closed = [(i, p) for _, i, p in scored if not is_open(i)]
    return Score(
        quantity,
        supports,
        len(scored),
        len(scored) - len(misses),
        len(closed),
        sum(agrees(i, p) for i, p in closed),
        misses,
        unscored,
    )


def accuracy(batch: Sequence[BatchRow], thresholds: Sequence[ThresholdRow]) -> list[Score]:
    """:class:`Score` s of B* (Adam, AdamW), lambda*_Adam and AdamW's collapse threshold."""
    quantities: list[tuple[str, str, Sequence[BatchRow] | Sequence[ThresholdRow]]] = [
        ("B* (adam)", "adam", batch),
        ("B* (adamw)", "adamw", batch),
        ("lambda*_Adam", "adam", thresholds),
        ("AdamW collapse threshold", "adamw", thresholds),
    ]
    scores = []
    for quantity, optimizer, rows in quantities:
        for supports in ("overlapping", "disjoint"):
            entries = [
                (r.setting.label, r.setting.calibration, r.measured_interval(), r.predicted)
                for r in rows
                if r.params.optimizer == optimizer and r.setting.supports == supports
            ]
            scores.append(_score(quantity, supports, entries))
    return [score for score in scores if score.scored or score.unscored]


def accuracy_notes(scores: Sequence[Score]) -> list[str]:
    """One line per :class:`Score` for the report's conclusion."""
    return [
        f"{s.quantity} ({s.supports}), held out: within 2x of the CNN on "
        f"{s.share(s.closed_hits, s.closed)} of the settings with a measured bracket, "
        f"{s.share(s.hits, s.scored)} of all; misses: {'; '.join(s.misses) or 'none'}."
        for s in scores
    ]


def accuracy_lines(scores: Sequence[Score]) -> list[str]:
    """The "Accuracy" section of ``theorykit compare``: the table of :class:`Score` s, then the
    settings each prediction could not be scored on."""
    return [
        "## Accuracy on the settings not used for calibration",
        "",
        *markdown_table(
            (
                "prediction",
                "supports",
                "within 2x of a measured bracket",
                "all settings (open brackets scored by side)",
                "misses (CNN / theorykit)",
            ),
            [s.line() for s in scores],
        ),
        "",
        *[
            f"- {s.quantity}, {s.supports}: no measured bracket (outside the grid) for "
            f"{', '.join(s.unscored)}."
            for s in scores
            if s.unscored
        ],
        "",
    ]
