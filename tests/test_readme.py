"""The README and the code name things that exist: every backticked name of the README's public-name
table imports (a bare name continues the module of the name before it), every ``theorykit CMD`` is
a subcommand, every Python block runs, and every dotted name and repository path in the docs and in
the code's docstrings, comments and messages resolves."""

import importlib
import io
import re
import subprocess
import tokenize
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


_DOTTED_ANYWHERE = re.compile(rf"(?<![\w./-]){_DOTTED}")
_PATH_ANYWHERE = re.compile(
    r"(?<![\w./-])((?:theorykit|dynamics|validation|benchmarks|examples|docs|tests|\.ci)/[\w./-]*\w)"
)
#: A file name that happens to start with a package's name (``theorykit.mplstyle``).
_FILE_SUFFIX = re.compile(r"\.(py|md|toml|mplstyle|sqlite|csv|json|png|svg|pdf|parquet)$")
#: A Sphinx role whose target a line break cuts (``:func:`validation.sweeps.`` / ``runner.X```).
_SPLIT_ROLE = re.compile(r":(?:func|class|mod|data|meth|attr|exc):`[^`\n]*\n")
_PLACEHOLDER = re.compile(r"(^|/)[A-Z]{2,}[\w.]*|<|_$")


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


def _unresolved(relative: str) -> list[str]:
    """The dotted names and paths in ``relative``'s text that do not resolve."""
    text = _prose(ROOT / relative)
    missing = []
    for match in _DOTTED_ANYWHERE.finditer(text):
        name = match.group(1)
        if not _FILE_SUFFIX.search(name) and not _resolves(name):
            missing.append(name)
    missing += [f"a role cut by a line break: {role!r}" for role in _SPLIT_ROLE.findall(text)]
    for match in _PATH_ANYWHERE.finditer(text):
        path = match.group(1).rstrip(".")
        if not _PLACEHOLDER.search(path) and not (ROOT / path).exists():
            missing.append(path)
    return sorted(set(missing))


@pytest.mark.parametrize("relative", _shipped_files())
def test_every_name_and_path_the_code_and_docs_name_exists(relative: str) -> None:
    """Every dotted name and repository path in the docstrings, comments and string literals
    (error messages included) of the packages, benchmarks and examples, and in the README and
    docs, resolves, and no role's target is cut by a line break; placeholders
    (``benchmarks/NAME.py``, ``<device>``) are not paths."""
    assert _unresolved(relative) == []


def test_a_stale_name_is_caught() -> None:
    assert not _resolves("validation.sweep_spec")
    assert not _resolves("validation.runs.spec.EngineOptions.no_such_method")
    assert _resolves("validation.runs.spec.EngineOptions.runs_fused")
    assert _resolves("theorykit.params.ProblemParams.n")
    assert _SPLIT_ROLE.findall("see :func:`validation.sweeps.\n    runner.run_sweep`")
