"""Per-neuron (heterogeneous) population parameters: the forms a value takes, their checks,
the companion .npz file, the workbench's save/undo/autosave, and the simulator's spikes."""

from __future__ import annotations

import json

import numpy as np
import pytest

from engine.core.per_neuron import resolve_neuron_params
from engine.errors import ProjectError
from engine.hetero.companion import companion_path, read_companion
from engine.hetero.values import INLINE_LIMIT
from engine.project import Project, dumps_project, load_project, loads_project, save_project
from tests.helpers import document, lif


def problems_of(doc, arrays=None) -> list[str]:
    with pytest.raises(ProjectError) as info:
        Project.from_dict(doc, arrays)
    return [str(p) for p in info.value.problems]


def node_doc(size: int = 5, model: str = "lif", seed: int = 1, **params) -> dict:
    node = {"id": "pop", "kind": "population", "model": model, "size": size, "params": params}
    return document([lif("a"), node], seed=seed)


# ---------------------------------------------------------------------------- validation
@pytest.mark.parametrize("params, expected", [
    ({"tau_m": [10, 11, 12, -1, 14]},
     "network.nodes[1].params.tau_m[3]: must be > 0 ms, got -1 ms"),
    ({"tau_m": [10, 11]}, "network.nodes[1].params.tau_m: must hold one value per neuron (5), "
                          "got 2"),
    ({"v_init": [-65, -65, "x", -65, -65]},
     "network.nodes[1].params.v_init[2]: must be a finite number, got 'x'"),
    ({"t_ref": [1, 2, 3, 4, 2000]}, "network.nodes[1].params.t_ref[4]: must be <= 1000 ms"),
    ({"tau_m": {"dist": "gamma", "k": 1}}, "network.nodes[1].params.tau_m.dist: must be one "
                                           "of uniform, normal, lognormal"),
    ({"tau_m": {"dist": "uniform", "low": 0, "high": 5}},
     "network.nodes[1].params.tau_m.low: must be > 0 ms, got 0 ms"),
    ({"tau_m": {"dist": "uniform", "low": 5, "high": 1}},
     "network.nodes[1].params.tau_m.high: must be >= low (5), got 1"),
    ({"tau_m": {"dist": "normal", "mean": 10, "std": 3}},
     "network.nodes[1].params.tau_m.std: the distribution reaches -5 within 5 std"),
    ({"tau_m": {"dist": "normal", "mean": 10}}, "network.nodes[1].params.tau_m.std: is required"),
    ({"tau_m": {"dist": "lognormal", "mu": 2, "sigma": -1}},
     "network.nodes[1].params.tau_m.sigma: must be >= 0, got -1"),
    ({"tau_m": {"dist": "lognormal", "mu": 10, "sigma": 0.5}},
     "network.nodes[1].params.tau_m.mu: exp(mu) must be <= 10000 ms"),
    ({"tau_m": {"array": "taus"}}, "network.nodes[1].params.tau_m.array: 'taus': there is no "
                                   "companion file"),
    ({"v_reset": [-70, -70, -45, -70, -70]},
     "network.nodes[1].params.v_reset[2]: must be below v_thresh (-50 mV) for neuron 2, "
     "got -45 mV"),
])
def test_bad_per_neuron_values_name_the_field(params, expected):
    found = problems_of(node_doc(**params))
    assert any(f.startswith(expected) for f in found), found


def test_a_problem_names_the_first_bad_neuron_and_counts_the_others():
    found = problems_of(node_doc(tau_m=[10, -1, 12, -2, -3]))
    assert found == ["network.nodes[1].params.tau_m[1]: must be > 0 ms, got -1 ms "
                     "(2 more values are out of range too)"]


