"""A project's ``lab``: parse and validate it, apply a step's solution, evaluate a step's check.

The ``lab`` key of a project is either Markdown notes (a string: notes only, no steps) or an
object with ordered steps (format: ``docs/labs.md``)::

    {"id": "lif", "title": "...", "intro": "Markdown",
     "steps": [{"id": "rheobase", "title": "...", "text": "Markdown",
                "question": "Markdown (optional)", "figures": "Markdown (optional)",
                "check": {"observation": "no_spikes", "params": {...}, "run": true},
                "solution": [{"node": "input", "param": "amplitude", "value": 12.0},
                             {"edge": "ff", "param": "plasticity.bounds", "value": "..."},
                             {"simulation": "duration_ms", "value": 500.0}]}]}

A step's ``solution`` edits apply to the project as it stands after the previous steps'
solutions. ``check.run`` (default true) says whether the check looks at the run on show;
``false`` for a check that runs the experiment the project describes itself.

Validation reports every problem with its field path (``lab.steps[2].check.observation: no
check called 'foo'``), like the rest of the project (:mod:`engine.project`).
"""

from __future__ import annotations

import copy
import inspect
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from engine.errors import Problem, ProjectError
from engine.labs.observation import OBSERVATIONS, Observation, describe

__all__ = ["Edit", "Lab", "LabCheck", "Step", "StepOutcome", "apply_solution", "check_lab",
           "evaluate_step", "lab_of", "lab_problems", "parse_lab", "solution_project"]

ID_PATTERN = re.compile(r"^[a-z0-9-]{1,64}$")
MAX_TEXT_CHARS = 100_000   # one Markdown text (the whole document is limited by the project)
MAX_STEPS = 100
MAX_EDITS = 100
SIMULATION_FIELDS = ("duration_ms", "dt_ms", "seed", "count_bin_ms", "record_spikes",
                     "memory_budget_mb")


@dataclass(frozen=True)
class Edit:
    """One change of a reference solution.

    Attributes
    ----------
    kind
        ``"node"``, ``"edge"`` or ``"simulation"``.
    target
        The node or projection id (empty for ``"simulation"``).
    param
        A node parameter, a projection field (dotted for nested ones: ``plasticity.bounds``)
        or a simulation setting.
    value
        The new value (plain JSON).
    """

    kind: str
    target: str
    param: str
    value: Any


@dataclass(frozen=True)
class LabCheck:
    """The observation a step checks, with its parameters."""

    observation: str
    params: dict[str, Any] = field(default_factory=dict)
    run: bool = True

    def __str__(self) -> str:
        return describe(self.observation, self.params)


@dataclass(frozen=True)
class Step:
    """One step of a lab: what to do, what to answer, what the workbench checks."""

    id: str
    title: str
    text: str
    check: LabCheck
    solution: tuple[Edit, ...] = ()
    question: str = ""
    figures: str = ""


@dataclass(frozen=True)
class Lab:
    """A lab with steps (the object form of a project's ``lab``)."""

    id: str
    title: str
    intro: str
    steps: tuple[Step, ...]

    def step(self, step_id: str) -> Step:
        """The step called ``step_id`` (KeyError naming the lab's steps otherwise)."""
        for s in self.steps:
            if s.id == step_id:
                return s
        raise KeyError(f"lab {self.id!r} has no step {step_id!r} "
                       f"(steps: {', '.join(s.id for s in self.steps)})")


# ---------------------------------------------------------------------- validation
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
    for key in sorted(set(params) - set(accepted), key=str):
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


# ---------------------------------------------------------------------- building
def parse_lab(lab: Any, document: dict | None = None) -> Lab | None:
    """The :class:`Lab` of a project's ``lab`` value; None for Markdown notes (a string).

    Raises
    ------
    ProjectError
        With every problem, each naming its field (``lab.steps[0].check.observation``).
    """
    if isinstance(lab, str):
        return None
    problems = lab_problems(lab, document)
    if problems:
        raise ProjectError(problems)
    steps = tuple(Step(
        id=s["id"], title=s["title"], text=s["text"], question=s.get("question", ""),
        figures=s.get("figures", ""),
        check=LabCheck(s["check"]["observation"], copy.deepcopy(s["check"].get("params", {})),
                       s["check"].get("run", True)),
        solution=tuple(_edit(e) for e in s.get("solution", [])),
    ) for s in lab["steps"])
    return Lab(id=lab["id"], title=lab["title"], intro=lab.get("intro", ""), steps=steps)


