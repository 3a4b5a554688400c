"""Figures of stored runs and of predictions (matplotlib, headless; torch-free).

* :func:`plot_trajectories` -- max_r <w_{j,r}, j v> (j = +1, -1) and min_i / max_i of
  max_r <w_{y_i,r}, xi_i> over epochs, one panel per run name (first seed), as Tang et al. Figs 3-6.
* :func:`plot_final_errors` -- final train and test error per run name (mean over seeds).
* :func:`plot_error_vs` -- final test (solid) and train (dashed) error against lam or B, one curve
  per value of every other parameter that varies, with lam thresholds drawn where given.
* :func:`plot_phase_diagram` -- a ``dynamics.predict.PhaseDiagram`` as an image over (lam, B).

A failed run's metrics are None in the records and NaN here (matplotlib leaves a gap).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from dynamics.outcomes import STUCK_TRAIN_ERROR
from dynamics.predict import PhaseDiagram
from validation.sweeps.records import RunRecord, group_by_name

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


def varying_fields(records: Sequence[RunRecord]) -> list[str]:
    """ProblemParams fields whose value differs between records, in field order."""
    values: dict[str, set] = defaultdict(set)
    for record in records:
        for field, value in record.params.to_dict().items():
            values[field].add(value)
    return [field for field, seen in values.items() if len(seen) > 1]


def plot_trajectories(records: Sequence[RunRecord], title: str, path: Path) -> int:
    """Coefficient trajectories per run name (first seed); returns how many names were drawn."""
    plt = pyplot()
    first_seed = {name: group[0] for name, group in group_by_name(records).items()}
    names = list(first_seed)[:MAX_TRAJECTORY_PANELS]
    columns = (len(names) + 1) // 2
    fig, axes = plt.subplots(2, columns, figsize=(4.2 * columns, 7), squeeze=False)
    for ax, name in zip(axes.flat, names, strict=False):  # spare axes are switched off below
        record = first_seed[name]
        epoch = np.asarray(record.epoch)
        ax.plot(epoch, record.series("feature_pos"), label="feature, j=+1")
        ax.plot(epoch, record.series("feature_neg"), label="feature, j=-1")
        ax.plot(epoch, record.series("noise_max"), "--", label="noise max_i")
        ax.plot(epoch, record.series("noise_min"), ":", label="noise min_i")
        ax.set_title(f"{name}\ntest error {record.final_value('test_error'):.3f}", fontsize=9)
        ax.set_xlabel("epoch")
        ax.axhline(0, color="grey", lw=0.5)
    axes.flat[0].legend(fontsize=7)
    for ax in list(axes.flat)[len(names) :]:
        ax.axis("off")
    shown = (
        "" if len(names) == len(first_seed) else f" (first {len(names)} of {len(first_seed)} runs)"
    )
    fig.suptitle(
        f"{title}: max_r <w_j,r, j v> and max_r <w_y_i,r, xi_i> (cf. Tang et al. Figs 3-6){shown}"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return len(names)


def plot_final_errors(records: Sequence[RunRecord], title: str, path: Path) -> None:
    """Bars of final train and test error per run name (mean over seeds)."""
    plt = pyplot()
    finals = {
        name: [(r.final_value("train_error"), r.final_value("test_error")) for r in group]
        for name, group in group_by_name(records).items()
    }
    fig, ax = plt.subplots(figsize=(max(8.0, 0.6 * len(finals)), 3.5))
    x = np.arange(len(finals))
    for offset, column, label in ((-0.2, 0, "train"), (0.2, 1, "test")):
        means = [np.mean([v[column] for v in values]) for values in finals.values()]
        ax.bar(x + offset, means, width=0.4, label=f"{label} error")
    ax.set_xticks(x, list(finals), rotation=20, fontsize=8, ha="right")
    ax.axhline(0.5, color="grey", lw=0.5)
    ax.legend()
    ax.set_title(f"{title}: final errors (mean over seeds)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


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
    fig.savefig(path, dpi=110)
    plt.close(fig)
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
    stuck = diagram.train_error >= STUCK_TRAIN_ERROR
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
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _text(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)
