"""Named experiments: the paper's synthetic protocol and a CPU-sized version of it.

* ``tang2025-table`` -- Tang et al. 2025, App. D.2, Tables 1-2 and Figs 5-6: d = 1000, n = 200, s =
  100, sigma_p = 0.1, alpha = 0.2, m = 20, sigma0 = 0.01, q = 3, eta = 5e-5, (0.9, 0.999), 10^4
  epochs; Adam lam = 1e-5 and AdamW lam = 0.01 at B in {100, 2}, Adam lam = 0.05 and AdamW lam = 0.5
  at B = 2; 5 seeds (a B = 2 run is 10^6 steps: ~8 min on 2 CPU cores in float32 with the fused
  kernel, benchmarks/results/tang2025_table.md).
* ``quick`` -- the same six settings, one seed, the paper's eta = 5e-5, and a shorter horizon: 4000
  epochs at B = 100 and 400 epochs at B = 2 (in the reproduction of notes §6.4 the test error is 0
  at B = 2 from epoch 500 and the feature has reversed at B = 100 by epoch 1000). Minutes on two
  CPU cores. A larger eta is not a shortcut: beta2 = 0.999 averages over ~1000 steps, in which the
  weights then move further, and large-batch Adam stops reversing the feature within the horizon.

* ``lambda-sensitivity`` -- test error vs lam at B = 2 (the paper's Fig. 2 on the synthetic
  problem): Adam on a sqrt(2)-spaced grid around the finite-size stuck threshold lambda*_Adam =
  0.013 (plus 1e-5 and 1e-3), AdamW from 1e-3 to 100 (lambda*_AdamW = 54); 300 epochs, one seed. The
  report draws theorykit's thresholds on the plot and prints the measured stuck threshold next to
  the predicted one.

* ``zou2023`` -- Zou et al. 2023 on the same data and CNN: full-batch (B = n = 200) Adam (eta =
  5e-5) and GD (eta = 0.5), both lam = 1e-5, from the *same* initialisation and data, 10^4 steps;
  the sanity run of Zou notes §6.3 has Adam at test error 0.88 with the feature reversed and GD at 0
  with the feature at 2.33. GD's prediction is theorykit's n SNR^q race
  (``bounds.GD_LEARNS_FEATURE``).

All use torch-style Adam (bias correction on, eps = 1e-8) and reshuffled epochs, as in the
reproduction of notes §6.4. Each preset lists the outcomes the paper reports, as
:class:`Expectation` rows that the report checks and prints.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from theorykit.outcome_labels import STUCK
from theorykit.params import tang2025_synthetic
from validation.experiments.settings import PAPER_SETTINGS
from validation.runs.spec import EngineOptions, RunSpec

#: The claim thresholds of the paper: Thms 4.1/4.4 claim test error >= 1/2 - o(1) at large batch
#: (read at 1/2, as the paper's Tables 1-2 compare); Thms 4.2/4.5 claim o(1), read as <= 0.05.
LARGE_BATCH_TEST_ERROR = 0.5
MINI_BATCH_TEST_ERROR = 0.05


@dataclasses.dataclass(frozen=True)
class Expectation:
    """A claim about the runs named ``run`` (all seeds): final ``metric`` ``relation`` ``value``
    (relation ">=" or "<="), or, for ``metric="outcome"`` and relation "is", the outcome class
    of :func:`dynamics.outcomes.outcome` (e.g. "stuck": the collapse rule, which a run whose
    weights died decides where its train error, set by round-off-level weights, cannot).
    ``source`` names the paper's empirical result (table or figure) the claim reproduces."""

    run: str
    metric: str
    relation: str
    value: float | str
    source: str

    def holds(self, observed: float | str) -> bool:
        if self.relation == "is":
            return observed == self.value
        if isinstance(observed, str) or isinstance(self.value, str):
            return False
        return observed >= self.value if self.relation == ">=" else observed <= self.value

    def text(self) -> str:
        """``"adam lam=1e-05 B=100: test_error >= 0.5"``."""
        value = self.value if isinstance(self.value, str) else f"{self.value:g}"
        return f"{self.run}: {self.metric} {self.relation} {value}"


