"""What the real-image check trains (:mod:`validation.experiments.image_experiment`): its runs
and its two sweeps, and each run's planned work -- torch-free, so ``theorykit images --dry-run``
sizes a job without loading torch.

* :class:`ImageRun` -- one training run of the small CNN, keyed in the results store;
* :class:`ImageSweep` -- the batch-size sweep (Tang et al. Fig. 1: every B trained to a target
  train error or a step budget, once per learning rate of App. D.1's grid) and the weight-decay
  sweep (Fig. 2: a small batch, a fixed number of epochs), each for every seed.
"""

from __future__ import annotations

import dataclasses

from theorykit.errors import ParameterError

#: The results store of an image experiment, inside its output directory.
STORE_NAME = "results.sqlite"


@dataclasses.dataclass(frozen=True)
class ImageRun:
    """One training run: optimiser ("adam" or "adamw"), weight decay, batch size, learning rate,
    epochs, seed."""

    optimizer: str
    lam: float
    B: int
    lr: float
    epochs: int
    seed: int = 0
    target_train_error: float | None = None
    max_steps: int | None = None

    def __post_init__(self) -> None:
        if self.optimizer not in ("adam", "adamw"):
            raise ParameterError(
                "optimizer", self.optimizer, "'adam' or 'adamw' for the image experiment"
            )
        if self.B < 1 or self.epochs < 1 or not self.lr > 0 or self.lam < 0:
            raise ParameterError(
                "run", dataclasses.asdict(self), "B >= 1, epochs >= 1, lr > 0, lam >= 0"
            )
        if (self.target_train_error is None) != (self.max_steps is None):
            raise ParameterError(
                "run", dataclasses.asdict(self), "target_train_error and max_steps together"
            )

    def key(self) -> str:
        budget = (
            f"epochs={self.epochs}"
            if self.target_train_error is None
            else f"until train error <= {self.target_train_error:g} or {self.max_steps} steps"
        )
        return (
            f"{self.optimizer} lam={self.lam:g} B={self.B} lr={self.lr:g} {budget} seed={self.seed}"
        )

    def epoch_steps(self, train_images: int) -> int:
        """Optimiser steps of one epoch over ``train_images`` images (the last batch smaller)."""
        return -(-train_images // self.B)

    def planned_epochs(self, train_images: int) -> int:
        """Epochs the run trains at most: ``epochs``, or with a target train error, the epochs
        that reach ``max_steps`` (it stops earlier at the first epoch that reaches the target)."""
        if self.max_steps is None:
            return self.epochs
        return -(-self.max_steps // self.epoch_steps(train_images))

    def planned_steps(self, train_images: int) -> int:
        """Optimiser steps the run takes at most (:meth:`planned_epochs` whole epochs)."""
        return self.planned_epochs(train_images) * self.epoch_steps(train_images)

    def train_evaluations(self, train_images: int) -> int:
        """Error evaluations on the training set at most: the final one, and with a target, one
        after every epoch but the one that exhausts the step budget."""
        if self.max_steps is None:
            return 1
        return self.planned_epochs(train_images)


@dataclasses.dataclass(frozen=True)
class ImageSweep:
    """The two sweeps of one experiment (defaults: CPU minutes on the digits), each for every seed
    of ``seeds``."""

    batch_sizes: tuple[int, ...] = (4, 16, 64, 256, 1024)
    batch_sweep_lams: tuple[tuple[str, float], ...] = (("adam", 5e-4), ("adamw", 1e-2))
    learning_rates: tuple[float, ...] = (5e-4, 1e-4, 1e-5)
    target_train_error: float = 0.01
    max_steps: int = 4000
    adam_lams: tuple[float, ...] = (1e-5, 1e-4, 1e-3, 1e-2, 5e-2, 1e-1)
    adamw_lams: tuple[float, ...] = (1e-4, 1e-3, 1e-2, 1e-1, 5e-1)
    lam_sweep_batch: int = 16
    lr: float = 1e-3
    epochs: int = 30
    seeds: tuple[int, ...] = (0,)

    def batch_runs(self, optimizer: str, lam: float, B: int) -> list[ImageRun]:
        """The runs of one (optimiser, lam, B) of the batch sweep: one per learning rate and
        seed."""
        return [
            ImageRun(optimizer, lam, B, lr, 1, seed, self.target_train_error, self.max_steps)
            for lr in self.learning_rates
            for seed in self.seeds
        ]

    def batch_sweep_runs(self) -> list[ImageRun]:
        """Every run of the batch-size sweep (Fig. 1), without repeats."""
        return list(
            dict.fromkeys(
                run
                for opt, lam in self.batch_sweep_lams
                for B in self.batch_sizes
                for run in self.batch_runs(opt, lam, B)
            )
        )

    def lam_sweep_runs(self) -> list[ImageRun]:
        """Every run of the weight-decay sweep (Fig. 2), without repeats."""
        return list(
            dict.fromkeys(
                ImageRun(opt, lam, self.lam_sweep_batch, self.lr, self.epochs, seed)
                for opt, grid in (("adam", self.adam_lams), ("adamw", self.adamw_lams))
                for lam in grid
                for seed in self.seeds
            )
        )

    def check_batch_sizes(self, train_images: int) -> None:
        """Refuse, before anything trains, a batch size larger than the training set."""
        too_large = [B for B in self.batch_sizes if train_images < B]
        if too_large:
            raise ParameterError(
                "batch_sizes", too_large, f"B <= the {train_images} training images"
            )

    def runs(self) -> list[ImageRun]:
        """Every run of the experiment: the batch-size sweep's, then the weight-decay sweep's."""
        return self.batch_sweep_runs() + self.lam_sweep_runs()


#: The experiment as ``theorykit images`` runs it without size flags.
DEFAULT_SWEEP = ImageSweep()
