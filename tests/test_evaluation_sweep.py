"""Accuracy against presentation time, the dense ANN a converted project stands for, and the
dataset upload loader (issue 12, item 2)."""

from __future__ import annotations

import copy
import io
import json
import threading

import numpy as np
import pytest

from engine.energy.model import energy_breakdown, energy_totals, load_profiles
from engine.errors import SpikeStudioError
from engine.evaluation.ann_reference import ann_reference, dense_chain
from engine.evaluation.classify import evaluate, output_population, project_samples, readout
from engine.evaluation.datasets import Dataset, load_dataset, load_dataset_bytes
from engine.evaluation.presentation_sweep import (
    MAX_TIMES,
    check_present_times,
    evaluation_project,
    layer_rates,
    sweep_presentation,
)
from engine.project import Project, load_project
from engine.simulator import simulate

DIGITS = "sample_projects/digits_mlp.json"


@pytest.fixture(scope="module")
def digits_doc() -> dict:
    with open(DIGITS) as f:
        return json.load(f)


@pytest.fixture(scope="module")
def held_out() -> Dataset:
    return load_dataset("digits")


# ---------------------------------------------------------------------------- ANN reference
def test_the_dense_chain_of_the_converted_digits_mlp_scores_as_the_source_ann(held_out):
    chain = dense_chain(load_project(DIGITS))
    assert [(l.population, l.weight.shape, l.relu) for l in chain.layers] == [
        ("layer1", (64, 100), True), ("output", (100, 10), False)]
    assert chain.macs == 64 * 100 + 100 + 100 * 10 + 10
    # The lab notes (make_digits_mlp.py, the source ANN in numpy): 98.1% on the 1,000.
    assert np.mean(chain.predict(held_out.x) == held_out.y) == pytest.approx(0.981)


def test_ann_reference_prices_the_macs_on_the_dense_profiles(held_out):
    ref = ann_reference(load_project(DIGITS), held_out, n_samples=100)
    assert ref.why_no_accuracy is None and 0.9 < ref.accuracy <= 1.0
    profiles = load_profiles()
    dense = {pid for pid, p in profiles.items() if p.kind == "dense"}
    assert set(ref.energy_per_inference_j) == dense
    gpu = profiles["gpu_system"]
    assert ref.energy_per_inference_j["gpu_system"]["compute"] == pytest.approx(
        7510 * gpu.energy("mac"))


def _edited(doc: dict, edit) -> Project:
    doc = copy.deepcopy(doc)
    edit(doc)
    return Project.from_dict(doc)


def _node(doc, node_id):
    return next(n for n in doc["network"]["nodes"] if n["id"] == node_id)


@pytest.mark.parametrize("edit, words", [
    (lambda d: _node(d, "layer1").update(model="lif", params={}), "population 'layer1'"),
    (lambda d: d["network"]["projections"].append(
        {"id": "loop", "source": "output", "target": "layer1",
         "connectivity": {"rule": "matrix", "weights": [[0.1] * 100] * 10}}),
     "projection 'loop'"),
    (lambda d: d["network"]["projections"][0].update(
        connectivity={"rule": "all_to_all"}, weight=0.1), "all_to_all connectivity"),
])
def test_a_project_that_is_not_a_converted_chain_says_why(digits_doc, held_out, edit, words):
    project = _edited(digits_doc, edit)
    with pytest.raises(SpikeStudioError, match=words):
        dense_chain(project)
    ref = ann_reference(project, held_out, n_samples=5)
    assert ref.accuracy is None and words in ref.why_no_accuracy
    assert ref.macs_per_inference == 0 and "not counted" in ref.macs_basis


def test_without_a_chain_the_macs_come_from_the_runs_projections(digits_doc, held_out):
    project = _edited(digits_doc, lambda d: _node(d, "layer1").update(model="lif",
                                                                        params={}))
    run = evaluation_project(project, held_out, n_samples=2, present_ms=10.0, output="output")
    result = simulate(run)
    ref = ann_reference(project, held_out, n_samples=2, result=result, window_ms=10.0)
    assert ref.accuracy is None
    assert ref.macs_per_inference == result.network_info["n_synapses"].sum()
    assert "one MAC per synapse" in ref.macs_basis


# ---------------------------------------------------------------------------- the sweep
def test_present_times_are_checked_sorted_and_deduplicated():
    assert check_present_times([50, 10, 50.0, 20], 1.0) == [10.0, 20.0, 50.0]
    for bad, words in (([0], "not in"), ([-5], "not in"), ([2.5], "whole number"),
                       ([], "at least one"), (list(range(1, MAX_TIMES + 2)), "at most")):
        with pytest.raises(SpikeStudioError, match=f"presentation times: .*{words}"):
            check_present_times(bad, 1.0)


def test_the_evaluation_project_records_the_output_it_reads(digits_doc, held_out):
    project = _edited(digits_doc, lambda d: d["simulation"].update(record_spikes=[]))
    run = evaluation_project(project, held_out, n_samples=3, present_ms=20.0, output="layer1")
    assert run.simulation.record_spikes == ["layer1"]
    assert run.simulation.duration_ms == 60.0
    assert run.network.node("input").params["present_ms"] == 20.0


