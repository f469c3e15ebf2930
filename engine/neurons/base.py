"""What every neuron model file shares: kernel state arrays, common parameters, propagators.

A neuron model is one module in ``engine/neurons/`` (registered in ``engine/neurons/__init__.py``)
with these names:

``SPEC``
    Its :class:`~engine.params.ModelSpec` (parameters with units, ranges and docs; its
    ``state_variables`` are what monitors may record; ``short`` and ``color`` label and colour
    its nodes in the graph editor).
``STATE``
    Where each state variable lives in the kernel: name -> one of :data:`V`, :data:`I_EXC`,
    :data:`I_INH`, :data:`AUX` (the kernel's arrays ``v``, ``ie``, ``ii``, ``u``).
``EMITS_SPIKES``
    False for a model that never spikes (projections from it are refused).
``pack(values, dt) -> np.ndarray``
    The per-node constants of the update (length at most :data:`N_NODE_PARAMS`), laid out by
    named index constants defined in the model's file; only its ``step`` reads them.
``initial_aux(values, v0) -> np.ndarray``
    Initial value of the ``AUX`` array for the node's neurons (initial potentials ``v0``).
``min_isi_steps(values, dt) -> int | None``
    Fewest steps between two spikes of one neuron (1 when not limited), None if it never
    spikes: bounds the spike record.
``check(values) -> list[tuple[str, str]]``
    Rules across parameters, as (parameter name, message) pairs.
``step(par, lo, hi, prev, buf_e, buf_i, v, u, ie, ii, iext, ref, spk_now, ns, dt)``
    ``par`` is the node's row of packed constants, or (a heterogeneous node) a 2-D array
    whose ``par[P]`` holds the constant ``P`` of each neuron: a step reads a constant of
    neuron ``j`` as :func:`per_neuron` ``(par[P], j)`` inside its loops. Plain Python
    written for numba (``engine.core.kernels`` compiles and inlines it, and the
    helpers it calls that are marked :func:`kernel_function`, such as :func:`leaky_pass`):
    advance
    neurons ``lo:hi`` of one node by one step, taking the synaptic arrivals of ring slot
    ``prev`` (and zeroing them), append the indices of neurons that spiked to ``spk_now``
    from position ``ns``. Returns ``(ns, active, bad)``: the new ``ns``, the number of
    neurons with input this step, and -1 or the index of a neuron whose state became NaN or
    infinite. Loops index views from 0 (``vv = v[lo:hi]``) so LLVM can vectorise them.
    ``iext`` is empty when no neuron of the run has external input in this chunk (read it
    as 0: the kernel spares every model that array).
"""

from __future__ import annotations

import math

import numpy as np

from engine.params import ParamSpec

#: Kernel state arrays a state variable can live in (codes shared with engine.core.kernels).
V, I_EXC, I_INH, AUX = 0, 1, 2, 3
#: Width of the per-node parameter row the kernel receives.
N_NODE_PARAMS = 12
#: |v| beyond this (or NaN) is an invalid state: the run stops with a clear message.
V_INVALID = 1e9

_SYN_DOC = (" 0 makes the synapse instantaneous (a delta synapse): an arriving weight w "
            "moves v by w mV at once.")


def tau_syn_specs(allow_delta: bool) -> tuple[ParamSpec, ParamSpec]:
    """The excitatory and inhibitory synaptic time constants (0 allowed with ``allow_delta``)."""
    extra = _SYN_DOC if allow_delta else ""
    return (
        ParamSpec("tau_syn_exc", "ms", 5.0, "Decay time constant of the excitatory synaptic "
                  "current." + extra, minimum=0.0, exclusive_minimum=not allow_delta,
                  maximum=10_000.0),
        ParamSpec("tau_syn_inh", "ms", 10.0, "Decay time constant of the inhibitory synaptic "
                  "current." + extra, minimum=0.0, exclusive_minimum=not allow_delta,
                  maximum=10_000.0),
    )


TAU_SYN_EXC, TAU_SYN_INH = tau_syn_specs(allow_delta=True)
I_OFFSET = ParamSpec("i_offset", "mV", 0.0, "Constant bias input (as R*I): the steady-state "
                     "depolarisation it would cause.", minimum=-1e4, maximum=1e4)
V_INIT_SPREAD = ParamSpec("v_init_spread", "mV", 0.0, "Initial membrane potentials are drawn "
                          "uniformly from [v_init, v_init + spread].", minimum=0.0,
                          maximum=1e3)
TAU_M = ParamSpec("tau_m", "ms", 10.0, "Membrane time constant.", minimum=0.0,
                  exclusive_minimum=True, maximum=10_000.0)
V_REST = ParamSpec("v_rest", "mV", -65.0, "Resting (leak reversal) potential.", minimum=-200.0,
                   maximum=100.0)
V_RESET = ParamSpec("v_reset", "mV", -65.0, "Potential after a spike.", minimum=-200.0,
                    maximum=100.0)
