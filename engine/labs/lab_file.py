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

Validation (:mod:`engine.labs.validation`) reports every problem with its field path
(``lab.steps[2].check.observation: no check called 'foo'``), like the rest of the project
(:mod:`engine.project`).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from engine.errors import Problem, ProjectError, SpikeStudioError
from engine.labs.observation import OBSERVATIONS, Observation, describe
from engine.labs.validation import check_parameters, lab_problems

__all__ = ["Edit", "Lab", "LabCheck", "Step", "StepOutcome", "apply_solution", "check_lab",
           "check_parameters", "evaluate_step", "lab_of", "lab_problems", "parse_lab",
           "solution_project"]


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


def apply_edits(document: dict, edits: list[dict]) -> None:
    """Apply a step's solution edits, as a lab file writes them, to ``document`` in place."""
    for i, edit in enumerate(edits):
        _apply(document, _edit(edit), i)


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
    except (KeyError, ValueError, IndexError, SpikeStudioError) as exc:
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


def check_lab(project: Any, simulate: Callable[..., Any] | None = None
              ) -> Iterator[StepOutcome]:
    """Apply each step's reference solution cumulatively, run, and evaluate the step's check.

    Parameters
    ----------
    project
        A validated project whose ``lab`` has steps (the lab's starting project).
    simulate
        ``simulate(project) -> SimulationResult``; default: that of
        :func:`engine.labs.runs.simulator` (in this process unless set otherwise).

    Yields
    ------
    StepOutcome
        One per step, in order.
    """
    if simulate is None:
        from engine.labs.runs import simulator
        simulate = simulator()
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
