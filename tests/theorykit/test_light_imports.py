"""Constructing a setting needs neither sympy nor scipy: ``import theorykit.params`` loads them
only when a formula is evaluated (``ProblemParams.formula_values``, ``.conditions()``)."""

from __future__ import annotations

import subprocess
import sys

#: Modules that ``import theorykit.params`` must not load: the symbolic core and the quadratures.
HEAVY = ("sympy", "scipy.integrate")


def _loaded_by(statement: str) -> tuple[list[str], str]:
    """The modules in ``sys.modules`` after ``statement`` in a fresh interpreter, and its
    ``-X importtime`` report (to show which import pulled a heavy module in)."""
    ran = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"{statement}; import sys; print(*sys.modules)"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return ran.stdout.split(), ran.stderr


def test_importing_the_parameters_loads_neither_sympy_nor_scipy_integrate() -> None:
    loaded, report = _loaded_by("import theorykit.params")
    assert "theorykit.params" in loaded
    heavy = [name for name in HEAVY if name in loaded]
    chain = [line for line in report.splitlines() if "theorykit" in line]
    assert heavy == [], "\n".join(chain)


def test_a_formula_value_still_loads_what_it_needs() -> None:
    loaded, _ = _loaded_by("import theorykit.params as p; p.tang2025_synthetic().formula_values()")
    assert all(name in loaded for name in HEAVY)


def test_the_command_line_starts_without_scipy_stats() -> None:
    """scipy.stats (a third of a second, through scipy.signal too) loads only when the class
    flips' quasi-random draws or Adam's step amplification are first computed, not with every
    command."""
    loaded, report = _loaded_by("import theorykit.cli")
    chain = [line for line in report.splitlines() if "theorykit" in line or "scipy.s" in line]
    assert "scipy.stats" not in loaded, "\n".join(chain)
