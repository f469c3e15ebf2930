"""Apply a lab's reference solutions step by step and evaluate each step's check.

A small stand-in for the shared lab runner (issue 21, labs-core) used by the lab generators
(``make_*_lab.py``) and their tests: it applies a step's solution edits to the project
document, loads it with :meth:`engine.project.Project.from_dict` (without the ``lab`` key,
which the shared loader validates), simulates it when the check needs a run, and calls the
registered observation.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import engine.labs.checks_attention  # noqa: F401  (registers the checks)
import engine.labs.checks_coding  # noqa: F401
import engine.labs.checks_federated  # noqa: F401
from engine.labs import lab_file
from engine.labs.observation import OBSERVATIONS, Observation
from engine.project import Project
from engine.simulator import simulate


def apply_edit(document: dict, edit: dict) -> None:
    """Apply one solution edit to ``document`` in place (engine.labs.lab_file)."""
    lab_file.apply_edits(document, [edit])


def project_of(document: dict) -> Project:
    """The validated project of a lab document (its ``lab`` object left out)."""
    return Project.from_dict({k: v for k, v in document.items() if k != "lab"})


def solved_documents(document: dict) -> Iterator[tuple[dict, dict]]:
    """Each step with the document as it stands after its own and the earlier solutions."""
    current = copy.deepcopy(document)
    for step in document["lab"]["steps"]:
        for edit in step.get("solution", []):
            apply_edit(current, edit)
        yield step, copy.deepcopy(current)


def check_step(document: dict, step: dict, *, run: bool = True) -> tuple[Observation, Any]:
    """Evaluate ``step``'s check on ``document`` (simulated first when ``run`` and the check
    looks at the run on show: ``check.run``, default true)."""
    run = run and step["check"].get("run", True)
    project = project_of(document)
    result = simulate(project_of(document)) if run else None
    check = step["check"]
    return OBSERVATIONS[check["observation"]](project, result, **check.get("params", {})), result
