"""Pair-based STDP with traces (Song, Miller & Abbott 2000), additive or multiplicative."""

from __future__ import annotations

import numpy as np

from engine.params import ModelSpec, ParamSpec
from engine.plasticity.base import N_PLASTICITY_PARAMS, W_MAX_SPEC, W_MIN_SPEC

SPEC = ModelSpec(
    "stdp", "Pair-based STDP",
    "Song, Miller & Abbott (2000) with traces. A post spike after a pre spike (lag s > 0) "
    "adds A_plus exp(-s/tau_plus); a pre spike after a post spike subtracts "
    "A_minus exp(-s/tau_minus). The pre spike is timed at its arrival at the synapse "
    "(after the axonal delay); post spikes act without delay. 'additive' clips to "
    "[w_min, w_max]; 'multiplicative' scales potentiation by (w_max - w) and depression "
    "by (w - w_min), with A in units of the weight range.",
    (
        ParamSpec("a_plus", "mV", 0.01, "Potentiation amplitude.", minimum=0.0),
        ParamSpec("a_minus", "mV", 0.0105, "Depression amplitude.", minimum=0.0),
        ParamSpec("tau_plus", "ms", 20.0, "Potentiation window.", minimum=0.0,
                  exclusive_minimum=True),
        ParamSpec("tau_minus", "ms", 20.0, "Depression window.", minimum=0.0,
                  exclusive_minimum=True),
        W_MIN_SPEC, W_MAX_SPEC,
        ParamSpec("pairing", "", "all_to_all", "all_to_all: every pre/post pair counts; "
                  "nearest: only the nearest spike of the other side.", kind="choice",
                  choices=("all_to_all", "nearest")),
        ParamSpec("bounds", "", "additive", "Hard (additive) or soft (multiplicative) "
                  "bounds.", kind="choice", choices=("additive", "multiplicative")),
    ),
)

# Layout of the packed parameters.
A_PLUS, A_MINUS, TAU_PLUS, TAU_MINUS, W_MIN, W_MAX, NEAREST, SOFT = range(8)
#: The pre trace decays with tau_plus, the post trace with tau_minus (tables 0 and 1).
TRACE_TAUS = (TAU_PLUS, TAU_MINUS)

#: Whether the rule keeps a flag per synapse (``credited`` in the kernel).
CREDITS_SYNAPSES = False


def pack(values: dict) -> np.ndarray:
    out = np.zeros(N_PLASTICITY_PARAMS)
    out[A_PLUS], out[A_MINUS] = values["a_plus"], values["a_minus"]
    out[TAU_PLUS], out[TAU_MINUS] = values["tau_plus"], values["tau_minus"]
    out[W_MIN], out[W_MAX] = values["w_min"], values["w_max"]
    out[NEAREST] = 1.0 if values["pairing"] == "nearest" else 0.0
    out[SOFT] = 1.0 if values["bounds"] == "multiplicative" else 0.0
    return out
