"""Opt-in reproduction of the paper's synthetic outcomes (``python -m pytest -m slow``; minutes on 2 CPU cores).

Runs the ``quick`` preset (App. D.2 settings at a shorter horizon) through the same code path as
``theorykit validate --preset quick`` and asserts the paper's outcomes: large-batch Adam/AdamW test error
>= 0.4 (Thms 4.1/4.4; Tables 1-2 report 0.95/0.55), mini-batch <= 0.05 (Thms 4.2/4.5; reported 0),
Adam at lam = 0.05 fails to train (Cor 4.3) and AdamW at lam = 0.5 trains (Cor 4.6). The thresholds are the
issue's acceptance numbers; one seed, 2000 test points (standard error of a test error near 0.5 is 0.011).
"""

from pathlib import Path

import pytest

from validation.presets import PRESETS
from validation.report import run_preset, write_report


@pytest.mark.slow
def test_quick_preset_reproduces_the_paper(tmp_path: Path) -> None:
    preset = PRESETS["quick"]()
    records = run_preset(preset, tmp_path)
    _, checks = write_report(preset, records, tmp_path)
    failed = [f"{c.expectation.run}: {c.expectation.metric} = {c.observed:.3f}, expected {c.expectation.relation} "
              f"{c.expectation.value}" for c in checks if not c.holds]
    assert not failed, failed
    assert (tmp_path / "trajectories.png").stat().st_size > 0
