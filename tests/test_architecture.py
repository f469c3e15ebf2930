"""The layering of the packages, checked on the source with ``ast`` (nothing is imported).

- engine/ is a library: no import cycle among its modules, and no import of panel, bokeh,
  param, workbench or widgets.
- widgets/ take plain data: no import of workbench.

Every ``import`` statement counts, wherever it stands: an import inside a function (a lazy
import) is an edge of the graph like a top-level one. A lazy import only hides a cycle from
Python's import machinery; the modules still depend on each other, so it counts for the cycle
check too. ``if TYPE_CHECKING:`` imports count as well (a type is a dependency).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("engine", "widgets", "workbench")
ENGINE_FORBIDDEN = ("panel", "bokeh", "param", "workbench", "widgets")


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def local_modules() -> dict[str, Path]:
    """Every module of the three packages, by dotted name."""
    return {module_name(p): p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))}


def imports_of(path: Path, modules: dict[str, Path], root: Path = ROOT
               ) -> list[tuple[str, int]]:
    """The modules ``path`` imports (dotted names, with line numbers), anywhere in the file.

    ``from pkg import name`` is an import of ``pkg.name`` when that is a module of this
    repository, else of ``pkg``.
    """
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module_name(path if path.name == "__init__.py" else path.parent, root)
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                base_name = ".".join(base + ([node.module] if node.module else []))
            else:
                base_name = node.module or ""
            for alias in node.names:
                sub = f"{base_name}.{alias.name}"
                found.append((sub if sub in modules else base_name, node.lineno))
    return found


def import_graph() -> dict[str, list[tuple[str, int]]]:
    modules = local_modules()
    return {name: imports_of(path, modules) for name, path in modules.items()}


def _top(name: str) -> str:
    return name.split(".")[0]


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (or a self-import)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan; the graphs here are small, recursion is fine
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in graph.get(v, ()):
                cycles.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return cycles


def test_the_cycle_finder_finds_cycles():
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert find_cycles({"a": {"a"}}) == [["a"]]
    assert find_cycles({"a": {"b"}, "b": set()}) == []


def test_relative_and_lazy_imports_are_edges(tmp_path):
    pkg = tmp_path / "engine"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("def f():\n    from . import b\n    from .b import x\n")
    (pkg / "b.py").write_text("import panel as pn\n")
    modules = {"engine": pkg / "__init__.py", "engine.a": pkg / "a.py", "engine.b": pkg / "b.py"}
    assert [m for m, _ in imports_of(pkg / "a.py", modules, tmp_path)] == ["engine.b"] * 2
    assert [m for m, _ in imports_of(pkg / "b.py", modules, tmp_path)] == ["panel"]


def test_engine_has_no_import_cycle():
    graph = {name: {m for m, _ in imps if _top(m) == "engine" and m != "engine"}
             for name, imps in import_graph().items() if _top(name) == "engine"}
    cycles = find_cycles(graph)
    assert not cycles, "import cycles among engine modules (lazy imports count): " + "; ".join(
        " <-> ".join(c) for c in cycles)


def test_engine_imports_no_ui_and_no_workbench():
    bad = [f"{name}:{line} imports {m}" for name, imps in import_graph().items()
           if _top(name) == "engine" for m, line in imps if _top(m) in ENGINE_FORBIDDEN]
    assert not bad, "engine/ must not import UI or workbench code:\n" + "\n".join(bad)


def test_widgets_import_no_workbench():
    bad = [f"{name}:{line} imports {m}" for name, imps in import_graph().items()
           if _top(name) == "widgets" for m, line in imps if _top(m) == "workbench"]
    assert not bad, "widgets/ take plain data and must not import workbench:\n" + "\n".join(bad)


def test_console_script_is_the_workbench_cli():
    import tomllib

    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    module, _, func = scripts["spikestudio"].partition(":")
    assert (module, func) == ("workbench.cli", "main")
    assert module in local_modules()


def test_sample_projects_are_package_data():
    """Runtime code finds the samples with importlib.resources, so an installed wheel works."""
    import tomllib

    import sample_projects

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "sample_projects" in config["packages"]["find"]["include"]
    assert "*.json" in config["package-data"]["sample_projects"]
    shipped = sorted(p.name for p in sample_projects.directory().glob("*.json"))
    assert shipped == sorted(p.name for p in (ROOT / "sample_projects").glob("*.json"))
    literal = [f"{module_name(path)}:{node.lineno}" for path in local_modules().values()
               for node in ast.walk(ast.parse(path.read_text()))
               if isinstance(node, ast.Constant) and node.value == "sample_projects"]
    assert not literal, f"a path to the checkout's sample_projects/, not the package: {literal}"


def test_every_data_file_of_the_packages_is_package_data():
    """A .js / .css / .json / .html next to the code is declared, so the wheel ships it."""
    import fnmatch
    import subprocess
    import tomllib

    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"]
    tracked = subprocess.run(["git", "ls-files", *PACKAGES, "sample_projects"], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout.split()
    missing = []
    for name in tracked:
        package, _, rest = name.partition("/")
        if not name.endswith(".py") and not any(
                fnmatch.fnmatch(rest, p) for p in patterns.get(package, [])):
            missing.append(name)
    assert not missing, f"not in [tool.setuptools.package-data]: {missing}"
