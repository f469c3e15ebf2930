"""Exported Brian2 / NEST / PyNN scripts, run with the real tools in a subprocess.

Conventions: NEST labels spikes as we do (end of the step); Brian2 one dt earlier, so its
times + dt are ours. The scripts read network.npz (our exact synapses, initial potentials
and input trains), so deterministic networks and even the chaotic CUBA network agree spike
for spike where the target can hold the model exactly.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.errors import SpikeStudioError
from engine.export import TARGETS, export_project
from engine.project import Project, load_project
from engine.simulator import simulate

DT = 0.1
SAMPLES = Path(__file__).resolve().parent.parent / "sample_projects"
HAVE = {name: importlib.util.find_spec(module) is not None
        for name, module in (("brian2", "brian2"), ("nest", "nest"), ("pynn", "pyNN"))}


def _needs(tool: str):
    return pytest.mark.skipif(not HAVE[tool], reason=f"{tool} is not installed")


def _document(nodes, projections, duration_ms, seed=1) -> dict:
    return {"format": "spikestudio-project", "version": 1, "name": "export check",
            "network": {"nodes": nodes, "projections": projections},
            "simulation": {"duration_ms": duration_ms, "dt_ms": DT, "seed": seed,
                           "count_bin_ms": 1.0, "record_spikes": "all"}}


def _projection(pid, source, target, weight, delay, receptor="exc", rule="all_to_all"):
    return {"id": pid, "source": source, "target": target, "connectivity": {"rule": rule},
            "weight": weight, "delay_ms": delay, "receptor": receptor, "plasticity": None}


def _deterministic() -> Project:
    """Current inputs (constant, step), spike-time inputs with drawn weights and delays,
    recurrent inhibition with a delay, LIF with t_ref > 0 and Izhikevich neurons."""
    lif = dict(tau_m=10.0, v_rest=-65.0, v_reset=-70.0, v_thresh=-50.0, t_ref=2.0,
               tau_syn_exc=5.0, tau_syn_inh=8.0, v_init=-65.0, v_init_spread=5.0)
    nodes = [
        {"id": "drive", "kind": "encoder", "model": "step_current", "size": 1,
         "params": {"amplitude": 20.0, "start_ms": 20.0, "stop_ms": 150.0}},
        {"id": "bias", "kind": "encoder", "model": "constant_current", "size": 1,
         "params": {"amplitude": 18.0}},
        {"id": "pre", "kind": "encoder", "model": "spike_times", "size": 3,
         "params": {"times_ms": [[5.0, 6, 7, 8, 30, 31.5], [5.5, 6.5, 31, 32.7, 33.9],
                                 [31.0, 61.2, 80.4]]}},
        {"id": "lif", "kind": "population", "model": "lif", "size": 4, "params": lif},
        {"id": "izh", "kind": "population", "model": "izhikevich", "size": 2,
         "params": {"i_offset": 2.0, "v_init_spread": 3.0}},
    ]
    projections = [
        _projection("d_lif", "drive", "lif", 1.0, 0.0),
        _projection("d_izh", "drive", "izh", 0.5, 0.0),
        _projection("b_lif", "bias", "lif", 0.2, 0.0),
        _projection("e", "pre", "lif", {"dist": "uniform", "low": 3.0, "high": 9.0},
                    {"dist": "uniform", "low": 0.5, "high": 3.0}),
        {**_projection("ii", "lif", "lif", -2.0, 1.0, "inh", "fixed_probability"),
         "connectivity": {"rule": "fixed_probability", "p": 0.5}},
    ]
    return Project.from_dict(_document(nodes, projections, 200.0))


def _run_script(project: Project, target: str, out: Path, *args: str,
                timeout: float = 600) -> pd.DataFrame:
    report = export_project(project, target, out)
    script = report.files[0]
    done = subprocess.run([sys.executable, script.name, *args], cwd=out, capture_output=True,
                          text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-3000:]
    return pd.read_csv(out / "spikes.csv")


def _spike_set(frame: pd.DataFrame, shift: float = 0.0, until: float = np.inf) -> set:
    keep = frame[frame["time_ms"] <= until + 1e-9]
    return {(round(float(t) + shift, 4), str(p), int(i))
            for t, p, i in zip(keep["time_ms"], keep["population"], keep["neuron"],
                                       strict=True)}


def _ours(project: Project) -> pd.DataFrame:
    spikes = simulate(project).spikes
    pops = {n.id for n in project.network.populations}
    return spikes[spikes["population"].isin(pops)].astype({"population": str})


# ---------------------------------------------------------------------------- bad input
def test_every_script_target_is_registered():
    assert {"brian2", "nest", "pynn"} <= set(TARGETS)
    assert all(TARGETS[t].out == "dir" for t in ("brian2", "nest", "pynn"))


def test_unknown_target_is_refused_with_the_known_ones(tmp_path):
    with pytest.raises(SpikeStudioError, match="unknown export target 'neuron'.*brian2"):
        export_project(_deterministic(), "neuron", tmp_path)


def test_features_a_target_cannot_hold_are_warned_by_name(tmp_path):
    """CUBA has delay 0 (NEST's minimum is dt) and a state monitor (no script records it);
    an Izhikevich target of spikes gets NEST's delta synapses."""
    cuba = load_project(SAMPLES / "cuba_balanced.json")
    nest = export_project(cuba, "nest", tmp_path / "nest").warnings
    assert any("'exc_to_exc'" in w and "one step" in w for w in nest)
    assert any("'exc_v'" in w for w in nest)
    brian = export_project(cuba, "brian2", tmp_path / "b2").warnings
    assert brian == ["state monitor 'exc_v' is not exported: the scripts record spikes only"]
    doc = _deterministic().to_dict()
    doc["network"]["projections"].append(_projection("p_izh", "pre", "izh", 2.0, 1.0))
    warnings = export_project(Project.from_dict(doc), "pynn", tmp_path / "pynn").warnings
    assert any("'p_izh'" in w and "delta synapses" in w for w in warnings)


def test_cli_export_writes_script_and_data(tmp_path):
    out = tmp_path / "b2"
    done = subprocess.run([sys.executable, "-m", "engine.cli", "export",
                           str(SAMPLES / "lif_single_neuron.json"), "--to", "brian2",
                           "--out", str(out)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert (out / "run_brian2.py").is_file() and (out / "network.npz").is_file()
    text = (out / "run_brian2.py").read_text()
    assert "spikestudio" not in text.lower().replace("spikestudio's", "").replace(
        "exported from spikestudio", "").replace("spikestudio generated", "").replace(
        "spikestudio built", "").replace("spikestudio holds", "").replace(
        "spikestudio (and nest)", "").replace("spikestudio drew", "")
    compile(text, "run_brian2.py", "exec")


# ---------------------------------------------------------------------------- deterministic
@pytest.mark.slow
@_needs("brian2")
def test_brian2_script_matches_spike_for_spike(tmp_path):
    project = _deterministic()
    theirs = _run_script(project, "brian2", tmp_path)
    ours = _spike_set(_ours(project))
    assert len(ours) > 40
    assert _spike_set(theirs, shift=DT) == ours  # Brian2 labels one dt earlier


@pytest.mark.slow
@_needs("nest")
def test_nest_script_matches_spike_for_spike(tmp_path):
    project = _deterministic()
    theirs = _run_script(project, "nest", tmp_path)
    assert _spike_set(theirs) == _spike_set(_ours(project))


@pytest.mark.slow
@_needs("pynn")
@_needs("nest")
def test_pynn_nest_script_matches_spike_for_spike(tmp_path):
    """pyNN.nest: every spike is ours. pyNN.nest keeps NEST one min_delay ahead of the time
    it reports, so the script ends each current piece one step early (else every spike after
    a current switch came 1-2 steps late); its parrot-relayed inputs are already exact (PyNN
    sends the trains one min_delay early)."""
    project = _deterministic()
    theirs = _run_script(project, "pynn", tmp_path, "nest")
    ours = _spike_set(_ours(project))
    assert len(ours) > 40
    assert _spike_set(theirs) == ours


# ---------------------------------------------------------------------------- CUBA
def _cuba(delay_ms: float | None = None) -> Project:
    doc = json.loads((SAMPLES / "cuba_balanced.json").read_text())
    if delay_ms is not None:
        for p in doc["network"]["projections"]:
            p["delay_ms"] = delay_ms
    return Project.from_dict(doc)


def _rates(frame: pd.DataFrame) -> dict[str, float]:
    sizes = {"exc": 3200, "inh": 800}
    return {pop: float((frame["population"] == pop).sum()) / n for pop, n in sizes.items()}


@pytest.mark.slow
@_needs("brian2")
def test_brian2_cuba_is_spike_for_spike_identical(tmp_path):
    """The sample as it is (delay 0): Brian2 reproduces every spike of the 1 s run."""
    project = _cuba()
    theirs = _run_script(project, "brian2", tmp_path)
    ours = _ours(project)
    assert len(ours) > 20_000
    assert _spike_set(theirs, shift=DT) == _spike_set(ours)


@pytest.mark.slow
@_needs("nest")
def test_nest_cuba_is_spike_for_spike_identical(tmp_path):
    """NEST's minimum delay is one step: with delays of dt (the sample has 0) NEST
    reproduces every spike of the 1 s run (the first 100 ms are required; all agree)."""
    project = _cuba(DT)
    theirs = _run_script(project, "nest", tmp_path)
    ours = _ours(project)
    assert _spike_set(theirs, until=100.0) == _spike_set(ours, until=100.0)
    assert _spike_set(theirs) == _spike_set(ours)


@pytest.mark.slow
@_needs("nest")
def test_nest_cuba_sample_rates_within_5_percent(tmp_path):
    """The unmodified sample (delay 0 becomes dt in NEST): rates over 1 s within 5 %."""
    project = _cuba()
    ours, theirs = _rates(_ours(project)), _rates(_run_script(project, "nest", tmp_path))
    for pop in ours:
        assert abs(theirs[pop] - ours[pop]) <= 0.05 * ours[pop], (ours, theirs)


@pytest.mark.slow
@_needs("pynn")
@_needs("nest")
def test_pynn_nest_cuba_rates_within_5_percent(tmp_path):
    project = _cuba(DT)
    ours = _rates(_ours(project))
    theirs = _rates(_run_script(project, "pynn", tmp_path, "nest"))
    for pop in ours:
        assert abs(theirs[pop] - ours[pop]) <= 0.05 * ours[pop], (ours, theirs)


# ---------------------------------------------------------------------------- STDP
SONG_ABBOTT_S = 50.0  # s of model time, as the Brian2 cross-check of our STDP


def _song_abbott(duration_s: float = SONG_ABBOTT_S) -> Project:
    """The Song & Abbott sample (1000 Poisson inputs, additive all-to-all STDP), shortened."""
    doc = json.loads((SAMPLES / "stdp_song_abbott.json").read_text())
    doc["simulation"]["duration_ms"] = duration_s * 1000.0
    return Project.from_dict(doc)


def _weight_stats(w: np.ndarray, rate_hz: float, w_max: float = 1.0) -> dict[str, float]:
    """The cross-check's measure (fractions above 0.9 / below 0.1 w_max), mean weight, rate."""
    x = np.asarray(w, dtype=np.float64) / w_max
    return {"high": float(np.mean(x > 0.9)), "low": float(np.mean(x < 0.1)),
            "mean": float(x.mean()), "rate": rate_hz}


def _ours_stdp(project: Project) -> tuple[np.ndarray, dict[str, float]]:
    result = simulate(project)
    w = result.weights["ff"].snapshots[-1]
    n_out = int((result.spikes["population"] == "out").sum())
    return w, _weight_stats(w, n_out / (project.simulation.duration_ms / 1000.0))


def _theirs_stdp(project: Project, target: str, out: Path,
                 *args: str) -> tuple[pd.DataFrame, dict[str, float]]:
    spikes = _run_script(project, target, out, *args)
    weights = pd.read_csv(out / "final_weights.csv").sort_values(["pre", "post"])
    assert len(weights) == 1000 and set(weights["projection"]) == {"ff"}
    rate = len(spikes) / (project.simulation.duration_ms / 1000.0)
    return weights, _weight_stats(weights["weight_mV"].to_numpy(), rate)


def _assert_bimodal_like_ours(ours: dict, theirs: dict, rate_tol: float) -> None:
    """The cross-check's tolerance (0.05 on both outer fractions), mean weight within 0.02 and
    the output rate within ``rate_tol`` (relative)."""
    assert abs(theirs["high"] - ours["high"]) <= 0.05, (ours, theirs)
    assert abs(theirs["low"] - ours["low"]) <= 0.05, (ours, theirs)
    assert abs(theirs["mean"] - ours["mean"]) <= 0.02, (ours, theirs)
    assert abs(theirs["rate"] - ours["rate"]) <= rate_tol * ours["rate"], (ours, theirs)
    # Competition happened in both: the low decile grew from its initial 10 % to > 30 %.
    assert ours["low"] > 0.3 and theirs["low"] > 0.3


@pytest.mark.slow
@_needs("brian2")
def test_brian2_song_abbott_stdp_gives_our_weights(tmp_path):
    """Brian2 (cython) runs our STDP rule step for step: every final weight agrees to float32
    rounding and the output spikes are identical (20 s of model time; measured: identical
    statistics at 50 s too, 6.5 % above 0.9 w_max, 38.6 % below 0.1, 29.9 Hz)."""
    project = _song_abbott(20.0)
    w, ours = _ours_stdp(project)
    weights, theirs = _theirs_stdp(project, "brian2", tmp_path, "cython")
    np.testing.assert_allclose(weights["weight_mV"].to_numpy(), w, atol=1e-5)
    assert ours == pytest.approx(theirs)
    spikes = pd.read_csv(tmp_path / "spikes.csv")
    assert _spike_set(spikes, shift=DT) == _spike_set(_ours(project))


@pytest.mark.slow
@_needs("nest")
def test_nest_song_abbott_stdp_weight_distribution(tmp_path):
    """NEST's stdp_synapse: the same bimodal distribution within the Brian2 cross-check's
    tolerances. Measured at 50 s: ours 6.5 % above 0.9 w_max / 38.6 % below 0.1 / mean
    0.304 / 29.9 Hz; NEST 6.0 % / 40.0 % / 0.293 / 25.5 Hz. Not spike for spike: NEST
    delivers the weight *after* the depression of the arriving spike (we deliver, then
    depress) and times pairs with a dendritic delay (docs/export.md), which lowers the rate
    by ~15 % (our seed-to-seed spread is 28.7-30.8 Hz)."""
    project = _song_abbott()
    _, ours = _ours_stdp(project)
    _, theirs = _theirs_stdp(project, "nest", tmp_path)
    _assert_bimodal_like_ours(ours, theirs, rate_tol=0.25)


@pytest.mark.slow
@_needs("pynn")
@_needs("nest")
def test_pynn_nest_song_abbott_stdp_weight_distribution(tmp_path):
    """PyNN's STDPMechanism (SpikePairRule + AdditiveWeightDependence) on pyNN.nest: NEST's
    stdp_synapse underneath. Measured at 50 s: 6.0 % / 41.5 % / 0.290 / 25.1 Hz (ours above)."""
    project = _song_abbott()
    _, ours = _ours_stdp(project)
    _, theirs = _theirs_stdp(project, "pynn", tmp_path, "nest")
    _assert_bimodal_like_ours(ours, theirs, rate_tol=0.25)


@pytest.mark.slow
@_needs("pynn")
@_needs("brian2")
def test_pynn_brian2_script_matches_spike_for_spike(tmp_path):
    """pyNN.brian2: every spike is ours minus one dt (Brian2's label), once the script sends
    input trains one step early and lengthens t_ref by dt (Brian2's conventions)."""
    project = _deterministic()
    theirs = _run_script(project, "pynn", tmp_path, "brian2")
    ours = _spike_set(_ours(project))
    assert len(ours) > 40
    assert _spike_set(theirs, shift=DT) == ours


# ---------------------------------------------------------------------------- every model
def _if_project() -> Project:
    """Non-leaky IF neurons, one population per reset mode, driven by a step current and
    spike-time inputs, with recurrent inhibition and a refractory period."""
    common = dict(tau_m=8.0, v_reset=0.0, v_thresh=10.0, tau_syn_exc=4.0, tau_syn_inh=6.0,
                  v_init=0.0, v_init_spread=4.0)
    nodes = [
        {"id": "drive", "kind": "encoder", "model": "step_current", "size": 1,
         "params": {"amplitude": 3.0, "start_ms": 10.0, "stop_ms": 160.0}},
        {"id": "pre", "kind": "encoder", "model": "spike_times", "size": 3,
         "params": {"times_ms": [[5.0, 6, 7, 8, 30, 31.5], [5.5, 6.5, 31, 32.7, 33.9],
                                 [31.0, 61.2, 80.4]]}},
        {"id": "value", "kind": "population", "model": "if", "size": 3,
         "params": {**common, "t_ref": 1.5, "reset_mode": "value"}},
        {"id": "subtract", "kind": "population", "model": "if", "size": 3,
         "params": {**common, "t_ref": 0.0, "reset_mode": "subtract"}},
    ]
    projections = [
        _projection("d_value", "drive", "value", 1.0, 0.0),
        _projection("d_subtract", "drive", "subtract", 1.3, 0.0),
        _projection("p_value", "pre", "value", {"dist": "uniform", "low": 1.0, "high": 4.0},
                    {"dist": "uniform", "low": 0.5, "high": 3.0}),
        _projection("p_subtract", "pre", "subtract", 2.5, 1.0),
        _projection("inh", "value", "subtract", -1.5, 0.7, "inh"),
    ]
    return Project.from_dict(_document(nodes, projections, 200.0, seed=4))


@pytest.mark.slow
@_needs("brian2")
def test_brian2_if_reset_and_subtract_match_spike_for_spike(tmp_path):
    project = _if_project()
    theirs = _run_script(project, "brian2", tmp_path)
    ours = _ours(project)
    assert {"value", "subtract"} <= set(ours["population"])
    assert len(ours) > 40
    assert _spike_set(theirs, shift=DT) == _spike_set(ours)  # Brian2 labels one dt earlier


@pytest.mark.parametrize("target", ["brian2", "nest", "pynn"])
@pytest.mark.parametrize("model", ["if", "adaptive_lif", "li"])
def test_a_model_a_script_lacks_is_refused_by_name(target, model, tmp_path):
    from engine.export import brian2_script, nest_script, pynn_script

    missing = {"brian2": brian2_script, "nest": nest_script,
               "pynn": pynn_script}[target].MISSING_MODELS
    doc = _if_project().to_dict()
    doc["network"]["nodes"][2].update(model="lif", params={})  # every script has the LIF
    doc["network"]["nodes"][3].update(model=model, params={})  # "subtract": drives nothing
    project = Project.from_dict(doc)
    if model not in missing:  # the script writes this model: checked spike for spike
        assert export_project(project, target, tmp_path).files
        return
    with pytest.raises(SpikeStudioError, match=rf"population 'subtract': the \w+ script has "
                                               rf"no .+ neuron: {re.escape(missing[model])}"):
        export_project(project, target, tmp_path)
    assert not (tmp_path / "network.npz").exists()


def test_brian2_refuses_delta_synapses_by_name(tmp_path):
    doc = _if_project().to_dict()
    doc["network"]["nodes"][3]["params"]["tau_syn_inh"] = 0.0
    with pytest.raises(SpikeStudioError, match=r"population 'subtract': tau_syn_inh = 0"):
        export_project(Project.from_dict(doc), "brian2", tmp_path)


def _adaptive_project() -> Project:
    """Adaptive-threshold LIF neurons under a step current and spike-time inputs, with
    recurrent inhibition: the threshold climbs, so the rate falls during the step."""
    nodes = [
        {"id": "drive", "kind": "encoder", "model": "step_current", "size": 1,
         "params": {"amplitude": 24.0, "start_ms": 10.0, "stop_ms": 180.0}},
        {"id": "pre", "kind": "encoder", "model": "spike_times", "size": 3,
         "params": {"times_ms": [[5.0, 6, 7, 8, 30, 31.5], [5.5, 6.5, 31, 32.7, 33.9],
                                 [31.0, 61.2, 80.4]]}},
        {"id": "adapt", "kind": "population", "model": "adaptive_lif", "size": 4,
         "params": {"tau_m": 10.0, "v_rest": -65.0, "v_reset": -70.0, "v_thresh": -50.0,
                    "t_ref": 2.0, "tau_syn_exc": 5.0, "tau_syn_inh": 8.0,
                    "delta_thresh": 3.0, "tau_adapt": 60.0, "v_init_spread": 5.0}},
    ]
    projections = [
        _projection("d", "drive", "adapt", 1.0, 0.0),
        _projection("p", "pre", "adapt", {"dist": "uniform", "low": 3.0, "high": 9.0},
                    {"dist": "uniform", "low": 0.5, "high": 3.0}),
        _projection("ii", "adapt", "adapt", -2.0, 1.0, "inh"),
    ]
    return Project.from_dict(_document(nodes, projections, 200.0, seed=2))


@pytest.mark.slow
@_needs("brian2")
def test_brian2_adaptive_lif_matches_spike_for_spike(tmp_path):
    project = _adaptive_project()
    theirs = _run_script(project, "brian2", tmp_path)
    ours = _ours(project)
    times = np.sort(ours[ours["neuron"] == 0]["time_ms"].to_numpy())
    assert len(times) > 5 and np.diff(times)[-1] > np.diff(times)[0]  # it adapts
    assert _spike_set(theirs, shift=DT) == _spike_set(ours)  # Brian2 labels one dt earlier


def _readout_project() -> Project:
    """A leaky-integrator readout driven by a step current, spike-time inputs (drawn weights
    and delays) and the inhibition of a spiking LIF population, with a bias."""
    nodes = [
        {"id": "drive", "kind": "encoder", "model": "step_current", "size": 1,
         "params": {"amplitude": 20.0, "start_ms": 10.0, "stop_ms": 60.0}},
        {"id": "pre", "kind": "encoder", "model": "spike_times", "size": 3,
         "params": {"times_ms": [[5.0, 6, 7, 8, 30, 31.5], [5.5, 6.5, 31, 32.7, 33.9],
                                 [31.0, 61.2, 80.4]]}},
        {"id": "lif", "kind": "population", "model": "lif", "size": 2,
         "params": {"tau_m": 10.0, "v_init_spread": 5.0}},
        {"id": "out", "kind": "population", "model": "li", "size": 3,
         "params": {"tau_m": 15.0, "v_rest": -60.0, "tau_syn_exc": 4.0, "tau_syn_inh": 9.0,
                    "i_offset": 1.5, "v_init_spread": 2.0}},
        {"id": "mon", "kind": "monitor", "model": "state", "target": "out",
         "params": {"variables": ["v"], "neurons": [0, 1, 2]}},
    ]
    projections = [
        _projection("d_lif", "drive", "lif", 1.0, 0.0),
        _projection("d_out", "drive", "out", 0.4, 0.0),
        _projection("p_out", "pre", "out", {"dist": "uniform", "low": 1.0, "high": 4.0},
                    {"dist": "uniform", "low": 0.5, "high": 3.0}),
        _projection("l_out", "lif", "out", -3.0, 1.2, "inh"),
    ]
    return Project.from_dict(_document(nodes, projections, 100.0, seed=3))


@pytest.mark.slow
@pytest.mark.parametrize("target", [
    pytest.param("brian2", marks=_needs("brian2")), pytest.param("nest", marks=_needs("nest")),
    pytest.param("pynn", marks=[_needs("pynn"), _needs("nest")])])
def test_leaky_readout_matches_our_trace(target, tmp_path):
    project = _readout_project()
    theirs = _run_script(project, target, tmp_path, *(["nest"] if target == "pynn" else []))
    # Brian2 labels a step with its start, NEST (and we) with its end.
    shift = DT if target == "brian2" else 0.0
    result = simulate(project)
    ours_lif = result.spikes[result.spikes["population"] == "lif"]
    assert len(ours_lif) > 3  # the inhibition from the LIF reaches the readout
    assert _spike_set(theirs, shift=shift) == _spike_set(ours_lif.astype({"population": str}))
    trace = result.traces["mon"]
    readout = pd.read_csv(tmp_path / "readout_out.csv")
    # Ours at k dt is v after k steps (row 0: the initial v); so is theirs, once shifted.
    # Only PyNN records the initial v too. NEST's multimeter hands over its last samples
    # one minimum delay late, after the run: up to 1 ms (the smallest delay here) of the end
    # is missing there.
    first = 0 if target == "pynn" else 1
    n = len(readout)
    steps = len(trace.time_ms) - first
    assert n == steps if target != "nest" else steps - round(1.0 / DT) <= n <= steps
    np.testing.assert_allclose(readout["time_ms"] + shift, trace.time_ms[first:first + n],
                               atol=1e-9)
    np.testing.assert_allclose(readout[["v0", "v1", "v2"]].to_numpy(),
                               trace.values["v"][first:first + n], rtol=0, atol=1e-6)
    assert np.ptp(trace.values["v"]) > 5.0  # the readout moves