V_THRESH = ParamSpec("v_thresh", "mV", -50.0, "Spike threshold.", minimum=-200.0,
                     maximum=100.0)
T_REF = ParamSpec("t_ref", "ms", 2.0, "Absolute refractory period (input arriving in it is "
                  "lost).", minimum=0.0, maximum=1000.0)
V_INIT = ParamSpec("v_init", "mV", -65.0, "Initial membrane potential.", minimum=-200.0,
                   maximum=100.0)

#: State variables of models with exponential (or delta) synapses in mV (as R*I).
SYNAPTIC_STATE = {"v": V, "i_exc": I_EXC, "i_inh": I_INH}


def decay(dt: float, tau: float) -> float:
    """exp(-dt / tau), 0 for tau = 0 (an instantaneous synapse holds no current)."""
    return math.exp(-dt / tau) if tau > 0 else 0.0


def leaky_psc(dt: float, tau_m: float, tau_s: float) -> float:
    """Exact contribution of an input current I(0) = 1 to v over one step of a leaky membrane.

    Solves tau_m dv/dt = -v + I(t), I(t) = exp(-t / tau_s), v(0) = 0 at t = dt. For
    ``tau_s == 0`` (delta synapse) the input is a unit jump of v at t = 0, which the leak
    decays over the step: exp(-dt / tau_m).
    """
    if tau_s == 0:
        return math.exp(-dt / tau_m)
    if abs(tau_s - tau_m) < 1e-9 * tau_m:
        return dt / tau_m * math.exp(-dt / tau_m)
    return tau_s / (tau_s - tau_m) * (math.exp(-dt / tau_s) - math.exp(-dt / tau_m))


def refractory_steps(values: dict, dt: float) -> int:
    """t_ref in whole steps (the fewest over the neurons when t_ref is per neuron)."""
    t_ref = values["t_ref"]
    if isinstance(t_ref, np.ndarray):
        return int(np.min(np.round(t_ref / dt)))
    return int(round(t_ref / dt))


def reset_below_threshold(values: dict) -> list[tuple[str, str]]:
    """The rule v_reset < v_thresh of the integrate-and-fire family (for every neuron when
    either is per neuron: the first neuron breaking it is named, ``v_reset[17]``)."""
    reset, thresh = values["v_reset"], values["v_thresh"]
    if isinstance(reset, np.ndarray) or isinstance(thresh, np.ndarray):
        bad = np.flatnonzero(np.broadcast_to(np.asarray(reset) >= np.asarray(thresh),
                                             np.shape(reset) or np.shape(thresh)))
        if bad.size == 0:
            return []
        i = int(bad[0])
        r = float(reset[i] if np.ndim(reset) else reset)
        t = float(thresh[i] if np.ndim(thresh) else thresh)
        where = f"v_reset[{i}]" if np.ndim(reset) else "v_reset"
        return [(where, f"must be below v_thresh ({t:g} mV) for neuron {i}, got {r:g} mV")]
    if reset >= thresh:
        return [("v_reset", f"must be below v_thresh ({thresh:g} mV), got {reset:g} mV")]
    return []


# ---------------------------------------------------------------- helpers of the steps
def kernel_function(fn):
    """Mark a plain-Python helper that model steps call: ``engine.core.kernels`` compiles it (and
    inlines it) with the step, so model files import without numba."""
    fn.kernel_function = True
    return fn


def per_neuron(x, j):  # pragma: no cover - replaced in the kernel
    """Neuron ``j``'s value of a packed constant: ``x`` itself when the node shares it (a
    number), ``x[j]`` when ``x`` holds one value per neuron. The kernel compiles a model's
    step for both (``engine.core.kernels`` overloads this by type), so a homogeneous node's
    code is the one it had before per-neuron constants existed."""
    return x if np.ndim(x) == 0 else x[j]


per_neuron.kernel_overload = True


def no_refractoriness(ref_steps):  # pragma: no cover - replaced in the kernel
    """True when a node's refractory period (``ref_steps``, a packed constant) is 0 for all
    its neurons, so their refractory counters stay 0 and a step may skip them. Per-neuron
    values (an array) answer False: checking them all would cost what skipping saves."""
    return np.ndim(ref_steps) == 0 and ref_steps == 0


no_refractoriness.kernel_overload = True


@kernel_function
def views(lo, hi, prev, buf_e, buf_i, v, ie, ii, iext, ref):  # pragma: no cover - compiled
    """The node's slices of the arrivals and state arrays, indexed from 0 (a runtime range
    start makes numba guard negative indices, and LLVM then gives up vectorising)."""
    return (buf_e[prev, lo:hi], buf_i[prev, lo:hi], v[lo:hi], ie[lo:hi], ii[lo:hi],
            iext[lo:hi], ref[lo:hi])


@kernel_function
def arrivals(j, be, bi, ee, hh):  # pragma: no cover - compiled
    """Neuron j's excitatory and inhibitory arrivals of this step (cleared from the ring) and
    its synaptic currents with them: (a, c, e, h)."""
    a = be[j]
    c = bi[j]
    be[j] = 0.0
    bi[j] = 0.0
    return a, c, ee[j] + a, hh[j] + c


