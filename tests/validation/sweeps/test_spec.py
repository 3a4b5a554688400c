"""Sweep specs: expansion into runs, and hostile input -- every bad value is a ParameterError naming
its place."""

import contextlib
import io
import string
import tomllib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from theorykit import ParameterError, tang2025_synthetic
from validation.cli import main
from validation.sweeps.grid import (
    DATA_KEYS,
    ENGINE_KEYS,
    PARAM_FIELDS,
    TOP_LEVEL_KEYS,
    parse_spec,
    parse_spec_text,
)

VALID = """
name = "tiny"
seeds = [0, 1]
group_size = 3
[params]
n = 20
d = 100
s = 4
epochs = 3
[grid]
optimizer = ["adam", "adamw"]
B = [2, 10]
lam = [1e-5, 0.01]
[data]
supports = "disjoint"
[engine]
record_every = 1
test_size = 50
dtype = "float32"
"""


def _valid() -> dict:
    import tomllib

    return tomllib.loads(VALID)


def test_grid_times_seeds_expands_into_validated_runs() -> None:
    spec = parse_spec_text(VALID)
    assert (
        spec.name == "tiny"
        and spec.axes == ("optimizer", "B", "lam")
        and len(spec.runs) == 2 * 2 * 2 * 2
    )
    first = spec.runs[0]
    assert first.params == tang2025_synthetic(
        n=20, d=100, s=4, epochs=3, optimizer="adam", B=2, lam=1e-5
    )
    assert (first.data_seed, first.init_seed, first.supports, first.name) == (
        0,
        0,
        "disjoint",
        "optimizer=adam B=2 lam=1e-05",
    )
    assert spec.options.dtype == "float32" and spec.options.record_every == 1
    # 4 (optimizer, B) groups of 4 members, split into tasks of at most group_size = 3
    assert [len(task) for task in spec.tasks()] == [3, 1] * 4
    assert "16 runs" in spec.describe() and "8 tasks" in spec.describe()


@pytest.mark.parametrize(
    ("edit", "place"),
    [
        (lambda d: d["grid"].update(lam=[1e-5, -1.0]), "grid.lam"),
        (lambda d: d["grid"].update(B=[2, 30]), "grid.B"),
        (lambda d: d["params"].update(q=2), "params.q"),
        (lambda d: d["params"].update(sigma0="0.01"), "params.sigma0"),
        (lambda d: d["grid"].update(optimizer=["adam", "adamm"]), "grid.optimizer"),
        (lambda d: d["grid"].update(lam=[]), "grid.lam"),
        (lambda d: d["grid"].update(lam=[0.1, 0.1]), "grid.lam"),
        (lambda d: d["grid"].update(lamda=[0.1]), "grid.lamda"),
        (lambda d: d["params"].update(lam=0.1), "grid.lam"),
        (lambda d: d["params"].update(s=10), "params.s"),  # disjoint supports need n s <= d - 1
        (lambda d: d["engine"].update(dtype="float16"), "engine.dtype"),
        (lambda d: d["engine"].update(record_every=0), "engine.record_every"),
        (lambda d: d.update(seeds=[0, 0]), "seeds"),
        (lambda d: d.update(seeds=[-1]), "seeds"),
        (lambda d: d.update(seeds=[2**40]), "seeds"),
        (lambda d: d.update(base="tang2024"), "base"),
        (lambda d: d.update(name="../etc"), "name"),
        (lambda d: d.update(grid=[1, 2]), "grid"),
        (lambda d: d.update(extra=1), "extra"),
    ],
)
def test_a_bad_value_is_named_by_its_place_in_the_file(edit, place: str) -> None:
    document = _valid()
    edit(document)
    with pytest.raises(ParameterError) as caught:
        parse_spec(document)
    assert caught.value.name == place
    assert str(caught.value).startswith(f"parameter {place!r} = ")


def test_a_toml_syntax_error_names_the_line() -> None:
    with pytest.raises(ParameterError, match="line 2") as caught:
        parse_spec_text("name = 'x'\n[grid\nB = [2]\n")
    assert caught.value.name == "spec"


# ---- fuzzing
# -------------------------------------------------------------------------------------------

