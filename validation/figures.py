"""Figures of stored runs and of predictions (matplotlib, headless; torch-free).

* :func:`trajectory_figure` / :func:`plot_trajectories` -- max_r <w_{j,r}, j v> (j = +1, -1),
  min_i / max_i of max_r <w_{y_i,r}, xi_i> and the train/test error over epochs, one column per run
  name (seed mean +- sd), as Tang et al. Figs 3-6, with the predicted trajectories dashed.
* :func:`plot_final_errors` -- final train and test error per run name (mean over seeds).
* :func:`plot_error_vs` -- final test (solid) and train (dashed) error against lam or B, one curve
  per value of every other parameter that varies, with lam thresholds drawn where given.
* :func:`plot_phase_diagram` -- a ``dynamics.predict.PhaseDiagram`` as an image over (lam, B).

A failed run's metrics are None in the records and NaN here (matplotlib leaves a gap). Every
figure is written as PNG and SVG (:func:`save_figure`).
"""

from __future__ import annotations

import warnings
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from dynamics.predict import PhaseDiagram
from dynamics.trajectory import Trajectory
from validation.sweeps.records import RunRecord, group_runs

#: At most this many panels in :func:`plot_trajectories` (the figure stays readable).
MAX_TRAJECTORY_PANELS = 24
#: lam thresholds drawn by :func:`plot_error_vs` (``theorykit.conditions.lambda_thresholds`` names).
THRESHOLD_STYLES = {
    "lambda_star_adam": ("C0", "-"),
    "adam_stuck_floor": ("C0", ":"),
    "adam_lambda_ceiling": ("C0", "-."),
    "lambda_star_adamw": ("C1", "-"),
    "adamw_lambda_floor": ("C1", ":"),
}


def pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def literal(text: str) -> str:
    """``text`` (a run or sweep name, which a store may hold in any form) drawn as written:
    matplotlib's mathtext would parse a ``$`` in it and fail on an unbalanced one."""
    return text.replace("$", r"\$")


def varying_fields(records: Sequence[RunRecord]) -> list[str]:
    """ProblemParams fields whose value differs between records, in field order."""
    values: dict[str, set] = defaultdict(set)
    for record in records:
        for field, value in record.params.to_dict().items():
            values[field].add(value)
    return [field for field, seen in values.items() if len(seen) > 1]


#: (metric, colour, label) of the coefficient row and the error row of :func:`trajectory_figure`.
COEFFICIENT_CURVES = (
    ("feature_pos", "C0", "max_r <w_{+1,r}, v>"),
    ("feature_neg", "C3", "max_r <w_{-1,r}, -v>"),
    ("noise_max", "C2", "max_i max_r <w_{y_i,r}, xi_i>"),
    ("noise_min", "C8", "min_i max_r <w_{y_i,r}, xi_i>"),
)
ERROR_CURVES = (("train_error", "C0", "train error"), ("test_error", "C1", "test error"))


def save_figure(fig: Any, path: Path) -> None:
    """``path`` (PNG, 110 dpi) and the same figure as SVG next to it; the figure is closed."""
    fig.savefig(path, dpi=110)
    fig.savefig(path.with_suffix(".svg"))
    pyplot().close(fig)


def _seed_band(ax: Any, epochs: np.ndarray, runs: list[np.ndarray], color: str, label: str) -> None:
    """The seed mean (solid) with a mean +- sd band when there are several seeds (a failed run's
    NaN records leave gaps)."""
    values = np.vstack(runs)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN record is a gap, not news
        mean = np.nanmean(values, axis=0)
    ax.plot(epochs, mean, color=color, lw=1.2, label=label)
    if len(runs) > 1:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            sd = np.nanstd(values, axis=0)
        ax.fill_between(epochs, mean - sd, mean + sd, color=color, alpha=0.2, lw=0)


