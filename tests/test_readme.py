"""The README's public-name table names things that exist: every backticked name of its first column
imports (a bare name continues the module of the name before it), every ``theorykit CMD`` is a
subcommand."""

import importlib
import re
from pathlib import Path

import pytest

from validation.cli import COMMANDS

README = Path(__file__).resolve().parents[1] / "README.md"
PACKAGES = ("theorykit", "dynamics", "validation")


def _table_names() -> list[list[str]]:
    text = README.read_text()
    table = text.split("## Public functions and the paper", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    return [re.findall(r"`([^`]+)`", row.split(" | ")[0]) for row in rows]


def _resolve(dotted: str) -> object:
    """The module, attribute or dataclass (for one of its fields) that ``dotted`` names."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            target = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[cut:]:
            if attribute in getattr(target, "__dataclass_fields__", {}):
                return target
            target = getattr(target, attribute)
        return target
    raise ModuleNotFoundError(dotted)


def test_every_public_name_in_the_readme_table_exists() -> None:
    rows = _table_names()
    assert len(rows) > 30
    checked = 0
    for names in rows:
        module = "theorykit"
        for name in names:
            if name.startswith("theorykit "):
                assert name.split()[1] in COMMANDS, name
                continue
            if name.split(".")[0] in PACKAGES:
                dotted = name
            elif "." in name:
                dotted = f"theorykit.{name}"
            else:
                dotted = f"{module}.{name}"
            target = _resolve(dotted)
            assert target is not None, dotted
            module = (
                dotted.rpartition(".")[0] if not isinstance(target, type(importlib)) else dotted
            )
            checked += 1
    assert checked > 60


def test_every_python_block_of_the_readme_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The README's Python examples (the theory in ten lines; one setting through theory, the
    reduced prediction and the CNN) run as printed; files they write go to a temporary
    directory."""
    import matplotlib

    matplotlib.use("Agg")
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert len(blocks) >= 2
    monkeypatch.chdir(tmp_path)
    for block in blocks:
        exec(compile(block, str(README), "exec"), {})
    assert (tmp_path / "comparison.png").stat().st_size > 0


ROOT = README.parent
#: A backticked repository path in the docs: a file of the repository with a known suffix.
_PATH = re.compile(r"^[\w./-]+\.(py|md|toml|mplstyle|ipynb|cff)$")
#: A dotted name of this project: in the docs backticked, in docstrings as a Sphinx role or literal.
_DOTTED = r"((?:theorykit|dynamics|validation)(?:\.\w+)+)"
_IN_DOCS = re.compile(rf"^{_DOTTED}(\(.*\))?$")
_IN_DOCSTRINGS = re.compile(rf":(?:func|class|mod|data|meth|attr|exc):`~?{_DOTTED}`|``{_DOTTED}``")


def _resolves(dotted: str) -> bool:
    """Whether :func:`_resolve` finds ``dotted``."""
    try:
        _resolve(dotted)
    except (ModuleNotFoundError, AttributeError):
        return False
    return True


def test_every_path_and_name_the_docs_give_exists() -> None:
    """README.md and docs/: every backticked repository path exists (from the root or the page's
    folder), every backticked ``theorykit.`` / ``dynamics.`` / ``validation.`` name resolves."""
    missing = []
    for page in [README, *sorted((ROOT / "docs").rglob("*.md"))]:
        for token in re.findall(r"`([^`\n]+)`", page.read_text()):
            token = token.strip()
            is_path = _PATH.match(token) and "/" in token and "NAME" not in token
            if (
                is_path
                and not token.startswith(("runs/", "/"))
                and not any((base / token).exists() for base in (ROOT, page.parent))
            ):
                missing.append(f"{page.name}: {token}")
            name = _IN_DOCS.match(token)
            if name and not _resolves(name.group(1)):
                missing.append(f"{page.name}: {token}")
    assert not missing, missing


def test_every_name_a_docstring_cites_resolves() -> None:
    """Every ``:func:`...``` role and ````dotted```` literal naming this project in its modules
    resolves."""
    missing = []
    for package in PACKAGES:
        for module in sorted((ROOT / package).rglob("*.py")):
            for groups in _IN_DOCSTRINGS.findall(module.read_text()):
                dotted = next(group for group in groups if group).rstrip(".")
                if not _resolves(dotted):
                    missing.append(f"{module.relative_to(ROOT)}: {dotted}")
    assert not missing, missing
