"""``theorykit compare``: every finite-size prediction of theorykit against the CNN, as an accuracy
table.

Sections of ``DIR/comparison.md`` (CNN runs resumable in ``DIR/cnn/results.sqlite``):

1. **Calibration** (:mod:`validation.experiments.calibration`): the hidden constants fitted on the
   settings marked for calibration, next to the values ``theorykit`` ships, with the spread of the
   values each other setting and seed would imply;
2. **Accuracy**: per prediction, the share of the settings *not* used for calibration where the
   prediction lies within a factor 2 of the CNN's measured value (the geometric mean of its
   bracket), overlapping and disjoint supports apart; every miss listed with its ratio;
3. **Batch boundary** (:mod:`validation.experiments.batch_comparison`), Adam and AdamW;
4. **Collapse thresholds** (:mod:`validation.experiments.threshold_comparison`), Adam and AdamW;
5. **Time scales and head reversals** (:mod:`validation.experiments.time_scale_comparison`);
6. **The verdict across horizons** (:mod:`validation.experiments.horizon_check`): the paper's
   setting at a small and a large B, horizons from 300 to 2 10^4 iterations;
7. **Coefficient checks** of the reductions (:mod:`validation.experiments.coefficient_check`).

A **Conclusion** opens the file: the held-out accuracy of every prediction, its misses, and the
verdict's record across horizons (in-sample there: the paper's setting is a calibration setting).

Figures: ``predicted_vs_measured.png``/``.svg`` (log-log, 2x band, calibration settings hollow) and
``coefficient_check.png``. Predictions use the constants fitted here.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from theorykit.constants import HiddenConstants
from theorykit.params import tang2025_synthetic
from validation.experiments.batch_comparison import (
    SEEDS,
    BatchRow,
    batch_rows,
    geometric_mean,
    train_batch_runs,
)
from validation.experiments.calibration import Calibration, calibrate
from validation.experiments.coefficient_check import coefficient_check
from validation.experiments.horizon_check import horizon_checks, horizon_lines
from validation.experiments.threshold_comparison import ThresholdRow, threshold_rows
from validation.experiments.time_scale_comparison import reliability, time_scale_rows
from validation.progress import STDERR
from validation.reports.figures import FULL_WIDTH, figure_style, pyplot, save_figure
from validation.reports.figures.style import OPTIMIZERS
from validation.reports.tables import markdown_table
from validation.reports.verdicts import conclusion_lines
from validation.runs.spec import RunSpec

#: Within this factor a prediction counts as accurate (the 2x band of the table and the figure).
ACCURACY_FACTOR = 2.0
#: The (optimizer, lam, supports, model) rows of the coefficient check: today's reductions on both
#: support regimes; "shared" on overlapping supports is the disjoint-support model that ignores the
#: coupling, the reference the overlap-aware reduction improves on.
COEFFICIENT_OPTIMIZERS = (
    ("signsgdw", 0.01),
    ("signsgd", 1e-5),
    ("adamw", 0.01),
    ("adam", 1e-5),
    ("gd", 0.01),
)


def _pair(pair: tuple[float, float] | None) -> str:
    return "none in grid" if pair is None else f"({pair[0]:.4g}, {pair[1]:.4g})"


def _interval(interval: tuple[float, float]) -> str:
    low, high = interval
    if math.isinf(high):
        return f"> {low:.4g} (none in grid)"
    if low == 0:
        return f"< {high:.4g} (all of the grid)"
    return f"({low:.4g}, {high:.4g})"


def _ratio(measured: float | None, predicted: float | None) -> str:
    if measured is None or predicted is None or not predicted > 0 or not math.isfinite(predicted):
        return "n/a"
    return f"{measured / predicted:.2f}"


def within(measured: float, predicted: float) -> bool:
    """Measured / predicted in [1/2, 2] (:data:`ACCURACY_FACTOR`)."""
    return 1 / ACCURACY_FACTOR <= measured / predicted <= ACCURACY_FACTOR


def agrees(interval: tuple[float, float], predicted: float) -> bool:
    """Whether a prediction agrees with a measured interval: within :data:`ACCURACY_FACTOR` of a
    closed bracket's geometric mean; beyond the grid's last value for an open bracket (largest,
    inf) -- a prediction inside the grid claims a transition the CNN would have shown -- and
    below the first for (0, smallest)."""
    low, high = interval
    if math.isinf(high):
        return predicted > low
    if low == 0:
        return predicted < high
    return within(math.sqrt(low * high), predicted)


def describe_miss(label: str, interval: tuple[float, float], predicted: float) -> str:
    """``label (CNN / theorykit ratio)`` for a closed bracket; for an open one, the CNN's side of
    the grid (:func:`_interval`'s words) and the prediction."""
    if _is_open(interval):
        return f"{label} (CNN {_interval(interval)}; theorykit {predicted:.3g})"
    return f"{label} ({math.sqrt(interval[0] * interval[1]) / predicted:.2f})"


def _is_open(interval: tuple[float, float]) -> bool:
    return math.isinf(interval[1]) or interval[0] == 0


@dataclasses.dataclass(frozen=True)
class Score:
    """One prediction's accuracy on the held-out settings of one support regime, counted two
    ways: over the settings with a measured bracket (``closed`` of them, ``closed_hits`` within
    :data:`ACCURACY_FACTOR` of its geometric mean), and over every setting
    (``scored``, ``hits``), the open brackets -- a grid without a transition -- scored by
    :func:`agrees`. ``unscored`` lists the settings without a finite prediction."""

    quantity: str
    supports: str
    scored: int
    hits: int
    closed: int
    closed_hits: int
    misses: tuple[str, ...]
    unscored: tuple[str, ...]

    @staticmethod
    def share(hits: int, count: int) -> str:
        return f"{hits}/{count} ({100 * hits / count:.0f}%)" if count else "n/a"

    def line(self) -> tuple[str, str, str, str, str]:
        return (
            self.quantity,
            self.supports,
            self.share(self.closed_hits, self.closed),
            self.share(self.hits, self.scored),
            "; ".join(self.misses) or "none",
        )


#: One scored entry: (label, calibration?, measured interval, predicted).
Entry = tuple[str, bool, tuple[float, float], float]


def _score(quantity: str, supports: str, entries: Sequence[Entry]) -> Score:
    held = [entry for entry in entries if not entry[1]]
    scored = [(label, i, p) for label, _, i, p in held if math.isfinite(p) and p > 0]
    misses = tuple(describe_miss(label, i, p) for label, i, p in scored if not agrees(i, p))
    unscored = tuple(label for label, _, _, p in held if not (math.isfinite(p) and p > 0))
    closed = [(i, p) for _, i, p in scored if not _is_open(i)]
    return Score(
        quantity,
        supports,
        len(scored),
        len(scored) - len(misses),
        len(closed),
        sum(agrees(i, p) for i, p in closed),
        misses,
        unscored,
    )


def accuracy(batch: Sequence[BatchRow], thresholds: Sequence[ThresholdRow]) -> list[Score]:
    """:class:`Score` s of B* (Adam, AdamW), lambda*_Adam and AdamW's collapse threshold."""
    quantities: list[tuple[str, str, Sequence[BatchRow] | Sequence[ThresholdRow]]] = [
        ("B* (adam)", "adam", batch),
        ("B* (adamw)", "adamw", batch),
        ("lambda*_Adam", "adam", thresholds),
        ("AdamW collapse threshold", "adamw", thresholds),
    ]
    scores = []
    for quantity, optimizer, rows in quantities:
        for supports in ("overlapping", "disjoint"):
            entries = [
                (r.setting.label, r.setting.calibration, r.measured_interval(), r.predicted)
                for r in rows
                if r.params.optimizer == optimizer and r.setting.supports == supports
            ]
            scores.append(_score(quantity, supports, entries))
    return [score for score in scores if score.scored or score.unscored]


def _calibration_lines(calibration: Calibration) -> list[str]:
    shipped, fitted = HiddenConstants(), calibration.constants
    rows = [
        (name, f"{getattr(fitted, name):.3g}", f"{getattr(shipped, name):.3g}")
        for name in ("batch_race", "overlap", "adamw_step")
    ]

    def spread(values: dict[str, float | None], seeds: bool) -> str:
        chosen = [v for key, v in values.items() if v is not None and ("[seed" in key) == seeds]
        if not chosen:
            return "n/a"
        chosen.sort()
        median = chosen[len(chosen) // 2]
        return f"median {median:.3g}, range {chosen[0]:.3g}-{chosen[-1]:.3g} ({len(chosen)} values)"

    return [
        "## Calibration",
        "",
        f"Fitted on: {', '.join(calibration.settings)} (marked 'calibration' below; left out of "
        "the accuracy figures). The race's constants by least squares of log B* on the measured "
        "boundaries of both optimisers; AdamW's step by matching its measured collapse threshold.",
        "",
        *markdown_table(("constant", "fitted here", "shipped in HiddenConstants"), rows),
        "",
        "Spread of the value each setting would imply on its own (the others held at the fit): "
        f"C_overlap over settings {spread(calibration.implied_overlap, False)}; over single seeds "
        f"{spread(calibration.implied_overlap, True)}; C_adamw_step over settings "
        f"{spread(_finite(calibration.implied_adamw_step), False)}.",
        "",
    ]


def _finite(values: Mapping[str, float | None]) -> dict[str, float]:
    return {k: v for k, v in values.items() if v and math.isfinite(v)}


def _batch_lines(rows: Sequence[BatchRow]) -> list[str]:
    lines = []
    for optimizer in ("adam", "adamw"):
        table = []
        for row in [r for r in rows if r.params.optimizer == optimizer]:
            errors = ", ".join(
                f"{B}: " + "/".join(f"{e:.2f}" for e in row.cnn_test_error[k])
                for k, B in enumerate(row.grid)
            )
            table.append(
                (
                    row.setting.label,
                    row.setting.supports,
                    "calibration" if row.setting.calibration else "held out",
                    row.setting.steps,
                    f"{row.predicted:.3g}",
                    _pair(row.bracket(row.reduced)) if row.reduced[0] else "not run",
                    _interval(row.measured_interval()),
                    _ratio(row.measured(), row.predicted),
                    "yes" if agrees(row.measured_interval(), row.predicted) else "NO",
                    errors,
                )
            )
        lam = rows[0].params.lam if optimizer == "adam" else 0.01
        lines += [
            f"### {optimizer}, lam = {lam:g}",
            "",
            *markdown_table(
                (
                    "setting",
                    "supports",
                    "role",
                    "horizon (iterations)",
                    "B* (theorykit)",
                    "reduced-dynamics bracket",
                    "CNN bracket",
                    "CNN / theorykit",
                    "agrees",
                    "CNN test error by B (seed 0/1)",
                ),
                table,
            ),
            "",
        ]
    return lines


def _threshold_lines(rows: Sequence[ThresholdRow]) -> list[str]:
    lines = []
    for optimizer, name in (("adam", "lambda*_Adam"), ("adamw", "collapse threshold")):
        table = [
            (
                row.setting.label,
                "calibration" if row.setting.calibration else "held out",
                f"{row.params.eta:g}",
                row.setting.steps,
                f"{row.predicted:.4g}",
                _interval(row.measured_interval()),
                _ratio(row.measured(), row.predicted),
                "yes" if agrees(row.measured_interval(), row.predicted) else "NO",
            )
            for row in rows
            if row.params.optimizer == optimizer
        ]
        lines += [
            f"### {optimizer}: {name}",
            "",
            *markdown_table(
                (
                    "setting",
                    "role",
                    "eta",
                    "horizon (iterations)",
                    f"{name} (theorykit)",
                    "CNN bracket",
                    "CNN / theorykit",
                    "agrees",
                ),
                table,
            ),
            "",
        ]
    return lines


def _time_lines(records: dict, constants: HiddenConstants) -> list[str]:
    rows = time_scale_rows(records, constants)

    def show(value: float | None) -> str:
        return "none" if value is None else f"{value:.0f}"

    table = [
        (
            r.label,
            r.optimizer,
            r.seed,
            show(r.predicted_reversal),
            f"{r.lemma_reversal:.0f}",
            show(r.measured_reversal),
            _ratio(r.measured_reversal, r.predicted_reversal),
            _ratio(r.measured_reversal, r.lemma_reversal),
            f"{r.lemma_stage1:.0f}",
            show(r.measured_stage1),
            _ratio(r.measured_stage1, r.lemma_stage1),
        )
        for r in rows
    ]
    hits = [r for r in rows if r.measured_reversal and r.predicted_reversal]
    good = sum(within(r.measured_reversal, r.predicted_reversal) for r in hits)
    bins = reliability(records, constants)
    return [
        "## Time scales at B = n/2 (iterations)",
        "",
        "T_r: the race's finite-size reversal time (theorykit.batch_race) and the lemmas' order "
        "(theorykit.time_scales) against the CNN's (dynamics.outcomes.measured_time_scales); T0: "
        f"the lemmas' order against the CNN's. T_r within 2x of the race in {good} of {len(hits)} "
        "runs that reversed.",
        "",
        *markdown_table(
            (
                "setting",
                "optimizer",
                "seed",
                "T_r (race)",
                "T_r (lemma order)",
                "T_r CNN",
                "CNN / race",
                "CNN / lemma",
                "T0 (lemma order)",
                "T0 CNN",
                "CNN / lemma",
            ),
            table,
        ),
        "",
        "## Head reversals: predicted probability vs observed frequency",
        "",
        "Every batch-boundary run (both optimisers, every B, both seeds), each of its two heads: "
        "the race's probability that the head reverses within the horizon "
        "(theorykit.batch_race.race) against the fraction of heads whose best feature coefficient "
        "ends negative.",
        "",
        *markdown_table(
            ("predicted probability", "heads", "mean prediction", "observed fraction"),
            [
                (f"[{b.low:g}, {b.high:g})", b.heads, f"{b.predicted:.2f}", f"{b.observed:.2f}")
                for b in bins
            ],
        ),
        "",
    ]


def coefficient_rows(steps: int = 1000) -> list[tuple[str, str, str, float, float]]:
    """(optimizer, supports, reduction, max gamma error, max rho error) over the first ``steps``
    steps: on disjoint supports the shared and the support-resolved reductions, on the paper's
    overlapping ones the disjoint-support model that ignores the coupling ("shared") and the
    overlap-aware one."""
    rows = []
    regimes = (
        ("disjoint", {"n": 40, "s": 20, "B": 4}, ("shared", "support-resolved")),
        ("overlapping", {"B": 16}, ("shared", "overlap-aware")),
    )
    for supports, overrides, reductions in regimes:
        for optimizer, lam in COEFFICIENT_OPTIMIZERS:
            eta = 0.05 if optimizer == "gd" else 5e-5
            p = tang2025_synthetic(
                optimizer=optimizer, lam=lam, eta=eta, bias_correction=True, **overrides
            )
            for reduction in reductions:
                check = coefficient_check(
                    RunSpec(p, supports=supports),
                    steps=steps,
                    record_every=max(1, steps // 10),
                    reduction=reduction,
                )
                rows.append(
                    (
                        optimizer,
                        supports,
                        reduction,
                        float(check.gamma_error.max()),
                        float(check.rho_error.max()),
                    )
                )
    return rows


def _coefficient_lines() -> list[str]:
    rows = coefficient_rows()
    return [
        "## Coefficient check (reduced model vs CNN, same initialisation and batches)",
        "",
        "Max relative error of the displacement from initialisation over the first 1000 steps "
        "(recorded every 100). On the paper's overlapping supports (B = 16) 'shared' is the "
        "disjoint-support model that ignores the coupling between samples, 'overlap-aware' the "
        "reduction of docs/notes/overlap.md.",
        "",
        *markdown_table(
            ("optimizer", "supports", "reduction", "gamma error", "rho error"),
            [(o, s, r, f"{g:.3g}", f"{e:.3g}") for o, s, r, g, e in rows],
        ),
        "",
    ]


def plot_predicted_vs_measured(
    batch: Sequence[BatchRow], thresholds: Sequence[ThresholdRow], path: Path
) -> None:
    """Log-log measured vs predicted for every quantity, with the 2x band; hollow: calibration
    (in-sample); the project's figure style (:mod:`validation.reports.figures.style`)."""
    plt = pyplot()
    with figure_style():
        fig, axes = plt.subplots(1, 2, figsize=(FULL_WIDTH, 3.0), layout="constrained")
        _draw_predicted_vs_measured(axes, batch, thresholds)
    save_figure(fig, path)


def _draw_predicted_vs_measured(
    axes: Sequence[Any], batch: Sequence[BatchRow], thresholds: Sequence[ThresholdRow]
) -> None:
    panels = (
        (
            axes[0],
            r"$B^*$ (batch boundary)",
            [
                (
                    r.predicted,
                    r.measured(),
                    r.setting.calibration,
                    r.params.optimizer,
                    r.setting.supports,
                )
                for r in batch
            ],
        ),
        (
            axes[1],
            r"AdamW collapse threshold ($\lambda$)",
            [
                (
                    r.predicted,
                    r.measured(),
                    r.setting.calibration,
                    r.params.optimizer,
                    r.setting.supports,
                )
                for r in thresholds
            ],
        ),
    )
    for ax, title, points in panels:
        shown = [p for p in points if p[1] is not None and math.isfinite(p[0]) and p[0] > 0]
        if not shown:
            ax.set_title(f"{title}: no measured brackets")
            continue
        values = [v for p in shown for v in p[:2]]
        low, high = min(values) / 3, max(values) * 3
        ax.plot([low, high], [low, high], color="grey", lw=0.8)
        ax.fill_between(
            [low, high],
            [low / 2, high / 2],
            [low * 2, high * 2],
            color="grey",
            alpha=0.15,
            label=r"within 2$\times$",
        )
        for optimizer, color in (("adam", OPTIMIZERS["adam"]), ("adamw", OPTIMIZERS["adamw"])):
            for supports, marker in (("overlapping", "o"), ("disjoint", "s")):
                for calibration, face in ((False, color), (True, "none")):
                    chosen = [
                        p
                        for p in shown
                        if p[3] == optimizer and p[4] == supports and p[2] == calibration
                    ]
                    if chosen:
                        ax.scatter(
                            [p[0] for p in chosen],
                            [p[1] for p in chosen],
                            marker=marker,
                            facecolors=face,
                            edgecolors=color,
                            label=(
                                f"{optimizer}, {supports}{' (calibration)' if calibration else ''}"
                            ),
                        )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(low, high)
        ax.set_ylim(low, high)
        ax.set_xlabel("predicted (theorykit)")
        ax.set_ylabel("measured (CNN, bracket geometric mean)")
        ax.set_title(title)
        ax.legend(fontsize=6)


def write_comparison(
    out_dir: Path, log: TextIO = STDERR, reduced: bool = True, coefficients: bool = True
) -> str:
    """Train or resume every CNN run, calibrate, write ``out_dir/comparison.md`` and its figures."""
    out_dir.mkdir(parents=True, exist_ok=True)
    store = out_dir / "cnn" / "results.sqlite"
    first = threshold_rows(store, log=log)
    calibration = calibrate(batch_rows(store, log=log, reduced=False), first)
    constants = calibration.constants
    batch = batch_rows(store, constants, log=log, reduced=reduced)
    thresholds = threshold_rows(store, constants, log=log)
    scores = accuracy(batch, thresholds)
    horizons = horizon_checks(store, constants, log)
    lines = [
        "# theorykit compare: finite-size predictions vs the CNN",
        "",
        *conclusion_lines(
            checks=[check for check, _ in horizons],
            notes=[
                f"{s.quantity} ({s.supports}), held out: within 2x of the CNN on "
                f"{s.share(s.closed_hits, s.closed)} of the settings with a measured bracket, "
                f"{s.share(s.hits, s.scored)} of all; misses: {'; '.join(s.misses) or 'none'}."
                for s in scores
            ]
            + [
                "The verdict counts above are the horizon check on the paper's setting, a "
                "calibration setting (in-sample)."
            ],
        ),
        "Every prediction uses the constants fitted in the calibration section on the settings "
        "marked 'calibration'; the accuracy figures count only the other settings. A CNN bracket "
        "is (largest value on the side of the first outcome, smallest value past the transition) "
        f"on the run's grid ({len(SEEDS)} seeds; batch: a B memorises when any seed does; "
        "thresholds: a lam collapses when half the seeds do; collapsed = every weight below a "
        "tenth of the largest initial one). Its geometric mean is the measured value; a "
        "prediction agrees with it within a factor 2. Where the grid shows no transition the "
        "bracket is open, (largest value, inf); a prediction agrees with it only beyond the grid "
        "(inside, it claims a transition the CNN would have shown), and such settings count in "
        "the accuracy like any other.",
        "",
        *_calibration_lines(calibration),
        "## Accuracy on the settings not used for calibration",
        "",
        *markdown_table(
            (
                "prediction",
                "supports",
                "within 2x of a measured bracket",
                "all settings (open brackets scored by side)",
                "misses (CNN / theorykit)",
            ),
            [s.line() for s in scores],
        ),
        "",
        *[
            f"- {s.quantity}, {s.supports}: no measured bracket (outside the grid) for "
            f"{', '.join(s.unscored)}."
            for s in scores
            if s.unscored
        ],
        "",
        "## Batch boundary",
        "",
        *_batch_lines(batch),
        "## Collapse thresholds (B = 16 unless stated)",
        "",
        *_threshold_lines(thresholds),
        *_time_lines(train_batch_runs(store, log=log), constants),
        *horizon_lines(horizons),
    ]
    if coefficients:
        lines += _coefficient_lines()
        example = tang2025_synthetic(B=16, optimizer="adamw", lam=0.01, bias_correction=True)
        coefficient_check(
            RunSpec(example, supports="overlapping"), steps=2000, record_every=50
        ).plot(out_dir / "coefficient_check.png")
    plot_predicted_vs_measured(batch, thresholds, out_dir / "predicted_vs_measured.png")
    text = "\n".join(lines) + "\n"
    (out_dir / "comparison.md").write_text(text)
    return text


def measured_values(rows: Sequence[BatchRow]) -> dict[str, float | None]:
    """The CNN's boundary per (optimiser, setting): for scripts that read the table."""
    return {
        f"{r.params.optimizer} {r.setting.label}": geometric_mean(r.bracket(r.cnn)) for r in rows
    }
