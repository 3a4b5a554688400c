"""Figures of stored runs, predictions and the theory (matplotlib, headless; torch-free).

The public face; each figure has its own module:

* :mod:`.style` -- one style for every figure: the shipped style sheet, one colour and mathtext
  symbol per quantity, CNN solid / reduced dynamics dashed / theory dash-dotted, PNG + PDF + SVG;
* :mod:`.trajectories` -- :func:`trajectory_figure`, :func:`plot_trajectories`: Tang et al.
  Figs 3-6 per grid point, small multiples, with T0, T_r and the Stage-II level;
* :mod:`.errors` -- :func:`plot_final_errors` (per grid point, with the paper's values) and
  :func:`plot_error_vs` (against B or lam, with B*, lambda*_Adam and the collapse threshold);
* :mod:`.phase` -- :func:`plot_phase_diagram`;
* :mod:`.theory` -- the theory's numbers at a setting, as marks and B*'s band; :mod:`.layout`
  -- numeric order.

A failed run's metrics are None in the records and NaN here (matplotlib leaves a gap).
"""

from validation.reports.figures.errors import (
    error_vs_figure,
    final_errors_figure,
    plot_error_vs,
    plot_final_errors,
)
from validation.reports.figures.layout import ordered_groups, varying_fields
from validation.reports.figures.phase import plot_phase_diagram
from validation.reports.figures.style import (
    COLUMN_WIDTH,
    FULL_WIDTH,
    MEASURED,
    PREDICTED,
    QUANTITIES,
    THEORY,
    THEORY_LINE,
    figure_style,
    grid_shape,
    literal,
    pyplot,
    save_figure,
)
from validation.reports.figures.theory import theory_band, theory_marks
from validation.reports.figures.trajectories import (
    COEFFICIENT_METRICS,
    MAX_TRAJECTORY_PANELS,
    plot_trajectories,
    trajectory_figure,
)

__all__ = [
    "COEFFICIENT_METRICS",
    "COLUMN_WIDTH",
    "FULL_WIDTH",
    "MAX_TRAJECTORY_PANELS",
    "MEASURED",
    "PREDICTED",
    "QUANTITIES",
    "THEORY",
    "THEORY_LINE",
    "error_vs_figure",
    "figure_style",
    "final_errors_figure",
    "grid_shape",
    "literal",
    "ordered_groups",
    "plot_error_vs",
    "plot_final_errors",
    "plot_phase_diagram",
    "plot_trajectories",
    "pyplot",
    "save_figure",
    "theory_band",
    "theory_marks",
    "trajectory_figure",
    "varying_fields",
]
