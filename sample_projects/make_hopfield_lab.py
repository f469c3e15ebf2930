"""Write (and measure) the Hopfield associative-memory lab, ``hopfield_memory.json``.

Usage::

    .venv/bin/python sample_projects/make_hopfield_lab.py            # write the file
    .venv/bin/python sample_projects/make_hopfield_lab.py --measure  # only print the figures

100 LIF neurons on a 10 x 10 grid store two drawn patterns in Hebbian recurrent weights
(``engine.labs.hopfield``); a cue encoder replays a corrupted copy of one of them for the first
30 ms. The reference solutions are run and each step's figures are filled in from what its
check measured.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path

from engine.labs.hopfield import store_patterns
from sample_projects.lab_reference import load, reference_steps

HERE = Path(__file__).resolve().parent
OUT = HERE / "hopfield_memory.json"
N, COLUMNS = 100, 10
START_BIAS_MV, BIAS_MV = 5.0, 9.5
WINDOW = {"start_ms": 200.0, "stop_ms": 300.0}
CAPACITY_P = [2, 5, 8, 11, 14, 17, 20, 25]

RING = """
..######..
.########.
##......##
##......##
##......##
##......##
##......##
##......##
.########.
..######.."""
PLUS = """
....##....
....##....
....##....
....##....
##########
##########
....##....
....##....
....##....
....##...."""

INTRO = """\
# Lab: associative memory in a network of spiking neurons (Hopfield 1982)

A Hopfield network stores patterns of +-1 in symmetric weights and recalls a whole pattern
from a corrupted part of it. Here every cell of a 10 x 10 grid is one LIF neuron of the
population `memory` (N = 100): a cell that is on (`#`, +1) fires, a cell that is off
(`.`, -1) stays silent.

**Storing.** The project's `hopfield` section holds the patterns drawn on the grid (a ring and
a plus sign). The recurrent weights are the Hebbian matrix

    W_ij = g / N * sum_mu p_i^mu p_j^mu      (W_ii = 0, g = 160 mV)

split by sign into the excitatory projection `recurrent_exc` and the inhibitory
`recurrent_inh`: neurons that agree in the stored patterns excite each other, those that
disagree inhibit each other.

**Recalling.** The encoder `cue` replays the ring with 20 % of its cells flipped: for the first
30 ms every on cell of this corrupted copy fires every 2 ms and drives its neuron through
`cue_drive`. After that the network is on its own. The checks read the rates between 200 and
300 ms: a neuron firing at more than half the top rate counts as +1, and the **overlap**
`m = 1/N sum_i s_i p_i` with the stored ring is the recall quality (1: perfect; the cue's
own overlap is 1 - 2 x 0.2 = 0.6).
"""

STEPS = [
    {"id": "recall", "title": "Recall the ring from a corrupted cue",
     "text": """\
Run the project and look at the raster of `memory`. During the cue the corrupted ring is on;
when the cue stops, the activity drifts to a state that is neither the ring nor the plus.

In the classical model a unit switches on when its summed input is positive: the threshold
sits at zero input. A LIF neuron at rest needs 10 mV of input (its rheobase) before it fires,
and the neurons' bias `i_offset` (now 5 mV) covers part of that. Raise the bias of `memory`
so that a small positive recurrent input is enough to make a neuron fire (the lab's solution
uses 9.5 mV) and run again.""",
     "question": "Why does the memory fail when the neurons sit far below threshold? What "
                 "plays the role of the Hopfield unit's threshold here?",
     "check": {"observation": "hopfield_recall", "params": dict(WINDOW)},
     "solution": [{"node": "memory", "param": "i_offset", "value": BIAS_MV}]},
    {"id": "capacity", "title": "The capacity curve",
     "text": """\
How many patterns can 100 neurons hold? The check of this step re-runs your network (your
neurons, bias, cue corruption and weight scale) with P random patterns (each with half its
cells on), P = 2 to 25, three trials each, and plots the recall quality against P. The
classical result for a Hopfield network of N binary units is about 0.138 N patterns (13.8
here); beyond it, recall collapses into mixtures of patterns.""",
     "question": "Where does your curve fall, compared with 0.138 N? What does a spiking "
                 "network of on/off neurons lose compared with +-1 units?",
     "check": {"observation": "hopfield_capacity", "run": False,
               "params": {"n_patterns": CAPACITY_P, "trials": 3, **WINDOW}},
     "solution": []},
]


