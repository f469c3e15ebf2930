"""Write (and measure) the self-organisation lab, ``self_organisation.json``.

Usage::

    .venv/bin/python sample_projects/make_self_organisation_lab.py            # write the file
    .venv/bin/python sample_projects/make_self_organisation_lab.py --measure  # figures only

After Diehl & Cook (2015): 64 rate-coded inputs (the 8x8 digits) drive 100 adaptive-threshold
LIF neurons through STDP synapses; the neurons inhibit each other. The reference solutions are
run and each step's figures are filled in from what its check measured.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path

from engine.evaluation.datasets import digits_split
from sample_projects.lab_reference import load, reference_steps

HERE = Path(__file__).resolve().parent
OUT = HERE / "self_organisation.json"
N_EXC = 100
SHOWN = 20  # digits in the project itself (a short excerpt of training to look at)
#: The reference network (bench/self_organisation.py measures variants of it).
REFERENCE = {"rate_hz": 200.0, "w_init": 1.5, "w_max": 20.0, "a_plus": 0.02, "a_minus": 0.0,
             "inhibition_mv": -30.0, "delta_thresh": 0.05, "tau_adapt": 1e7,
             "present_ms": 200.0, "pause_ms": 50.0}
PROCEDURE = {"population": "exc", "projection": "ff", "n_train": 797, "n_label": 797,
             "n_test": 1000, "block": 10, "weight_sum": 48.0, "epochs": 2}
TARGET = {"min_accuracy": 0.75, "max_neurons": 100}


def network(p: dict, n_shown: int = SHOWN) -> dict:
    """The project document of a network with parameters ``p`` (as :data:`REFERENCE`)."""
    train, _ = digits_split()
    exc = {"tau_m": 20.0, "v_rest": -65.0, "v_reset": -65.0, "v_thresh": -55.0, "t_ref": 5.0,
           "delta_thresh": p["delta_thresh"], "tau_adapt": p["tau_adapt"], "v_init": -65.0,
           "tau_syn_exc": 5.0, "tau_syn_inh": 5.0}
    stdp = {"rule": "stdp", "a_plus": p["a_plus"], "a_minus": p["a_minus"], "tau_plus": 20.0,
            "tau_minus": 20.0, "w_min": 0.0, "w_max": p["w_max"]}
    n_shown = max(1, n_shown)
    return {
        "format": "spikestudio-project", "version": 1, "name": "Self-organisation on digits",
        "description": "Competitive STDP learning of the 8x8 digits with lateral inhibition "
                       "and adaptive thresholds (after Diehl & Cook 2015).",
        "network": {
            "nodes": [
                {"id": "digits", "kind": "encoder", "model": "dataset", "size": 64,
                 "label": "Digits (8x8, rate coded)",
                 "params": {"samples": train.x[:n_shown].round(4).tolist(),
                            "labels": train.y[:n_shown].tolist(),
                            "present_ms": p["present_ms"], "pause_ms": p["pause_ms"],
                            "reset": False, "coding": "poisson", "max_rate_hz": p["rate_hz"]}},
                {"id": "exc", "kind": "population", "model": "adaptive_lif", "size": N_EXC,
                 "label": "Excitatory (adaptive threshold)", "params": exc},
                {"id": "thresholds", "kind": "monitor", "model": "state", "target": "exc",
                 "label": "Threshold rise of 4 neurons",
                 "params": {"variables": ["theta"], "neurons": [0, 1, 2, 3],
                            "interval_ms": 5.0}}],
            "projections": [
                {"id": "ff", "source": "digits", "target": "exc",
                 "connectivity": {"rule": "all_to_all"},
                 "weight": {"dist": "uniform", "low": 0.0, "high": p["w_init"]},
                 "delay_ms": 0.0, "receptor": "exc", "plasticity": stdp},
                {"id": "lateral", "source": "exc", "target": "exc",
                 "connectivity": {"rule": "all_to_all", "allow_autapses": False},
                 "weight": p["inhibition_mv"], "delay_ms": 0.0, "receptor": "inh",
                 "plasticity": None}]},
        "simulation": {"duration_ms": n_shown * (p["present_ms"] + p["pause_ms"]),
                       "dt_ms": 0.5, "seed": 1, "count_bin_ms": 1.0, "record_spikes": "all",
                       "memory_budget_mb": 1024.0},
        "layout": {"positions": {"digits": [80, 160], "exc": [340, 160],
                                 "thresholds": [600, 160]}},
    }


INTRO = """\
# Lab: self-organisation of digit detectors (Diehl & Cook 2015)

