"""The Hopfield lab: patterns -> weights and cue, recall and capacity checks, the project field."""

from __future__ import annotations

import json
from importlib import resources

import numpy as np
import pytest

from engine.errors import ProjectError
from engine.labs.hopfield import (
    cue_pattern,
    decode,
    encode,
    hebbian_weights,
    overlap,
    random_patterns,
    recalled_state,
    store_patterns,
)
from engine.labs.hopfield_runs import fitted_gain
from engine.labs.observation import OBSERVATIONS
from engine.project import Project
from sample_projects.lab_reference import (
    apply_edits,
    load,
    reference_steps,
    register_checks,
    run,
    step_document,
)

register_checks()


@pytest.fixture(scope="module")
def lab() -> dict:
    return json.loads(resources.files("sample_projects").joinpath(
        "hopfield_memory.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def steps(lab) -> dict:
    return {s["id"]: s for s in lab["lab"]["steps"]}


def _check(step: dict, document: dict):
    result = run(document) if step["check"].get("run", True) else None
    return OBSERVATIONS[step["check"]["observation"]](load(document), result,
                                                      **step["check"]["params"])


def test_hebbian_weights_are_symmetric_with_zero_diagonal_and_store_a_pattern():
    rng = np.random.default_rng(0)
    patterns = random_patterns(3, 40, rng)
    assert (patterns.sum(axis=1) == 0).all()  # balanced: half on
    w = hebbian_weights(patterns, gain=2.0)
    assert np.allclose(w, w.T) and not np.diagonal(w).any()
    assert w[0, 1] == pytest.approx(2.0 / 40 * patterns[:, 0] @ patterns[:, 1])
    # one synchronous update of the classical network recovers the pattern from a cue
    cue = cue_pattern(patterns[0], 0.2, rng)
    assert overlap(cue, patterns[0]) == pytest.approx(0.6)
    assert overlap(np.sign(w @ cue), patterns[0]) > 0.9


def test_pattern_strings_round_trip_and_recalled_state_thresholds_at_half_the_top_rate():
    p = decode("#..#")
    assert p.tolist() == [1, -1, -1, 1] and encode(p) == "#..#"
    assert recalled_state(np.array([100.0, 10.0, 60.0, 0.0])).tolist() == [1, -1, 1, -1]
    assert recalled_state(np.zeros(3)).tolist() == [-1, -1, -1]


def test_the_lab_project_stores_its_patterns_in_its_weights_and_cue(lab):
    project = load(lab)
    gain, misfit = fitted_gain(project)
    assert gain == pytest.approx(lab["hopfield"]["gain_mv"]) and misfit < 1e-6
    times = project.network.node("cue").params["times_ms"]
    cue = np.where([len(t) > 0 for t in times], 1, -1)
    assert overlap(cue, decode(lab["hopfield"]["patterns"][0])) == pytest.approx(0.6)
    assert store_patterns(lab) == lab  # the file is what its section produces


def test_every_reference_solution_passes_its_check(lab):
    outcomes = [(step["id"], obs) for step, _doc, obs in reference_steps(lab)]
    assert [s for s, _ in outcomes] == ["recall", "capacity"]
    for step_id, obs in outcomes:
        assert obs.holds, (step_id, obs.message)
    capacity = outcomes[1][1].measured
    assert capacity["quality_p2"] >= 0.9 and capacity["quality_p25"] <= 0.5
    figure = outcomes[1][1].figure  # the curve the page draws under the outcome
    assert figure.kind == "hopfield_capacity"
    assert dict(zip(figure.series["n_patterns"], figure.series["quality"], strict=True))[25] \
        == capacity["quality_p25"]


def test_recall_fails_on_the_starting_project(lab, steps):
    obs = _check(steps["recall"], step_document(lab, "recall", solved=False))
    assert not obs.holds and obs.measured["overlap"] < 0.9 and obs.hint


def test_capacity_fails_when_the_network_cannot_recall(lab, steps):
    solved = step_document(lab, "capacity")
    silent = apply_edits(solved, [{"node": "memory", "param": "i_offset", "value": 0.0},
                                  {"edge": "cue_drive", "param": "weight", "value": 0.0}])
    obs = _check(steps["capacity"], silent)
    assert not obs.holds and "few patterns" in obs.message


def test_checks_refuse_weights_that_do_not_store_the_patterns(lab, steps):
    solved = step_document(lab, "recall")
    changed = json.loads(json.dumps(solved))
    changed["hopfield"]["patterns"][1] = "#" * 50 + "." * 50  # not what the weights hold
    obs = _check(steps["recall"], changed)
    assert not obs.holds and "Hebbian matrix" in obs.message
    assert _check(steps["recall"], store_patterns(changed)).holds


def test_the_hopfield_section_is_validated_with_field_paths(lab):
    doc = {k: v for k, v in lab.items() if k != "lab"}
    bad = json.loads(json.dumps(doc))
    bad["hopfield"]["patterns"][0] = "#x"
    bad["hopfield"]["cue"] = 5
    bad["hopfield"]["inhibitory"] = "cue_drive"
    with pytest.raises(ProjectError) as info:
        Project.from_dict(bad)
    paths = {p.path for p in info.value.problems}
    assert {"hopfield.patterns[0]", "hopfield.cue", "hopfield.inhibitory"} <= paths
    again = Project.from_dict(doc)
    assert again.to_dict()["hopfield"] == doc["hopfield"]


@pytest.mark.parametrize("field, value", [("population", ["memory"]), ("cue_node", {"a": 1}),
                                          ("excitatory", None), ("columns", 3),
                                          ("patterns", "#."), ("gain_mv", "high")])
def test_hostile_hopfield_values_are_problems_not_exceptions(lab, field, value):
    doc = {k: v for k, v in lab.items() if k != "lab"}
    bad = json.loads(json.dumps(doc))
    bad["hopfield"][field] = value
    with pytest.raises(ProjectError) as info:
        Project.from_dict(bad)
    assert any(p.path.startswith(f"hopfield.{field}") for p in info.value.problems)
