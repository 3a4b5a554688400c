"""One setting, three realisations, one call: the theory, the reduced prediction and the CNN.

:func:`compare_setting` takes a :class:`theorykit.params.ProblemParams` (plus seeds and the data
options of :mod:`validation.runs.spec`) and returns a :class:`SettingComparison` holding

* ``theory`` -- :func:`theorykit.summary.bounds_summary` at the setting: the lambda thresholds,
  the asymptotic regimes and theorem verdict, and the finite-size predictions with their verdict
  (:mod:`theorykit.finite_size`);
* ``runs`` -- per seed, the CNN trained in memory (:func:`validation.cnn.engine.train`) and the
  reduced dynamics' prediction from the same initialisation and batches
  (:mod:`validation.experiments.prediction`), paired as
  :class:`validation.reports.agreement.RunAgreement`.

It reads as ``.table()`` (a pandas DataFrame, one row per seed), ``.plot()`` (a matplotlib
Figure: measured and predicted trajectories on the same axes) and ``.agrees()`` (every seed agrees
on every criterion of the agreement test, :mod:`validation.reports.agreement`). Nothing is stored;
for runs worth keeping use ``theorykit sweep``.
"""

from __future__ import annotations

import dataclasses
import numbers
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from dynamics.problem import best_reduction
from theorykit.errors import ParameterError
from theorykit.params import ProblemParams
from theorykit.summary import BoundsSummary, bounds_summary
from validation.cnn.engine import train
from validation.experiments.prediction import predict
from validation.progress import STDERR, epoch_progress
from validation.reports.agreement import RunAgreement
from validation.reports.figures import trajectory_figure
from validation.runs.records import RunRecord, run_key
from validation.runs.spec import EngineOptions, Labels, RunSpec, Supports, check_data_options
from validation.sweeps.grid import check_seeds

#: Records per run when :func:`compare_setting` chooses the engine options.
DEFAULT_RECORDS = 40


@dataclasses.dataclass(frozen=True)
class SettingComparison:
    """The output of :func:`compare_setting` (see the module docstring)."""

    params: ProblemParams
    theory: BoundsSummary
    runs: tuple[RunAgreement, ...]

    def table(self) -> Any:
        """A pandas DataFrame, one row per seed: the outcomes (CNN, predicted, finite-size
        verdict) and whether the CNN's and the prediction's agree, the trajectory error, then
        ``measured`` / ``predicted`` / ``ratio`` (predicted over measured) columns for the final
        values of :data:`validation.reports.agreement.FINAL_METRICS` and for T0 and T_r
        (iterations), as float64 (NaN where a time was not reached)."""
        import pandas as pd

        verdict = self.theory.finite_size.verdict
        rows = []
        for run in self.runs:
            row: dict[str, Any] = {
                "seed": run.record.data_seed,
                "reduction": run.reduction,
                "cnn_outcome": run.measured_outcome,
                "predicted_outcome": run.predicted_outcome,
                "finite_size_verdict": None if verdict is None else verdict.outcome,
                "outcome_agrees": run.outcome_agrees,
                "agrees": run.agrees(),
                "trajectory_error": run.trajectory_error,
            }
            for quantity, measured, predicted, ratio in run.rows():
                name = quantity.removeprefix("final ").split(" ")[0]
                row |= {
                    f"{name}_measured": measured,
                    f"{name}_predicted": predicted,
                    f"{name}_ratio": ratio,
                }
            rows.append(row)
        frame = pd.DataFrame(rows)
        numeric = [c for c in frame if c.endswith(("_measured", "_predicted", "_ratio"))]
        return frame.astype(dict.fromkeys([*numeric, "trajectory_error"], "float64"))

    def plot(self) -> Any:
        """Measured (seed mean +- sd) and predicted (dashed) trajectories: a matplotlib Figure
        (:func:`validation.reports.figures.trajectory_figure`)."""
        p = self.params
        title = f"{p.optimizer}, B = {p.B}, lam = {p.lam:g}, eta = {p.eta:g}"
        return trajectory_figure(
            [run.record for run in self.runs],
            title,
            {run.record.key: run.predicted for run in self.runs},
        )

    def agrees(self, trajectory_tolerance: float | None = None) -> bool:
        """True when every seed's prediction agrees with its CNN run on every criterion of
        :meth:`validation.reports.agreement.RunAgreement.criteria` (outcome class, head signs,
        trajectory error within its bound -- ``trajectory_tolerance`` replaces the bound --, T0 /
        T_r, test
        error); False without runs."""
        return bool(self.runs) and all(run.agrees(trajectory_tolerance) for run in self.runs)


