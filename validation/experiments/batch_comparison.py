"""Where large-batch memorisation begins: theorykit's race vs the reduced dynamics vs the CNN,
across settings.

For each setting, the same batch-size grid at one horizon in iterations (``steps``, the same for
every B; :func:`dynamics.predict.epochs_for_steps`) gives three answers:

* theorykit's critical batch size B* = n / P* of the per-epoch race (:mod:`theorykit.batch_race`,
  C_batch_race = 1), and the C_batch_race that would put B* at the CNN's boundary
  (1 / R(n / B) at the geometric mean of the CNN's bracket);
* the exact reduced dynamics' bracket (:func:`dynamics.predict.batch_sweep`; shared displacement on
  the paper's overlapping supports, support-resolved -- exact for every optimiser -- on disjoint
  ones);
* the CNN's bracket (``validation.sweeps.runner.train_or_resume``: resumable, one seed,
  ``DIR/cnn/results.sqlite``).

A bracket is (largest B that learns the feature, smallest larger B that memorises noise), with
:func:`dynamics.outcomes.classify` on the final train and test error (test error >= 0.25 with the
training data fitted counts as memorising). Settings: the paper's overlapping supports (App. D.2, d
= 1000: every coordinate lies in about n s / d = 20 supports) and the variants of
:data:`validation.experiments.settings.COMPARISON_SETTINGS`; and disjoint supports (n s <= d - 1),
where the reduced model has no coupling between samples to miss.
"""

from __future__ import annotations

import dataclasses
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from dynamics.outcomes import classify, memorisation_boundary
from dynamics.predict import batch_sweep, epochs_for_steps
from theorykit.batch_race import critical_batch_size, noise_to_feature_ratio
from theorykit.params import ProblemParams, tang2025_synthetic
from validation.experiments.settings import DISJOINT_SETTINGS
from validation.specs import EngineOptions, RunSpec
from validation.sweeps.runner import train_or_resume
from validation.tables import markdown_table

#: Batch sizes tried in every setting: those that divide n, plus n itself (the full batch).
BATCH_GRID = (1, 2, 4, 5, 8, 10, 20, 25, 40, 50, 100, 200)


def batch_grid(n: int) -> tuple[int, ...]:
    """The values of :data:`BATCH_GRID` that divide n, with the full batch n added: every epoch is
    then P = n/B equal batches, the race's P. (B = 32 at n = 40 would be epochs of a 32- and an
    8-batch, P = 2 for n/B = 1.25: measured at sigma_p = 0.2, it learns the feature where B = 20, P
    = 2 too, memorises.)"""
    return tuple(sorted({B for B in BATCH_GRID if n % B == 0} | {n}))


@dataclasses.dataclass(frozen=True)
class BatchRow:
    """One setting: the race's B*, and per B of ``grid`` the reduced and the CNN outcome."""

    label: str
    supports: str
    params: ProblemParams
    grid: tuple[int, ...]
    race: float
    reduced: tuple[str, ...]
    cnn: tuple[str, ...]
    cnn_test_error: tuple[float, ...]

    def bracket(self, outcomes: Sequence[str]) -> tuple[float, float] | None:
        return memorisation_boundary(self.grid, outcomes)

    def implied_race_constant(self) -> float | None:
        """C_batch_race that puts theorykit's B* at the geometric mean of the CNN's bracket."""
        pair = self.bracket(self.cnn)
        if pair is None:
            return None
        boundary = math.sqrt(pair[0] * pair[1])
        return 1.0 / noise_to_feature_ratio(self.params, steps_per_epoch=self.params.n / boundary)


def _settings(
    optimizer: str, lam: float, overlapping: Sequence[tuple[str, dict]]
) -> list[tuple[str, str, ProblemParams]]:
    base = dict(optimizer=optimizer, lam=lam, B=1, bias_correction=True)
    return [(label, "overlapping", tang2025_synthetic(**base, **o)) for label, o in overlapping] + [
        (label, "disjoint", tang2025_synthetic(**base, **o)) for label, o in DISJOINT_SETTINGS
    ]


