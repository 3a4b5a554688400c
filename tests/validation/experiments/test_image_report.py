"""The image report over several seeds: each configuration reads the mean of its seeds, and each B's
best learning rate is chosen on those means (records made up, nothing trained)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from validation.experiments.image_report import best_batch_run, seed_mean, write_image_report
from validation.experiments.image_runs import ImageSweep

SWEEP = ImageSweep(
    batch_sizes=(16, 256),
    learning_rates=(1e-3, 1e-4),
    target_train_error=0.05,
    max_steps=100,
    adam_lams=(1e-4, 1e-1),
    adamw_lams=(1e-4, 1e-1),
    seeds=(0, 1),
)


def _records(sweep: ImageSweep) -> dict[str, dict]:
    """Made-up finals: lr 1e-3 fits on seed 0 only, lr 1e-4 on both seeds; seed 1's test errors are
    0.1 above seed 0's."""
    records = {}
    for run in sweep.runs():
        fits = run.lr == 1e-4 or run.seed == 0
        final = {
            "train_error": 0.01 if fits else 0.2,
            "test_error": 0.1 * run.seed + (0.05 if run.lr == 1e-3 else 0.08) + run.lam,
            "steps": 100.0 if run.seed == 0 else 50.0,
            "epochs": 1.0,
        }
        records[run.key()] = {**dataclasses.asdict(run), **final}
    return records


def test_one_seed_is_its_own_mean_and_several_are_averaged() -> None:
    record = {"train_error": 0.1, "test_error": 0.3, "steps": 7.0, "lr": 1e-3}
    assert seed_mean([record]) is record
    other = {**record, "train_error": 0.3, "test_error": 0.5, "steps": 9.0}
    assert seed_mean([record, other]) == {
        **record,
        "train_error": 0.2,
        "test_error": 0.4,
        "steps": 8.0,
    }


def test_the_best_learning_rate_is_chosen_on_the_seed_means() -> None:
    records = _records(SWEEP)
    chosen = best_batch_run(records, SWEEP, "adam", 5e-4, 16)
    # lr 1e-3 has the lower test errors, but its mean train error (0.105) misses the target
    assert chosen["lr"] == 1e-4 and chosen["train_error"] == 0.01
    assert abs(chosen["test_error"] - (0.08 + 5e-4 + 0.05)) < 1e-12 and chosen["steps"] == 75.0
    one_seed = dataclasses.replace(SWEEP, seeds=(0,))
    assert best_batch_run(records, one_seed, "adam", 5e-4, 16)["lr"] == 1e-3


def test_the_report_says_how_many_seeds_its_means_stand_for(tmp_path: Path) -> None:
    text = write_image_report("digits", _records(SWEEP), SWEEP, tmp_path)
    assert "reproduced (2 seeds each, mean errors; the trends below)." in text
    assert "Small CNN, betas (0.9, 0.99), 2 seeds, mean errors." in text
    rows = [[cell.strip() for cell in line.split("|")[1:-1]] for line in text.splitlines()]
    assert ["adam", "0.0001", "0.105", "0.100"] in rows  # the lam sweep: means of 2 seeds
    single = dataclasses.replace(SWEEP, seeds=(0,))
    records = {k: r for k, r in _records(SWEEP).items() if r["seed"] == 0}
    text = write_image_report("digits", records, single, tmp_path)
    assert "reproduced (one seed each; the trends below)." in text
    assert "Small CNN, betas (0.9, 0.99), one seed." in text
