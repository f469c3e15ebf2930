"""Brian2 2.9 cross-checks of the neuron models if, adaptive_lif and li and of delta synapses.

Conventions are those of tests/test_brian2_crosscheck.py: our spike labels are Brian2's + dt,
and a synaptic input acts one step earlier in the engine (it moves the membrane from its
arrival time on; Brian2's ``on_pre`` runs after that step's state update). Driven by a
constant input alone, our spike times are Brian2's + dt; driven by synaptic input alone (from
rest) our trajectory is Brian2's one dt earlier, so spike times agree exactly.
"""

from __future__ import annotations

import brian2 as b2
import numpy as np
import pytest
from brian2 import ms, mV

from tests.test_brian2_crosscheck import DT, _brian_scope, _document, _run_ours, _spike_times

DURATION = 300.0
EXC_TIMES = [[5.0, 9.0, 12.0, 40.0, 41.5, 43.0, 44.0, 90.0, 91.0, 92.0, 93.0, 94.0],
             [6.2, 13.3, 42.7, 95.1, 96.3, 150.0, 151.0, 152.0, 153.0]]
INH_TIMES = [[30.0, 60.0, 100.2]]


def _single(model: str, params: dict, amplitude: float) -> dict:
    params = dict(params, i_offset=amplitude)
    nodes = [{"id": "n", "kind": "population", "model": model, "size": 1, "params": params}]
    return _document(nodes, [], DURATION)


def _brian_spikes(eqs: str, threshold: str, reset: str, namespace: dict, v_init: float,
                  inputs: tuple = (), method: str = "exact", var: str = "v") -> np.ndarray:
    """Spike times (ms) of one Brian2 neuron driven by ``inputs``: (times per source, on_pre
    statement, delay ms); ``var`` starts at ``v_init``."""
    _brian_scope("numpy")
    group = b2.NeuronGroup(1, eqs, threshold=threshold, reset=reset, method=method,
                           namespace=namespace)
    setattr(group, var, v_init * mV)
    objects = [group]
    for times, on_pre, delay in inputs:
        idx = np.concatenate([[i] * len(t) for i, t in enumerate(times)]).astype(int)
        gen = b2.SpikeGeneratorGroup(len(times), idx, np.concatenate(times) * ms)
        syn = b2.Synapses(gen, group, on_pre=on_pre, delay=delay * ms, namespace=namespace)
        syn.connect()
        objects += [gen, syn]
    monitor = b2.SpikeMonitor(group)
    b2.Network(*objects, monitor).run(DURATION * ms)
    return np.asarray(monitor.t / ms)


def _inputs_document(model: str, params: dict, w_exc: float, w_inh: float,
                     d_exc: float, d_inh: float, duration: float = DURATION) -> dict:
    nodes = [
        {"id": "pre_e", "kind": "encoder", "model": "spike_times", "size": len(EXC_TIMES),
         "params": {"times_ms": EXC_TIMES}},
        {"id": "pre_i", "kind": "encoder", "model": "spike_times", "size": len(INH_TIMES),
         "params": {"times_ms": INH_TIMES}},
        {"id": "n", "kind": "population", "model": model, "size": 1, "params": params},
    ]
    projections = [
        {"id": "e", "source": "pre_e", "target": "n", "weight": w_exc, "delay_ms": d_exc},
        {"id": "i", "source": "pre_i", "target": "n", "weight": w_inh, "delay_ms": d_inh,
         "receptor": "inh"},
    ]
    return _document(nodes, projections, duration)


def _assert_same(ours: np.ndarray, brian: np.ndarray, shift: float, min_spikes: int = 3):
    assert len(brian) >= min_spikes
    assert len(ours) == len(brian), (ours, brian)
    np.testing.assert_allclose(ours, brian + shift, rtol=0, atol=1e-9)


# ---------------------------------------------------------------------------- if
IF_PARAMS = dict(tau_m=10.0, v_reset=-60.0, v_thresh=-50.0, t_ref=0.0, v_init=-60.0)
# Brian2's exact integrator refuses dv/dt without a v term; with q = v + (Ie taue + Ii taui) /
# taum (dq/dt = I / taum) every equation is solved exactly by exponential Euler.
IF_EQS = """dq/dt = I / taum : volt
            dIe/dt = -Ie / taue : volt
            dIi/dt = -Ii / taui : volt
            v = q - (Ie * taue + Ii * taui) / taum : volt"""
