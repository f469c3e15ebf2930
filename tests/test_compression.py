"""Model compression (issue 12, item 5): exact quantisation, pruning that removes exactly
what it says, idle-neuron pruning that changes no answer, spike-time quantisation, model
size, the sweep, the CLI and bad input."""

from __future__ import annotations

import json
import math
import threading
from pathlib import Path

import numpy as np
import pytest

from engine.cli import main
from engine.compression import (
    CompressionPoint,
    CompressionSettings,
    compress,
    evaluate_settings,
    grid_bits,
    model_size_bytes,
    pareto_front,
    q_max,
    size_breakdown,
)
from engine.compression.layers import block_pairs, layers_of
from engine.compression.quantise import layer_scale, quantise
from engine.core.build import estimate_memory, synapse_blocks
from engine.energy.model import FIGURE_NAMES, edit_profile, load_profiles
from engine.errors import SpikeStudioError
from engine.evaluation.classify import project_samples, readout, with_dataset
from engine.evaluation.datasets import Dataset, digits_split
from engine.project import Project, load_project, save_project
from engine.simulator import simulate
from tests.helpers import connection, document, encoder, lif

ROOT = Path(__file__).resolve().parent.parent
MLP = ROOT / "sample_projects" / "digits_mlp.json"
IF = {"tau_m": 1.0, "v_thresh": 1.0, "v_reset": 0.0, "reset_mode": "subtract",
      "t_ref": 0.0, "tau_syn_exc": 0.0, "tau_syn_inh": 0.0, "v_init": 0.0}


@pytest.fixture(scope="module")
def mlp() -> Project:
    return load_project(MLP)


def _layer_values(project: Project, layer) -> list[np.ndarray]:
    """The document's matrix values of every projection of a layer."""
    return [np.asarray(project.network.projections[j].connectivity["weights"], np.float64)
            for j in layer.projections]


def _tiny(samples: np.ndarray, hidden: np.ndarray, out: np.ndarray, *,
          coding: str = "regular") -> Project:
    """dataset -> hidden (IF) -> output (IF), weights as given (exc and inh split)."""
    nodes = [encoder("input", "dataset", samples.shape[1], samples=samples.tolist(),
                     labels=list(range(len(samples))), present_ms=20.0, coding=coding,
                     max_rate_hz=500.0),
             {"id": "hidden", "kind": "population", "model": "if", "size": hidden.shape[1],
              "params": IF},
             {"id": "output", "kind": "population", "model": "if", "size": out.shape[1],
              "params": IF}]
    projections = []
    for name, src, tgt, w in (("in_h", "input", "hidden", hidden),
                              ("h_out", "hidden", "output", out)):
        for receptor, part in (("exc", np.maximum(w, 0)), ("inh", np.minimum(w, 0))):
            if part.any():
                projections.append(connection(f"{name}_{receptor}", src, tgt, 0.0,
                                              rule="matrix", receptor=receptor,
                                              connectivity={"weights": part.tolist()}))
    return Project.from_dict(document(nodes, projections, duration_ms=20.0 * len(samples),
                                      dt_ms=1.0, record_spikes=["output"]))


# ------------------------------------------------------------------ quantisation
@pytest.mark.parametrize("bits, scale", [(2, "max"), (3, "max"), (4, "max"), (6, "max"),
                                         (8, "max"), (2, "mse"), (4, "mse")])
