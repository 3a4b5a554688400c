"""Final errors of stored runs: per grid point, and against B or lam with the theory's thresholds.

* :func:`plot_final_errors` -- bars of the final train and test error per grid point in numeric
  order, mean over the finished seeds with +- sd error bars where there are two seeds or more
  (n stated), a marker on every bar so that an error of 0 is seen as 0, a cross where every seed
  failed, and the paper's reported value where it is given (Tang et al. Tables 1-2).
* :func:`plot_error_vs` -- the final test error against B or lam (log axis, numeric order), one
  series per value of the other parameters that vary, markers only (no line across values that
  were not run) with +- sd error bars over seeds; the theory's thresholds as dash-dotted vertical
  lines: lambda*_Adam (Adam, L2) and the AdamW collapse threshold on the lam axis, B*(T) and
  B*_inf on the B axis, with B*'s band (one run memorises with probability 0.1 to 0.9) shaded
  behind them (:mod:`validation.reports.figures.theory`; in-sample values faded).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from theorykit.batch_race import BAND_LEVELS
from validation.reports.figures.layout import order_key, ordered_groups, varying_fields
from validation.reports.figures.style import (
    BAND_ALPHA,
    CHANCE,
    COLUMN_WIDTH,
    FULL_WIDTH,
    IN_SAMPLE_ALPHA,
    QUANTITIES,
    SERIES_MAP,
    THEORY,
    THEORY_LINE,
    figure_style,
    literal,
    number_text,
    pyplot,
    save_figure,
)
from validation.reports.figures.theory import theory_band, theory_marks
from validation.runs.records import RunRecord

#: The theory marks drawn on each axis of :func:`plot_error_vs`, and for which optimisers.
AXIS_MARKS = {
    "lam": (
        ("lambda_star_adam", lambda kind: not kind.decoupled),
        ("adamw_collapse_threshold", lambda kind: kind.decoupled),
    ),
    "B": (
        ("critical_batch_size", lambda kind: kind.preconditioner != "none"),
        ("asymptotic_critical_batch_size", lambda kind: kind.preconditioner != "none"),
    ),
}
AXIS_LABELS = {"lam": r"weight decay $\lambda$", "B": "batch size $B$"}
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")


def _finals(group: Sequence[RunRecord], metric: str) -> list[float]:
    return [r.final_value(metric) for r in group if r.failure is None]


def _mean_sd(values: Sequence[float]) -> tuple[float, float]:
    if not values:
        return np.nan, np.nan
    return float(np.mean(values)), float(np.std(values)) if len(values) > 1 else 0.0


def plot_final_errors(
    records: Sequence[RunRecord],
    title: str,
    path: Path,
    paper: Mapping[str, float] | None = None,
) -> None:
    """:func:`final_errors_figure` saved to ``path`` (PNG, PDF, SVG)."""
    save_figure(final_errors_figure(records, title, paper), path)


def final_errors_figure(
    records: Sequence[RunRecord], title: str, paper: Mapping[str, float] | None = None
) -> Any:
    """The bar chart of the module docstring; ``paper`` maps run names to the test error the
    paper reports for them. Returns the matplotlib Figure."""
    plt = pyplot()
    groups = ordered_groups(records)
    seeds = max((len(_finals(g, "test_error")) for g in groups.values()), default=0)
    with figure_style():
        width = min(FULL_WIDTH, max(COLUMN_WIDTH, 0.3 * len(groups) + 1.2))
        fig, ax = plt.subplots(figsize=(width, 2.6), layout="constrained")
        x = np.arange(len(groups))
        for offset, metric in ((-0.2, "train_error"), (0.2, "test_error")):
            stats = [_mean_sd(_finals(group, metric)) for group in groups.values()]
            means = np.array([m for m, _ in stats])
            colour = QUANTITIES[metric].colour
            ax.bar(x + offset, np.nan_to_num(means), width=0.4, color=colour, alpha=0.35)
            ax.errorbar(
                x + offset,
                means,
                yerr=[s for _, s in stats] if seeds > 1 else None,
                fmt="o",
                color=colour,
                ms=3,
                capsize=2,
                label=QUANTITIES[metric].label,
            )
            failed = np.isnan(means)
            if failed.any():
                ax.plot(x[failed] + offset, np.zeros(failed.sum()), "x", color="0.4", ms=5)
        if paper:
            reported = [(i, paper[name]) for i, name in enumerate(groups) if name in paper]
            if reported:
                ax.plot(
                    [i + 0.2 for i, _ in reported],
                    [v for _, v in reported],
                    "_",
                    color=THEORY["paper"].colour,
                    ms=12,
                    mew=2,
                    label="test error reported by the paper",
                )
        ax.axhline(0.5, color=CHANCE.colour, lw=0.6, zorder=0, label=CHANCE.label)
        ax.set_xticks(x, [literal(name) for name in groups], rotation=35, ha="right")
        ax.set_ylim(-0.03, 1.03)
        ax.set_ylabel("final error")
        spread = f"mean $\\pm$ sd over {seeds} seeds" if seeds > 1 else "one seed"
        ax.set_title(f"{literal(title)}: final errors ({spread}; $\\times$: every seed failed)")
        fig.legend(loc="outside lower center", ncol=2)
    return fig


def _series(records: Sequence[RunRecord], axis: str) -> dict[str, list[RunRecord]]:
    """Finished runs by series (one per value of every other varying parameter), numeric
    order."""
    others = [field for field in varying_fields(records) if field != axis]
    series: dict[str, list[RunRecord]] = defaultdict(list)
    for record in sorted(records, key=lambda r: order_key(r, others)):
        if record.failure is None:
            params = record.params.to_dict()
            label = ", ".join(f"{field} = {_value_text(params[field])}" for field in others)
            series[label or "all runs"].append(record)
    return series


def _value_text(value: Any) -> str:
    return number_text(value) if isinstance(value, float) else str(value)


def _threshold_lines(ax: Any, series: Mapping[str, list[RunRecord]], axis: str) -> None:
    """The theory's marks of ``axis`` (:data:`AXIS_MARKS`) at each series' setting, one line per
    distinct value, labelled with it."""
    drawn: dict[tuple[str, float], bool] = {}
    for group in series.values():
        params = group[0].params
        marks = theory_marks(params)
        for name, applies in AXIS_MARKS[axis]:
            if name in marks and applies(params.kind):
                drawn.setdefault((name, round(marks[name].value, 12)), marks[name].in_sample)
    for (name, value), in_sample in sorted(drawn.items()):
        note = " (in-sample)" if in_sample else ""
        ax.axvline(
            value,
            color=THEORY[name].colour,
            alpha=IN_SAMPLE_ALPHA if in_sample else 1.0,
            label=f"{THEORY[name].label} = {number_text(value)}{note}",
            **THEORY_LINE,
        )
    if axis == "B":
        _band_spans(ax, series)


def _band_spans(ax: Any, series: Mapping[str, list[RunRecord]]) -> None:
    """B*'s band (:func:`validation.reports.figures.theory.theory_band`) at each series' setting,
    one shaded span per distinct band, labelled with its ends."""
    bands = {
        (round(band.low, 12), round(band.high, 12)): band.in_sample
        for group in series.values()
        if group[0].params.kind.preconditioner != "none"
        and (band := theory_band(group[0].params)) is not None
    }
    colour = THEORY["critical_batch_size"].colour
    for (low, high), in_sample in sorted(bands.items()):
        note = " (in-sample)" if in_sample else ""
        ax.axvspan(
            low,
            high,
            color=colour,
            alpha=BAND_ALPHA * (IN_SAMPLE_ALPHA if in_sample else 1.0),
            lw=0,
            zorder=0,
            label=f"one run memorises w.p. {BAND_LEVELS[0]:g}-{BAND_LEVELS[1]:g}: "
            f"B = {number_text(low)}-{number_text(high)}{note}",
        )


def plot_error_vs(records: Sequence[RunRecord], axis: str, path: Path) -> bool:
    """:func:`error_vs_figure` saved to ``path`` (PNG, PDF, SVG); False (nothing written) when
    there is no figure."""
    fig = error_vs_figure(records, axis)
    if fig is None:
        return False
    save_figure(fig, path)
    return True


def error_vs_figure(records: Sequence[RunRecord], axis: str) -> Any | None:
    """The final test error against ``axis`` ("lam" or "B"; module docstring), or None when no
    series has two values of it."""
    plt = pyplot()
    series = {
        label: group
        for label, group in _series(records, axis).items()
        if len({r.params.to_dict()[axis] for r in group}) >= 2
    }
    if not series:
        return None
    colours = plt.get_cmap(SERIES_MAP)(np.linspace(0.0, 0.85, len(series)))
    seeds = 1
    with figure_style():
        fig, ax = plt.subplots(figsize=(FULL_WIDTH * 0.62, 2.8), layout="constrained")
        for number, (label, group) in enumerate(series.items()):
            by_value: dict[float, list[float]] = defaultdict(list)
            for record in group:
                by_value[record.params.to_dict()[axis]].append(record.final_value("test_error"))
            xs = sorted(by_value)
            stats = [_mean_sd(by_value[x]) for x in xs]
            seeds = max(seeds, *(len(by_value[x]) for x in xs))
            ax.errorbar(
                xs,
                [m for m, _ in stats],
                yerr=[s for _, s in stats] if seeds > 1 else None,
                fmt=MARKERS[number % len(MARKERS)],
                color=colours[number],
                capsize=2,
                ls="none",
                label=label,
            )
        sampled = sorted({r.params.to_dict()[axis] for group in series.values() for r in group})
        _threshold_lines(ax, series, axis)
        ax.axhline(0.5, color=CHANCE.colour, lw=0.6, zorder=0, label=CHANCE.label)
        ax.set_xscale("log")
        ax.set_xticks(sampled, [_value_text(float(v)) for v in sampled])
        ax.minorticks_off()
        ax.set_ylim(-0.03, 1.03)
        ax.set_xlabel(AXIS_LABELS[axis])
        ax.set_ylabel("final test error")
        spread = f"mean $\\pm$ sd over {seeds} seeds" if seeds > 1 else "one seed"
        ax.set_title(f"test error vs {AXIS_LABELS[axis]} ({spread}; dash-dot: theory)")
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return fig