def trajectory_figure(
    records: Sequence[RunRecord],
    title: str,
    predicted: Mapping[str, Trajectory] | None = None,
) -> Any:
    """One column per run name (at most :data:`MAX_TRAJECTORY_PANELS`): the coefficients of Tang et
    al. Figs 3-6 on top, train and test error below, against epochs (each n/B iterations, rounded
    up). Measured: the seed mean, with a mean +- sd band over seeds; predicted (``predicted``, by
    run key; the reduced dynamics of ``validation.experiments.prediction``): the seed mean, dashed,
    in the same colour. Failed runs are left out of the means. Returns the matplotlib Figure."""
    plt = pyplot()
    groups = {
        name: [r for r in group if r.failure is None] or group
        for name, group in group_runs(records).items()
    }
    names = list(groups)[:MAX_TRAJECTORY_PANELS]
    predicted = predicted or {}
    fig, axes = plt.subplots(
        2, len(names), figsize=(3.6 * len(names) + 0.8, 6.4), squeeze=False, sharex="col"
    )
    for column, name in enumerate(names):
        group = groups[name]
        epochs = np.asarray(group[0].epoch, dtype=float)
        guesses = [predicted[r.key] for r in group if r.key in predicted]
        for row, curves in enumerate((COEFFICIENT_CURVES, ERROR_CURVES)):
            ax = axes[row, column]
            for metric, color, label in curves:
                _seed_band(ax, epochs, [r.series(metric) for r in group], color, label)
                if guesses and metric != "test_error":
                    mean = np.mean([guess.metrics[metric] for guess in guesses], axis=0)
                    ax.plot(epochs, mean, color=color, ls="--", lw=1.0)
                elif guesses:  # Monte Carlo on fresh test points: shown, but dotted
                    mean = np.mean([guess.metrics[metric] for guess in guesses], axis=0)
                    ax.plot(epochs, mean, color=color, ls=":", lw=1.0)
            ax.axhline(0.5 if row else 0.0, color="grey", lw=0.5)
        seeds = f"{len(group)} seed{'s' if len(group) > 1 else ''}"
        tests = [r.final_value("test_error") for r in group if r.failure is None]
        test = f"test error {np.mean(tests):.3f}" if tests else "failed"
        axes[0, column].set_title(f"{literal(name)}\n{seeds}, {test}", fontsize=8)
        axes[1, column].set_xlabel(f"epoch ({group[0].params.iterations_per_epoch} iterations)")
        axes[1, column].set_ylim(-0.03, 1.03)
    axes[0, 0].set_ylabel("coefficient")
    axes[1, 0].set_ylabel("error")
    handles, labels = [], []
    for ax in axes[:, 0]:
        h, l_ = ax.get_legend_handles_labels()
        handles, labels = handles + h, labels + l_
    if predicted:
        handles.append(plt.Line2D([], [], color="k", ls="--", lw=1.0))
        labels.append("predicted (reduced dynamics)")
    fig.legend(handles, labels, loc="lower center", ncol=4, fontsize=7)
    shown = "" if len(names) == len(groups) else f" (first {len(names)} of {len(groups)} runs)"
    solid = "measured: seed mean +- sd" + ("; dashed: predicted" if predicted else "")
    fig.suptitle(f"{literal(title)}{shown} -- {solid}", fontsize=10)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    return fig


def plot_trajectories(
    records: Sequence[RunRecord],
    title: str,
    path: Path,
    predicted: Mapping[str, Trajectory] | None = None,
) -> int:
    """:func:`trajectory_figure` saved to ``path`` (and SVG); returns how many names were drawn."""
    fig = trajectory_figure(records, title, predicted)
    save_figure(fig, path)
    return min(len(group_runs(records)), MAX_TRAJECTORY_PANELS)


def plot_final_errors(records: Sequence[RunRecord], title: str, path: Path) -> None:
    """Bars of final train and test error per run name (mean over the finished seeds; a name whose
    every seed failed has no bar)."""
    plt = pyplot()
    finals = {
        name: [
            (r.final_value("train_error"), r.final_value("test_error"))
            for r in group
            if r.failure is None
        ]
        or [(np.nan, np.nan)]
        for name, group in group_runs(records).items()
    }
    fig, ax = plt.subplots(figsize=(max(8.0, 0.6 * len(finals)), 3.5))
    x = np.arange(len(finals))
    for offset, column, label in ((-0.2, 0, "train"), (0.2, 1, "test")):
        means = [np.mean([v[column] for v in values]) for values in finals.values()]
        ax.bar(x + offset, means, width=0.4, label=f"{label} error")
    ax.set_xticks(x, [literal(name) for name in finals], rotation=20, fontsize=8, ha="right")
    ax.axhline(0.5, color="grey", lw=0.5)
    ax.legend()
    ax.set_title(f"{literal(title)}: final errors (mean over seeds)")
    fig.tight_layout()
    save_figure(fig, path)