_scalars = st.one_of(
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.text(string.printable, max_size=12),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
_places = st.one_of(
    st.tuples(st.just(None), st.sampled_from((*TOP_LEVEL_KEYS, "nme", "Grid"))),
    st.tuples(st.just("params"), st.sampled_from((*PARAM_FIELDS, "sigma", "lr"))),
    st.tuples(st.just("grid"), st.sampled_from((*PARAM_FIELDS, "seed", "batch"))),
    st.tuples(st.just("data"), st.sampled_from((*DATA_KEYS, "support"))),
    st.tuples(st.just("engine"), st.sampled_from((*ENGINE_KEYS, "device", "compile"))),
)


def _known_places(document: dict) -> set[str]:
    places = {"spec", *TOP_LEVEL_KEYS, *document}
    for section in ("params", "grid", "data", "engine"):
        table = document.get(section)
        places |= {f"{section}.{key}" for key in (table if isinstance(table, dict) else {})}
    places |= {f"grid.{field}" for field in PARAM_FIELDS} | {
        f"params.{field}" for field in PARAM_FIELDS
    }
    places |= {f"base.{field}" for field in PARAM_FIELDS} | {
        f"data.{key}" for key in ("s", "n", *DATA_KEYS)
    }
    return places


@given(place=_places, value=_values)
def test_fuzzed_spec_loads_or_names_a_place_in_the_file(place: tuple, value: object) -> None:
    """Any value anywhere: a valid sweep, or a ParameterError named by a place of the document."""
    section, key = place
    document = _valid()
    if section is None:
        document[key] = value
    else:
        document[section] = (
            {**document[section], key: value}
            if isinstance(document.get(section), dict)
            else {key: value}
        )
    try:
        spec = parse_spec(document)
    except ParameterError as error:
        assert error.name in _known_places(document), error
        return
    assert spec.runs and all(run.params.n >= 2 for run in spec.runs)


@given(
    field=st.sampled_from([f for f in PARAM_FIELDS if f not in ("optimizer", "bias_correction")]),
    value=st.one_of(
        st.text(max_size=8),
        st.lists(st.integers(), max_size=2),
        st.booleans(),
        st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    ),
)
def test_a_non_number_in_a_numeric_field_is_named_exactly(field: str, value: object) -> None:
    document = _valid()
    document["grid"] = {"lam": [1e-5]} if field != "lam" else {"B": [2]}
    document["params"] = {**document["params"], field: value}
    with pytest.raises(ParameterError) as caught:
        parse_spec(document)
    assert caught.value.name == f"params.{field}"


@given(st.text(max_size=200))
def test_fuzzed_text_is_a_spec_or_a_named_error(text: str) -> None:
    try:
        parse_spec_text(text)
    except ParameterError as error:
        # An unknown top-level key is named as the user wrote it; every other error names a known
        # section, a dotted field inside one, or the document itself ("spec").
        try:
            written = set(tomllib.loads(text))
        except tomllib.TOMLDecodeError:
            written = set()
        assert error.name in {"spec", *TOP_LEVEL_KEYS, *written} or "." in error.name


@given(
    field=st.sampled_from(
        ["n", "d", "s", "q", "B", "lam", "eta", "sigma0", "beta1", "eps", "epochs"]
    ),
    text=st.text(string.printable, min_size=1, max_size=10).filter(lambda t: not t.startswith("-")),
)
def test_fuzzed_cli_flags_exit_cleanly(field: str, text: str) -> None:
    """A typo on the command line: exit status 0 (valid) or 2 (argparse or ParameterError with the
    field's name); any other exception propagates and fails the test."""
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        try:
            status = main(["bounds", f"--{field}", text])
        except SystemExit as exit_:  # argparse rejects a non-number with status 2
            status = exit_.code
    assert status in (0, 2)
    if status == 2:
        assert f"{field}" in err.getvalue()


def test_sweep_cli_reports_a_bad_spec_without_training(tmp_path, capsys) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(VALID.replace("lam = [1e-5, 0.01]", "lam = [1e-5, 'big']"))
    assert main(["sweep", str(path), "--store", str(tmp_path / "r.sqlite")]) == 2
    assert "'grid.lam' = 'big'" in capsys.readouterr().err and not (tmp_path / "r.sqlite").exists()
    assert main(["sweep", str(tmp_path / "missing.toml")]) == 2
    assert main(["sweep", str(path), "--executor", "slurm://x"]) == 2
