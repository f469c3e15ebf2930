"""The self-organisation lab: competition on the run on show, the trained network's score."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from engine.labs.observation import OBSERVATIONS
from sample_projects.lab_reference import load, register_checks, run, step_document

register_checks()


@pytest.fixture(scope="module")
def lab() -> dict:
    return json.loads(resources.files("sample_projects").joinpath(
        "self_organisation.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def steps(lab) -> dict:
    return {s["id"]: s for s in lab["lab"]["steps"]}


def _check(step: dict, document: dict):
    result = run(document) if step["check"].get("run", True) else None
    return OBSERVATIONS[step["check"]["observation"]](load(document), result,
                                                      **step["check"]["params"])


def test_competition_holds_with_lateral_inhibition_and_fails_without(lab, steps):
    solved = _check(steps["competition"], step_document(lab, "competition"))
    assert solved.holds, solved.message
    start = _check(steps["competition"], step_document(lab, "competition", solved=False))
    assert not start.holds and start.hint
    assert start.measured["mean_active_neurons"] > solved.measured["mean_active_neurons"]


@pytest.mark.slow
def test_score_reaches_the_target_after_learning_and_not_without_it(lab, steps):
    learned = _check(steps["score"], step_document(lab, "score"))
    assert learned.holds, learned.message
    assert learned.measured["accuracy"] >= 0.75 and learned.measured["neurons"] <= 100
    fields = learned.figure  # the learned receptive fields the page draws under the outcome
    assert fields.kind == "receptive_fields"
    assert fields.series["shape"] == (8.0, 8.0, learned.measured["neurons"])
    frozen = _check(steps["score"], step_document(lab, "score", solved=False))
    assert not frozen.holds and frozen.hint
    assert frozen.measured["accuracy"] < learned.measured["accuracy"]