def test_quantised_weights_lie_on_a_symmetric_grid_of_at_most_2k_values(mlp, bits, scale):
    compressed, report = compress(mlp, CompressionSettings(weight_bits=bits,
                                                           weight_scale=scale))
    top = q_max(bits)
    for layer, row in zip(layers_of(compressed), report.layers, strict=True):
        values = np.concatenate([v.ravel() for v in _layer_values(compressed, layer)])
        scale = np.abs(values).max() / top
        q = values / scale
        assert np.allclose(q, np.rint(q), rtol=0, atol=1e-9), layer.label
        assert np.abs(np.rint(q)).max() == top          # symmetric: the largest is +-q_max
        assert np.unique(np.rint(q)).size <= 2 ** bits  # 0 (no synapse) included
        assert math.isclose(scale, row.scale, rel_tol=1e-12)
        # what a run holds (float32): still at most 2**K - 1 non-zero values, on the grid
        run = np.concatenate([synapse_blocks(compressed)[compressed.network.projections[j].id]
                              ["weights"] for j in layer.projections])
        assert np.unique(run).size == row.distinct_values <= 2 ** bits - 1
        assert grid_bits(run) is not None and grid_bits(run) <= bits
    assert report.synapses_after < report.synapses_before  # small weights rounded to 0


def test_the_mse_scale_clips_the_largest_weights_for_a_smaller_error(mlp):
    w = np.asarray(mlp.network.projection("input_layer1_exc").connectivity["weights"])
    w = w[w != 0]
    for bits in (2, 3, 4):
        top, mse = layer_scale([w], bits), layer_scale([w], bits, "mse")
        assert mse <= top
        assert np.sum((quantise(w, mse, bits) - w) ** 2) <= np.sum(
            (quantise(w, top, bits) - w) ** 2)
    assert layer_scale([w], 2, "mse") < 0.9 * layer_scale([w], 2)


def test_unquantised_weights_are_on_no_grid(mlp):
    weights = synapse_blocks(mlp)["input_layer1_exc"]["weights"]
    assert grid_bits(weights) is None


def test_quantising_keeps_a_scalar_weight_and_its_rule():
    p = Project.from_dict(document([lif("a", 5), lif("b", 5)],
                                   [connection("ab", "a", "b", 0.75)]))
    compressed, report = compress(p, CompressionSettings(weight_bits=3))
    proj = compressed.network.projections[0]
    assert proj.connectivity["rule"] == "all_to_all" and math.isclose(proj.weight, 0.75)
    assert report.layers[0].distinct_values == 1


# ------------------------------------------------------------------ magnitude pruning
def test_pruning_removes_exactly_the_rounded_fraction_of_smallest_synapses():
    rng = np.random.default_rng(3)
    hidden = rng.normal(0, 1, (6, 9)) * (rng.random((6, 9)) < 0.8)
    p = _tiny(rng.random((4, 6)), hidden, rng.normal(0, 1, (9, 3)))
    fraction = 0.37
    compressed, report = compress(p, CompressionSettings(prune=fraction))
    before, after = synapse_blocks(p), synapse_blocks(compressed)
    for proj in p.network.projections:
        w = np.asarray(proj.connectivity["weights"])
        n = np.count_nonzero(w)
        k = math.floor(fraction * n + 0.5)
        order = np.argsort(np.abs(w[w != 0]))
        threshold = np.abs(w[w != 0])[order[k - 1]] if k else -1
        survivors = (w != 0) & (np.abs(w) > threshold)
        new = np.asarray(compressed.network.projection(proj.id).connectivity["weights"])
        assert np.array_equal(new != 0, survivors), proj.id
        assert np.array_equal(new[survivors], w[survivors])  # survivors keep their weight
        assert after[proj.id]["targets"].size == before[proj.id]["targets"].size - k
    assert sum(r.pruned for r in report.layers) == report.synapses_before \
        - report.synapses_after


def test_pruning_equal_weights_goes_in_source_target_order():
    p = Project.from_dict(document([lif("a", 4), lif("b", 5)],
                                   [connection("ab", "a", "b", 0.5)]))
    compressed, report = compress(p, CompressionSettings(prune=0.5))
    w = np.asarray(compressed.network.projections[0].connectivity["weights"])
    assert np.count_nonzero(w) == 10 and not w.ravel()[:10].any() and w.ravel()[10:].all()
    assert any("same weight" in m for m in report.messages)


