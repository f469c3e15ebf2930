"""Non-leaky integrate-and-fire neuron (NIR's IF; ANN-to-SNN conversion), exact."""

from __future__ import annotations

import math

import numpy as np

from engine.neurons.base import (
    I_OFFSET,
    N_NODE_PARAMS,
    SYNAPTIC_STATE,
    T_REF,
    TAU_SYN_EXC,
    TAU_SYN_INH,
    V_INIT,
    V_INIT_SPREAD,
    V_RESET,
    V_THRESH,
    decay,
    leaky_pass,
    no_refractoriness,
    refractory_steps,
    reset_below_threshold,
    reset_pass,
    views,
)
from engine.params import ModelSpec, ParamSpec

SPEC = ModelSpec(
    name="if",
    title="Integrate-and-fire",
    doc=(
        "tau_m dv/dt = I_exc + I_inh + I_ext (no leak); tau_syn dI/dt = -I. A spike is "
        "emitted when v >= v_thresh; v is then reset to v_reset ('value') or lowered by "
        "v_thresh - v_reset ('subtract', which keeps the overshoot, as in ANN-to-SNN "
        "conversion) and held for t_ref. Integrated exactly. tau_syn = 0: delta synapses."
    ),
    params=(
        ParamSpec("tau_m", "ms", 10.0, "Integration time constant: a constant input of x mV "
                  "raises v by x mV per tau_m.", minimum=0.0, exclusive_minimum=True,
                  maximum=10_000.0),
        V_RESET, V_THRESH,
        ParamSpec("reset_mode", "", "value", "value: v <- v_reset after a spike; subtract: "
                  "v <- v - (v_thresh - v_reset).", kind="choice",
                  choices=("value", "subtract")),
        T_REF, TAU_SYN_EXC, TAU_SYN_INH, I_OFFSET, V_INIT, V_INIT_SPREAD,
    ),
    state_variables={"v": "mV", "i_exc": "mV", "i_inh": "mV"},
    short="IF",
    color="#0891b2",
)
STATE = SYNAPTIC_STATE
EMITS_SPIKES = True

# Layout of the packed parameters.
P_EXT, P_ME, P_MI, P_EE, P_II, VRESET, VTHRESH, SUBTRACT, REF_STEPS = range(9)


def _synaptic(dt: float, tau_m: float, tau_s: float) -> float:
    """Rise of v over one step from a synaptic current I(0) = 1 decaying with tau_s
    (tau_s = 0: a unit jump of v)."""
    if tau_s == 0:
        return 1.0
    return tau_s / tau_m * (1.0 - math.exp(-dt / tau_s))


def pack(values: dict, dt: float) -> np.ndarray:
    out = np.zeros(N_NODE_PARAMS)
    tau_m = values["tau_m"]
    out[P_EXT] = dt / tau_m
    out[P_ME] = _synaptic(dt, tau_m, values["tau_syn_exc"])
    out[P_MI] = _synaptic(dt, tau_m, values["tau_syn_inh"])
    out[P_EE] = decay(dt, values["tau_syn_exc"])
    out[P_II] = decay(dt, values["tau_syn_inh"])
    out[VRESET], out[VTHRESH] = values["v_reset"], values["v_thresh"]
    out[SUBTRACT] = 1.0 if values["reset_mode"] == "subtract" else 0.0
    out[REF_STEPS] = refractory_steps(values, dt)
    return out


def initial_aux(values: dict, v0: np.ndarray) -> np.ndarray:
    return np.zeros_like(v0)


def min_isi_steps(values: dict, dt: float) -> int | None:
    return refractory_steps(values, dt) + 1


def check(values: dict) -> list[tuple[str, str]]:
    return reset_below_threshold(values)


def step(par, lo, hi, prev, buf_e, buf_i, v, u, ie, ii, iext, ref, spk_now, ns,
         dt):  # pragma: no cover - compiled by engine.core.kernels
    be, bi, vv, ee, hh, xx, rr = views(lo, hi, prev, buf_e, buf_i, v, ie, ii, iext, ref)
    # The LIF's pass with no leak: p_mm = 1, v_rest = 0 leave v + inputs, exactly.
    active = leaky_pass(be, bi, vv, ee, hh, xx, rr, 1.0, par[P_EXT], par[P_ME], par[P_MI],
                        par[P_EE], par[P_II], 0.0,
                        not no_refractoriness(par[REF_STEPS]))
    ns, bad = reset_pass(vv, rr, lo, par[VTHRESH], par[VRESET], par[SUBTRACT] != 0.0,
                         par[REF_STEPS], spk_now, ns)
    return ns, active, bad
