"""Project files: validation with field paths, round trips, migrations, atomic saves."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.errors import ProjectError
from engine.project import Project, load_project, loads_project, save_project
from tests.helpers import connection, document, encoder, lif, monitor

SAMPLES = sorted((Path(__file__).parent.parent / "sample_projects").glob("*.json"))


def problems_of(doc) -> list[str]:
    with pytest.raises(ProjectError) as info:
        Project.from_dict(doc)
    return [str(p) for p in info.value.problems]


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_sample_projects_load_and_round_trip(path):
    project = load_project(path)
    again = loads_project(json.dumps(project.to_dict()))
    assert again.to_dict() == project.to_dict()
    # Every sample carries a lab: notes (a string) or a lab with steps (engine.labs).
    assert project.lab.strip() if isinstance(project.lab, str) else project.lab["steps"]


def test_negative_time_constant_names_the_field():
    doc = document([lif("a"), lif("b", 3, tau_m=-5.0)])
    assert problems_of(doc) == ["network.nodes[1].params.tau_m: must be > 0 ms, got -5 ms"]


def test_every_problem_is_reported_at_once():
    doc = document(
        [lif("a", 0, v_reset=-40.0), encoder("in", "poisson", rate_hz=float("nan")),
         monitor("m", "nowhere")],
        [connection("p", "in", "ghost", weight=-1.0, receptor="exc", rule="one_to_one"),
         connection("a", "a", "a")])
    doc["surprise"] = 1
    found = problems_of(doc)
    expected = [
        "surprise: unknown key",
        "network.nodes[0].size: must be a whole number in [1, 10000000], got 0",
        "network.nodes[0].params.v_reset: must be below v_thresh (-50 mV), got -40 mV",
        "network.nodes[1].params.rate_hz: must be a finite number, got nan",
        "network.nodes[2].target: must be the id of a population, got 'nowhere'",
        "network.projections[0].target: must be the id of a population, got 'ghost'",
        "network.projections[0].weight: excitatory weights must be >= 0 mV, got -1 mV",
        "network.projections[1].id: 'a' is already used by network.nodes[0]",
    ]
    for message in expected:
        assert any(f.startswith(message) for f in found), (message, found)


@pytest.mark.parametrize("mutate,path", [
    (lambda d: d["simulation"].update(dt_ms=0), "simulation.dt_ms"),
    (lambda d: d["simulation"].update(count_bin_ms=0), "simulation.count_bin_ms"),
    (lambda d: d["network"]["projections"][0].update(delay_ms=0.25), "delay_ms"),
    (lambda d: d["network"]["projections"][0].update(receptor="inh"), "weight"),
    (lambda d: d["network"]["projections"][0].update(plasticity={"rule": "hebb"}),
     "plasticity.rule"),
    (lambda d: d["network"]["projections"][0]["connectivity"].update(p=2.0),
     "connectivity.p"),
    (lambda d: d["network"]["nodes"][0].update(model="hodgkin"), "nodes[0].model"),
    (lambda d: d["network"]["nodes"][1]["params"].update(neurons=[5]), "params.neurons[0]"),
    (lambda d: d.update(version=99), "version"),
    (lambda d: d["network"]["projections"][0].update(
        connectivity={"rule": "fixed_indegree", "k": 2, "allow_autapses": False}),
     "connectivity.k"),
    (lambda d: d.update(format="other"), "format"),
])
def test_field_paths(mutate, path):
    doc = document([lif("a", 2), monitor("m", "a")],
                   [connection("p", "a", "a", weight=1.0, rule="fixed_probability",
                               connectivity={"p": 0.5})])
    mutate(doc)
    assert any(path in message for message in problems_of(doc))


def test_not_json_and_json_constants_are_rejected():
    with pytest.raises(ProjectError, match="not a valid JSON document"):
        loads_project("{'format': 1}")
    with pytest.raises(ProjectError, match="NaN is not allowed"):
        loads_project('{"format": NaN}')


def test_nan_and_infinity_are_reported_at_their_field():
    doc = document([lif("a", tau_m=10.0)], duration_ms=100.0)
    text = json.dumps(doc).replace('"tau_m": 10.0', '"tau_m": NaN').replace(
        '"duration_ms": 100.0', '"duration_ms": Infinity')
    with pytest.raises(ProjectError) as info:
        loads_project(text)
    paths = [p.path for p in info.value.problems]
    assert paths == ["network.nodes[0].params.tau_m", "simulation.duration_ms"]
    assert "network.nodes[0].params.tau_m: NaN is not allowed" in str(info.value)


def test_save_is_atomic_and_leaves_no_temp_files(tmp_path):
    doc = document([lif("a")])
    target = tmp_path / "p.json"
    save_project(Project.from_dict(doc), target)
    save_project(Project.from_dict(doc), target)
    assert [p.name for p in tmp_path.iterdir()] == ["p.json"]
    assert load_project(target).to_dict() == Project.from_dict(doc).to_dict()


def test_failed_save_keeps_previous_file(tmp_path, monkeypatch):
    target = tmp_path / "p.json"
    save_project(Project.from_dict(document([lif("a")])), target)
    before = target.read_text()

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("os.replace", boom)
    with pytest.raises(OSError):
        save_project(Project.from_dict(document([lif("b")])), target)
    assert target.read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["p.json"]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_values)
def test_random_garbage_only_raises_project_errors(value):
    try:
        Project.from_dict(value)
    except ProjectError:
        pass


def _mutations():
    base = document([lif("a", 2), encoder("in", "poisson", 3), monitor("m", "a")],
                    [connection("p", "in", "a", plasticity={"rule": "stdp"})])
    keys = st.sampled_from(["network", "simulation", "nodes", "projections", "params",
                            "connectivity", "weight", "size", "model", "rule", "plasticity",
                            "tau_m", "rate_hz", "target", "delay_ms", "neurons"])
    return st.tuples(st.just(base), st.lists(st.tuples(keys, json_values), max_size=4))


def _set_everywhere(node, key, value):
    if isinstance(node, dict):
        for k in list(node):
            if k == key:
                node[k] = value
            else:
                _set_everywhere(node[k], key, value)
    elif isinstance(node, list):
        for item in node:
            _set_everywhere(item, key, value)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_mutations())
def test_mutated_projects_validate_or_raise_project_errors(case):
    """Near-valid documents with random values in known fields never crash the loader."""
    base, changes = case
    doc = json.loads(json.dumps(base))
    for key, value in changes:
        _set_everywhere(doc, key, value)
    try:
        Project.from_dict(doc)
    except ProjectError as exc:
        assert exc.problems and all(str(p) for p in exc.problems)


def test_optional_energy_and_scenario_sections_are_validated():
    from engine.energy.model import clone_profile, load_profiles
    from engine.evaluation.scenario_fit import default_scenarios, scenario_to_dict

    doc = document([lif("a")])
    doc["energy"] = {"profiles": {"mine": clone_profile(load_profiles()["loihi"],
                                                        "mine").to_dict()}}
    doc["scenarios"] = [scenario_to_dict(s) for s in default_scenarios()[:2]]
    project = Project.from_dict(doc)
    assert loads_project(json.dumps(project.to_dict())).to_dict() == project.to_dict()
    doc["energy"]["profiles"]["mine"]["synaptic_op"]["value"] = -1.0
    doc["scenarios"][1]["duration_ms"] = -3
    found = problems_of(doc)
    assert any(f.startswith("energy.profiles.mine.synaptic_op: must be >= 0 J") for f in found)
    assert any(f.startswith("scenarios[1].duration_ms") for f in found), found


def test_sampling_settings_follow_a_changed_dt():
    """Bins and monitor intervals are rounded to the step grid; delays must fit it exactly."""
    from engine.core.build import build

    doc = document([lif("a", 2), monitor("m", "a", interval_ms=0.1)], dt_ms=0.25,
                   count_bin_ms=1.0)
    compiled = build(Project.from_dict(doc))
    assert compiled.bin_steps == 4 and compiled.monitors[0]["interval"] == 1
    doc["network"]["projections"] = [connection("p", "a", "a", delay_ms=0.1)]
    assert any("multiple of dt (0.25 ms)" in m for m in problems_of(doc))
