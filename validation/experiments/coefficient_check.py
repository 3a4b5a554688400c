"""Coefficient check: the reduced dynamics against the real CNN, from the same data, initialisation
and batches.

In the spirit of mup's coordinate check, one setting is trained twice, step by step, on identical
minibatches: as the CNN (:class:`validation.cnn.ensemble.Ensemble`) and as the reduced dynamics
(:class:`dynamics.reduced.ReducedDynamics`) whose data and initial coefficients are read off that
CNN (:func:`validation.cnn.readout.reduced_problem_of`).

Every ``record_every`` steps it compares gamma_{j,r} = j w_{j,r}[1] (2 m values) and rho_{j,r,i} =
<w_{j,r}, xi_i> (2 m n values). The error measure is on the *displacements* from initialisation,
which start equal by construction: ||Delta_reduced - Delta_cnn||_2 / ||Delta_cnn||_2 over all
entries, per quantity. For disjoint supports and GD, SignSGDW or SignSGD with lam = 0 the
shared-displacement reduction is exact (:mod:`dynamics.reduced`), so the errors are round-off;
Adam/AdamW/SignSGD with L2 show how far the shared displacement is from the network. The
support-resolved reduction is exact on disjoint supports for every optimiser; overlapping supports
(samples sharing coordinates, which both reductions treat as separate) show the cost of ignoring
that coupling.

The "Coefficient check" section of ``theorykit compare`` (:func:`coefficient_lines`) runs it on
:data:`COEFFICIENT_OPTIMIZERS` over both support regimes; :func:`plot_example_check` draws its
figure.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import numpy.typing as npt

from dynamics.problem import Reduction, best_reduction
from dynamics.reduced import ReducedDynamics
from theorykit.errors import ParameterError
from theorykit.params import tang2025_synthetic
from validation.cnn.ensemble import build_ensemble
from validation.cnn.readout import coefficients, reduced_problem_of
from validation.reports.figures import (
    FULL_WIDTH,
    MEASURED,
    QUANTITIES,
    figure_style,
    pyplot,
    save_figure,
)
from validation.reports.tables import markdown_table
from validation.runs.spec import EngineOptions, RunSpec

Array = npt.NDArray[np.float64]
#: The (optimizer, lam) of the coefficient check of ``theorykit compare``, each run with today's
#: reductions on both support regimes; "shared" on overlapping supports is the disjoint-support
#: model that ignores the coupling, the reference the overlap-aware reduction improves on.
COEFFICIENT_OPTIMIZERS = (
    ("signsgdw", 0.01),
    ("signsgd", 1e-5),
    ("adamw", 0.01),
    ("adam", 1e-5),
    ("gd", 0.01),
)


@dataclasses.dataclass(frozen=True)
class CoefficientCheck:
    """Relative displacement errors of gamma and rho at each recorded step (equal-length arrays)."""

    spec: RunSpec
    step: npt.NDArray[np.int64]
    gamma_error: Array
    rho_error: Array
    gamma_cnn: Array  # (K, 2, m)
    gamma_reduced: Array

    def table(self) -> str:
        """A markdown table of the errors per recorded step."""
        rows = [
            (s, f"{g:.3g}", f"{r:.3g}")
            for s, g, r in zip(self.step, self.gamma_error, self.rho_error, strict=True)
        ]
        return "\n".join(markdown_table(("step", "gamma rel. error", "rho rel. error"), rows))

    def plot(self, path: Path) -> None:
        """Left: gamma_{j,r}(t) of the CNN (solid) and the reduced model (dashed), head +1 in
        feature +1's colour and head -1 in feature -1's; right: the two relative errors. The
        project's figure style (:mod:`validation.reports.figures.style`)."""
        plt = pyplot()
        with figure_style():
            fig, (left, right) = plt.subplots(1, 2, figsize=(FULL_WIDTH, 2.6), layout="constrained")
            for j, metric in ((0, "feature_pos"), (1, "feature_neg")):
                colour = QUANTITIES[metric].colour
                left.plot(self.step, self.gamma_cnn[:, j, :], color=colour, lw=0.7, **MEASURED)
                left.plot(self.step, self.gamma_reduced[:, j, :], color=colour, lw=0.7, ls="--")
            left.set_title(r"$\gamma_{j,r}(t)$: CNN solid, reduced dynamics dashed")
            left.set_xlabel("iteration $t$")
            right.semilogy(self.step[1:], self.gamma_error[1:], color="0.2", label=r"$\gamma$")
            right.semilogy(
                self.step[1:],
                self.rho_error[1:],
                color=QUANTITIES["noise_max"].colour,
                label=r"$\rho$",
            )
            right.set_xlabel("iteration $t$")
            right.set_title("relative error of the displacement from initialisation")
            right.legend()
            fig.suptitle(
                f"coefficient check: {self.spec.params.optimizer}, $B$ = {self.spec.params.B}, "
                f"$\\lambda$ = {self.spec.params.lam:g}, {self.spec.supports} supports"
            )
        save_figure(fig, path)


