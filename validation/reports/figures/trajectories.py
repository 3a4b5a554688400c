"""Trajectories of stored runs as small multiples, with the prediction and the theory drawn on them.

One panel pair per run name (the seeds of a grid point), in a grid of at most
:data:`~validation.reports.figures.style.MAX_COLUMNS` columns, in numeric order of the parameters
that vary: on top the coefficients of Tang et al. Figs 3-6 (max_r <w_{+1,r}, v>, max_r <w_{-1,r},
-v>,
max_i / min_i of max_r <w_{y_i,r}, xi_i>), below the train and test error, against the iteration
t. The CNN is solid (the seed mean, with a mean +- sd band where there are two seeds or more), the
reduced dynamics dashed; T0 and T_r of ``theorykit.finite_size`` are dash-dotted vertical marks and
the Stage-II feature level a dash-dotted horizontal line where they fall inside the panel
(:mod:`validation.reports.figures.theory`); in-sample values faded. Coefficient panels share one
y-axis, error panels another. Colours and encodings: :mod:`validation.reports.figures.style`.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from dynamics.trajectory import Trajectory
from validation.reports.figures.layout import ordered_groups
from validation.reports.figures.style import (
    CHANCE,
    COLUMN_WIDTH,
    FULL_WIDTH,
    IN_SAMPLE_ALPHA,
    MEASURED,
    PREDICTED,
    QUANTITIES,
    THEORY,
    THEORY_LINE,
    figure_style,
    grid_shape,
    literal,
    pyplot,
    save_figure,
)
from validation.reports.figures.theory import Mark, theory_marks
from validation.runs.records import RunRecord

#: At most this many run names in one trajectory figure (12 rows of panel pairs).
MAX_TRAJECTORY_PANELS = 48
#: The metrics of the coefficient panel and of the error panel, in legend order.
COEFFICIENT_METRICS = ("feature_pos", "feature_neg", "noise_max", "noise_min")
ERROR_METRICS = ("train_error", "test_error")


def _seed_curve(ax: Any, t: np.ndarray, runs: list[np.ndarray], metric: str) -> None:
    """The seed mean, solid, with a mean +- sd band when there are two seeds or more (a failed
    run's NaN records leave gaps)."""
    values = np.vstack(runs)
    colour = QUANTITIES[metric].colour
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN record is a gap, not news
        mean = np.nanmean(values, axis=0)
        sd = np.nanstd(values, axis=0)
    ax.plot(t, mean, color=colour, **MEASURED)
    if len(runs) > 1:
        ax.fill_between(t, mean - sd, mean + sd, color=colour, alpha=0.2, lw=0)


def _time_marks(axes: Sequence[Any], marks: Mapping[str, Mark], horizon: float) -> list[Mark]:
    """T0 and T_r as vertical lines on both panels where they fall inside the horizon; returns
    the marks drawn."""
    drawn = []
    for name in ("stage1_length", "reversal_time"):
        mark = marks.get(name)
        if mark is None or mark.value > horizon:
            continue
        for ax in axes:
            ax.axvline(
                mark.value,
                color=THEORY[name].colour,
                alpha=IN_SAMPLE_ALPHA if mark.in_sample else 1.0,
                **THEORY_LINE,
            )
        drawn.append(mark)
    return drawn


def _level_mark(ax: Any, marks: Mapping[str, Mark], top: float) -> list[Mark]:
    """The Stage-II feature level as a horizontal line when it lies within 1.5 x the panel's
    largest coefficient (a level far above the curves would only flatten them)."""
    mark = marks.get("fixed_point")
    if mark is None or not np.isfinite(top) or mark.value > 1.5 * top:
        return []
    ax.axhline(mark.value, color=THEORY["fixed_point"].colour, **THEORY_LINE)
    return [mark]


def _legend_handles(
    plt: Any, predicted: bool, theory: Sequence[Mark], seeds: bool
) -> tuple[list, list]:
    """Legend entries: one per quantity (its colour), then the encodings actually drawn (an
    in-sample theory mark, faded, says so)."""
    handles, labels = [], []
    for metric in (*COEFFICIENT_METRICS, *ERROR_METRICS):
        handles.append(plt.Line2D([], [], color=QUANTITIES[metric].colour, **MEASURED))
        labels.append(QUANTITIES[metric].label)
    handles.append(plt.Line2D([], [], color="0.3", **MEASURED))
    labels.append("CNN (seed mean" + (", band: $\\pm$ sd)" if seeds else ")"))
    if predicted:
        handles.append(plt.Line2D([], [], color="0.3", **PREDICTED))
        labels.append("reduced dynamics (prediction)")
    for name in sorted({mark.name for mark in theory}):
        handles.append(plt.Line2D([], [], color=THEORY[name].colour, **THEORY_LINE))
        labels.append(f"{THEORY[name].label} (theory)")
    if any(mark.in_sample for mark in theory):
        handles.append(plt.Line2D([], [], color="0.3", alpha=IN_SAMPLE_ALPHA, **THEORY_LINE))
        labels.append("faded: in-sample (fitted on this setting)")
    handles.append(plt.Line2D([], [], color=CHANCE.colour, lw=0.6))
    labels.append(CHANCE.label)
    return handles, labels


def trajectory_figure(
    records: Sequence[RunRecord],
    title: str,
    predicted: Mapping[str, Trajectory] | None = None,
) -> Any:
    """The trajectory figure of ``records`` (see the module docstring); ``predicted`` maps run
    keys to the reduced dynamics' trajectories (``validation.experiments.prediction``). Returns
    the matplotlib Figure."""
    plt = pyplot()
    predicted = predicted or {}
    groups = ordered_groups(records)
    names = list(groups)[:MAX_TRAJECTORY_PANELS]
    rows, columns = grid_shape(len(names))
    with figure_style():
        fig = plt.figure(
            figsize=(COLUMN_WIDTH if columns == 1 else FULL_WIDTH, 2.9 * rows + 0.9),
            layout="constrained",
        )
        grid = fig.add_gridspec(2 * rows, columns, height_ratios=[1.2, 1.0] * rows)
        theory_drawn: list[Mark] = []
        first_coefficients = first_errors = None
        several_seeds = False
        for number, name in enumerate(names):
            group = [r for r in groups[name] if r.failure is None] or groups[name]
            several_seeds |= len(group) > 1
            row, column = divmod(number, columns)
            top = fig.add_subplot(grid[2 * row, column], sharey=first_coefficients)
            bottom = fig.add_subplot(grid[2 * row + 1, column], sharex=top, sharey=first_errors)
            first_coefficients, first_errors = first_coefficients or top, first_errors or bottom
            params = group[0].params
            t = np.asarray(group[0].epoch, dtype=float) * params.iterations_per_epoch
            guesses = [predicted[r.key] for r in group if r.key in predicted]
            for ax, metrics in ((top, COEFFICIENT_METRICS), (bottom, ERROR_METRICS)):
                for metric in metrics:
                    _seed_curve(ax, t, [r.series(metric) for r in group], metric)
                    if guesses:
                        mean = np.mean([guess.metrics[metric] for guess in guesses], axis=0)
                        ax.plot(t, mean, color=QUANTITIES[metric].colour, **PREDICTED)
            bottom.axhline(0.5, color=CHANCE.colour, lw=0.6, zorder=0)
            marks = theory_marks(params)
            coefficients = np.concatenate([r.series(m) for r in group for m in COEFFICIENT_METRICS])
            peak = float(np.nanmax(coefficients)) if np.isfinite(coefficients).any() else np.nan
            theory_drawn += _time_marks((top, bottom), marks, float(t[-1]))
            theory_drawn += _level_mark(top, marks, peak)
            tests = [r.final_value("test_error") for r in group if r.failure is None]
            outcome = f"test error {np.mean(tests):.3f}" if tests else "failed"
            seeds = f"{len(group)} seed{'s' if len(group) > 1 else ''}"
            top.set_title(f"{literal(name)}\n{seeds}, {outcome}")
            top.tick_params(labelbottom=False)
            bottom.set_xlabel("iteration $t$")
            if column == 0:
                top.set_ylabel("coefficient")
                bottom.set_ylabel("error")
        first_errors.set_ylim(-0.03, 1.03)
        handles, labels = _legend_handles(plt, bool(predicted), theory_drawn, several_seeds)
        fig.legend(handles, labels, loc="outside lower center", ncol=min(4, columns + 2))
        shown = "" if len(names) == len(groups) else f" (first {len(names)} of {len(groups)})"
        fig.suptitle(f"{literal(title)}{shown}")
    return fig


def plot_trajectories(
    records: Sequence[RunRecord],
    title: str,
    path: Path,
    predicted: Mapping[str, Trajectory] | None = None,
) -> int:
    """:func:`trajectory_figure` saved to ``path`` (PNG, PDF, SVG); returns how many names were
    drawn."""
    save_figure(trajectory_figure(records, title, predicted), path)
    return min(len(ordered_groups(records)), MAX_TRAJECTORY_PANELS)
