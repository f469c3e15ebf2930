"""Leaky integrate-and-fire neuron with a spike-triggered adaptive threshold, exact."""

from __future__ import annotations

import math

import numpy as np

from engine.neurons import lif
from engine.neurons.base import (
    AUX,
    N_NODE_PARAMS,
    SYNAPTIC_STATE,
    V_INVALID,
    leaky_pass,
    no_refractoriness,
    per_neuron,
    views,
)
from engine.params import ModelSpec, ParamSpec

SPEC = ModelSpec(
    name="adaptive_lif",
    title="Adaptive LIF",
    doc=(
        "The LIF (tau_m dv/dt = (v_rest - v) + I_exc + I_inh + I_ext) with a threshold that "
        "rises with activity: a spike is emitted when v >= v_thresh + theta; then v is "
        "clamped to v_reset for t_ref and theta jumps by delta_thresh; tau_adapt dtheta/dt = "
        "-theta. Integrated exactly. Used for competition (a neuron that wins often gets "
        "harder to excite)."
    ),
    params=lif.SPEC.params[:5] + (
        ParamSpec("delta_thresh", "mV", 2.0, "Rise of the threshold at each spike.",
                  minimum=0.0, maximum=1000.0),
        ParamSpec("tau_adapt", "ms", 100.0, "Decay time constant of the threshold's rise.",
                  minimum=0.0, exclusive_minimum=True, maximum=1e7),
    ) + lif.SPEC.params[5:],
    state_variables={"v": "mV", "theta": "mV", "i_exc": "mV", "i_inh": "mV"},
    short="Adaptive LIF",
    color="#db2777",
)
STATE = {**SYNAPTIC_STATE, "theta": AUX}
EMITS_SPIKES = True

# Layout of the packed parameters: the LIF's, then the adaptation's.
P_AA, DELTA = lif.REF_STEPS + 1, lif.REF_STEPS + 2


def pack(values: dict, dt: float) -> np.ndarray:
    out = lif.pack(values, dt)
    out[P_AA] = math.exp(-dt / values["tau_adapt"])
    out[DELTA] = values["delta_thresh"]
    assert out.shape[0] == N_NODE_PARAMS
    return out


def initial_aux(values: dict, v0: np.ndarray) -> np.ndarray:
    """theta starts at 0."""
    return np.zeros_like(v0)


min_isi_steps = lif.min_isi_steps
check = lif.check


def step(par, lo, hi, prev, buf_e, buf_i, v, u, ie, ii, iext, ref, spk_now, ns,
         dt):  # pragma: no cover - compiled by engine.core.kernels
    be, bi, vv, ee, hh, xx, rr = views(lo, hi, prev, buf_e, buf_i, v, ie, ii, iext, ref)
    active = leaky_pass(be, bi, vv, ee, hh, xx, rr, par[lif.P_MM], par[lif.P_EXT],
                        par[lif.P_ME], par[lif.P_MI], par[lif.P_EE], par[lif.P_II],
                        par[lif.VREST],
                        not no_refractoriness(par[lif.REF_STEPS]))
    th = u[lo:hi]
    p_aa = par[P_AA]
    for j in range(th.shape[0]):  # the threshold's rise decays (vectorised too)
        th[j] = th[j] * per_neuron(p_aa, j)
    v_th = par[lif.VTHRESH]
    v_reset = par[lif.VRESET]
    ref_steps = par[lif.REF_STEPS]
    delta = par[DELTA]
    for j in range(vv.shape[0]):
        vj = vv[j]
        if vj >= per_neuron(v_th, j) + th[j]:
            if vj > V_INVALID:
                return ns, active, lo + j
            vv[j] = per_neuron(v_reset, j)
            rr[j] = int(per_neuron(ref_steps, j))
            th[j] += per_neuron(delta, j)
            spk_now[ns] = lo + j
            ns += 1
        elif not vj > -V_INVALID:  # also true for NaN
            return ns, active, lo + j
    return ns, active, -1