def batch_rows(
    out_dir: Path,
    overlapping: Sequence[tuple[str, dict]],
    steps: int = 6000,
    log: TextIO = sys.stderr,
    optimizer: str = "adam",
    lam: float = 1e-5,
    seeds: Sequence[int] = (0, 1, 2),
) -> list[BatchRow]:
    """Train (or resume) the CNN on every (setting, B), run the reduced dynamics (``seeds``,
    seed-mean errors) on the same grid, and return one row per setting: ``overlapping`` settings
    first, then :data:`DISJOINT_SETTINGS`."""
    settings = _settings(optimizer, lam, overlapping)
    specs = []
    for label, supports, p in settings:
        for B in batch_grid(p.n):
            run = p.replace(B=B)
            specs.append(
                RunSpec(
                    run.replace(epochs=epochs_for_steps(run, steps)),
                    supports=supports,
                    name=f"{optimizer} {label} B={B}",
                )
            )
    longest = max(spec.params.epochs for spec in specs)
    records = iter(
        train_or_resume(
            "batch-boundary",
            specs,
            EngineOptions(record_every=longest, test_size=1000),
            out_dir / "cnn" / "results.sqlite",
            log,
        )
    )  # in the order of ``specs``
    reduced = {}
    for supports in ("overlapping", "disjoint"):
        chosen = [(label, p) for label, kind, p in settings if kind == supports]
        for n in sorted({p.n for _, p in chosen}):
            same_n = [(label, p) for label, p in chosen if p.n == n]
            sweeps = batch_sweep(
                [p for _, p in same_n],
                batch_grid(n),
                steps=steps,
                seeds=seeds,
                resolve_supports=supports == "disjoint",
            )
            reduced.update(
                {
                    label: tuple(sweep.outcomes())
                    for (label, _), sweep in zip(same_n, sweeps, strict=True)
                }
            )
    rows = []
    for label, supports, p in settings:
        finals = [next(records).final for _ in batch_grid(p.n)]
        rows.append(
            BatchRow(
                label,
                supports,
                p,
                batch_grid(p.n),
                critical_batch_size(p),
                reduced[label],
                tuple(classify(final) for final in finals),
                tuple(float(final["test_error"]) for final in finals),
            )
        )
    return rows


def _format(row: BatchRow, outcomes: Sequence[str]) -> str:
    pair = row.bracket(outcomes)
    if pair is not None:
        return f"({pair[0]:g}, {pair[1]:g})"
    if all(outcome == "learns feature" for outcome in outcomes):
        return f"learns at every B <= {row.params.n}"
    if all(outcome == "memorises noise" for outcome in outcomes):
        return "memorises at every B"
    return "no single boundary: " + ", ".join(
        f"B={B}: {o}" for B, o in zip(row.grid, outcomes, strict=True)
    )


def _ratio(row: BatchRow, outcomes: Sequence[str], to: float | None) -> str:
    pair = row.bracket(outcomes)
    return "n/a" if pair is None or to is None else f"{math.sqrt(pair[0] * pair[1]) / to:.2f}"


def batch_table(rows: Sequence[BatchRow]) -> list[str]:
    """Markdown: per setting the race's B*, both brackets, CNN / race and CNN / reduced (geometric
    means of brackets), the implied C_batch_race and the CNN's test error at every B."""
    lines = []
    for row in rows:
        reduced_pair = row.bracket(row.reduced)
        reduced_mid = None if reduced_pair is None else math.sqrt(reduced_pair[0] * reduced_pair[1])
        constant = row.implied_race_constant()
        errors = ", ".join(
            f"{B}: {error:.2f}" for B, error in zip(row.grid, row.cnn_test_error, strict=True)
        )
        lines.append(
            (
                row.label,
                row.supports,
                f"{row.race:.3g}",
                _format(row, row.reduced),
                _format(row, row.cnn),
                _ratio(row, row.cnn, row.race),
                _ratio(row, row.cnn, reduced_mid),
                "n/a" if constant is None else f"{constant:.2f}",
                errors,
            )
        )
    return markdown_table(
        (
            "setting",
            "supports",
            "B* (race)",
            "reduced-dynamics bracket",
            "CNN bracket",
            "CNN / race",
            "CNN / reduced",
            "implied C_batch_race",
            "CNN test error by B",
        ),
        lines,
    )
