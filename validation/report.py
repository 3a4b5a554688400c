"""Run a preset with resume, then write the results store, PNG figures and a text report.

Output directory layout: ``results.sqlite`` (every run's trajectory, one row per run, stored as each
group finishes; :mod:`validation.store`), ``trajectories.png`` (feature learning and noise
memorisation per run, as the paper's Figs 3-6), ``test_error.png`` (final train/test error per run),
``test_error_vs_lambda.png`` / ``test_error_vs_batch.png`` when the preset sweeps lam / B (with
theorykit's lam thresholds drawn), and ``report.md`` (final metrics, the paper's expected outcomes
with a pass/fail verdict, the theory's predictions, and measured vs predicted stuck thresholds).
"""

from __future__ import annotations

import dataclasses
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import numpy as np

from dynamics.predict import STUCK_TRAIN_ERROR, bracket
from theorykit.bounds import predicted_outcome
from theorykit.conditions import lambda_thresholds
from theorykit.params import ProblemParams
from validation.plots import metric_value, plot_error_vs, plot_final_errors, plot_trajectories
from validation.presets import Expectation, Preset
from validation.results import run_key
from validation.store import ResultsStore
from validation.sweep import run_sweep
from validation.sweep_spec import SweepSpec

#: The results store of a preset, inside its output directory.
STORE_NAME = "results.sqlite"


@dataclasses.dataclass(frozen=True)
class ExpectationCheck:
    expectation: Expectation
    observed: float  # worst case over seeds
    holds: bool


def run_preset(preset: Preset, out_dir: Path, log=sys.stderr) -> dict[str, dict]:
    """Train what ``out_dir/results.sqlite`` does not have yet; return the preset's records in spec order."""
    preset.options.resolved_device()  # a bad or absent device is a ParameterError before anything trains
    spec = SweepSpec(preset.name, preset.specs, preset.options, ())
    with ResultsStore(out_dir / STORE_NAME) as store:
        outcome = run_sweep(spec, store, log=log, progress=lambda label: _progress(label, log))
        if outcome.errors:
            raise RuntimeError(f"{len(outcome.errors)} group(s) failed: {'; '.join(outcome.errors)}")
        return store.records([run_key(run, preset.options) for run in preset.specs])


