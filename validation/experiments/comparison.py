"""Theory vs reduced dynamics vs CNN: Adam and AdamW stuck thresholds and the large-batch boundary
across settings, coefficient checks.

``theorykit compare`` runs this. For each setting of :data:`COMPARISON_SETTINGS` (the paper's App.
D.2 problem and variants that change one of sigma0, q, m, n, s, sigma_p), Adam and AdamW at B = 2,
three numbers are put side by side:

* theorykit's finite-size threshold lambda*_Adam / lambda*_AdamW
  (``theorykit.bounds.LAMBDA_STAR_ADAM(W)``);
* the mean-field reduced dynamics' bracket (``dynamics.predict``), on the grid lambda* x
  :data:`GRID_FACTORS`;
* the CNN's bracket on the same grid (``validation.sweeps.runner.train_or_resume``: resumable,
  ``DIR/cnn/results.sqlite``).

Both simulations use the collapse criterion of Cor 4.3 that does not depend on how far training has
got: a run is *stuck* when its best feature coefficient max_j max_r gamma_{j,r} ends below half its
initial value (weight decay wins the normalised step at initialisation, so every coefficient is
driven to 0), and *trains* otherwise. The report also has the batch size at which memorisation
begins (:mod:`validation.experiments.batch_comparison`), the Stage-I length and reversal time at
large batch (:mod:`validation.experiments.time_scale_comparison`), coefficient-check tables
(:mod:`validation.experiments.coefficient_check`) for every optimiser on disjoint and on the paper's
overlapping supports, and says plainly where the reduced model is off.
"""

from __future__ import annotations

import dataclasses
import math
import sys
from pathlib import Path
from typing import TextIO

import numpy as np

from dynamics.mean_field import run_mean_field
from dynamics.outcomes import COLLAPSE_FRACTION, bracket, is_collapsed
from dynamics.problem import sample_reduced_problem
from dynamics.trajectory import HEAD_SIGNS
from theorykit.conditions import lambda_thresholds
from theorykit.errors import ParameterError
from theorykit.params import ProblemParams, tang2025_synthetic
from validation.experiments.batch_comparison import batch_rows, batch_table
from validation.experiments.coefficient_check import coefficient_check
from validation.experiments.settings import COMPARISON_SETTINGS, LARGE_BATCH_RUNS
from validation.experiments.time_scale_comparison import EPOCHS, time_scale_table
from validation.specs import EngineOptions, RunSpec
from validation.sweeps.records import RunRecord
from validation.sweeps.runner import train_or_resume
from validation.tables import markdown_table

#: lam grid per setting, as multiples of its lambda*_Adam (sqrt(2) spacing resolves a factor of 2).
GRID_FACTORS = (0.25, 0.354, 0.5, 0.707, 1.0, 1.414, 2.0, 2.83, 4.0)


def _best_feature(record: RunRecord) -> tuple[float, float]:
    """(initial, final) max over heads of the feature coefficient; NaN for a failed run (never
    collapsed)."""
    best = np.maximum(record.series("feature_pos"), record.series("feature_neg"))
    return float(best[0]), float(best[-1])


@dataclasses.dataclass(frozen=True)
class ThresholdRow:
    label: str
    predicted: float
    mean_field: tuple[float, float] | None
    cnn: tuple[float, float] | None

    def ratio(self, which: tuple[float, float] | None, to: float) -> str:
        return "n/a" if which is None else f"{math.sqrt(which[0] * which[1]) / to:.2f}"


def _settings(optimizer: str, epochs: int) -> list[tuple[str, ProblemParams]]:
    base = dict(optimizer=optimizer, B=2, epochs=epochs, bias_correction=True)
    return [
        (label, tang2025_synthetic(**base, **overrides)) for label, overrides in COMPARISON_SETTINGS
    ]


