"""Per-neuron parameters in the exported Brian2 / NEST / PyNN scripts, run with the real
tools: each script's spikes equal ours as in tests/test_export_scripts.py (NEST and pyNN.nest
label spikes as we do, Brian2 one dt earlier)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from engine.export import export_project
from engine.export.network_data import gather, npz_arrays
from engine.project import Project
from tests.test_export_scripts import (
    DT,
    _document,
    _needs,
    _ours,
    _projection,
    _run_script,
    _spike_set,
)

PRE_TIMES = [[5.0, 6, 7, 8, 30, 31.5], [5.5, 6.5, 31, 32.7, 33.9], [31.0, 61.2, 80.4]]


def _hetero(pynn_brian2: bool = False) -> Project:
    """LIF neurons with per-neuron tau_m, v_thresh and i_offset (lists) and t_ref drawn from
    a distribution; Izhikevich neurons with per-neuron a, b, i_offset (lists) and d (drawn);
    current and spike-time inputs, recurrent inhibition with a delay. ``pynn_brian2``: t_ref
    and d shared (pyNN.brian2 keeps one value of them per population)."""
    t_ref = 2.0 if pynn_brian2 else {"dist": "uniform", "low": 1.0, "high": 3.0}
    d = 6.0 if pynn_brian2 else {"dist": "uniform", "low": 2.0, "high": 8.0}
    # No tau_m equals a tau_syn: Brian2's exact solver (pyNN.brian2's) cannot integrate it.
    lif = dict(tau_m=[8.5, 9.0, 10.0, 11.0, 12.0, 14.0],
               v_thresh=[-52.0, -50.0, -51.0, -49.0, -50.0, -53.0],
               i_offset=[0.0, 1.0, 2.0, 3.0, 4.0, 5.0],
               t_ref=t_ref,
               tau_syn_exc=5.0, tau_syn_inh=8.0, v_init_spread=5.0)
    izh = dict(a=[0.02, 0.02, 0.1, 0.03], b=[0.2, 0.25, 0.2, 0.22],
               d=d,
               i_offset=[2.0, 4.0, 6.0, 3.0], v_init_spread=3.0)
    nodes = [
        {"id": "drive", "kind": "encoder", "model": "step_current", "size": 1,
         "params": {"amplitude": 20.0, "start_ms": 20.0, "stop_ms": 150.0}},
        {"id": "pre", "kind": "encoder", "model": "spike_times", "size": 3,
         "params": {"times_ms": PRE_TIMES}},
        {"id": "lif", "kind": "population", "model": "lif", "size": 6, "params": lif},
        {"id": "izh", "kind": "population", "model": "izhikevich", "size": 4, "params": izh},
    ]
    projections = [
        _projection("d_lif", "drive", "lif", 0.8, 0.0),
        _projection("d_izh", "drive", "izh", 0.5, 0.0),
        _projection("e", "pre", "lif", {"dist": "uniform", "low": 3.0, "high": 9.0},
                    {"dist": "uniform", "low": 0.5, "high": 3.0}),
        {**_projection("ii", "lif", "lif", -2.0, 1.0, "inh", "fixed_probability"),
         "connectivity": {"rule": "fixed_probability", "p": 0.5}},
    ]
    return Project.from_dict(_document(nodes, projections, 200.0, seed=5))


def _every_neuron_spikes(ours: pd.DataFrame, project: Project) -> None:
    """The comparison means something: every neuron of every population fires."""
    for node in project.network.populations:
        fired = set(ours[ours["population"] == node.id]["neuron"])
        assert fired == set(range(node.size)), (node.id, fired)


def test_per_neuron_values_go_to_the_data_file_not_the_script(tmp_path):
    project = _hetero()
    arrays = npz_arrays(gather(project))
    lif = next(n for n in project.network.populations if n.id == "lif")
    np.testing.assert_array_equal(arrays["lif__tau_m"], lif.params["tau_m"])
    assert arrays["lif__t_ref"].shape == (6,) and np.ptp(arrays["lif__t_ref"]) > 0
    assert "lif__tau_syn_exc" not in arrays  # shared: a literal in the script
    for target in ("brian2", "nest", "pynn"):
        script = export_project(project, target, tmp_path / target).files[0].read_text()
        assert 'data["lif__tau_m"]' in script and 'data["izh__d"]' in script
        assert "8.5" not in script  # the first tau_m is not written as code


@pytest.mark.slow
@_needs("brian2")
def test_brian2_hetero_lif_and_izhikevich_match_spike_for_spike(tmp_path):
    project = _hetero()
    ours = _ours(project)
    _every_neuron_spikes(ours, project)
    shared = _hetero(pynn_brian2=True)  # the variant the pyNN.brian2 test runs
    _every_neuron_spikes(_ours(shared), shared)
    theirs = _run_script(project, "brian2", tmp_path)
    assert _spike_set(theirs, shift=DT) == _spike_set(ours)  # Brian2 labels one dt earlier


@pytest.mark.slow
@_needs("nest")
def test_nest_hetero_lif_and_izhikevich_match_spike_for_spike(tmp_path):
    project = _hetero()
    theirs = _run_script(project, "nest", tmp_path)
    assert _spike_set(theirs) == _spike_set(_ours(project))


@pytest.mark.slow
@_needs("pynn")
@_needs("nest")
def test_pynn_nest_hetero_lif_and_izhikevich_match_spike_for_spike(tmp_path):
    project = _hetero()
    theirs = _run_script(project, "pynn", tmp_path, "nest")
    assert _spike_set(theirs) == _spike_set(_ours(project))


@pytest.mark.slow
@_needs("pynn")
@_needs("brian2")
def test_pynn_brian2_hetero_lif_and_izhikevich_match_spike_for_spike(tmp_path):
    """pyNN.brian2 keeps one t_ref and one Izhikevich d per population: shared here."""
    project = _hetero(pynn_brian2=True)
    theirs = _run_script(project, "pynn", tmp_path, "brian2")
    assert _spike_set(theirs, shift=DT) == _spike_set(_ours(project))


@_needs("pynn")
@_needs("brian2")
def test_pynn_brian2_refuses_a_per_neuron_t_ref_by_name(tmp_path):
    report = export_project(_hetero(), "pynn", tmp_path)
    expected = "population 'lif': parameter 't_ref' has a value per neuron, which pyNN.brian2"
    assert any(w.startswith(expected) for w in report.warnings)
    assert any(w.startswith("population 'izh': parameter 'd' has a value per neuron")
               for w in report.warnings)
    done = subprocess.run([sys.executable, report.files[0].name, "brian2"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 1 and expected in done.stderr
    assert "Traceback" not in done.stderr


# ---------------------------------------------------------------------------- other models
def _with_params(project: Project, **params_by_node: dict) -> Project:
    doc = project.to_dict()
    for node in doc["network"]["nodes"]:
        node["params"].update(params_by_node.get(node["id"], {}))
    return Project.from_dict(doc)


@pytest.mark.slow
@_needs("brian2")
def test_brian2_hetero_if_and_adaptive_lif_match_spike_for_spike(tmp_path):
    """IF (both reset modes) and adaptive LIF exist only in the Brian2 script."""
    from tests.test_export_scripts import _adaptive_project, _if_project

    hetero_if = _with_params(
        _if_project(),
        value={"tau_m": [7.0, 8.0, 9.5], "v_thresh": [9.0, 10.0, 11.0],
               "t_ref": {"dist": "uniform", "low": 1.0, "high": 2.0}},
        subtract={"i_offset": [0.0, 0.2, 0.4], "tau_syn_exc": [3.0, 4.0, 5.0]})
    adaptive = _with_params(
        _adaptive_project(),
        adapt={"tau_m": [9.0, 10.0, 11.0, 12.0], "delta_thresh": [2.0, 3.0, 4.0, 3.0],
               "tau_adapt": {"dist": "uniform", "low": 40.0, "high": 80.0}})
    for i, project in enumerate((hetero_if, adaptive)):
        ours = _ours(project)
        _every_neuron_spikes(ours, project)
        theirs = _run_script(project, "brian2", tmp_path / str(i))
        assert _spike_set(theirs, shift=DT) == _spike_set(ours)


@pytest.mark.slow
@pytest.mark.parametrize("target", [
    pytest.param("brian2", marks=_needs("brian2")), pytest.param("nest", marks=_needs("nest")),
    pytest.param("pynn", marks=[_needs("pynn"), _needs("nest")])])
def test_hetero_leaky_readout_matches_our_trace(target, tmp_path, monkeypatch):
    """The readout test of tests/test_export_scripts.py, on a readout with per-neuron
    tau_m and i_offset and a drawn tau_syn_inh (its assertions, unchanged)."""
    import tests.test_export_scripts as scripts

    plain = scripts._readout_project
    monkeypatch.setattr(scripts, "_readout_project", lambda: _with_params(
        plain(), out={"tau_m": [12.0, 15.0, 18.0], "i_offset": [1.0, 1.5, 2.0],
                      "tau_syn_inh": {"dist": "uniform", "low": 6.0, "high": 12.0}}))
    assert scripts._readout_project().to_dict()["network"]["nodes"][3]["params"]["tau_m"] \
        == [12.0, 15.0, 18.0]
    scripts.test_leaky_readout_matches_our_trace(target, tmp_path)


# ---------------------------------------------------------------------------- CUBA
def _hetero_cuba(delay_ms: float | None) -> Project:
    """The CUBA sample (200 ms) with tau_m and v_thresh drawn per neuron and i_offset per
    neuron (a list)."""
    from tests.test_export_scripts import _cuba

    doc = _cuba(delay_ms).to_dict()
    doc["simulation"]["duration_ms"] = 200.0
    for node in doc["network"]["nodes"]:
        if node["kind"] == "population":
            node["params"].update(
                tau_m={"dist": "uniform", "low": 15.0, "high": 25.0},
                v_thresh={"dist": "normal", "mean": -50.0, "std": 0.5},
                i_offset=[0.1 * (i % 3) for i in range(node["size"])])
    return Project.from_dict(doc)


@pytest.mark.slow
@pytest.mark.parametrize("target", [pytest.param("brian2", marks=_needs("brian2")),
                                    pytest.param("nest", marks=_needs("nest"))])
def test_hetero_cuba_is_spike_for_spike_identical(target, tmp_path):
    """4,000 neurons with per-neuron values, chaotic: every spike agrees (NEST with delays
    of one step, its minimum, as in tests/test_export_scripts.py)."""
    project = _hetero_cuba(None if target == "brian2" else DT)
    theirs = _run_script(project, target, tmp_path)
    ours = _ours(project)
    assert len(ours) > 3000
    assert _spike_set(theirs, shift=DT if target == "brian2" else 0.0) == _spike_set(ours)
