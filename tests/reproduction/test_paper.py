"""Opt-in reproduction of the paper's synthetic outcomes (``python -m pytest -m slow``; minutes on 2
CPU cores).

Runs the ``quick`` preset (App. D.2 settings at a shorter horizon) through the same code path as
``theorykit validate --preset quick`` and asserts the paper's outcomes at the paper's thresholds:
large-batch Adam/AdamW test error >= 0.5 (Tables 1-2 report 0.95/0.55), mini-batch <= 0.05
(reported 0), Adam at lam = 0.05 fails to train (Fig. 5; judged by the collapse rule) and AdamW at
lam = 0.5 trains (Fig. 6). One seed, 2000 test points (standard error of a test error near 0.5 is
0.011).
"""

import dataclasses
import math
from pathlib import Path

import pytest

from dynamics.predict import stuck_threshold
from theorykit.conditions import lambda_thresholds
from validation.experiments.preset_report import run_preset, write_report
from validation.experiments.presets import ADAM_LAMBDA_GRID, PRESETS
from validation.reports.store_report import measured_stuck_thresholds


@pytest.mark.slow
def test_quick_preset_reproduces_the_paper(tmp_path: Path) -> None:
    preset = PRESETS["quick"]()
    records = run_preset(preset, tmp_path)
    _, checks, _ = write_report(preset, records, tmp_path)
    failed = [f"{c.expectation.text()}, observed {c.by_seed}" for c in checks if not c.holds]
    assert not failed, failed
    assert (tmp_path / "trajectories.png").stat().st_size > 0


@pytest.mark.slow
def test_lambda_sensitivity_thresholds_match_the_predictions(tmp_path: Path) -> None:
    """Issue 4 acceptance: measured Adam stuck threshold (CNN, B = 2, 300 epochs) within a factor 2
    of theorykit's lambda*_Adam and of the mean-field dynamics' prediction. Measured on the
    2026-11-23 run: ~0.0118 vs 0.0132 (ratio 0.90) and vs 0.0084 (mean-field bracket (0.007, 0.01)).
    """
    preset = PRESETS["lambda-sensitivity"]()
    preset = dataclasses.replace(preset, options=dataclasses.replace(preset.options, compile=True))
    records = run_preset(preset, tmp_path)
    _, checks, _ = write_report(preset, records, tmp_path)
    assert all(check.holds for check in checks)
    bracket = measured_stuck_thresholds(records)[("adam", 2)]
    assert bracket is not None
    measured = math.sqrt(bracket[0] * bracket[1])
    params = preset.specs[0].params
    assert 0.5 < measured / lambda_thresholds(params)["lambda_star_adam"] < 2.0
    predicted = stuck_threshold(params, ADAM_LAMBDA_GRID, steps=3000, samples=32)
    assert predicted is not None
    assert 0.5 < measured / math.sqrt(predicted[0] * predicted[1]) < 2.0


@pytest.mark.slow
@pytest.mark.parametrize(("optimizer", "lam"), [("adam", 1e-5), ("adamw", 0.01)])
def test_reduced_dynamics_predict_the_cnns_batch_size_outcomes(optimizer: str, lam: float) -> None:
    """Issue 4 acceptance: at the quick preset's horizons the exact reduced dynamics classify B =
    100 as noise memorisation and B = 2 as feature learning, the outcomes the CNN shows (quick
    preset test above; measured CNN test errors 0.73 / 0.74 at B = 100 and 0 at B = 2).
    Reduced-model test errors measured: 0.47 / 0.43 at B = 100, 0 at B = 2 (rule:
    dynamics.predict.classify)."""
    from dynamics.outcomes import classify
    from dynamics.predict import predict_final
    from theorykit import tang2025_synthetic

    for B, epochs, expected in ((100, 4000, "memorises noise"), (2, 400, "learns feature")):
        params = tang2025_synthetic(
            optimizer=optimizer, lam=lam, B=B, epochs=epochs, bias_correction=True
        )
        assert classify(predict_final(params)) == expected, (B, predict_final(params))


@pytest.mark.slow
def test_zou2023_preset_separates_adam_and_gd(tmp_path: Path) -> None:
    """Issue 5 acceptance: full-batch GD test error <= 0.05 and Adam >= 0.4 from the same
    initialisation (notes Sec. 6.3: 0.00 and 0.88; measured here 0.000 and 0.884; the claim reads
    Adam at the paper's 0.5), plus the convex
    section in the report."""
    preset = PRESETS["zou2023"]()
    records = run_preset(preset, tmp_path)
    text, checks, _ = write_report(preset, records, tmp_path)
    assert all(check.holds for check in checks), [c for c in checks if not c.holds]
    assert "Reached w* (within 0.01): gd, adam, signsgd." in text