def threshold_rows(
    out_dir: Path, epochs: int = 50, log: TextIO = sys.stderr, optimizer: str = "adam"
) -> list[ThresholdRow]:
    """Train (or resume) the CNN grid, run the mean-field grid, and return one row per setting.

    ``optimizer`` is "adam" (grid around lambda*_Adam) or "adamw" (around lambda*_AdamW); both use
    the collapse criterion. For AdamW the decoupled decay also shrinks every weight by (1 - eta lam)
    per step, so a short horizon measures the stuck threshold, not the long-run window's upper end.
    """
    if optimizer not in ("adam", "adamw"):
        raise ParameterError(
            "optimizer", optimizer, "'adam' or 'adamw' (the optimisers with a lambda* threshold)"
        )
    threshold = f"lambda_star_{optimizer}"
    settings = _settings(optimizer, epochs)
    grids = {
        label: [lambda_thresholds(p)[threshold] * f for f in GRID_FACTORS] for label, p in settings
    }
    specs = tuple(
        RunSpec(p.replace(lam=lam), name=f"{optimizer} {label} lam={lam:.4g}")
        for label, p in settings
        for lam in grids[label]
    )
    records = iter(
        train_or_resume(
            "threshold-comparison",
            specs,
            EngineOptions(record_every=epochs, test_size=500, compile=True),
            out_dir / "cnn" / "results.sqlite",
            log,
        )
    )  # resumable, in spec order
    rows = []
    for label, p in settings:
        lams = grids[label]
        cnn = [_best_feature(next(records)) for _ in lams]
        problem = sample_reduced_problem(
            [p.replace(lam=lam) for lam in lams], [0] * len(lams), samples=32
        )
        initial = (HEAD_SIGNS[None, :, None] * problem.w_feature0).max(axis=(1, 2))
        final = run_mean_field(problem, epochs * p.iterations_per_epoch).gamma.max(axis=(1, 2))
        rows.append(
            ThresholdRow(
                label,
                lambda_thresholds(p)[threshold],
                bracket(lams, [is_collapsed(initial[k], final[k]) for k in range(len(lams))]),
                bracket(lams, [is_collapsed(*c) for c in cnn]),
            )
        )
    return rows