@dataclasses.dataclass(frozen=True)
class Preset:
    name: str
    description: str
    specs: tuple[RunSpec, ...]
    options: EngineOptions
    expectations: tuple[Expectation, ...]
    #: Add Zou et al. 2023's convex counterpart (dynamics.convex) to the report.
    convex_contrast: bool = False
    #: Predict every run with the reduced dynamics (validation.experiments.prediction); where a
    #: preset does not, ``predict_note`` says why in its report.
    predict: bool = True
    predict_note: str = ""
    #: The paper's reported final test error (or its words) per run name, for the report's table.
    paper_test_error: dict[str, float | str] = dataclasses.field(default_factory=dict)


def run_name(optimizer: str, lam: float, B: int) -> str:
    return f"{optimizer} lam={lam:g} B={B}"


#: An expectation as a table row: (optimizer, lam, B, metric, relation, value, source).
ExpectationRow = tuple[str, float, int, str, str, float | str, str]


def _expect(*rows: ExpectationRow) -> tuple[Expectation, ...]:
    """The :class:`Expectation` of each row, its run named by :func:`run_name`."""
    return tuple(
        Expectation(run_name(optimizer, lam, B), metric, relation, value, source)
        for optimizer, lam, B, metric, relation, value, source in rows
    )


def _run(optimizer: str, lam: float, B: int, seed: int = 0, **fields: float) -> RunSpec:
    """The App. D.2 setting with torch-style Adam at (optimizer, lam, B) and ``fields``, data and
    initialisation from ``seed``, named by :func:`run_name`."""
    params = tang2025_synthetic(optimizer=optimizer, lam=lam, B=B, bias_correction=True, **fields)
    return RunSpec(params, data_seed=seed, init_seed=seed, name=run_name(optimizer, lam, B))


def _paper_runs(eta: float, epochs_by_batch: dict[int, int], seeds: range) -> tuple[RunSpec, ...]:
    return tuple(
        _run(optimizer, lam, B, seed, eta=eta, epochs=epochs_by_batch[B])
        for seed in seeds
        for optimizer, lam, B in PAPER_SETTINGS
    )


def _expectations() -> tuple[Expectation, ...]:
    """The paper's App. D.2 results as claims, at the paper's thresholds
    (:data:`LARGE_BATCH_TEST_ERROR`, :data:`MINI_BATCH_TEST_ERROR`); each names the table or
    figure it reproduces and the theorem whose regime it illustrates."""
    large, mini = LARGE_BATCH_TEST_ERROR, MINI_BATCH_TEST_ERROR
    return _expect(
        ("adam", 1e-5, 100, "test_error", ">=", large, "Table 1: 0.9545 (as Thm 4.1)"),
        ("adam", 1e-5, 2, "test_error", "<=", mini, "Table 1: 0 (as Thm 4.2)"),
        ("adamw", 0.01, 100, "test_error", ">=", large, "Table 2: 0.5485 (as Thm 4.4)"),
        ("adamw", 0.01, 2, "test_error", "<=", mini, "Table 2: 0 (as Thm 4.5)"),
        ("adam", 0.05, 2, "outcome", "is", STUCK, "Fig. 5: Adam fails to train (as Cor 4.3)"),
        ("adamw", 0.5, 2, "test_error", "<=", mini, "Fig. 6: AdamW robust (as Cor 4.6)"),
        ("adam", 1e-5, 100, "train_error", "<=", 0.0, "Table 1: zero training error (Thm 4.1)"),
    )


#: Tang et al. 2025, App. D.2: Table 1 (Adam), Table 2 (AdamW), Figs 5-6 (large lam).
PAPER_TEST_ERRORS: dict[str, float | str] = {
    run_name("adam", 1e-5, 100): 0.9545,
    run_name("adam", 1e-5, 2): 0.0,
    run_name("adamw", 0.01, 100): 0.5485,
    run_name("adamw", 0.01, 2): 0.0,
    run_name("adam", 0.05, 2): "fails to train (Fig. 5)",
    run_name("adamw", 0.5, 2): "trains, test error ~0 (Fig. 6)",
}


