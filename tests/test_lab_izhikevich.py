"""The Izhikevich firing-pattern lab: each check holds on its reference run and fails otherwise."""

from __future__ import annotations

import json
from importlib import resources

import numpy as np
import pytest

from engine.labs.firing_patterns import bursts, rest_crossings, spike_train_shape
from engine.labs.observation import OBSERVATIONS
from sample_projects.lab_reference import (
    apply_edits,
    load,
    reference_steps,
    register_checks,
    run,
    step_document,
)

register_checks()
STEP_IDS = ["rs", "ib", "ch", "fs", "lts", "tc", "rz"]
TONIC = ["rs", "ib", "ch", "fs", "lts"]  # the neurons that receive the same step of input


@pytest.fixture(scope="module")
def lab() -> dict:
    return json.loads(resources.files("sample_projects").joinpath(
        "izhikevich_patterns.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def steps(lab) -> dict:
    return {s["id"]: s for s in lab["lab"]["steps"]}


@pytest.fixture(scope="module")
def solved(lab):
    """The project after every step's solution, and its run."""
    doc = lab
    for step in lab["lab"]["steps"]:
        doc = apply_edits(doc, step["solution"])
    return doc, run(doc)


def _check(step: dict, document: dict, result, population: str | None = None):
    params = dict(step["check"]["params"])
    if population is not None:
        params["population"] = population
    return OBSERVATIONS[step["check"]["observation"]](load(document), result, **params)


def test_every_reference_solution_passes_its_check(lab):
    outcomes = [(step["id"], obs) for step, _doc, obs in reference_steps(lab)]
    assert [s for s, _ in outcomes] == STEP_IDS
    for step_id, obs in outcomes:
        assert obs.holds, (step_id, obs.message)
        assert obs.measured


@pytest.mark.parametrize("step_id", STEP_IDS)
def test_every_check_fails_before_its_step(lab, steps, step_id):
    before = step_document(lab, step_id, solved=False)
    obs = _check(steps[step_id], before, run(before))
    assert not obs.holds, obs.message
    assert obs.hint and step_id in obs.message


def test_each_pattern_check_recognises_only_its_own_neuron(steps, solved):
    """The five checks of the neurons with the same input tell the patterns apart."""
    document, result = solved
    table = {(check, neuron): _check(steps[check], document, result, neuron).holds
             for check in TONIC for neuron in TONIC}
    assert all(table[(c, n)] == (c == n) for c in TONIC for n in TONIC), table


def test_a_parameter_moved_away_from_the_solution_fails(steps, solved):
    document, _ = solved
    for step_id, edit in [("ib", {"node": "ib", "param": "c", "value": -65.0}),
                          ("ch", {"node": "ch", "param": "d", "value": 8.0}),
                          ("fs", {"node": "fs", "param": "a", "value": 0.02}),
                          ("tc", {"node": "tc", "param": "b", "value": 0.2}),
                          ("rz", {"node": "rz", "param": "b", "value": 0.2})]:
        edited = apply_edits(document, [edit])
        assert not _check(steps[step_id], edited, run(edited)).holds, edit


def test_missing_run_and_missing_monitor_are_plain_messages(steps, solved):
    document, _ = solved
    obs = _check(steps["rs"], document, None)
    assert not obs.holds and "run the project" in obs.message.lower()
    no_monitor = json.loads(json.dumps(document))
    no_monitor["network"]["nodes"] = [n for n in no_monitor["network"]["nodes"]
                                      if n["id"] != "tc_v"]
    obs = _check(steps["tc"], no_monitor, run(no_monitor))
    assert not obs.holds and "state monitor" in obs.message


def test_bursts_split_a_chattering_train_and_keep_a_tonic_one_whole():
    burst = np.array([0.0, 2.0, 4.0])
    train = np.concatenate([burst, burst + 50.0, burst + 100.0])
    assert [len(g) for g in bursts(train)] == [3, 3, 3]
    tonic = np.cumsum([10.0, 12.0, 15.0, 20.0, 25.0])
    assert [len(g) for g in bursts(tonic)] == [1] * 5
    shape = spike_train_shape(tonic)
    assert shape.n_bursts == 0 and shape.adaptation == pytest.approx(25.0 / 12.0)


def test_rest_crossings_count_ringing_not_relaxation():
    t = np.arange(0.0, 100.0, 0.1)
    ringing = -62.5 + 2.0 * np.exp(-t / 20.0) * np.cos(2 * np.pi * t / 40.0)
    relaxing = -70.0 + 2.0 * np.exp(-t / 20.0)
    assert rest_crossings(ringing, -62.5, 0.1) >= 3
    assert rest_crossings(relaxing, -70.0, 0.1) == 0
