"""ProblemParams: validation (every bad value raises the documented error), immutability, round
trips."""

import dataclasses
import pickle
import re

import pytest
from hypothesis import given

from theorykit import ParameterError, ProblemParams, tang2025_synthetic
from theorykit.testing import strategies as tks


@given(tks.problem_params())
def test_valid_settings_construct_and_round_trip(params: ProblemParams) -> None:
    assert ProblemParams.from_dict(params.to_dict()) == params
    assert pickle.loads(pickle.dumps(params)) == params


@given(tks.invalid_override())
def test_every_invalid_value_raises_an_error_naming_the_field(override: tuple[str, object]) -> None:
    name, value = override
    with pytest.raises(ParameterError) as caught:
        tang2025_synthetic(**{name: value})
    assert caught.value.name == name
    assert repr(value) in str(caught.value) or name == "optimizer"
    assert "breaks the rule" in str(caught.value)


@pytest.mark.parametrize(
    ("overrides", "field", "rule"),
    [
        ({"q": 2}, "q", "q >= 3"),
        ({"B": 201}, "B", "B <= n = 200"),
        ({"s": 1000}, "s", "s <= d - 1 = 999"),
        ({"optimizer": "adamw", "lam": 1e5}, "lam", "eta * lam < 1"),
        ({"n": 200.5}, "n", "must be an integer"),
        ({"optimizer": "sgdm"}, "optimizer", "one of adam, adamw, signsgd, signsgdw, gd"),
    ],
)
def test_documented_rules(overrides: dict, field: str, rule: str) -> None:
    with pytest.raises(ParameterError, match=re.escape(rule)) as caught:
        tang2025_synthetic(**overrides)
    assert caught.value.name == field


def test_frozen_and_replace_revalidates() -> None:
    params = tang2025_synthetic()
    with pytest.raises(dataclasses.FrozenInstanceError):
        params.q = 4  # type: ignore[misc]
    assert params.replace(B=2).steps_per_epoch == 100
    with pytest.raises(ParameterError, match="B >= 1"):
        params.replace(B=0)
    with pytest.raises(ParameterError) as caught:
        params.replace(batch=3)
    assert caught.value.name == "batch"


def test_from_dict_rejects_unknown_and_missing_keys() -> None:
    values = tang2025_synthetic().to_dict()
    with pytest.raises(ParameterError) as unknown:
        ProblemParams.from_dict({**values, "lr": 0.1})
    assert unknown.value.name == "lr"
    del values["sigma0"]
    with pytest.raises(ParameterError, match="is required") as missing:
        ProblemParams.from_dict(values)
    assert missing.value.name == "sigma0"


def test_integral_floats_are_stored_as_int() -> None:
    params = tang2025_synthetic(n=200.0, B=16.0)
    assert isinstance(params.n, int) and isinstance(params.B, int)


def test_error_survives_pickling() -> None:
    error = pickle.loads(pickle.dumps(ParameterError("q", 2, "q >= 3")))
    assert (error.name, error.value, error.rule) == ("q", 2, "q >= 3")
