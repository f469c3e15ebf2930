"""NIR graphs of trained networks (issue 22 item 2): recurrent Affine blocks stay recurrent,
the graph's Input becomes a port the user connects, and every import lists what it
approximated. The spikes are checked against an independent numpy simulation of the NIR
equations discretised at dt."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

nir = pytest.importorskip("nir")
pytest.importorskip("h5py")

from engine.errors import SpikeStudioError  # noqa: E402
from engine.export import export_project, import_model  # noqa: E402
from engine.export.nir_import import graph_to_report  # noqa: E402
from engine.project import Project  # noqa: E402
from engine.simulator import simulate  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DT_MS = 0.1
N_IN, N_HID, N_OUT = 4, 6, 3


def _cuba(n: int, tau_mem: np.ndarray, tau_syn: float = 5e-3) -> nir.CubaLIF:
    """A CubaLIF layer as Norse writes it (r = w_in = 1, threshold 1, reset 0)."""
    ones = np.ones(n)
    return nir.CubaLIF(tau_syn=tau_syn * ones, tau_mem=np.broadcast_to(tau_mem, (n,)).copy(),
                       r=ones, v_leak=0 * ones, v_threshold=ones, v_reset=0 * ones,
                       w_in=ones)


def _classifier(bias_hid: np.ndarray, bias_out: np.ndarray, tau_hid: np.ndarray,
                tau_out: np.ndarray, back: bool = False) -> nir.NIRGraph:
    """Input -> Affine -> CubaLIF (Affine recurrence) -> Affine -> CubaLIF -> Output, as a
    trained two-layer recurrent classifier is exported; ``back`` adds an Affine from the
    output layer back to the hidden one (recurrence to an earlier population)."""
    rng = np.random.default_rng(7)
    nodes = {
        "input": nir.Input(input_type={"input": np.array([N_IN])}),
        "fc1": nir.Affine(weight=rng.normal(50.0, 150.0, (N_HID, N_IN)), bias=bias_hid),
        "lif1": _cuba(N_HID, tau_hid),
        "rec": nir.Affine(weight=rng.normal(0.0, 60.0, (N_HID, N_HID)), bias=np.zeros(N_HID)),
        "fc2": nir.Affine(weight=rng.normal(60.0, 80.0, (N_OUT, N_HID)), bias=bias_out),
        "lif2": _cuba(N_OUT, tau_out),
        "output": nir.Output(output_type={"output": np.array([N_OUT])}),
    }
    edges = [("input", "fc1"), ("fc1", "lif1"), ("lif1", "rec"), ("rec", "lif1"),
             ("lif1", "fc2"), ("fc2", "lif2"), ("lif2", "output")]
    if back:
        nodes["back"] = nir.Linear(weight=rng.normal(0.0, 60.0, (N_HID, N_OUT)))
        edges += [("lif2", "back"), ("back", "lif1")]
    return nir.NIRGraph(nodes=nodes, edges=edges)


def _uniform_classifier(back: bool = False) -> nir.NIRGraph:
    return _classifier(np.full(N_HID, 0.8), np.full(N_OUT, 0.3), np.full(N_HID, 0.02),
                       np.full(N_OUT, 0.01), back=back)


def _input_spikes(steps: int) -> np.ndarray:
    """(steps, N_IN) input spikes: Bernoulli trains of 80 Hz, fixed seed."""
    rng = np.random.default_rng(3)
    return rng.random((steps, N_IN)) < 80.0 * DT_MS * 1e-3


# ------------------------------------------------------------------------- the reference
def _reference(graph: nir.NIRGraph, spikes_in: np.ndarray) -> dict[str, list[np.ndarray]]:
    """Spike times (ms) per neuron of every CubaLIF, from the NIR equations solved exactly
    between steps of dt (written from the NIR definitions, not from SpikeStudio's code).

    tau_syn dI/dt = -I + w_in (W s + b), tau_mem dv/dt = v_leak - v + r I. A spike is a unit
    pulse of one dt: it raises I by w_in W dt / tau_syn at its time. A neuron spikes when
    v >= v_threshold at the end of a step and restarts from v_reset. The bias b is taken
    with I starting at its steady state w_in b (SpikeStudio's i_offset, listed as an
    approximation: NIR's I would start at 0 and rise to it with tau_syn).
    """
    dt = DT_MS * 1e-3
    layers = {k: n for k, n in graph.nodes.items() if isinstance(n, nir.CubaLIF)}
    into: dict[str, list[tuple[str, np.ndarray]]] = {k: [] for k in layers}
    bias = {k: np.zeros(n.tau_mem.size) for k, n in layers.items()}
    for a, b in graph.edges:
        block = graph.nodes[b]
        if isinstance(block, (nir.Affine, nir.Linear)):
            (target,) = [t for s, t in graph.edges if s == b]
            into[target].append((a, np.asarray(block.weight, float)))
            if isinstance(block, nir.Affine):
                bias[target] = bias[target] + np.asarray(block.bias, float)
    state = {}
    for k, n in layers.items():
        i0 = n.w_in * bias[k]  # the bias's steady synaptic current
        state[k] = {"v": n.v_leak.astype(float).copy(), "i": np.zeros_like(i0), "c": i0}
    emitted = {k: np.zeros(n.tau_mem.size, bool) for k, n in layers.items()}
    times: dict[str, list[list[float]]] = {k: [[] for _ in range(n.tau_mem.size)]
                                           for k, n in layers.items()}
    for step in range(spikes_in.shape[0]):
        source = {"input": spikes_in[step].astype(float)}
        source.update({k: e.astype(float) for k, e in emitted.items()})
        for k, n in layers.items():  # spikes of time step * dt arrive
            for src, weight in into[k]:
                state[k]["i"] += n.w_in * (weight @ source[src]) * dt / n.tau_syn
        for k, n in layers.items():  # the step, solved exactly
            s, tm, ts = state[k], n.tau_mem, n.tau_syn
            em, es = np.exp(-dt / tm), np.exp(-dt / ts)
            drive = n.v_leak + n.r * s["c"]
            s["v"] = (drive + (s["v"] - drive) * em
                      + n.r * s["i"] * ts / (ts - tm) * (es - em))
            s["i"] = s["i"] * es
            fired = s["v"] >= n.v_threshold
            s["v"] = np.where(fired, n.v_reset, s["v"])
            emitted[k] = fired
            for j in np.flatnonzero(fired):
                times[k][j].append(round((step + 1) * DT_MS, 9))
    return {k: [np.array(t) for t in v] for k, v in times.items()}


def _run_imported(project: Project, spikes_in: np.ndarray) -> dict[str, list[np.ndarray]]:
    doc = project.to_dict()
    port = next(n for n in doc["network"]["nodes"] if n["kind"] == "encoder")
    port["params"]["times_ms"] = [[round(k * DT_MS, 9) for k in np.flatnonzero(col)]
                                  for col in spikes_in.T]
    doc["simulation"].update(duration_ms=spikes_in.shape[0] * DT_MS, record_spikes="all")
    result = simulate(Project.from_dict(doc))
    out = {}
    for node in doc["network"]["nodes"]:
        if node["kind"] != "population":
            continue
        rows = result.spikes[result.spikes["population"] == node["id"]]
        out[node["id"]] = [np.round(rows[rows["neuron"] == j]["time_ms"].to_numpy(), 9)
                           for j in range(node["size"])]
    return out


def _same_spikes(ours: dict, reference: dict) -> int:
    assert set(ours) == set(reference)
    total = 0
    for k in reference:
        for j, (a, b) in enumerate(zip(ours[k], reference[k], strict=True)):
            assert np.array_equal(a, b), (k, j, a[:10], b[:10])
            total += len(b)
    return total


# ------------------------------------------------------------------------- recurrence
@pytest.mark.parametrize("back", [False, True], ids=["self", "back-to-earlier"])
def test_recurrent_affine_blocks_stay_recurrent(back: bool) -> None:
    graph = _uniform_classifier(back=back)
    report = graph_to_report(graph, DT_MS)
    net = report.project.network
    pairs = {(p.source, p.target) for p in net.projections}
    assert ("lif1", "lif1") in pairs
    assert (("lif2", "lif1") in pairs) == back
    # The recurrent block's weight matrix, scaled by w_in dt / tau_syn (r = 1): exc + inh.
    doc = report.project.to_dict()
    rec = np.zeros((N_HID, N_HID))
    for p in doc["network"]["projections"]:
        if (p["source"], p["target"]) == ("lif1", "lif1"):
            rec += np.asarray(p["connectivity"]["weights"]).T
    np.testing.assert_allclose(rec, graph.nodes["rec"].weight * DT_MS / 5.0, rtol=1e-12)


def test_recurrent_classifier_spikes_match_the_nir_equations() -> None:
    graph = _uniform_classifier(back=True)
    spikes_in = _input_spikes(3000)
    project = graph_to_report(graph, DT_MS).project
    total = _same_spikes(_run_imported(project, spikes_in), _reference(graph, spikes_in))
    assert total > 50  # an active network, not a silent one that trivially agrees


def test_snntorch_style_nested_recurrent_layer_stays_recurrent() -> None:
    # snnTorch exports RSynaptic as a subgraph: input -> lif, lif -> w_rec -> lif -> output.
    rng = np.random.default_rng(2)
    w_rec = rng.normal(0.0, 5.0, (N_HID, N_HID))
    inner = nir.NIRGraph(
        nodes={"input": nir.Input(input_type={"input": np.array([N_HID])}),
               "lif": _cuba(N_HID, np.full(N_HID, 0.02)),
               "w_rec": nir.Linear(weight=w_rec),
               "output": nir.Output(output_type={"output": np.array([N_HID])})},
        edges=[("input", "lif"), ("lif", "w_rec"), ("w_rec", "lif"), ("lif", "output")])
    graph = nir.NIRGraph(
        nodes={"x": nir.Input(input_type={"input": np.array([N_IN])}),
               "fc": nir.Linear(weight=rng.normal(0.0, 30.0, (N_HID, N_IN))),
               "rsyn": inner, "y": nir.Output(output_type={"output": np.array([N_HID])})},
        edges=[("x", "fc"), ("fc", "rsyn"), ("rsyn", "y")])
    net = graph_to_report(graph, DT_MS).project.network
    pops = [n.id for n in net.populations]
    assert len(pops) == 1
    assert (pops[0], pops[0]) in {(p.source, p.target) for p in net.projections}


# ------------------------------------------------------------------------- the input port
def test_input_becomes_a_port_the_user_replaces(tmp_path: Path) -> None:
    from workbench import edits

    report = graph_to_report(_uniform_classifier(), DT_MS)
    doc = report.project.to_dict()
    port = doc["network"]["nodes"][0]
    assert (port["kind"], port["model"], port["size"]) == ("encoder", "spike_times", N_IN)
    assert port["params"]["times_ms"] == [[]] * N_IN  # silent until the user connects it
    assert "choose its model" in port["label"]
    assert any(f"input port {port['id']!r}" in n for n in report.approximations)
    # The page's edit (the inspector's Model select) swaps it for an encoder that runs.
    swapped = edits.set_node_field(doc, port["id"], "model", "poisson")
    swapped = edits.set_node_param(swapped, port["id"], "rate_hz", 200.0)
    swapped["simulation"].update(duration_ms=200.0, record_spikes="all")
    result = simulate(Project.from_dict(swapped))
    assert (result.spikes["population"] == "lif1").sum() > 0


def test_the_inspector_offers_the_encoders_for_the_port() -> None:
    from engine.encoders import ENCODER_MODELS
    from workbench.inspector import node_inspector

    doc = graph_to_report(_uniform_classifier(), DT_MS).project.to_dict()
    port = doc["network"]["nodes"][0]
    widgets = node_inspector(doc, port, [], lambda *a: None)
    selects = [w for w in widgets if getattr(w, "name", "") == "Model"]
    assert selects and set(selects[0].options.values()) == set(ENCODER_MODELS)


# ------------------------------------------------------------------------- approximations
def test_every_import_lists_what_it_approximated() -> None:
    report = graph_to_report(_uniform_classifier(), DT_MS)
    notes = report.approximations
    assert notes[0].startswith("Time step: dt = 0.1 ms (given with the import)")
    assert any(n.startswith("Spikes: a NIR spike is read as a unit pulse lasting 0.1 ms")
               for n in notes)
    assert any(n.startswith("Units: NIR times (s) became ms") for n in notes)
    for node in ("lif1", "lif2"):  # one discretisation note per neuron node
        assert sum(n.startswith(f"Node {node!r} (CubaLIF") for n in notes) == 1
    assert any("Affine biases" in n and "tau_syn = 5 ms" in n for n in notes)
    assert not any("coarse" in n for n in notes)
    coarse = graph_to_report(_uniform_classifier(), 1.0).approximations
    assert any("Node 'lif2'" in n and "coarse" in n for n in coarse)
    # The project keeps the list in its description.
    assert "Import notes:" in report.project.description


def test_dt_default_and_an_unedited_export_are_said(tmp_path: Path) -> None:
    default = graph_to_report(_uniform_classifier()).approximations
    assert default[0].startswith("Time step: dt = 0.1 ms (SpikeStudio's default")
    project = graph_to_report(_uniform_classifier(), DT_MS).project
    export_project(project, "nir", tmp_path / "ours.nir")
    again = import_model(tmp_path / "ours.nir", "nir")
    assert again.exact and again.approximations == [
        "Unedited SpikeStudio export: the project it was written from was restored exactly "
        "from the file's metadata (dt = 0.1 ms); nothing was approximated."]


def test_cli_import_prints_the_approximations(tmp_path: Path) -> None:
    nir.write(tmp_path / "trained.nir", _uniform_classifier())
    done = subprocess.run([sys.executable, "-m", "engine.cli", "import",
                           str(tmp_path / "trained.nir"), "--out", str(tmp_path / "p.json"),
                           "--dt-ms", "0.05"], capture_output=True, text=True, cwd=ROOT,
                          check=False)
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert lines[0].startswith("approximated: Time step: dt = 0.05 ms (given with the import)")
    assert any("Node 'lif1' (CubaLIF, 6 neurons)" in line for line in lines)
    assert json.loads((tmp_path / "p.json").read_text())["simulation"]["dt_ms"] == 0.05


def test_the_page_shows_the_approximations_as_text(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SPIKESTUDIO_HOME", str(tmp_path / "home"))
    from workbench.app import Workbench

    graph = _uniform_classifier()
    # A node name with markup: shown as text, never as HTML.
    graph.nodes["<em>lif1"] = graph.nodes.pop("lif1")
    graph.edges = [tuple("<em>lif1" if x == "lif1" else x for x in e) for e in graph.edges]
    nir.write(tmp_path / "trained.nir", graph)
    app = Workbench(session_id="headless-nir")
    app.file_menu.upload.param.update(filename="trained.nir",
                                      value=(tmp_path / "trained.nir").read_bytes())
    if app.dialog.pending is not None:
        app.dialog.confirm()
    message = app.message_bar.messages.object
    assert "Opened trained.nir. The import approximated:" in message
    assert "Time step: dt = 0.1 ms" in message and 'data-level="warning"' in message
    assert "&lt;em&gt;lif1" in message and "<em>" not in message


# ------------------------------------------------------------------------- biases
def test_if_bias_with_r_not_one_fires_at_the_analytic_period() -> None:
    # NIR IF: dv/dt = r (W x + b); b = 20, r = 5 /s: v rises 0.1 per ms, threshold 1.
    ones = np.ones(2)
    graph = nir.NIRGraph(
        nodes={"x": nir.Input(input_type={"input": np.array([1])}),
               "fc": nir.Affine(weight=np.zeros((2, 1)), bias=20.0 * ones),
               "if": nir.IF(r=5.0 * ones, v_threshold=ones, v_reset=0 * ones),
               "y": nir.Output(output_type={"output": np.array([2])})},
        edges=[("x", "fc"), ("fc", "if"), ("if", "y")])
    doc = graph_to_report(graph, DT_MS).project.to_dict()
    doc["simulation"]["duration_ms"] = 55.0
    times = simulate(Project.from_dict(doc)).spikes.query("neuron == 0")["time_ms"].to_numpy()
    np.testing.assert_allclose(times, [10.0, 20.0, 30.0, 40.0, 50.0], atol=DT_MS + 1e-9)


def test_cubali_bias_goes_through_w_in() -> None:
    # CubaLI: the steady state of a bias b is v = v_leak + r w_in b.
    one = np.ones(1)
    graph = nir.NIRGraph(
        nodes={"x": nir.Input(input_type={"input": np.array([1])}),
               "fc": nir.Affine(weight=np.zeros((1, 1)), bias=0.5 * one),
               "li": nir.CubaLI(tau_syn=5e-3 * one, tau_mem=1e-2 * one, r=2.0 * one,
                                v_leak=0 * one, w_in=3.0 * one),
               "y": nir.Output(output_type={"output": np.array([1])})},
        edges=[("x", "fc"), ("fc", "li"), ("li", "y")])
    project = graph_to_report(graph, DT_MS).project
    assert project.network.node("li").params["i_offset"] == pytest.approx(3.0)


def _hetero_classifier(back: bool = True) -> nir.NIRGraph:
    """The classifier as training leaves it: biases and tau_mem differ between neurons."""
    return _classifier(np.linspace(0.5, 1.1, N_HID), np.array([0.2, -0.3, 0.6]),
                       np.linspace(0.01, 0.03, N_HID), np.array([0.008, 0.012, 0.02]),
                       back=back)


def test_per_neuron_biases_and_time_constants_import_as_lists() -> None:
    graph = _hetero_classifier()
    project = graph_to_report(graph, DT_MS).project
    lif1, lif2 = project.network.node("lif1"), project.network.node("lif2")
    np.testing.assert_allclose(lif1.params["i_offset"], np.linspace(0.5, 1.1, N_HID))
    np.testing.assert_allclose(lif1.params["tau_m"], np.linspace(10.0, 30.0, N_HID))
    np.testing.assert_allclose(lif2.params["i_offset"], [0.2, -0.3, 0.6])
    assert lif1.params["v_thresh"] == 1.0  # the same for every neuron: a number
    assert lif1.params["tau_syn_exc"] == pytest.approx(5.0)


def test_a_large_per_neuron_population_keeps_its_arrays_in_the_companion(tmp_path) -> None:
    from engine.hetero.values import INLINE_LIMIT
    from engine.project import load_project, save_project

    n = INLINE_LIMIT + 1
    ones = np.ones(n)
    taus = np.linspace(0.01, 0.02, n)
    graph = nir.NIRGraph(
        nodes={"x": nir.Input(input_type={"input": np.array([1])}),
               "w": nir.Linear(weight=np.ones((n, 1))),
               "big": nir.LIF(tau=taus, r=ones, v_leak=0 * ones, v_threshold=ones,
                              v_reset=0 * ones),
               "y": nir.Output(output_type={"output": np.array([n])})},
        edges=[("x", "w"), ("w", "big"), ("big", "y")])
    project = graph_to_report(graph, DT_MS).project
    assert project.network.node("big").params["tau_m"] == {"array": "big.tau_m"}
    save_project(project, tmp_path / "big.json")
    assert (tmp_path / "big.arrays.npz").exists()
    again = load_project(tmp_path / "big.json")
    np.testing.assert_allclose(again.arrays["big.tau_m"], taus * 1e3)


def test_reset_above_threshold_names_the_neuron() -> None:
    graph = _hetero_classifier()
    graph.nodes["lif2"].v_reset = np.array([0.0, 1.5, 0.0])
    with pytest.raises(SpikeStudioError, match=r"'lif2'.*v_reset \(1.5\).*\(neuron 1\)"):
        graph_to_report(graph, DT_MS)


def test_trained_hetero_classifier_runs_and_matches_the_nir_equations() -> None:
    graph = _hetero_classifier()
    spikes_in = _input_spikes(3000)
    project = graph_to_report(graph, DT_MS).project
    total = _same_spikes(_run_imported(project, spikes_in), _reference(graph, spikes_in))
    assert total > 50


# ------------------------------------------------------------------------- round trips
_DYNAMICS = ("tau_mem", "tau_syn", "v_leak", "v_threshold", "v_reset")


def _effective(graph: nir.NIRGraph) -> tuple[dict, dict]:
    """What a graph means for its CubaLIF layers: per (source, target) the jump of R*I one
    spike causes (r w_in W dt / tau_syn, summed over parallel blocks) and per layer the
    steady bias drive r w_in b."""
    dt = DT_MS * 1e-3
    weights: dict[tuple[str, str], np.ndarray] = {}
    biases: dict[str, np.ndarray] = {}
    for a, b in graph.edges:
        block = graph.nodes[b]
        if not isinstance(block, (nir.Affine, nir.Linear)):
            continue
        (target,) = [t for s, t in graph.edges if s == b]
        layer = graph.nodes[target]
        scale = (layer.r * layer.w_in)[:, None]
        weights[(a, target)] = (weights.get((a, target), 0.0)
                                + scale * np.asarray(block.weight) * dt / layer.tau_syn[:, None])
        if isinstance(block, nir.Affine):
            biases[target] = biases.get(target, 0.0) + scale[:, 0] * block.bias
    return weights, biases


def _assert_same_graph(a: nir.NIRGraph, b: nir.NIRGraph) -> None:
    """The same nodes (names, types, fields, array shapes and dtypes, values to the last
    digits: a time goes s -> ms -> s, which rounds in the 16th digit) and the same edges."""
    assert sorted(map(tuple, a.edges)) == sorted(map(tuple, b.edges))
    assert a.nodes.keys() == b.nodes.keys()
    for name, x in a.nodes.items():
        y = b.nodes[name]
        assert type(x) is type(y), name
        fx = {k: v for k, v in vars(x).items() if k != "metadata"}
        fy = {k: v for k, v in vars(y).items() if k != "metadata"}
        assert fx.keys() == fy.keys(), name
        for field, vx in fx.items():
            vy = fy[field]
            if isinstance(vx, dict):
                assert {k: np.asarray(v).tolist() for k, v in vx.items()} == \
                    {k: np.asarray(v).tolist() for k, v in vy.items()}, (name, field)
                continue
            vx, vy = np.asarray(vx), np.asarray(vy)
            assert (vx.shape, vx.dtype) == (vy.shape, vy.dtype), (name, field)
            np.testing.assert_allclose(vy, vx, rtol=1e-13, atol=0, err_msg=f"{name}.{field}")


def test_nir_project_nir_keeps_the_per_neuron_arrays(tmp_path: Path) -> None:
    """NIR -> project -> NIR: the same layers (types, shapes, per-neuron arrays), input,
    weights and biases; written in SpikeStudio's conventions (r = 1, w_in = tau_syn / dt,
    one Linear per sign), so what they mean is compared; mapped again, the same graph."""
    original = _hetero_classifier()
    project = graph_to_report(original, DT_MS).project
    export_project(project, "nir", tmp_path / "again.nir")
    again = nir.read(tmp_path / "again.nir")  # at its defaults, as other tools call it
    for name, node in original.nodes.items():
        if isinstance(node, nir.CubaLIF):
            assert type(again.nodes[name]) is nir.CubaLIF
            for field in _DYNAMICS:
                np.testing.assert_allclose(getattr(again.nodes[name], field),
                                           getattr(node, field), rtol=1e-12, err_msg=field)
    assert list(again.nodes["input"].input_type["input"]) == [N_IN]
    w0, b0 = _effective(original)
    w1, b1 = _effective(again)
    assert set(w0) == set(w1)
    for key in w0:
        np.testing.assert_allclose(w1[key], w0[key], rtol=1e-6, atol=1e-12, err_msg=str(key))
    for key in b0:
        np.testing.assert_allclose(b1.get(key, 0.0), b0[key], rtol=1e-12, atol=1e-15)
    # That graph as another tool leaves it (no SpikeStudio document): mapped, it exports to
    # the very same graph, and runs with the same spikes.
    raw = json.loads(again.metadata["spikestudio"])
    del raw["document"]
    again.metadata["spikestudio"] = json.dumps(raw)
    nir.write(tmp_path / "edited.nir", again)
    mapped = import_model(tmp_path / "edited.nir", "nir").project
    export_project(mapped, "nir", tmp_path / "third.nir")
    _assert_same_graph(nir.read(tmp_path / "third.nir"), again)
    spikes_in = _input_spikes(2000)
    assert _run_imported(mapped, spikes_in).keys() == {"lif1", "lif2"}
    _same_spikes(_run_imported(mapped, spikes_in), _run_imported(project, spikes_in))


def test_project_nir_project_restores_a_hetero_project(tmp_path: Path) -> None:
    project = graph_to_report(_hetero_classifier(), DT_MS).project
    report = export_project(project, "nir", tmp_path / "h.nir")
    assert not any("i_offset" in w for w in report.warnings)  # carried as Affine biases
    back = import_model(tmp_path / "h.nir", "nir")
    assert back.project.to_dict() == project.to_dict()
    assert back.approximations[0].startswith("Unedited SpikeStudio export")


def test_biases_no_projection_carries_reach_other_tools(tmp_path: Path) -> None:
    """A population's i_offset is in the NIR graph even when no projection reaches it: an
    Affine of zero weights from the input (or a self-driven network's port) carries it."""
    rest = {"v_rest": 0.0, "v_reset": 0.0, "v_init": 0.0, "v_thresh": 15.0}
    pops = [{"id": "a", "kind": "population", "model": "lif", "size": 2,
             "params": {"i_offset": [16.0, 18.0], "tau_m": 10.0, **rest}},
            {"id": "b", "kind": "population", "model": "lif", "size": 1,
             "params": {"i_offset": 20.0, **rest}}]
    doc = {"format": "spikestudio-project", "version": 1, "name": "biased",
           "network": {"nodes": pops, "projections": []},
           "simulation": {"dt_ms": DT_MS, "duration_ms": 100.0, "record_spikes": "all"}}
    project = Project.from_dict(doc)
    report = export_project(project, "nir", tmp_path / "b.nir")
    assert not any("i_offset" in w for w in report.warnings)
    graph = nir.read(tmp_path / "b.nir")
    carried = {b: graph.nodes[a].bias.tolist() for a, b in graph.edges
               if isinstance(graph.nodes[a], nir.Affine)}
    assert carried == {"a": [16.0, 18.0], "b": [20.0]}  # LIF: r = 1, the bias is R*I
    # Mapped alone (as another tool leaves it), the same biases and spikes come back.
    raw = json.loads(graph.metadata["spikestudio"])
    del raw["document"]
    graph.metadata["spikestudio"] = json.dumps(raw)
    nir.write(tmp_path / "edited.nir", graph)
    mapped = import_model(tmp_path / "edited.nir", "nir").project
    assert mapped.network.node("a").params["i_offset"] == [16.0, 18.0]
    assert mapped.network.node("b").params["i_offset"] == 20.0
    a, b = simulate(project).spikes, simulate(mapped).spikes
    assert len(a) > 0 and a["time_ms"].tolist() == b["time_ms"].tolist()