#: Log-spaced records of every preset (``dynamics.recording``): with the regular ones, at least 64
#: points per curve, dense over Stage I and the reversal of a large-batch run.
LOG_RECORDS = 64


def _quick() -> Preset:
    return Preset(
        "quick",
        "App. D.2 settings, one seed, eta = 5e-5, 4000 epochs (B = 100) / 400 epochs (B = 2); CPU "
        "minutes",
        _paper_runs(5e-5, {100: 4000, 2: 400}, range(1)),
        EngineOptions(record_every=50, log_records=LOG_RECORDS, test_size=2000),
        _expectations(),
        paper_test_error=PAPER_TEST_ERRORS,
    )


#: lam grids of the lambda-sensitivity preset (B = 2).
ADAM_LAMBDA_GRID = (1e-5, 1e-3, 0.005, 0.007, 0.01, 0.014, 0.02, 0.028, 0.04)
ADAMW_LAMBDA_GRID = (1e-3, 0.01, 0.1, 0.5, 2.0, 10.0, 30.0, 60.0, 100.0)


def _lambda_sensitivity() -> Preset:
    grids = (("adam", ADAM_LAMBDA_GRID), ("adamw", ADAMW_LAMBDA_GRID))
    expectations = _expect(
        ("adam", 1e-5, 2, "test_error", "<=", 0.05, "Fig. 2: small lam, mini-batch Adam (Thm 4.2)"),
        ("adam", 0.04, 2, "outcome", "is", STUCK, "Fig. 2: Adam fails at large lam (Cor 4.3)"),
        ("adamw", 0.5, 2, "test_error", "<=", 0.05, "Fig. 2: AdamW robust at lam 0.5 (Cor 4.6)"),
    )
    return Preset(
        "lambda-sensitivity",
        "test error vs lam at B = 2, Adam and AdamW, eta = 5e-5, 300 epochs, one seed",
        tuple(
            _run(optimizer, lam, 2, eta=5e-5, epochs=300)
            for optimizer, grid in grids
            for lam in grid
        ),
        EngineOptions(record_every=50, log_records=LOG_RECORDS, test_size=2000),
        expectations,
    )


def _zou2023() -> Preset:
    etas = (("adam", 5e-5), ("gd", 0.5))
    expectations = _expect(
        ("adam", 1e-5, 200, "test_error", ">=", 0.5, "Zou et al. 2023: Adam, bad test error"),
        ("gd", 1e-5, 200, "test_error", "<=", 0.05, "Zou et al. 2023: GD learns the feature"),
        ("adam", 1e-5, 200, "train_error", "<=", 0.0, "Zou et al. 2023: both fit the data"),
        ("gd", 1e-5, 200, "train_error", "<=", 0.0, "Zou et al. 2023: both fit the data"),
    )
    return Preset(
        "zou2023",
        "full-batch Adam vs GD from the same initialisation (Zou et al. 2023), 10^4 steps",
        tuple(_run(optimizer, 1e-5, 200, eta=eta, epochs=10_000) for optimizer, eta in etas),
        EngineOptions(record_every=250, log_records=LOG_RECORDS, test_size=2000),
        expectations,
        convex_contrast=True,
    )


def _table() -> Preset:
    return Preset(
        "tang2025-table",
        "App. D.2 protocol: 6 settings x 5 seeds, eta = 5e-5, 10^4 epochs",
        _paper_runs(5e-5, {100: 10_000, 2: 10_000}, range(5)),
        EngineOptions(record_every=250, log_records=LOG_RECORDS, test_size=10_000),
        _expectations(),
        paper_test_error=PAPER_TEST_ERRORS,
    )


PRESETS: dict[str, Callable[[], Preset]] = {
    "quick": _quick,
    "tang2025-table": _table,
    "lambda-sensitivity": _lambda_sensitivity,
    "zou2023": _zou2023,
}
