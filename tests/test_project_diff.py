"""engine.analysis.project_diff: what changed between two project documents, in short readable
lines."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from engine.analysis.project_diff import (
    MISSING,
    difference_lines,
    format_value,
    project_differences,
)

SAMPLES = Path(__file__).resolve().parent.parent / "sample_projects"


@pytest.fixture
def cuba() -> dict:
    return json.loads((SAMPLES / "cuba_balanced.json").read_text())


@pytest.fixture
def stdp() -> dict:
    return json.loads((SAMPLES / "stdp_song_abbott.json").read_text())


def texts(a: dict, b: dict) -> list[str]:
    return [d.text for d in project_differences(a, b)]


def test_same_document_has_no_difference(cuba):
    assert project_differences(cuba, copy.deepcopy(cuba)) == []


def test_parts_that_do_not_change_a_run_are_ignored(cuba):
    other = copy.deepcopy(cuba)
    other.update(name="Renamed", description="new", lab="# notes", layout={"positions": {}})
    other["network"]["nodes"][0]["label"] = "Pyramidal cells"
    assert project_differences(cuba, other) == []


def test_simulation_and_neuron_parameter_with_units(cuba):
    other = copy.deepcopy(cuba)
    other["simulation"]["duration_ms"] = 500.0
    other["network"]["nodes"][0]["params"]["tau_m"] = 10.0
    assert texts(cuba, other) == ["duration: 1000 → 500 ms", "exc.tau_m: 20 → 10 ms"]
    diff = project_differences(cuba, other)[1]
    assert diff.path == "network.nodes.exc.params.tau_m"
    assert (diff.before, diff.after, diff.unit) == (20.0, 10.0, "ms")


def test_simulation_comes_first_whatever_the_key_order(cuba):
    other = copy.deepcopy(cuba)
    other["network"]["nodes"][1]["size"] = 400
    other["simulation"]["seed"] = 7
    assert texts(cuba, other) == ["seed: 42 → 7", "inh.size: 800 → 400"]


def test_a_left_out_parameter_equals_its_default(cuba):
    explicit = copy.deepcopy(cuba)
    omitted = copy.deepcopy(cuba)
    del omitted["network"]["nodes"][1]["params"]["v_thresh"]  # the LIF default is -50 mV too
    explicit["network"]["nodes"][1]["params"]["v_thresh"] = -50
    assert project_differences(explicit, omitted) == []
    # A left-out parameter whose default differs is a change, with the default's value.
    del omitted["network"]["nodes"][1]["params"]["t_ref"]
    assert texts(cuba, omitted) == ["inh.t_ref: 0 → 2 ms"]


def test_projection_fields(cuba):
    other = copy.deepcopy(cuba)
    other["network"]["projections"][0]["connectivity"]["p"] = 0.05
    other["network"]["projections"][1]["delay_ms"] = 1.5
    other["network"]["projections"][2]["weight"] = -4.5
    other["network"]["projections"][3]["connectivity"] = {"rule": "fixed_indegree", "k": 80}
    assert texts(cuba, other) == [
        "exc_to_exc.p: 0.02 → 0.05",
        "exc_to_inh.delay: 0 → 1.5 ms",
        "inh_to_exc.weight: -9 → -4.5 mV",
        "inh_to_inh.connectivity: fixed_probability(p=0.02, allow_autapses=true) → "
        "fixed_indegree(k=80, allow_autapses=true)",
    ]


def test_added_and_removed_items_are_one_line_each(cuba):
    other = copy.deepcopy(cuba)
    other["network"]["nodes"].append({"id": "noise", "kind": "encoder", "model": "poisson",
                                      "size": 100, "params": {}})
    other["network"]["projections"].pop()
    assert texts(cuba, other) == ["node noise added (poisson encoder, 100 neurons)",
                                  "projection inh_to_inh removed"]
    back = project_differences(other, cuba)
    assert [d.text for d in back] == ["node noise removed",
                                      "projection inh_to_inh added (inh → inh)"]
    assert back[0].after is MISSING


def test_another_model_is_one_line_not_every_parameter(cuba):
    other = copy.deepcopy(cuba)
    other["network"]["nodes"][0].update(model="izhikevich", params={})
    assert texts(cuba, other) == ["exc.model: lif → izhikevich"]


def test_weight_distribution_and_plasticity(stdp):
    other = copy.deepcopy(stdp)
    other["network"]["projections"][0]["weight"]["high"] = 2.0
    other["network"]["projections"][0]["plasticity"]["a_plus"] = 0.03
    assert texts(stdp, other)[:2] == ["ff.weight.high: 1 → 2 mV",
                                      "ff.plasticity.a_plus: 0.02 → 0.03 mV"]
    other["network"]["projections"][0]["plasticity"] = None
    line = texts(stdp, other)[-1]
    assert line.startswith("ff.plasticity: stdp(a_plus=0.02, ") and line.endswith("→ none")
    assert len(line) < 100, "a whole rule is cut short"


def test_record_spikes_and_monitor_lists(cuba):
    other = copy.deepcopy(cuba)
    other["simulation"]["record_spikes"] = ["exc"]
    other["network"]["nodes"][2]["params"]["neurons"] = list(range(50))
    assert texts(cuba, other) == ["record_spikes: all → [exc]",
                                  "exc_v.neurons: [0, 1, 2] → [0, 1, 2, 3, … 50 items]"]


def test_other_sections_are_compared_too(cuba):
    other = copy.deepcopy(cuba)
    other["energy"] = {"profiles": []}
    assert texts(cuba, other) == ["energy: (not set) → {profiles=[]}"]


def test_broken_documents_give_an_answer_not_an_error():
    a = {"network": {"nodes": [{"id": "x", "kind": "population", "model": "nope",
                                "params": {"q": 1}}, "junk"]}, "simulation": {}}
    b = {"network": {"nodes": [{"id": "x", "kind": "population", "model": "nope",
                                "params": {"q": 2}}]}}
    assert texts(a, b) == ["simulation: {} → (not set)", "x.q: 1 → 2"]
    assert project_differences(None, None) == []


def test_difference_lines_limit(cuba):
    other = copy.deepcopy(cuba)
    for k, key in enumerate(("tau_m", "v_rest", "v_reset", "v_thresh", "tau_syn_exc")):
        other["network"]["nodes"][0]["params"][key] = 100.0 + k
    lines = difference_lines(project_differences(cuba, other), limit=3)
    assert lines == ["exc.tau_m: 20 → 100 ms", "exc.v_rest: -49 → 101 mV", "… and 3 more"]
    assert len(difference_lines(project_differences(cuba, other), limit=5)) == 5


def test_format_value():
    assert format_value(0.022000000000000002) == "0.022"
    assert format_value(4294967295) == "4294967295"
    assert format_value(True) == "true"
    assert format_value(None) == "none"
    assert format_value({"dist": "normal", "mean": 1.0, "std": 0.5}) == "normal(mean=1, std=0.5)"


def test_a_per_neuron_parameter_reads_as_mean_min_max():
    from tests.helpers import document, lif

    shared = document([lif("exc", 3)])
    listed = document([lif("exc", 3, tau_m=[10.0, 12.0, 14.0])])
    drawn = document([lif("exc", 3, tau_m={"dist": "uniform", "low": 8.0, "high": 12.0})])
    assert [d.text for d in project_differences(shared, listed)] == [
        "exc.tau_m: 10 ms → per neuron: mean 12 / min 10 / max 14 ms (3 values)"]
    assert [d.text for d in project_differences(listed, drawn)] == [
        "exc.tau_m: per neuron: mean 12 / min 10 / max 14 ms (3 values) → per neuron: "
        "uniform, low 8, high 12 ms"]
