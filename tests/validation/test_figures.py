"""Figures read as a reviewer reads them, through their matplotlib artists (not pixels): labelled
axes, legends whose line styles are the drawn ones, numeric order and log axes, at most four
columns, the theory's numbers drawn where the theory has them, every format written."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import matplotlib.colors as mcolors
import numpy as np
import pytest

from dynamics.recording import recorded_epochs
from dynamics.trajectory import METRICS, Trajectory
from theorykit import tang2025_synthetic
from theorykit.errors import ParameterError
from validation.reports.figures import (
    MAX_TRAJECTORY_PANELS,
    PREDICTED,
    QUANTITIES,
    THEORY,
    error_vs_figure,
    final_errors_figure,
    save_figure,
    theory_band,
    theory_marks,
    trajectory_figure,
)
from validation.reports.figures.style import (
    FORMATS_VARIABLE,
    figure_formats,
    other_formats_text,
)
from validation.runs.records import RunRecord


def _record(optimizer: str, B: int, lam: float, seed: int, epochs: int = 40) -> RunRecord:
    """A synthetic run of the paper's setting: features rise to 1 + seed/10, errors fall to 0."""
    params = tang2025_synthetic(optimizer=optimizer, B=B, lam=lam, epochs=epochs)
    epoch = tuple(float(e) for e in sorted(recorded_epochs(epochs, 10, 16)))
    ramp = np.asarray(epoch) / epochs
    values = {metric: tuple(float(v) for v in (1 + seed / 10) * ramp) for metric in METRICS}
    for metric in ("train_error", "test_error"):
        values[metric] = tuple(float(v) for v in 0.5 * (1 - ramp))
    return RunRecord(
        f"{optimizer}-{B}-{lam:g}-{seed}",
        f"{optimizer} B={B} lam={lam:g}",
        params,
        seed,
        seed,
        "overlapping",
        "balanced",
        epoch,
        values,
        {metric: series[-1] for metric, series in values.items()},
    )


def _grid(optimizers=("adam", "adamw"), batches=(2, 100), lams=(1e-5, 0.01), seeds=(0, 1)):
    return [
        _record(o, B, lam, s) for o in optimizers for B in batches for lam in lams for s in seeds
    ]


def _same_colour(a: object, b: object) -> bool:
    return np.allclose(mcolors.to_rgba(a), mcolors.to_rgba(b))


def _style(line) -> tuple[str, tuple]:
    return line.get_linestyle(), mcolors.to_rgba(line.get_color())


def test_the_trajectory_legend_states_the_drawn_encodings_and_every_axis_is_labelled() -> None:
    records = _grid()
    predicted = {
        r.key: Trajectory(
            np.asarray(r.epoch), {m: 0.9 * np.asarray(r.metrics[m], float) for m in METRICS}
        )
        for r in records
    }
    fig = trajectory_figure(records, "test", predicted)
    axes = fig.get_axes()
    assert len(axes) == 2 * 8
    for ax in axes:
        assert ax.get_title() or ax.get_xlabel(), "each panel pair has a title and an x label"
        if ax.get_xlabel():
            assert ax.get_xlabel() == "iteration $t$"
    drawn = {_style(line) for ax in axes for line in ax.get_lines()}
    styles = {style for style, _ in drawn}
    legend = fig.legends[0]
    for handle, text in zip(legend.legend_handles, legend.get_texts(), strict=True):
        assert text.get_text()
        if text.get_text().startswith(("CNN", "reduced", "faded")):  # an encoding: its line style
            assert handle.get_linestyle() in styles, f"{text.get_text()!r} is not drawn"
        else:  # a quantity or a theory mark: its colour and line style
            assert _style(handle) in drawn, f"legend entry {text.get_text()!r} is not drawn"
    labels = [text.get_text() for text in legend.get_texts()]
    assert QUANTITIES["feature_pos"].label in labels and "$" in labels[0]  # mathtext
    assert any("reduced dynamics" in label for label in labels)
    dashed = [h for h, t in zip(legend.legend_handles, labels, strict=True) if "reduced" in t]
    assert dashed[0].get_linestyle() == PREDICTED["ls"]


def test_thirty_two_grid_points_fit_in_four_columns_in_numeric_order() -> None:
    records = _grid(batches=(2, 8, 32, 100), lams=(1e-5, 1e-3, 0.01, 0.05), seeds=(0,))
    assert len(records) == 32
    fig = trajectory_figure(list(reversed(records)), "grid")
    specs = {ax.get_subplotspec().get_gridspec() for ax in fig.get_axes()}
    assert max(spec.ncols for spec in specs) <= 4
    titles = [ax.get_title().split("\n")[0] for ax in fig.get_axes() if ax.get_title()]
    batches = [int(t.split("B=")[1].split()[0]) for t in titles if t.startswith("adam B")]
    assert batches == sorted(batches) and batches[0] == 2  # B = 2 before B = 100
    assert MAX_TRAJECTORY_PANELS >= 32


def test_theory_marks_are_drawn_on_trajectories_where_the_theory_has_them() -> None:
    record = _record("adam", 2, 1e-5, 0, epochs=400)
    fig = trajectory_figure([record], "one")
    marks = theory_marks(record.params)
    horizon = 400 * record.params.iterations_per_epoch
    vertical = {
        round(line.get_xdata()[0], 6)
        for ax in fig.get_axes()
        for line in ax.get_lines()
        if len(set(line.get_xdata())) == 1
    }
    for name in ("stage1_length", "reversal_time"):
        if name in marks and marks[name].value <= horizon:
            assert round(marks[name].value, 6) in vertical, name
    assert len(fig.get_axes()) == 2 and fig.get_figwidth() == pytest.approx(3.3)


