"""Issue 13 (5): one neuron up close (engine.analysis.neuron_probe, engine.analysis.neuron_stats).

The on-demand traces must equal, value for value, what a state monitor on the neuron records
in the original run; synapses, arrivals, ISI histogram, spike-triggered average and rankings
are checked against networks and spike trains built by hand.
"""

from __future__ import annotations

import numpy as np
import pytest

from engine.analysis.neuron_probe import (
    arrived_spikes,
    current_inputs,
    incoming_synapses,
    outgoing_synapses,
    probe_neuron,
    probe_traces,
    synapse_summary,
)
from engine.analysis.neuron_stats import (
    input_current,
    isi_histogram,
    rank_neurons,
    spike_triggered_average,
)
from engine.core.build import build
from engine.errors import SpikeStudioError
from engine.neurons import NEURON_MODELS
from engine.simulator import Simulation, simulate
from engine.spike_stats import neuron_statistics
from tests.helpers import connection, encoder, monitor, project

STDP = {"rule": "stdp", "a_plus": 0.05, "a_minus": 0.055, "tau_plus": 16.8,
        "tau_minus": 33.7, "w_min": 0.0, "w_max": 4.0}
PARAMS = {"lif": {"v_init_spread": 10.0, "tau_syn_exc": 3.0},
          "izhikevich": {"preset": "regular_spiking", "v_init_spread": 5.0},
          "adaptive_lif": {"v_init_spread": 10.0}}
WEIGHT = {"lif": 12.0, "izhikevich": 12.0, "adaptive_lif": 12.0}
WATCHED = (0, 7)


def _network(model: str, plastic: bool, spread: bool, interval_ms: float = 0.1,
             duration_ms: float = 200.0):
    """Poisson inputs onto a recurrent population with a state monitor on two neurons."""
    variables = list(NEURON_MODELS[model].state_variables)
    delay = {"dist": "uniform", "low": 0.5, "high": 3.0} if spread else 1.5
    nodes = [encoder("inp", "poisson", 60, rate_hz=40.0),
             {"id": "pop", "kind": "population", "model": model, "size": 20,
              "params": PARAMS[model]},
             monitor("mon", "pop", variables, WATCHED, interval_ms)]
    w = WEIGHT[model]
    projections = [
        connection("ff", "inp", "pop", {"dist": "uniform", "low": 0.0, "high": w},
                   "fixed_probability", delay_ms=delay, connectivity={"p": 0.3},
                   plasticity=dict(STDP, w_max=w) if plastic else None),
        connection("rec", "pop", "pop", w / 3, "fixed_probability", delay_ms=delay,
                   connectivity={"p": 0.2}),
        connection("inh", "pop", "pop", -w / 2, "fixed_probability", delay_ms=0.7,
                   receptor="inh", connectivity={"p": 0.1}),
    ]
    return project(nodes, projections, duration_ms=duration_ms, seed=11)


def _assert_same(recorded, probed, column: int, every: int = 1) -> None:
    assert set(probed.values) == set(recorded.values)
    for var, values in recorded.values.items():
        mine = probed.values[var][::every, 0]
        assert mine.shape == values[:, column].shape
        # Exactly equal: the same run, recorded differently.
        np.testing.assert_array_equal(mine, values[:, column], err_msg=var)
    np.testing.assert_array_equal(probed.time_ms[::every], recorded.time_ms)


@pytest.mark.parametrize("model, plastic, spread", [
    ("lif", True, False),           # STDP, one delay per projection
    ("lif", False, True),           # per-synapse delays
    ("izhikevich", True, True),     # another model, STDP with per-synapse delays
    ("adaptive_lif", True, False),  # a model with its own state (theta)
])
def test_on_demand_traces_equal_those_recorded_in_the_original_run(model, plastic, spread):
    proj = _network(model, plastic, spread)
    result = simulate(proj)
    assert (result.spikes["population"] == "pop").sum() > 20, "the network must be active"
    for column, neuron in enumerate(WATCHED):
        traces = probe_traces(proj, "pop", neuron)
        _assert_same(result.traces["mon"], traces, column)
    if plastic:  # learning happened, so the equality covers changing weights
        rec = result.weights["ff"]
        assert not np.array_equal(rec.snapshots[0], rec.snapshots[-1])