@pytest.mark.parametrize("array, expected", [
    (np.arange(4.0), "must have shape (5,), one value per neuron, got (4,)"),
    (np.ones((5, 1)), "must have shape (5,), one value per neuron, got (5, 1)"),
    (np.array(["a"] * 5), "must hold real numbers (float or int), got dtype <U1"),
    (np.array([1.0, np.nan, 1, 1, 1]), "[1]: must be a finite number, got nan"),
    (np.array([1.0, 2, 3, 4, 0]), "[4]: must be > 0 ms, got 0 ms"),
])
def test_bad_companion_arrays_are_refused_with_a_named_message(array, expected):
    found = problems_of(node_doc(tau_m={"array": "taus"}), {"taus": array})
    assert len(found) == 1 and expected in found[0], found
    assert found[0].startswith("network.nodes[1].params.tau_m")


def test_valid_forms_resolve_to_floats_and_arrays():
    doc = node_doc(tau_m=[10, 11, 12, 13, 14], v_thresh={"dist": "normal", "mean": -50, "std": 1},
                   i_offset={"array": "bias"}, v_init={"dist": "uniform", "low": -70,
                                                       "high": -60})
    project = Project.from_dict(doc, {"bias": np.arange(5)})
    values = resolve_neuron_params(project, project.network.node("pop"))
    assert values["tau_m"].tolist() == [10, 11, 12, 13, 14]
    assert values["i_offset"].dtype == np.float64 and values["i_offset"].tolist() == [0, 1, 2, 3, 4]
    assert isinstance(values["v_rest"], float) and values["v_rest"] == -65.0
    assert values["v_thresh"].shape == (5,) and np.all((values["v_init"] >= -70)
                                                        & (values["v_init"] <= -60))


# ---------------------------------------------------------------------------- distributions
def _values(seed: int, node_id: str = "pop", extra_nodes: int = 0, **params) -> dict:
    doc = node_doc(size=20_000, seed=seed, **params)
    doc["network"]["nodes"][1]["id"] = node_id
    doc["network"]["nodes"] += [lif(f"x{i}", 3) for i in range(extra_nodes)]
    project = Project.from_dict(doc)
    return resolve_neuron_params(project, project.network.node(node_id))


@pytest.mark.parametrize("dist, mean, std", [
    ({"dist": "uniform", "low": 5.0, "high": 15.0}, 10.0, 10 / np.sqrt(12)),
    ({"dist": "normal", "mean": 20.0, "std": 2.0}, 20.0, 2.0),
    ({"dist": "lognormal", "mu": 2.0, "sigma": 0.25},
     np.exp(2.0 + 0.25**2 / 2), np.sqrt((np.exp(0.25**2) - 1) * np.exp(4.0 + 0.25**2))),
])
def test_distributions_are_deterministic_per_seed_with_the_right_statistics(dist, mean, std):
    a = _values(7, tau_m=dist)["tau_m"]
    assert np.array_equal(a, _values(7, tau_m=dist)["tau_m"])
    # Other nodes do not change a node's draws; another seed does.
    assert np.array_equal(a, _values(7, extra_nodes=3, tau_m=dist)["tau_m"])
    assert not np.array_equal(a, _values(8, tau_m=dist)["tau_m"])
    # 20,000 draws: the mean within 5 standard errors, the std within 5 %.
    assert abs(a.mean() - mean) < 5 * std / np.sqrt(a.size)
    assert abs(a.std() - std) < 0.05 * std


def test_each_parameter_draws_its_own_values():
    values = _values(3, tau_m={"dist": "uniform", "low": 5.0, "high": 15.0},
                     tau_syn_exc={"dist": "uniform", "low": 5.0, "high": 15.0})
    assert not np.array_equal(values["tau_m"], values["tau_syn_exc"])


