"""Leaky integrate-and-fire neuron with a spike-triggered adaptive threshold, exact."""

from __future__ import annotations

import math

import numpy as np

from engine.neurons import lif
from engine.neurons.base import AUX, N_NODE_PARAMS, SYNAPTIC_STATE, V_INVALID
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
         dt):  # pragma: no cover - compiled by engine.kernels
    p_mm = par[lif.P_MM]
    p_ext = par[lif.P_EXT]
    p_me = par[lif.P_ME]
    p_mi = par[lif.P_MI]
    p_ee = par[lif.P_EE]
    p_ii = par[lif.P_II]
    v_rest = par[lif.VREST]
    v_reset = par[lif.VRESET]
    v_th = par[lif.VTHRESH]
    ref_steps = int(par[lif.REF_STEPS])
    p_aa = par[P_AA]
    delta = par[DELTA]
    n = hi - lo
    be = buf_e[prev, lo:hi]
    bi = buf_i[prev, lo:hi]
    vv = v[lo:hi]
    th = u[lo:hi]
    ee = ie[lo:hi]
    hh = ii[lo:hi]
    xx = iext[lo:hi]
    rr = ref[lo:hi]
    active = 0
    for j in range(n):  # the LIF's pass 1, plus the decay of theta
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
        th[j] = th[j] * p_aa
        active += (a != 0.0) | (c != 0.0) | (xx[j] != 0.0)
    for j in range(n):
        vj = vv[j]
        if vj >= v_th + th[j]:
            if vj > V_INVALID:
                return ns, active, lo + j
            vv[j] = v_reset
            rr[j] = ref_steps
            th[j] += delta
            spk_now[ns] = lo + j
            ns += 1
        elif not vj > -V_INVALID:
            return ns, active, lo + j
    return ns, active, -1
