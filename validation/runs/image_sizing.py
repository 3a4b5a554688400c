"""Size the real-image check before training it: the seconds of one run of the small image CNN
(``validation.cnn.image_training.SmallCNN``) on this machine's CPU (torch-free: ``theorykit images
--dry-run`` and the command's ETA use it).

A run's time is ``RUN_SECONDS`` (building the model and optimiser, storing the row) plus its
epochs, each ``ceil(n/B)`` optimiser steps over the ``n`` training images (the last batch smaller),
a step of ``b`` images costing ``STEP_SECONDS + STEP_PER_MAC x b x forward_macs``, plus its error
evaluations, each one forward pass over a whole image set (``EVALUATION_PER_MAC x images x
forward_macs``): one on the test set, and one on the training set per evaluated epoch
(:meth:`validation.experiments.image_runs.ImageRun.train_evaluations`).
:meth:`ImageShape.forward_macs` counts the multiply-accumulates of the CNN's two convolutions on
one image, so the image size and channels enter through it.

The command adds ``COMMAND_SECONDS`` to its runs.

The constants were measured on this project's 2-core AMD EPYC, idle, with torch's default two
threads, by timing the training loop's own functions (``validation.cnn.image_training._train_epoch``
and ``_error``, Adam): at least 300 steps (2 s) at each B of 4, 16, 64, 256 and 1024 on the digits
(1 x 8 x 8, 1078 training images) and at least 60 steps at each B of 4, 16, 64 and 256 on random
3 x 32 x 32 images (CIFAR-10's shape, 2048 of them), and evaluations of both sets; three interleaved
repeats, the fastest kept. The fastest step times are 0.85-0.98 times the model's on the digits and
0.65-0.91 times on the CIFAR-shaped images (the model sits above the fastest repeat: whole runs are
slower); whole ``train_image_cnn`` runs on the digits (B = 16 for 30 epochs; B = 4, 256 and 1024 to
a 4000-step budget) took 0.95-1.12 times the model's. A digits evaluation took 0.5-0.65 times the
model's, a CIFAR-shaped one 1.1 times. Checked against ``theorykit images`` on the idle machine: the
default digits job took 8.4 min (estimate 8.4 min; runs that used their whole step budget took
1.0-1.3 times their estimate, those that reached the target train error early less). On CUDA the
estimate is still the CPU's (the dry run says so: GPU steps were not measured); on another CPU the
constants scale only roughly.
"""

from __future__ import annotations

import dataclasses

#: Seconds of one optimiser step besides its arithmetic: torch's per-operation overhead of the
#: forward pass, the backward pass and Adam's update (a B = 4 digits step is almost all of it:
#: 1.01 ms measured).
STEP_SECONDS = 1.0e-3
#: Seconds per multiply-accumulate of the forward pass on one image of a step (forward, backward
#: and update together): the slope of the step times in B x forward_macs (digits 0.94e-10,
#: CIFAR-shaped 1.23e-10).
STEP_PER_MAC = 1.1e-10
#: Seconds per multiply-accumulate of the forward pass on one image of an error evaluation (digits
#: 0.5e-10 - 0.65e-10 at their fastest, 0.9e-10 - 1.0e-10 in a first idle pass; CIFAR-shaped
#: 1.1e-10).
EVALUATION_PER_MAC = 1.0e-10
#: Seconds per run besides its epochs and evaluations: the model, the optimiser, the stored row
#: (a one-epoch run at B = 1024 took 25 ms, the model's epochs and evaluations 27 ms).
RUN_SECONDS = 5e-3
#: Seconds of the command besides its runs: starting Python and torch, loading the digits, writing
#: the report and its figures (``theorykit images`` rerun with every run stored: 5.9 s).
COMMAND_SECONDS = 6.0
#: Filters of the CNN's two 3 x 3 convolutions (``SmallCNN``: C -> 16 -> 32).
CONV_FILTERS = (16, 32)


@dataclasses.dataclass(frozen=True)
class ImageShape:
    """What a run's time depends on in its data: the training and test image counts and one image's
    channels, height and width."""

    train: int
    test: int
    channels: int
    height: int
    width: int

    def forward_macs(self) -> int:
        """Multiply-accumulates of the CNN's forward pass on one image: a 3 x 3 convolution
        C -> 16 at H x W, then one 16 -> 32 at the max-pooled H/2 x W/2 (the pooling and the
        linear head are negligible next to them)."""
        first, second = CONV_FILTERS
        pooled = (self.height // 2) * (self.width // 2)
        return 9 * first * (self.channels * self.height * self.width + second * pooled)


def step_seconds(images: int, shape: ImageShape) -> float:
    """Estimated seconds of one optimiser step on a batch of ``images`` images."""
    return STEP_SECONDS + STEP_PER_MAC * images * shape.forward_macs()


def epoch_seconds(B: int, shape: ImageShape) -> float:
    """Estimated seconds of one epoch at batch size ``B``: the full batches and the smaller last
    one, when B does not divide the training set."""
    full, rest = divmod(shape.train, B)
    return full * step_seconds(B, shape) + (step_seconds(rest, shape) if rest else 0.0)


def evaluation_seconds(images: int, shape: ImageShape) -> float:
    """Estimated seconds of one error evaluation over ``images`` images."""
    return EVALUATION_PER_MAC * images * shape.forward_macs()


def run_seconds(B: int, epochs: int, train_evaluations: int, shape: ImageShape) -> float:
    """Estimated seconds of one run: ``epochs`` epochs at batch size ``B``, ``train_evaluations``
    evaluations on the training set and one on the test set, and the per-run cost."""
    return (
        RUN_SECONDS
        + epochs * epoch_seconds(B, shape)
        + train_evaluations * evaluation_seconds(shape.train, shape)
        + evaluation_seconds(shape.test, shape)
    )
