"""The report of a finished (or partly finished) sweep, read from its results store.

``report.md`` holds one row per grid point (mean and standard deviation over seeds of the final
train and test error, the coefficients, and theorykit's predicted outcome at that point:
``theorykit.bounds.predicted_outcome``, i.e. which of Thm 4.1/4.2/4.4/4.5, Cor 4.3 applies), the
measured lam stuck thresholds beside theorykit's lambda*_Adam / lambda*_AdamW where lam is swept
(>= 3 values), and the failed runs with their reasons. Figures: ``trajectories.png``,
``test_error.png``, ``test_error_vs_lambda.png`` and ``test_error_vs_batch.png`` where lam / B vary
(:mod:`validation.plots`). Nothing is trained here.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np

from theorykit.bounds import predicted_outcome
from theorykit.conditions import lambda_thresholds
from theorykit.errors import ParameterError
from theorykit.params import ProblemParams
from validation.plots import metric_value, plot_error_vs, plot_final_errors, plot_trajectories, varying_fields
from validation.report import failed_run_lines, stuck_lines
from validation.store import ResultsStore


def write_sweep_report(store_path: str | Path, out_dir: str | Path | None = None) -> str:
    """Write report.md and the figures for the store at ``store_path`` into ``out_dir`` (default: its folder)."""
    store_path = Path(store_path)
    if not store_path.is_file():
        raise ParameterError("results", str(store_path), "an existing results store (the --store of theorykit sweep)")
    with ResultsStore(store_path) as store:
        records = store.records()
    if not records:
        raise ParameterError("results", str(store_path), "a store with at least one finished run")
    out_dir = Path(out_dir) if out_dir is not None else store_path.parent
    out_dir.mkdir(parents=True, exist_ok=True)
    sweeps = sorted({record["sweep"] for record in records.values()})
    title = ", ".join(sweeps)
    failed = sum(1 for record in records.values() if record["failure"])
    versions = sorted({record["code_version"] for record in records.values()})
    varying = varying_fields(records)

    plot_trajectories(records, title, out_dir / "trajectories.png")
    plot_final_errors(records, title, out_dir / "test_error.png")
    thresholds = [lambda_thresholds(ProblemParams.from_dict(record["params"])) for record in records.values()]
    shared = thresholds[0] if all(t == thresholds[0] for t in thresholds) else None
    figures = ["trajectories.png", "test_error.png"]
    if plot_error_vs(records, "lam", out_dir / "test_error_vs_lambda.png", shared):
        figures.append("test_error_vs_lambda.png")
    if plot_error_vs(records, "B", out_dir / "test_error_vs_batch.png"):
        figures.append("test_error_vs_batch.png")

    lines = [f"# Sweep report: {title}", "",
             f"{len(records)} runs ({len(records) - failed} finished, {failed} failed) from {store_path}; "
             f"parameters that vary: {', '.join(varying) or 'none'}; code: {'; '.join(versions)}.", "",
             "| run | seeds | train error | test error | feature +1 / -1 | noise max | theory predicts |",
             "|---|---|---|---|---|---|---|"]
    by_name: dict[str, list[dict]] = defaultdict(list)
    for record in records.values():
        by_name[record["name"]].append(record)
    for name, group in by_name.items():
        finals = [record["final"] for record in group]
        lines.append(f"| {name} | {len(group)} | {_mean_sd(finals, 'train_error')} | {_mean_sd(finals, 'test_error')} | "
                     f"{_mean(finals, 'feature_pos'):.3g} / {_mean(finals, 'feature_neg'):.3g} | "
                     f"{_mean(finals, 'noise_max'):.3g} | {predicted_outcome(ProblemParams.from_dict(group[0]['params']))} |")
    if shared is not None:
        lines += ["", f"theorykit's finite-size stuck thresholds at this setting: lambda*_Adam = "
                      f"{shared['lambda_star_adam']:.4g}, lambda*_AdamW = {shared['lambda_star_adamw']:.4g}."]
    if "lam" in varying:
        lines += stuck_lines(records, by=("optimizer", "B", *(f for f in varying if f not in ("lam", "optimizer", "B"))))
    lines += failed_run_lines(records)
    lines += ["", "Figures: " + ", ".join(figures) + "."]
    text = "\n".join(lines) + "\n"
    (out_dir / "report.md").write_text(text)
    return text


def _mean(finals: list[dict], metric: str) -> float:
    return float(np.mean([metric_value(final, metric) for final in finals]))


def _mean_sd(finals: list[dict], metric: str) -> str:
    values = [metric_value(final, metric) for final in finals]
    return f"{np.mean(values):.3f}" if len(values) == 1 else f"{np.mean(values):.3f} ± {np.std(values, ddof=1):.3f}"
