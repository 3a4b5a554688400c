"""One figure style for the project: colours, symbols, line encodings and sizes, stated once.

* **The style sheet** ``validation/reports/figures/theorykit.mplstyle``: sizes readable at a paper's
  single-column width (:data:`COLUMN_WIDTH`, 3.3 in) and at full width (:data:`FULL_WIDTH`),
  STIX mathtext, embedded TrueType fonts in PDF, text kept as text in SVG. :func:`figure_style`
  applies it, then the user's own style sheet named by the environment variable
  :data:`USER_STYLE_VARIABLE` (so the user's choices win).
* **One colour per quantity** across every figure (:data:`QUANTITIES`), from the colour-blind-safe
  palettes of Okabe & Ito (2008) for measured quantities and of Tol (2021, "muted") for the
  theory's marks (:data:`THEORY`), each with its mathtext symbol. Series that differ by a
  parameter value (one curve per B or lam) take the colour-blind-safe sequential map
  :data:`SERIES_MAP` in numeric order.
* **Predicted vs measured** is a second encoding, not a colour: the CNN solid (:data:`MEASURED`),
  the reduced dynamics dashed (:data:`PREDICTED`), the theory's numbers dash-dotted
  (:data:`THEORY_LINE`); a theory value calibrated on this very setting (in-sample,
  ``theorykit.calibration``) is drawn faded (:data:`IN_SAMPLE_ALPHA`) and labelled so.
* Every figure is written as PNG, PDF and SVG (:func:`save_figure`), or in the formats the
  environment variable :data:`FORMATS_VARIABLE` names (:func:`figure_formats`).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

from theorykit.errors import ParameterError

#: The project's style sheet.
STYLE_SHEET = Path(__file__).with_name("theorykit.mplstyle")
#: Environment variable naming a style sheet (path or matplotlib style name) applied after ours.
USER_STYLE_VARIABLE = "THEORYKIT_MPLSTYLE"
#: A paper's single-column and full text widths (inches).
COLUMN_WIDTH = 3.3
FULL_WIDTH = 6.9
#: At most this many panel columns in a grid of small multiples.
MAX_COLUMNS = 4
#: The file formats every figure is written in by default.
FORMATS = (".png", ".pdf", ".svg")
#: Environment variable naming the formats to write instead, comma-separated (``png`` for a quick
#: look: PDF and SVG each cost about as much again as the PNG). A figure's own path (the PNG the
#: reports embed) is written whatever it says.
FORMATS_VARIABLE = "THEORYKIT_FIGURE_FORMATS"


class Quantity(NamedTuple):
    """A drawn quantity: its colour and its label in mathtext."""

    colour: str
    label: str


#: The recorded metrics (``dynamics.trajectory.METRICS``; gamma and rho as in
#: ``docs/conventions.md``), Okabe-Ito colours.
QUANTITIES: dict[str, Quantity] = {
    "feature_pos": Quantity("#0072B2", r"$\max_r\,\langle w_{+1,r},\, v\rangle$"),
    "feature_neg": Quantity("#D55E00", r"$\max_r\,\langle w_{-1,r},\, -v\rangle$"),
    "noise_max": Quantity("#009E73", r"$\max_i\max_r\,\langle w_{y_i,r},\, \xi_i\rangle$"),
    "noise_min": Quantity("#CC79A7", r"$\min_i\max_r\,\langle w_{y_i,r},\, \xi_i\rangle$"),
    "train_error": Quantity("#E69F00", "train error"),
    "test_error": Quantity("#000000", "test error"),
}
#: The theory's marks (``theorykit.finite_size``, ``theorykit.closed_forms``), Tol muted colours.
THEORY: dict[str, Quantity] = {
    "lambda_star_adam": Quantity("#332288", r"$\lambda^*_{\mathrm{Adam}}$"),
    "adamw_collapse_threshold": Quantity(
        "#882255", r"$\lambda_{\mathrm{collapse}}^{\mathrm{AdamW}}$"
    ),
    "critical_batch_size": Quantity("#117733", r"$B^*(T)$"),
    "asymptotic_critical_batch_size": Quantity("#44AA99", r"$B^*_\infty$"),
    "stage1_length": Quantity("#999933", r"$T_0$"),
    "reversal_time": Quantity("#CC6677", r"$T_r$"),
    "fixed_point": Quantity("#AA4499", r"$\gamma^*$ (Stage II)"),
    "paper": Quantity("#DDCC77", "paper"),
}
#: One colour per optimiser where series are optimisers (Tol "bright", apart from the above).
OPTIMIZERS: dict[str, str] = {
    "adam": "#4477AA",
    "adamw": "#EE6677",
    "signsgd": "#228833",
    "signsgdw": "#CCBB44",
    "gd": "#66CCEE",
}
#: The chance level of a balanced binary task, drawn on every error axis.
CHANCE = Quantity("#BBBBBB", "chance (0.5)")
#: Sequential colour map for series that differ by a parameter value (colour-blind safe).
SERIES_MAP = "cividis"
#: Line encodings (matplotlib keyword arguments).
MEASURED = {"ls": "-"}
PREDICTED = {"ls": "--", "lw": 1.0}
THEORY_LINE = {"ls": "-.", "lw": 0.9}
IN_SAMPLE_ALPHA = 0.45
#: Opacity of a shaded theory band (B*'s spread over seeds) behind the markers.
BAND_ALPHA = 0.15


def pyplot() -> Any:
    """matplotlib.pyplot on the headless Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


