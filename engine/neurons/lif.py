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
    V_RESET,
    V_REST,
    V_THRESH,
    decay,
    leaky_pass,
    leaky_psc,
    no_refractoriness,
    refractory_steps,
    reset_below_threshold,
    reset_pass,
    views,
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
    if np.all(np.asarray(values["v_reset"]) < np.asarray(values["v_thresh"])):
        return refractory_steps(values, dt) + 1
    return 1


def check(values: dict) -> list[tuple[str, str]]:
    return reset_below_threshold(values)


def step(par, lo, hi, prev, buf_e, buf_i, v, u, ie, ii, iext, ref, spk_now, ns,
         dt):  # pragma: no cover - compiled by engine.core.kernels
    be, bi, vv, ee, hh, xx, rr = views(lo, hi, prev, buf_e, buf_i, v, ie, ii, iext, ref)
    active = leaky_pass(be, bi, vv, ee, hh, xx, rr, par[P_MM], par[P_EXT], par[P_ME],
                        par[P_MI], par[P_EE], par[P_II], par[VREST],
                        not no_refractoriness(par[REF_STEPS]))
    ns, bad = reset_pass(vv, rr, lo, par[VTHRESH], par[VRESET], False, par[REF_STEPS],
                         spk_now, ns)
    return ns, active, bad
