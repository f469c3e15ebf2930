"""Labels, not internal paths, in messages the page shows (engine/field_labels.py); the CLI
keeps the field paths, which say where to fix a JSON file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.errors import Problem, ProjectError
from engine.field_labels import field_label, problem_text
from workbench import edits, storage
from workbench.session import ProjectSession

SAMPLES = Path(__file__).parent.parent / "sample_projects"


@pytest.fixture
def cuba() -> dict:
    doc = json.loads((SAMPLES / "cuba_balanced.json").read_text())
    doc["network"]["nodes"].insert(0, {"id": "poisson", "kind": "encoder", "model": "poisson",
                                       "size": 4, "label": "Poisson",
                                       "params": {"rate_hz": 5.0}})
    doc["network"]["projections"].append({"id": "poisson_to_lif", "source": "poisson",
                                          "target": "exc", "weight": {"value": 1.0}})
    return doc


@pytest.mark.parametrize("path, label", [
    ("network.projections[poisson_to_lif].weight.value",
     "Projection “Poisson → Excitatory”, Weight (mV)"),
    ("network.projections[poisson_to_lif].weight",
     "Projection “Poisson → Excitatory”, Weight (mV)"),
    ("network.projections[poisson_to_lif].delay_ms.mean",
     "Projection “Poisson → Excitatory”, Delay mean (ms)"),
    ("network.projections[poisson_to_lif]", "Projection “Poisson → Excitatory”"),
    ("network.nodes[exc].params.tau_m", "Node “Excitatory”, tau m (ms)"),
    ("network.nodes[1].params.tau_m", "Node “Excitatory”, tau m (ms)"),  # by index
    ("network.nodes[poisson].params.rate_hz", "Node “Poisson”, rate hz (Hz)"),
    ("network.nodes[exc].size", "Node “Excitatory”, Size"),
    ("simulation.dt_ms", "Simulation, dt ms (ms)"),
    ("network.nodes[gone].size", "network.nodes[gone].size"),  # unknown: the path stays
    ("layout.viewport", "layout.viewport"),
])
def test_field_paths_become_the_labels_the_page_shows(cuba, path, label):
    assert field_label(cuba, path) == label


def test_a_projection_with_a_label_is_named_by_it_and_an_unlabelled_node_by_its_id(cuba):
    proj = cuba["network"]["projections"][-1]
    proj["label"] = "Drive"
    assert field_label(cuba, "network.projections[poisson_to_lif].weight") == (
        "Projection “Drive”, Weight (mV)")
    del cuba["network"]["nodes"][0]["label"]
    assert field_label(cuba, "network.nodes[poisson].size") == "Node “poisson”, Size"


def test_a_problem_reads_label_then_message_and_a_pathless_one_is_its_message(cuba):
    problem = Problem("network.projections[poisson_to_lif].weight.value", "must be finite")
    assert problem_text(cuba, problem) == (
        "Projection “Poisson → Excitatory”, Weight (mV): must be finite")
    assert problem_text(cuba, Problem("", "the network is empty")) == "the network is empty"
    assert str(problem) == "network.projections[poisson_to_lif].weight.value: must be finite"


def test_the_session_shows_labels_in_problems_run_refusals_and_errors(tmp_path, monkeypatch):
    monkeypatch.setenv("SPIKESTUDIO_HOME", str(tmp_path / "home"))
    session = ProjectSession("s", storage.Workspace.local())
    session.open_path(SAMPLES / "lif_single_neuron.json")
    session.apply(edits.set_node_param, "neuron", "tau_m", -5.0)
    assert session.problem_lines() == ["Node “LIF neuron”, tau m (ms): must be > 0 ms, got -5 ms"]
    session.set_field_error("network.nodes[neuron].size", "1.5", "must be a whole number")
    assert session.run_blockers()[0] == (
        "Node “LIF neuron”, Size: must be a whole number (typed '1.5')")
    with pytest.raises(ProjectError) as refused:
        session.project()
    assert session.error_text(refused.value) == session.problem_lines()[0]
    # An uploaded file's problems keep their paths: they say where to fix the file.
    upload = ProjectError([Problem("network.nodes[1].params.tau_m", "must be > 0 ms")])
    assert session.error_text(upload) == "network.nodes[1].params.tau_m: must be > 0 ms"
