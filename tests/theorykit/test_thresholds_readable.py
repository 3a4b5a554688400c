"""No verdict contradicts its own threshold: a lambda or batch threshold that is not a positive
finite number (lambda*_Adam < 0 for q >~ 12.5 at the paper's setting, a Thm 4.1/4.2 ceiling that
underflows) is printed n/a and never compared (Cor 4.3, Thms 4.1-4.5;
``bounds.readable_threshold``); every legal setting at the float64 limits of ``ProblemParams``
gives a summary and valid JSON."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from theorykit import ParameterError, ProblemParams, bounds, bounds_summary, tang2025_synthetic
from theorykit.conditions import lambda_thresholds
from theorykit.params import _LN_FLOAT64_MIN, MAX_COUNT, NAMED_SETTINGS, SCALE_MAX, SCALE_MIN
from theorykit.verdict import LEARNS, MEMORISES, STUCK, UNDETERMINED, finite_size_verdict

#: A comparison word followed by a threshold that is not a positive finite number: a negative
#: value, 0, inf or nan right after >=, <=, <, >, "vs", "below the ..." or "above the ..." (not
#: the arrow "->" or a rule's "(1 - eta*lam) > 0").
_BAD_COMPARISON = re.compile(
    r"(?:(?<![)-] )(?<!-)(?:>=|<=|<|>)|\bvs|\bbelow the|\babove the)\s+"
    r"(?:lambda\*_Adam\s+|collapse threshold\s+|B\*\(T\) = |B\*_inf = )?"
    r"(?:-\d|-inf|inf\b|nan\b|0(?![\d.e]))"
)


def _largest_legal_q(sigma0: float) -> float:
    """The q rule of ProblemParams: sigma0^(q-1) stays a normal float64."""
    return 1 - _LN_FLOAT64_MIN / abs(math.log(sigma0))


def _q_sweep() -> list[float]:
    top = _largest_legal_q(NAMED_SETTINGS["tang2025-synthetic"]().sigma0)
    dense = np.arange(11.0, 16.0, 0.25)  # where lambda*_Adam crosses 0 (q ~ 12.5)
    coarse = np.arange(3.0, top, 1.0)
    return sorted({*map(float, dense), *map(float, coarse), math.nextafter(top, 0.0)})


def test_q_sweep_at_the_paper_setting_never_compares_with_an_unreadable_threshold() -> None:
    base = NAMED_SETTINGS["tang2025-synthetic"]()
    previous, seen_stuck, seen_unreadable = math.inf, False, False
    for q in _q_sweep():
        params = base.replace(q=q)
        summary = bounds_summary(params)
        text, verdict = str(summary), summary.finite_size.verdict
        assert verdict is not None
        star = summary.finite_size.lambda_star_adam
        assert star == lambda_thresholds(params)["lambda_star_adam"]
        assert not _BAD_COMPARISON.search(text), (q, _BAD_COMPARISON.search(text))
        decoded = json.loads(summary.to_json())
        assert decoded["finite_size"]["verdict"]["outcome"] == verdict.outcome
        if bounds.readable_threshold(star):
            assert star < previous, q  # lambda*_Adam falls with q (~ sigma0^(q-2), Cor 4.3)
            previous = star
            assert not seen_unreadable, q  # once the noise term wins at t = 0 it keeps winning
            assert f"{star:.4g}" in text
            if verdict.outcome == STUCK:
                assert params.lam >= star and f"lambda*_Adam {star:.3g}" in verdict.reason
                seen_stuck = True
            elif verdict.outcome in (LEARNS, MEMORISES):
                assert params.lam < star and f"below the lambda*_Adam {star:.3g}" in verdict.reason
                assert not seen_stuck, q  # no flip from stuck back to learning as q grows
        else:
            seen_unreadable = True
            assert verdict.outcome == UNDETERMINED, (q, verdict)
            assert verdict.reason == bounds.unreadable_reason("lambda*_Adam", star)
            assert "lambda*_Adam is not a positive finite number at this setting" in text
            assert f"n/a ({star:.4g}, not a positive finite number)" in text
        if summary.theorem_verdict.startswith("training stuck"):  # Cor 4.3
            floor = bounds.ADAM_STUCK.evaluate(params)
            assert floor.readable and params.lam >= floor.threshold > 0
    assert seen_stuck and seen_unreadable  # the sweep crosses both regimes


def test_q_beyond_the_sweep_is_refused() -> None:
    sigma0 = NAMED_SETTINGS["tang2025-synthetic"]().sigma0
    with pytest.raises(ParameterError) as caught:
        tang2025_synthetic(q=_largest_legal_q(sigma0) + 1e-6)
    assert caught.value.name == "q"


def test_an_underflowed_theorem_threshold_gives_no_theorem() -> None:
    # sigma0^(q-2) sigma_p / n = 1e-304 * 1e-30 / 1e9 is 0 in float64: Thm 4.1/4.2's ceiling
    # cannot be read, so lam = 0 is neither admissible nor in the gap.
    params = tang2025_synthetic(n=10**9, q=154, sigma_p=1e-30, lam=0.0)
    ceiling = bounds.ADAM_ADMISSIBLE.evaluate(params)
    assert ceiling.threshold == 0 and not ceiling.readable and not ceiling.holds
    assert bounds.lambda_regime(params) == bounds.UNREADABLE_REGIME
    outcome, words = bounds.theorem_outcome(params)
    assert outcome is None
    assert "lam = o(sigma0^{q-2} sigma_p / n) is not a positive finite number" in words
    summary = bounds_summary(params)
    row = next(check for check in summary.conditions.checks if check.name == "adam_admissible")
    assert row.verdict == "n/a" and not _BAD_COMPARISON.search(str(summary))
    assert "n/a (0, not a positive finite number)" in str(summary)


def test_the_pattern_catches_the_contradictions_it_guards_against() -> None:
    for text in (
        "learns feature (B = 16 < B*_inf = 34; lam = 0 below the lambda*_Adam -5.9e-22)",
        "stuck (margin 3e+12: lam = 1e-05 >= lambda*_Adam -1.45e-19)",
        "lam = o(sigma0^{q-2} sigma_p / n) fails (1e-05 vs 0)",
        "n/B >= Theta(log 1/eps) fails (12.5 vs inf)",
    ):
        assert _BAD_COMPARISON.search(text), text
    assert not _BAD_COMPARISON.search(
        "stuck (margin 3.06e+12: lam = 1e-05 >= lambda*_Adam 3.26e-18)"
    )


def test_threshold_text_prints_only_positive_finite_numbers() -> None:
    assert bounds.threshold_text(0.5) == "0.5"
    for value in (0.0, -1e-20, math.inf, -math.inf, math.nan):
        assert bounds.threshold_text(value).startswith("n/a")
        assert not bounds.readable_threshold(value)


_EXTREMES = {
    "n": [2, 200, MAX_COUNT],
    "d": [2, 1000, MAX_COUNT],
    "m": [1, 20, MAX_COUNT],
    "q": [3, 12.7, 60, 342],
    "sigma_p": [SCALE_MIN, 0.1, SCALE_MAX],
    "sigma0": [SCALE_MIN, 0.01, 1.0, SCALE_MAX],
    "eta": [SCALE_MIN, 5e-5, SCALE_MAX],
    "lam": [0.0, SCALE_MIN, 1e-5, SCALE_MAX],
    "eps": [0.0, SCALE_MIN, 1e-8, SCALE_MAX],
    "epochs": [1, MAX_COUNT],
    "alpha": [0.0, 0.2, 0.999],
}


@st.composite
def _extreme_params(draw: st.DrawFn) -> ProblemParams:
    values = {name: draw(st.sampled_from(choices)) for name, choices in _EXTREMES.items()}
    values["s"] = draw(st.sampled_from([1, values["d"] - 1]))
    values["B"] = draw(st.sampled_from([1, values["n"]]))
    values["optimizer"] = draw(st.sampled_from(["adam", "adamw", "signsgd", "signsgdw", "gd"]))
    try:
        return tang2025_synthetic(**values)
    except ParameterError as error:  # a joint rule (sigma0^(q-1), eta lam < 1): not this test's
        assert error.name in ("q", "lam")
        return tang2025_synthetic()


@settings(max_examples=40)
@given(_extreme_params())
def test_every_legal_setting_at_the_float_limits_has_a_summary_and_valid_json(
    params: ProblemParams,
) -> None:
    with np.errstate(all="ignore"):
        summary = bounds_summary(params)
        verdict = finite_size_verdict(params)
    text, encoded = str(summary), summary.to_json()
    assert "Infinity" not in encoded and "NaN" not in encoded
    json.loads(encoded)
    assert not _BAD_COMPARISON.search(text), _BAD_COMPARISON.search(text)
    if verdict.outcome == STUCK and not params.kind.decoupled:
        assert params.lam >= summary.finite_size.lambda_star_adam > 0
