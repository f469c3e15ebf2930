"""Pause, step, continue and extend a run: the pieces equal one run, bit for bit.

Every network is run three ways from the same seed: ``simulate`` over the whole duration, a
:class:`Simulation` of the whole duration run in two halves, and a Simulation built for the
first half only and *extended* past it (recordings, counts and the encoders' streams grow).
Spikes, traces, operation counts, weight snapshots / statistics / trajectories and the final
weights must be identical.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.core.limits import RunLimits
from engine.errors import MemoryBudgetError, SimulationError, SpikeStudioError
from engine.project import Project
from engine.simulator import Simulation, simulate
from tests.helpers import connection, document, encoder, lif, monitor

DURATION = 300.0
STDP = {"rule": "stdp", "a_plus": 0.01, "a_minus": 0.012, "tau_plus": 16.8,
        "tau_minus": 33.7, "w_min": 0.0, "w_max": 4.0}
TEACH = {"rule": "teaching", "step_up": 0.1, "step_down": 0.05, "window_ms": 5.0,
         "w_min": 0.0, "w_max": 4.0}

ENCODERS = {
    "poisson": {"rate_hz": 80.0},
    "regular": {"rate_hz": 40.0, "phase_step_ms": 0.7},
    "spike_times": {"times_ms": [[5.0, 120.0, 160.0, 250.0]] * 4},
    "latency": {"values": [1.0, 0.6, 0.3, 0.0], "period_ms": 37.0},
    "delta": {"signal": [[0.0, 0.0], [60.0, 1.0], [140.0, 0.2], [230.0, 0.9]],
              "threshold": 0.1},
    "constant_current": {"amplitude": 18.0},
    "step_current": {"amplitude": 30.0, "start_ms": 100.0, "stop_ms": 200.0},
    "current_table": {"table": [[0.0, 10.0], [90.0, 25.0], [170.0, 14.0]]},
}
SIZES = {"delta": 2}


def network(enc: str = "poisson", *, delay=0.0, plasticity: dict | None = None,
            duration_ms: float = DURATION) -> Project:
    """An input encoder onto E, recurrent E -> E (maybe delayed / plastic), E -> I -> E."""
    size = SIZES.get(enc, 4)
    gain = 2.0 if enc in ("constant_current", "step_current", "current_table") else 6.0
    plastic = {"plasticity": plasticity} if plasticity else {}
    nodes = [
        encoder("in", enc, size, **ENCODERS[enc]),
        lif("E", 40, v_init_spread=10.0, i_offset=15.5),
        lif("I", 10),
        monitor("mE", "E", variables=("v", "i_exc"), neurons=(0, 3, 7), interval_ms=0.5),
    ]
    projections = [
        connection("in_E", "in", "E", weight=gain),
        connection("E_E", "E", "E", weight={"dist": "uniform", "low": 0.5, "high": 3.0},
                   rule="fixed_probability", delay_ms=delay, connectivity={"p": 0.2},
                   record_weights={"every_ms": 10.0}, **plastic),
        connection("E_I", "E", "I", weight=1.5, rule="fixed_probability",
                   connectivity={"p": 0.3}),
        connection("I_E", "I", "E", weight=-2.0, receptor="inh"),
        # all to all, so these synapses exist: their trajectories are recorded every step
        connection("in_I", "in", "I", weight=1.0, delay_ms=delay,
                   record_weights={"every_ms": 5.0, "synapses": [[0, 0], [1, 2]]},
                   **plastic),
    ]
    return Project.from_dict(document(nodes, projections, duration_ms=duration_ms, seed=7))


def assert_same(a, b) -> None:
    """Two results hold the same spikes, traces, counts and weights."""
    pd.testing.assert_frame_equal(a.spikes, b.spikes)
    pd.testing.assert_frame_equal(a.counts, b.counts)
    pd.testing.assert_frame_equal(a.projection_counts, b.projection_counts)
    assert a.duration_ms == b.duration_ms
    assert a.traces.keys() == b.traces.keys()
    for key, rec in a.traces.items():
        np.testing.assert_array_equal(rec.time_ms, b.traces[key].time_ms)
        for var, values in rec.values.items():
            np.testing.assert_array_equal(values, b.traces[key].values[var])
    assert a.weights.keys() == b.weights.keys()
    for key, rec in a.weights.items():
        other = b.weights[key]
        for name in ("times_ms", "mean", "std", "hist", "snapshots", "trajectory_time_ms",
                     "trajectories"):
            np.testing.assert_array_equal(getattr(rec, name), getattr(other, name), name)


def three_ways(project_doc, half: float = DURATION / 2):
    whole = simulate(project_doc(DURATION))
    assert len(whole.spikes) > 100  # the network is active: the comparison means something
    halves = Simulation(project_doc(DURATION))
    halves.run_for(half)
    assert halves.result().duration_ms == half
    halves.run_for(DURATION - half)
    extended = Simulation(project_doc(half))
    extended.run_for(half)
    extended.run_for(DURATION - half)
    return whole, halves, extended


@pytest.mark.parametrize("enc", sorted(ENCODERS))
def test_every_encoder(enc):
    whole, halves, extended = three_ways(lambda d: network(enc, duration_ms=d))
    assert_same(whole, halves.result())
    assert_same(whole, extended.result())
    assert extended.result().status == "completed"


@pytest.mark.parametrize("delay", [1.5, {"dist": "uniform", "low": 0.1, "high": 4.0}],
                         ids=["one_delay", "per_synapse"])
@pytest.mark.parametrize("plasticity", [None, STDP, TEACH], ids=["static", "stdp", "teaching"])
def test_delays_and_plasticity(delay, plasticity):
    whole, halves, extended = three_ways(
        lambda d: network("poisson", delay=delay, plasticity=plasticity, duration_ms=d),
        half=123.4)
    assert_same(whole, halves.result())
    assert_same(whole, extended.result())
    if plasticity:
        np.testing.assert_array_equal(halves.syn_weight, extended.syn_weight)
        assert whole.weights["E_E"].mean[-1] != whole.weights["E_E"].mean[0]  # it learned


def test_stepping_by_dt_equals_one_run():
    project = network("poisson", delay=0.5, plasticity=STDP, duration_ms=20.0)
    whole = simulate(network("poisson", delay=0.5, plasticity=STDP, duration_ms=20.0))
    sim = Simulation(project)
    for _ in range(200):
        result = sim.run_for(0.1)
    assert result.duration_ms == pytest.approx(20.0)
    assert_same(whole, sim.result())


def test_default_weight_snapshots_keep_their_interval_when_extended():
    doc = network("poisson", plasticity=STDP, duration_ms=100.0).to_dict()
    del doc["network"]["projections"][1]["record_weights"]
    sim = Simulation(Project.from_dict(doc))
    sim.run_for(100.0)
    sim.run_for(50.0)
    times = sim.result().weights["E_E"].times_ms
    np.testing.assert_allclose(np.diff(times), 1.0)  # 100 ms / 100 snapshots, kept
    assert times[-1] == pytest.approx(150.0)


def test_extending_beyond_the_budget_is_refused_and_the_run_stays_usable():
    doc = network("poisson", duration_ms=50.0).to_dict()
    doc["network"]["nodes"][3]["params"]["neurons"] = list(range(40))
    doc["network"]["nodes"][3]["params"]["interval_ms"] = 0.1
    limits = RunLimits(max_memory_mb=64)
    sim = Simulation(Project.from_dict(doc), limits=limits)
    sim.run_for(50.0)
    with pytest.raises(MemoryBudgetError, match=r"Continuing to t = 1e\+06 ms would need .* "
                                                r"stays paused at t = 50 ms"):
        sim.run_for(1e6 - 50.0)
    result = sim.run_for(10.0)
    assert result.duration_ms == pytest.approx(60.0)
    assert result.traces["mE"].values["v"].shape == (601, 40)


def test_run_for_rejects_a_negative_duration():
    sim = Simulation(network(duration_ms=10.0))
    with pytest.raises(SpikeStudioError, match="duration_ms: must be >= 0"):
        sim.run_for(-1.0)


def test_simulate_still_raises_on_invalid_state_and_run_for_pauses():
    # A huge negative input makes the quadratic term of the Izhikevich model explode.
    doc = document([encoder("drive", "constant_current", amplitude=-1e4),
                    {"id": "z", "kind": "population", "model": "izhikevich", "size": 3,
                     "params": {"preset": "regular_spiking"}}],
                   [connection("in", "drive", "z", weight=1e4)], duration_ms=20.0)
    with pytest.raises(SimulationError) as info:
        simulate(Project.from_dict(doc))
    partial = info.value.partial_result
    sim = Simulation(Project.from_dict(doc))
    result = sim.run_for(20.0)
    assert result.status == "error" == partial.status
    hit = result.breakpoint
    assert hit["kind"] == "invalid_state"
    assert (hit["population"], hit["neuron"]) == ("z", 0)
    assert hit["t_ms"] == pytest.approx(partial.duration_ms + 0.1)  # during the next step
    assert_same(partial, result)
    with pytest.raises(SimulationError, match="cannot be continued"):
        sim.run_for(1.0)


def test_a_pause_request_stops_between_chunks_and_the_run_continues_exactly():
    whole = simulate(network())
    sim = Simulation(network())
    calls = []

    def pause() -> bool:  # asked between chunks: pause at the third
        calls.append(sim.k)
        return len(calls) == 3

    result = sim.run_for(DURATION, pause=pause, chunk_wall_s=1e-6)
    assert result.status == "paused" and result.breakpoint is None
    assert 0 < result.duration_ms < DURATION
    sim.run_for(DURATION - sim.t_ms)
    assert sim.result().status == "completed"
    assert_same(whole, sim.result())


# ---------------------------------------------------------------------------- checkpoints
def izhikevich_network(duration_ms: float = DURATION) -> Project:
    nodes = [encoder("in", "poisson", 6, rate_hz=60.0),
             {"id": "z", "kind": "population", "model": "izhikevich", "size": 20,
              "params": {"preset": "regular_spiking"}},
             monitor("mz", "z", variables=("v", "u"), neurons=(0, 5), interval_ms=1.0)]
    projections = [connection("in_z", "in", "z", weight=8.0, delay_ms=1.0),
                   connection("z_z", "z", "z", weight=2.0, rule="fixed_probability",
                              connectivity={"p": 0.2}, delay_ms=2.0)]
    return Project.from_dict(document(nodes, projections, duration_ms=duration_ms, seed=3))


def dataset_network(model: str, duration_ms: float = DURATION) -> Project:
    """A dataset encoder (samples presented in turn, state reset between them) onto LIF."""
    samples = [[0.0, 0.5, 1.0, 0.2], [1.0, 0.0, 0.25, 0.8], [0.3, 0.9, 0.1, 0.6]]
    params = {"samples": samples, "labels": [0, 1, 2], "present_ms": 40.0, "pause_ms": 7.0}
    if model == "dataset":
        params["max_rate_hz"] = 300.0
    nodes = [{"id": "in", "kind": "encoder", "model": model, "size": 4, "params": params},
             lif("E", 12), monitor("mE", "E", neurons=(0, 1), interval_ms=0.5)]
    projections = [connection("in_E", "in", "E", weight=6.0 if model == "dataset" else 30.0)]
    return Project.from_dict(document(nodes, projections, duration_ms=duration_ms, seed=5))


CHECKPOINTED = {
    "lif_poisson": lambda: network("poisson"),
    "lif_regular": lambda: network("regular"),
    "lif_step_current": lambda: network("step_current"),
    "stdp_delays": lambda: network("poisson", delay=1.5, plasticity=STDP),
    "stdp_per_synapse_delays": lambda: network(
        "poisson", delay={"dist": "uniform", "low": 0.1, "high": 4.0}, plasticity=STDP),
    "teaching": lambda: network("poisson", delay=0.5, plasticity=TEACH),
    "izhikevich": izhikevich_network,
    "poisson_dataset": lambda: dataset_network("dataset"),
    "current_dataset": lambda: dataset_network("dataset_current"),
}


def restored(sim: Simulation, tmp_path, name: str = "run.npz") -> Simulation:
    """``sim`` saved and loaded into a fresh Simulation (the original is left alone)."""
    from engine.core.checkpoint import load_checkpoint, save_checkpoint

    return load_checkpoint(save_checkpoint(sim, tmp_path / name))


@pytest.mark.parametrize("name", sorted(CHECKPOINTED))
def test_a_run_restored_from_checkpoints_equals_one_run(name, tmp_path):
    whole = simulate(CHECKPOINTED[name]())
    assert len(whole.spikes) > 50  # active: the comparison means something
    sim = Simulation(CHECKPOINTED[name]())
    reached = 0.0
    for at in (0.1, 37.3, 120.0, 260.5):  # pause at several times, each time in a new process
        sim.run_for(at - reached)
        reached = at
        sim = restored(sim, tmp_path)
    sim.run_for(DURATION - reached)
    assert sim.result().status == "completed"
    assert_same(whole, sim.result())


def test_a_checkpoint_holds_every_state_array(tmp_path):
    """Guards engine.core.checkpoint.STATE_ARRAYS: every array of the restored run equals the
    original's (the spike record up to its count; ``spk_now`` is scratch)."""
    sim = Simulation(network("poisson", delay={"dist": "uniform", "low": 0.1, "high": 4.0},
                             plasticity=TEACH))
    sim.set_breakpoints([{"kind": "rate_above", "population": "E", "rate_hz": 1e6,
                          "window_ms": 7.0}])
    sim.run_for(91.7)
    sim.run_for(DURATION)  # extended past the project's duration
    again = restored(sim, tmp_path)
    n = int(sim.n_spk[0])
    arrays = {k: v for k, v in vars(sim).items() if isinstance(v, np.ndarray)}
    assert set(arrays) == {k for k, v in vars(again).items() if isinstance(v, np.ndarray)}
    for key, value in arrays.items():
        if key == "spk_now":
            continue
        if key in ("spk_k", "spk_gid"):
            value, other = value[:n], getattr(again, key)[:n]
        else:
            other = getattr(again, key)
        np.testing.assert_array_equal(value, other, err_msg=key)
    assert (again.k, again.net.n_steps, again.t_ms) == (sim.k, sim.net.n_steps, sim.t_ms)


def test_a_breakpoint_pause_restores_and_continues_exactly(tmp_path):
    whole = simulate(network("poisson", plasticity=STDP))
    sim = Simulation(network("poisson", plasticity=STDP))
    sim.set_breakpoints([{"kind": "spike", "population": "E", "neuron": 3},
                         {"kind": "rate_above", "population": "E", "rate_hz": 5.0,
                          "window_ms": 20.0}])
    paused = sim.run_for(DURATION)
    assert paused.status == "paused" and paused.breakpoint is not None
    again = restored(sim, tmp_path)
    assert again.result().status == "paused"
    assert again.result().breakpoint == paused.breakpoint
    assert_same(paused, again.result())
    while again.t_ms < DURATION:  # the spike breakpoint stays set: pause at each spike
        again.run_for(DURATION - again.t_ms)
        again = restored(again, tmp_path)
    assert_same(whole, again.result())


def test_a_file_that_is_not_a_checkpoint_is_refused(tmp_path):
    from engine.core.checkpoint import load_checkpoint

    path = tmp_path / "other.npz"
    np.savez(path, meta=np.array('{"format": "something else"}'))
    with pytest.raises(SpikeStudioError, match="not a version 1 simulation checkpoint"):
        load_checkpoint(path)
