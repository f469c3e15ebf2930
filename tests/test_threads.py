"""Runs of several threads (issue 23, item 2): the same spikes, state and counts as one.

The kernel of several threads splits each step's neuron updates into contiguous ranges of
neurons, one per thread (engine.core.kernels._update_parts). Networks here are larger than
two parts' minimum, and cut a population in two (the parts' boundary lies inside it), so
the split is exercised, not skipped.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numba
import numpy as np
import pytest

from engine.core.kernels import MIN_NEURONS_PER_THREAD, thread_parts
from engine.core.limits import RunLimits
from engine.core.threads import usable_threads
from engine.errors import ProjectError, SimulationError
from engine.project import Project
from engine.simulator import Simulation, simulate
from tests.helpers import connection, document, encoder, monitor, project

pytestmark = pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2,
                                reason="numba may use one thread only on this machine")

#: Big enough for two parts; the first population holds the boundary between them.
BIG = int(1.4 * MIN_NEURONS_PER_THREAD)
SMALL = int(0.8 * MIN_NEURONS_PER_THREAD)

MODELS = {
    "lif": dict(t_ref=2.0),
    "if": dict(t_ref=1.0),
    "adaptive_lif": dict(t_ref=2.0),
    "izhikevich": {},
    "li": {},
}

ENCODERS = {
    "poisson": dict(rate_hz=40.0),
    "regular": dict(rate_hz=25.0),
    "spike_times": dict(times_ms=[[5.0, 12.5], [30.0], [31.0, 40.0]]),
    "latency": dict(values=[0.2, 0.9, 0.5], period_ms=15.0),
    "delta": dict(signal=[[0.0, 0.0], [20.0, 1.0], [40.0, 0.0]], threshold=0.1),
    "constant_current": dict(amplitude=20.0),
    "step_current": dict(amplitude=30.0, start_ms=10.0, stop_ms=40.0),
}


def _population(node_id: str, model: str, size: int, params: dict) -> dict:
    return {"id": node_id, "kind": "population", "model": model, "size": size,
            "params": params}


def _network(model: str = "lif", params: dict | None = None, drive: str = "poisson",
             drive_params: dict | None = None, delay_ms=0.0, plasticity=None,
             duration_ms: float = 60.0) -> Project:
    """Input -> a (BIG, holds the parts' boundary) <-> b (SMALL), recurrent, with monitors."""
    params = MODELS[model] if params is None else params
    drive_params = ENCODERS[drive] if drive_params is None else drive_params
    size = 1 if drive.endswith("_current") else 200
    if drive == "latency":
        size = len(drive_params["values"])
    elif drive == "delta":
        size = 2  # ON and OFF
    elif drive == "spike_times":
        size = len(drive_params["times_ms"])
    nodes = [encoder("in", drive, size=size, **drive_params),
             _population("a", model, BIG, params), _population("b", "lif", SMALL, {}),
             monitor("va", "a", variables=("v", "i_exc"), neurons=(0, BIG // 2, BIG - 1)),
             monitor("vb", "b", variables=("v",), neurons=(0, SMALL - 1))]
    current = drive.endswith("_current")
    drive_rule = dict(rule="all_to_all") if current else dict(
        rule="fixed_probability", connectivity={"p": 0.3})
    projections = [
        connection("in_a", "in", "a", weight=1.0 if current else 6.0, **drive_rule),
        connection("b_a", "b", "a", weight=-0.5, rule="fixed_indegree",
                   connectivity={"k": 10}, receptor="inh", delay_ms=delay_ms),
    ]
    if model == "li":  # a leaky integrator never spikes: b is driven by the input
        projections.append(connection("in_b", "in", "b", weight=6.0, **drive_rule))
    else:
        projections += [
            connection("a_b", "a", "b", weight=0.8, rule="fixed_indegree",
                       connectivity={"k": 20}, delay_ms=delay_ms, plasticity=plasticity),
            connection("a_a", "a", "a", weight=0.3, rule="fixed_indegree",
                       connectivity={"k": 10}, delay_ms=delay_ms)]
    return project(nodes, projections, duration_ms=duration_ms, seed=3)


def _same_run(proj: Project) -> None:
    """One thread and two give the same spikes, traces, counts and weights."""
    one = Simulation(proj, threads=1)
    two = Simulation(proj, threads=2)
    assert thread_parts(2, one.net.n_neurons) == 2  # the update is split, not one pass
    assert (one.threads, two.threads) == (1, 2)
    a, b = one.run(), two.run()
    assert a.status == b.status
    assert len(a.spikes) > 0, "a network that never spikes tests nothing"
    assert a.spikes.equals(b.spikes)
    for name, trace in a.traces.items():
        for var, values in trace.values.items():
            assert np.array_equal(values, b.traces[name].values[var], equal_nan=True), var
    assert a.counts.equals(b.counts)
    assert a.projection_counts.equals(b.projection_counts)
    assert np.array_equal(one.syn_weight, two.syn_weight)  # STDP learns the same
    assert np.array_equal(one.v, two.v) and np.array_equal(one.ref, two.ref)


@pytest.mark.parametrize("model", sorted(MODELS))
def test_every_neuron_model_spikes_the_same_with_two_threads(model):
    _same_run(_network(model))


@pytest.mark.parametrize("drive", sorted(ENCODERS))
def test_every_encoder_drives_the_same_spikes_with_two_threads(drive):
    _same_run(_network(drive=drive))


def test_per_synapse_delays_give_the_same_spikes_with_two_threads():
    _same_run(_network(delay_ms={"dist": "uniform", "low": 0.1, "high": 3.0}))


def test_stdp_learns_the_same_weights_with_two_threads():
    _same_run(_network(plasticity={"rule": "stdp", "w_max": 2.0}, delay_ms=1.0))


def test_neurons_with_their_own_constants_spike_the_same_with_two_threads():
    params = dict(MODELS["lif"], tau_m={"dist": "uniform", "low": 15.0, "high": 25.0},
                  v_thresh={"dist": "normal", "mean": -50.0, "std": 1.0})
    _same_run(_network(params=params))


def test_a_blown_up_state_stops_at_the_same_neuron_with_two_threads():
    # From 20 ms on, a huge negative current makes the Izhikevich neurons of z (the second
    # part) explode while a (across both parts) spikes: the run must stop at the same step
    # and neuron, with the same spikes recorded before, whatever the number of threads.
    proj = project(
        [encoder("in", "poisson", size=200, rate_hz=40.0),
         encoder("kick", "step_current", amplitude=-1e4, start_ms=20.0, stop_ms=60.0),
         _population("a", "lif", BIG, {}),
         _population("z", "izhikevich", SMALL, {"preset": "regular_spiking"})],
        [connection("in_a", "in", "a", weight=6.0, rule="fixed_probability",
                    connectivity={"p": 0.3}),
         connection("in_z", "in", "z", weight=6.0, rule="fixed_probability",
                    connectivity={"p": 0.3}),
         connection("kick_z", "kick", "z", weight=1e4)], duration_ms=60.0, seed=3)
    errors = []
    for threads in (1, 2):
        with pytest.raises(SimulationError, match="neuron 0 of 'z'") as info:
            Simulation(proj, threads=threads).run()
        errors.append(info.value)
    a, b = (e.partial_result for e in errors)
    assert str(errors[0]) == str(errors[1])
    assert a.status == b.status == "error"
    assert len(a.spikes) > 0 and a.spikes.equals(b.spikes)


def test_pause_and_continue_with_two_threads_equal_one_run():
    proj = _network(duration_ms=60.0)
    whole = Simulation(proj, threads=1).run()
    sim = Simulation(proj, threads=2)
    sim.run_for(25.0)
    sim.run_for(35.0)
    assert sim.result().spikes.equals(whole.spikes)


def test_threads_are_lowered_to_the_cap_and_to_the_cores():
    proj = dataclasses.replace(_network(), simulation=dataclasses.replace(
        _network().simulation, threads=8))
    assert Simulation(proj, limits=RunLimits(max_threads=1)).threads == 1
    assert Simulation(proj).threads == numba.config.NUMBA_NUM_THREADS
    assert usable_threads(0) == 1
    assert RunLimits.for_server(2).max_threads == 1  # a class server: one per run


def test_simulate_uses_the_projects_threads():
    proj = _network(duration_ms=20.0)
    threaded = dataclasses.replace(proj, simulation=dataclasses.replace(proj.simulation,
                                                                       threads=2))
    assert simulate(threaded).spikes.equals(simulate(proj).spikes)


def test_threads_is_validated_and_saved_only_when_set():
    base = document([encoder("in", "poisson", size=2, rate_hz=5.0)])
    for bad in (0, -1, 1.5, "two", 10_000):
        broken = dict(base, simulation=dict(base["simulation"], threads=bad))
        with pytest.raises(ProjectError, match=r"simulation\.threads"):
            Project.from_dict(broken)
    assert "threads" not in Project.from_dict(base).to_dict()["simulation"]
    two = Project.from_dict(dict(base, simulation=dict(base["simulation"], threads=2)))
    assert two.simulation.threads == 2
    assert two.to_dict()["simulation"]["threads"] == 2


def test_cli_run_takes_threads_and_names_a_bad_value(tmp_path, capsys):
    from engine import cli

    sample = Path(__file__).resolve().parents[1] / "sample_projects" / "cuba_balanced.json"
    out = {}
    for threads in ("1", "all"):
        assert cli.main(["run", str(sample), "--duration-ms", "50", "--quiet", "--threads",
                         threads, "--out", str(tmp_path / threads)]) == 0
        out[threads] = (tmp_path / threads / "spikes.csv").read_text()
    assert out["1"] == out["all"]
    for bad in ("0", "many"):
        assert cli.main(["run", str(sample), "--threads", bad]) == 2
        assert "--threads" in capsys.readouterr().err


def test_a_run_capped_to_fewer_threads_says_so():
    proj = _network(duration_ms=5.0)
    asked = dataclasses.replace(proj, simulation=dataclasses.replace(proj.simulation,
                                                                     threads=4))
    notes = Simulation(asked, limits=RunLimits(max_threads=1)).run().messages
    assert any("simulation.threads is 4" in m and "at most 1 thread " in m for m in notes)
    assert not any("threads" in m for m in Simulation(proj).run().messages)
