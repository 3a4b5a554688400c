"""``validation.compare_setting`` refuses every bad argument with one ParameterError naming the
parameter, before anything trains (issue 24, item 10): one row per case, training replaced by a
function that fails the test if it is reached."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from theorykit import ParameterError, tang2025_synthetic
from validation.experiments import setting_comparison
from validation.runs.spec import RunSpec

PARAMS = tang2025_synthetic(n=40, s=20, m=5, B=20, epochs=2, bias_correction=True)


class _Trained(Exception):
    """Raised in place of training: the arguments were accepted."""


@pytest.fixture
def no_training(monkeypatch: pytest.MonkeyPatch) -> list[list[RunSpec]]:
    """Training and prediction replaced by a recorder that raises :class:`_Trained`."""
    reached: list[list[RunSpec]] = []

    def refuse(specs: list[RunSpec], *_: Any, **__: Any) -> None:
        reached.append(list(specs))
        raise _Trained

    monkeypatch.setattr(setting_comparison, "train", refuse)
    monkeypatch.setattr(setting_comparison, "predict", refuse)
    return reached


#: (case, keyword arguments of compare_setting, the parameter named, a fragment of the rule).
BAD: list[tuple[str, dict[str, Any], str, str]] = [
    ("params None", {"params": None}, "params", "ProblemParams"),
    ("params a dict", {"params": {"n": 40}}, "params", "ProblemParams"),
    ("params a preset name", {"params": "paper"}, "params", "ProblemParams"),
    ("bare int", {"seeds": 3}, "seeds", "a sequence of seeds, e.g. (0, 1)"),
    ("bare numpy int", {"seeds": np.int64(3)}, "seeds", "a sequence of seeds"),
    ("bare float", {"seeds": 1.0}, "seeds", "a sequence of seeds"),
    ("None", {"seeds": None}, "seeds", "a sequence of seeds"),
    ("a string", {"seeds": "01"}, "seeds", "a sequence of seeds"),
    ("bytes", {"seeds": b"\x00"}, "seeds", "a sequence of seeds"),
    ("empty tuple", {"seeds": ()}, "seeds", "at least one seed"),
    ("empty iterator", {"seeds": iter(())}, "seeds", "at least one seed"),
    ("float seed", {"seeds": (0, 1.0)}, "seeds", "integers"),
    ("numpy float seed", {"seeds": (np.float64(2),)}, "seeds", "integers"),
    ("bool seed", {"seeds": (True,)}, "seeds", "integers"),
    ("numpy bool seed", {"seeds": [np.bool_(True)]}, "seeds", "integers"),
    ("string seed", {"seeds": ("0",)}, "seeds", "integers"),
    ("negative seed", {"seeds": (-1,)}, "seeds", "[0, 2^32)"),
    ("seed 2^32", {"seeds": (2**32,)}, "seeds", "[0, 2^32)"),
    ("numpy seed 2^32", {"seeds": (np.uint64(2**32),)}, "seeds", "[0, 2^32)"),
    ("repeated seed", {"seeds": (0, np.int32(0))}, "seeds", "no repeated seed"),
    ("unknown supports", {"supports": "disjoint-ish"}, "supports", ""),
    ("unknown labels", {"labels": "skewed"}, "labels", ""),
    ("options a dict", {"options": {"test_size": 10}}, "options", "EngineOptions"),
]


@pytest.mark.parametrize(
    ("arguments", "name", "rule"), [case[1:] for case in BAD], ids=[case[0] for case in BAD]
)
def test_a_bad_argument_is_refused_before_training(
    no_training: list[list[RunSpec]], arguments: dict[str, Any], name: str, rule: str
) -> None:
    with pytest.raises(ParameterError) as caught:
        setting_comparison.compare_setting(**{"params": PARAMS, **arguments})
    assert caught.value.name == name and rule in caught.value.rule
    assert "\n" not in str(caught.value)
    assert no_training == []


@pytest.mark.parametrize(
    "seeds",
    [(0, 1), [2**32 - 1], (np.int64(3), np.uint8(4)), range(2), (s for s in (5,))],
    ids=["tuple", "largest", "numpy ints", "range", "generator"],
)
def test_legal_seeds_reach_training_as_python_ints(
    no_training: list[list[RunSpec]], seeds: Any
) -> None:
    with pytest.raises(_Trained):
        setting_comparison.compare_setting(PARAMS, seeds=seeds)
    (specs,) = no_training
    assert all(type(spec.data_seed) is int and type(spec.init_seed) is int for spec in specs)