def test_sweep_scores_each_presentation_time(held_out):
    project = load_project(DIGITS)
    seen = []
    sweep = sweep_presentation(project, held_out, [20, 5], n_samples=20,
                               progress=seen.append, max_workers=1)
    assert [p.present_ms for p in sweep.points] == [5.0, 20.0] and not sweep.problems
    assert sweep.output == output_population(project) == "output"
    curve = sweep.curve()
    assert curve["present_ms"].tolist() == [5.0, 20.0]
    # Longer presentation, more events per inference.
    assert curve["synaptic_events_per_inference"].is_monotonic_increasing
    # The same numbers as one evaluation of that run.
    run = evaluation_project(project, held_out, n_samples=20, present_ms=20.0,
                             output="output")
    result = simulate(run)
    report = evaluate(result, run, readout(result, run, "output"))
    assert sweep.point(20.0).report["accuracy"] == report["accuracy"]
    assert sweep.point(20.0).report["confusion"] == report["confusion"]
    rates = layer_rates(result)
    assert set(rates) == {"layer1", "output"}
    spikes = result.counts.query("node == 'output'")["spikes"].sum()
    assert rates["output"] == pytest.approx(spikes / 10 / (result.duration_ms / 1000))
    assert sweep.point(20.0).rates_hz == pytest.approx(rates)
    assert seen[-1].done == 2 and seen[-1].fraction == pytest.approx(1.0)
    assert sweep.ann.accuracy == pytest.approx(
        np.mean(dense_chain(project).predict(held_out.x[:20]) == held_out.y[:20]))


def test_a_cancelled_sweep_keeps_nothing_it_did_not_finish(held_out):
    cancel = threading.Event()
    cancel.set()
    sweep = sweep_presentation(load_project(DIGITS), held_out, [10, 20], n_samples=5,
                               cancel=cancel)
    assert sweep.cancelled and not sweep.points
    assert set(sweep.problems) == {10.0, 20.0}


def test_sweep_refuses_bad_input_before_any_run(held_out):
    project = load_project(DIGITS)
    calls = []

    def counting(*args, **kwargs):
        calls.append(1)
        return simulate(*args, **kwargs)

    with pytest.raises(SpikeStudioError, match="output: 'nope' is not a population"):
        sweep_presentation(project, held_out, [10], n_samples=2, output="nope",
                           simulate=counting)
    wrong = Dataset("wide", np.zeros((3, 10)), np.zeros(3, np.int64))
    with pytest.raises(SpikeStudioError, match="10 features.*takes 64"):
        sweep_presentation(project, wrong, [10], n_samples=2, simulate=counting)
    assert not calls


def test_evaluate_counts_idle_updates_per_hardware_step(digits_doc, held_out):
    # dt 0.5 ms: Loihi updates every neuron once per 1 ms step, not once per 0.5 ms.
    def finer(d):
        d["simulation"].update(dt_ms=0.5)
        _node(d, "layer1")["params"].update(tau_m=0.5)
        _node(d, "output")["params"].update(tau_m=0.5)
        _node(d, "output")["params"]["v_thresh"] = 50.0  # silent: its updates are idle
    project = _edited(digits_doc, finer)
    run = evaluation_project(project, held_out, n_samples=3, present_ms=10.0,
                             output="output")
    result = simulate(run)
    report = evaluate(result, run, readout(result, run, "output"))
    loihi = load_profiles()["loihi"]
    full = energy_totals(energy_breakdown(result.counts, loihi, result.bin_ms,
                                          result.duration_ms))["total_j"]
    assert report["energy_per_inference_j"]["loihi"]["total"] == pytest.approx(full / 3)


def test_project_samples_are_the_encoders_own(digits_doc):
    data = project_samples(load_project(DIGITS))
    assert data.x.shape == (200, 64) and data.y[:3].tolist() == \
        _node(digits_doc, "input")["params"]["labels"][:3]


# ---------------------------------------------------------------------------- uploads
def test_uploaded_csv_and_npz_load_through_the_safe_loaders():
    data = load_dataset_bytes(b"a,b,label\n0.1,0.2,1\n0.3,0.4,0\n", "../../my data.csv")
    assert data.name == "my_data" and data.x.tolist() == [[0.1, 0.2], [0.3, 0.4]]
    buffer = io.BytesIO()
    np.savez(buffer, x=np.ones((2, 2, 2)), y=np.array([0, 1]))
    assert load_dataset_bytes(buffer.getvalue(), "set.npz").x.shape == (2, 4)
    pickled = io.BytesIO()
    np.savez(pickled, x=np.array([object()], dtype=object), y=np.array([0]))
    with pytest.raises(SpikeStudioError, match="not a readable .npz"):
        load_dataset_bytes(pickled.getvalue(), "evil.npz")
    with pytest.raises(SpikeStudioError, match="line 2, column 'b': not a number"):
        load_dataset_bytes(b"a,b,label\n0.1,x,1\n", "bad.csv")
    with pytest.raises(SpikeStudioError, match="expected a .csv or .npz"):
        load_dataset_bytes(b"", "run.py")