# ---------------------------------------------------------------------------- companion file
def test_long_lists_move_to_the_companion_file_and_round_trip(tmp_path):
    n = INLINE_LIMIT + 1
    taus = np.linspace(5.0, 20.0, n)
    doc = node_doc(size=n, tau_m=taus.tolist(), i_offset=[1.0] * 3 + [0.0] * (n - 3))
    doc["network"]["nodes"][1]["params"]["v_thresh"] = [-50.0] * n
    doc["network"]["nodes"][1]["size"] = n
    project = Project.from_dict(doc)
    path = tmp_path / "net.json"
    save_project(project, path)
    saved = json.loads(path.read_text())["network"]["nodes"][1]["params"]
    assert saved["tau_m"] == {"array": "pop.tau_m"}
    assert saved["i_offset"] == {"array": "pop.i_offset"}
    assert companion_path(path) == tmp_path / "net.arrays.npz"
    assert np.array_equal(read_companion(companion_path(path))["pop.tau_m"], taus)
    again = load_project(path)
    values = resolve_neuron_params(again, again.network.node("pop"))
    assert np.array_equal(values["tau_m"], taus)
    # Saving the loaded project again gives the same files.
    save_project(again, tmp_path / "copy.json")
    assert (tmp_path / "copy.json").read_text() == path.read_text()
    # The download is one self-contained JSON file (arrays inline).
    inline = loads_project(dumps_project(again))
    assert inline.network.node("pop").params["tau_m"] == taus.tolist()
    # A project without per-neuron arrays leaves no stale companion file.
    again.network.node("pop").params = {}
    save_project(again, path)
    assert not companion_path(path).exists()


def test_a_short_list_stays_inline(tmp_path):
    save_project(Project.from_dict(node_doc(tau_m=[10, 11, 12, 13, 14])), tmp_path / "n.json")
    assert not companion_path(tmp_path / "n.json").exists()
    params = json.loads((tmp_path / "n.json").read_text())["network"]["nodes"][1]["params"]
    assert params["tau_m"] == [10, 11, 12, 13, 14]


def test_a_pickled_companion_array_is_refused(tmp_path):
    path = tmp_path / "n.json"
    path.write_text(json.dumps(node_doc(tau_m={"array": "taus"})))
    np.savez(companion_path(path), taus=np.array([object()] * 5, dtype=object))
    with pytest.raises(ProjectError, match="array 'taus' holds Python objects; pickled data "
                                           "is refused"):
        load_project(path)


def test_a_broken_companion_file_is_refused(tmp_path):
    path = tmp_path / "n.json"
    path.write_text(json.dumps(node_doc(tau_m={"array": "taus"})))
    companion_path(path).write_bytes(b"not a zip")
    with pytest.raises(ProjectError, match="n.arrays.npz is not a readable .npz archive"):
        load_project(path)


def test_a_missing_companion_array_names_the_field(tmp_path):
    path = tmp_path / "n.json"
    path.write_text(json.dumps(node_doc(tau_m={"array": "taus"})))
    np.savez(companion_path(path), other=np.ones(5))
    with pytest.raises(ProjectError) as info:
        load_project(path)
    assert [str(p) for p in info.value.problems] == [
        "network.nodes[1].params.tau_m.array: 'taus': the companion file has no such array"]


# ---------------------------------------------------------------------------- workbench
def test_workspace_save_open_undo_and_autosave_keep_per_neuron_values(tmp_path, monkeypatch):
    from workbench import edits, storage
    from workbench.session import ProjectSession

    monkeypatch.setenv("SPIKESTUDIO_HOME", str(tmp_path / "home"))
    n = INLINE_LIMIT + 5
    taus = np.linspace(5.0, 20.0, n).tolist()
    ws = storage.Workspace.for_user("ana")
    session = ProjectSession("s", ws)
    session.open_text(json.dumps(node_doc(size=n, tau_m=taus)))
    path = session.save("Hetero")
    assert companion_path(path).exists()  # the long list went to the companion file
    reopened = storage.read_document(path)  # ... and comes back inline for editing
    assert reopened["network"]["nodes"][1]["params"]["tau_m"] == taus
    session.apply(edits.set_node_param, "pop", "tau_m", 12.0)
    assert session.document["network"]["nodes"][1]["params"]["tau_m"] == 12.0
    session.undo()
    assert session.document["network"]["nodes"][1]["params"]["tau_m"] == taus
    restored = ProjectSession("s", ws)
    assert restored.restore_or_open_default()
    assert restored.document["network"]["nodes"][1]["params"]["tau_m"] == taus
    assert restored.problems == []


