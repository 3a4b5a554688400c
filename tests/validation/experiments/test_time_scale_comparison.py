"""Held-out scoring of the time scales in ``theorykit compare``
(:func:`validation.experiments.time_scale_comparison.held_out_accuracy`, ``band_coverage``)."""

from __future__ import annotations

from validation.experiments.time_scale_comparison import (
    TimeScaleRow,
    band_coverage,
    held_out_accuracy,
)


def _row(
    label: str, seed: int, measured: tuple[float | None, float | None], **fields
) -> TimeScaleRow:
    values = {
        "label": label,
        "optimizer": "adam",
        "seed": seed,
        "calibration": False,
        "predicted_reversal": 500.0,
        "predicted_median_reversal": 1000.0,
        "lemma_reversal": 50.0,
        "measured_reversal": measured[0],
        "predicted_stage1": 2000.0,
        "lemma_stage1": 1500.0,
        "measured_stage1": measured[1],
        "predicted_reversal_band": (800.0, 2000.0),
        "measured_head_reversals": (measured[0], None),
    }
    return TimeScaleRow(**{**values, **fields})


def test_a_setting_scores_its_median_over_seeds_and_calibration_settings_are_left_out() -> None:
    rows = [
        # median over seeds 1900 / 2500 of T_r: outside 2x of 1000 although one seed is inside
        _row("a", 0, (1900.0, 1000.0)),
        _row("a", 1, (2500.0, 4000.0)),
        # one seed without a reversal: T_r not scored there; T0's median 2500 within 2x of 2000
        _row("b", 0, (None, 2500.0)),
        _row("b", 1, (800.0, 2500.0)),
        # no race reversal predicted: T_r not scored
        _row("c", 0, (700.0, 900.0), predicted_median_reversal=None),
        _row("c", 1, (700.0, 900.0), predicted_median_reversal=None),
        # T_r is scored against the race's median over seeds (1000), not its eps = 0 head (500):
        # 1800 is within 2x of the one, 3.6x the other
        _row("e", 0, (1800.0, 2000.0)),
        _row("e", 1, (1800.0, 2000.0)),
        # a calibration setting: never scored, however far off
        _row("d", 0, (10.0, 10.0), calibration=True),
        _row("d", 1, (10.0, 10.0), calibration=True),
    ]
    scores = held_out_accuracy(rows)
    assert scores["T_r"] == (1, 2)
    # T0 medians: a 2500 (within 2x), b 2500 (within), c 900 (0.45 of 2000: outside), e 2000
    assert scores["T0"] == (3, 4)


def test_band_coverage_counts_each_reversing_held_out_head() -> None:
    rows = [
        # band (800, 2000): head +1 at 1900 inside, head -1 at 2500 outside
        _row("a", 0, (1900.0, 1.0), measured_head_reversals=(1900.0, 2500.0)),
        # a head that did not reverse is not counted; the ends of the band are inside
        _row("a", 1, (800.0, 1.0), measured_head_reversals=(800.0, None)),
        # no band (the race reverses no head): the CNN's reversing head is outside
        _row("b", 0, (700.0, 1.0), predicted_reversal_band=None),
        # a calibration setting: never counted
        _row("c", 0, (10.0, 1.0), calibration=True, measured_head_reversals=(10.0, 10.0)),
    ]
    assert band_coverage(rows) == (2, 4)
