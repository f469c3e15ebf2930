"""Izhikevich (2003) neuron, forward Euler at dt, exponential current synapses."""

from __future__ import annotations

import numpy as np

from engine.neurons.base import (
    AUX,
    I_EXC,
    I_INH,
    I_OFFSET,
    N_NODE_PARAMS,
    V_INIT_SPREAD,
    V_INVALID,
    V,
    arrivals,
    decay,
    per_neuron,
    tau_syn_specs,
    views,
)
from engine.params import ModelSpec, ParamSpec

_TAU_SYN_EXC, _TAU_SYN_INH = tau_syn_specs(allow_delta=False)

SPEC = ModelSpec(
    name="izhikevich",
    title="Izhikevich",
    doc=(
        "dv/dt = 0.04 v^2 + 5 v + 140 - u + I; du/dt = a (b v - u); when v >= v_peak: v <- c, "
        "u <- u + d (Izhikevich 2003, time in ms). I is the sum of the synaptic currents and "
        "the bias in the model's own current units. Integrated with forward Euler at dt."
    ),
    params=(
        ParamSpec("a", "1/ms", 0.02, "Recovery time scale.", minimum=0.0, maximum=10.0),
        ParamSpec("b", "", 0.2, "Sensitivity of u to v.", minimum=-10.0, maximum=10.0),
        ParamSpec("c", "mV", -65.0, "Reset potential.", minimum=-200.0, maximum=100.0),
        ParamSpec("d", "", 8.0, "Reset increment of u.", minimum=-100.0, maximum=100.0),
        ParamSpec("v_peak", "mV", 30.0, "Spike cut-off potential.", minimum=-100.0,
                  maximum=200.0),
        _TAU_SYN_EXC,
        _TAU_SYN_INH,
        I_OFFSET,
        ParamSpec("v_init", "mV", -65.0, "Initial membrane potential (u starts at b*v).",
                  minimum=-200.0, maximum=100.0),
        V_INIT_SPREAD,
    ),
    presets={  # the first is a new population's (workbench.edits.add_node)
        "regular_spiking": {"a": 0.02, "b": 0.2, "c": -65.0, "d": 8.0},
        "intrinsically_bursting": {"a": 0.02, "b": 0.2, "c": -55.0, "d": 4.0},
        "chattering": {"a": 0.02, "b": 0.2, "c": -50.0, "d": 2.0},
        "fast_spiking": {"a": 0.1, "b": 0.2, "c": -65.0, "d": 2.0},
        "low_threshold_spiking": {"a": 0.02, "b": 0.25, "c": -65.0, "d": 2.0},
    },
    state_variables={"v": "mV", "u": "", "i_exc": "", "i_inh": ""},
    short="Izhikevich",
    color="#7c3aed",
)
STATE = {"v": V, "u": AUX, "i_exc": I_EXC, "i_inh": I_INH}
EMITS_SPIKES = True

# Layout of the packed parameters.
A, B, C, D, V_PEAK, P_EE, P_II = range(7)


def pack(values: dict, dt: float) -> np.ndarray:
    out = np.zeros(N_NODE_PARAMS)
    out[A], out[B], out[C], out[D] = values["a"], values["b"], values["c"], values["d"]
    out[V_PEAK] = values["v_peak"]
    out[P_EE] = decay(dt, values["tau_syn_exc"])
    out[P_II] = decay(dt, values["tau_syn_inh"])
    return out


def initial_aux(values: dict, v0: np.ndarray) -> np.ndarray:
    """u starts at b * v."""
    return values["b"] * v0


def min_isi_steps(values: dict, dt: float) -> int | None:
    return 1


def check(values: dict) -> list[tuple[str, str]]:
    return []


def step(par, lo, hi, prev, buf_e, buf_i, v, u, ie, ii, iext, ref, spk_now, ns,
         dt):  # pragma: no cover - compiled by engine.core.kernels
    a_r = par[A]
    b_r = par[B]
    c_r = par[C]
    d_r = par[D]
    v_peak = par[V_PEAK]
    p_ee = par[P_EE]
    p_ii = par[P_II]
    be, bi, vv, ee, hh, xx, _ = views(lo, hi, prev, buf_e, buf_i, v, ie, ii, iext, ref)
    uu = u[lo:hi]
    active = 0
    use_ext = xx.shape[0] > 0  # empty: no neuron has external input (engine.core.kernels)
    for j in range(vv.shape[0]):  # forward Euler
        a, c, e, h = arrivals(j, be, bi, ee, hh)
        vj = vv[j]
        uj = uu[j]
        x = xx[j] if use_ext else 0.0
        v_new = vj + dt * (0.04 * vj * vj + 5.0 * vj + 140.0 - uj + x + e + h)
        u_new = uj + dt * per_neuron(a_r, j) * (per_neuron(b_r, j) * vj - uj)
        if not (-V_INVALID < v_new < V_INVALID and -V_INVALID < u_new < V_INVALID):
            return ns, active, lo + j
        if v_new >= per_neuron(v_peak, j):
            v_new = per_neuron(c_r, j)
            u_new += per_neuron(d_r, j)
            spk_now[ns] = lo + j
            ns += 1
        vv[j] = v_new
        uu[j] = u_new
        ee[j] = e * per_neuron(p_ee, j)
        hh[j] = h * per_neuron(p_ii, j)
        active += (a != 0.0) | (c != 0.0) | (x != 0.0)
    return ns, active, -1
