"""The public faces of theorykit, dynamics and validation: what each package's ``__all__`` offers
resolves, imports nothing heavy until used, is what the README documents, and is enough for the
examples and the README's code to import from two levels at most (``from validation import
compare_setting``, ``from validation.reports import figures``)."""

from __future__ import annotations

import ast
import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
#: Package -> the heavy modules ``import PACKAGE`` must not load.
LIGHT_IMPORTS = {
    "theorykit": ("sympy", "scipy", "numba", "torch"),
    "dynamics": ("sympy", "numba", "torch"),
    "validation": ("numba", "torch", "matplotlib"),
}


@pytest.mark.parametrize("package", sorted(LIGHT_IMPORTS))
def test_every_public_name_resolves(package: str) -> None:
    module = importlib.import_module(package)
    assert module.__all__, f"{package} has no public face"
    for name in module.__all__:
        assert getattr(module, name) is not None, f"{package}.{name}"


@pytest.mark.parametrize("package", sorted(LIGHT_IMPORTS))
def test_importing_a_package_loads_nothing_heavy(package: str) -> None:
    loaded = subprocess.run(
        [sys.executable, "-c", f"import sys, {package}; print(' '.join(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout.split()
    assert not [heavy for heavy in LIGHT_IMPORTS[package] if heavy in loaded]


@pytest.mark.parametrize("package", sorted(LIGHT_IMPORTS))
def test_the_readme_documents_every_public_name(package: str) -> None:
    module = importlib.import_module(package)
    documented = set(re.findall(r"`(?:[\w.]+\.)?(\w+)(?:\(\))?`", README))
    assert sorted(set(module.__all__) - documented) == []


def _import_depths(source: str) -> list[tuple[str, int]]:
    """Each first-party import in ``source`` and its module's depth (``validation.reports``: 2)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            if name.split(".")[0] in LIGHT_IMPORTS:
                found.append((name, name.count(".") + 1))
    return found


def _readme_code() -> str:
    return "\n".join(re.findall(r"```python\n(.*?)```", README, flags=re.S))


@pytest.mark.parametrize(
    "source",
    [*sorted((ROOT / "examples").glob("*.py")), "README.md"],
    ids=lambda source: getattr(source, "name", source),
)
def test_examples_and_the_readme_import_from_two_levels_at_most(source: Path | str) -> None:
    code = _readme_code() if source == "README.md" else Path(source).read_text()
    assert [name for name, depth in _import_depths(code) if depth > 2] == []


def test_a_deep_import_is_counted() -> None:
    assert _import_depths("from validation.reports.figures import save_figure") == [
        ("validation.reports.figures", 3)
    ]