# ------------------------------------------------------------------ idle-neuron pruning
def test_idle_pruning_removes_exactly_the_silent_neurons_and_keeps_every_answer():
    rng = np.random.default_rng(0)
    samples = rng.random((12, 3))
    hidden = rng.uniform(0.2, 0.6, (3, 5))
    hidden[:, 1] = -0.5          # only inhibition: never spikes
    hidden[:, 3] = 0.001         # far too little input to reach threshold in a window
    out = rng.uniform(0.1, 0.5, (5, 2))
    p = _tiny(samples, hidden, out)
    data = project_samples(p)
    compressed, report = compress(p, CompressionSettings(prune_idle=True), calibration=data)
    assert compressed.network.node("hidden").size == 3
    row = next(r for r in report.populations if r.population == "hidden")
    assert (row.neurons_before, row.neurons_after, row.silent) == (5, 3, 2)
    kept = [0, 2, 4]
    exc = np.asarray(compressed.network.projection("in_h_exc").connectivity["weights"])
    assert np.array_equal(exc, np.maximum(hidden, 0)[:, kept])
    h_out = np.asarray(compressed.network.projection("h_out_exc").connectivity["weights"])
    assert np.array_equal(h_out, out[kept])
    answers = []
    for model in (p, compressed):
        run = with_dataset(model, data)
        answers.append(readout(simulate(run), run, "output").predictions)
    assert np.array_equal(*answers)
    assert report.computation["outputs_unchanged"]
    assert report.computation["neuron_updates"]["saved"] == pytest.approx(2 / 7)


@pytest.mark.slow
def test_idle_pruning_of_the_digits_mlp_changes_no_answer_on_the_calibration_set(mlp):
    calibration = digits_split()[0].subset(slice(0, 80))
    compressed, report = compress(mlp, CompressionSettings(prune_idle=True),
                                  calibration=calibration)
    spiking = mlp.to_dict()
    spiking["simulation"]["record_spikes"] = ["layer1"]
    run = with_dataset(Project.from_dict(spiking), calibration)
    active = np.unique(simulate(run).spikes["neuron"].to_numpy())
    assert compressed.network.node("layer1").size == active.size < 100
    answers = []
    for model in (mlp, compressed):
        run = with_dataset(model, calibration)
        answers.append(readout(simulate(run), run, "output").predictions)
    assert np.array_equal(*answers)
    saved = report.computation["synaptic_events"]
    assert 0 < saved["saved"] < 1 and saved["after"] < saved["before"]


# ------------------------------------------------------------------ spike times
@pytest.mark.parametrize("bits", [1, 2, 3])
def test_spike_time_quantisation_leaves_at_most_2k_times_per_window(bits):
    values = np.random.default_rng(1).random(60)
    nodes = [encoder("lat", "latency", 60, values=values.tolist(), t_max_ms=20.0,
                     x_min=0.1, period_ms=25.0), lif("a", 1)]
    p = Project.from_dict(document(nodes, [connection("c", "lat", "a", 0.1)],
                                   duration_ms=100.0, dt_ms=0.1))
    compressed, report = compress(p, CompressionSettings(spike_time_bits=bits))
    spikes = simulate(compressed).spikes
    spikes = spikes[spikes["population"] == "lat"]
    phase = np.round(spikes["time_ms"].to_numpy() % 25.0, 6)
    # 1 bit: the levels are x = 0 and 1, and 0 is below x_min, so every value goes to 1
    assert (1 if bits == 1 else 2) <= np.unique(phase).size <= 2 ** bits
    fired = np.unique(spikes["neuron"].to_numpy())
    assert np.array_equal(fired, np.flatnonzero(values >= 0.1))  # silence stays silence
    row = report.spike_times[0]
    assert row["distinct_times_after"] <= 2 ** bits < row["distinct_times_before"]


