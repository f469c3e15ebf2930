"""Self-organisation on digits (Diehl & Cook 2015 style): accuracy of the learned network.

Usage::

    .venv/bin/python bench/self_organisation.py              # every configuration, seed 1
    .venv/bin/python bench/self_organisation.py --seeds 1 2 3 --configs trained

Runs :func:`engine.labs.self_organisation.train_and_score` on the network of the lab
(``sample_projects/make_self_organisation_lab.py``: 64 rate-coded pixels, 100 adaptive-
threshold LIF neurons, lateral inhibition, STDP): train on the 797 training digits with weight
normalisation every 10 digits (two passes), label the neurons on the same digits, classify the 1,000
held-out digits. Each configuration prints one JSON line with its wall time and the load;
``untrained`` is the same network with STDP off (random fixed weights), the baseline learning
must beat. Figures: bench/RESULTS.md, "Self-organisation".
"""

from __future__ import annotations

import argparse
import json
import os
import time

from engine.labs.self_organisation import train_and_score
from engine.project import Project
from sample_projects.make_self_organisation_lab import PROCEDURE, REFERENCE, network

CONFIGS = {
    "untrained": {"a_plus": 0.0},
    "trained": {},
    "trained_fast_homeostasis": {"delta_thresh": 0.5, "tau_adapt": 20000.0},
    "trained_short_presentation": {"present_ms": 100.0},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1])
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    args = parser.parse_args()
    for name in args.configs:
        for seed in args.seeds:
            document = network({**REFERENCE, **CONFIGS[name]})
            document["simulation"]["seed"] = seed
            t0 = time.perf_counter()
            score = train_and_score(Project.from_dict(document), **PROCEDURE)
            print(json.dumps({"config": name, "seed": seed, "epochs": PROCEDURE["epochs"],
                              "accuracy": round(score.accuracy, 3),
                              "classes_covered": score.classes_covered,
                              "silent_test": round(score.silent_test, 3),
                              "wall_s": round(time.perf_counter() - t0, 1),
                              "load_1min": round(os.getloadavg()[0], 1)}), flush=True)


if __name__ == "__main__":
    main()
