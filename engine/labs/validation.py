"""Validate a project's ``lab`` (the object form: format in :mod:`engine.labs.lab_file`).

Every problem names its field path (``lab.steps[2].check.observation: no check called
'foo'``). :mod:`engine.project` calls :func:`lab_problems` when it validates a project; this
module imports nothing of the engine beyond the checks' registry, so the project does not
depend on the labs' runner.
"""

from __future__ import annotations

import inspect
import re
from typing import Any

from engine.errors import Problem
from engine.labs.observation import OBSERVATIONS

__all__ = ["check_parameters", "lab_problems"]

ID_PATTERN = re.compile(r"^[a-z0-9-]{1,64}$")
MAX_TEXT_CHARS = 100_000   # one Markdown text (the whole document is limited by the project)
MAX_STEPS = 100
MAX_EDITS = 100
SIMULATION_FIELDS = ("duration_ms", "dt_ms", "seed", "count_bin_ms", "record_spikes",
                     "memory_budget_mb")


def lab_problems(lab: Any, document: dict | None = None, path: str = "lab") -> list[Problem]:
    """Every problem of a project's ``lab`` value, each with its field path.

    Parameters
    ----------
    lab
        The ``lab`` value: a string (notes only, always fine here: the project checks its
        length) or the object form.
    document
        The project document holding it: when given, the nodes, projections and simulation
        settings a solution edits must exist in it.
    path
        Field path of ``lab`` in the document.
    """
    if isinstance(lab, str):
        return []
    problems: list[Problem] = []

    def add(where: str, message: str) -> None:
        problems.append(Problem(where, message))

    if not _mapping(lab, path, {"id", "title", "intro", "steps"}, {"id", "title", "steps"}, add):
        return problems
    _identifier(lab.get("id"), f"{path}.id", add)
    _text(lab.get("title"), f"{path}.title", add, one_line=True)
    if "intro" in lab:
        _text(lab["intro"], f"{path}.intro", add)
    steps = lab.get("steps")
    if not isinstance(steps, list) or not steps:
        add(f"{path}.steps", "must be a non-empty list of steps")
        return problems
    if len(steps) > MAX_STEPS:
        add(f"{path}.steps", f"must hold at most {MAX_STEPS} steps, got {len(steps)}")
        return problems
    seen: set[str] = set()
    for i, step in enumerate(steps):
        where = f"{path}.steps[{i}]"
        _step_problems(step, where, document, add)
        sid = step.get("id") if isinstance(step, dict) else None
        if isinstance(sid, str):
            if sid in seen:
                add(f"{where}.id", f"{sid!r} is already the id of an earlier step")
            seen.add(sid)
    return problems


def _step_problems(step: Any, path: str, document: dict | None, add) -> None:
    allowed = {"id", "title", "text", "question", "check", "solution", "figures"}
    if not _mapping(step, path, allowed, {"id", "title", "text", "check"}, add):
        return
    _identifier(step.get("id"), f"{path}.id", add)
    _text(step.get("title"), f"{path}.title", add, one_line=True)
    for key in ("text", "question", "figures"):
        if key in step:
            _text(step[key], f"{path}.{key}", add)
    _check_problems(step.get("check"), f"{path}.check", add)
    solution = step.get("solution", [])
    if not isinstance(solution, list) or len(solution) > MAX_EDITS:
        add(f"{path}.solution", f"must be a list of at most {MAX_EDITS} edits")
        return
    for j, edit in enumerate(solution):
        _edit_problems(edit, f"{path}.solution[{j}]", document, add)


def _check_problems(check: Any, path: str, add) -> None:
    if not _mapping(check, path, {"observation", "params", "run"}, {"observation"}, add):
        return
    name = check.get("observation")
    params = check.get("params", {})
    if "run" in check and not isinstance(check["run"], bool):
        add(f"{path}.run", "must be true or false")
    if not isinstance(params, dict):
        add(f"{path}.params", "must be an object of parameters")
        params = {}
    if not isinstance(name, str) or name not in OBSERVATIONS:
        known = ", ".join(sorted(OBSERVATIONS)) or "none registered"
        add(f"{path}.observation", f"no check called {name!r} (known checks: {known})")
        return
    accepted, required = check_parameters(name)
    takes_any = any(p.kind is p.VAR_KEYWORD
                    for p in inspect.signature(OBSERVATIONS[name]).parameters.values())
    for key in sorted(set(params) - set(accepted) if not takes_any else (), key=str):
        add(f"{path}.params.{key}", f"check {name!r} has no parameter {key!r} "
                                    f"(its parameters: {', '.join(accepted) or 'none'})")
    for key in sorted(set(required) - set(params)):
        add(f"{path}.params.{key}", f"is required by check {name!r}")


def check_parameters(name: str) -> tuple[list[str], list[str]]:
    """``(accepted, required)`` parameter names of the check ``name`` (from its signature)."""
    signature = inspect.signature(OBSERVATIONS[name])
    keyword = [p for p in list(signature.parameters.values())[2:]
               if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return ([p.name for p in keyword],
            [p.name for p in keyword if p.default is inspect.Parameter.empty])


def _edit_problems(edit: Any, path: str, document: dict | None, add) -> None:
    if not isinstance(edit, dict):
        add(path, "must be an object such as {\"node\": id, \"param\": name, \"value\": v}")
        return
    kinds = [k for k in ("node", "edge", "simulation") if k in edit]
    if len(kinds) != 1:
        add(path, "must name exactly one of node, edge or simulation")
        return
    kind = kinds[0]
    allowed = {kind, "value"} | ({"param"} if kind != "simulation" else set())
    if not _mapping(edit, path, allowed, allowed, add):
        return
    if kind == "simulation":
        if edit["simulation"] not in SIMULATION_FIELDS:
            add(f"{path}.simulation", f"must be one of {', '.join(SIMULATION_FIELDS)}")
        return
    if not isinstance(edit["param"], str) or not edit["param"]:
        add(f"{path}.param", "must be a parameter name")
    if document is None:
        return
    network = document.get("network") if isinstance(document.get("network"), dict) else {}
    key = "nodes" if kind == "node" else "projections"
    items = network.get(key) if isinstance(network.get(key), list) else []
    ids = [item.get("id") for item in items if isinstance(item, dict)]
    if edit[kind] not in ids:
        what = "node" if kind == "node" else "projection"
        add(f"{path}.{kind}", f"no {what} called {edit[kind]!r} in the project")


def _mapping(value: Any, path: str, allowed: set[str], required: set[str], add) -> bool:
    if not isinstance(value, dict):
        add(path, f"must be an object, got {type(value).__name__}")
        return False
    for key in sorted(set(value) - allowed, key=str):
        add(f"{path}.{key}", f"unknown key (allowed: {', '.join(sorted(allowed))})")
    for key in sorted(required - set(value)):
        add(f"{path}.{key}", "is required")
    return not (set(required) - set(value))


def _identifier(value: Any, path: str, add) -> None:
    if not isinstance(value, str) or not ID_PATTERN.match(value):
        add(path, f"must be 1 to 64 characters of a-z, 0-9 and '-', got {value!r}")


def _text(value: Any, path: str, add, one_line: bool = False) -> None:
    if not isinstance(value, str):
        add(path, f"must be a string, got {type(value).__name__}")
    elif one_line and ("\n" in value or len(value) > 200):
        add(path, "must be one line of at most 200 characters")
    elif len(value) > MAX_TEXT_CHARS:
        add(path, f"must be at most {MAX_TEXT_CHARS:,} characters, got {len(value):,}")
