"""Every dotted name and repository path that the shipped text names resolves.

The text read: the docstrings, comments and string literals (error messages included) of every
module of theorykit, dynamics, validation, benchmarks and examples, and the README and docs. A
dotted name (``validation.runs.spec.EngineOptions.runs_fused``) resolves when its longest module
prefix imports and the rest are attributes of it (dataclass fields count); a path
(``validation/reports/figures/theorykit.mplstyle``) resolves when it exists. Placeholders (an
upper-case segment such as ``benchmarks/NAME.py``, or ``<device>``) are not paths.
"""

from __future__ import annotations

import importlib
import io
import re
import subprocess
import tokenize
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("theorykit", "dynamics", "validation")
DOTTED = re.compile(r"(?<![\w./-])((?:theorykit|dynamics|validation)(?:\.[A-Za-z_]\w*)+)")
PATH = re.compile(
    r"(?<![\w./-])((?:theorykit|dynamics|validation|benchmarks|examples|docs|tests|\.ci)/[\w./-]*\w)"
)
#: A file name that happens to start with a package's name (``theorykit.mplstyle``).
FILE_SUFFIX = re.compile(r"\.(py|md|toml|mplstyle|sqlite|csv|json|png|svg|pdf|parquet)$")
PLACEHOLDER = re.compile(r"(^|/)[A-Z]{2,}[\w.]*|<|_$")


def _shipped_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    roots = (*PACKAGES, "benchmarks", "examples", "docs")
    return sorted(
        name
        for name in listed
        if (name.endswith(".py") and name.startswith(roots))
        or (name.endswith(".md") and not name.startswith(("benchmarks/results/", "tests/")))
    )


def _prose(path: Path) -> str:
    """A Python file's docstrings, comments and string literals; a markdown file whole."""
    text = path.read_text()
    if path.suffix != ".py":
        return text
    tokens = tokenize.generate_tokens(io.StringIO(text).readline)
    return "\n".join(
        tok.string for tok in tokens if tok.type in (tokenize.STRING, tokenize.COMMENT)
    )


def resolves(name: str) -> bool:
    """Whether ``name`` is an importable module or an attribute path under one."""
    parts = name.split(".")
    for split in range(len(parts), 0, -1):
        try:
            target = importlib.import_module(".".join(parts[:split]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[split:]:
            fields = getattr(target, "__dataclass_fields__", {})
            if attribute in fields and not hasattr(target, attribute):
                return True
            if not hasattr(target, attribute):
                return False
            target = getattr(target, attribute)
        return True
    return False


def unresolved(relative: str) -> list[str]:
    """The dotted names and paths in ``relative``'s text that do not resolve."""
    text = _prose(ROOT / relative)
    missing = []
    for match in DOTTED.finditer(text):
        name = match.group(1)
        if not FILE_SUFFIX.search(name) and not resolves(name):
            missing.append(name)
    for match in PATH.finditer(text):
        path = match.group(1).rstrip(".")
        if not PLACEHOLDER.search(path) and not (ROOT / path).exists():
            missing.append(path)
    return sorted(set(missing))


@pytest.mark.parametrize("relative", _shipped_files())
def test_every_named_module_attribute_and_path_exists(relative: str) -> None:
    assert unresolved(relative) == []


def test_a_stale_name_is_caught() -> None:
    assert not resolves("validation.sweep_spec")
    assert not resolves("validation.runs.spec.EngineOptions.no_such_method")
    assert resolves("validation.runs.spec.EngineOptions.runs_fused")
    assert resolves("theorykit.params.ProblemParams.n")