Can neurons learn to recognise digits without ever being told which digit they see? The
network: 64 inputs, one per pixel of the 8x8 `digits` (scikit-learn's, 797 for training and
1,000 held out), each firing at up to 200 Hz with the pixel's ink; 100 excitatory neurons
(`exc`, adaptive-threshold LIF) that receive every pixel through **STDP** synapses (`ff`,
potentiation only, weights in [0, 20] mV) and inhibit each other (`lateral`). Each digit is
shown for 200 ms, then 50 ms of silence.

Three mechanisms make the neurons specialise:

- **Competition.** The first neuron to fire silences the others through `lateral`, so only the
  neuron whose weights match the digit best learns from it (STDP strengthens the synapses of
  the pixels that made it fire).
- **Homeostasis.** Each spike raises the neuron's threshold by `delta_thresh`, and the rise
  lasts (tau_adapt = 10^7 ms): a neuron that wins too often makes room for the others.
- **Weight normalisation.** Every 10 training digits each neuron's 64 input weights are scaled
  to sum to 48 mV (Diehl & Cook normalise too; the engine's STDP rule does not, the lab's
  training procedure does): a neuron's field can change shape but not grow without bound.

The project itself shows the first 20 training digits, so you can watch competition at work.
The last step's check runs the whole procedure from your project: training on the 797
training digits (shown twice), labelling each neuron with the class it answers most, and
classifying the 1,000 held-out digits by the class whose neurons answer most.
"""


def steps() -> list[dict]:
    return [
        {"id": "competition", "title": "Competition through lateral inhibition",
         "text": """\
Run the project and look at the raster of `exc`: with `lateral` at 0 mV every neuron that
receives enough ink fires for every digit, so they would all learn the same thing. Give the
lateral inhibition a weight of -30 mV and run again: now only a few neurons answer each
digit.""",
         "question": "Why does learning need competition? What would STDP do to 100 neurons "
                     "that all fire for every digit?",
         "check": {"observation": "self_organisation_competition",
                   "params": {"population": "exc", "encoder": "digits", "max_active": 10}},
         "solution": [{"edge": "lateral", "param": "weight",
                       "value": REFERENCE["inhibition_mv"]}]},
        {"id": "score", "title": "Learn, label, classify",
         "text": """\
The check of this step trains your network on the 797 training digits (two passes), labels
its neurons and scores them on the 1,000 held-out digits (it takes under a minute). The
project starts with STDP switched off (`a_plus` = 0 on `ff`): the weights stay random, and
random detectors already score above chance (10 %). Switch learning on with a_plus = 0.02 mV
and check again; the target is at least 75 % with 100 neurons.""",
         "question": "How much of the score is learning, and how much the labelling of random "
                     "detectors? What would more neurons, or more training digits, change?",
         "check": {"observation": "self_organisation_score", "run": False,
                   "params": {**PROCEDURE, **TARGET}},
         "solution": [{"edge": "ff", "param": "plasticity.a_plus",
                       "value": REFERENCE["a_plus"]}]},
    ]


def build() -> dict:
    """The lab's project: the reference network with lateral inhibition and learning off."""
    document = network({**REFERENCE, "inhibition_mv": 0.0, "a_plus": 0.0})
    document["lab"] = {"id": "self-organisation", "title": "Self-organisation on digits",
                       "intro": INTRO, "steps": steps()}
    return document


def _compact_numbers(text: str) -> str:
    """Put every list of plain numbers on one line (a sample's pixels)."""
    return re.sub(r"\[\s*(-?[0-9][-0-9.e,\s]*?)\s*\]",
                  lambda m: "[" + ", ".join(x.strip() for x in m.group(1).split(",")) + "]",
                  text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--measure", action="store_true", help="print, do not write")
    args = parser.parse_args()
    document = build()
    t0 = time.perf_counter()
    for step, _doc, obs in reference_steps(document):
        wall = time.perf_counter() - t0
        print(json.dumps({"step": step["id"], "holds": obs.holds, "message": obs.message,
                          "wall_s": round(wall, 1)}))
        shown = ", ".join(f"{k} = {v:.3g}" for k, v in obs.measured.items())
        step["figures"] = (f"Measured by the reference solution: {obs.message}\n\n({shown}; "
                           f"the check took {wall:.0f} s here)")
        if not obs.holds:
            raise SystemExit(f"step {step['id']}: the reference solution fails its check")
        t0 = time.perf_counter()
    if not args.measure:
        load(document)  # validated as the workbench validates projects
        OUT.write_text(_compact_numbers(json.dumps(document, indent=1)) + "\n",
                       encoding="utf-8")
        print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
