"""Pair-based STDP with traces (Song, Miller & Abbott 2000), additive or multiplicative."""

from __future__ import annotations

import numpy as np

from engine.neurons.base import kernel_function
from engine.params import ModelSpec, ParamSpec
from engine.plasticity.base import (
    N_PLASTICITY_PARAMS,
    PREFETCH_AHEAD,
    W_MAX_SPEC,
    W_MIN_SPEC,
    clip,
    decayed,
    prefetch,
    prefetch_column,
)

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


@kernel_function
def _unpacked(par, tab_off, tab_len, p):  # pragma: no cover - compiled
    """Projection p's parameters and its two decay tables (pre: tau_plus, post: tau_minus)."""
    w_min = par[W_MIN]
    w_max = par[W_MAX]
    span = w_max - w_min if w_max > w_min else 1.0
    return (par[A_PLUS], par[A_MINUS], w_min, w_max, par[NEAREST] != 0.0, par[SOFT] != 0.0,
            span, tab_off[p, 0], tab_len[p, 0], tab_off[p, 1], tab_len[p, 1])


def arrive(pl, p, k, i, r0, r1, per_synapse, local, base, out, syn_post, syn_weight, buf_e,
           dt):  # pragma: no cover - compiled by engine.core.kernels
    """Pre spike arrival: deliver, depress by the post trace, then bump the pre trace
    (traces decay lazily: the value at the last update times a table entry)."""
    (_, a_minus, w_min, w_max, nearest, soft, span, plus_off, plus_len, minus_off,
     minus_len) = _unpacked(pl.params[p], pl.tab_off, pl.tab_len, p)
    pre_off = pl.pre_off[p]
    post_off = pl.post_off[p]
    pre_trace, pre_last = pl.pre_trace, pl.pre_last
    post_trace, post_last, decay_tab = pl.post_trace, pl.post_last, pl.decay_tab
    for syn in range(r0, r1):
        j = syn_post[syn]
        w = syn_weight[syn]
        buf_e[out, base + j] += w
        y = decayed(post_trace[post_off + j], k - post_last[post_off + j], decay_tab,
                    minus_off, minus_len)
        if soft:
            w -= a_minus * y * (w - w_min) / span
        else:
            w -= a_minus * y
        syn_weight[syn] = clip(w, w_min, w_max)
        if per_synapse:
            t = local + syn
            x = decayed(pre_trace[t], k - pre_last[t], decay_tab, plus_off, plus_len)
            pre_trace[t] = 1.0 if nearest else x + 1.0
            pre_last[t] = k
    if not per_synapse:
        t = pre_off + i
        x = decayed(pre_trace[t], k - pre_last[t], decay_tab, plus_off, plus_len)
        pre_trace[t] = 1.0 if nearest else x + 1.0
        pre_last[t] = k


def post_spike(pl, p, k, j, syn_weight, dt):  # pragma: no cover - compiled by engine.core.kernels
    """Post spike: potentiate every incoming synapse by its pre trace, bump the post trace."""
    (a_plus, _, w_min, w_max, nearest, soft, span, plus_off, plus_len, minus_off,
     minus_len) = _unpacked(pl.params[p], pl.tab_off, pl.tab_len, p)
    pre_off = pl.pre_off[p]
    post_off = pl.post_off[p]
    pre_trace, pre_last = pl.pre_trace, pl.pre_last
    post_trace, post_last, decay_tab = pl.post_trace, pl.post_last, pl.decay_tab
    e0 = pl.colptr[pl.col_off[p] + j]
    e1 = pl.colptr[pl.col_off[p] + j + 1]
    col_syn = pl.col_syn
    prefetch_column(syn_weight, col_syn, e0, e1)
    for e in range(e0, e1):
        if e + PREFETCH_AHEAD < e1:
            prefetch(syn_weight, col_syn[e + PREFETCH_AHEAD])
        syn = col_syn[e]
        w = syn_weight[syn]
        t = pre_off + pl.col_pre[e]
        x = decayed(pre_trace[t], k - pre_last[t], decay_tab, plus_off, plus_len)
        if soft:
            w += a_plus * x * (w_max - w) / span
        else:
            w += a_plus * x
        syn_weight[syn] = clip(w, w_min, w_max)
    y = decayed(post_trace[post_off + j], k - post_last[post_off + j], decay_tab, minus_off,
                minus_len)
    post_trace[post_off + j] = 1.0 if nearest else y + 1.0
    post_last[post_off + j] = k
    return e1 - e0