IF_RESET = {"value": "q = Vr + (Ie * taue + Ii * taui) / taum", "subtract": "q -= Vt - Vr"}


def _if_namespace(amplitude: float, tau_e: float = 5.0, tau_i: float = 10.0) -> dict:
    p = IF_PARAMS
    return {"I": amplitude * mV, "taum": p["tau_m"] * ms, "Vt": p["v_thresh"] * mV,
            "Vr": p["v_reset"] * mV, "taue": tau_e * ms, "taui": tau_i * ms}


@pytest.mark.parametrize("reset_mode", ["value", "subtract"])
@pytest.mark.parametrize("amplitude", [3.7, 11.3])
def test_if_constant_input_matches_brian2_plus_dt(amplitude, reset_mode):
    ours = _spike_times(_run_ours(_single("if", dict(IF_PARAMS, reset_mode=reset_mode),
                                          amplitude)), "n")
    brian = _brian_spikes(IF_EQS, "v >= Vt", IF_RESET[reset_mode], _if_namespace(amplitude),
                          IF_PARAMS["v_init"], method="exponential_euler", var="q")
    _assert_same(ours, brian, DT)


def test_if_exponential_synapses_with_delays_match_brian2():
    params = dict(IF_PARAMS, reset_mode="subtract", tau_syn_exc=5.0, tau_syn_inh=10.0)
    ours = _spike_times(_run_ours(_inputs_document("if", params, 8.0, -6.0, 1.5, 0.7)), "n")
    on_pre = "I{0} += {1} * mV; q += {1} * mV * tau{0} / taum"
    brian = _brian_spikes(IF_EQS, "v >= Vt", IF_RESET["subtract"], _if_namespace(0.0),
                          IF_PARAMS["v_init"],
                          ((EXC_TIMES, on_pre.format("e", 8.0), 1.5),
                           (INH_TIMES, on_pre.format("i", -6.0), 0.7)),
                          method="exponential_euler", var="q")
    _assert_same(ours, brian, 0.0)


# ---------------------------------------------------------------------------- adaptive_lif
ALIF_PARAMS = dict(tau_m=10.0, v_rest=-60.0, v_reset=-60.0, v_thresh=-50.0, t_ref=0.0,
                   v_init=-60.0, delta_thresh=3.0, tau_adapt=80.0)


@pytest.mark.parametrize("amplitude", [15.3, 27.9, 61.3])
def test_adaptive_lif_constant_input_matches_brian2_plus_dt(amplitude):
    """The threshold rises with every spike, so the intervals grow (checked) and every spike
    is Brian2's + dt."""
    ours = _spike_times(_run_ours(_single("adaptive_lif", ALIF_PARAMS, amplitude)), "n")
    p = ALIF_PARAMS
    brian = _brian_spikes(
        "dv/dt = (El - v + I) / taum : volt\ndtheta/dt = -theta / taua : volt",
        "v >= Vt + theta", "v = Vr; theta += dth",
        {"El": p["v_rest"] * mV, "I": amplitude * mV, "taum": p["tau_m"] * ms,
         "Vt": p["v_thresh"] * mV, "Vr": p["v_reset"] * mV, "taua": p["tau_adapt"] * ms,
         "dth": p["delta_thresh"] * mV}, p["v_init"])
    _assert_same(ours, brian, DT)
    isi = np.diff(ours)
    assert isi[-1] > isi[0]  # adaptation lengthens the intervals


# ---------------------------------------------------------------------------- li
LI_PARAMS = dict(tau_m=10.0, v_rest=-60.0, v_init=-60.0)