# ------------------------------------------------------------------ documents
def test_compressed_project_round_trips_and_runs(mlp, tmp_path):
    settings = CompressionSettings(weight_bits=4, prune=0.5)
    compressed, _ = compress(mlp, settings)
    path = tmp_path / "c.json"
    save_project(compressed, path)
    loaded = load_project(path)
    assert loaded.to_dict() == compressed.to_dict()
    assert model_size_bytes(loaded) == model_size_bytes(compressed)
    assert "4-bit, prune 50 %" in loaded.name
    run = with_dataset(loaded, digits_split()[1], n_samples=20)
    assert readout(simulate(run), run, "output").predictions.shape == (20,)
    assert mlp.to_dict() == load_project(MLP).to_dict()  # the input is left alone


# ------------------------------------------------------------------ model size
def test_model_size_counts_weights_at_their_bits(mlp):
    params = sum(len(n.resolved_params()) for n in mlp.network.populations) * 4
    dense32 = (64 * 100 + 100 + 100 * 10 + 10) * 4
    assert model_size_bytes(mlp) == dense32 + params
    # 4 bits dense plus one 32-bit scale per layer
    four = sum((n * 4 + 32) / 8 for n in (6400, 100, 1000, 10))
    sized = size_breakdown(mlp, weight_bits=4)
    assert [r.bits for r in sized] == [4, 4, 4, 4, 32]
    assert model_size_bytes(mlp, weight_bits=4) == math.ceil(four + params)
    compressed, report = compress(mlp, CompressionSettings(weight_bits=4))
    assert report.size_bytes_after == model_size_bytes(compressed)
    assert report.size_bytes_after <= model_size_bytes(mlp, weight_bits=4)


def test_model_size_switches_to_sparse_storage_when_it_is_cheaper(mlp):
    compressed, _ = compress(mlp, CompressionSettings(weight_bits=4, prune=0.9))
    row = size_breakdown(compressed)[0]
    assert row.layout == "sparse" and row.bits == 4
    s = row.synapses
    assert row.bits_total == s * (4 + 7) + 65 * math.ceil(math.log2(s + 1)) + 32
    assert row.bits_total < 64 * 100 * 4


# ------------------------------------------------------------------ sweep and energy
def _priced(figure: str):
    """A profile pricing one operation at 1 uJ and everything else at 0."""
    profile = load_profiles()["cmos45_int8"]
    for name in FIGURE_NAMES:
        profile = edit_profile(profile, name, 1e-6 if name == figure else 0.0, source="test")
    return profile


def test_sweep_points_are_counts_times_per_operation_energies(mlp):
    profiles = {"syn": _priced("synaptic_op"), "spk": _priced("spike_out")}
    seen = []
    points = evaluate_settings(mlp, [CompressionSettings(weight_bits=4)], digits_split()[1],
                               samples=25, profiles=profiles,
                               progress=lambda f, text: seen.append(f))
    assert [p.settings.label() for p in points] == ["float32", "4-bit"]
    assert points[0].report is None and points[1].report is not None
    for point in points:
        ev = point.evaluation
        assert point.energy_per_inference_j["syn"] * 1e6 == pytest.approx(
            point.synaptic_events_per_inference)
        assert point.energy_per_inference_j["spk"] * 1e6 == pytest.approx(
            ev["spikes_per_inference"] + ev["input_spikes_per_inference"])
    assert points[1].size_bytes < points[0].size_bytes
    assert seen == sorted(seen) and seen[-1] <= 1.0
    json.dumps([p.to_dict() for p in points])


def test_a_cancelled_sweep_returns_the_points_finished(mlp):
    stop = threading.Event()

    def progress(fraction, text):
        if text.startswith("4-bit"):
            stop.set()

    points = evaluate_settings(mlp, [CompressionSettings(weight_bits=4),
                                     CompressionSettings(weight_bits=3)], digits_split()[1],
                               samples=10, progress=progress, cancel=stop)
    assert [p.label for p in points] == ["float32"]


