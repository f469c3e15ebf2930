"""Plasticity rules against their definitions, with spike timing under full control.

Every test builds the same three-node circuit: a ``pre`` spike_times encoder with one plastic
synapse onto a single LIF neuron ``post``, and a ``drive`` spike_times encoder whose strong
static synapse makes ``post`` fire one step after each drive spike (the current jumps at the
drive time and moves the membrane over the next step; NEST's labelling). The plastic weight is
kept far too small to make ``post`` fire on its own, so the post spikes are exactly the ones we
ask for. Timing conventions (docs/architecture.md): STDP sees the pre spike at its *arrival*
(emission + delay) and the post spike at its label time.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.project import Project
from engine.simulator import simulate

DT = 0.1
W0 = 0.5                     # initial plastic weight (mV): far below what makes post fire
STDP = {"rule": "stdp", "a_plus": 0.01, "a_minus": 0.012, "tau_plus": 16.8,
        "tau_minus": 33.7, "w_min": 0.0, "w_max": 1.0}


def circuit(pre_times: list[float], drive_times: list[float], plasticity: dict | None,
            *, delay_ms: float = 0.0, weight: float = W0, duration_ms: float = 200.0,
            seed: int = 1) -> Project:
    """The pre -> post plastic synapse plus a drive that fires post on demand."""
    nodes = [
        {"id": "pre", "kind": "encoder", "model": "spike_times", "size": 1,
         "params": {"times_ms": [pre_times]}},
        {"id": "drive", "kind": "encoder", "model": "spike_times", "size": 1,
         "params": {"times_ms": [drive_times]}},
        {"id": "post", "kind": "population", "model": "lif", "size": 1,
         "params": {"tau_m": 10.0, "v_rest": -65.0, "v_reset": -65.0, "v_thresh": -50.0,
                    "t_ref": 5.0, "tau_syn_exc": 0.2, "v_init": -65.0}},
    ]
    record = {"every_ms": DT, "synapses": [[0, 0]]}
    projections = [
        {"id": "syn", "source": "pre", "target": "post", "weight": weight,
         "delay_ms": delay_ms, "plasticity": plasticity, "record_weights": record},
        {"id": "kick", "source": "drive", "target": "post", "weight": 5000.0},
    ]
    return Project.from_dict({
        "format": "spikestudio-project", "version": 1, "name": "pair",
        "network": {"nodes": nodes, "projections": projections},
        "simulation": {"duration_ms": duration_ms, "dt_ms": DT, "seed": seed},
    })


def run(project: Project):
    """Simulate; return (final weight of the plastic synapse, post spike times, result)."""
    result = simulate(project)
    rec = result.weights["syn"]
    post = result.spikes.loc[result.spikes["population"] == "post", "time_ms"].to_numpy()
    return float(rec.trajectories[-1, 0]), post, result


def stdp(**changes) -> dict:
    return {**STDP, **changes}


# ---------------------------------------------------------------------- the circuit itself
def test_drive_fires_post_one_step_later_and_pre_alone_does_not():
    _, post, _ = run(circuit([20.0], [50.0, 120.0], None))
    np.testing.assert_allclose(post, [50.0 + DT, 120.0 + DT])


# ---------------------------------------------------------------------- pair-based STDP
@pytest.mark.parametrize("lag", [0.0, 1.0, 5.3, 20.0, 47.9])
def test_pre_then_post_potentiates_by_a_plus_exp(lag):
    t_post = 100.0
    pre = round(t_post - lag, 1)
    w, post, _ = run(circuit([pre], [t_post - DT], stdp()))
    assert post.tolist() == pytest.approx([t_post])
    expected = W0 + STDP["a_plus"] * math.exp(-lag / STDP["tau_plus"])
    assert w == pytest.approx(expected, rel=0, abs=1e-6)  # float32 weights


@pytest.mark.parametrize("lag", [DT, 2.0, 10.0, 33.7, 80.0])
def test_post_then_pre_depresses_by_a_minus_exp(lag):
    t_post = 100.0
    w, post, _ = run(circuit([round(t_post + lag, 1)], [t_post - DT], stdp()))
    assert post.tolist() == pytest.approx([t_post])
    expected = W0 - STDP["a_minus"] * math.exp(-lag / STDP["tau_minus"])
    assert w == pytest.approx(expected, rel=0, abs=1e-6)


def test_all_to_all_sums_every_earlier_pre_spike_and_nearest_keeps_the_last():
    pre, t_post = [80.0, 95.0], 100.0
    tau, a = STDP["tau_plus"], STDP["a_plus"]
    w_all, _, _ = run(circuit(pre, [t_post - DT], stdp(pairing="all_to_all")))
    w_near, _, _ = run(circuit(pre, [t_post - DT], stdp(pairing="nearest")))
    assert w_all == pytest.approx(W0 + a * (math.exp(-20 / tau) + math.exp(-5 / tau)), abs=1e-6)
    assert w_near == pytest.approx(W0 + a * math.exp(-5 / tau), abs=1e-6)


def test_nearest_depression_uses_only_the_last_post_spike():
    posts, t_pre = [60.0, 90.0], 100.0
    tau, a = STDP["tau_minus"], STDP["a_minus"]
    drive = [t - DT for t in posts]
    w_all, _, _ = run(circuit([t_pre], drive, stdp(pairing="all_to_all")))
    w_near, _, _ = run(circuit([t_pre], drive, stdp(pairing="nearest")))
    assert w_all == pytest.approx(W0 - a * (math.exp(-40 / tau) + math.exp(-10 / tau)), abs=1e-6)
    assert w_near == pytest.approx(W0 - a * math.exp(-10 / tau), abs=1e-6)


def test_additive_bounds_clip_at_w_max_and_w_min():
    # Ten potentiating pairs of +0.4 each from 0.5 would reach 4.5; the bound is 1.
    pre = [20.0 + 10 * i for i in range(10)]
    up = circuit(pre, [t + 1.0 - DT for t in pre], stdp(a_plus=0.4))
    _, _, result = run(up)
    traj = result.weights["syn"].trajectories[:, 0]
    assert traj.max() == pytest.approx(1.0) and traj[-1] == pytest.approx(1.0)
    assert traj.min() >= 0.0
    down = circuit([t + 1.0 for t in pre], [t - DT for t in pre], stdp(a_minus=0.4))
    _, _, result = run(down)
    traj = result.weights["syn"].trajectories[:, 0]
    assert traj.min() == pytest.approx(0.0) and traj[-1] == pytest.approx(0.0)
    assert traj.max() <= 1.0


def test_multiplicative_bounds_scale_with_the_distance_to_the_bound():
    rule = stdp(bounds="multiplicative", a_plus=0.5, a_minus=0.5, w_min=0.0, w_max=2.0)
    span = rule["w_max"] - rule["w_min"]
    w_up, _, _ = run(circuit([95.0], [100.0 - DT], rule))
    x = math.exp(-5.0 / rule["tau_plus"])
    assert w_up == pytest.approx(W0 + 0.5 * x * (2.0 - W0) / span, abs=1e-6)
    w_down, _, _ = run(circuit([105.0], [100.0 - DT], rule))
    y = math.exp(-5.0 / rule["tau_minus"])
    assert w_down == pytest.approx(W0 - 0.5 * y * (W0 - 0.0) / span, abs=1e-6)
    # Many strong pairings approach the upper bound without reaching it (soft bounds).
    pre = [20.0 + 10 * i for i in range(15)]
    _, _, result = run(circuit(pre, [t + 1.0 - DT for t in pre], rule))
    traj = result.weights["syn"].trajectories[:, 0]
    assert 0.0 < traj.min() and traj.max() < 2.0 and traj[-1] > 1.0


def test_delay_pairs_from_the_arrival_time():
    # Emitted at 90, arrives at 96: a post spike at 100 is 4 ms after the arrival.
    w, post, _ = run(circuit([90.0], [100.0 - DT], stdp(), delay_ms=6.0))
    assert post.tolist() == pytest.approx([100.0])
    assert w == pytest.approx(W0 + STDP["a_plus"] * math.exp(-4.0 / STDP["tau_plus"]),
                              abs=1e-6)
    # Emitted at 97 (before the post spike) but arrives at 103: depression by the 3 ms lag.
    w, _, _ = run(circuit([97.0], [100.0 - DT], stdp(), delay_ms=6.0))
    assert w == pytest.approx(W0 - STDP["a_minus"] * math.exp(-3.0 / STDP["tau_minus"]),
                              abs=1e-6)


# ---------------------------------------------------------------------- teaching rule
TEACH = {"rule": "teaching", "step_up": 0.1, "step_down": 0.05, "window_ms": 5.0,
         "w_min": 0.0, "w_max": 1.0}


@pytest.mark.parametrize("post_minus_pre", [-5.0, -2.0, 0.0, 3.0, 5.0])
def test_teaching_rewards_a_pre_spike_with_a_post_spike_in_the_window(post_minus_pre):
    t_pre = 100.0
    t_post = t_pre + post_minus_pre
    w, post, _ = run(circuit([t_pre], [t_post - DT], TEACH))
    assert post.tolist() == pytest.approx([t_post])
    assert w == pytest.approx(W0 + TEACH["step_up"], abs=1e-6)


@pytest.mark.parametrize("post_minus_pre", [None, -5.2, 5.2, 30.0])
def test_teaching_punishes_a_lone_pre_spike(post_minus_pre):
    drive = [] if post_minus_pre is None else [100.0 + post_minus_pre - DT]
    w, _, _ = run(circuit([100.0], drive, TEACH))
    assert w == pytest.approx(W0 - TEACH["step_down"], abs=1e-6)


def test_teaching_clips_to_its_bounds():
    pre = [20.0 + 10 * i for i in range(12)]
    w, _, _ = run(circuit(pre, [t - DT for t in pre], TEACH))
    assert w == pytest.approx(1.0)
    w, _, _ = run(circuit(pre, [], TEACH))
    assert w == pytest.approx(0.0)


# ---------------------------------------------------------------------- invariants
def test_no_change_without_plasticity():
    pre = [20.0 + 7 * i for i in range(20)]
    _, post, result = run(circuit(pre, [t + 1.0 for t in pre], None))
    assert len(post) == 20
    rec = result.weights["syn"]
    assert np.all(rec.trajectories == np.float32(W0))
    assert rec.snapshots is not None and np.all(rec.snapshots == np.float32(W0))
    assert result.projection_counts["plasticity_updates"].sum() == 0


def poisson_stdp(seed: int) -> Project:
    """Many Poisson inputs onto a few LIF neurons with STDP: randomness everywhere."""
    return Project.from_dict({
        "format": "spikestudio-project", "version": 1, "name": "repro",
        "network": {
            "nodes": [
                {"id": "inp", "kind": "encoder", "model": "poisson", "size": 200,
                 "params": {"rate_hz": 40.0}},
                {"id": "out", "kind": "population", "model": "lif", "size": 3,
                 "params": {"v_init_spread": 10.0}},
            ],
            "projections": [{
                "id": "ff", "source": "inp", "target": "out",
                "connectivity": {"rule": "fixed_probability", "p": 0.5},
                "weight": {"dist": "uniform", "low": 0.0, "high": 2.0},
                "plasticity": stdp(a_plus=0.05, a_minus=0.055, w_max=2.0),
            }],
        },
        "simulation": {"duration_ms": 500.0, "dt_ms": DT, "seed": seed},
    })


def test_same_seed_same_weights_and_other_seed_differs():
    a = simulate(poisson_stdp(7)).weights["ff"]
    b = simulate(poisson_stdp(7)).weights["ff"]
    c = simulate(poisson_stdp(8)).weights["ff"]
    assert a.snapshots is not None and b.snapshots is not None
    np.testing.assert_array_equal(a.snapshots, b.snapshots)
    np.testing.assert_array_equal(a.pre, b.pre)
    assert not np.array_equal(a.snapshots[0], a.snapshots[-1])  # learning happened
    assert a.snapshots.shape != c.snapshots.shape or not np.array_equal(a.snapshots,
                                                                        c.snapshots)
    assert np.all((a.snapshots >= 0.0) & (a.snapshots <= 2.0))


@pytest.mark.parametrize("rule", ["stdp", "teaching"])
def test_a_compiled_network_runs_again_from_its_initial_weights(rule):
    """Learning rewrites a run's own weights, never the compiled network's."""
    from engine.core.build import build
    from engine.simulator import Simulation

    project = poisson_stdp(3)
    if rule == "teaching":
        doc = project.to_dict()
        doc["network"]["projections"][0]["plasticity"] = {"rule": "teaching", "window_ms": 5.0,
                                                          "w_max": 2.0}
        project = Project.from_dict(doc)
    compiled = build(project)
    initial = compiled.syn_weight.copy()
    first = Simulation(project, compiled=compiled).run()
    second = Simulation(project, compiled=compiled).run()
    np.testing.assert_array_equal(compiled.syn_weight, initial)
    assert first.spikes.equals(second.spikes)
    np.testing.assert_array_equal(first.weights["ff"].snapshots, second.weights["ff"].snapshots)
    assert not np.array_equal(first.weights["ff"].snapshots[-1], initial)


@pytest.mark.parametrize("delay", [0.0, {"dist": "uniform", "low": 0.0, "high": 5.0}])
def test_learning_does_not_depend_on_the_chunking(delay):
    doc = poisson_stdp(5).to_dict()
    doc["network"]["projections"][0]["delay_ms"] = delay
    a = simulate(Project.from_dict(doc), chunk_wall_s=0.1)
    b = simulate(Project.from_dict(doc), chunk_wall_s=1e-6)  # many tiny chunks
    assert a.spikes.equals(b.spikes)
    np.testing.assert_array_equal(a.weights["ff"].snapshots, b.weights["ff"].snapshots)
    np.testing.assert_array_equal(a.weights["ff"].mean, b.weights["ff"].mean)


def test_learning_starts_inside_the_weight_bounds():
    from engine.core.build import build
    from engine.errors import ProjectError

    doc = poisson_stdp(1).to_dict()
    ff = doc["network"]["projections"][0]
    ff["weight"] = 3.0  # above w_max = 2
    with pytest.raises(ProjectError, match=r"projections\[0\]\.weight: must lie within the "
                                           r"plasticity bounds \[0, 2\] mV, got 3 mV"):
        Project.from_dict(doc)
    ff["weight"] = {"dist": "uniform", "low": -1.0, "high": 1.0}
    with pytest.raises(ProjectError, match=r"weight\.low: must lie within"):
        Project.from_dict(doc)
    ff["weight"] = {"dist": "normal", "mean": 1.5, "std": 2.0}  # draws are clipped instead
    compiled = build(Project.from_dict(doc))
    assert compiled.syn_weight.min() >= 0.0 and compiled.syn_weight.max() <= 2.0
    assert (compiled.syn_weight == 2.0).any() and (compiled.syn_weight == 0.0).any()


# ---------------------------------------------------------------------- per-synapse delays
PRE_TIMES = [[12.0, 40.0, 71.5], [20.0, 55.0], [33.3, 34.0, 90.0]]
DRIVE_TIMES = [[25.0, 80.0], [45.0], [15.0, 60.0, 95.0], [38.0]]


def _spread_delay_network(plasticity: dict) -> Project:
    """3 pre neurons -> 4 driven post neurons, all to all, delays drawn per synapse."""
    params = {"tau_m": 10.0, "v_rest": -65.0, "v_reset": -65.0, "v_thresh": -50.0,
              "t_ref": 5.0, "tau_syn_exc": 0.2, "v_init": -65.0}
    return Project.from_dict({
        "format": "spikestudio-project", "version": 1, "name": "spread",
        "network": {"nodes": [
            {"id": "pre", "kind": "encoder", "model": "spike_times", "size": 3,
             "params": {"times_ms": PRE_TIMES}},
            {"id": "drive", "kind": "encoder", "model": "spike_times", "size": 4,
             "params": {"times_ms": DRIVE_TIMES}},
            {"id": "post", "kind": "population", "model": "lif", "size": 4, "params": params},
        ], "projections": [
            {"id": "syn", "source": "pre", "target": "post", "weight": W0,
             "delay_ms": {"dist": "uniform", "low": 0.0, "high": 8.0},
             "plasticity": plasticity, "record_weights": {"every_ms": 10.0}},
            {"id": "kick", "source": "drive", "target": "post", "weight": 5000.0,
             "connectivity": {"rule": "one_to_one"}},
        ]},
        "simulation": {"duration_ms": 120.0, "dt_ms": DT, "seed": 3},
    })


@pytest.mark.parametrize("plasticity", [
    stdp(), stdp(pairing="nearest"), stdp(bounds="multiplicative"), dict(TEACH)])
def test_per_synapse_delays_learn_like_each_synapse_on_its_own(plasticity):
    """Each synapse pairs its own arrivals (spike + its delay) with its post neuron's spikes:
    the same as a lone synapse with that one delay."""
    from engine.core.build import build

    project = _spread_delay_network(plasticity)
    compiled = build(project)
    b = compiled.proj_ids.index("syn")
    lo, hi = compiled.proj_syn_off[b], compiled.proj_syn_off[b + 1]
    delays = compiled.syn_delay[compiled.proj_dsyn_off[b]:compiled.proj_dsyn_off[b] + hi - lo]
    assert len(set(delays.tolist())) > 5  # the synapses really have different delays
    record = simulate(project).weights["syn"]
    final = record.snapshots[-1]
    for s in range(hi - lo):
        i, j = int(record.pre[s]), int(record.post[s])
        alone, post, _ = run(circuit(PRE_TIMES[i], DRIVE_TIMES[j], plasticity,
                                     delay_ms=float(delays[s]) * DT, duration_ms=120.0))
        assert final[s] == pytest.approx(alone, abs=1e-6), (i, j, int(delays[s]))
    assert not np.allclose(final, W0)  # learning happened


def test_memory_guard_counts_the_queue_of_long_plastic_delays():
    from engine.core.build import build, estimate_memory
    from engine.errors import MemoryBudgetError

    doc = poisson_stdp(1).to_dict()
    doc["network"]["nodes"][0]["size"] = 20_000
    doc["network"]["projections"][0]["connectivity"] = {"rule": "fixed_indegree", "k": 5}
    doc["network"]["projections"][0]["delay_ms"] = 500.0  # 5001 queue rows x 20000 pre
    doc["simulation"]["memory_budget_mb"] = 100.0
    project = Project.from_dict(doc)
    parts = estimate_memory(project).items
    assert parts["queue of plastic pre spikes"] == 5001 * 4 * 20_000
    with pytest.raises(MemoryBudgetError, match="queue of plastic pre spikes"):
        build(project)