_SEEDS_RULE = "a sequence of seeds, e.g. (0, 1)"


def _check_seeds(seeds: Any) -> tuple[int, ...]:
    """``seeds`` as a tuple of Python ints: a non-empty iterable (not a str or bytes) of distinct
    integers in [0, 2^32) -- Python or numpy integers, no bool, float or str -- else a
    :class:`ParameterError` ``seeds``."""
    if isinstance(seeds, str | bytes | numbers.Number) or not isinstance(seeds, Iterable):
        raise ParameterError("seeds", seeds, _SEEDS_RULE)
    given = tuple(seeds)
    if not given:
        raise ParameterError("seeds", list(given), f"at least one seed ({_SEEDS_RULE})")
    for seed in given:
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
            raise ParameterError("seeds", seed, "integers (a seed is an int, e.g. 0)")
    checked = tuple(int(seed) for seed in given)
    check_seeds(checked)
    return checked


def _bars(
    label: str, seeds: Sequence[int], shown: bool
) -> Callable[[Sequence[int]], Callable[[int, int], None]] | None:
    """Per group of seeds (indices into ``seeds``), the epoch bar of :func:`epoch_progress`."""
    if not shown:
        return None

    def bar(indices: Sequence[int]) -> Callable[[int, int], None]:
        chosen = ", ".join(str(seeds[i]) for i in indices)
        return epoch_progress(f"{label}, seed {chosen}", STDERR)

    return bar


def compare_setting(
    params: ProblemParams,
    seeds: Iterable[int] = (0,),
    supports: Supports = "overlapping",
    labels: Labels = "balanced",
    options: EngineOptions | None = None,
    progress: bool = True,
) -> SettingComparison:
    """Train ``params`` as the CNN for every seed (data and initialisation seed alike), predict
    each run with the reduced dynamics and evaluate the theory (see the module docstring).

    ``options`` defaults to float64 on the CPU-or-CUDA device the engine picks, recording
    ``DEFAULT_RECORDS`` times over ``params.epochs``, 2000 test points. ``progress`` draws a bar
    per group of seeds for the training and for the prediction (:mod:`validation.progress`: on a
    terminal or in a notebook; ``TQDM_DISABLE=1`` or ``progress=False`` silences it).

    Every argument is checked before anything trains, a bad one raising :class:`ParameterError`
    (parameter, value, rule): ``params`` a ProblemParams, ``seeds`` a non-empty iterable of
    distinct integers in [0, 2^32) (numpy integers count, bools do not), the data options legal
    for the setting, ``options`` an EngineOptions or None."""
    if not isinstance(params, ProblemParams):
        raise ParameterError(
            "params",
            params,
            "a theorykit.params.ProblemParams (e.g. theorykit.tang2025_synthetic(B=20))",
        )
    seeds = _check_seeds(seeds)
    check_data_options(params.n, params.d, params.s, supports, labels)
    if options is not None and not isinstance(options, EngineOptions):
        raise ParameterError(
            "options", options, "a validation.EngineOptions or None (the default options)"
        )
    options = options or EngineOptions(
        record_every=max(1, params.epochs // DEFAULT_RECORDS), test_size=2000
    )
    specs = [RunSpec(params, seed, seed, supports, labels, name=f"seed {seed}") for seed in seeds]
    theory = bounds_summary(params)
    measured = train(specs, options, on_group=_bars("CNN", seeds, progress))
    predicted = predict(specs, options, on_group=_bars("reduced dynamics", seeds, progress))
    reduction = best_reduction(supports)
    runs = tuple(
        RunAgreement(RunRecord.of(run_key(spec, options), spec, trajectory), guess, reduction)
        for spec, trajectory, guess in zip(specs, measured, predicted, strict=True)
    )
    return SettingComparison(params, theory, runs)