def test_pareto_front_keeps_the_undominated_points():
    def point(acc, energy):
        return CompressionPoint(CompressionSettings(), acc, 0.0, {"p": energy}, 1, 1, 1)

    points = [point(0.9, 5.0), point(0.95, 6.0), point(0.8, 7.0), point(0.9, 4.0),
              point(0.5, 1.0), point(0.95, 6.0)]
    assert pareto_front(points) == [4, 3, 1, 5]
    assert pareto_front([]) == []


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize("kwargs, flag", [
    ({"weight_bits": 1}, "--weight-bits"), ({"weight_bits": 9}, "--weight-bits"),
    ({"weight_bits": 4.0}, "--weight-bits"), ({"weight_bits": True}, "--weight-bits"),
    ({"prune": 1.0}, "--prune"), ({"prune": -0.1}, "--prune"),
    ({"prune": float("nan")}, "--prune"), ({"spike_time_bits": 0}, "--spike-time-bits"),
    ({"spike_time_bits": 9}, "--spike-time-bits"), ({"prune_idle": 1}, "--prune-idle"),
    ({"weight_scale": "min"}, "--weight-scale"),
])
def test_bad_settings_name_their_flag(kwargs, flag):
    with pytest.raises(SpikeStudioError, match=flag):
        CompressionSettings(**kwargs)


def test_settings_that_do_not_apply_are_refused(mlp):
    plain = Project.from_dict(document([lif("a", 3), lif("b", 3)],
                                       [connection("ab", "a", "b", 0.5)]))
    with pytest.raises(SpikeStudioError, match="--prune-idle.*dataset encoder"):
        compress(plain, CompressionSettings(prune_idle=True))
    with pytest.raises(SpikeStudioError, match="--spike-time-bits.*latency encoder"):
        compress(mlp, CompressionSettings(spike_time_bits=3))
    with pytest.raises(SpikeStudioError, match="--samples"):
        compress(mlp, CompressionSettings(prune_idle=True), samples=0)
    runs = []
    with pytest.raises(SpikeStudioError, match="--spike-time-bits"):  # before any run
        evaluate_settings(mlp, [CompressionSettings(weight_bits=4),
                                CompressionSettings(spike_time_bits=2)], digits_split()[1],
                          samples=5, progress=lambda f, t: runs.append(t))
    assert runs == []


def test_a_too_large_matrix_is_refused_naming_the_projection():
    p = Project.from_dict(document([lif("a", 2000), lif("b", 1000)],
                                   [connection("ab", "a", "b", 0.5, rule="fixed_probability",
                                               connectivity={"p": 0.01})]))
    with pytest.raises(SpikeStudioError, match=r"network.projections\[0\].*'ab'"):
        compress(p, CompressionSettings(prune=0.5))


def test_random_delays_are_refused_when_synapses_change():
    p = Project.from_dict(document([lif("a", 4), lif("b", 4)],
                                   [connection("ab", "a", "b", 0.5, delay_ms={
                                       "dist": "uniform", "low": 1.0, "high": 3.0})]))
    with pytest.raises(SpikeStudioError, match=r"projections\[0\]\.delay_ms"):
        compress(p, CompressionSettings(prune=0.5))


# ------------------------------------------------------------------ CLI
def test_cli_compress_writes_the_project_and_prints_one_json_line(tmp_path, capsys):
    out = tmp_path / "c.json"
    code = main(["compress", str(MLP), "--weight-bits", "4", "--prune", "0.5", "--out",
                 str(out), "--evaluate", "--dataset", "digits", "--samples", "20"])
    assert code == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1
    line = json.loads(lines[0])
    assert line["settings"]["label"] == "4-bit, prune 50 %"
    assert line["size_bytes_after"] < line["size_bytes_before"]
    assert line["before"]["accuracy"] >= 0 and line["after"]["size_bytes"] == \
        line["size_bytes_after"]
    assert set(line["after"]["energy_per_inference_j"]) == set(load_profiles())
    assert model_size_bytes(load_project(out)) == line["size_bytes_after"]


