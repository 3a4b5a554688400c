"""Outcome rules shared by the reduced dynamics and the CNN: brackets from a grid, the collapse
rule."""

from dynamics.outcomes import OUTCOMES, bracket, classify, is_collapsed


def test_bracket_is_the_first_train_to_stuck_transition() -> None:
    lams = [0.001, 0.01, 0.1, 1.0]
    assert bracket(lams, [False, False, True, True]) == (0.01, 0.1)
    assert bracket(lams, [False, False, False, False]) is None
    assert bracket(lams, [True, True, True, True]) is None


def test_collapse_rule_is_relative_to_the_initial_feature() -> None:
    assert (
        is_collapsed(0.02, 0.009) and not is_collapsed(0.02, 0.011) and not is_collapsed(0.02, 1.5)
    )
    assert not is_collapsed(0.02, float("nan"))  # a failed run never counts as collapsed


def test_classify_names_the_three_regimes() -> None:
    assert classify({"train_error": 0.5, "test_error": 0.5}) == "stuck"
    assert classify({"train_error": 0.0, "test_error": 0.9}) == "memorises noise"
    assert classify({"train_error": 0.0, "test_error": 0.01}) == "learns feature"
    assert set(OUTCOMES) == {"stuck", "memorises noise", "learns feature"}
