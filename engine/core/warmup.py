"""Compile and cache every numba kernel once, so a user's first Run is fast.

A tiny network touches every code path that has its own compiled specialisation (the kernel
inlines every neuron model's step, so one population compiles them all; static and
per-synapse delays, STDP and the teaching rule, Poisson input,
fixed-probability and fixed-in-degree connectivity, trace and weight recording).
"""

from __future__ import annotations

import copy
import time

from engine.project import Project

_WARM_DOC = {
    "format": "spikestudio-project", "version": 1, "name": "warm-up",
    "network": {
        "nodes": [
            {"id": "noise", "kind": "encoder", "model": "poisson", "size": 20,
             "params": {"rate_hz": 50.0}},
            {"id": "drive", "kind": "encoder", "model": "step_current", "size": 1,
             "params": {"amplitude": 20.0, "start_ms": 1.0, "stop_ms": 5.0}},
            {"id": "a", "kind": "population", "model": "lif", "size": 10, "params": {}},
            {"id": "b", "kind": "population", "model": "izhikevich", "size": 10,
             "params": {"preset": "regular_spiking"}},
            {"id": "vm", "kind": "monitor", "model": "state", "target": "a",
             "params": {"variables": ["v", "i_exc"], "neurons": [0]}},
        ],
        "projections": [
            {"id": "in_a", "source": "noise", "target": "a",
             "connectivity": {"rule": "fixed_probability", "p": 0.5}, "weight": 2.0,
             "delay_ms": 1.0, "plasticity": {"rule": "stdp", "w_max": 4.0}},
            {"id": "in_b", "source": "noise", "target": "b",
             "connectivity": {"rule": "fixed_indegree", "k": 5}, "weight": 5.0,
             "delay_ms": {"dist": "uniform", "low": 0.0, "high": 2.0},
             "plasticity": None},
            {"id": "a_b", "source": "a", "target": "b", "weight": 1.0,
             "plasticity": {"rule": "teaching"}},
            {"id": "b_a", "source": "b", "target": "a", "weight": -1.0, "receptor": "inh"},
            {"id": "drive_a", "source": "drive", "target": "a", "weight": 1.0},
        ],
    },
    "simulation": {"duration_ms": 10.0, "dt_ms": 0.1, "seed": 1},
}


def warm_up(several_threads: bool = True) -> float:
    """Run the warm-up network with one thread and, with ``several_threads`` where numba may
    use more than one, a network wide enough to be split over two threads: the kernel of
    several threads is compiled apart and only runs where a step's update is split
    (:func:`engine.core.kernels.thread_parts`), so a small network never compiles it.
    Returns the seconds it took (about 0.5 s once cached).

    Parameters
    ----------
    several_threads
        Also compile (or load) the kernel of several threads. Processes that only ever run
        one thread (a server's workers under the default cap, a sweep's workers) skip it.
    """
    import numba

    from engine.core.kernels import MIN_NEURONS_PER_THREAD
    from engine.simulator import Simulation

    start = time.perf_counter()
    Simulation(Project.from_dict(_WARM_DOC), threads=1).run()
    if several_threads and numba.config.NUMBA_NUM_THREADS > 1:
        wide = copy.deepcopy(_WARM_DOC)
        wide["network"]["nodes"].append(
            {"id": "wide", "kind": "population", "model": "lif",
             "size": 2 * MIN_NEURONS_PER_THREAD, "params": {}})
        wide["simulation"]["duration_ms"] = 1.0
        Simulation(Project.from_dict(wide), threads=2).run()
    return time.perf_counter() - start