# ---------------------------------------------------------------------------- simulator
DT = 0.1
#: Per model: the parameters given per neuron (4 neurons), chosen so each neuron spikes.
HETERO = {
    "lif": {"tau_m": [8.0, 10.0, 14.0, 20.0], "v_thresh": [-52.0, -50.0, -49.0, -51.0],
            "t_ref": [1.0, 2.0, 3.0, 0.5], "tau_syn_exc": [2.0, 5.0, 0.0, 7.0],
            "i_offset": [16.0, 18.0, 20.0, 25.0], "v_init": [-65.0, -60.0, -55.0, -70.0]},
    "izhikevich": {"a": [0.02, 0.1, 0.02, 0.03], "b": [0.2, 0.25, 0.2, 0.22],
                   "d": [8.0, 2.0, 4.0, 6.0],
                   "c": [-65.0, -65.0, -55.0, -50.0], "i_offset": [10.0, 12.0, 8.0, 15.0],
                   "v_init": [-65.0, -70.0, -60.0, -64.0]},
    "if": {"tau_m": [8.0, 10.0, 14.0, 20.0], "v_thresh": [-52.0, -50.0, -49.0, -51.0],
           "t_ref": [1.0, 2.0, 3.0, 0.5], "i_offset": [0.1, 0.2, 0.3, 0.25],
           "reset_mode": "subtract"},
    "adaptive_lif": {"tau_adapt": [50.0, 100.0, 200.0, 80.0], "delta_thresh": [1.0, 2.0, 0.5, 3.0],
                     "tau_m": [8.0, 10.0, 14.0, 20.0], "i_offset": [16.0, 18.0, 20.0, 25.0]},
    "li": {"tau_m": [8.0, 10.0, 14.0, 20.0], "i_offset": [1.0, 2.0, 3.0, 4.0],
           "v_init": [-65.0, -60.0, -55.0, -70.0]},
}


def _run(model: str, params: dict, size: int):
    """A population driven by a Poisson input, all its neurons' v recorded."""
    from engine.simulator import simulate

    nodes = [{"id": "pop", "kind": "population", "model": model, "size": size,
              "params": params},
             {"id": "drive", "kind": "encoder", "model": "poisson", "size": 5,
              "params": {"rate_hz": 200.0}},
             {"id": "vm", "kind": "monitor", "model": "state", "target": "pop",
              "params": {"variables": ["v"], "neurons": list(range(size)),
                         "interval_ms": DT}}]
    weight = 0.5 if model == "if" else 2.0
    doc = document(nodes, [{"id": "d", "source": "drive", "target": "pop", "weight": weight,
                            "connectivity": {"rule": "all_to_all"}}],
                   duration_ms=200.0, dt_ms=DT, seed=5)
    return simulate(Project.from_dict(doc))


@pytest.mark.parametrize("model", sorted(HETERO))
def test_each_neuron_of_a_hetero_population_runs_as_a_homogeneous_one(model):
    params = HETERO[model]
    hetero = _run(model, params, 4)
    assert len(hetero.spikes) > 0 or model == "li"
    for j in range(4):
        alone = {k: (v[j] if isinstance(v, list) else v) for k, v in params.items()}
        # The same input: a 1-neuron population gets the same Poisson trains (the encoder's
        # draws do not depend on the target's size) through the same all-to-all weights.
        single = _run(model, alone, 1)
        assert np.array_equal(hetero.neuron_spike_times("pop", j),
                              single.neuron_spike_times("pop", 0)), (model, j)
        assert np.array_equal(hetero.traces["vm"].values["v"][:, j],
                              single.traces["vm"].values["v"][:, 0]), (model, j)
    if model != "li":  # the neurons differ: not all spike trains are equal
        trains = [tuple(hetero.neuron_spike_times("pop", j)) for j in range(4)]
        assert len(set(trains)) > 1


def test_a_hetero_population_of_equal_values_gives_the_homogeneous_spikes():
    same = {"tau_m": [12.0] * 4, "i_offset": [18.0] * 4, "v_thresh": {"dist": "uniform",
                                                                     "low": -50, "high": -50}}
    shared = {"tau_m": 12.0, "i_offset": 18.0, "v_thresh": -50.0}
    a, b = _run("lif", same, 4), _run("lif", shared, 4)
    assert a.spikes.equals(b.spikes) and len(a.spikes) > 0
    assert np.array_equal(a.traces["vm"].values["v"], b.traces["vm"].values["v"])


