"""Dataset presentation encoders, the per-sample reset, dataset files and the readout."""

from __future__ import annotations

import numpy as np
import pytest

from engine.energy.model import energy_breakdown, energy_totals, load_profiles
from engine.errors import ProjectError, SpikeStudioError
from engine.evaluation.classify import evaluate, readout, with_dataset
from engine.evaluation.datasets import Dataset, check_features, digits, load_dataset
from engine.project import Project
from engine.simulator import simulate

IF = {"tau_m": 1.0, "v_thresh": 1.0, "v_reset": 0.0, "reset_mode": "subtract", "t_ref": 0.0,
      "tau_syn_exc": 0.0, "tau_syn_inh": 0.0, "v_init": 0.0}


def _doc(encoder: dict, *, size=3, duration=40.0, weight=0.3, monitor_ms=1.0,
         thresh=1.0) -> dict:
    return {
        "format": "spikestudio-project", "version": 1, "name": "t",
        "network": {"nodes": [
            {"id": "in", "kind": "encoder", "size": size, **encoder},
            {"id": "out", "kind": "population", "model": "if", "size": size,
             "params": {**IF, "v_thresh": thresh}},
            {"id": "m", "kind": "monitor", "model": "state", "target": "out",
             "params": {"variables": ["v"], "neurons": list(range(size)),
                        "interval_ms": monitor_ms}}],
            "projections": [{"id": "p", "source": "in", "target": "out",
                             "connectivity": {"rule": "one_to_one"}, "weight": weight}]},
        "simulation": {"duration_ms": duration, "dt_ms": 1.0},
    }


SAMPLES = [[0.0, 0.5, 1.0], [1.0, 0.0, 0.25]]


def test_regular_dataset_spikes_fall_inside_each_window():
    doc = _doc({"model": "dataset", "params": {"samples": SAMPLES, "labels": [2, 0],
                                               "present_ms": 20, "pause_ms": 5,
                                               "coding": "regular"}}, duration=50)
    result = simulate(Project.from_dict(doc))
    spikes = result.spikes[result.spikes["population"] == "in"]
    k = np.rint(spikes["time_ms"].to_numpy()).astype(int)
    sample, phase = (k - 1) // 25, (k - 1) % 25
    assert np.all(phase < 19)  # time indices start + 1 .. start + present - 1
    counts = np.zeros((2, 3), int)
    np.add.at(counts, (sample, spikes["neuron"].to_numpy()), 1)
    # an accumulator of p = x per step over 19 steps
    assert counts.tolist() == [[0, 9, 19], [19, 0, 4]]


def test_current_dataset_drives_each_channel_and_resets_between_samples():
    doc = _doc({"model": "dataset_current", "params": {"samples": SAMPLES,
                                                       "present_ms": 20}},
               thresh=100.0)
    result = simulate(Project.from_dict(doc))
    v = result.traces["m"].values["v"]
    # sample 0 for steps 1..20 (v = 0.3 x per step), reset, sample 1 from step 21
    np.testing.assert_allclose(v[20], 20 * 0.3 * np.array(SAMPLES[0]), atol=1e-9)
    np.testing.assert_allclose(v[21], 0.3 * np.array(SAMPLES[1]), atol=1e-9)
    np.testing.assert_allclose(v[40], 20 * 0.3 * np.array(SAMPLES[1]), atol=1e-9)


def test_without_reset_the_state_carries_over():
    doc = _doc({"model": "dataset_current", "params": {"samples": SAMPLES, "present_ms": 20,
                                                       "reset": False}}, thresh=100.0)
    v = simulate(Project.from_dict(doc)).traces["m"].values["v"]
    np.testing.assert_allclose(v[21], 0.3 * (20 * np.array(SAMPLES[0]) + SAMPLES[1]))


def test_poisson_dataset_rates_follow_the_samples():
    samples = [[0.0, 0.2, 0.6]] * 4
    doc = _doc({"model": "dataset", "params": {"samples": samples, "present_ms": 500,
                                               "max_rate_hz": 500.0}}, duration=2000)
    spikes = simulate(Project.from_dict(doc)).spikes
    inp = spikes[spikes["population"] == "in"]
    counts = np.bincount(inp["neuron"], minlength=3) / (4 * 499)
    np.testing.assert_allclose(counts, [0.0, 0.1, 0.3], atol=0.02)
    k = np.rint(inp["time_ms"].to_numpy()).astype(int)
    assert not np.any(k % 500 == 0)  # never on a window's first time index


@pytest.mark.parametrize("change, field", [
    ({"size": 4}, "network.nodes[0].size"),
    ({"params": {"samples": SAMPLES, "labels": [1]}}, "network.nodes[0].params.labels"),
    ({"params": {"samples": [[0.0, 2.0, 0.0]]}}, "network.nodes[0].params.samples"),
])
def test_bad_dataset_encoders_are_refused_naming_the_field(change, field):
    encoder = {"model": "dataset", "params": {"samples": SAMPLES}}
    doc = _doc(encoder)
    doc["network"]["nodes"][0].update(change)
    with pytest.raises(ProjectError) as info:
        Project.from_dict(doc)
    assert field in str(info.value)


