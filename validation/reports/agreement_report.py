"""The agreement test of :mod:`validation.reports.agreement` in a report (torch-free): the section
"Theory next to simulation" (one row per run, one column per criterion), the counts per criterion,
the disagreements in words, and the figure of the gap between prediction and measurement per run.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from validation.reports.agreement import (
    CRITERIA,
    EXACT_TRAJECTORY_BOUND,
    OVERLAP_TRAJECTORY_BOUND,
    TEST_ERROR_GAP,
    TIME_SCALE_FACTOR,
    Criterion,
    RunAgreement,
)
from validation.reports.figures import (
    COEFFICIENT_METRICS,
    COLUMN_WIDTH,
    FULL_WIDTH,
    MAX_TRAJECTORY_PANELS,
    QUANTITIES,
    THEORY_LINE,
    figure_style,
    grid_shape,
    literal,
    ordered_groups,
    pyplot,
    save_figure,
)
from validation.reports.tables import lines_by_reason, markdown_table


def _cell(criterion: Criterion) -> str:
    mark = {True: "yes", False: "NO", None: "n/a"}[criterion.holds]
    return criterion.detail if criterion.holds is None else f"{mark}: {criterion.detail}"


def criterion_counts(runs: Sequence[RunAgreement]) -> dict[str, tuple[int, int]]:
    """Per criterion of :data:`CRITERIA`: (runs where it holds, runs where it applies)."""
    counts = {name: [0, 0] for name in CRITERIA}
    for run in runs:
        for name, criterion in run.criteria().items():
            if criterion.holds is not None:
                counts[name][1] += 1
                counts[name][0] += criterion.holds
    return {name: (held, applied) for name, (held, applied) in counts.items()}


def criteria_text(counts: dict[str, tuple[int, int]]) -> str:
    """``"outcome 6/6, head signs 4/5, ..."`` from :func:`criterion_counts`."""
    return ", ".join(f"{name} {held}/{applied}" for name, (held, applied) in counts.items())


def disagreement_lines(runs: Sequence[RunAgreement]) -> list[str]:
    """One line per run that does not agree, naming each failed criterion with its values (CNN /
    predicted) and ratio or margin."""
    lines = []
    for run in runs:
        failed = [c for c in run.criteria().values() if c.failed]
        if failed:
            lines.append(
                f"- {run.record.name} (seed {run.record.data_seed}, {run.reduction}): "
                + "; ".join(f"{c.name} {c.detail}" for c in failed)
            )
    return lines


def agreement_lines(
    runs: Sequence[RunAgreement], missing: Sequence[tuple[str, str]] = ()
) -> list[str]:
    """The report section "Theory next to simulation": one row per run (every seed) with every
    criterion of the agreement test (CNN / predicted, and whether it holds), whether the run agrees
    (all criteria), then the count per criterion and every disagreement in words. ``missing``
    holds (run, reason) for the runs without a prediction; runs sharing a reason make one line."""
    if not runs and not missing:
        return []
    rows = []
    for run in runs:
        criteria = run.criteria()
        rows.append(
            (
                run.record.name,
                run.record.data_seed,
                run.reduction,
                "yes" if run.agrees() else "NO",
                *(_cell(criteria[name]) for name in CRITERIA),
            )
        )
    agreeing = sum(run.agrees() for run in runs)
    lines = [
        "## Theory next to simulation",
        "",
        "Each run's prediction is the reduced dynamics started from the run's own initialisation "
        "and fed its own minibatches (validation.experiments.prediction; reduction: "
        "support-resolved on disjoint supports, exact there; overlap-aware on overlapping ones, "
        "docs/notes/overlap.md). A run agrees only when every criterion that applies holds "
        "(validation.reports.agreement): the outcome class; the sign of each head's final feature "
        "coefficient (feature +1 ; feature -1); the trajectory error (max over records and the "
        "curves feature +1/-1, noise max/min of |predicted - measured|, over the largest "
        "|measured| of those curves) within the reduction's bound "
        f"({EXACT_TRAJECTORY_BOUND:g} exact, {OVERLAP_TRAJECTORY_BOUND:g} overlap-aware: measured "
        f"on small drawn settings); T0 and T_r (iterations) within a factor "
        f"{TIME_SCALE_FACTOR:g}; the final test error within {TEST_ERROR_GAP:g} (neither the signs "
        "nor the test error where a run collapsed: at round-off level). Cells: CNN / "
        "predicted (ratio predicted / measured).",
        "",
        *markdown_table(("run", "seed", "reduction", "agree", *CRITERIA), rows),
        "",
        f"Agree on every criterion: {agreeing} of {len(runs)} runs with a prediction "
        f"(per criterion, holds / applies: {criteria_text(criterion_counts(runs))}).",
    ]
    misses = disagreement_lines(runs)
    if misses:
        lines += ["", "Disagreements of the prediction:", "", *misses]
    lines += lines_by_reason("no prediction for", missing)
    return [*lines, ""]


def plot_agreement(runs: Sequence[RunAgreement], title: str, path: Path) -> None:
    """One panel per run (first seed of each name, in numeric order, at most
    ``MAX_TRAJECTORY_PANELS``, at most four columns): the gap of every coefficient curve over the
    iterations (:meth:`RunAgreement.coefficient_gap`, in units of the run's largest measured
    coefficient, :attr:`RunAgreement.coefficient_scale`) on one shared y-axis, with the run's
    trajectory bound as a horizontal line and both outcomes in the title; PNG, PDF and SVG."""
    first: dict[str, RunAgreement] = {}
    for run in runs:
        first.setdefault(run.record.name, run)
    order = ordered_groups([run.record for run in first.values()])
    shown = [first[group[0].name] for group in order.values()][:MAX_TRAJECTORY_PANELS]
    if not shown:
        return
    plt = pyplot()
    rows, columns = grid_shape(len(shown))
    with figure_style():
        fig, axes = plt.subplots(
            rows,
            columns,
            figsize=(COLUMN_WIDTH if columns == 1 else FULL_WIDTH, 1.9 * rows + 0.8),
            squeeze=False,
            sharey=True,
            layout="constrained",
        )
        for ax, run in zip(axes.flat, shown, strict=False):
            t = run.measured.epoch * run.record.params.iterations_per_epoch
            for metric in COEFFICIENT_METRICS:
                ax.plot(t, run.coefficient_gap(metric), color=QUANTITIES[metric].colour)
            ax.axhline(run.bound, color="0.3", **THEORY_LINE)
            verdict = "agree" if run.agrees() else "DISAGREE"
            ax.set_title(
                f"{literal(run.record.name)}, seed {run.record.data_seed}\n"
                f"CNN: {run.measured_outcome}\nprediction: {run.predicted_outcome} ({verdict})",
                fontsize=6.5,
            )
            ax.set_xlabel("iteration $t$")
        for ax in axes[:, 0]:
            ax.set_ylabel("|predicted $-$ measured|\n/ max |measured coefficient|")
        for ax in list(axes.flat)[len(shown) :]:
            ax.axis("off")
        handles = [
            plt.Line2D([], [], color=QUANTITIES[metric].colour) for metric in COEFFICIENT_METRICS
        ]
        labels = [QUANTITIES[metric].label for metric in COEFFICIENT_METRICS]
        handles.append(plt.Line2D([], [], color="0.3", **THEORY_LINE))
        labels.append("the reduction's trajectory bound")
        fig.legend(handles, labels, loc="outside lower center", ncol=3)
        fig.suptitle(f"{literal(title)}: prediction vs CNN, per run")
    save_figure(fig, path)
