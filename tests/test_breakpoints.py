"""Breakpoints pause a run right after the first step where their condition holds.

Each expected time is computed from an uninterrupted run of the same network (its spikes and
weight snapshots of every step), and a run continued after the pause is the uninterrupted run.
"""

from __future__ import annotations

import numpy as np
import pytest

from engine.core.breakpoints import Breakpoint
from engine.errors import SpikeStudioError
from engine.simulator import Simulation, simulate
from tests.test_pause_continue import DURATION, STDP, assert_same, network

DT = 0.1


def labels(result, population: str, neuron: int | None = None) -> np.ndarray:
    s = result.spikes[result.spikes["population"] == population]
    if neuron is not None:
        s = s[s["neuron"] == neuron]
    return np.rint(s["time_ms"].to_numpy() / DT).astype(np.int64)


def test_neuron_spike_pauses_at_each_spike_and_continuing_is_the_whole_run():
    whole = simulate(network())
    expected = labels(whole, "E", 3)
    assert len(expected) >= 3
    sim = Simulation(network())
    sim.set_breakpoints([{"kind": "spike", "population": "E", "neuron": 3}])
    for k in expected[:3]:
        result = sim.run_for(DURATION)
        assert result.status == "paused"
        assert result.duration_ms == pytest.approx(k * DT)
        hit = result.breakpoint
        assert (hit["kind"], hit["population"], hit["neuron"]) == ("spike", "E", 3)
        assert hit["t_ms"] == pytest.approx(k * DT)
        last = result.spikes.iloc[-1]
        assert (last["population"], last["neuron"]) == ("E", 3) or \
            labels(result, "E", 3)[-1] == k
    sim.set_breakpoints([])
    sim.run_for(DURATION - sim.t_ms)
    assert sim.result().status == "completed"
    assert_same(whole, sim.result())


def _window_rates(whole, population: str, size: int, window: int, n_steps: int) -> np.ndarray:
    """Rate (Hz) over labels (k - window, k] for k = 0..n_steps."""
    per_step = np.bincount(labels(whole, population), minlength=n_steps + 1)[:n_steps + 1]
    total = np.cumsum(per_step)
    shifted = np.concatenate([np.zeros(window, np.int64), total[:-window]])
    return (total - shifted) * 1000.0 / (size * window * DT)


@pytest.mark.parametrize("kind", ["rate_above", "rate_below"])
def test_rate_window_fires_at_the_first_step_it_holds(kind):
    """Set after 100 ms, a 5 ms window is checked from 105 ms on, at every step."""
    whole = simulate(network())
    n_steps = int(round(DURATION / DT))
    window = 50
    rates = _window_rates(whole, "E", 40, window, n_steps)
    sim = Simulation(network())
    sim.run_for(100.0)
    k_from = sim.k + window - 1  # labels sim.k .. k_from: the first whole window
    level = float(np.quantile(rates[k_from:], 0.9 if kind == "rate_above" else 0.1))
    holds = (rates > level) if kind == "rate_above" else (rates < level)
    holds[:k_from] = False
    k_first = int(np.flatnonzero(holds)[0])
    assert k_first > k_from  # not at once: the test tells a late check from an early one
    sim.set_breakpoints([Breakpoint(kind, population="E", window_ms=5.0, rate_hz=level)])
    result = sim.run_for(DURATION)
    assert result.breakpoint["t_ms"] == pytest.approx(k_first * DT)
    assert result.breakpoint["value"] == pytest.approx(rates[k_first])
    assert result.duration_ms == pytest.approx(k_first * DT)
    assert sim.breakpoints == []  # one-shot
    sim.run_for(DURATION - sim.t_ms)
    assert_same(whole, sim.result())


