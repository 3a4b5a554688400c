"""Every public formula: the numpy function equals the sympy expression; formulas pickle as pure
sympy."""

import pickle

import numpy as np
import pytest
import sympy as sp
from hypothesis import assume, given
from hypothesis import strategies as st

from theorykit import (
    ParameterError,
    bounds,
    closed_forms,
    conditions,
    initialization,
    lambda_star,
    theorem_statements,
    updates,
)
from theorykit.asymptotic_reading import Bound
from theorykit.formula import Formula


def _public_formulas() -> list[Formula]:
    found: dict[str, Formula] = {}
    for module in (updates, closed_forms, lambda_star, theorem_statements, initialization):
        for value in vars(module).values():
            if isinstance(value, Formula):
                found[value.name] = value
            elif isinstance(value, updates.AdamUpdate):
                for part in (value.first_moment, value.second_moment, value.weight):
                    found[part.name] = part
            elif isinstance(value, Bound):
                found[value.threshold.name] = value.threshold
    for bound, _ in conditions.DATA_AND_STEP_CONDITIONS:
        found[bound.quantity.name] = bound.quantity
        found[bound.threshold.name] = bound.threshold
    return sorted(found.values(), key=lambda formula: formula.name)


FORMULAS = _public_formulas()


def _draw_value(data: st.DataObject, symbol: sp.Symbol) -> float:
    if symbol.name == "t":
        return float(data.draw(st.integers(1, 50)))
    if symbol.name == "q":
        return data.draw(st.floats(3.0, 6.0))
    if symbol.name == "jy":
        return float(data.draw(st.sampled_from([-1, 1])))
    if symbol.is_positive or symbol.is_nonnegative:
        return data.draw(st.floats(0.01, 0.45))
    return data.draw(st.floats(-1.0, 1.0).filter(lambda x: abs(x) > 1e-6))


def test_the_collection_is_not_empty() -> None:
    assert len(FORMULAS) >= 40


@pytest.mark.parametrize("formula", FORMULAS, ids=lambda f: f.name)
@given(data=st.data())
def test_numeric_equals_symbolic(formula: Formula, data: st.DataObject) -> None:
    values = {symbol: _draw_value(data, symbol) for symbol in formula.args}
    exact = {symbol: sp.Float(v, 40) for symbol, v in values.items()}
    for switch in formula.expr.atoms(
        sp.sign
    ):  # sgn is discontinuous at 0: float64 round-off may pick either side
        assume(abs(sp.N(switch.args[0].subs(exact), 30)) > 1e-9)
    reference = sp.N(formula.expr.subs(exact), 30)
    assume(reference.is_real and reference.is_finite)  # numpy's domain is the real line
    numeric = formula(**{symbol.name: value for symbol, value in values.items()})
    # float64 against 30 significant digits: the only error is float64 round-off through the
    # expression.
    assert numeric == pytest.approx(float(reference), rel=1e-8, abs=1e-12)


def test_numeric_broadcasts_over_arrays() -> None:
    lam = np.array([1e-5, 1e-3, 0.1])
    values = closed_forms.SIGNSGDW_FEATURE_FIXED_POINT(lam=lam)
    np.testing.assert_allclose(values, 1 / lam)
    constant = bounds.ADAMW_LAMBDA_CEILING(C_adamw_ceiling=np.ones((2, 2)))
    assert constant.shape == (2, 2)


def test_formulas_pickle_without_compiled_code() -> None:
    formula = bounds.LAMBDA_STAR_ADAM
    formula(q=3, alpha=0.2, sigma0=0.01, noise_norm=1.0, gamma0=0.0187)  # compile and cache
    restored = pickle.loads(pickle.dumps(formula))
    assert restored == formula and "function" not in repr(vars(restored))


def test_missing_and_unknown_arguments_are_named() -> None:
    with pytest.raises(ParameterError) as missing:
        bounds.ADAM_STUCK_FLOOR(sigma0=0.01, q=3)
    assert missing.value.name == "C_adam_stuck"
    with pytest.raises(ParameterError) as unknown:
        bounds.ADAM_STUCK_FLOOR(sigma0=0.01, q=3, C_adam_stuck=1, sigma=2)
    assert unknown.value.name == "sigma"


def test_latex_and_subs() -> None:
    assert "sigma" in bounds.ADAM_STUCK_FLOOR.latex()
    assert bounds.ADAM_STUCK_FLOOR.subs({"q": 3, "C_adam_stuck": 1}) == sp.Symbol(
        "sigma0", positive=True
    )