@pytest.mark.parametrize("axis", ["lam", "B"])
def test_error_vs_a_swept_parameter_is_log_numeric_with_the_theory_lines(axis: str) -> None:
    values = (1e-5, 1e-3, 0.01, 0.05) if axis == "lam" else (2, 8, 32, 100)
    records = [
        _record("adam", value if axis == "B" else 2, value if axis == "lam" else 1e-5, seed)
        for value in values
        for seed in (0, 1)
    ]
    fig = error_vs_figure(records, axis)
    ax = fig.get_axes()[0]
    assert ax.get_xscale() == "log" and ax.get_xlabel() and ax.get_ylabel()
    points = list(ax.containers)
    assert points, "an error bar series"
    xs = points[0].lines[0].get_xdata()
    assert list(xs) == sorted(xs) == sorted(values)
    assert points[0].has_yerr  # two seeds: mean +- sd
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    marks = theory_marks(records[0].params)
    wanted = ["lambda_star_adam"] if axis == "lam" else ["critical_batch_size"]
    for name in wanted:
        if name in marks:
            assert any(label.startswith(THEORY[name].label) for label in labels), labels
            lines = [
                line
                for line in ax.get_lines()
                if _same_colour(line.get_color(), THEORY[name].colour)
            ]
            assert lines and lines[0].get_linestyle() == "-."


def test_the_band_around_b_star_is_shaded_between_its_ends() -> None:
    """B*'s band (one run memorises with probability 0.1 to 0.9) is one span on the B axis from
    theory_band's lower to its upper end, in B*'s colour, named in the legend."""
    records = [_record("adam", B, 1e-5, seed) for B in (2, 8, 32, 100) for seed in (0, 1)]
    band = theory_band(records[0].params)
    assert band is not None and 0 < band.low < band.high < math.inf
    ax = error_vs_figure(records, "B").get_axes()[0]
    spans = [
        patch
        for patch in ax.patches
        if np.allclose(
            mcolors.to_rgb(patch.get_facecolor()),
            mcolors.to_rgb(THEORY["critical_batch_size"].colour),
        )
    ]
    assert len(spans) == 1
    assert spans[0].get_x() == pytest.approx(band.low)
    assert spans[0].get_x() + spans[0].get_width() == pytest.approx(band.high)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(label.startswith("one run memorises w.p. 0.1-0.9") for label in labels), labels


def test_final_errors_are_in_numeric_order_with_error_bars_and_the_papers_values() -> None:
    records = _grid(optimizers=("adam",), batches=(100, 2), lams=(0.01,))
    paper = {"adam B=100 lam=0.01": 0.9545}
    fig = final_errors_figure(records, "bars", paper)
    ax = fig.get_axes()[0]
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert ticks == ["adam B=2 lam=0.01", "adam B=100 lam=0.01"]
    bars = [c for c in ax.containers if hasattr(c, "has_yerr")]
    assert bars and all(c.has_yerr for c in bars)
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "test error reported by the paper" in labels
    reported = [
        line for line in ax.get_lines() if _same_colour(line.get_color(), THEORY["paper"].colour)
    ]
    assert reported and math.isclose(reported[0].get_ydata()[0], 0.9545)


@pytest.mark.parametrize(
    ("chosen", "suffixes"),
    [(None, [".pdf", ".png", ".svg"]), ("png", [".png"]), (" PDF,png, pdf", [".pdf", ".png"])],
)
def test_a_figure_is_written_as_png_pdf_and_svg_or_as_the_variable_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chosen: str | None, suffixes: list[str]
) -> None:
    if chosen is None:
        monkeypatch.delenv(FORMATS_VARIABLE, raising=False)
    else:
        monkeypatch.setenv(FORMATS_VARIABLE, chosen)
    fig = final_errors_figure(_grid(optimizers=("adam",), lams=(0.01,)), "formats")
    written = save_figure(fig, tmp_path / "f.png")
    assert sorted(p.suffix for p in written) == suffixes
    assert all(p.stat().st_size > 0 for p in written)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in written)
    others = [suffix for suffix in suffixes if suffix != ".png"]
    assert other_formats_text() == (f" (figures also as {', '.join(others)})" if others else "")


def test_an_unknown_figure_format_is_one_line_before_any_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from validation.cli import main

    monkeypatch.setenv(FORMATS_VARIABLE, "png,jpg")
    with pytest.raises(ParameterError, match="THEORYKIT_FIGURE_FORMATS"):
        figure_formats()
    assert main(["report", str(tmp_path / "absent.sqlite")]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "THEORYKIT_FIGURE_FORMATS" in lines[0] and "png,jpg" in lines[0]


def test_an_in_sample_threshold_is_drawn_faded_and_labelled() -> None:
    records = [_record("adam", B, 1e-5, seed, epochs=40) for B in (2, 8, 32, 100) for seed in (0,)]
    records = [
        dataclasses.replace(r, params=r.params.replace(epochs=4000)) for r in records
    ]  # the paper's setting at its calibration horizon: B* is in-sample there
    marks = theory_marks(records[0].params)
    if "critical_batch_size" not in marks or not marks["critical_batch_size"].in_sample:
        pytest.skip("B* is not calibrated on this setting")
    ax = error_vs_figure(records, "B").get_axes()[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("in-sample" in label for label in labels)
