"""Write (and measure) the Izhikevich firing-pattern lab, ``izhikevich_patterns.json``.

Usage::

    .venv/bin/python sample_projects/make_izhikevich_lab.py            # write the file
    .venv/bin/python sample_projects/make_izhikevich_lab.py --measure  # only print the figures

Seven single Izhikevich neurons, each with its own input, start with the regular-spiking
parameters; each step gives one of them the published a, b, c, d of a pattern of Izhikevich
(2003, IEEE TNN 14:1569, fig. 2). The reference solutions are run and each step's figures are
filled in from what its check measured on that run.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from sample_projects.lab_reference import load, reference_steps

HERE = Path(__file__).resolve().parent
OUT = HERE / "izhikevich_patterns.json"
DURATION_MS = 500.0
STEP_START, STEP_STOP, STEP_AMP = 100.0, 500.0, 10.0    # the DC step of the paper's figure
HYPER_START, HYPER_STOP, HYPER_AMP = 100.0, 250.0, -10.0  # thalamo-cortical rebound
PULSE_START, PULSE_STOP, PULSE_AMP = 200.0, 205.0, -1.0   # resonator: a brief small kick
RS = {"a": 0.02, "b": 0.2, "c": -65.0, "d": 8.0}

# id, label, input (start, stop, amplitude), published parameters (fig. 2), check
NEURONS = [
    ("rs", "Regular spiking", (STEP_START, STEP_STOP, STEP_AMP), RS,
     "izhikevich_regular_spiking"),
    ("ib", "Intrinsically bursting", (STEP_START, STEP_STOP, STEP_AMP),
     {"a": 0.02, "b": 0.2, "c": -55.0, "d": 4.0}, "izhikevich_intrinsically_bursting"),
    ("ch", "Chattering", (STEP_START, STEP_STOP, STEP_AMP),
     {"a": 0.02, "b": 0.2, "c": -50.0, "d": 2.0}, "izhikevich_chattering"),
    ("fs", "Fast spiking", (STEP_START, STEP_STOP, STEP_AMP),
     {"a": 0.1, "b": 0.2, "c": -65.0, "d": 2.0}, "izhikevich_fast_spiking"),
    ("lts", "Low-threshold spiking", (STEP_START, STEP_STOP, STEP_AMP),
     {"a": 0.02, "b": 0.25, "c": -65.0, "d": 2.0}, "izhikevich_low_threshold_spiking"),
    ("tc", "Thalamo-cortical", (HYPER_START, HYPER_STOP, HYPER_AMP),
     {"a": 0.02, "b": 0.25, "c": -65.0, "d": 0.05}, "izhikevich_rebound_burst"),
    ("rz", "Resonator", (PULSE_START, PULSE_STOP, PULSE_AMP),
     {"a": 0.1, "b": 0.26, "c": -65.0, "d": 2.0}, "izhikevich_resonator"),
]

INTRO = """\
# Lab: the firing patterns of the Izhikevich neuron

Izhikevich (2003) showed that one two-variable model reproduces the firing patterns of the
main classes of cortical and thalamic neurons:

    dv/dt = 0.04 v^2 + 5 v + 140 - u + I        du/dt = a (b v - u)
    if v >= 30 mV:  v <- c,  u <- u + d

`v` is the membrane potential (mV), `u` a recovery variable that feeds back negatively on `v`,
time is in ms. Four numbers set the pattern: **a** is how fast `u` recovers, **b** how strongly
`u` follows `v`, **c** the reset of `v` after a spike and **d** the jump of `u` after a spike.

The project holds seven single neurons, each driven by its own input and recorded by a state
monitor (`v` and `u`). All of them start with the *regular spiking* parameters
a = 0.02, b = 0.2, c = -65 mV, d = 8. Five receive a step of I = 10 from 100 ms to the end, the
thalamo-cortical neuron `tc` a negative step (I = -10 from 100 to 250 ms) and the resonator
`rz` a brief negative kick (I = -1 from 200 to 205 ms). In each step you give one neuron the
parameters of a class from the paper's figure 2 and look at its spikes and its `v` trace.

The checks measure the pattern from the spikes and from `v` (bursts, the change of the
intervals, the rate, a rebound, ringing), never from the parameters: any setting that produces
the pattern passes. Simulation: forward Euler at dt = 0.1 ms.
"""

STEPS = {
    "rs": ("Regular spiking", """\
The neuron `rs` has the regular-spiking parameters but no input yet. Give its input node
`rs_input` an amplitude of 10 (it is a step from 100 ms to the end) and run. Regular spiking
neurons, the most common excitatory cells of the cortex, fire a few spikes with short
intervals and then slow down: **spike-frequency adaptation**. Look at `u` in the trace: every
spike adds d = 8 to it, faster than it recovers (a = 0.02/ms, a 50 ms time scale).""",
           "Why do the intervals stop growing after a few spikes? What sets the rate the "
           "neuron settles to?"),
    "ib": ("Intrinsically bursting", """\
Give `ib` the parameters c = -55 mV and d = 4 (keep a and b). With a higher reset and a smaller
jump of `u`, the neuron fires a **burst** of spikes at the onset of the input and then single
spikes.""",
           "What ends the first burst, and why does the neuron not burst again?"),
    "ch": ("Chattering", """\