def test_a_monitor_sampling_every_fifth_step_holds_every_fifth_probed_value():
    proj = _network("lif", True, True, interval_ms=0.5)
    result = simulate(proj)
    _assert_same(result.traces["mon"], probe_traces(proj, "pop", 7), 1, every=5)


def test_runs_stopped_early_or_continued_past_their_duration_are_reproduced():
    proj = _network("lif", True, True, duration_ms=100.0)
    sim = Simulation(proj)
    short = sim.run_for(37.3)  # as a paused or cancelled run
    probe = probe_neuron(proj, "pop", 0, duration_ms=short.duration_ms)
    assert probe.duration_ms == pytest.approx(37.3)
    _assert_same(short.traces["mon"], probe.traces, 0)
    sim.run_for(62.7)
    longer = sim.run_for(20.0)  # continued past the project's 100 ms
    assert longer.duration_ms == pytest.approx(120.0)
    probe = probe_neuron(proj, "pop", 0, duration_ms=longer.duration_ms)
    _assert_same(longer.traces["mon"], probe.traces, 0)
    # Plastic weights in the tables are those at the end of that run.
    final = sim.syn_weight[probe.incoming["synapse"].to_numpy()]
    np.testing.assert_array_equal(probe.incoming["weight"].to_numpy(), final)
    assert probe.incoming["plastic"].any()
    assert not np.array_equal(probe.incoming["weight"], probe.incoming["weight_initial"])


def test_the_probe_records_one_neuron_and_no_spikes():
    proj = _network("lif", False, False)
    probe = probe_neuron(proj, "pop", 3, ["v"])
    assert list(probe.traces.values) == ["v"] and probe.traces.values["v"].shape[1] == 1
    assert probe.traces.neurons.tolist() == [3] and probe.status == "completed"


# ---------------------------------------------------------------------- a network by hand
def _hand():
    """a (spike times) and b (inhibitory) onto p; p onto q; a current input onto p."""
    nodes = [
        encoder("a", "spike_times", 3, times_ms=[[1.0], [2.0, 5.0], []]),
        encoder("b", "spike_times", 2, times_ms=[[3.0], [4.0]]),
        encoder("drive", "constant_current", 1, amplitude=2.0),
        {"id": "p", "kind": "population", "model": "lif", "size": 4,
         "params": {"tau_syn_exc": 2.0, "tau_syn_inh": 4.0}},
        {"id": "q", "kind": "population", "model": "lif", "size": 2, "params": {}},
    ]
    projections = [
        connection("a_p", "a", "p", 1.0, "matrix", delay_ms=1.0, connectivity={
            "weights": [[0, 1.5, 0, 0], [0, 2.0, 0.5, 0], [0, 0, 0, 0]]}),
        connection("b_p", "b", "p", -1.0, "matrix", delay_ms=0.5, receptor="inh",
                   connectivity={"weights": [[0, -3.0, 0, 0], [0, 0, 0, -1.0]]}),
        connection("p_q", "p", "q", 1.0, "matrix", delay_ms=2.0, connectivity={
            "weights": [[0, 0], [0.7, 0.2], [0, 0], [0, 0]]}),
        connection("drive_p", "drive", "p", 0.25),
    ]
    return project(nodes, projections, duration_ms=20.0)


