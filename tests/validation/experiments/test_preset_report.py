"""A preset's report puts every run's prediction next to its measurement, resumably."""

from pathlib import Path

import pytest

from theorykit import tang2025_synthetic
from validation.experiments import prediction
from validation.experiments.preset_report import predict_preset, run_preset, write_report
from validation.experiments.presets import Preset
from validation.reports.figures.style import figure_formats
from validation.runs.spec import EngineOptions, RunSpec
from validation.store.results import ResultsStore


def _tiny_preset() -> Preset:
    base = tang2025_synthetic(n=40, s=20, m=5, epochs=20, eta=1e-3, B=4, bias_correction=True)
    specs = (
        RunSpec(base.replace(optimizer="adam", lam=1e-5), 0, 0, name="adam"),
        RunSpec(base.replace(optimizer="adam", lam=1e-5), 1, 1, name="adam"),
        RunSpec(base.replace(optimizer="adamw", lam=0.01), 0, 0, "disjoint", name="adamw"),
    )
    return Preset("tiny", "two optimisers", specs, EngineOptions(record_every=5, test_size=200), ())


def test_every_run_is_predicted_stored_and_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    preset = _tiny_preset()
    records = run_preset(preset, tmp_path)
    predicted = predict_preset(preset, records, tmp_path)
    assert set(predicted) == {record.key for record in records}
    assert {reduction for reduction, _ in predicted.values()} == {
        "overlap-aware",
        "support-resolved",
    }
    with ResultsStore(tmp_path / "results.sqlite") as store:
        assert set(store.predictions(predicted)) == set(predicted)

    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("a stored prediction was computed again")

    monkeypatch.setattr(prediction, "predict_group", fail)
    assert predict_preset(preset, records, tmp_path).keys() == predicted.keys()

    text, _, _ = write_report(preset, records, tmp_path, predicted)
    assert "## Theory next to simulation" in text
    assert "finite-size verdict" in text and "theorem (asymptotic)" in text
    table = text.split("## Theory next to simulation")[1].split("\n## ")[0]
    assert sum(line.startswith("| adam ") for line in table.splitlines()) == 2  # both seeds
    assert "Agree on every criterion:" in table
    assert text.split("\n## ")[1].startswith("Conclusion")
    for figure in ("trajectories", "agreement"):
        assert all((tmp_path / f"{figure}{f}").stat().st_size > 0 for f in figure_formats())


def test_a_preset_that_does_not_predict_says_why(tmp_path: Path) -> None:
    preset = Preset(
        "tiny",
        "no prediction",
        _tiny_preset().specs[:1],
        EngineOptions(record_every=5, test_size=200),
        (),
        predict=False,
        predict_note="too long to predict here",
    )
    records = run_preset(preset, tmp_path)
    assert predict_preset(preset, records, tmp_path) == {}
    text, _, _ = write_report(preset, records, tmp_path, {})
    assert "no prediction for 1 run (adam (seed 0)): too long to predict here" in text
