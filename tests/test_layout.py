"""The layout holds by construction: no import cycle among the project's modules (function-level
and TYPE_CHECKING imports counted), a light error module, read paths that need no torch."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("theorykit", "dynamics", "validation")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _import_graph() -> dict[str, set[str]]:
    """module -> the project modules it imports anywhere in its source (explicit imports only)."""
    modules = {
        _module_name(path): path for package in PACKAGES for path in (ROOT / package).rglob("*.py")
    }
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text())):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
            for target in targets:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    graph[name].add(target)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in graph[node]:
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle_among_the_projects_modules() -> None:
    graph = _import_graph()
    assert len(graph) > 50 and graph["theorykit.params"]  # the scan sees the project
    assert _cycles(graph) == []


def test_the_scan_would_see_a_cycle_closed_by_a_function_level_import() -> None:
    graph = {"a": {"b"}, "b": {"a"}, "c": set()}
    assert _cycles(graph) == [["a", "b"]]


def test_the_error_module_imports_neither_sympy_nor_scipy() -> None:
    code = (
        "import sys, theorykit.errors; print([m for m in ('sympy', 'scipy') if m in sys.modules])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


@pytest.fixture(scope="module")
def small_store(tmp_path_factory: pytest.TempPathFactory, sweep_spec_file) -> Path:
    from validation.cli import main

    store = tmp_path_factory.mktemp("store") / "results.sqlite"
    assert main(["sweep", str(sweep_spec_file(epochs=2)), "--store", str(store)]) == 0
    return store


def test_report_export_and_dry_run_work_with_torch_blocked(
    small_store: Path, sweep_spec_file, tmp_path: Path, without_torch
) -> None:
    blocked = without_torch("import torch")
    assert blocked.returncode != 0 and "torch is blocked" in blocked.stderr  # the block works
    report = without_torch(
        f"from validation.cli import main; sys.exit(main(['report', {str(small_store)!r}, "
        f"'--out', {str(tmp_path)!r}]))"
    )
    assert report.returncode == 0, report.stderr
    assert (tmp_path / "report.md").is_file() and "torch" not in report.stderr
    export = without_torch(
        "from validation.store.results import ResultsStore\n"
        f"with ResultsStore({str(small_store)!r}) as store:\n"
        f"    store.export({str(tmp_path / 'runs.csv')!r})\n"
        "assert 'torch' not in sys.modules"
    )
    assert export.returncode == 0, export.stderr
    assert (tmp_path / "runs.csv").read_text().count("\n") == 17  # header + 16 runs
    dry_run = without_torch(
        f"from validation.cli import main; sys.exit(main(['sweep', "
        f"{str(sweep_spec_file())!r}, '--dry-run']))"
    )
    assert dry_run.returncode == 0, dry_run.stderr
    assert "16 runs" in dry_run.stdout