def test_incoming_and_outgoing_synapses_of_a_hand_built_network():
    proj = _hand()
    compiled = build(proj)
    inc = incoming_synapses(compiled, "p", 1)
    assert inc["projection"].tolist() == ["a_p", "a_p", "b_p"]
    assert inc["source"].tolist() == ["a", "a", "b"]
    assert inc["receptor"].tolist() == ["exc", "exc", "inh"]
    assert inc["pre"].tolist() == [0, 1, 0]
    assert inc["weight"].tolist() == [1.5, 2.0, -3.0]
    assert inc["delay_ms"].tolist() == pytest.approx([1.0, 1.0, 0.5])
    assert not inc["plastic"].any()
    assert incoming_synapses(compiled, "p", 0).empty
    assert incoming_synapses(compiled, "p", 3)["pre"].tolist() == [1]
    out = outgoing_synapses(compiled, "p", 1)
    assert out["target"].tolist() == ["q", "q"] and out["post"].tolist() == [0, 1]
    assert out["weight"].tolist() == pytest.approx([0.7, 0.2])
    assert out["delay_ms"].tolist() == pytest.approx([2.0, 2.0])
    assert outgoing_synapses(compiled, "p", 0).empty
    assert outgoing_synapses(compiled, "a", 1)["post"].tolist() == [1, 2]
    cur = current_inputs(proj, compiled, "p", 1)
    assert cur.to_dict("records") == [{"source": "drive", "projections": "drive_p",
                                       "channel": -1, "gain": 0.25}]
    assert current_inputs(proj, compiled, "q", 0).empty


def test_spikes_arrive_after_their_delay_and_show_in_the_next_sample():
    proj = _hand()
    result = simulate(proj)
    probe = probe_neuron(proj, "p", 1)
    arrived = arrived_spikes(probe.incoming, result.spikes, result.duration_ms, result.dt_ms)
    # a0 at 1.0 and a1 at 2.0, 5.0 (delay 1.0); b0 at 3.0 (delay 0.5).
    assert arrived["time_ms"].tolist() == pytest.approx([2.0, 3.0, 3.5, 6.0])
    assert arrived["spike_ms"].tolist() == pytest.approx([1.0, 2.0, 3.0, 5.0])
    assert arrived["source"].tolist() == ["a", "a", "b", "a"]
    assert arrived["pre"].tolist() == [0, 1, 0, 1]
    assert arrived["weight"].tolist() == [1.5, 2.0, -3.0, 2.0]
    i_exc = probe.traces.values["i_exc"][:, 0]
    i_inh = probe.traces.values["i_inh"][:, 0]
    # The current jumps at the arrival; the first sample after it shows the jump.
    jumps = np.flatnonzero(np.diff(i_exc) > 0) + 1
    assert (jumps * 0.1).tolist() == pytest.approx([2.1, 3.1, 6.1])
    assert np.flatnonzero(i_inh < 0)[0] * 0.1 == pytest.approx(3.6)
    # Arrivals the run did not take in (at or after its end) are left out.
    assert arrived_spikes(probe.incoming, result.spikes, 3.5, 0.1)["time_ms"].tolist() == \
        pytest.approx([2.0, 3.0])


def test_synapse_summary_per_projection_by_hand():
    proj = _hand()
    result = simulate(proj)
    probe = probe_neuron(proj, "p", 1)
    arrived = arrived_spikes(probe.incoming, result.spikes, result.duration_ms, result.dt_ms)
    inc = synapse_summary(probe.incoming, arrived)
    assert inc["projection"].tolist() == ["a_p", "b_p"]
    assert inc["source"].tolist() == ["a", "b"] and inc["synapses"].tolist() == [2, 1]
    assert inc["weight_mean"].tolist() == [1.75, -3.0]
    assert inc["weight_min"].tolist() == [1.5, -3.0] and inc["weight_max"].tolist() == [2.0, -3.0]
    assert inc["delay_min_ms"].tolist() == pytest.approx([1.0, 0.5])
    assert inc["spikes"].tolist() == [3, 1]
    out = synapse_summary(probe.outgoing)
    assert out["target"].tolist() == ["q"] and out["synapses"].tolist() == [2]
    assert out["weight_mean"].iloc[0] == pytest.approx(0.45) and "spikes" not in out
    assert synapse_summary(incoming_synapses(build(proj), "p", 0)).empty


def test_an_encoder_has_synapses_but_no_traces():
    probe = probe_neuron(_hand(), "a", 1)
    assert probe.traces is None and probe.outgoing["post"].tolist() == [1, 2]
    with pytest.raises(SpikeStudioError, match="^population: 'a' is an input encoder"):
        probe_traces(_hand(), "a", 1)


