"""Write (and measure) the federated-learning lab: client networks learn digits on their
own class mixes, a server averages their weight changes, compared with central training and
isolated clients.

Usage::

    .venv/bin/python sample_projects/make_federated_lab.py            # write federated_digits.json
    .venv/bin/python sample_projects/make_federated_lab.py --measure  # only print the figures

Each step's reference solution is applied on top of the previous ones and its check (which
runs the training experiment itself) is evaluated; its figures are written into the step.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from engine.evaluation.datasets import digits
from sample_projects.lab_solutions import check_step, project_of, solved_documents

HERE = Path(__file__).resolve().parent
OUT = HERE / "federated_digits.json"
NODES = {"input": "digits", "output": "out", "learn": "learn", "teacher": "teacher"}
SPLIT = {"clients": [[0, 1, 2], [3, 4, 5], [6, 7, 8, 9]], "per_class": 20,
         "labelling": 200, "test": 300, "seed": 0}
ROUNDS, COLUMN_TOTAL, TEACH_MV = 4, 100.0, 40.0
SHOWN = 30  # digits the project's own run presents (a look at one client's learning)

INTRO = """\
Three clients (phones, sensors) each hold their own digits, and never share them: client 0
has only 0, 1 and 2; client 1 only 3, 4 and 5; client 2 only 6 to 9 ({per_class} of each,
8x8 images as Poisson rates up to 100 Hz). Each client runs the same small network: 64
inputs (`digits`) -> 10 output neurons (`out`, one per class, with lateral inhibition `wta`),
where `learn` changes its weights by spike coincidence (the `teaching` rule: a pre spike with
an output spike within 5 ms of it grows the weight, a pre spike without one shrinks it).
During learning a teacher (`teacher`, one current per class) drives the output neuron of the
label and holds the others below threshold.

Federated averaging, as in McMahan et al. (2017), applied to synaptic changes: each round the
server sends its weights, every client learns for one pass over its own digits and sends
back only the **change** of its weights; the server adds their mean (weighted by each
client's number of digits) and sends the result back. No spike and no digit leaves a client.
After every round each output neuron's weights are scaled to sum {total:g} mV (synaptic
scaling, as Diehl & Cook 2015 normalise them), in every scheme alike. The clients run as tasks
of the worker pool (the same executor as sweeps: local processes, or Dask where configured).

