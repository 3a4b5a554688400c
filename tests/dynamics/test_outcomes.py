"""Outcome rules shared by the reduced dynamics and the CNN: brackets from a grid, the collapse
rule, the labels."""

import math

from dynamics.outcomes import (
    COLLAPSE_FRACTION,
    OUTCOMES,
    any_memorises,
    bracket,
    classify,
    is_collapsed,
    open_bracket,
)


def test_bracket_is_the_first_train_to_stuck_transition() -> None:
    lams = [0.001, 0.01, 0.1, 1.0]
    assert bracket(lams, [False, False, True, True]) == (0.01, 0.1)
    assert bracket(lams, [False, False, False, False]) is None
    assert bracket(lams, [True, True, True, True]) is None
    assert open_bracket(lams, [False, False, True, True]) == (0.01, 0.1)
    assert open_bracket(lams, [False] * 4) == (1.0, math.inf)
    assert open_bracket(lams, [True] * 4) == (0.0, 0.001)


def test_collapse_rule_is_a_tenth_of_the_largest_initial_weight() -> None:
    assert COLLAPSE_FRACTION == 0.1
    assert is_collapsed(0.05, 0.0049) and not is_collapsed(0.05, 0.0051)
    assert not is_collapsed(0.05, 1.5)
    assert not is_collapsed(0.05, float("nan"))  # a failed run never counts as collapsed


def test_classify_names_the_four_outcomes() -> None:
    initial = {"train_error": 0.5, "test_error": 0.5, "weight_max": 0.05}
    collapsed = {"train_error": 0.5, "test_error": 0.5, "weight_max": 0.001}
    assert classify(collapsed, initial) == "stuck"
    assert classify(collapsed) == "not fitted"  # without the first record no collapse is read
    assert classify({"train_error": 0.5, "test_error": 0.5}) == "not fitted"
    assert classify({"train_error": 0.0, "test_error": 0.9}) == "memorises noise"
    assert classify({"train_error": 0.0, "test_error": 0.01}) == "learns feature"
    assert set(OUTCOMES) == {"stuck", "not fitted", "memorises noise", "learns feature"}


def test_a_setting_memorises_when_any_seed_does() -> None:
    assert any_memorises(["learns feature", "memorises noise"]) == "memorises noise"
    assert any_memorises(["stuck", "learns feature"]) == "stuck"
