"""The condition report: honest verdicts at the paper's setting, n/a rows, JSON output."""

import json

from hypothesis import given

from theorykit import ProblemParams, check_conditions, tang2025_synthetic
from theorykit.testing import strategies as tks


def _verdicts(params: ProblemParams) -> dict[str, str]:
    return {check.name: check.verdict for check in check_conditions(params).checks}


def test_paper_setting_violates_disjoint_supports() -> None:
    # Notes Sec. 6.3: n s / d = 20, each noise coordinate is shared by ~20 samples.
    verdicts = _verdicts(tang2025_synthetic())
    assert verdicts["disjoint_supports"] == "fails"
    assert verdicts["noise_l1_dominates"] == "holds"  # s sigma_p = 10
    assert verdicts["beta_order"] == "holds"


def test_disjoint_supports_hold_in_the_theory_regime() -> None:
    # s = Theta(d^{1/2}/n^2): n = 10, d = 10^7, s = 20 gives C(10,2) 400 / 10^7 ~ 2e-3 expected
    # shared coordinates.
    params = tang2025_synthetic(n=10, d=10**7, s=20, B=2)
    assert _verdicts(params)["disjoint_supports"] == "holds"


def test_rows_for_other_optimizers_are_not_applicable() -> None:
    verdicts = _verdicts(tang2025_synthetic(optimizer="gd"))
    for name in ("eps_scale", "beta_order", "adam_admissible", "adamw_above_floor"):
        assert verdicts[name] == "n/a"
    assert _verdicts(tang2025_synthetic(lam=0.0))["eps_scale"] == "n/a"


@given(tks.problem_params())
def test_report_is_complete_and_valid_json(params: ProblemParams) -> None:
    report = check_conditions(params)
    decoded = json.loads(report.to_json())
    assert len(decoded["checks"]) == len(report.checks) >= 18
    assert {row["verdict"] for row in decoded["checks"]} <= {"holds", "fails", "n/a"}
    assert set(report.failing()) == {check for check in report.checks if check.verdict == "fails"}
    assert report.params == params and str(report)
