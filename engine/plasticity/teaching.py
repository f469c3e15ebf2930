"""A coincidence rule for teaching: grow on a post spike near a pre spike, else shrink."""

from __future__ import annotations

import numpy as np

from engine.neurons.base import kernel_function
from engine.params import ModelSpec, ParamSpec
from engine.plasticity.base import N_PLASTICITY_PARAMS, W_MAX_SPEC, W_MIN_SPEC, clip

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


@kernel_function
def _unpacked(par, dt):  # pragma: no cover - compiled
    """(step_up, step_down, window in steps, w_min, w_max)."""
    return (par[STEP_UP], par[STEP_DOWN], int(round(par[WINDOW_MS] / dt)), par[W_MIN],
            par[W_MAX])


def arrive(pl, p, k, i, r0, r1, per_synapse, local, base, out, syn_post, syn_weight, buf_e,
           dt):  # pragma: no cover - compiled by engine.core.kernels
    """Pre spike arrival: deliver; grow if the post neuron fired within the window, else
    shrink provisionally (undone by a post spike within the window, see post_spike)."""
    up, down, window, w_min, w_max = _unpacked(pl.params[p], dt)
    post_off = pl.post_off[p]
    post_last, credited = pl.post_last, pl.credited
    for syn in range(r0, r1):
        j = syn_post[syn]
        w = syn_weight[syn]
        buf_e[out, base + j] += w
        if k - post_last[post_off + j] <= window:
            w += up
            credited[syn] = 1
        else:
            w -= down
            credited[syn] = 0
        syn_weight[syn] = clip(w, w_min, w_max)
        if per_synapse:
            pl.pre_last[local + syn] = k
    if not per_synapse:
        pl.pre_last[pl.pre_off[p] + i] = k


def post_spike(pl, p, k, j, syn_weight, dt):  # pragma: no cover - compiled by engine.core.kernels
    """Post spike: credit the synapses whose pre spike arrived within the window (undoing
    their provisional shrink)."""
    up, down, window, w_min, w_max = _unpacked(pl.params[p], dt)
    pre_off = pl.pre_off[p]
    credited, pre_last = pl.credited, pl.pre_last
    e0 = pl.colptr[pl.col_off[p] + j]
    e1 = pl.colptr[pl.col_off[p] + j + 1]
    n = 0
    for e in range(e0, e1):
        syn = pl.col_syn[e]
        if credited[syn] == 0 and k - pre_last[pre_off + pl.col_pre[e]] <= window:
            n += 1
            syn_weight[syn] = clip(syn_weight[syn] + down + up, w_min, w_max)
            credited[syn] = 1
    pl.post_last[pl.post_off[p] + j] = k
    return n