@pytest.mark.parametrize("tau_syn", [5.0, 0.0])
def test_leaky_integrator_trace_matches_brian2(tau_syn):
    """A readout driven by delayed spikes (exponential or delta synapses): our v at t is
    Brian2's at t + dt (inputs act one step earlier), to 1e-9 mV; it never spikes.

    With delta synapses v jumps at the arrival instants; there our sample is the value before
    the jump and Brian2's (taken before its update) the value after it, so those samples
    differ by the weight and are left out.
    """
    params = dict(LI_PARAMS, tau_syn_exc=tau_syn, tau_syn_inh=tau_syn)
    doc = _inputs_document("li", params, 4.0, -6.0, 1.5, 0.7, duration=200.0)
    doc["network"]["nodes"].append({"id": "vm", "kind": "monitor", "model": "state",
                                    "target": "n", "params": {"variables": ["v"],
                                                              "neurons": [0],
                                                              "interval_ms": DT}})
    result = _run_ours(doc)
    assert len(_spike_times(result, "n")) == 0
    ours = result.traces["vm"].values["v"][:, 0]

    _brian_scope("numpy")
    p = LI_PARAMS
    if tau_syn:
        eqs = ("dv/dt = (El - v + Ie + Ii) / taum : volt\ndIe/dt = -Ie / taus : volt\n"
               "dIi/dt = -Ii / taus : volt")
        pre_e, pre_i = "Ie += 4.0 * mV", "Ii += -6.0 * mV"
    else:
        eqs = "dv/dt = (El - v) / taum : volt"
        pre_e, pre_i = "v += 4.0 * mV", "v += -6.0 * mV"
    group = b2.NeuronGroup(1, eqs, method="exact", namespace={
        "El": p["v_rest"] * mV, "taum": p["tau_m"] * ms, "taus": (tau_syn or 1.0) * ms})
    group.v = p["v_init"] * mV
    objects = [group]
    for times, on_pre, delay in ((EXC_TIMES, pre_e, 1.5), (INH_TIMES, pre_i, 0.7)):
        idx = np.concatenate([[i] * len(t) for i, t in enumerate(times)]).astype(int)
        gen = b2.SpikeGeneratorGroup(len(times), idx, np.concatenate(times) * ms)
        syn = b2.Synapses(gen, group, on_pre=on_pre, delay=delay * ms)
        syn.connect()
        objects += [gen, syn]
    monitor = b2.StateMonitor(group, "v", record=0)
    b2.Network(*objects, monitor).run(200.0 * ms + DT * ms)
    brian = np.asarray(monitor.v[0] / mV)[1:]  # shifted: brian[k] is Brian2's v at k + 1
    n = min(len(ours), len(brian))
    keep = np.ones(n, bool)
    if not tau_syn:  # Brian2's samples right after a jump (arrival + dt)
        for times, delay in ((EXC_TIMES, 1.5), (INH_TIMES, 0.7)):
            arrival = np.rint((np.concatenate(times) + delay) / DT).astype(int)
            keep[arrival[arrival < n]] = False
    assert np.ptp(ours) > 5.0  # the inputs move it
    np.testing.assert_allclose(ours[:n][keep], brian[:n][keep], rtol=0, atol=1e-9)


# ---------------------------------------------------------------------------- delta synapses
@pytest.mark.parametrize("model", ["lif", "adaptive_lif", "if"])
def test_delta_synapses_match_brian2_on_pre_v_increment(model):
    """tau_syn = 0: an arriving weight w moves v by w (Brian2: on_pre ``v += w``). Driven by
    spikes alone from rest, spike times agree exactly."""
    params = {"lif": dict(tau_m=10.0, v_rest=-60.0, v_reset=-60.0, v_thresh=-50.0,
                          t_ref=0.0, v_init=-60.0),
              "adaptive_lif": dict(ALIF_PARAMS),
              "if": dict(IF_PARAMS)}[model]
    params.update(tau_syn_exc=0.0, tau_syn_inh=0.0)
    ours = _spike_times(_run_ours(_inputs_document(model, params, 4.5, -3.0, 1.5, 0.7)), "n")
    p = params
    namespace = {"Vt": p["v_thresh"] * mV, "Vr": p["v_reset"] * mV, "taum": p["tau_m"] * ms}
    method = "exact"
    if model == "if":  # dv/dt = 0 between inputs (Euler is exact; "exact" refuses it)
        eqs, threshold, reset, method = "dv/dt = 0 * mV / taum : volt", "v >= Vt", "v = Vr", "euler"
    else:
        namespace["El"] = p["v_rest"] * mV
        eqs, threshold, reset = "dv/dt = (El - v) / taum : volt", "v >= Vt", "v = Vr"
        if model == "adaptive_lif":
            eqs += "\ndtheta/dt = -theta / taua : volt"
            threshold, reset = "v >= Vt + theta", "v = Vr; theta += dth"
            namespace.update(taua=p["tau_adapt"] * ms, dth=p["delta_thresh"] * mV)
    brian = _brian_spikes(eqs, threshold, reset, namespace, p["v_init"],
                          ((EXC_TIMES, "v += 4.5 * mV", 1.5), (INH_TIMES, "v += -3.0 * mV", 0.7)),
                          method=method)
    _assert_same(ours, brian, 0.0)