def test_readout_counts_and_membrane_and_evaluate():
    # weights favour neuron = label: sample 0 -> class 2, sample 1 -> class 0
    doc = _doc({"model": "dataset", "params": {"samples": SAMPLES, "labels": [2, 0],
                                               "present_ms": 20, "coding": "regular"}},
               weight=1.0, monitor_ms=20.0)
    project = Project.from_dict(doc)
    result = simulate(project)
    out = readout(result, project, "out")
    assert out.predictions.tolist() == [2, 0]
    assert out.labels.tolist() == [2, 0]
    membrane = readout(result, project, "out", mode="membrane")
    assert membrane.scores.shape == (2, 3)
    report = evaluate(result, project, out)
    assert report["accuracy"] == 1.0
    assert report["confusion"][2][2] == 1 and report["confusion"][0][0] == 1
    assert report["spikes_per_inference"] == result.counts.query(
        "kind == 'population'")["spikes"].sum() / 2
    # per-inference energy is the per-bin breakdown's total over the samples
    profile = load_profiles()["loihi"]
    total = energy_totals(energy_breakdown(result.counts, profile, result.bin_ms,
                                           result.duration_ms))["total_j"]
    assert report["energy_per_inference_j"]["loihi"]["total"] == pytest.approx(total / 2)
    assert set(report["energy_per_inference_j"]) == set(load_profiles())


def test_readout_refuses_an_output_whose_spikes_are_not_recorded():
    doc = _doc({"model": "dataset", "params": {"samples": SAMPLES, "present_ms": 20}})
    doc["simulation"]["record_spikes"] = ["in"]
    project = Project.from_dict(doc)
    with pytest.raises(SpikeStudioError, match="record_spikes: must include .*'out'"):
        readout(simulate(project), project, "out")


def test_with_dataset_swaps_the_samples_and_sets_the_duration():
    doc = _doc({"model": "dataset", "params": {"samples": SAMPLES, "present_ms": 20}},
               monitor_ms=20.0)
    data = Dataset("d", np.array([[0.1, 0.2, 0.3]] * 5), np.arange(5) % 3)
    project = with_dataset(Project.from_dict(doc), data, n_samples=4, present_ms=10)
    node = project.network.node("in")
    assert len(node.params["samples"]) == 4 and node.params["labels"] == [0, 1, 2, 0]
    assert project.simulation.duration_ms == 40
    assert project.network.node("m").params["interval_ms"] == 10
    with pytest.raises(SpikeStudioError, match="64 features .8x8 images.; the input takes 3"):
        with_dataset(project, digits())


def test_digits_is_bundled_and_split_reproducibly():
    data = digits()
    assert data.x.shape == (1797, 64) and data.x.max() == 1.0
    test_a, test_b = load_dataset("digits"), load_dataset("digits")
    assert len(test_a.y) == 1000 and np.array_equal(test_a.x, test_b.x)
    assert len(load_dataset("digits-train").y) == 797


def test_csv_and_npz_files_load_and_bad_ones_name_the_problem(tmp_path):
    good = tmp_path / "good.csv"
    good.write_text("a,b,label\n0.1,0.2,1\n0.3,0.4,0\n")
    data = load_dataset(str(good))
    assert data.x.tolist() == [[0.1, 0.2], [0.3, 0.4]] and data.y.tolist() == [1, 0]
    nan = tmp_path / "nan.csv"
    nan.write_text("a,b,label\n0.1,nan,1\n")
    with pytest.raises(SpikeStudioError, match="column 'b', sample 0: must be a finite"):
        load_dataset(str(nan))
    text = tmp_path / "text.csv"
    text.write_text("a,b,label\n0.1,x,1\n")
    with pytest.raises(SpikeStudioError, match="line 2, column 'b': not a number"):
        load_dataset(str(text))
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("a,b,label\n0.1,1\n")
    with pytest.raises(SpikeStudioError, match="line 2: has 2 values"):
        load_dataset(str(ragged))
    with pytest.raises(SpikeStudioError, match="no column 'label'"):
        (tmp_path / "nolabel.csv").write_text("a,b\n1,2\n")
        load_dataset(str(tmp_path / "nolabel.csv"))
    npz = tmp_path / "d.npz"
    np.savez(npz, x=np.zeros((3, 2, 2)), y=np.array([0, 1, 2]))
    assert load_dataset(str(npz)).x.shape == (3, 4)
    np.savez(npz, x=np.zeros((3, 4)), y=np.array([0, 1]))
    with pytest.raises(SpikeStudioError, match="one label per row"):
        load_dataset(str(npz))
    np.savez(npz, x=np.array([[0.0, np.nan]]), y=np.array([0]))
    with pytest.raises(SpikeStudioError, match="feature 1, sample 0"):
        load_dataset(str(npz))
    np.savez(npz, x=np.array([{"a": 1}], dtype=object), y=np.array([0]))
    with pytest.raises(SpikeStudioError, match="not a readable .npz"):
        load_dataset(str(npz))
    with pytest.raises(SpikeStudioError, match="rate coding needs values in"):
        check_features(Dataset("d", np.array([[0.5, 1.5]]), np.array([0])), 2,
                       unit_range=True)
