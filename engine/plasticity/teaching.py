"""A coincidence rule for teaching: grow on a post spike near a pre spike, else shrink."""

from __future__ import annotations

import numpy as np

from engine.params import ModelSpec, ParamSpec
from engine.plasticity.base import N_PLASTICITY_PARAMS, W_MAX_SPEC, W_MIN_SPEC

SPEC = ModelSpec(
    "teaching", "Teaching rule (coincidence)",
    "A simple rule for teaching: a pre spike with a post spike within window_ms of it "
    "(before or after) grows the weight by step_up; a pre spike with no post spike within "
    "that window shrinks it by step_down. Weights are clipped to [w_min, w_max]. Not a "
    "biological model: it has no timing dependence inside the window.",
    (
        ParamSpec("step_up", "mV", 0.1, "Growth per coincident pre spike.", minimum=0.0),
        ParamSpec("step_down", "mV", 0.05, "Shrinkage per lone pre spike.", minimum=0.0),
        ParamSpec("window_ms", "ms", 5.0, "Coincidence window.", minimum=0.0),
        W_MIN_SPEC, W_MAX_SPEC,
    ),
)

# Layout of the packed parameters.
STEP_UP, STEP_DOWN, WINDOW_MS, W_MIN, W_MAX = range(5)
TRACE_TAUS: tuple[int, ...] = ()  # no traces: the last pre / post spike times suffice

#: Whether the rule keeps a flag per synapse (``credited`` in the kernel).
CREDITS_SYNAPSES = True


def pack(values: dict) -> np.ndarray:
    out = np.zeros(N_PLASTICITY_PARAMS)
    out[STEP_UP], out[STEP_DOWN], out[WINDOW_MS] = (values["step_up"], values["step_down"],
                                                    values["window_ms"])
    out[W_MIN], out[W_MAX] = values["w_min"], values["w_max"]
    return out