@contextlib.contextmanager
def figure_style() -> Iterator[None]:
    """Within the block, figures take :data:`STYLE_SHEET`, then the user's sheet named by
    :data:`USER_STYLE_VARIABLE` where set."""
    plt = pyplot()
    sheets = [str(STYLE_SHEET)]
    user = os.environ.get(USER_STYLE_VARIABLE)
    if user:
        sheets.append(user)
    with plt.style.context(sheets):
        yield


def literal(text: str) -> str:
    """``text`` (a run or sweep name, which a store may hold in any form) drawn as written:
    matplotlib's mathtext would parse a ``$`` in it and fail on an unbalanced one."""
    return text.replace("$", r"\$")


def number_text(value: float) -> str:
    """A number for a label: 3 significant digits, as mathtext (``1e-05`` as
    :math:`10^{-5}`)."""
    text = f"{value:.3g}"
    if "e" not in text:
        return text
    mantissa, exponent = text.split("e")
    power = f"10^{{{int(exponent)}}}"
    return f"${power}$" if mantissa == "1" else rf"${mantissa}\times {power}$"


def figure_formats() -> tuple[str, ...]:
    """The formats :func:`save_figure` writes: those :data:`FORMATS_VARIABLE` names (``png``,
    ``pdf``, ``svg``, comma-separated), :data:`FORMATS` where it is unset or empty. A
    :class:`~theorykit.errors.ParameterError` names any other value (the command line checks it
    before any work)."""
    value = os.environ.get(FORMATS_VARIABLE, "").strip()
    if not value:
        return FORMATS
    chosen = tuple(f".{name.strip().lower().lstrip('.')}" for name in value.split(","))
    if not all(name in FORMATS for name in chosen):
        rule = "comma-separated figure formats among " + ", ".join(f[1:] for f in FORMATS)
        raise ParameterError(FORMATS_VARIABLE, value, rule)
    return tuple(dict.fromkeys(chosen))


def other_formats_text() -> str:
    """`` (figures also as .pdf, .svg)``: the formats :func:`figure_formats` writes beside each
    figure's PNG, for a command's list of written files ("" where the PNG is all)."""
    others = [f for f in figure_formats() if f != ".png"]
    return f" (figures also as {', '.join(others)})" if others else ""


def save_figure(fig: Any, path: Path) -> list[Path]:
    """``path`` and the same figure in every other format of :func:`figure_formats` beside it,
    under :func:`figure_style` (its resolution and margins); the figure is closed. Returns the
    paths written."""
    path = Path(path)
    others = (f for f in figure_formats() if f != path.suffix.lower())
    written = [path, *(path.with_suffix(f) for f in others)]
    with figure_style():
        for target in written:
            fig.savefig(target)
            fig.set_layout_engine("none")  # laid out once: the other formats reuse the positions
    pyplot().close(fig)
    return written


def grid_shape(panels: int) -> tuple[int, int]:
    """(rows, columns) of a grid of ``panels`` small multiples, at most :data:`MAX_COLUMNS`
    columns."""
    columns = max(1, min(panels, MAX_COLUMNS))
    return -(-panels // columns), columns
