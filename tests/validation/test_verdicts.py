"""The agreement test (every criterion a column, a run agrees only when all hold) and the verdict
against the CNN's seeds, over hand-made records whose answers are known."""

import math

import numpy as np

from dynamics.trajectory import METRICS, Trajectory
from theorykit import tang2025_synthetic
from theorykit.verdict import finite_size_verdict
from validation.reports.agreement import CRITERIA, RunAgreement
from validation.reports.verdicts import ClaimResult, VerdictCheck, conclusion_lines, verdict_lines
from validation.runs.records import RunRecord

EPOCHS = np.array([0.0, 10.0, 20.0, 30.0])


def _metrics(features: tuple[float, float], test_error: float, **changes: float) -> dict:
    """A run whose feature coefficients go from 0.02 to ``features`` and whose data loss halves
    at epoch 10 (T0)."""
    pos, neg = features
    metrics = {
        "feature_pos": np.array([0.02, 0.2, 0.4, pos]),
        "feature_neg": np.array([0.02, 0.2, 0.4, neg]),
        "noise_min": np.array([0.0, 0.01, 0.02, 0.03]),
        "noise_max": np.array([0.01, 0.2, 0.5, 1.0]),
        "train_error": np.array([0.5, 0.1, 0.0, 0.0]),
        "test_error": np.array([0.5, 0.3, 0.2, test_error]),
        "loss": np.array([0.7, 0.3, 0.1, 0.05]),
        "weight_max": np.array([0.04, 0.5, 0.6, 1.0]),
    }
    for name, value in changes.items():
        metrics[name] = metrics[name].copy()
        metrics[name][-1] = value
    assert set(metrics) == set(METRICS)
    return metrics


def _record(metrics: dict, seed: int = 0, params=None) -> RunRecord:
    params = params or tang2025_synthetic(B=100, epochs=30, bias_correction=True)
    return RunRecord(
        f"key{seed}",
        "run",
        params,
        seed,
        seed,
        "overlapping",
        "balanced",
        tuple(EPOCHS),
        {name: tuple(values) for name, values in metrics.items()},
        {name: float(values[-1]) for name, values in metrics.items()},
    )


def _pair(measured: dict, predicted: dict) -> RunAgreement:
    return RunAgreement(_record(measured), Trajectory(EPOCHS, predicted), "overlap-aware")


def test_a_run_agrees_only_when_every_criterion_holds() -> None:
    same = _pair(_metrics((0.5, 0.5), 0.0), _metrics((0.5, 0.5), 0.02))
    assert same.agrees() and set(same.criteria()) == set(CRITERIA)
    # The outcome class agrees (both memorise: test error >= 0.25), one head's sign does not.
    one_head = _pair(_metrics((0.35, -0.12), 0.73), _metrics((-0.14, -0.14), 0.72))
    criteria = one_head.criteria()
    assert criteria["outcome"].holds and not criteria["head signs"].holds
    assert not one_head.agrees()
    # Same classes and signs, test errors 0.3 apart: a stated gap of 0.15 fails.
    far = _pair(_metrics((0.5, 0.5), 0.3), _metrics((0.5, 0.5), 0.6))
    assert far.criteria()["test error"].failed and not far.agrees()


def test_a_trajectory_beyond_its_bound_and_a_nan_never_agree() -> None:
    measured = _metrics((0.5, 0.5), 0.0)
    wide = _metrics((0.5, 0.5), 0.0, noise_max=3.0)
    assert _pair(measured, wide).criteria()["trajectory"].failed
    nan = _metrics((0.5, 0.5), 0.0, feature_pos=math.nan)
    assert not _pair(measured, nan).agrees()


def test_time_scales_agree_within_the_factor_where_both_exist() -> None:
    measured = _metrics((0.5, 0.5), 0.0)
    late = dict(measured, loss=np.array([0.7, 0.6, 0.5, 0.3]))  # T0 at epoch 30, not 10
    criterion = _pair(measured, late).criteria()["T0"]
    assert criterion.failed and "(3)" in criterion.detail
    same = _pair(measured, measured).criteria()["T0"]
    assert same.holds and "same record" in same.detail
    assert _pair(measured, measured).criteria()["T_r"].holds is None  # no reversal in either


def test_head_signs_and_test_error_do_not_apply_to_a_collapsed_run() -> None:
    """Test errors 0.46 and 0.70 of two collapsed networks: 0.24 apart, decided at round-off."""
    dead = _metrics((1e-7, -1e-7), 0.46, weight_max=1e-6)
    criteria = _pair(dead, _metrics((2e-7, 3e-7), 0.70, weight_max=1e-6)).criteria()
    assert criteria["outcome"].holds and criteria["head signs"].holds is None
    assert criteria["test error"].holds is None
    assert criteria["test error"].detail == "n/a (collapsed: 0.460 / 0.700)"


def test_the_verdict_holds_misses_or_is_not_called() -> None:
    params = tang2025_synthetic(B=100, epochs=4000, bias_correction=True)
    memorised = _record(_metrics((0.35, -0.12), 0.73))
    learned = _record(_metrics((0.5, 0.5), 0.0), seed=1)
    holds = VerdictCheck.of("B=100", params, [memorised])
    assert holds.verdict.outcome == "memorises noise" and holds.status == "holds"
    misses = VerdictCheck.of("B=100", params, [memorised, learned])
    assert misses.status == "misses" and misses.cell() == "NO (1 of 2 seeds)"
    short = VerdictCheck.of("short", params.replace(epochs=300), [memorised])
    assert short.status == "not called" and short.cell() == "not called"
    lines = verdict_lines([holds, misses, short])
    assert any(line.startswith("- B=100: the verdict says memorises noise") for line in lines)
    assert any("not called at 1 run (short)" in line for line in lines)


def test_the_conclusion_counts_claims_verdicts_and_criteria() -> None:
    params = tang2025_synthetic(B=100, epochs=4000, bias_correction=True)
    check = VerdictCheck(
        "B=100", finite_size_verdict(params), {0: "memorises noise", 1: "learns feature"}
    )
    pair = _pair(_metrics((0.35, -0.12), 0.73), _metrics((-0.14, -0.14), 0.72))
    text = "\n".join(
        conclusion_lines(
            [ClaimResult("a: test_error >= 0.5", 4, 5), ClaimResult("b", 5, 5)], [check], [pair]
        )
    )
    assert text.startswith("## Conclusion")
    assert "1 of 2 reproduced on every seed" in text and "a: test_error >= 0.5: 4/5 seeds" in text
    assert "misses at 1" in text and "in-sample" in text
    assert "at 0 of 1 runs" in text and "head signs 0/1" in text


def test_no_runs_is_no_agreement() -> None:
    from theorykit import bounds_summary
    from validation.experiments.setting_comparison import SettingComparison

    params = tang2025_synthetic()
    assert not SettingComparison(params, bounds_summary(params), ()).agrees()
