"""Run a lab's reference solutions step by step (for the lab generators and their tests).

A stand-in for the shared lab runner (``engine.labs.lab_file`` on the labs-core branch): it
applies each step's ``solution`` edits cumulatively to the project document, simulates the
result when the step's check looks at a run, and evaluates the step's registered observation.
The project is loaded without its ``lab`` object, which the loader on ``main`` does not accept
yet (a lab there is Markdown).
"""

from __future__ import annotations

import copy
import importlib
import pkgutil
from collections.abc import Iterator
from typing import Any

from engine.core.results import SimulationResult
from engine.labs import lab_file
from engine.labs.observation import OBSERVATIONS, Observation
from engine.project import Project
from engine.simulator import simulate

__all__ = ["apply_edits", "check_step", "load", "observe", "reference_steps", "register_checks",
           "run", "step_document"]


def apply_edits(document: dict, edits: list[dict]) -> dict:
    """A copy of ``document`` with a step's solution edits applied (engine.labs.lab_file)."""
    doc = copy.deepcopy(document)
    lab_file.apply_edits(doc, edits)
    return doc


def load(document: dict) -> Project:
    """The validated project of ``document``, its ``lab`` left out."""
    doc = {k: v for k, v in document.items() if k != "lab"}
    return Project.from_dict(doc)


def run(document: dict) -> SimulationResult:
    """Simulate ``document``'s project."""
    return simulate(load(document))


def check_step(document: dict, step: dict) -> Observation:
    """Evaluate ``step``'s check on ``document`` (simulated unless the check runs itself)."""
    register_checks()
    check = step["check"]
    result = run(document) if check.get("run", True) else None
    return OBSERVATIONS[check["observation"]](load(document), result, **check.get("params", {}))


def register_checks() -> None:
    """Import every ``engine/labs/checks_*.py`` (what ``engine.labs`` does on labs-core)."""
    import engine.labs
    for module in pkgutil.iter_modules(engine.labs.__path__):
        if module.name.startswith("checks_"):
            importlib.import_module(f"engine.labs.{module.name}")


def reference_steps(document: dict) -> Iterator[tuple[dict, dict, Observation]]:
    """``(step, project document after its solution, observation)`` for each step in order."""
    register_checks()
    doc = document
    for step in document["lab"]["steps"]:
        doc = apply_edits(doc, step.get("solution", []))
        yield step, doc, check_step(doc, step)


def step_document(document: dict, step_id: str, solved: bool = True) -> dict:
    """The project as it stands before (``solved=False``) or after ``step_id``'s solution."""
    doc = document
    for step in document["lab"]["steps"]:
        if step["id"] == step_id and not solved:
            return doc
        doc = apply_edits(doc, step.get("solution", []))
        if step["id"] == step_id:
            return doc
    raise KeyError(step_id)


def observe(name: str, document: dict, **params: Any) -> Observation:
    """Run ``document`` and evaluate the check ``name`` with ``params``."""
    register_checks()
    return OBSERVATIONS[name](load(document), run(document), **params)
