"""The neuron model registry (engine.neurons) and the behaviour of if, adaptive_lif and li."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine import neurons
from engine.core import kernels
from engine.core.build import estimate_memory, spike_record_capacity
from engine.errors import ProjectError
from engine.neurons import NEURON_MODELS
from engine.neurons.base import AUX, I_EXC, I_INH, N_NODE_PARAMS, V
from engine.project import Project
from engine.simulator import simulate

DT = 0.1


def _doc(model: str, params: dict, *, size: int = 1, variables=("v",), nodes=(),
         projections=(), duration: float = 100.0) -> dict:
    return {
        "format": "spikestudio-project", "version": 1, "name": "models",
        "network": {"nodes": [
            {"id": "n", "kind": "population", "model": model, "size": size, "params": params},
            {"id": "vm", "kind": "monitor", "model": "state", "target": "n",
             "params": {"variables": list(variables), "neurons": [0], "interval_ms": DT}},
            *nodes], "projections": list(projections)},
        "simulation": {"duration_ms": duration, "dt_ms": DT, "seed": 3},
    }


def _spike_input(times: list[float], weight: float, receptor: str = "exc") -> tuple:
    node = {"id": "pre", "kind": "encoder", "model": "spike_times", "size": 1,
            "params": {"times_ms": [times]}}
    proj = {"id": "pre_n", "source": "pre", "target": "n", "weight": weight,
            "receptor": receptor}
    return (node,), (proj,)


# ---------------------------------------------------------------------------- registry
def test_every_registered_model_has_a_kernel_slot_and_a_complete_module():
    assert len(neurons.MODELS) <= kernels.N_SLOTS
    assert list(NEURON_MODELS) == [m.SPEC.name for m in neurons.MODELS]
    assert {"lif", "izhikevich", "if", "adaptive_lif", "li"} <= set(NEURON_MODELS)
    for code, module in enumerate(neurons.MODELS):
        assert kernels._slot(code).py_func.__code__ is module.step.__code__
        assert neurons.TYPE_CODES[module.SPEC.name] == code
        assert set(module.STATE) == set(module.SPEC.state_variables)
        assert set(module.STATE.values()) <= {V, I_EXC, I_INH, AUX}
        assert module.SPEC.short and module.SPEC.color.startswith("#")
        values = module.SPEC.defaults()
        assert module.pack(values, DT).shape == (N_NODE_PARAMS,)
        assert module.initial_aux(values, np.zeros(3)).shape == (3,)
        assert module.check(values) == []
    assert kernels._slot(len(neurons.MODELS)) is kernels._empty_slot


def test_kernel_cache_key_follows_the_model_files():
    """numba keys a cached function by its own file; the kernel's closure holds the digest of
    the model and plasticity files, which numba hashes into the cache index key."""
    cells = [c.cell_contents for c in kernels.run_chunk.py_func.__closure__]
    assert kernels.inlined_sources_digest() in cells
    a, b = kernels._make_run_chunk("a", False), kernels._make_run_chunk("b", False)
    codegen = a.targetctx.codegen()
    sig = ("any signature",)  # only the keys' difference matters
    assert a._cache._index_key(sig, codegen) != b._cache._index_key(sig, codegen)
    # The kernels of one and of several threads are cached apart.
    threaded = kernels._make_run_chunk("a", True)
    assert a._cache._index_key(sig, codegen) != threaded._cache._index_key(sig, codegen)


def test_delta_synapse_parameters_accept_zero_except_izhikevich():
    for name in ("lif", "if", "adaptive_lif", "li"):
        for param in ("tau_syn_exc", "tau_syn_inh"):
            spec = NEURON_MODELS[name].param(param)
            assert spec.check(0.0) is None and "delta" in spec.doc
    assert NEURON_MODELS["izhikevich"].param("tau_syn_exc").check(0.0) is not None


# ---------------------------------------------------------------------------- behaviour
def test_delta_synapse_moves_v_by_the_weight():
    """An input spike at 10 ms (delay 0) moves v by w at 10 ms; the leak decays it from there."""
    params = {"tau_m": 10.0, "v_rest": -65.0, "v_init": -65.0, "tau_syn_exc": 0.0,
              "t_ref": 0.0}
    nodes, projs = _spike_input([10.0], 4.0)
    result = simulate(Project.from_dict(_doc("lif", params, nodes=nodes, projections=projs)))
    v = result.traces["vm"].values["v"][:, 0]
    k = int(round(10.0 / DT))
    assert v[k] == -65.0
    np.testing.assert_allclose(v[k + 1:k + 4] + 65.0,
                               4.0 * np.exp(-np.arange(1, 4) * DT / 10.0), rtol=1e-12)
    assert np.all(result.traces["vm"].values["v"] <= -60.0)


def test_if_integrates_without_leak_and_subtract_keeps_the_overshoot():
    params = {"tau_m": 10.0, "v_reset": -65.0, "v_thresh": -50.0, "v_init": -65.0,
              "t_ref": 0.0, "i_offset": 7.0}
    value = simulate(Project.from_dict(_doc("if", params)))
    v = value.traces["vm"].values["v"][:, 0]
    np.testing.assert_allclose(v[1:5] - v[:4], 7.0 * DT / 10.0, rtol=1e-9)  # no leak
    # 15 mV at 0.07 mV per step: 214.3 -> a spike every 215 steps, v back at v_reset
    np.testing.assert_allclose(value.spikes["time_ms"], [21.5, 43.0, 64.5, 86.0])
    sub = simulate(Project.from_dict(_doc("if", dict(params, reset_mode="subtract"))))
    vs = sub.traces["vm"].values["v"][:, 0]
    after = vs[np.rint(sub.spikes["time_ms"].to_numpy() / DT).astype(int)]
    assert np.all(after > -65.0) and np.all(after < -64.9)  # v_reset + the overshoot
    assert len(sub.spikes) >= len(value.spikes)


def test_adaptive_lif_threshold_jumps_and_decays():
    params = {"tau_m": 10.0, "v_rest": -65.0, "v_reset": -65.0, "v_thresh": -50.0,
              "t_ref": 0.0, "i_offset": 30.0, "delta_thresh": 2.0, "tau_adapt": 50.0,
              "v_init": -65.0}
    result = simulate(Project.from_dict(_doc("adaptive_lif", params,
                                             variables=("v", "theta"))))
    theta = result.traces["vm"].values["theta"][:, 0]
    k = np.rint(result.spikes["time_ms"].to_numpy() / DT).astype(int)
    assert len(k) >= 3 and theta[0] == 0.0
    assert theta[k[0]] == pytest.approx(2.0)  # one jump
    assert theta[k[0] + 10] == pytest.approx(2.0 * math.exp(-1.0 / 50.0), rel=1e-9)
    isi = np.diff(k)
    assert isi[-1] > isi[0]
    assert result.traces["vm"].units["theta"] == "mV"


def test_leaky_integrator_never_spikes_and_relaxes_exactly():
    params = {"tau_m": 20.0, "v_rest": -70.0, "v_init": -70.0, "i_offset": 12.0}
    result = simulate(Project.from_dict(_doc("li", params, size=3)))
    assert len(result.spikes) == 0
    v = result.traces["vm"].values["v"][:, 0]
    t = np.arange(len(v)) * DT
    np.testing.assert_allclose(v, -70.0 + 12.0 * (1 - np.exp(-t / 20.0)), atol=1e-9)
    counts = result.counts
    assert counts.loc[counts["node"] == "n", "neuron_updates"].sum() == 3 * 1000


def test_projection_from_a_leaky_integrator_is_refused():
    doc = _doc("li", {}, nodes=({"id": "out", "kind": "population", "model": "lif",
                                 "size": 2},),
               projections=({"id": "bad", "source": "n", "target": "out"},))
    with pytest.raises(ProjectError) as err:
        Project.from_dict(doc)
    problems = err.value.problems
    assert [p.path for p in problems] == ["network.projections[0].source"]
    assert "never spikes" in problems[0].message


def test_cross_parameter_rules_and_monitor_variables_come_from_the_model():
    with pytest.raises(ProjectError) as err:
        Project.from_dict(_doc("if", {"v_reset": -40.0, "v_thresh": -50.0}))
    assert err.value.problems[0].path == "network.nodes[0].params.v_reset"
    with pytest.raises(ProjectError) as err:
        Project.from_dict(_doc("li", {}, variables=("theta",)))
    assert "li has no state variable 'theta'" in err.value.problems[0].message
    Project.from_dict(_doc("adaptive_lif", {}, variables=("theta", "i_exc")))


def test_memory_estimate_counts_no_spikes_of_a_leaky_integrator():
    li = Project.from_dict(_doc("li", {}, size=1000, duration=1000.0))
    lif = Project.from_dict(_doc("lif", {}, size=1000, duration=1000.0))
    assert spike_record_capacity(li)[1] == 0
    assert spike_record_capacity(lif)[1] > 0
    assert estimate_memory(li).total < estimate_memory(lif).total


def test_plasticity_rules_pack_named_parameters():
    """One file per rule with its own step functions; kernel slot c calls rule c's steps."""
    from engine import plasticity

    assert list(plasticity.RULE_CODES) == ["stdp", "teaching"]
    assert len(plasticity.RULES) <= kernels.N_RULE_SLOTS
    for code in range(1, len(plasticity.RULES) + 1):
        module = plasticity.rule_module(code)
        assert kernels._rule_slot(code, "arrive").py_func.__code__ is module.arrive.__code__
        assert (kernels._rule_slot(code, "post_spike").py_func.__code__
                is module.post_spike.__code__)
    assert kernels._rule_slot(len(plasticity.RULES) + 1, "arrive") is kernels._empty_arrive
    for name, spec in plasticity.PLASTICITY_RULES.items():
        values = dict(spec.defaults(), w_min=0.25, w_max=3.5)
        code, row = plasticity.pack({"rule": name, "w_min": 0.25, "w_max": 3.5})
        module = plasticity.rule_module(code)
        assert module.SPEC is spec and np.array_equal(row, module.pack(values))
        assert plasticity.packed_bounds(code, row) == (0.25, 3.5)
        assert all(row[i] == values[spec.params[i].name] for i in module.TRACE_TAUS)


def test_encoder_files_and_registries_load_without_numba():
    """The server reads every spec but never simulates: registries must not import numba."""
    import subprocess
    import sys

    from engine import encoders

    for module in encoders.SPIKE_MODULES:
        assert callable(module.source) and callable(module.bounds)
        assert isinstance(module.BLOCKWISE, bool)
    for module in encoders.CURRENT_MODULES:
        assert callable(module.schedule)
    code = ("import sys, engine.connectivity.rules, engine.project, engine.neurons, "
            "engine.plasticity; "
            "sys.exit('numba' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
