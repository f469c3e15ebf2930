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
import re
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


#: engine/'s groups (a subpackage, or a top-level module) from the bottom up: a group imports
#: only groups of its own layer or below (docs/architecture.md, "engine/ by concern").
ENGINE_LAYERS: tuple[tuple[str, ...], ...] = (
    ("errors", "validation", "params", "files", "migrations", "spike_stats"),
    ("neurons", "encoders", "plasticity", "connectivity", "monitors", "energy", "scenarios",
     "hetero"),
    ("project", "field_labels"),
    ("core",),
    ("export",),
    ("analysis", "evaluation", "convert", "compression", "sweep", "executor"),
    ("labs",),
    ("cli",),
)

#: The one arrow that goes up, on purpose: a project's lab is validated against the registry
#: of checks (engine.labs.validation, imported when a project has a lab with steps), and the
#: checks run simulations, so they live above the simulator.
ALLOWED_UPWARD = {("project", "labs")}


def engine_group(name: str) -> str:
    """``engine.energy.model`` -> ``energy``; ``engine.project`` -> ``project``;
    ``engine.simulator`` (the simulator core's public face) -> ``core``."""
    group = name.split(".")[1]
    return "core" if group == "simulator" else group


def engine_group_graph() -> dict[str, set[str]]:
    """Group -> the other groups its modules import."""
    graph: dict[str, set[str]] = {}
    for name, imps in import_graph().items():
        if _top(name) != "engine" or name == "engine":
            continue
        group = engine_group(name)
        graph.setdefault(group, set()).update(
            engine_group(m) for m, _ in imps
            if _top(m) == "engine" and m != "engine" and engine_group(m) != group
            and (group, engine_group(m)) not in ALLOWED_UPWARD)
    return graph


def test_engine_groups_have_no_import_cycle():
    cycles = find_cycles(engine_group_graph())
    assert not cycles, "import cycles among engine's groups: " + "; ".join(
        " <-> ".join(c) for c in cycles)


def test_engine_groups_import_only_downwards():
    layer = {group: i for i, groups in enumerate(ENGINE_LAYERS) for group in groups}
    graph = engine_group_graph()
    unplaced = sorted(set(graph) - set(layer))
    assert not unplaced, f"engine groups missing from ENGINE_LAYERS: {unplaced}"
    upward = [f"engine.{g} imports engine.{h}" for g, targets in sorted(graph.items())
              for h in sorted(targets) if layer[h] > layer[g]]
    assert not upward, "an engine group imports one above it:\n" + "\n".join(upward)


def test_engine_top_level_holds_at_most_ten_modules():
    """engine/'s top level is the project format, the simulator's public face and what every
    group shares; the rest lives in a group (a subpackage)."""
    top = sorted(p.stem for p in (ROOT / "engine").glob("*.py") if p.stem != "__init__")
    assert len(top) <= 10, top


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


# ---------------------------------------------------------------- docs/architecture.md
ARCHITECTURE_DOC = ROOT / "docs" / "architecture.md"
DOC_ROOTS = ("engine", "widgets", "workbench", "tests", "bench", "sample_projects", "docs")
# `engine/neurons/<model>.py`: a path up to a template placeholder or the end of the name.
_DOC_PATH = re.compile(rf"(?<![\w/.])(?:{'|'.join(DOC_ROOTS)})/[\w./-]*\w")
# `engine.project.load_project`: a dotted module path, maybe ending in a name it defines.
_DOC_DOTTED = re.compile(rf"(?<![\w/.])(?:{'|'.join(DOC_ROOTS[:4])})(?:\.\w+)+")


def top_level_names(path: Path) -> set[str]:
    """Names a module binds at its top level (definitions, assignments, imports), by ``ast``.

    Statements nested in top-level ``if`` / ``try`` blocks count too (optional imports).
    """
    names: set[str] = set()
    body = list(ast.parse(path.read_text(), filename=str(path)).body)
    while body:
        node = body.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                names |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, ast.If | ast.Try):
            body += node.body + node.orelse + getattr(node, "finalbody", [])
            body += [s for h in getattr(node, "handlers", []) for s in h.body]
    return names


def doc_reference_problems(text: str, root: Path = ROOT) -> list[str]:
    """What ``text`` names that is not in the repository under ``root``.

    A path (``engine/neurons/base.py``, ``widgets/graph_editor.js``, ``engine/neurons/``) must
    exist. A dotted name (``engine.results.SimulationResult``) must start with a module and
    may go on with one name that module binds at its top level (further attributes, such as
    a method, are not checked).
    """
    problems: list[str] = []
    for ref in sorted(set(_DOC_PATH.findall(text))):
        if not (root / ref).exists():
            problems.append(f"{ref}: no such file or directory")
    for ref in sorted(set(_DOC_DOTTED.findall(text))):
        parts = ref.split(".")
        # The longest prefix that is a module (file or package) of the repository.
        for n in range(len(parts), 0, -1):
            base = root.joinpath(*parts[:n])
            source = base.with_suffix(".py") if base.with_suffix(".py").is_file() else (
                base / "__init__.py")
            if source.is_file():
                break
        else:
            problems.append(f"{ref}: no such module")
            continue
        if n == 1:
            problems.append(f"{ref}: {parts[1]} is not a module of {parts[0]}")
        elif n < len(parts) and parts[n] not in top_level_names(source):
            problems.append(f"{ref}: {'.'.join(parts[:n])} defines no {parts[n]}")
    return problems


def test_the_doc_checker_finds_missing_modules_files_and_names(tmp_path):
    (tmp_path / "engine").mkdir()
    (tmp_path / "engine" / "__init__.py").write_text("")
    (tmp_path / "engine" / "build.py").write_text(
        "import numpy as np\nfrom x import y as z\nLIMIT: int = 3\n"
        "try:\n    import nir\nexcept ImportError:\n    nir = None\n"
        "def build():\n    inner = 1\n\nclass Net:\n    pass\n")
    good = ("`engine.build`, `engine.build.build`, `engine.build.Net.method`, "
            "`engine.build.LIMIT`, `engine.build.z`, `engine.build.nir`, "
            "`engine/build.py`, `engine/<model>.py`, `engine/`. `engine.build`.")
    assert doc_reference_problems(good, tmp_path) == []
    bad = ("`engine.models` `engine.build.inner` `engine/gone.py` `engine/sub/` "
           "`workbench.app`")
    assert doc_reference_problems(bad, tmp_path) == [
        "engine/gone.py: no such file or directory",
        "engine/sub: no such file or directory",
        "engine.build.inner: engine.build defines no inner",
        "engine.models: models is not a module of engine",
        "workbench.app: no such module",
    ]


def test_architecture_doc_names_only_modules_that_exist():
    problems = doc_reference_problems(ARCHITECTURE_DOC.read_text())
    assert not problems, "docs/architecture.md is out of date:\n  " + "\n  ".join(problems)