Score: with learning and teacher off, each output neuron is labelled with the class it
responds to most on the server's {labelling} labelled digits; {test} held-out digits (all
ten classes) are then named by the most responsive labelled neurons. The project's own Run
presents {shown} digits with the teacher on: a look at what one client does in a round.
"""

STEPS = [
    {"id": "teach", "title": "Make one network learn",
     "text": "First, the baseline: all clients' digits in one place, {rounds} passes. The "
             "check trains the network your project describes and scores it on held-out "
             "digits; it needs at least {min_score:.0%}. As the project stands the network "
             "learns nothing useful. Run it and look at `out` while the digits are shown: "
             "which neuron fires for which digit?",
     "question": "What does the teacher's current do to the right output neuron, and to the "
                 "others, and why does the rule then grow the right weights?",
     "check": {"observation": "central_training_learns", "run": False,
               "params": {"nodes": NODES, "split": SPLIT, "rounds": ROUNDS,
                          "min_score": 0.5, "column_total": COLUMN_TOTAL, "workers": 0}},
     "solution": [{"edge": "teach", "param": "weight", "value": TEACH_MV}]},
    {"id": "federate", "title": "Federated, isolated, central",
     "text": "Now the real question: the clients' digits stay where they are. The check "
             "trains three ways from the same start for {rounds} rounds, with the clients as "
             "tasks of the worker pool: federated (FedAvg of weight changes), each client "
             "alone, and central. Federated must beat the best isolated client by "
             "{min_gain:.0%} and trail central by at most {max_gap:.0%}.",
     "question": "Why does an isolated client score so low on all ten classes, however well "
                 "it knows its own? What does the server learn about a client's data from its "
                 "weight changes, and what would a client with only one class reveal?",
     "check": {"observation": "federated_beats_isolated", "run": False,
               "params": {"nodes": NODES, "split": SPLIT, "rounds": ROUNDS,
                          "min_gain": 0.2, "max_gap": 0.15, "column_total": COLUMN_TOTAL,
                          "workers": 2}},
     "solution": []},
]


def lif() -> dict:
    return {"tau_m": 20.0, "v_rest": -65.0, "v_reset": -65.0, "v_thresh": -50.0,
            "t_ref": 2.0, "tau_syn_exc": 5.0, "tau_syn_inh": 5.0, "v_init": -65.0}


def starting_document() -> dict:
    """The lab's project before any step: the teacher is connected with weight 0."""
    data = digits()
    x, y = data.x[:SHOWN], data.y[:SHOWN]
    fmt = {"rounds": ROUNDS, "min_score": 0.5, "min_gain": 0.2, "max_gap": 0.15}
    steps = [{**step, "text": step["text"].format(**fmt)} for step in STEPS]
    nodes = [
        {"id": "digits", "kind": "encoder", "model": "dataset", "size": 64,
         "label": "Digits (8x8)",
         "params": {"samples": np.round(x, 4).tolist(), "labels": [int(v) for v in y],
                    "present_ms": 50.0, "pause_ms": 0.0, "coding": "poisson",
                    "max_rate_hz": 100.0}},
        {"id": "teacher", "kind": "encoder", "model": "dataset_current", "size": 10,
         "label": "Teacher (label)",
         "params": {"samples": (2 * np.eye(10)[y] - 1).tolist(), "labels": [int(v) for v in y],
                    "present_ms": 50.0, "pause_ms": 0.0}},
        {"id": "out", "kind": "population", "model": "lif", "size": 10,
         "label": "Output (one per class)", "params": lif()},
    ]
    projections = [
        {"id": "learn", "source": "digits", "target": "out",
         "connectivity": {"rule": "all_to_all"},
         "weight": {"dist": "uniform", "low": 0.0, "high": 0.8}, "delay_ms": 1.0,
         "receptor": "exc", "label": "learns (teaching rule)",
         "plasticity": {"rule": "teaching", "step_up": 0.15, "step_down": 0.006,
                        "window_ms": 5.0, "w_min": 0.0, "w_max": 8.0}},
        {"id": "teach", "source": "teacher", "target": "out",
         "connectivity": {"rule": "one_to_one"}, "weight": 0.0, "delay_ms": 0.0,
         "receptor": "exc", "plasticity": None, "label": "teacher -> output"},
        {"id": "wta", "source": "out", "target": "out",
         "connectivity": {"rule": "all_to_all", "allow_autapses": False}, "weight": -30.0,
         "delay_ms": 1.0, "receptor": "inh", "plasticity": None,
         "label": "lateral inhibition"},
    ]
    return {
        "format": "spikestudio-project", "version": 1,
        "name": "Federated learning: share weight changes, not data",
        "description": "Three clients learn digits on their own class mixes; a server "
                       "averages their weight changes each round (FedAvg). Compared with "
                       "central training and isolated clients on the same held-out digits.",
        "network": {"nodes": nodes, "projections": projections},
        "simulation": {"duration_ms": 50.0 * SHOWN, "dt_ms": 1.0, "seed": 2,
                       "count_bin_ms": 10.0, "record_spikes": "all",
                       "memory_budget_mb": 512.0},
        "layout": {"positions": {"digits": [60, 160], "teacher": [60, 320],
                                 "out": [340, 220]}},
        "lab": {"id": "federated-learning",
                "title": "Federated learning: share weight changes, not data",
                "intro": INTRO.format(per_class=SPLIT["per_class"], total=COLUMN_TOTAL,
                                      labelling=SPLIT["labelling"], test=SPLIT["test"],
                                      shown=SHOWN),
                "steps": steps},
    }


def figures_text(measured: dict[str, float], wall_s: float) -> str:
    """The Markdown of a step's measured figures."""
    table = "\n".join(f"| {name} | {value:.3g} |" for name, value in measured.items())
    return (f"Measured by the reference solution (split seed {SPLIT['seed']}, check took "
            f"{wall_s:.0f} s on a 2-core machine):\n\n| figure | value |\n|---|---|\n"
            + table + "\n")


def measure(document: dict) -> dict:
    """Run every step's solution, check it, and write its figures into the document."""
    for step, solved in solved_documents(document):
        t0 = time.perf_counter()
        obs, _ = check_step(solved, step)
        wall = time.perf_counter() - t0
        print(json.dumps({"step": step["id"], "holds": obs.holds, "message": obs.message,
                          "wall_s": round(wall, 1)}))
        if not obs.holds:
            raise SystemExit(f"step {step['id']}: the reference solution fails its check")
        next(s for s in document["lab"]["steps"] if s["id"] == step["id"])["figures"] = \
            figures_text(obs.measured, wall)
    return document


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--measure", action="store_true", help="only print the figures")
    args = parser.parse_args()
    document = measure(starting_document())
    project_of(document)
    if not args.measure:
        OUT.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