def coefficient_rows(steps: int = 1000) -> list[tuple[str, str, float, float, float, float]]:
    """(optimizer, supports, max gamma and rho error of the shared-displacement model, then of the
    support-resolved one) over the first ``steps`` steps."""
    rows = []
    for supports, overrides in (("disjoint", dict(n=40, s=20, B=4)), ("overlapping", dict(B=16))):
        for optimizer, lam in (
            ("signsgdw", 0.01),
            ("signsgd", 1e-5),
            ("adamw", 0.01),
            ("adam", 1e-5),
            ("gd", 0.01),
        ):
            eta = 0.05 if optimizer == "gd" else 5e-5
            p = tang2025_synthetic(
                optimizer=optimizer, lam=lam, eta=eta, bias_correction=True, **overrides
            )
            errors = []
            for resolve_supports in (False, True):
                check = coefficient_check(
                    RunSpec(p, supports=supports),
                    steps=steps,
                    record_every=max(1, steps // 10),
                    resolve_supports=resolve_supports,
                )
                errors += [float(check.gamma_error.max()), float(check.rho_error.max())]
            rows.append((optimizer, supports, *errors))
    return rows


def _format(pair: tuple[float, float] | None) -> str:
    return "none in grid" if pair is None else f"({pair[0]:.4g}, {pair[1]:.4g})"


def _threshold_table(rows: list[ThresholdRow], optimizer: str) -> list[str]:
    name = "lambda*_Adam" if optimizer == "adam" else "lambda*_AdamW"
    table = []
    for row in rows:
        mean_field_mid = (
            None if row.mean_field is None else math.sqrt(row.mean_field[0] * row.mean_field[1])
        )
        table.append(
            (
                row.label,
                f"{row.predicted:.4g}",
                _format(row.mean_field),
                _format(row.cnn),
                row.ratio(row.cnn, row.predicted),
                "n/a" if mean_field_mid is None else row.ratio(row.cnn, mean_field_mid),
            )
        )
    lines = markdown_table(
        (
            "setting",
            f"{name} (theorykit)",
            "mean-field bracket",
            "CNN bracket",
            "CNN / theorykit",
            "CNN / mean-field",
        ),
        table,
    )
    off = [
        row.label
        for row in rows
        if row.cnn is None or not 0.5 < math.sqrt(row.cnn[0] * row.cnn[1]) / row.predicted < 2
    ]
    return [
        *lines,
        "",
        f"Settings where the CNN threshold is not within a factor 2 of {name}: "
        + (", ".join(off) if off else "none")
        + ".",
    ]


def write_comparison(
    out_dir: Path, epochs: int = 50, log: TextIO = sys.stderr, batch_steps: int = 6000
) -> str:
    """Run everything and write ``out_dir/comparison.md`` and ``out_dir/coefficient_check.png``; the
    batch-size section trains every B for ``batch_steps`` iterations."""
    out_dir.mkdir(parents=True, exist_ok=True)
    lines = [
        "# Stuck thresholds: theory vs reduced dynamics vs CNN (B = 2)",
        "",
        f"CNN: {epochs} epochs, one seed; mean-field dynamics: the same number of steps, 32 "
        f"representative samples. Stuck = best feature coefficient ends below {COLLAPSE_FRACTION} "
        "x its initial value. Brackets are (largest lam that trains, smallest stuck lam) on "
        f"lambda* x {list(GRID_FACTORS)}; ratios use the bracket's geometric mean.",
    ]
    for optimizer in ("adam", "adamw"):
        lines += [
            "",
            f"## {optimizer}",
            "",
            *_threshold_table(threshold_rows(out_dir, epochs, log, optimizer), optimizer),
        ]
    for optimizer, lam in LARGE_BATCH_RUNS:
        rows = batch_rows(out_dir, COMPARISON_SETTINGS, batch_steps, log, optimizer, lam)
        lines += [
            "",
            f"## Where large-batch memorisation begins ({optimizer}, lam = {lam:g})",
            "",
            f"Every B trains for {batch_steps} iterations (CNN: one seed; exact reduced dynamics: "
            "seed-mean of 3). B* is theorykit's race (theorykit.batch_race, C_batch_race = 1); "
            "brackets are (largest B that learns the feature, smallest larger B that memorises "
            "noise: train error < 0.1 and test error >= 0.25); ratios use geometric means. "
            "'implied C_batch_race' is the constant that puts B* at the CNN's boundary.",
            "",
            *batch_table(rows),
        ]
    lines += [
        "",
        f"## Stage-I length T0 and reversal time T_r at B = 100 (iterations; {EPOCHS} epochs)",
        "",
        "Theory: theorykit.time_scales, the lemmas' orders without polylogs. Measured "
        "(dynamics.predict.measured_time_scales): T0 = first record with the data loss at half "
        "its initial value; T_r = the peak of a head's best feature coefficient, when it then "
        "falls back by half its rise (the earlier head); 'none' = not within the horizon.",
        "",
        *time_scale_table(out_dir, log),
    ]
    lines += [
        "",
        "## Coefficient check (reduced model vs CNN, same initialisation and batches)",
        "",
        "Max relative error of the displacement from initialisation over the first 1000 steps, "
        "for the shared-displacement model (phase diagrams, mean field) and the support-resolved "
        "one.",
        "",
        *markdown_table(
            (
                "optimizer",
                "supports",
                "shared: gamma",
                "shared: rho",
                "resolved: gamma",
                "resolved: rho",
            ),
            [
                (optimizer, supports, *(f"{e:.3g}" for e in errors))
                for optimizer, supports, *errors in coefficient_rows()
            ],
        ),
    ]
    lines += [
        "",
        "On disjoint supports the support-resolved model is exact (round-off) for every "
        "optimiser; the shared displacement is exact for GD, SignSGDW and SignSGD without decay, "
        "and approximate for Adam and SignSGD with L2, which apply the decay to the shared "
        "displacement and the initial part at once. Overlapping supports couple samples through "
        "shared coordinates, which both reductions ignore: the overlapping rows measure that "
        "coupling.",
    ]
    example = tang2025_synthetic(n=40, s=20, B=4, optimizer="adamw", lam=0.01, bias_correction=True)
    coefficient_check(RunSpec(example, supports="disjoint"), steps=2000, record_every=50).plot(
        out_dir / "coefficient_check.png"
    )
    text = "\n".join(lines) + "\n"
    (out_dir / "comparison.md").write_text(text)
    return text
