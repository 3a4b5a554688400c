"""A predicted phase diagram (``dynamics.predict.PhaseDiagram``) as an image over (lam, B)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from validation.reports.figures.style import (
    COLUMN_WIDTH,
    THEORY,
    THEORY_LINE,
    figure_style,
    number_text,
    pyplot,
    save_figure,
)

if TYPE_CHECKING:  # the diagram's type only: drawing it needs no reduced dynamics (numba)
    from dynamics.predict import PhaseDiagram


def plot_phase_diagram(
    diagram: PhaseDiagram, path: Path, thresholds: Mapping[str, float] | None = None
) -> None:
    """Predicted test error over (lam, B) with the stuck boundary (white contour); the given lam
    thresholds (``theorykit.conditions.lambda_thresholds`` names that have a
    :data:`~validation.reports.figures.style.THEORY` style) inside the grid as dash-dotted lines."""
    plt = pyplot()
    with figure_style():
        fig, ax = plt.subplots(figsize=(COLUMN_WIDTH * 1.5, 2.9), layout="constrained")
        image = ax.pcolormesh(
            diagram.lams,
            diagram.batch_sizes,
            diagram.test_error,
            shading="nearest",
            vmin=0,
            vmax=1,
            cmap="cividis",
        )
        ax.contour(
            diagram.lams,
            diagram.batch_sizes,
            diagram.stuck.astype(float),
            levels=[0.5],
            colors="white",
            linewidths=1,
        )
        for name, value in (thresholds or {}).items():
            if name in THEORY and diagram.lams[0] <= value <= diagram.lams[-1]:
                ax.axvline(
                    value,
                    color=THEORY[name].colour,
                    label=f"{THEORY[name].label} = {number_text(value)}",
                    **THEORY_LINE,
                )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(r"weight decay $\lambda$")
        ax.set_ylabel("batch size $B$")
        ax.set_title(
            f"{diagram.base.optimizer}: predicted test error after {diagram.steps} steps "
            "(white: stuck boundary)"
        )
        if ax.get_legend_handles_labels()[0]:
            ax.legend(loc="lower left")
        fig.colorbar(image, ax=ax, label="predicted test error")
    save_figure(fig, path)
