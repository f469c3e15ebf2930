"""Write (and measure) the neural-coding lab: rate, latency and delta codes of one signal.

Usage::

    .venv/bin/python sample_projects/make_coding_lab.py            # write neural_coding.json
    .venv/bin/python sample_projects/make_coding_lab.py --measure  # only print the figures

The starting project codes the signal coarsely with all three codes; each step's reference
solution is applied on top of the previous ones, simulated, and the figures its check relies
on are written into the step (``figures``) from that run.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from engine.analysis.decoders import window_edges, window_means
from sample_projects.lab_solutions import check_step, project_of, solved_documents

HERE = Path(__file__).resolve().parent
OUT = HERE / "neural_coding.json"
DURATION_MS, WINDOW_MS, ROW_MS = 1000.0, 50.0, 5.0
RATE_NEURONS, START_RATE_HZ, SOLVED_RATE_HZ = 20, 20.0, 400.0
MAX_ERROR = {"rate": 0.08, "latency": 0.02, "delta": 0.05}
COMMON_ERROR = 0.08


def signal_table() -> list[list[float]]:
    """The signal: two slow oscillations in [0.1, 0.9], held for 5 ms per row (steps of at
    most 0.04, below the delta code's finest threshold, so no change is lost)."""
    t = np.arange(0.0, DURATION_MS, ROW_MS)
    s = 0.5 + 0.3 * np.sin(2 * np.pi * t / 500.0) + 0.1 * np.sin(2 * np.pi * t / 125.0)
    return [[float(a), round(float(b), 4)] for a, b in zip(t, s, strict=True)]


def receiver(node_id: str, label: str) -> dict:
    return {"id": node_id, "kind": "population", "model": "lif", "size": 10, "label": label,
            "params": {"tau_m": 10.0, "v_rest": -65.0, "v_reset": -65.0, "v_thresh": -50.0,
                       "t_ref": 2.0, "tau_syn_exc": 5.0, "v_init": -65.0}}


def edge(source: str, target: str) -> dict:
    return {"id": f"{source}_{target}", "source": source, "target": target,
            "connectivity": {"rule": "all_to_all"}, "weight": 1.0, "delay_ms": 1.0,
            "receptor": "exc", "plasticity": None}


INTRO = """\
One signal, three codes. The signal is a slow wave in [0.1, 0.9] over {duration:g} ms (two
oscillations, periods 500 ms and 125 ms). Three encoders code it:

- `rate` (the `dataset` encoder, Poisson trains): the signal's mean in each of the {n_windows}
  windows of {window:g} ms, presented for {window:g} ms on all {rate_n} neurons, each firing at
  value x `max_rate_hz`. Decoded by counting the population's spikes in each window.
- `latency`: the same {n_windows} window means, one neuron per window, each as the time of one
  spike, t = t_max (1 - x). Decoded as x = 1 - t / t_max.
- `delta`: ON / OFF events each time the signal moves by one threshold since the last event,
  like an event camera, the signal held for {row:g} ms per row. Decoded by adding +threshold
  per ON and -threshold per OFF event.

Each code drives its own population of 10 LIF neurons (`rx_rate`, `rx_latency`, `rx_delta`,
all-to-all, 1 mV): their synaptic events are what each code costs on a chip. The decoders are
`engine.analysis.decoders`; the checks compare the decoded signal with the one each encoder
was given, as the root-mean-square error over the windows (the signal's units, 0..1). dt = 1 ms.
"""

STEPS = [
    {"id": "rate", "title": "Count spikes: the rate code",
     "text": "The rate code fires at most {start_rate:g} Hz. Run the project and look at the "
             "`rate` raster: the decoded rate of each window is a count of a few spikes. Make "
             "the rate code reconstruct the signal within {max_rate_err:g} (RMS), keeping its "
             "{rate_n} neurons, its samples and its {window:g} ms windows.",
     "question": "How does the error of a rate code fall with the number of spikes counted, "
                 "and what does that cost?",
     "check": {"observation": "code_reconstructs",
               "params": {"node": "rate", "code": "rate", "max_error": MAX_ERROR["rate"],
                          "window_ms": WINDOW_MS}},
     "solution": [{"node": "rate", "param": "max_rate_hz", "value": SOLVED_RATE_HZ}]},
    {"id": "latency", "title": "One spike per value: the latency code",
     "text": "The latency code spends one spike per value, all within t_max_ms of the start. "
             "With t_max = 5 ms and dt = 1 ms the spike times can take only a handful of "
             "values. Make it reconstruct within {max_latency_err:g}.",
     "question": "What limits the precision of a latency code, and what does a longer t_max "
                 "cost in reaction time?",
     "check": {"observation": "code_reconstructs",
               "params": {"node": "latency", "code": "latency",
                          "max_error": MAX_ERROR["latency"], "window_ms": WINDOW_MS}},
     "solution": [{"node": "latency", "param": "t_max_ms", "value": 50.0}]},
    {"id": "delta", "title": "Only changes: the delta code",
     "text": "The delta code emits an event only when the signal has moved by a threshold. "
             "At 0.4 it sees almost nothing of the wave. Make it reconstruct within "
             "{max_delta_err:g}.",
     "question": "Where in the signal do the delta events fall, and what would a constant "
                 "signal cost?",
     "check": {"observation": "code_reconstructs",
               "params": {"node": "delta", "code": "delta", "max_error": MAX_ERROR["delta"],
                          "window_ms": WINDOW_MS}},
     "solution": [{"node": "delta", "param": "threshold", "value": 0.05}]},
    {"id": "compare", "title": "Spikes, error and energy side by side",
     "text": "With every code within {common:g} of the signal, compare what each costs: its "
             "spikes and the event-driven energy of the population it drives, on the Loihi "
             "profile (open the Energy tab too). The check lists the three codes.",
     "question": "Rank the codes by energy at equal accuracy. Which would you choose for a "
                 "signal that rarely changes, and which when the answer is needed within "
                 "5 ms?",
     "check": {"observation": "codes_compared",
               "params": {"nodes": {"rate": "rate", "latency": "latency", "delta": "delta"},
                          "receivers": {"rate": "rx_rate", "latency": "rx_latency",
                                        "delta": "rx_delta"},
                          "max_error": COMMON_ERROR, "profile": "loihi",
                          "window_ms": WINDOW_MS}},
     "solution": []},
]


def starting_document() -> dict:
    """The lab's project before any step: coarse codes of the signal."""
    table = signal_table()
    edges = window_edges(DURATION_MS, WINDOW_MS)
    latency_values = [round(float(v), 4) for v in window_means(table, edges)]
    fmt = {"max_rate_err": MAX_ERROR["rate"], "max_latency_err": MAX_ERROR["latency"],
           "start_rate": START_RATE_HZ, "rate_n": RATE_NEURONS, "window": WINDOW_MS,
           "max_delta_err": MAX_ERROR["delta"], "common": COMMON_ERROR}
    steps = [{**step, "text": step["text"].format(**fmt)} for step in STEPS]
    nodes = [
        {"id": "rate", "kind": "encoder", "model": "dataset", "size": RATE_NEURONS,
         "label": "Rate code",
         "params": {"samples": [[v] * RATE_NEURONS for v in latency_values], "labels": [],
                    "present_ms": WINDOW_MS, "pause_ms": 0.0, "reset": False,
                    "coding": "poisson", "max_rate_hz": START_RATE_HZ}},
        {"id": "latency", "kind": "encoder", "model": "latency", "size": len(latency_values),
         "label": "Latency code", "params": {"values": latency_values, "t_max_ms": 5.0}},
        {"id": "delta", "kind": "encoder", "model": "delta", "size": 2, "label": "Delta code",
         "params": {"signal": table, "threshold": 0.4, "sample_ms": 1.0}},
        receiver("rx_rate", "Driven by the rate code"),
        receiver("rx_latency", "Driven by the latency code"),
        receiver("rx_delta", "Driven by the delta code"),
    ]
    return {
        "format": "spikestudio-project", "version": 1,
        "name": "Neural coding: rate, latency and delta",
        "description": "One slow signal coded three ways (Poisson rate, first-spike latency, "
                       "delta ON/OFF events), decoded back, and priced: spikes, "
                       "reconstruction error and energy of each code.",
        "network": {"nodes": nodes,
                    "projections": [edge(c, f"rx_{c}") for c in ("rate", "latency", "delta")]},
        "simulation": {"duration_ms": DURATION_MS, "dt_ms": 1.0, "seed": 3,
                       "count_bin_ms": 10.0, "record_spikes": "all",
                       "memory_budget_mb": 512.0},
        "layout": {"positions": {"rate": [80, 80], "latency": [80, 220], "delta": [80, 360],
                                 "rx_rate": [360, 80], "rx_latency": [360, 220],
                                 "rx_delta": [360, 360]}},
        "lab": {"id": "neural-coding", "title": "Neural coding: rate, latency and delta",
                "intro": INTRO.format(duration=DURATION_MS, row=ROW_MS, window=WINDOW_MS,
                                      n_windows=len(latency_values), rate_n=RATE_NEURONS),
                "steps": steps},
    }


def figures_text(measured: dict[str, float]) -> str:
    """The Markdown of a step's measured figures."""
    rows = "\n".join(f"| {name} | {value:.4g} |" for name, value in measured.items())
    return ("Measured by the reference solution (seed 3):\n\n| figure | value |\n|---|---|\n"
            + rows + "\n")


def measure(document: dict) -> dict:
    """Run every step's solution, check it, and write its figures into the document."""
    for step, solved in solved_documents(document):
        obs, result = check_step(solved, step)
        print(json.dumps({"step": step["id"], "holds": obs.holds, "message": obs.message,
                          "wall_s": round(result.wall_time_s + result.build_time_s, 2)}))
        if not obs.holds:
            raise SystemExit(f"step {step['id']}: the reference solution fails its check")
        next(s for s in document["lab"]["steps"] if s["id"] == step["id"])["figures"] = \
            figures_text(obs.measured)
    return document


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--measure", action="store_true", help="only print the figures")
    args = parser.parse_args()
    document = measure(starting_document())
    project_of(document)  # validated once more as written
    if not args.measure:
        OUT.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
