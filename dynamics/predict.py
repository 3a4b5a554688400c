"""Predictions from the reduced dynamics: outcome of a run, Adam/AdamW stuck thresholds, (B, lam) phase diagrams.

The outcome labels follow the paper's three regimes: Cor 4.3 ("stuck": training does not fit,
final train error >= :data:`STUCK_TRAIN_ERROR`), Thms 4.1/4.4 ("memorises noise": the fitted model
generalises badly, test error >= :data:`FAILED_TEST_ERROR`) and Thms 4.2/4.5 ("learns feature").
``validation`` applies the same rule to the CNN, so predicted and measured labels compare directly.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from dynamics.mean_field import run_mean_field
from dynamics.problem import sample_reduced_problem
from dynamics.reduced import simulate
from theorykit.errors import ParameterError
from theorykit.params import ProblemParams

Array = npt.NDArray[np.float64]

#: Final train error at or above which a run counts as not trained (chance is 0.5).
STUCK_TRAIN_ERROR = 0.1
#: Final test error at or above which a fitted run counts as failing to generalise: half way between
#: the mini-batch theorems' o(1) and the large-batch theorems' >= 1/2 - o(1).
FAILED_TEST_ERROR = 0.25
OUTCOMES = ("learns feature", "memorises noise", "stuck")


def bracket(lams: Sequence[float], stuck: Sequence[bool]) -> tuple[float, float] | None:
    """(largest lam that trains, next lam, stuck) on an ascending grid, or None without such a transition."""
    for k in range(len(lams) - 1):
        if not stuck[k] and stuck[k + 1]:
            return lams[k], lams[k + 1]
    return None


def classify(final: dict[str, float]) -> str:
    """One of :data:`OUTCOMES` from a run's final train and test error."""
    if final["train_error"] >= STUCK_TRAIN_ERROR:
        return "stuck"
    return "memorises noise" if final["test_error"] >= FAILED_TEST_ERROR else "learns feature"


def predict_final(params: ProblemParams, seed: int = 0, record_every: int | None = None) -> dict[str, float]:
    """Final metrics of the exact reduced dynamics (:func:`dynamics.reduced.simulate`) over ``params.epochs``."""
    (trajectory,) = simulate(sample_reduced_problem([params], [seed]), seed=seed,
                             record_every=record_every or params.epochs)
    return trajectory.final()


@dataclasses.dataclass(frozen=True)
class PhaseDiagram:
    """Mean-field predictions on a (B, lam) grid: arrays of shape (len(batch_sizes), len(lams))."""

    base: ProblemParams
    batch_sizes: tuple[int, ...]
    lams: tuple[float, ...]
    steps: int
    train_error: Array
    test_error: Array
    feature: Array  # max over heads of max_r gamma_{j,r}

    def outcomes(self) -> npt.NDArray[np.str_]:
        return np.vectorize(lambda train, test: classify({"train_error": train, "test_error": test}))(
            self.train_error, self.test_error)

    def plot(self, path: Path, thresholds: dict[str, float] | None = None) -> None:
        """Test error over (lam, B) as an image with the stuck boundary; the given lam thresholds that fall
        inside the grid are drawn as vertical lines."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6.5, 4.5))
        image = ax.pcolormesh(self.lams, self.batch_sizes, self.test_error, shading="nearest", vmin=0, vmax=1, cmap="magma")
        stuck = self.train_error >= STUCK_TRAIN_ERROR
        ax.contour(self.lams, self.batch_sizes, stuck.astype(float), levels=[0.5], colors="cyan", linewidths=1)
        for name, value in (thresholds or {}).items():
            if not self.lams[0] <= value <= self.lams[-1]:
                continue
            ax.axvline(value, color="white", ls="--", lw=0.8)
            ax.text(value, self.batch_sizes[-1], name, color="white", fontsize=6, rotation=90, va="top")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("lam")
        ax.set_ylabel("B")
        ax.set_title(f"{self.base.optimizer}: predicted test error after {self.steps} steps (cyan: stuck boundary)",
                     fontsize=9)
        fig.colorbar(image, ax=ax, label="test error")
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        plt.close(fig)


def phase_diagram(base: ProblemParams, batch_sizes: Sequence[int], lams: Sequence[float], *, steps: int,
                  samples: int = 64, seed: int = 0, chunk: int = 20) -> PhaseDiagram:
    """Run the mean-field dynamics (:mod:`dynamics.mean_field`) for every (B, lam), ``steps`` steps.

    ``samples`` representatives per setting (64 reproduces the exact dynamics' large-batch reversal on
    the paper's setting; fewer under-sample the top of the initial rho distribution, which drives it).
    Settings run ``chunk`` at a time: arrays small enough to stay in cache are faster per setting than
    one large array (measured on 2 cores: 20 per chunk is ~1.6x faster than 400 at once). Every
    setting gets the same data seed, so cells differ only by (B, lam).
    """
    if not batch_sizes or not lams:
        raise ParameterError("grid", (len(batch_sizes), len(lams)), "at least one batch size and one lam")
    if chunk < 1:
        raise ParameterError("chunk", chunk, "chunk >= 1")
    settings = [base.replace(B=int(B), lam=float(lam)) for B in batch_sizes for lam in lams]
    parts = []
    for start in range(0, len(settings), chunk):
        part = settings[start:start + chunk]
        problem = sample_reduced_problem(part, [seed] * len(part), samples=min(samples, base.n))
        parts.append(run_mean_field(problem, steps, seed).measure(np.random.default_rng(seed + 1)))
    final = {name: np.concatenate([part[name] for part in parts]) for name in parts[0]}
    shape = (len(batch_sizes), len(lams))
    return PhaseDiagram(base, tuple(int(B) for B in batch_sizes), tuple(float(lam) for lam in lams), steps,
                        final["train_error"].reshape(shape), final["test_error"].reshape(shape),
                        np.maximum(final["feature_pos"], final["feature_neg"]).reshape(shape))


def stuck_threshold(base: ProblemParams, lams: Sequence[float], *, steps: int, samples: int = 64,
                    seed: int = 0) -> tuple[float, float] | None:
    """(largest lam that trains, smallest lam above it that is stuck) on the ``lams`` grid at ``base.B``,
    from the mean-field dynamics after ``steps`` steps; None if the grid shows no transition."""
    diagram = phase_diagram(base, [base.B], sorted(lams), steps=steps, samples=samples, seed=seed)
    return bracket(diagram.lams, list(diagram.train_error[0] >= STUCK_TRAIN_ERROR))