def _progress(label: str, log) -> Callable[[int, int], None]:  # noqa: ANN001 - a text stream
    began = time.time()

    def show(epoch: int, total: int) -> None:
        if epoch == total or epoch % max(1, total // 100) == 0:
            print(f"\r{label}: {progress_bar(epoch, total, time.time() - began)}", end="\n" if epoch == total else "",
                  file=log, flush=True)

    return show


def progress_bar(done: int, total: int, elapsed: float, width: int = 30) -> str:
    """``[#########.....]  45% 450/1000  12s elapsed, ~15s left``."""
    filled = width * done // total
    left = elapsed * (total - done) / done if done else float("nan")
    return (f"[{'#' * filled}{'.' * (width - filled)}] {100 * done // total:3d}% {done}/{total}  "
            f"{elapsed:.0f}s elapsed, ~{left:.0f}s left")


def measured_stuck_thresholds(records: dict[str, dict], by: tuple[str, ...] = ("optimizer", "B")
                              ) -> dict[tuple, tuple[float, float] | None]:
    """Per setting (the values of the fields ``by``) with >= 3 lam values: (largest lam that trains,
    smallest lam stuck above it).

    "Stuck" is final train error >= :data:`STUCK_TRAIN_ERROR` (worst seed); None where the grid shows
    no such transition. The measured threshold lies between the two (the report quotes their
    geometric mean).
    """
    by_setting: dict[tuple, dict[float, float]] = defaultdict(dict)
    for record in records.values():
        params = record["params"]
        errors = by_setting[tuple(params[field] for field in by)]
        errors[params["lam"]] = max(errors.get(params["lam"], 0.0), metric_value(record["final"], "train_error"))
    return {key: bracket(sorted(errors), [errors[lam] >= STUCK_TRAIN_ERROR for lam in sorted(errors)])
            for key, errors in by_setting.items() if len(errors) >= 3}


def check_expectations(preset: Preset, records: dict[str, dict]) -> list[ExpectationCheck]:
    by_name: dict[str, list[dict]] = defaultdict(list)
    for record in records.values():
        # a failed run (non-finite weights) has no trustworthy metric: every claim about it fails
        by_name[record["name"]].append({k: None for k in record["final"]} if record.get("failure") else record["final"])
    checks = []
    for expectation in preset.expectations:
        values = [metric_value(final, expectation.metric) for final in by_name[expectation.run]]
        if not values or any(np.isnan(v) for v in values):  # missing or failed run (non-finite metrics)
            checks.append(ExpectationCheck(expectation, float("nan"), False))
            continue
        worst = min(values) if expectation.relation == ">=" else max(values)
        checks.append(ExpectationCheck(expectation, worst, all(expectation.holds(v) for v in values)))
    return checks


def stuck_lines(records: dict[str, dict], by: tuple[str, ...] = ("optimizer", "B")) -> list[str]:
    """Markdown lines: measured stuck thresholds per setting next to theorykit's lambda* at that setting."""
    representative = {tuple(record["params"][field] for field in by): record["params"] for record in records.values()}
    lines = []
    for key, pair in sorted(measured_stuck_thresholds(records, by).items(), key=lambda item: str(item[0])):
        setting = ", ".join(f"{field} = {value:g}" if isinstance(value, float) else f"{field} = {value}"
                            for field, value in zip(by, key))
        if pair is None:
            lines.append(f"- {setting}: no stuck transition inside the lam grid.")
            continue
        measured = float(np.sqrt(pair[0] * pair[1]))
        optimizer = representative[key]["optimizer"]
        ratio = ""
        if optimizer in ("adam", "adamw"):
            predicted = lambda_thresholds(ProblemParams.from_dict(representative[key]))[f"lambda_star_{optimizer}"]
            ratio = f"; measured / lambda*_{optimizer} ({predicted:.3g}) = {measured / predicted:.2f}"
        lines.append(f"- {setting}: trains at lam = {pair[0]:g}, stuck (train error >= {STUCK_TRAIN_ERROR}) "
                     f"at lam = {pair[1]:g}: measured threshold ~ {measured:.3g}{ratio}.")
    return (["", "Measured stuck thresholds:", "", *lines, ""] if lines else [""])


#: Weight decay of the convex contrast: strong enough (lam-strong convexity) that 20000 full-batch steps
#: reach the minimiser; at the CNN's lam = 1e-5 the separable data put w* so far out that no optimiser
#: gets there in any affordable number of steps, which would test patience, not the claim.
CONVEX_LAMBDA = 0.05
#: relative distance to w* counted as "reached" (eta_T sqrt(d) / ||w*|| for the sign-type methods).
CONVEX_REACHED = 1e-2


def _convex_lines(params) -> list[str]:  # noqa: ANN001 - a theorykit.ProblemParams
    """Zou et al. 2023's contrast: on the L2-regularised (strongly convex) linear model, same data."""
    from dynamics.convex import logistic_problem, minimiser, optimise

    problem = logistic_problem(params.replace(lam=CONVEX_LAMBDA))
    w_star = minimiser(problem)
    lines = ["", "## Convex counterpart (Zou et al. 2023)", "",
             f"L2-regularised logistic regression, a linear model on data drawn like the CNN's, lam = {CONVEX_LAMBDA:g} "
             "(see validation.report.CONVEX_LAMBDA); full batch from w = 0, 20000 steps (eta_t = 0.01/sqrt(t); "
             "GD: 1/L). Distance to the unique minimiser w*:",
             "", "| optimiser | objective | \\|w - w*\\| / \\|w*\\| |", "|---|---|---|"]
    reached = []
    for kind, objective in (("gd", "L2 loss"), ("adam", "L2 loss"), ("signsgd", "L2 loss"), ("adamw", "decoupled decay")):
        distance = float(np.linalg.norm(optimise(problem, kind, 20_000) - w_star) / np.linalg.norm(w_star))
        lines.append(f"| {kind} | {objective} | {distance:.2e} |")
        if distance < CONVEX_REACHED:
            reached.append(kind)
    lines += ["", f"Reached w* (within {CONVEX_REACHED:g}): {', '.join(reached) or 'none'}. Decoupled AdamW optimises "
              "a different objective (its fixed point has |lam w_k| <= 1), so it is not expected to."]
    return lines


def write_report(preset: Preset, records: dict[str, dict], out_dir: Path) -> tuple[str, list[ExpectationCheck]]:
    """Plots and report.md; returns the report text and the expectation checks."""
    plot_trajectories(records, preset.name, out_dir / "trajectories.png")
    plot_final_errors(records, preset.name, out_dir / "test_error.png")
    thresholds = lambda_thresholds(preset.specs[0].params)
    plot_error_vs(records, "lam", out_dir / "test_error_vs_lambda.png", thresholds)
    plot_error_vs(records, "B", out_dir / "test_error_vs_batch.png")
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
            return float(np.mean([metric_value(f, key) for f in finals]))

        lines.append(f"| {spec.name} | {len(finals)} | {mean('train_error'):.3f} | {mean('test_error'):.3f} | "
                     f"{mean('feature_pos'):.3g} / {mean('feature_neg'):.3g} | {mean('noise_min'):.3g} / "
                     f"{mean('noise_max'):.3g} | {predicted_outcome(spec.params)} |")
    lines += ["", f"Finite-size stuck thresholds (theorykit.bounds): lambda*_Adam = {thresholds['lambda_star_adam']:.4g}, "
              f"lambda*_AdamW = {thresholds['lambda_star_adamw']:.4g}.", "",
              *stuck_lines(records),
              *(_convex_lines(preset.specs[0].params) if preset.convex_contrast else []),
              "## The paper's outcomes", "", "| run | claim | observed (worst seed) | verdict | source |", "|---|---|---|---|---|"]
    for check in checks:
        e = check.expectation
        lines.append(f"| {e.run} | {e.metric} {e.relation} {e.value:g} | {check.observed:.4g} | "
                     f"{'reproduced' if check.holds else 'NOT reproduced'} | {e.source} |")
    lines += failed_run_lines(records)
    text = "\n".join(lines) + "\n"
    (out_dir / "report.md").write_text(text)
    return text, checks


def failed_run_lines(records: dict[str, dict]) -> list[str]:
    """A "Failed runs" section (name, seed, reason), or nothing when every run finished."""
    failed = [f"- {record['name']} (data seed {record['data_seed']}): {record['failure']}"
              for record in records.values() if record.get("failure")]
    return ["", "## Failed runs", "", *failed] if failed else []
