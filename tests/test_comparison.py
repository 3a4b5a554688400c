"""Threshold bookkeeping of the reports: brackets from a lam grid, the collapse rule, the progress bar."""

from dynamics.predict import bracket
from validation.comparison import is_stuck
from validation.report import measured_stuck_thresholds, progress_bar


def test_bracket_is_the_first_train_to_stuck_transition() -> None:
    lams = [0.001, 0.01, 0.1, 1.0]
    assert bracket(lams, [False, False, True, True]) == (0.01, 0.1)
    assert bracket(lams, [False, False, False, False]) is None
    assert bracket(lams, [True, True, True, True]) is None


def test_collapse_rule_is_relative_to_the_initial_feature() -> None:
    assert is_stuck(0.02, 0.009) and not is_stuck(0.02, 0.011) and not is_stuck(0.02, 1.5)


def _record(optimizer: str, lam: float, train_error: float) -> dict:
    return {"params": {"optimizer": optimizer, "B": 2, "lam": lam}, "final": {"train_error": train_error}}


def test_measured_stuck_threshold_reads_the_train_error_grid() -> None:
    records = {str(k): _record("adam", lam, err) for k, (lam, err) in
               enumerate([(1e-3, 0.0), (1e-2, 0.02), (2e-2, 0.45), (4e-2, 0.7)])}
    records["x"] = _record("adamw", 0.5, 0.0)  # fewer than 3 lam values: no verdict for adamw
    assert measured_stuck_thresholds(records) == {("adam", 2): (1e-2, 2e-2)}


def test_progress_bar_reports_fraction_and_remaining_time() -> None:
    bar = progress_bar(25, 100, elapsed=10.0, width=20)
    assert bar.startswith("[#####...............]") and " 25% 25/100" in bar and "~30s left" in bar