def test_only_nodes_with_varying_packed_constants_get_per_neuron_rows():
    from engine.core.build import build

    doc = document([lif("same", 3, tau_m=[10.0] * 3, i_offset=[1.0, 2.0, 3.0]),
                    lif("vary", 4, tau_m=[10.0, 11.0, 12.0, 10.0]), lif("plain", 2),
                    lif("vary2", 2, v_thresh=[-50.0, -45.0])])
    compiled = build(Project.from_dict(doc))
    assert compiled.node_hetero.tolist() == [-1, 0, -1, 48]  # blocks of 12 x size constants
    assert compiled.neuron_params.size == 12 * 6
    block = compiled.neuron_params[:48].reshape(12, 4)
    from engine.neurons import lif as lif_model

    second = compiled.neuron_params[48:].reshape(12, 2)
    assert second[lif_model.VTHRESH].tolist() == [-50.0, -45.0]
    assert compiled.bias[:3].tolist() == [1.0, 2.0, 3.0]
    # Each column is the model's own pack of that neuron's values.
    for j, tau in enumerate([10.0, 11.0, 12.0, 10.0]):
        values = {**lif_model.SPEC.defaults(), "tau_m": tau}
        assert block[:, j].tolist() == lif_model.pack(values, DT).tolist()


def test_the_memory_estimate_counts_per_neuron_parameters():
    from engine.core.build import estimate_memory

    n = 1000
    plain = estimate_memory(Project.from_dict(document([lif("pop", n)])))
    bias = estimate_memory(Project.from_dict(document([lif("pop", n, i_offset=[1.0] * n)])))
    taus = estimate_memory(Project.from_dict(document(
        [lif("pop", n, tau_m={"dist": "uniform", "low": 5, "high": 15}, i_offset=[1.0] * n)])))
    assert bias.total - plain.total == 8 * n  # the array only (i_offset is not packed)
    assert taus.total - plain.total == 8 * n * (2 + 12)  # two arrays and the packed rows
    assert taus.items["per-neuron parameters of pop"] == 8 * n * 14


# ---------------------------------------------------------------------------- exporters
# NIR writes per-neuron arrays (tests/test_nir_trained.py); the scripts' runs:
# tests/test_export_hetero.py.
@pytest.mark.parametrize("target", ["brian2", "nest", "pynn"])
def test_script_exporters_write_per_neuron_values_as_data(target, tmp_path):
    from engine.export import export_project

    project = Project.from_dict(document([lif("pop", 3, tau_m=[10.0, 12.0, 14.0])]))
    export_project(project, target, tmp_path)
    with np.load(tmp_path / "network.npz", allow_pickle=False) as data:
        assert data["pop__tau_m"].tolist() == [10.0, 12.0, 14.0]


