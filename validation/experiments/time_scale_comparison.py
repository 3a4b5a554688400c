"""Stage-I length T0 and reversal time T_r at large batch: theorykit's orders vs reduced dynamics vs
CNN.

For each setting (the paper's App. D.2 problem and variants in sigma0, s, sigma_p, at B = 100), Adam
(lam = 1e-5) and AdamW (lam = 0.01), :func:`dynamics.predict.measured_time_scales` reads T0 and T_r
off the exact reduced dynamics (:func:`dynamics.reduced.simulate`, one seed) and off the CNN
(``validation.sweeps.runner.train_or_resume``: resumable, one seed, ``DIR/cnn/results.sqlite``),
recorded every :data:`RECORD_EVERY` epochs; ``theorykit.time_scales`` gives the lemmas' orders
without polylogs.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from dynamics.predict import measured_time_scales
from dynamics.problem import sample_reduced_problem
from dynamics.reduced import simulate
from theorykit.params import ProblemParams, tang2025_synthetic
from theorykit.time_scales import REVERSAL_TIME, STAGE1_LENGTH_LARGE_BATCH
from validation.experiments.settings import LARGE_BATCH_RUNS, TIME_SCALE_SETTINGS
from validation.specs import EngineOptions, RunSpec
from validation.sweeps.runner import train_or_resume
from validation.tables import markdown_table

#: Horizon and recording interval in epochs (B = 100: 2 iterations per epoch).
EPOCHS, RECORD_EVERY = 1500, 10


def _fmt(value: float | None) -> str:
    return "none" if value is None else f"{value:.0f}"


def _ratio(measured: float | None, reference: float | None) -> str:
    return "n/a" if measured is None or reference is None else f"{measured / reference:.2f}"


def time_scale_table(out_dir: Path, log: TextIO = sys.stderr) -> list[str]:
    """Train (or resume) the CNN runs, run the reduced dynamics, and return a markdown table."""
    settings = [
        (
            label,
            optimizer,
            tang2025_synthetic(
                optimizer=optimizer,
                lam=lam,
                B=100,
                epochs=EPOCHS,
                bias_correction=True,
                **overrides,
            ),
        )
        for optimizer, lam in LARGE_BATCH_RUNS
        for label, overrides in TIME_SCALE_SETTINGS
    ]
    cnn = train_or_resume(
        "time-scales",
        [RunSpec(p, name=f"{optimizer} {label} B=100") for label, optimizer, p in settings],
        EngineOptions(record_every=RECORD_EVERY, test_size=500),
        out_dir / "cnn" / "results.sqlite",
        log,
    )
    reduced = []
    for optimizer, _ in LARGE_BATCH_RUNS:
        params: list[ProblemParams] = [p for _, name, p in settings if name == optimizer]
        reduced += simulate(
            sample_reduced_problem(params, [0] * len(params)), record_every=RECORD_EVERY
        )
    rows = []
    for (label, optimizer, p), record, trajectory in zip(settings, cnn, reduced, strict=True):
        per_epoch = p.iterations_per_epoch
        measured = record.trajectory()
        theirs = measured_time_scales(measured.epoch * per_epoch, measured.metrics)
        ours = measured_time_scales(trajectory.epoch * per_epoch, trajectory.metrics)
        t0, tr = float(STAGE1_LENGTH_LARGE_BATCH.at(p)), float(REVERSAL_TIME.at(p))
        rows.append(
            (
                label,
                optimizer,
                f"{t0:.0f}",
                _fmt(ours["stage1_end"]),
                _fmt(theirs["stage1_end"]),
                f"{tr:.0f}",
                _fmt(ours["reversal"]),
                _fmt(theirs["reversal"]),
                _ratio(theirs["reversal"], tr),
                _ratio(theirs["reversal"], ours["reversal"]),
            )
        )
    return markdown_table(
        (
            "setting",
            "optimizer",
            "T0 (theory)",
            "T0 reduced",
            "T0 CNN",
            "T_r (theory)",
            "T_r reduced",
            "T_r CNN",
            "T_r CNN / theory",
            "T_r CNN / reduced",
        ),
        rows,
    )