Give `ch` the parameters c = -50 mV and d = 2. Chattering neurons fire **repeated bursts** of
closely spaced spikes (at about 40 Hz between bursts in cortex).""",
           "Compare the number of spikes per burst with the intrinsically bursting neuron. "
           "Which parameter makes the difference?"),
    "fs": ("Fast spiking", """\
Give `fs` a = 0.1 and d = 2. Fast-spiking neurons (inhibitory interneurons) fire at high rates
with hardly any adaptation: a fast `u` recovers between spikes.""",
           "How does the rate during the input compare with the regular-spiking neuron's?"),
    "lts": ("Low-threshold spiking", """\
Give `lts` b = 0.25 and d = 2. Low-threshold spiking interneurons start at a very high rate
and slow down markedly; the larger b also lowers their threshold.""",
           "Both `fs` and `lts` start fast. Which one adapts, and why?"),
    "tc": ("Thalamo-cortical: the rebound burst", """\
Give `tc` b = 0.25 and d = 0.05. Its input holds it hyperpolarised from 100 to 250 ms. Thalamic
relay neurons are silent while hyperpolarised and fire a **rebound burst** when released.
Watch `u` during the negative input: it follows `b v` down.""",
           "Give the regular-spiking neuron the same negative input in your head: why does it "
           "not rebound?"),
    "rz": ("Resonator: subthreshold ringing", """\
Give `rz` a = 0.1 and b = 0.26. Its input is a small negative kick at 200 ms. A resonator's
resting state is a damped oscillation (a stable spiral): after the kick `v` **rings** around
its resting level instead of creeping back. Zoom into the `v` trace between 200 and 300 ms.""",
           "Resonators respond best to inputs at their own frequency. From the ringing you "
           "see, roughly what frequency is that?"),
}


def _neuron_nodes(i: int, nid: str, label: str, stimulus: tuple) -> tuple[list, dict, dict]:
    start, stop, amplitude = stimulus
    if nid == "rs":
        amplitude = 0.0  # step 1: the student gives it its input
    nodes = [
        {"id": f"{nid}_input", "kind": "encoder", "model": "step_current", "size": 1,
         "label": f"Input of {label.lower()}",
         "params": {"amplitude": amplitude, "start_ms": start, "stop_ms": stop}},
        {"id": nid, "kind": "population", "model": "izhikevich", "size": 1, "label": label,
         "params": {**RS, "v_init": -70.0}},
        {"id": f"{nid}_v", "kind": "monitor", "model": "state", "target": nid,
         "label": f"{label}: v, u",
         "params": {"variables": ["v", "u"], "neurons": [0], "interval_ms": 0.1}},
    ]
    edge = {"id": f"{nid}_drive", "source": f"{nid}_input", "target": nid,
            "connectivity": {"rule": "all_to_all"}, "weight": 1.0, "delay_ms": 0.0,
            "receptor": "exc", "plasticity": None}
    y = 80 + 110 * i
    positions = {f"{nid}_input": [80, y], nid: [340, y], f"{nid}_v": [600, y]}
    return nodes, edge, positions


def _steps() -> list[dict]:
    steps = []
    for nid, _label, (start, stop, _amp), params, check in NEURONS:
        title, text, question = STEPS[nid]
        if nid == "rs":
            solution = [{"node": "rs_input", "param": "amplitude", "value": STEP_AMP}]
        else:
            solution = [{"node": nid, "param": k, "value": v} for k, v in params.items()
                        if v != RS[k]]
        check_params = {"population": nid, "start_ms": start, "stop_ms": stop}
        steps.append({"id": nid, "title": title, "text": text, "question": question,
                      "check": {"observation": check, "params": check_params},
                      "solution": solution})
    return steps


def build() -> dict:
    """The lab's project document (figures not measured yet)."""
    nodes, edges, positions = [], [], {}
    for i, (nid, label, stimulus, _params, _check) in enumerate(NEURONS):
        n, e, p = _neuron_nodes(i, nid, label, stimulus)
        nodes += n
        edges.append(e)
        positions.update(p)
    return {
        "format": "spikestudio-project", "version": 1,
        "name": "Izhikevich firing patterns",
        "description": "Seven Izhikevich neurons given the parameters of Izhikevich (2003), "
                       "fig. 2: regular spiking, intrinsically bursting, chattering, fast "
                       "spiking, low-threshold spiking, thalamo-cortical rebound, resonator.",
        "network": {"nodes": nodes, "projections": edges},
        "simulation": {"duration_ms": DURATION_MS, "dt_ms": 0.1, "seed": 1,
                       "count_bin_ms": 1.0, "record_spikes": "all", "memory_budget_mb": 512.0},
        "layout": {"positions": positions},
        "lab": {"id": "izhikevich", "title": "Izhikevich firing patterns", "intro": INTRO,
                "steps": _steps()},
    }


def _figures(measured: dict[str, float], message: str) -> str:
    shown = ", ".join(f"{k} = {v:.3g}" for k, v in measured.items())
    return f"Measured by the reference solution: {message}\n\n({shown})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--measure", action="store_true", help="print, do not write")
    args = parser.parse_args()
    document = build()
    for step, _doc, obs in reference_steps(document):
        print(json.dumps({"step": step["id"], "holds": obs.holds, "message": obs.message}))
        step["figures"] = _figures(obs.measured, obs.message)
        if not obs.holds:
            raise SystemExit(f"step {step['id']}: the reference solution fails its check")
    if not args.measure:
        load(document)  # validated as the workbench validates projects
        OUT.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