def test_weight_leaving_a_range_fires_at_the_step_it_leaves():
    doc = network("poisson", plasticity=STDP).to_dict()
    doc["network"]["projections"][1]["record_weights"] = {"every_ms": DT}
    from engine.project import Project
    whole = simulate(Project.from_dict(doc))
    rec = whole.weights["E_E"]
    lo = float(rec.snapshots[0].min()) - 0.02
    hi = float(rec.snapshots[0].max()) + 0.02
    above = np.flatnonzero((rec.snapshots.max(axis=1) > hi) | (rec.snapshots.min(axis=1) < lo))
    assert len(above) and above[0] > 10
    t_first = rec.times_ms[above[0]]
    sim = Simulation(Project.from_dict(doc))
    sim.set_breakpoints([{"kind": "weight_range", "projection": "E_E", "w_min": lo,
                          "w_max": hi}])
    result = sim.run_for(DURATION)
    hit = result.breakpoint
    assert hit["kind"] == "weight_range" and hit["population"] == "E"
    assert hit["t_ms"] == pytest.approx(t_first)
    assert not lo <= hit["value"] <= hi
    pre, post = hit["synapse"]
    assert hit["neuron"] == post
    j = np.flatnonzero((rec.pre == pre) & (rec.post == post))[0]
    assert rec.snapshots[above[0], j] == np.float32(hit["value"])
    sim.run_for(DURATION - sim.t_ms)
    assert_same(whole, sim.result())


@pytest.mark.parametrize("bp, field", [
    ({"kind": "spike", "population": "X"}, r"breakpoints\[0\].population"),
    ({"kind": "spike", "population": "E", "neuron": 40}, r"breakpoints\[0\].neuron"),
    ({"kind": "rate_above", "population": "E", "window_ms": 0.0}, r"breakpoints\[0\].window_ms"),
    ({"kind": "weight_range", "projection": "nope"}, r"breakpoints\[0\].projection"),
    ({"kind": "weight_range", "projection": "E_E", "w_min": 2.0, "w_max": 1.0},
     r"breakpoints\[0\].w_max"),
    ({"kind": "sometimes"}, r"breakpoint\[0\].kind|breakpoints\[0\].kind"),
    ({"kind": "spike", "colour": 1}, r"breakpoints\[0\].colour: unknown field"),
])
def test_bad_breakpoints_name_their_field(bp, field):
    sim = Simulation(network(duration_ms=10.0))
    with pytest.raises(SpikeStudioError, match=field):
        sim.set_breakpoints([bp])


# ---------------------------------------------------------------------------- naming the target
def test_targets_are_named_by_label_or_id():
    from engine.core.breakpoints import breakpoint_targets, resolve_target

    doc = {"network": {"nodes": [
        {"id": "exc", "kind": "population", "label": "Excitatory"},
        {"id": "inh", "kind": "population", "label": "Inhibitory"},
        {"id": "in", "kind": "encoder", "label": ""},
        {"id": "mon", "kind": "monitor", "label": "Probe"},
        {"id": "a", "kind": "population", "label": "Twin"},
        {"id": "b", "kind": "population", "label": "Twin"},
    ], "projections": [{"id": "ee", "label": "recurrent"}]}}
    nodes = breakpoint_targets(doc, "spike")
    assert [i for i, _ in nodes] == ["exc", "inh", "in", "a", "b"]  # no monitors
    assert resolve_target("exc", nodes) == "exc"
    assert resolve_target("Excitatory", nodes) == "exc"
    assert resolve_target("  inhibitory ", nodes) == "inh"  # spaces and case forgiven
    assert resolve_target("IN", nodes) == "in"
    with pytest.raises(SpikeStudioError, match=r"'Twin' names 2 populations \(a, b\)"):
        resolve_target("Twin", nodes)
    with pytest.raises(SpikeStudioError) as err:
        resolve_target("Exitatory", nodes, where="Pause when")
    assert str(err.value) == ("Pause when: no population named 'Exitatory' (choose from "
                              "Excitatory (exc), Inhibitory (inh), in, Twin (a), Twin (b)).")
    with pytest.raises(SpikeStudioError, match="name the population to watch"):
        resolve_target("", nodes)
    projections = breakpoint_targets(doc, "weight_range")
    assert resolve_target("Recurrent", projections, "projection") == "ee"
    with pytest.raises(SpikeStudioError, match="no projection named 'exc'"):
        resolve_target("exc", projections, "projection")
    assert "this project has none" in _message(lambda: resolve_target("x", []))


def _message(fn) -> str:
    try:
        fn()
    except SpikeStudioError as exc:
        return str(exc)
    return ""