def _edit(e: dict) -> Edit:
    kind = next(k for k in ("node", "edge", "simulation") if k in e)
    if kind == "simulation":
        return Edit(kind, "", e["simulation"], copy.deepcopy(e["value"]))
    return Edit(kind, e[kind], e["param"], copy.deepcopy(e["value"]))


def lab_of(project: Any) -> Lab | None:
    """The lab of a validated project (None when its ``lab`` is notes only)."""
    return parse_lab(project.lab)


def notes_of(lab: Any) -> str:
    """The Markdown a project's ``lab`` shows as notes: the string, or the object's intro."""
    if isinstance(lab, str):
        return lab
    return lab.get("intro", "") if isinstance(lab, dict) else ""


# ---------------------------------------------------------------------- solutions
def apply_solution(project: Any, edits: tuple[Edit, ...] | list[Edit]) -> Any:
    """A new project: ``project`` with ``edits`` applied, validated again.

    Raises
    ------
    ProjectError
        When an edit names something the project lacks or gives a value the project format
        refuses (the problem names the edited field).
    """
    from engine.project import Project  # the engine's project API (imports this module lazily)

    document = project.to_dict()
    for i, edit in enumerate(edits):
        _apply(document, edit, i)
    return Project.from_dict(document)


def _apply(document: dict, edit: Edit, index: int) -> None:
    if edit.kind == "simulation":
        document["simulation"][edit.param] = copy.deepcopy(edit.value)
        return
    key = "nodes" if edit.kind == "node" else "projections"
    for item in document["network"][key]:
        if item["id"] == edit.target:
            break
    else:
        raise ProjectError([Problem(f"solution[{index}].{edit.kind}",
                                    f"no {edit.kind} called {edit.target!r} in the project")])
    if edit.kind == "node":
        item.setdefault("params", {})[edit.param] = copy.deepcopy(edit.value)
        return
    *parents, last = edit.param.split(".")
    for name in parents:
        if not isinstance(item.get(name), dict):
            raise ProjectError([Problem(f"solution[{index}].param",
                                        f"projection {edit.target!r} has no {name!r} object")])
        item = item[name]
    item[last] = copy.deepcopy(edit.value)


def solution_project(project: Any, lab: Lab, upto: int) -> Any:
    """The project after the solutions of steps ``0 .. upto`` (inclusive), applied in order."""
    for step in lab.steps[:upto + 1]:
        project = apply_solution(project, step.solution)
    return project


# ---------------------------------------------------------------------- checking
def evaluate_step(step: Step, project: Any, result: Any) -> Observation:
    """Evaluate a step's check on ``project`` and the run on show ``result``.

    A check that needs a run gets a plain "run first" observation when there is none. A
    check that fails on bad input (a population the student renamed, say) says so as text
    instead of raising.
    """
    if step.check.run and result is None:
        return Observation(False, "There is no run to check yet.",
                           hint="Run the project, then press Check again.")
    fn = OBSERVATIONS[step.check.observation]
    try:
        return fn(project, result, **step.check.params)
    except (KeyError, ValueError, IndexError) as exc:
        return Observation(False, f"The check {step.check} could not be evaluated on this "
                                  f"run: {exc}",
                           hint="Did you rename or remove a node the step talks about?")


@dataclass(frozen=True)
class StepOutcome:
    """One step of ``lab check``: its observation on the reference solution's run."""

    lab: str
    step: str
    observation: Observation

    def as_json(self) -> dict[str, Any]:
        """The JSON line of ``spikestudio lab check``."""
        o = self.observation
        return {"lab": self.lab, "step": self.step, "holds": bool(o.holds),
                "measured": {k: _plain(v) for k, v in o.measured.items()},
                "message": o.message}


def _plain(value: Any) -> Any:
    """A JSON-safe number (NaN and infinities become None)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return number if number == number and abs(number) != float("inf") else None


def check_lab(project: Any, simulate=None) -> Iterator[StepOutcome]:
    """Apply each step's reference solution cumulatively, run, and evaluate the step's check.

    Parameters
    ----------
    project
        A validated project whose ``lab`` has steps (the lab's starting project).
    simulate
        ``simulate(project) -> SimulationResult``; :func:`engine.simulator.simulate` when
        None.

    Yields
    ------
    StepOutcome
        One per step, in order.
    """
    if simulate is None:
        from engine.simulator import simulate
    lab = lab_of(project)
    if lab is None:
        raise ValueError("this project's lab is notes only: it has no steps to check")
    result = None  # the last run: a step without edits checks the same run again
    for step in lab.steps:
        if step.solution:
            project, result = apply_solution(project, step.solution), None
        if step.check.run and result is None:
            result = simulate(project)
        yield StepOutcome(lab.id, step.id, evaluate_step(step, project, result))
