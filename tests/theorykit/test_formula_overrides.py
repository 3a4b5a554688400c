"""``Formula.at(params, **{field: v})`` is ``Formula.at(params.replace(field=v))``: no derived value
(``gamma0``, ``noise_norm``) is kept from the setting an override changes, for every formula of
theorykit, every field it reads (directly or through a derived value), scalar and array ``v``."""

import importlib
import pkgutil

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import theorykit
from theorykit import ParameterError, tang2025_synthetic
from theorykit.formula import Formula
from theorykit.initialization import DERIVED_FROM

BASE = tang2025_synthetic()
FIELDS = set(BASE.to_dict())


def _all_formulas() -> list[Formula]:
    found: dict[int, Formula] = {}
    for info in pkgutil.walk_packages(theorykit.__path__, "theorykit."):
        if info.name.startswith("theorykit.testing"):
            continue
        for value in vars(importlib.import_module(info.name)).values():
            if isinstance(value, Formula):
                found[id(value)] = value
    return sorted(found.values(), key=lambda formula: formula.name)


def _fields_read(formula: Formula) -> list[str]:
    names = set(formula.arg_names)
    read = names & FIELDS
    for derived, sources in DERIVED_FROM.items():
        if derived in names:
            read |= set(sources)
    return sorted(read)


#: (formula, field) for every field each formula reads.
CASES = [(formula, field) for formula in _all_formulas() for field in _fields_read(formula)]

#: Values of the formulas' other arguments (the same on both sides of the comparison).
EXTRA_VALUE = {"jy": 1.0, "sampled": 1.0, "P": 4.0, "horizon": 1000.0, "tau": 1.0, "W0": 0.04}

#: A valid range per numeric field around the paper's setting (B = 16, d = 1000, s = 100).
FIELD_VALUES = {
    "n": st.integers(16, 400),
    "d": st.integers(101, 3000),
    "s": st.integers(1, 999),
    "sigma_p": st.floats(0.01, 1.0),
    "alpha": st.floats(0.0, 0.9),
    "m": st.integers(1, 40),
    "q": st.floats(3.0, 6.0),
    "sigma0": st.floats(1e-3, 0.1),
    "eta": st.floats(1e-6, 1e-2),
    "B": st.integers(1, 200),
    "lam": st.floats(0.0, 1.0),
    "beta1": st.floats(0.0, 0.99),
    "beta2": st.floats(0.0, 0.9999),
    "eps": st.floats(0.0, 1e-6),
    "epochs": st.integers(1, 100_000),
}


def test_every_formula_reads_a_field() -> None:
    assert len(CASES) > 40
    assert {field for _, field in CASES} >= {"sigma0", "m", "s", "sigma_p", "alpha", "eta", "n"}


def _extras(formula: Formula) -> dict[str, float]:
    values = BASE.formula_values()
    return {name: EXTRA_VALUE.get(name, 0.5) for name in formula.arg_names if name not in values}


@pytest.mark.parametrize(("formula", "field"), CASES, ids=[f"{f.name}-{k}" for f, k in CASES])
@given(data=st.data())
def test_override_equals_replace(formula: Formula, field: str, data: st.DataObject) -> None:
    values = data.draw(st.lists(FIELD_VALUES[field], min_size=1, max_size=3), label=field)
    try:
        settings = [BASE.replace(**{field: value}) for value in values]
    except ParameterError:
        assume(False)
    extras = _extras(formula)
    expected = np.array([formula.at(setting, **extras) for setting in settings], dtype=float)
    scalar = formula.at(BASE, **{field: values[0]}, **extras)
    array = formula.at(BASE, **{field: np.array(values)}, **extras)
    np.testing.assert_allclose(scalar, expected[0], rtol=1e-12, equal_nan=True)
    np.testing.assert_allclose(array, expected, rtol=1e-12, equal_nan=True)


def test_a_derived_value_cannot_be_overridden() -> None:
    with pytest.raises(ParameterError, match=r"gamma0.*sigma0, m"):
        BASE.formula_values(gamma0=0.1)