@kernel_function
def leaky_v(vj, x, e, h, j, p_mm, p_ext, p_me, p_mi, v_rest):  # pragma: no cover - compiled
    """Neuron j's membrane potential after one exact step of the leaky membrane."""
    rest = per_neuron(v_rest, j)
    return (rest + (vj - rest) * per_neuron(p_mm, j) + x * per_neuron(p_ext, j)
            + e * per_neuron(p_me, j) + h * per_neuron(p_mi, j))


@kernel_function
def leaky_pass(be, bi, vv, ee, hh, xx, rr, p_mm, p_ext, p_me, p_mi, p_ee, p_ii, v_rest,
               use_ref):  # pragma: no cover - compiled
    """Pass 1 of the integrate-and-fire family: take the arrivals (and clear them), integrate
    v exactly (held while refractory), count down refractoriness, decay the synaptic
    currents. Returns the number of neurons with input. No data-dependent control flow, so
    LLVM vectorises it. p_mm = 1, v_rest = 0 is the non-leaky membrane (exactly).

    An empty ``xx`` (the kernel passes one when no neuron has external input) and
    ``use_ref`` False (the node is never refractory: its ``rr`` stays 0) select a loop that
    does not touch those arrays; it computes the same numbers (an input of 0.0, bit for bit).
    """
    if xx.shape[0] == 0:
        if not use_ref:
            return _leaky_plain(be, bi, vv, ee, hh, p_mm, p_ext, p_me, p_mi, p_ee, p_ii, v_rest)
        return _leaky_refractory(be, bi, vv, ee, hh, rr, p_mm, p_ext, p_me, p_mi, p_ee, p_ii,
                                 v_rest)
    active = 0
    for j in range(vv.shape[0]):
        a, c, e, h = arrivals(j, be, bi, ee, hh)
        r = rr[j]
        vj = leaky_v(vv[j], xx[j], e, h, j, p_mm, p_ext, p_me, p_mi, v_rest)
        vv[j] = vj if r <= 0 else vv[j]
        rr[j] = r - 1 if r > 0 else 0
        ee[j] = e * per_neuron(p_ee, j)
        hh[j] = h * per_neuron(p_ii, j)
        active += (a != 0.0) | (c != 0.0) | (xx[j] != 0.0)
    return active


@kernel_function
def _leaky_refractory(be, bi, vv, ee, hh, rr, p_mm, p_ext, p_me, p_mi, p_ee, p_ii,
                      v_rest):  # pragma: no cover - compiled
    """:func:`leaky_pass` for a node with refractoriness and no external input."""
    active = 0
    for j in range(vv.shape[0]):
        a, c, e, h = arrivals(j, be, bi, ee, hh)
        r = rr[j]
        vj = leaky_v(vv[j], 0.0, e, h, j, p_mm, p_ext, p_me, p_mi, v_rest)
        vv[j] = vj if r <= 0 else vv[j]
        rr[j] = r - 1 if r > 0 else 0
        ee[j] = e * per_neuron(p_ee, j)
        hh[j] = h * per_neuron(p_ii, j)
        active += (a != 0.0) | (c != 0.0)
    return active


@kernel_function
def _leaky_plain(be, bi, vv, ee, hh, p_mm, p_ext, p_me, p_mi, p_ee, p_ii,
                 v_rest):  # pragma: no cover - compiled
    """:func:`leaky_pass` for a node with no external input and no refractoriness: two
    arrays fewer read (and one fewer written) per neuron and step."""
    active = 0
    for j in range(vv.shape[0]):
        a, c, e, h = arrivals(j, be, bi, ee, hh)
        vv[j] = leaky_v(vv[j], 0.0, e, h, j, p_mm, p_ext, p_me, p_mi, v_rest)
        ee[j] = e * per_neuron(p_ee, j)
        hh[j] = h * per_neuron(p_ii, j)
        active += (a != 0.0) | (c != 0.0)
    return active


@kernel_function
def reset_pass(vv, rr, lo, v_th, v_reset, subtract, ref_steps, spk_now,
               ns):  # pragma: no cover - compiled
    """Pass 2: neurons at threshold spike (v to v_reset, or lowered by v_th - v_reset with
    ``subtract``) and turn refractory (``ref_steps``, a whole number stored as a float);
    NaN or huge v stops the run. Returns (ns, bad)."""
    for j in range(vv.shape[0]):
        vj = vv[j]
        th = per_neuron(v_th, j)
        if vj >= th:
            if vj > V_INVALID:
                return ns, lo + j
            reset = per_neuron(v_reset, j)
            vv[j] = vj - (th - reset) if per_neuron(subtract, j) else reset
            rr[j] = int(per_neuron(ref_steps, j))
            spk_now[ns] = lo + j
            ns += 1
        elif not vj > -V_INVALID:  # also true for NaN
            return ns, lo + j
    return ns, -1
