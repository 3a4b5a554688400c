"""Run a preset with resume, then write the machine-readable results, PNG figures and a text report.

Output directory layout: ``results.json`` (every run's trajectory, written as each group finishes),
``trajectories.png`` (feature learning and noise memorisation per run, as the paper's Figs 3-6),
``test_error.png`` (final train/test error per run) and ``report.md`` (final metrics, the paper's
expected outcomes with a pass/fail verdict, and the theory's predictions from ``theorykit``).
"""

from __future__ import annotations

import dataclasses
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from theorykit.bounds import predicted_outcome
from theorykit.conditions import lambda_thresholds
from validation.engine import Trajectory, group_specs, train_group
from validation.presets import Expectation, Preset
from validation.results import ResultsFile, run_key


@dataclasses.dataclass(frozen=True)
class ExpectationCheck:
    expectation: Expectation
    observed: float  # worst case over seeds
    holds: bool


def run_preset(preset: Preset, out_dir: Path, log=sys.stderr) -> dict[str, dict]:
    """Train what ``out_dir/results.json`` does not have yet; return all of the preset's records by key."""
    results = ResultsFile(out_dir / "results.json")
    keys = [run_key(spec, preset.options) for spec in preset.specs]
    pending = [i for i, key in enumerate(keys) if not results.has(key)]
    if len(pending) < len(keys):
        print(f"resuming: {len(keys) - len(pending)} of {len(keys)} runs already in {results.path}", file=log)
    start = time.time()
    groups = group_specs([preset.specs[i] for i in pending])
    for number, group in enumerate(groups, start=1):
        indices = [pending[j] for j in group]
        specs = [preset.specs[i] for i in indices]
        label = f"group {number}/{len(groups)} ({specs[0].params.optimizer}, B={specs[0].params.B}, {len(specs)} members)"

        def progress(epoch: int, total: int, label: str = label) -> None:
            if epoch == total or epoch % max(1, total // 10) == 0:
                print(f"\r{label}: epoch {epoch}/{total}  [{time.time() - start:.0f}s]", end="", file=log, flush=True)

        trajectories = train_group(specs, preset.options, progress)
        print(file=log)
        results.add([(keys[i], trajectory) for i, trajectory in zip(indices, trajectories)])
    return {key: results.records[key] for key in keys}


def check_expectations(preset: Preset, records: dict[str, dict]) -> list[ExpectationCheck]:
    by_name: dict[str, list[dict]] = defaultdict(list)
    for record in records.values():
        by_name[record["name"]].append(record["final"])
    checks = []
    for expectation in preset.expectations:
        values = [final[expectation.metric] for final in by_name[expectation.run]]
        worst = min(values) if expectation.relation == ">=" else max(values)
        checks.append(ExpectationCheck(expectation, worst, all(expectation.holds(v) for v in values)))
    return checks


def _plot(preset: Preset, records: dict[str, dict], out_dir: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    first_seed = {}
    for record in records.values():
        first_seed.setdefault(record["name"], record)
    names = list(first_seed)
    fig, axes = plt.subplots(2, (len(names) + 1) // 2, figsize=(4.2 * ((len(names) + 1) // 2), 7), squeeze=False)
    for ax, name in zip(axes.flat, names):
        record = first_seed[name]
        epoch = np.asarray(record["epoch"])
        metrics = record["metrics"]
        ax.plot(epoch, metrics["feature_pos"], label="feature, j=+1")
        ax.plot(epoch, metrics["feature_neg"], label="feature, j=-1")
        ax.plot(epoch, metrics["noise_max"], "--", label="noise max_i")
        ax.plot(epoch, metrics["noise_min"], ":", label="noise min_i")
        ax.set_title(f"{name}\ntest error {record['final']['test_error']:.3f}", fontsize=9)
        ax.set_xlabel("epoch")
        ax.axhline(0, color="grey", lw=0.5)
    axes.flat[0].legend(fontsize=7)
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    fig.suptitle(f"{preset.name}: max_r <w_j,r, j v> and max_r <w_y_i,r, xi_i> (cf. Tang et al. Figs 3-6)")
    fig.tight_layout()
    fig.savefig(out_dir / "trajectories.png", dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(8, 3.5))
    finals = defaultdict(list)
    for record in records.values():
        finals[record["name"]].append((record["final"]["train_error"], record["final"]["test_error"]))
    x = np.arange(len(finals))
    for offset, column, label in ((-0.2, 0, "train"), (0.2, 1, "test")):
        means = [np.mean([v[column] for v in values]) for values in finals.values()]
        ax.bar(x + offset, means, width=0.4, label=f"{label} error")
    ax.set_xticks(x, list(finals), rotation=20, fontsize=8)
    ax.axhline(0.5, color="grey", lw=0.5)
    ax.legend()
    ax.set_title(f"{preset.name}: final errors (mean over seeds)")
    fig.tight_layout()
    fig.savefig(out_dir / "test_error.png", dpi=110)
    plt.close(fig)


def write_report(preset: Preset, records: dict[str, dict], out_dir: Path) -> tuple[str, list[ExpectationCheck]]:
    """Plots and report.md; returns the report text and the expectation checks."""
    _plot(preset, records, out_dir)
    checks = check_expectations(preset, records)
    lines = [f"# {preset.name}", "", preset.description, "",
             "| run | seeds | train error | test error | feature +1 / -1 | noise min / max | theory predicts |",
             "|---|---|---|---|---|---|---|"]
    grouped: dict[str, list[dict]] = defaultdict(list)
    for record in records.values():
        grouped[record["name"]].append(record)
    for spec in {spec.name: spec for spec in preset.specs}.values():
        finals = [r["final"] for r in grouped[spec.name]]

        def mean(key: str) -> float:
            return float(np.mean([f[key] for f in finals]))

        lines.append(f"| {spec.name} | {len(finals)} | {mean('train_error'):.3f} | {mean('test_error'):.3f} | "
                     f"{mean('feature_pos'):.3g} / {mean('feature_neg'):.3g} | {mean('noise_min'):.3g} / "
                     f"{mean('noise_max'):.3g} | {predicted_outcome(spec.params)} |")
    thresholds = lambda_thresholds(preset.specs[0].params)
    lines += ["", f"Finite-size stuck thresholds (theorykit.bounds): lambda*_Adam = {thresholds['lambda_star_adam']:.4g}, "
              f"lambda*_AdamW = {thresholds['lambda_star_adamw']:.4g}.", "",
              "## The paper's outcomes", "", "| run | claim | observed (worst seed) | verdict | source |", "|---|---|---|---|---|"]
    for check in checks:
        e = check.expectation
        lines.append(f"| {e.run} | {e.metric} {e.relation} {e.value:g} | {check.observed:.4g} | "
                     f"{'reproduced' if check.holds else 'NOT reproduced'} | {e.source} |")
    text = "\n".join(lines) + "\n"
    (out_dir / "report.md").write_text(text)
    return text, checks
