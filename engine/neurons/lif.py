"""Leaky integrate-and-fire neuron with exponential (or delta) current synapses, exact."""

from __future__ import annotations

import math

import numpy as np

from engine.neurons.base import (
    I_OFFSET,
    N_NODE_PARAMS,
    SYNAPTIC_STATE,
    T_REF,
    TAU_M,
    TAU_SYN_EXC,
    TAU_SYN_INH,
    V_INIT,
    V_INIT_SPREAD,
    V_INVALID,
    V_RESET,
    V_REST,
    V_THRESH,
    decay,
    leaky_psc,
    refractory_steps,
    reset_below_threshold,
)
from engine.params import ModelSpec

SPEC = ModelSpec(
    name="lif",
    title="Leaky integrate-and-fire",
    doc=(
        "tau_m dv/dt = (v_rest - v) + I_exc + I_inh + I_ext; tau_syn dI/dt = -I. A spike is "
        "emitted when v >= v_thresh; v is then clamped to v_reset for t_ref. Integrated "
        "exactly with exponential propagators (no Euler error). tau_syn = 0: delta synapses "
        "(an arriving weight moves v at once)."
    ),
    params=(TAU_M, V_REST, V_RESET, V_THRESH, T_REF, TAU_SYN_EXC, TAU_SYN_INH, I_OFFSET, V_INIT,
            V_INIT_SPREAD),
    state_variables={"v": "mV", "i_exc": "mV", "i_inh": "mV"},
    short="LIF",
    color="#2f6fde",
)
STATE = SYNAPTIC_STATE
EMITS_SPIKES = True

# Layout of the packed parameters.
P_MM, P_EXT, P_ME, P_MI, P_EE, P_II, VREST, VRESET, VTHRESH, REF_STEPS = range(10)


def pack(values: dict, dt: float) -> np.ndarray:
    """Propagators over one step and the constants of the threshold."""
    out = np.zeros(N_NODE_PARAMS)
    tau_m = values["tau_m"]
    p_mm = math.exp(-dt / tau_m)
    out[P_MM], out[P_EXT] = p_mm, 1.0 - p_mm
    out[P_ME] = leaky_psc(dt, tau_m, values["tau_syn_exc"])
    out[P_MI] = leaky_psc(dt, tau_m, values["tau_syn_inh"])
    out[P_EE] = decay(dt, values["tau_syn_exc"])
    out[P_II] = decay(dt, values["tau_syn_inh"])
    out[VREST], out[VRESET], out[VTHRESH] = values["v_rest"], values["v_reset"], values["v_thresh"]
    out[REF_STEPS] = refractory_steps(values, dt)
    return out


def initial_aux(values: dict, v0: np.ndarray) -> np.ndarray:
    return np.zeros_like(v0)


def min_isi_steps(values: dict, dt: float) -> int | None:
    if values["v_reset"] < values["v_thresh"]:
        return refractory_steps(values, dt) + 1
    return 1


def check(values: dict) -> list[tuple[str, str]]:
    return reset_below_threshold(values)


def step(par, lo, hi, prev, buf_e, buf_i, v, u, ie, ii, iext, ref, spk_now, ns,
         dt):  # pragma: no cover - compiled by engine.kernels
    p_mm = par[P_MM]
    p_ext = par[P_EXT]
    p_me = par[P_ME]
    p_mi = par[P_MI]
    p_ee = par[P_EE]
    p_ii = par[P_II]
    v_rest = par[VREST]
    v_reset = par[VRESET]
    v_th = par[VTHRESH]
    ref_steps = int(par[REF_STEPS])
    # Pass 1 has no data-dependent control flow and indexes views from 0 (a runtime range
    # start makes numba guard negative indices), so LLVM vectorises it: take the arrivals,
    # integrate or hold, decay.
    n = hi - lo
    be = buf_e[prev, lo:hi]
    bi = buf_i[prev, lo:hi]
    vv = v[lo:hi]
    ee = ie[lo:hi]
    hh = ii[lo:hi]
    xx = iext[lo:hi]
    rr = ref[lo:hi]
    active = 0
    for j in range(n):
        a = be[j]
        c = bi[j]
        be[j] = 0.0
        bi[j] = 0.0
        e = ee[j] + a
        h = hh[j] + c
        r = rr[j]
        vj = v_rest + (vv[j] - v_rest) * p_mm + xx[j] * p_ext + e * p_me + h * p_mi
        vv[j] = vj if r <= 0 else vv[j]
        rr[j] = r - 1 if r > 0 else 0
        ee[j] = e * p_ee
        hh[j] = h * p_ii
        active += (a != 0.0) | (c != 0.0) | (xx[j] != 0.0)
    # Pass 2: threshold (rarely true) and the invalid-state guard.
    for j in range(n):
        vj = vv[j]
        if vj >= v_th:
            if vj > V_INVALID:
                return ns, active, lo + j
            vv[j] = v_reset
            rr[j] = ref_steps
            spk_now[ns] = lo + j
            ns += 1
        elif not vj > -V_INVALID:  # also true for NaN
            return ns, active, lo + j
    return ns, active, -1
