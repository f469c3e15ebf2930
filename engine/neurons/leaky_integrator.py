"""Leaky integrator (NIR's LI): a LIF membrane without threshold, a non-spiking readout."""

from __future__ import annotations

import numpy as np

from engine.neurons import lif
from engine.neurons.base import (
    I_OFFSET,
    N_NODE_PARAMS,
    SYNAPTIC_STATE,
    TAU_M,
    TAU_SYN_EXC,
    TAU_SYN_INH,
    V_INIT,
    V_INIT_SPREAD,
    V_INVALID,
    V_REST,
    leaky_pass,
    views,
)
from engine.params import ModelSpec

SPEC = ModelSpec(
    name="li",
    title="Leaky integrator",
    doc=(
        "tau_m dv/dt = (v_rest - v) + I_exc + I_inh + I_ext; tau_syn dI/dt = -I. Never "
        "spikes: record its v with a state monitor (a readout layer). Integrated exactly. "
        "tau_syn = 0: delta synapses."
    ),
    params=(TAU_M, V_REST, TAU_SYN_EXC, TAU_SYN_INH, I_OFFSET, V_INIT, V_INIT_SPREAD),
    state_variables={"v": "mV", "i_exc": "mV", "i_inh": "mV"},
    short="LI",
    color="#65a30d",
)
STATE = SYNAPTIC_STATE
EMITS_SPIKES = False

# Layout of the packed parameters: the LIF's propagators (no threshold).
P_MM, P_EXT, P_ME, P_MI, P_EE, P_II, VREST = (lif.P_MM, lif.P_EXT, lif.P_ME, lif.P_MI,
                                              lif.P_EE, lif.P_II, lif.VREST)


def pack(values: dict, dt: float) -> np.ndarray:
    # The LIF's propagators; its threshold slots are never read.
    out = lif.pack({**values, "v_reset": 0.0, "v_thresh": 0.0, "t_ref": 0.0}, dt)
    assert out.shape[0] == N_NODE_PARAMS
    return out


def initial_aux(values: dict, v0: np.ndarray) -> np.ndarray:
    return np.zeros_like(v0)


def min_isi_steps(values: dict, dt: float) -> int | None:
    return None


def check(values: dict) -> list[tuple[str, str]]:
    return []


def step(par, lo, hi, prev, buf_e, buf_i, v, u, ie, ii, iext, ref, spk_now, ns,
         dt):  # pragma: no cover - compiled by engine.core.kernels
    # ref stays 0 for a model that never spikes: the LIF's pass integrates every step and
    # need not read it.
    be, bi, vv, ee, hh, xx, rr = views(lo, hi, prev, buf_e, buf_i, v, ie, ii, iext, ref)
    active = leaky_pass(be, bi, vv, ee, hh, xx, rr, par[P_MM], par[P_EXT], par[P_ME],
                        par[P_MI], par[P_EE], par[P_II], par[VREST], False)
    for j in range(vv.shape[0]):
        if not -V_INVALID < vv[j] < V_INVALID:
            return ns, active, lo + j
    return ns, active, -1
