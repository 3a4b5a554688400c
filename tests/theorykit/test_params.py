"""ProblemParams: validation (every bad value raises the documented error), immutability, round
trips."""

import dataclasses
import math
import pickle
import re

import pytest
from hypothesis import given

from theorykit import ParameterError, ProblemParams, tang2025_synthetic
from theorykit.params import MAX_COUNT, SCALE_MAX, SCALE_MIN
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


#: Each count at 10^9 with the fields its other rules tie it to (s <= d - 1, B <= n).
_COUNTS_AT_THE_CAP = {
    "n": {"n": MAX_COUNT},
    "d": {"d": MAX_COUNT},
    "s": {"d": MAX_COUNT, "s": MAX_COUNT - 1},
    "m": {"m": MAX_COUNT},
    "B": {"n": MAX_COUNT, "B": MAX_COUNT},
    "epochs": {"epochs": MAX_COUNT},
}


@pytest.mark.parametrize("field", sorted(_COUNTS_AT_THE_CAP))
def test_counts_end_at_ten_to_the_nine(field: str) -> None:
    at_cap = _COUNTS_AT_THE_CAP[field]
    assert getattr(tang2025_synthetic(**at_cap), field) == at_cap[field]
    for beyond in (MAX_COUNT + 1, 1e308, 10**400):
        overrides = {**at_cap, field: beyond}
        with pytest.raises(ParameterError) as caught:
            tang2025_synthetic(**overrides)
        assert caught.value.name == field and caught.value.value == beyond
        assert caught.value.rule.startswith(f"{field} <= 10^9 ("), caught.value.rule


@pytest.mark.parametrize("field", ["sigma_p", "sigma0", "eta", "lam", "eps"])
def test_scales_are_normal_float32_numbers(field: str) -> None:
    for legal in (SCALE_MIN, SCALE_MAX):
        assert getattr(tang2025_synthetic(**{field: legal}), field) == legal
    for beyond in (
        math.nextafter(SCALE_MAX, math.inf),
        1e308,
        math.nextafter(SCALE_MIN, 0),
        5e-324,
    ):
        with pytest.raises(ParameterError, match="normal float32") as caught:
            tang2025_synthetic(**{field: beyond})
        assert caught.value.name == field and caught.value.value == beyond
        assert "\n" not in str(caught.value)


def test_zero_decay_and_zero_eps_stay_legal() -> None:
    params = tang2025_synthetic(lam=0, eps=0)
    assert params.lam == 0.0 and params.eps == 0.0


def test_huge_integers_name_the_field_instead_of_overflowing() -> None:
    for field in ("eta", "sigma_p", "q", "lam"):
        with pytest.raises(ParameterError) as caught:
            tang2025_synthetic(**{field: 10**400})
        assert caught.value.name == field