# ---------------------------------------------------------------------------- Brian2
def test_a_hetero_lif_population_matches_brian2_neuron_by_neuron():
    """Per-neuron tau_m, v_thresh, i_offset and v_init against a Brian2 NeuronGroup with the
    same per-neuron values (t_ref = 0, exact integration in both): each of our spikes is
    Brian2's + dt (the label convention of tests/test_brian2_crosscheck.py), to 1e-9 ms."""
    b2 = pytest.importorskip("brian2")
    from brian2 import ms, mV

    from engine.simulator import simulate

    tau_m = [5.0, 8.0, 10.0, 15.0, 20.0]
    v_thresh = [-52.0, -50.0, -48.0, -51.0, -49.5]
    i_offset = [11.0, 14.5, 20.0, 27.9, 61.3]
    v_init = [-60.0, -55.0, -58.0, -62.0, -60.5]
    params = dict(tau_m=tau_m, v_thresh=v_thresh, i_offset=i_offset, v_init=v_init,
                  v_rest=-60.0, v_reset=-60.0, t_ref=0.0)
    doc = document([{"id": "n", "kind": "population", "model": "lif", "size": 5,
                     "params": params}], duration_ms=300.0, dt_ms=DT)
    ours = simulate(Project.from_dict(doc))

    b2.start_scope()
    b2.prefs.codegen.target = "numpy"
    b2.defaultclock.dt = DT * ms
    group = b2.NeuronGroup(
        5, """dv/dt = (El - v + I) / taum : volt
              I : volt (constant)
              taum : second (constant)
              Vt : volt (constant)""",
        threshold="v >= Vt", reset="v = Vr", method="exact",
        namespace={"El": -60.0 * mV, "Vr": -60.0 * mV})
    group.taum = np.array(tau_m) * ms
    group.Vt = np.array(v_thresh) * mV
    group.I = np.array(i_offset) * mV
    group.v = np.array(v_init) * mV
    monitor = b2.SpikeMonitor(group)
    b2.Network(group, monitor).run(300.0 * ms)
    brian = monitor.spike_trains()
    for j in range(5):
        times = np.asarray(brian[j] / ms)
        assert len(times) >= 3, j
        np.testing.assert_allclose(ours.neuron_spike_times("n", j), times + DT, rtol=0,
                                   atol=1e-9, err_msg=f"neuron {j}")


# ---------------------------------------------------------------------------- inspector
def _inspect(params: dict):
    from workbench import edits
    from workbench.inspector import node_inspector

    doc = node_doc(size=4, **params)
    applied = []
    parts = node_inspector(doc, doc["network"]["nodes"][1], [],
                           lambda fn, *args: applied.append((fn, args)))
    return edits, parts, applied


def test_the_inspector_shows_a_per_neuron_list_as_a_summary_and_makes_it_a_distribution():
    import panel as pn

    from widgets.param_form import ParamForm

    edits, parts, applied = _inspect({"tau_m": [8.0, 10.0, 12.0, 14.0]})
    forms = [p for p in parts if isinstance(p, ParamForm)]
    assert "tau_m" not in [s.name for s in forms[-1].specs]  # no broken number field
    texts = [p.object for p in parts if isinstance(p, pn.pane.HTML)]
    assert any("per neuron: mean 11 / min 8 / max 14 ms (4 values)" in t for t in texts)
    choice = next(p for p in parts if isinstance(p, pn.widgets.Select)
                  and p.name == "tau_m per neuron")
    assert choice.value == "list"
    choice.value = "uniform"
    assert applied[-1] == (edits.set_node_param,
                           ("pop", "tau_m", {"dist": "uniform", "low": 8.0, "high": 14.0}))


def test_the_inspector_edits_a_per_neuron_distribution():
    from widgets.param_form import ParamForm

    edits, parts, applied = _inspect({"tau_m": {"dist": "normal", "mean": 10.0, "std": 1.0}})
    dist_form = [p for p in parts if isinstance(p, ParamForm)][-1]
    assert [s.name for s in dist_form.specs] == ["mean", "std"]
    dist_form.widget("std").value = "0.5"
    assert applied[-1] == (edits.set_node_param,
                           ("pop", "tau_m", {"dist": "normal", "mean": 10.0, "std": 0.5}))
    dist_form.widget("std").value = "-1"  # refused in the field, nothing applied
    assert applied[-1][1][2]["std"] == 0.5


def test_a_companion_array_declaring_too_many_values_is_refused_before_reading(tmp_path):
    import zipfile

    path = tmp_path / "n.json"
    path.write_text(json.dumps(node_doc(tau_m={"array": "taus"})))
    # A member whose header declares 10^9 values but holds none: refused from the header.
    header = np.lib.format.header_data_from_array_1_0(np.zeros(1))
    header["shape"] = (10**9,)
    with zipfile.ZipFile(companion_path(path), "w") as archive, \
            archive.open("taus.npy", "w") as member:
        np.lib.format.write_array_header_1_0(member, header)
    with pytest.raises(ProjectError, match=r"array 'taus' has shape \(1000000000,\), more than "
                                           r"100,000,000 values"):
        load_project(path)