def _relative(reduced: Array, cnn: Array, reduced0: Array, cnn0: Array) -> float:
    displacement = np.linalg.norm(cnn - cnn0)
    return (
        float(np.linalg.norm((reduced - reduced0) - (cnn - cnn0)) / displacement)
        if displacement > 0
        else 0.0
    )


def coefficient_check(
    spec: RunSpec, steps: int, record_every: int = 10, reduction: Reduction | None = None
) -> CoefficientCheck:
    """Train ``spec`` as the CNN and as the reduced dynamics on the same batches for ``steps``
    steps.

    ``reduction`` (:data:`dynamics.problem.Reduction`) picks the reduced model; the default is the
    most faithful one for the spec's supports (:func:`dynamics.problem.best_reduction`).
    """
    if steps < 1 or record_every < 1:
        raise ParameterError("steps", (steps, record_every), "steps >= 1 and record_every >= 1")
    ensemble = build_ensemble([spec], EngineOptions(dtype="float64", device="cpu"), with_test=False)
    reduced = ReducedDynamics.start(
        reduced_problem_of(ensemble, reduction or best_reduction(spec.supports))
    )
    gamma0, rho0 = coefficients(ensemble)
    recorded_steps, gamma_errors, rho_errors, gammas_cnn, gammas_reduced = (
        [0],
        [0.0],
        [0.0],
        [gamma0[0]],
        [gamma0[0]],
    )
    step, epoch = 0, 0
    while step < steps:
        epoch += 1
        for idx in ensemble.epoch_batches(epoch):
            ensemble.step(idx)
            reduced.step(idx.cpu().numpy())
            step += 1
            if step % record_every == 0 or step == steps:
                gamma, rho = coefficients(ensemble)
                gamma_errors.append(_relative(reduced.gamma, gamma, gamma0, gamma0))
                rho_errors.append(_relative(reduced.rho(), rho, rho0, rho0))
                gammas_cnn.append(gamma[0])
                gammas_reduced.append(reduced.gamma[0].copy())
                recorded_steps.append(step)
            if step == steps:
                break
    return CoefficientCheck(
        spec,
        np.asarray(recorded_steps),
        np.asarray(gamma_errors),
        np.asarray(rho_errors),
        np.stack(gammas_cnn),
        np.stack(gammas_reduced),
    )


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


def coefficient_lines() -> list[str]:
    """The "Coefficient check" section of ``theorykit compare``: :func:`coefficient_rows` over the
    first 1000 steps."""
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


def plot_example_check(path: Path) -> None:
    """The coefficient-check figure of ``theorykit compare``: AdamW (lam = 0.01) on the paper's
    overlapping supports at B = 16, 2000 steps recorded every 50 (:meth:`CoefficientCheck.plot`)."""
    example = tang2025_synthetic(B=16, optimizer="adamw", lam=0.01, bias_correction=True)
    coefficient_check(RunSpec(example, supports="overlapping"), steps=2000, record_every=50).plot(
        path
    )