def build() -> dict:
    """The lab's project document (figures not measured yet)."""
    lif = {"tau_m": 10.0, "v_rest": -60.0, "v_reset": -60.0, "v_thresh": -50.0, "t_ref": 5.0,
           "v_init": -60.0, "tau_syn_exc": 5.0, "tau_syn_inh": 5.0, "i_offset": START_BIAS_MV}
    recurrent = {"connectivity": {"rule": "matrix", "weights": [[0.0]]}, "weight": 0.0,
                 "delay_ms": 1.0, "plasticity": None, "source": "memory", "target": "memory"}
    document = {
        "format": "spikestudio-project", "version": 1,
        "name": "Hopfield associative memory",
        "description": "100 LIF neurons on a 10 x 10 grid store a ring and a plus sign in "
                       "Hebbian weights and recall the ring from a 20 % corrupted cue.",
        "network": {
            "nodes": [
                {"id": "cue", "kind": "encoder", "model": "spike_times", "size": N,
                 "label": "Corrupted cue", "params": {"times_ms": [[] for _ in range(N)]}},
                {"id": "memory", "kind": "population", "model": "lif", "size": N,
                 "label": "Memory (10 x 10)", "params": lif},
                {"id": "membrane", "kind": "monitor", "model": "state", "target": "memory",
                 "label": "Two cells", "params": {"variables": ["v"], "neurons": [0, 44],
                                                  "interval_ms": 0.5}},
            ],
            "projections": [
                {"id": "cue_drive", "source": "cue", "target": "memory",
                 "connectivity": {"rule": "one_to_one"}, "weight": 20.0, "delay_ms": 0.0,
                 "receptor": "exc", "plasticity": None},
                {"id": "recurrent_exc", "receptor": "exc", **recurrent},
                {"id": "recurrent_inh", "receptor": "inh", **recurrent},
            ],
        },
        "simulation": {"duration_ms": 300.0, "dt_ms": 0.1, "seed": 1, "count_bin_ms": 1.0,
                       "record_spikes": "all", "memory_budget_mb": 512.0},
        "layout": {"positions": {"cue": [80, 160], "memory": [340, 160],
                                 "membrane": [600, 160]}},
        "hopfield": {"population": "memory", "columns": COLUMNS,
                     "patterns": ["".join(RING.split()), "".join(PLUS.split())],
                     "gain_mv": 160.0, "cue": 0, "flip_fraction": 0.2, "cue_stop_ms": 30.0,
                     "cue_interval_ms": 2.0, "cue_node": "cue",
                     "excitatory": "recurrent_exc", "inhibitory": "recurrent_inh"},
        "lab": {"id": "hopfield", "title": "Hopfield associative memory", "intro": INTRO,
                "steps": STEPS},
    }
    return store_patterns(document)


def _figures(measured: dict[str, float], message: str, wall_s: float) -> str:
    shown = ", ".join(f"{k} = {v:.3g}" for k, v in measured.items())
    return (f"Measured by the reference solution: {message}\n\n({shown}; the check took "
            f"{wall_s:.0f} s here)")


def _compact_numbers(text: str) -> str:
    """Put every list of plain numbers on one line (a matrix row, a list of spike times)."""
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
        step["figures"] = _figures(obs.measured, obs.message, wall)
        if not obs.holds:
            raise SystemExit(f"step {step['id']}: the reference solution fails its check")
        t0 = time.perf_counter()
    if not args.measure:
        load(document)  # validated as the workbench validates projects
        OUT.write_text(_compact_numbers(json.dumps(document, indent=1)) + "\n", encoding="utf-8")
        print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