@pytest.mark.parametrize("argv, flag", [
    (["--weight-bits", "12"], "--weight-bits"),
    (["--prune", "1"], "--prune"),
    (["--spike-time-bits", "3"], "--spike-time-bits"),
    (["--prune-idle", "--samples", "0"], "--samples"),
])
def test_cli_bad_input_exits_2_naming_the_flag(tmp_path, capsys, argv, flag):
    code = main(["compress", str(MLP), "--out", str(tmp_path / "c.json"), *argv])
    assert code == 2
    assert flag in capsys.readouterr().err
    assert not (tmp_path / "c.json").exists()


def test_cli_prune_idle_needs_a_dataset_encoder(tmp_path, capsys):
    sample = ROOT / "sample_projects" / "lif_single_neuron.json"
    code = main(["compress", str(sample), "--prune-idle", "--out", str(tmp_path / "c.json")])
    assert code == 2 and "--prune-idle" in capsys.readouterr().err


# ------------------------------------------------------------------ memory estimate
@pytest.mark.parametrize("model", ["dataset", "dataset_current"])
def test_memory_estimate_counts_the_per_channel_arrays_of_dataset_encoders(model):
    def estimate(n):
        x = np.full((n, 50), 0.5).tolist()
        doc = document([encoder("inp", model, 50, samples=x, present_ms=10.0), lif("a", 5)],
                       [connection("c", "inp", "a", 0.1)], duration_ms=10.0 * n, dt_ms=1.0)
        return estimate_memory(Project.from_dict(doc)).items

    small, large = estimate(100), estimate(1000)
    grows = [k for k in large if "inp" in k and large[k] > 5 * small.get(k, 1)]
    assert any(k.startswith(("per-channel schedule", "spike probabilities")) for k in grows)


def test_block_pairs_match_the_matrix(mlp):
    block = synapse_blocks(mlp)["input_layer1_exc"]
    pre, post = block_pairs(block)
    w = np.asarray(mlp.network.projection("input_layer1_exc").connectivity["weights"])
    assert np.array_equal(np.sort(pre * 100 + post), np.flatnonzero(w))


def test_calibration_defaults_to_the_digits_training_split(mlp):
    from engine.compression import default_calibration

    data, text = default_calibration(mlp)
    assert len(data.y) == len(digits_split()[0].y) and "training" in text
    other = _tiny(np.random.default_rng(0).random((3, 2)), np.ones((2, 2)), np.ones((2, 2)))
    data, text = default_calibration(other)
    assert isinstance(data, Dataset) and len(data.y) == 3 and "own" in text


# ---------------------------------------------------------------------------- per neuron
def _hetero_pop() -> Project:
    return Project.from_dict(document([lif(
        "pop", 4, tau_m=[10.0, 11.0, 12.0, 13.0],
        v_thresh={"dist": "uniform", "low": -52.0, "high": -48.0})]))


def test_removing_neurons_keeps_the_kept_neurons_per_neuron_values():
    from engine.compression.pruning import remove_neurons
    from engine.core.per_neuron import resolve_neuron_params

    project = _hetero_pop()
    before = resolve_neuron_params(project, project.network.node("pop"))
    doc = project.to_dict()
    messages = remove_neurons(doc, project, {"pop": np.array([1, 3])},
                              synapse_blocks(project))
    after = Project.from_dict(doc)
    values = resolve_neuron_params(after, after.network.node("pop"))
    assert values["tau_m"].tolist() == [11.0, 13.0]
    assert values["v_thresh"].tolist() == before["v_thresh"][[1, 3]].tolist()
    assert messages == ["pop: the kept neurons keep their own values of tau_m, v_thresh "
                        "(written as lists)"]


def test_the_size_counts_a_per_neuron_parameter_once_per_neuron():
    from engine.compression.size import size_breakdown

    plain = size_breakdown(Project.from_dict(document([lif("pop", 4)])))[-1]
    hetero = size_breakdown(_hetero_pop())[-1]
    assert hetero.bits_total - plain.bits_total == 2 * 3 * plain.bits
