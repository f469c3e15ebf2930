"""Self-organisation on digits (Diehl & Cook 2015 style): accuracy of the learned network.

Usage::

    .venv/bin/python bench/self_organisation.py            # the configurations below
    .venv/bin/python bench/self_organisation.py --quick    # 200 / 200 / 200 digits

Builds a project with 64 rate-coded inputs (the 8x8 digits), 100 adaptive-threshold LIF
neurons with all-to-all lateral inhibition and STDP on the input weights, then runs
:func:`engine.labs.self_organisation.train_and_score` (train on the 797 training digits in
blocks with weight normalisation, label the neurons on training digits, classify the 1,000
held-out digits). Each configuration prints one JSON line; ``untrained`` is the same network
with STDP amplitudes of zero (random fixed weights), the baseline learning must beat.
Figures and the load they were taken under: bench/RESULTS.md, "Self-organisation".
"""

from __future__ import annotations

import argparse
import json
import os
import time

from engine.datasets import digits_split
from engine.labs.self_organisation import train_and_score
from engine.project import Project

BASE = {"rate_hz": 200.0, "w_init": 0.2, "w_max": 20.0, "a_plus": 0.1, "a_minus": 0.0,
        "inhibition_mv": -30.0, "delta_thresh": 0.2, "tau_adapt": 20000.0, "present_ms": 200.0,
        "pause_ms": 50.0}
CONFIGS = {
    "untrained": {**BASE, "a_plus": 0.0},
    "trained": BASE,
    "trained_short_presentation": {**BASE, "present_ms": 100.0},
    "trained_stdp_depression": {**BASE, "a_minus": 0.12},
}


def network(p: dict) -> dict:
    """The project document of one configuration (5 placeholder digits in the encoder)."""
    train, _ = digits_split()
    lif = {"tau_m": 20.0, "v_rest": -65.0, "v_reset": -65.0, "v_thresh": -55.0, "t_ref": 5.0,
           "delta_thresh": p["delta_thresh"], "tau_adapt": p["tau_adapt"], "v_init": -65.0,
           "tau_syn_exc": 5.0, "tau_syn_inh": 5.0}
    stdp = {"rule": "stdp", "a_plus": p["a_plus"], "a_minus": p["a_minus"], "tau_plus": 20.0,
            "tau_minus": 20.0, "w_min": 0.0, "w_max": p["w_max"]}
    return {
        "format": "spikestudio-project", "version": 1, "name": "Self-organisation bench",
        "network": {
            "nodes": [
                {"id": "digits", "kind": "encoder", "model": "dataset", "size": 64,
                 "params": {"samples": train.x[:5].tolist(), "labels": train.y[:5].tolist(),
                            "present_ms": p["present_ms"], "pause_ms": p["pause_ms"],
                            "reset": False, "coding": "poisson", "max_rate_hz": p["rate_hz"]}},
                {"id": "exc", "kind": "population", "model": "adaptive_lif", "size": 100,
                 "params": lif}],
            "projections": [
                {"id": "ff", "source": "digits", "target": "exc",
                 "connectivity": {"rule": "all_to_all"},
                 "weight": {"dist": "uniform", "low": 0.0, "high": p["w_init"]},
                 "delay_ms": 0.0, "receptor": "exc", "plasticity": stdp},
                {"id": "lateral", "source": "exc", "target": "exc",
                 "connectivity": {"rule": "all_to_all", "allow_autapses": False},
                 "weight": p["inhibition_mv"], "delay_ms": 0.0, "receptor": "inh"}]},
        "simulation": {"duration_ms": 100.0, "dt_ms": 0.5, "seed": 1, "record_spikes": "all"},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    sizes = ({"n_train": 200, "n_label": 200, "n_test": 200} if args.quick else
             {"n_train": 797, "n_label": 797, "n_test": 1000})
    for name, params in CONFIGS.items():
        t0 = time.perf_counter()
        score = train_and_score(Project.from_dict(network(params)), population="exc",
                                projection="ff", weight_sum=48.0, block=10, **sizes)
        print(json.dumps({"config": name, "accuracy": round(score.accuracy, 3),
                          "classes_covered": score.classes_covered,
                          "silent_test": round(score.silent_test, 3), **sizes,
                          "wall_s": round(time.perf_counter() - t0, 1),
                          "load_1min": os.getloadavg()[0], "params": params}), flush=True)


if __name__ == "__main__":
    main()
