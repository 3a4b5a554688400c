"""PNG figures of stored runs (record dicts of ``validation.results.trajectory_record`` / the store).

* :func:`plot_trajectories` -- max_r <w_{j,r}, j v> (j = +1, -1) and min_i / max_i of
  max_r <w_{y_i,r}, xi_i> over epochs, one panel per run name (first seed), as Tang et al. Figs 3-6.
* :func:`plot_final_errors` -- final train and test error per run name (mean over seeds).
* :func:`plot_error_vs` -- final test (solid) and train (dashed) error against lam or B, one curve per
  value of every other parameter that varies, with lam thresholds drawn where given.

A failed run's metrics are null in the records and NaN here (matplotlib leaves a gap).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

#: At most this many panels in :func:`plot_trajectories` (the figure stays readable).
MAX_TRAJECTORY_PANELS = 24
#: lam thresholds drawn by :func:`plot_error_vs` (``theorykit.conditions.lambda_thresholds`` names).
THRESHOLD_STYLES = {"lambda_star_adam": ("C0", "-"), "adam_stuck_floor": ("C0", ":"), "adam_lambda_ceiling": ("C0", "-."),
                    "lambda_star_adamw": ("C1", "-"), "adamw_lambda_floor": ("C1", ":")}


def metric_value(final: dict[str, Any], name: str) -> float:
    """A final metric as a float; NaN where the results hold null (a failed run)."""
    value = final[name]
    return float("nan") if value is None else float(value)


def pyplot():  # noqa: ANN201 - the matplotlib.pyplot module, imported headless on first use
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def varying_fields(records: dict[str, dict]) -> list[str]:
    """ProblemParams fields whose value differs between records, in field order."""
    values: dict[str, set] = defaultdict(set)
    for record in records.values():
        for field, value in record["params"].items():
            values[field].add(value)
    return [field for field, seen in values.items() if len(seen) > 1]


def plot_trajectories(records: dict[str, dict], title: str, path: Path) -> int:
    """Coefficient trajectories per run name (first seed); returns how many names were drawn."""
    plt = pyplot()
    first_seed: dict[str, dict] = {}
    for record in records.values():
        first_seed.setdefault(record["name"], record)
    names = list(first_seed)[:MAX_TRAJECTORY_PANELS]
    columns = (len(names) + 1) // 2
    fig, axes = plt.subplots(2, columns, figsize=(4.2 * columns, 7), squeeze=False)
    for ax, name in zip(axes.flat, names):
        record = first_seed[name]
        epoch = np.asarray(record["epoch"])
        metrics = {key: np.asarray(values, dtype=float) for key, values in record["metrics"].items()}
        ax.plot(epoch, metrics["feature_pos"], label="feature, j=+1")
        ax.plot(epoch, metrics["feature_neg"], label="feature, j=-1")
        ax.plot(epoch, metrics["noise_max"], "--", label="noise max_i")
        ax.plot(epoch, metrics["noise_min"], ":", label="noise min_i")
        ax.set_title(f"{name}\ntest error {metric_value(record['final'], 'test_error'):.3f}", fontsize=9)
        ax.set_xlabel("epoch")
        ax.axhline(0, color="grey", lw=0.5)
    axes.flat[0].legend(fontsize=7)
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    shown = "" if len(names) == len(first_seed) else f" (first {len(names)} of {len(first_seed)} runs)"
    fig.suptitle(f"{title}: max_r <w_j,r, j v> and max_r <w_y_i,r, xi_i> (cf. Tang et al. Figs 3-6){shown}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return len(names)


def plot_final_errors(records: dict[str, dict], title: str, path: Path) -> None:
    """Bars of final train and test error per run name (mean over seeds)."""
    plt = pyplot()
    finals: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for record in records.values():
        finals[record["name"]].append((metric_value(record["final"], "train_error"),
                                       metric_value(record["final"], "test_error")))
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


def plot_error_vs(records: dict[str, dict], axis: str, path: Path, thresholds: dict[str, float] | None = None) -> bool:
    """Final errors vs ``axis`` ("lam" or "B"); False (nothing written) when no curve has two points.

    ``thresholds`` (lam axis only) are drawn as vertical lines; pass them only when every run shares
    the parameters they depend on.
    """
    plt = pyplot()
    others = [field for field in varying_fields(records) if field != axis]
    curves: dict[str, dict[float, list[tuple[float, float]]]] = defaultdict(lambda: defaultdict(list))
    for record in records.values():
        params, final = record["params"], record["final"]
        label = ", ".join(f"{field}={_text(params[field])}" for field in others) or "all runs"
        curves[label][params[axis]].append((metric_value(final, "test_error"), metric_value(final, "train_error")))
    curves = {label: points for label, points in curves.items() if len(points) >= 2}
    if not curves:
        return False
    fig, ax = plt.subplots(figsize=(7.5, 4))
    for label, points in curves.items():
        xs = sorted(points)
        line, = ax.plot(xs, [np.mean([p[0] for p in points[x]]) for x in xs], "o-", label=f"{label}: test")
        ax.plot(xs, [np.mean([p[1] for p in points[x]]) for x in xs], "x--", color=line.get_color(), label=f"{label}: train")
    if axis == "lam" and thresholds:
        for name, (color, style) in THRESHOLD_STYLES.items():
            ax.axvline(thresholds[name], color=color, ls=style, lw=0.8, label=f"{name} = {thresholds[name]:.3g}")
    ax.set_xscale("log")
    ax.set_xlabel("weight decay lam" if axis == "lam" else "batch size B")
    ax.set_ylabel("final error")
    ax.axhline(0.5, color="grey", lw=0.5)
    ax.legend(fontsize=6, loc="center left", bbox_to_anchor=(1.0, 0.5))
    ax.set_title(f"error vs {axis}" + (" (thresholds from theorykit)" if axis == "lam" and thresholds else ""))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def _text(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)