def plot_error_vs(
    records: Sequence[RunRecord],
    axis: str,
    path: Path,
    thresholds: Mapping[str, float] | None = None,
) -> bool:
    """Final errors vs ``axis`` ("lam" or "B"); False (nothing written) when no curve has two
    points.

    ``thresholds`` (lam axis only) are drawn as vertical lines; pass them only when every run shares
    the parameters they depend on.
    """
    plt = pyplot()
    others = [field for field in varying_fields(records) if field != axis]
    curves: dict[str, dict[float, list[tuple[float, float]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for record in records:
        if record.failure:  # shown as failed in the report, not as a point
            continue
        params = record.params.to_dict()
        label = ", ".join(f"{field}={_text(params[field])}" for field in others) or "all runs"
        curves[label][params[axis]].append(
            (record.final_value("test_error"), record.final_value("train_error"))
        )
    curves = {label: points for label, points in curves.items() if len(points) >= 2}
    if not curves:
        return False
    fig, ax = plt.subplots(figsize=(7.5, 4))
    for label, points in curves.items():
        xs = sorted(points)
        (line,) = ax.plot(
            xs, [np.mean([p[0] for p in points[x]]) for x in xs], "o-", label=f"{label}: test"
        )
        ax.plot(
            xs,
            [np.mean([p[1] for p in points[x]]) for x in xs],
            "x--",
            color=line.get_color(),
            label=f"{label}: train",
        )
    if axis == "lam" and thresholds:
        for name, (color, style) in THRESHOLD_STYLES.items():
            ax.axvline(
                thresholds[name],
                color=color,
                ls=style,
                lw=0.8,
                label=f"{name} = {thresholds[name]:.3g}",
            )
    ax.set_xscale("log")
    ax.set_xlabel("weight decay lam" if axis == "lam" else "batch size B")
    ax.set_ylabel("final error")
    ax.axhline(0.5, color="grey", lw=0.5)
    ax.legend(fontsize=6, loc="center left", bbox_to_anchor=(1.0, 0.5))
    ax.set_title(
        f"error vs {axis}"
        + (" (thresholds from theorykit)" if axis == "lam" and thresholds else "")
    )
    fig.tight_layout()
    save_figure(fig, path)
    return True


def plot_phase_diagram(
    diagram: PhaseDiagram, path: Path, thresholds: Mapping[str, float] | None = None
) -> None:
    """Predicted test error over (lam, B) as an image with the stuck boundary; the given lam
    thresholds that fall inside the grid are drawn as vertical lines."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    image = ax.pcolormesh(
        diagram.lams,
        diagram.batch_sizes,
        diagram.test_error,
        shading="nearest",
        vmin=0,
        vmax=1,
        cmap="magma",
    )
    stuck = diagram.stuck
    ax.contour(
        diagram.lams,
        diagram.batch_sizes,
        stuck.astype(float),
        levels=[0.5],
        colors="cyan",
        linewidths=1,
    )
    for name, value in (thresholds or {}).items():
        if not diagram.lams[0] <= value <= diagram.lams[-1]:
            continue
        ax.axvline(value, color="white", ls="--", lw=0.8)
        ax.text(
            value, diagram.batch_sizes[-1], name, color="white", fontsize=6, rotation=90, va="top"
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("lam")
    ax.set_ylabel("B")
    ax.set_title(
        f"{diagram.base.optimizer}: predicted test error after {diagram.steps} steps (cyan: stuck "
        "boundary)",
        fontsize=9,
    )
    fig.colorbar(image, ax=ax, label="test error")
    fig.tight_layout()
    save_figure(fig, path)


def _text(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)
