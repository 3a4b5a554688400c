"""The figure of ``theorykit compare``: every prediction against the CNN's measured value, log-log,
with the 2x band (:data:`validation.experiments.comparison_scoring.ACCURACY_FACTOR`); calibration
settings hollow (in-sample). The project's figure style (:mod:`validation.reports.figures.style`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from validation.experiments.batch_comparison import BatchRow
from validation.experiments.threshold_comparison import ThresholdRow
from validation.reports.figures import FULL_WIDTH, figure_style, pyplot, save_figure
from validation.reports.figures.style import OPTIMIZERS

#: One point of a panel: (predicted, measured, calibration?, optimizer, supports).
Point = tuple[float, float | None, bool, str, str]


def _points(rows: Sequence[BatchRow] | Sequence[ThresholdRow]) -> list[Point]:
    return [
        (r.predicted, r.measured(), r.setting.calibration, r.params.optimizer, r.setting.supports)
        for r in rows
    ]


def _draw_band(ax: Any, low: float, high: float) -> None:
    """The diagonal and the band within a factor 2 of it, over [low, high]."""
    ax.plot([low, high], [low, high], color="grey", lw=0.8)
    ax.fill_between(
        [low, high],
        [low / 2, high / 2],
        [low * 2, high * 2],
        color="grey",
        alpha=0.15,
        label=r"within 2$\times$",
    )


def _scatter_groups(ax: Any, shown: Sequence[Point]) -> None:
    """One scatter per (optimiser, supports, calibration): the optimiser's colour, a circle for
    overlapping and a square for disjoint supports, hollow for calibration settings."""
    for optimizer, color in (("adam", OPTIMIZERS["adam"]), ("adamw", OPTIMIZERS["adamw"])):
        for supports, marker in (("overlapping", "o"), ("disjoint", "s")):
            for calibration, face in ((False, color), (True, "none")):
                chosen = [
                    p
                    for p in shown
                    if p[3] == optimizer and p[4] == supports and p[2] == calibration
                ]
                if chosen:
                    ax.scatter(
                        [p[0] for p in chosen],
                        [p[1] for p in chosen],
                        marker=marker,
                        facecolors=face,
                        edgecolors=color,
                        label=f"{optimizer}, {supports}{' (calibration)' if calibration else ''}",
                    )


def _draw_panel(ax: Any, title: str, points: Sequence[Point]) -> None:
    """The points with a measured value and a finite positive prediction, on log axes spanning
    them with a factor 3 to spare."""
    shown = [p for p in points if p[1] is not None and math.isfinite(p[0]) and p[0] > 0]
    if not shown:
        ax.set_title(f"{title}: no measured brackets")
        return
    values = [v for p in shown for v in p[:2]]
    low, high = min(values) / 3, max(values) * 3
    _draw_band(ax, low, high)
    _scatter_groups(ax, shown)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(low, high)
    ax.set_ylim(low, high)
    ax.set_xlabel("predicted (theorykit)")
    ax.set_ylabel("measured (CNN, bracket geometric mean)")
    ax.set_title(title)
    ax.legend(fontsize=6)


def plot_predicted_vs_measured(
    batch: Sequence[BatchRow], thresholds: Sequence[ThresholdRow], path: Path
) -> None:
    """Log-log measured vs predicted for every quantity, with the 2x band; hollow: calibration
    (in-sample); the project's figure style (:mod:`validation.reports.figures.style`)."""
    plt = pyplot()
    with figure_style():
        fig, axes = plt.subplots(1, 2, figsize=(FULL_WIDTH, 3.0), layout="constrained")
        _draw_panel(axes[0], r"$B^*$ (batch boundary)", _points(batch))
        _draw_panel(axes[1], r"AdamW collapse threshold ($\lambda$)", _points(thresholds))
    save_figure(fig, path)