@pytest.mark.parametrize("call, field", [
    (lambda p: probe_traces(p, "nope", 0), "population"),
    (lambda p: probe_traces(p, "p", 4), "neuron"),
    (lambda p: probe_traces(p, "p", 0, ["u"]), "variables"),
    (lambda p: probe_traces(p, "p", 0, []), "variables"),
    (lambda p: probe_neuron(p, "p", 0, duration_ms=-1.0), "duration_ms"),
])
def test_bad_requests_name_the_field(call, field):
    with pytest.raises(SpikeStudioError, match=f"^{field}: "):
        call(_hand())


# ---------------------------------------------------------------------- statistics by hand
def test_isi_histogram_counts_by_hand():
    counts, edges = isi_histogram(np.array([6.0, 0.0, 3.0, 1.0]), bins=3)
    np.testing.assert_allclose(edges, [0, 1, 2, 3])
    assert counts.tolist() == [0, 1, 2]  # intervals 1, 2, 3 (the last edge is closed)
    counts, edges = isi_histogram(np.array([4.0]), bins=2)
    assert counts.tolist() == [0, 0] and edges.tolist() == [0.0, 0.5, 1.0]


def test_spike_triggered_average_by_hand():
    trace = np.arange(100, dtype=float)
    lags, mean, n = spike_triggered_average(trace, np.array([10.0, 20.0, 3.0, 120.0]),
                                            window_ms=5.0, dt_ms=1.0)
    assert n == 2  # 3.0: its window starts before the trace; 120.0: after its end
    assert lags.tolist() == [-5, -4, -3, -2, -1, 0]
    assert mean.tolist() == [10, 11, 12, 13, 14, 15]
    lags, mean, n = spike_triggered_average(trace, np.array([]), 2.0, 1.0)
    assert n == 0 and np.isnan(mean).all() and len(lags) == 3
    with pytest.raises(SpikeStudioError, match="^window_ms: "):
        spike_triggered_average(trace, np.array([1.0]), -1.0, 1.0)


def test_input_current_is_the_net_synaptic_input():
    result = simulate(_hand())
    probe = probe_neuron(_hand(), "p", 1)
    net = input_current(probe.traces)
    np.testing.assert_array_equal(net, probe.traces.values["i_exc"][:, 0]
                                  + probe.traces.values["i_inh"][:, 0])
    assert result.duration_ms == 20.0


def _ranked():
    times = [[5.0, 15.0, 25.0], [2.0, 3.0, 4.0, 40.0], [], [1.0]]
    proj = project([encoder("src", "spike_times", 4, times_ms=times)], duration_ms=100.0)
    return simulate(proj)


@pytest.mark.parametrize("by, order, values", [
    ("first_spike", [3, 1, 0], [1.0, 2.0, 5.0]),
    ("rate", [1, 0, 3, 2], [40.0, 30.0, 10.0, 0.0]),
    ("cv", [1, 0], [np.std([1, 1, 36]) / np.mean([1, 1, 36]), 0.0]),
    ("burstiness", [1, 0], [2 / 3, 0.0]),  # ISIs 1, 1 < half the mean 12.7; 36 is not
])
def test_rank_neurons_by_hand(by, order, values):
    ranked = rank_neurons(_ranked(), "src", by)
    assert ranked["neuron"].tolist() == order
    assert ranked["value"].tolist() == pytest.approx(values)
    assert rank_neurons(_ranked(), "src", by, top=1)["neuron"].tolist() == order[:1]


def test_rank_neurons_refuses_unknown_keys():
    with pytest.raises(SpikeStudioError, match="^by: "):
        rank_neurons(_ranked(), "src", "loudness")
    with pytest.raises(SpikeStudioError, match="^population: "):
        rank_neurons(_ranked(), "nope")


def test_neuron_statistics_matches_population_summary_cv():
    from engine.spike_stats import population_summary

    result = simulate(_network("lif", False, False))
    sizes = {"pop": 20}
    stats = neuron_statistics(result.spikes, sizes, result.duration_ms)
    summary = population_summary(result.spikes, sizes, result.duration_ms)
    assert stats["spikes"].sum() == summary["spikes"].iloc[0]
    assert np.nanmean(stats["cv_isi"]) == pytest.approx(summary["cv_isi"].iloc[0])
