"""Real-image check of Tang et al. 2025's Figures 1-2: test error vs batch size and vs weight decay.

The small CNN of :mod:`validation.cnn.image_training` is trained with
``torch.optim.Adam(weight_decay=lam)`` (L2 inside the moments, eq. 3.3) and
``torch.optim.AdamW(weight_decay=lam)`` (decoupled, eq. 3.6),
betas (0.9, 0.99), no data augmentation (App. D.1). Two sweeps:

* **batch sizes** at the paper's Fig. 1 weight decays (Adam 5e-4, AdamW 1e-2), as the paper ran
  them: every B is trained until its train error is at most ``target_train_error`` (checked after
  each epoch) or a step budget runs out, once per learning rate of ``learning_rates`` (App. D.1's
  grid {5e-4, 1e-4, 1e-5}), and each B keeps its best learning rate: the lowest test error among
  the runs that reached the target (the lowest train error if none did, which the report flags).
  The large-batch effect is then read at equal, near-zero train error, so under-training cannot
  pass for memorisation;
* **weight decays** at a small batch (Fig. 2's grids, AdamW's up to 0.5), one learning rate, a
  fixed number of epochs.

Runs are keyed and stored in the SQLite results store (``results.sqlite``, table ``image_runs``) as
they finish; a rerun resumes. Each finished run prints one line with the runs stored out of the
whole job's and an estimate of the time left (:mod:`validation.experiments.image_plan`). The report
(:mod:`validation.experiments.image_report`) states, from the numbers, whether the paper's two
trends appear. The runs and sweeps are :mod:`validation.experiments.image_runs`'s; ``seeds``
repeats both sweeps, the report then reading each configuration's mean errors.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import TextIO

from validation.cnn.device import resolve_device
from validation.cnn.image_training import train_image_cnn
from validation.experiments.image_data import ImageSplit
from validation.experiments.image_plan import ImageProgress, image_shape
from validation.experiments.image_report import write_image_report
from validation.experiments.image_runs import DEFAULT_SWEEP, STORE_NAME, ImageRun, ImageSweep
from validation.progress import STDERR
from validation.runs.provenance import code_version
from validation.store.results import ResultsStore

__all__ = [
    "STORE_NAME",
    "ImageRun",
    "ImageSweep",
    "run_image_experiment",
    "run_image_sweep",
    "train_image_run",
]


def train_image_run(run: ImageRun, data: ImageSplit, device: str = "auto") -> dict[str, float]:
    """Train one run (:func:`validation.cnn.image_training.train_image_cnn`); return its final
    train and test error and the steps and epochs it took."""
    return train_image_cnn(
        data.train_images,
        data.train_labels,
        data.test_images,
        data.test_labels,
        optimizer=run.optimizer,
        lam=run.lam,
        B=run.B,
        lr=run.lr,
        epochs=run.epochs,
        seed=run.seed,
        device=device,
        target_train_error=run.target_train_error,
        max_steps=run.max_steps,
    )


def run_image_sweep(
    name: str,
    data: ImageSplit,
    sweep: ImageSweep,
    out_dir: Path,
    device: str = "auto",
    log: TextIO = STDERR,
) -> dict[str, dict]:
    """Train what ``out_dir/results.sqlite`` lacks for data set ``name``, storing every run as it
    finishes and printing the job's progress
    (:class:`validation.experiments.image_plan.ImageProgress`); return the sweep's records by key
    (config fields and final errors in one
    dict)."""
    runs = sweep.runs()
    with ResultsStore(out_dir / STORE_NAME) as store:
        records = store.image_records(name)
        pending = [run for run in runs if run.key() not in records]
        progress = ImageProgress(pending, len(runs) - len(pending), image_shape(data), log)
        if pending:
            progress.start(resolve_device(device).type)
        for run in pending:
            start = time.time()
            final = train_image_run(run, data, device)
            store.add_image_run(name, run.key(), dataclasses.asdict(run), final, code_version())
            records[run.key()] = {**dataclasses.asdict(run), **final}
            progress.finished(run, final["test_error"], time.time() - start)
    return {run.key(): records[run.key()] for run in runs}


def run_image_experiment(
    name: str,
    data: ImageSplit,
    out_dir: Path,
    sweep: ImageSweep = DEFAULT_SWEEP,
    device: str = "auto",
    log: TextIO = STDERR,
) -> str:
    """Both sweeps (resumable), then the plots and the report; returns the report text. ``device``
    as in :class:`validation.runs.spec.EngineOptions` (CUDA when present for "auto")."""
    sweep.check_batch_sizes(len(data.train_labels))
    out_dir.mkdir(parents=True, exist_ok=True)
    records = run_image_sweep(name, data, sweep, out_dir, device, log)
    return write_image_report(name, records, sweep, out_dir)
