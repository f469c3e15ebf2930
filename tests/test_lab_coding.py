"""The neural-coding lab: its decoders, and every step's check on the reference solution and
on a wrong run (the project as it stood before the step's solution)."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest

import sample_projects
from engine.analysis.decoders import (
    decode_delta,
    decode_latency,
    decode_rate,
    rms_error,
    window_edges,
    window_means,
)
from engine.labs.observation import OBSERVATIONS
from sample_projects.lab_solutions import check_step, project_of, solved_documents

LAB = sample_projects.directory() / "neural_coding.json"


def _document() -> dict:
    return json.loads(LAB.read_text(encoding="utf-8"))


def test_window_means_integrates_a_step_table_exactly():
    table = [[0.0, 1.0], [25.0, 3.0], [60.0, 0.0]]
    means = window_means(table, window_edges(100.0, 50.0))
    assert means == pytest.approx([(25 * 1 + 25 * 3) / 50, (10 * 3 + 40 * 0) / 50])


def test_decoders_invert_their_codes():
    edges = window_edges(1000.0, 500.0)
    assert decode_rate(np.array([10.0, 20.0, 600.0, 950.0]), 2, np.array([0.0, 500.0]),
                       400.0) == pytest.approx([2 / 0.8, 1 / 0.8])  # 950 ms: after window 2
    x = decode_latency(np.array([10.0, 0.0, 30.0]), np.array([0, 1, 0]), 3, 20.0)
    assert x == pytest.approx([0.5, 1.0, 0.0])  # neuron 0's later spike is past t_max
    # ON at 100 ms, ON at 200 ms, OFF at 600 ms from 0.5 with threshold 0.1
    est = decode_delta(np.array([100.0, 200.0, 600.0]), np.array([0, 0, 1]), 0.1, 0.5, edges)
    assert est == pytest.approx([(100 * .5 + 100 * .6 + 300 * .7) / 500,
                                 (100 * .7 + 400 * .6) / 500])
    assert rms_error(np.array([1.0, 3.0]), np.array([1.0, 1.0])) == pytest.approx(np.sqrt(2))


def test_the_lab_file_loads_and_names_registered_checks():
    document = _document()
    project_of(document)
    for step in document["lab"]["steps"]:
        assert step["check"]["observation"] in OBSERVATIONS
        assert step["figures"]


@pytest.mark.slow
def test_every_step_holds_on_its_reference_solution_and_fails_before_it():
    document = _document()
    before = copy.deepcopy(document)
    for step, solved in solved_documents(document):
        obs, _ = check_step(solved, step)
        assert obs.holds, (step["id"], obs.message)
        # wrong run: the project before this step's solution (the starting project for the
        # comparison step, which changes nothing)
        wrong, _ = check_step(before if step["solution"] else document, step)
        assert not wrong.holds, (step["id"], wrong.message)
        assert wrong.hint and wrong.measured
        before = solved


def test_compare_names_the_codes_off_budget_on_the_starting_project():
    document = _document()
    step = document["lab"]["steps"][-1]
    obs, _ = check_step(document, step)
    assert not obs.holds
    assert "rate" in obs.message.split("Off by more than")[1]
    assert obs.measured["latency_spikes"] == len(document["network"]["nodes"][1]["params"]
                                                 ["values"])


def test_a_missing_node_or_run_is_a_message_not_a_traceback():
    document = _document()
    step = document["lab"]["steps"][0]
    obs = OBSERVATIONS["code_reconstructs"](project_of(document), None, **step["check"]["params"])
    assert not obs.holds and "no run" in obs.message
    params = {**step["check"]["params"], "node": "nowhere"}
    obs, _ = check_step(document, {"check": {"observation": "code_reconstructs",
                                             "params": params}})
    assert not obs.holds and "'nowhere'" in obs.message


def test_a_run_shorter_than_a_window_is_a_message():
    document = _document()
    document["simulation"]["duration_ms"] = 20.0
    obs, _ = check_step(document, document["lab"]["steps"][0])
    assert not obs.holds and "shorter than one window" in obs.message and obs.hint
