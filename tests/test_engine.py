"""Simulator behaviour: delays, inputs, connectivity, counts, guards, reproducibility."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from engine.core.build import build
from engine.errors import MemoryBudgetError, SimulationError
from engine.simulator import simulate
from tests.helpers import connection, encoder, lif, monitor, project

QUIET = dict(tau_m=10.0, v_rest=-70.0, v_reset=-70.0, v_thresh=-50.0, v_init=-70.0, t_ref=2.0)


@pytest.mark.parametrize("delay_ms", [0.0, 0.1, 1.0, 7.3])
def test_spike_arrives_exactly_one_delay_later(delay_ms):
    """A pre spike drives the post neuron (huge weight) to fire one step after pre + delay.

    A long refractory period keeps the post neuron to one spike per input spike.
    """
    p = project(
        [encoder("pre", "spike_times", times_ms=[[10.0, 80.0]]),
         lif("post", **{**QUIET, "t_ref": 60.0}), monitor("vm", "post", variables=("i_exc",))],
        [connection("syn", "pre", "post", weight=1e4, delay_ms=delay_ms)], duration_ms=150.0)
    result = simulate(p)
    rec = result.traces["vm"]
    onset = rec.time_ms[np.argmax(rec.values["i_exc"][:, 0] > 0)]
    # Recorded currents are left limits, so the jump at t shows from the next sample.
    assert onset == pytest.approx(10.0 + delay_ms + 0.1)
    post = result.spikes.query("population == 'post'")["time_ms"].to_numpy()
    np.testing.assert_allclose(post, [10.0 + delay_ms + 0.1, 80.0 + delay_ms + 0.1])


def test_per_synapse_delays_are_drawn_and_respected():
    p = project(
        [encoder("pre", "spike_times", times_ms=[[5.0]]),
         lif("post", 200, **{**QUIET, "t_ref": 100.0})],
        [connection("syn", "pre", "post", weight=1e4,
                    delay_ms={"dist": "uniform", "low": 1.0, "high": 4.0})], duration_ms=20.0)
    compiled = build(p)
    delays = compiled.syn_delay * 0.1
    result = simulate(p)
    post = result.spikes.query("population == 'post'").sort_values("neuron")
    np.testing.assert_allclose(post["time_ms"].to_numpy(), 5.0 + delays + 0.1, atol=1e-9)
    assert delays.min() >= 1.0 and delays.max() <= 4.0 and np.unique(delays).size > 10


def test_poisson_rate_and_cv():
    p = project([encoder("noise", "poisson", 200, rate_hz=40.0)], duration_ms=10_000.0)
    spikes = simulate(p).spikes
    rate = len(spikes) / 200 / 10.0
    assert abs(rate - 40.0) < 4 * np.sqrt(40.0 * 200 * 10) / 2000  # 4 sigma of the count
    isis = np.concatenate([np.diff(g["time_ms"].to_numpy())
                           for _, g in spikes.groupby("neuron")])
    cv = isis.std() / isis.mean()
    assert 0.95 < cv < 1.05


def test_poisson_rate_table_switches_rate():
    p = project([encoder("noise", "poisson", 500, rate_hz=0.0,
                         rate_table=[[0.0, 5.0], [500.0, 50.0]])], duration_ms=1000.0)
    t = simulate(p).spikes["time_ms"].to_numpy()
    early, late = (t < 500).sum() / 500 / 0.5, (t >= 500).sum() / 500 / 0.5
    assert abs(early - 5.0) < 1.0 and abs(late - 50.0) < 3.0


def test_regular_and_latency_and_delta_encoders():
    p = project([
        encoder("reg", "regular", 2, rate_hz=100.0, phase_ms=1.0, phase_step_ms=0.5),
        encoder("lat", "latency", 3, values=[1.0, 0.5, 0.05], t_max_ms=20.0, x_min=0.1),
        encoder("dlt", "delta", 2, signal=[[0.0, 0.0], [10.0, 1.0], [20.0, 0.0]],
                threshold=0.25, sample_ms=1.0),
    ], duration_ms=30.0)
    spikes = simulate(p).spikes
    reg = spikes.query("population == 'reg'")
    np.testing.assert_allclose(reg.query("neuron == 0")["time_ms"], [1.0, 11.0, 21.0])
    np.testing.assert_allclose(reg.query("neuron == 1")["time_ms"], [1.5, 11.5, 21.5])
    lat = spikes.query("population == 'lat'").sort_values("neuron")
    np.testing.assert_allclose(lat["time_ms"], [0.0, 10.0])  # 0.05 < x_min stays silent
    dlt = spikes.query("population == 'dlt'")
    assert dlt.query("neuron == 0")["time_ms"].tolist() == [10.0]  # ON at the rise
    assert dlt.query("neuron == 1")["time_ms"].tolist() == [20.0]  # OFF at the fall


def test_step_current_acts_between_start_and_stop():
    p = project([encoder("step", "step_current", amplitude=30.0, start_ms=20.0, stop_ms=40.0),
                 lif("n", **{**QUIET, "v_thresh": 0.0}), monitor("vm", "n")],
                [connection("in", "step", "n")], duration_ms=60.0)
    rec = simulate(p).traces["vm"]
    v, t = rec.values["v"][:, 0], rec.time_ms
    assert np.all(v[t <= 20.0] == -70.0)
    assert v[np.searchsorted(t, 20.1)] > -70.0
    expected_at_40 = -70.0 + 30.0 * (1 - np.exp(-20.0 / 10.0))
    assert v[np.searchsorted(t, 40.0)] == pytest.approx(expected_at_40)


def test_connectivity_rules():
    nodes = [lif("a", 50, **QUIET), lif("b", 50, **QUIET)]
    rules = [
        connection("full", "a", "b", rule="all_to_all"),
        connection("self", "a", "a", rule="all_to_all",
                   connectivity={"allow_autapses": False}),
        connection("diag", "a", "b", rule="one_to_one"),
        connection("indeg", "a", "b", rule="fixed_indegree", connectivity={"k": 7}),
        connection("prob", "b", "a", rule="fixed_probability", connectivity={"p": 0.2}),
    ]
    c = build(project(nodes, rules))
    counts = dict(zip(c.proj_ids, np.diff(c.proj_syn_off), strict=True))
    assert counts["full"] == 2500 and counts["self"] == 2450 and counts["diag"] == 50
    assert counts["indeg"] == 350
    assert abs(counts["prob"] - 500) < 4 * np.sqrt(2500 * 0.2 * 0.8)
    b = c.proj_ids.index("indeg")
    posts = c.syn_post[c.proj_syn_off[b]:c.proj_syn_off[b + 1]]
    assert np.all(np.bincount(posts, minlength=50) == 7)
    b = c.proj_ids.index("self")
    rowptr = c.rowptr[c.proj_row_off[b]:c.proj_row_off[b] + 51] - c.proj_syn_off[b]
    pre = np.repeat(np.arange(50), np.diff(rowptr))
    assert not np.any(pre == c.syn_post[c.proj_syn_off[b]:c.proj_syn_off[b + 1]])


def test_weight_distributions_are_clipped_to_sign():
    p = project([lif("a", 100, **QUIET), lif("b", 100, **QUIET)],
                [connection("e", "a", "b", weight={"dist": "normal", "mean": 0.1, "std": 1.0}),
                 connection("i", "b", "a", weight={"dist": "normal", "mean": -0.1, "std": 1.0},
                            receptor="inh")])
    c = build(p)
    e = c.syn_weight[c.proj_syn_off[0]:c.proj_syn_off[1]]
    i = c.syn_weight[c.proj_syn_off[1]:c.proj_syn_off[2]]
    assert e.min() == 0.0 and (e > 0).mean() > 0.4 and i.max() == 0.0


def _cuba(seed: int = 7, duration_ms: float = 300.0, n: int = 1000):
    params = dict(tau_m=20.0, v_rest=-49.0, v_reset=-60.0, v_thresh=-50.0, t_ref=0.0,
                  tau_syn_exc=5.0, tau_syn_inh=10.0, v_init=-60.0, v_init_spread=10.0)
    ne = int(0.8 * n)
    projections = [
        connection(f"{s}{t}", s, t, weight=1.62 if s == "e" else -9.0,
                   receptor="exc" if s == "e" else "inh", rule="fixed_probability",
                   connectivity={"p": 80 / n}, delay_ms=0.5)
        for s in "ei" for t in "ei"]
    return project([lif("e", ne, **params), lif("i", n - ne, **params)], projections,
                   duration_ms=duration_ms, seed=seed)


def test_same_seed_same_spikes_whatever_the_chunking():
    a = simulate(_cuba(), chunk_wall_s=0.1).spikes
    b = simulate(_cuba(), chunk_wall_s=1e-6).spikes  # forces many tiny chunks
    c = simulate(_cuba(seed=8)).spikes
    assert len(a) > 1000
    assert a.equals(b)
    assert not a.equals(c)


def test_counts_are_consistent_with_spikes_and_fan_out():
    p = _cuba()
    result = simulate(p)
    compiled = build(p)
    counts = result.counts
    per_node = counts.groupby("node", observed=True)["spikes"].sum()
    assert per_node["e"] == (result.spikes["population"] == "e").sum()
    # Every spike of e delivers one event per outgoing synapse of that neuron.
    out_degree = np.zeros(compiled.n_neurons, np.int64)
    for b in range(len(compiled.proj_ids)):
        src = compiled.proj_src[b]
        n_pre = compiled.node_start[src + 1] - compiled.node_start[src]
        rows = compiled.rowptr[compiled.proj_row_off[b]:compiled.proj_row_off[b] + n_pre + 1]
        out_degree[compiled.node_start[src]:compiled.node_start[src + 1]] += np.diff(rows)
    sizes = dict(e=0, i=800)
    gids = result.spikes["neuron"].to_numpy() + result.spikes["population"].map(sizes).to_numpy()
    # Static synapses count their events when the spike is propagated (at emission).
    expected = out_degree[gids].sum()
    assert result.projection_counts["syn_events"].sum() == expected
    assert counts["neuron_updates"].sum() == 1000 * 3000
    assert (counts["active_updates"] <= counts["neuron_updates"]).all()


def test_cancel_returns_partial_result():
    cancel = threading.Event()
    seen = []

    def progress(p):
        seen.append(p.t_ms)
        if p.t_ms > 50:
            cancel.set()

    result = simulate(_cuba(duration_ms=5000.0), progress=progress, cancel=cancel,
                      chunk_wall_s=0.01)
    assert result.status == "cancelled"
    assert 50 < result.duration_ms < 5000
    assert result.spikes["time_ms"].max() <= result.duration_ms
    full = simulate(_cuba(duration_ms=5000.0)).spikes
    prefix = full[full["time_ms"] <= result.duration_ms].reset_index(drop=True)
    assert prefix.equals(result.spikes)


def test_memory_guard_refuses_huge_network():
    p = project([lif("a", 100_000), lif("b", 100_000)],
                [connection("big", "a", "b")], memory_budget_mb=1024)
    with pytest.raises(MemoryBudgetError, match=r"memory_budget_mb.*synapses of big"):
        build(p)


def test_invalid_state_names_neuron_and_time():
    # A huge negative input makes the quadratic term of the Izhikevich model explode.
    p = project([encoder("drive", "constant_current", amplitude=-1e4),
                 {"id": "z", "kind": "population", "model": "izhikevich", "size": 3,
                  "params": {"preset": "regular_spiking"}}],
                [connection("in", "drive", "z", weight=1e4)], duration_ms=20.0)
    with pytest.raises(SimulationError, match=r"t = [0-9.]+ ms: neuron 0 of 'z'") as info:
        simulate(p)
    assert info.value.partial_result.status == "error"


@pytest.mark.parametrize("preset,bursty", [("regular_spiking", False), ("chattering", True)])
def test_izhikevich_presets_fire(preset, bursty):
    p = project([encoder("drive", "constant_current", amplitude=10.0),
                 {"id": "z", "kind": "population", "model": "izhikevich", "size": 1,
                  "params": {"preset": preset}}],
                [connection("in", "drive", "z")], duration_ms=500.0)
    t = simulate(p).spikes["time_ms"].to_numpy()
    assert len(t) > 5
    isi = np.diff(t)
    # Chattering fires bursts: short intra-burst and long inter-burst intervals.
    assert (isi.max() / isi.min() > 3) == bursty


def test_memory_per_synapse():
    c = build(_cuba(n=2000))
    assert c.synapse_bytes() / c.n_synapses <= 10


def test_weight_stats_match_numpy():
    from engine.core.kernels import weight_stats

    rng = np.random.default_rng(3)
    w = rng.uniform(0.0, 2.0, 100_001).astype(np.float32)
    mean, std, counts = weight_stats(w, 0.0, 2.0, 40)
    np.testing.assert_allclose(mean, w.astype(np.float64).mean(), rtol=1e-12)
    np.testing.assert_allclose(std, w.astype(np.float64).std(), rtol=1e-9)
    expected = np.histogram(w, np.linspace(0.0, 2.0, 41))[0]
    assert counts.sum() == w.size
    assert np.abs(counts - expected).max() <= 2  # only values exactly on an edge may differ
    assert weight_stats(np.empty(0, np.float32), 0.0, 1.0, 4)[2].sum() == 0
