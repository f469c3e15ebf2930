"""The numba kernel that steps the whole network for a chunk of time indices.

Step ``k`` (k >= 1) advances every neuron from ``(k-1)*dt`` to ``k*dt``; spikes found in it
are labelled ``k``. Then spikes labelled ``k`` (neurons and input encoders) are propagated:
static synapses add their weight to a ring buffer slot ``(k + delay) % L`` of the target's
synaptic current, which is added at the start of step ``k + delay + 1`` (so the current jumps
at time ``k + delay`` and moves the membrane from then on). Plastic synapses are delivered at
their arrival time through a queue of pre indices (keyed by the arrival step with one delay per
projection, by the emission step with per-synapse delays), so the learning rule sees the
arrival time.
``k = 0`` only propagates input spikes at time 0.

Only rows of neurons that spiked are walked (event-driven); the per-neuron update is a tight
loop over contiguous arrays. ``nogil=True`` lets a worker thread run it while the server
stays responsive; ``cache=True`` keeps the compiled code between processes.
"""

from __future__ import annotations

import hashlib
import types
from pathlib import Path

import numba
import numpy as np
from numba.core import types as nb_types
from numba.extending import overload

from engine import neurons, plasticity
from engine.core import memory_hints
from engine.neurons.base import I_EXC, I_INH, N_NODE_PARAMS, V

OK, SPIKE_BUFFER_FULL, INVALID_STATE, BREAKPOINT = 0, 1, 2, 3
#: What made the kernel stop with BREAKPOINT (``hit[0]``; ``hit[1]`` the breakpoint's row in its
#: table, ``hit[2]`` the global neuron or the synapse concerned).
HIT_SPIKE, HIT_RATE, HIT_WEIGHT = 1, 2, 3
NEVER = -(2**60)  # "last spike time" of a neuron that has not spiked


# ---------------------------------------------------------------- neuron model dispatch
#: The kernel has this many model slots; slot i calls the step of engine.neurons.MODELS[i].
N_SLOTS = 8
if len(neurons.MODELS) > N_SLOTS:
    raise RuntimeError(f"engine.neurons registers {len(neurons.MODELS)} models, the kernel has "
                       f"{N_SLOTS} slots: add slots to engine.core.kernels._step_node")


@numba.njit(nogil=True, inline="always")
def _empty_slot(par, lo, hi, prev, buf_e, buf_i, v, u, ie, ii, iext, ref, spk_now, ns,
                dt):  # pragma: no cover - compiled
    return ns, 0, -1


def _per_neuron(x, j):  # pragma: no cover - resolved by the overload below
    raise NotImplementedError


@overload(_per_neuron, inline="always")
def _per_neuron_overload(x, j):
    """engine.neurons.base.per_neuron by type: ``x[j]`` for per-neuron constants (an array),
    ``x`` itself for a node's shared constant, so a homogeneous step compiles as before."""
    if isinstance(x, nb_types.Array):
        return lambda x, j: x[j]
    return lambda x, j: x


def _no_refractoriness(ref_steps):  # pragma: no cover - resolved by the overload below
    raise NotImplementedError


@overload(_no_refractoriness, inline="always")
def _no_refractoriness_overload(ref_steps):
    """engine.neurons.base.no_refractoriness by type: a node's shared constant is tested,
    per-neuron constants (an array) keep the refractory counters."""
    if isinstance(ref_steps, nb_types.Array):
        return lambda ref_steps: False
    return lambda ref_steps: ref_steps == 0


#: The kernel's versions of the helpers of engine.neurons.base marked ``kernel_overload``.
_OVERLOADS = {"per_neuron": _per_neuron, "no_refractoriness": _no_refractoriness,
              "prefetch": memory_hints.prefetch}


def _compiled(fn):
    """``fn`` compiled for inlining, with the helpers it calls that are marked
    ``engine.neurons.base.kernel_function`` compiled too (in a copy of its globals: the model
    files themselves stay plain Python), and ``per_neuron`` (and the other helpers marked
    ``kernel_overload``) resolved by type."""
    scope = dict(fn.__globals__)
    for name in fn.__code__.co_names:  # the globals it uses
        if getattr(scope.get(name), "kernel_function", False):
            scope[name] = _compiled(scope[name])
        elif getattr(scope.get(name), "kernel_overload", False):
            scope[name] = _OVERLOADS[scope[name].__name__]
    plain = types.FunctionType(fn.__code__, scope, fn.__name__, fn.__defaults__, fn.__closure__)
    return numba.njit(nogil=True, inline="always")(plain)


def _slot(code: int):
    """The compiled step of the model with type code ``code`` (inlined into the kernel)."""
    if code >= len(neurons.MODELS):
        return _empty_slot
    return _compiled(neurons.MODELS[code].step)


_step0, _step1, _step2, _step3, _step4, _step5, _step6, _step7 = (
    _slot(code) for code in range(N_SLOTS))


@numba.njit(nogil=True, inline="always")
def _step_node(kind, par, lo, hi, prev, buf_e, buf_i, v, u, ie, ii, iext, ref, spk_now, ns,
               dt):  # pragma: no cover - compiled
    """One step of the neurons lo:hi of a node of model ``kind``: (ns, active, bad)."""
    if kind == 0:
        return _step0(par, lo, hi, prev, buf_e, buf_i, v, u, ie, ii, iext, ref, spk_now, ns, dt)
    if kind == 1:
        return _step1(par, lo, hi, prev, buf_e, buf_i, v, u, ie, ii, iext, ref, spk_now, ns, dt)
    if kind == 2:
        return _step2(par, lo, hi, prev, buf_e, buf_i, v, u, ie, ii, iext, ref, spk_now, ns, dt)
    if kind == 3:
        return _step3(par, lo, hi, prev, buf_e, buf_i, v, u, ie, ii, iext, ref, spk_now, ns, dt)
    if kind == 4:
        return _step4(par, lo, hi, prev, buf_e, buf_i, v, u, ie, ii, iext, ref, spk_now, ns, dt)
    if kind == 5:
        return _step5(par, lo, hi, prev, buf_e, buf_i, v, u, ie, ii, iext, ref, spk_now, ns, dt)
    if kind == 6:
        return _step6(par, lo, hi, prev, buf_e, buf_i, v, u, ie, ii, iext, ref, spk_now, ns, dt)
    return _step7(par, lo, hi, prev, buf_e, buf_i, v, u, ie, ii, iext, ref, spk_now, ns, dt)


@numba.njit(nogil=True)
def _step_neurons(kind, rows, first, lo, hi, prev, buf_e, buf_i, v, u, ie, ii, iext, ref,
                  spk_now, ns, dt):  # pragma: no cover - compiled
    """One step of a node whose neurons have their own constants: the node's block of
    ``rows`` from ``first`` holds constant ``P`` of its neuron ``j`` at ``P * n + j``. The
    model's step, compiled for a 2-D ``par`` (its ``per_neuron(par[P], j)`` reads the
    neuron's value), computes for each neuron exactly what a homogeneous node computes.
    The block is reshaped from a contiguous slice, so ``par[P]`` is a contiguous array
    (LLVM vectorises its loops). Not inlined into the kernel: one call per heterogeneous
    node and step."""
    n = hi - lo
    par = rows[first:first + N_NODE_PARAMS * n].reshape((N_NODE_PARAMS, n))
    return _step_node(kind, par, lo, hi, prev, buf_e, buf_i, v, u, ie, ii, iext, ref,
                      spk_now, ns, dt)


# ---------------------------------------------------------------- threads
#: Fewest neurons a thread updates in one step: below this, handing a part to a thread costs
#: more than it saves (bench/cuba.py --threads).
MIN_NEURONS_PER_THREAD = 8192


@numba.njit(nogil=True, inline="always")
def thread_parts(threads, n):  # pragma: no cover - compiled
    """Into how many parts a step's update of ``n`` neurons is split (1: one pass)."""
    parts = min(threads, n // MIN_NEURONS_PER_THREAD)
    return parts if parts > 1 else 1


@numba.njit(nogil=True)
def _step_piece(kind, net, node, lo, hi, prev, buf_e, buf_i, v, u, ie, ii, iext, ref, spk_now,
                ns, dt):  # pragma: no cover - compiled
    """One step of the neurons ``lo:hi`` of ``node`` (a piece of it, or all of it). Not
    inlined: the parallel loop of :func:`_update_parts` stays small (numba's parallel passes
    take minutes over the models' inlined steps)."""
    f = net.node_hetero[node]
    if f < 0:
        return _step_node(kind, net.node_params[node], lo, hi, prev, buf_e, buf_i, v, u, ie,
                          ii, iext, ref, spk_now, ns, dt)
    # Constants of each neuron: this piece's columns of the node's block.
    n0, n1 = net.node_start[node], net.node_start[node + 1]
    block = net.neuron_params[f:f + N_NODE_PARAMS * (n1 - n0)]
    par = block.reshape((N_NODE_PARAMS, n1 - n0))[:, lo - n0:hi - n0]
    return _step_node(kind, par, lo, hi, prev, buf_e, buf_i, v, u, ie, ii, iext, ref, spk_now,
                      ns, dt)


@numba.njit(nogil=True, parallel=True)
def _update_parts(parts, net, prev, buf_e, buf_i, v, u, ie, ii, iext, ref, spk_now, dt,
                  node_ns, node_active):  # pragma: no cover - compiled
    """One step of every neuron, the neurons split into ``parts`` contiguous ranges of
    global index, one per thread (one parallel region per step).

    A part steps the pieces of the nodes that fall in its range, as one pass steps whole
    nodes, and writes its spikes from its own first index on (a neuron spikes at most once
    per step, so parts never write the same place). The spikes are then moved together in
    the order of the parts: the order of global indices, i.e. nodes in order and neurons in
    order within each, as one pass finds them. Each neuron's arithmetic is the same, so the
    spikes are identical for any number of parts. ``node_ns`` / ``node_active`` get each
    node's spikes and active neurons. Returns the first bad neuron, or -1.
    """
    node_type, node_start = net.node_type, net.node_start
    n_nodes = node_type.shape[0]
    n_total = node_start[n_nodes]
    ends = np.empty(parts, np.int64)
    bads = np.full(parts, -1, np.int64)
    spikes = np.zeros((parts, n_nodes), np.int64)
    active = np.zeros((parts, n_nodes), np.int64)
    for c in numba.prange(parts):
        part_lo = n_total * c // parts
        part_hi = n_total * (c + 1) // parts
        pos = part_lo
        for node in range(n_nodes):
            kind = node_type[node]
            n0, n1 = node_start[node], node_start[node + 1]
            lo, hi = max(n0, part_lo), min(n1, part_hi)
            if kind < 0 or lo >= hi:  # an encoder, or a node outside this part
                continue
            start = pos
            pos, act, bad = _step_piece(kind, net, node, lo, hi, prev, buf_e, buf_i, v, u, ie,
                                        ii, iext, ref, spk_now, pos, dt)
            spikes[c, node] = pos - start
            active[c, node] = act
            if bad >= 0:
                bads[c] = bad
                break
        ends[c] = pos
    ns, first_bad = 0, -1
    for c in range(parts):
        for s in range(n_total * c // parts, ends[c]):
            spk_now[ns] = spk_now[s]
            ns += 1
        if first_bad < 0 and bads[c] >= 0:
            first_bad = bads[c]
    for node in range(n_nodes):
        node_ns[node] = 0
        node_active[node] = 0
        for c in range(parts):
            node_ns[node] += spikes[c, node]
            node_active[node] += active[c, node]
    return first_bad


# ---------------------------------------------------------------- plasticity rule dispatch
#: The kernel has this many rule slots; slot c calls the steps of engine.plasticity's rule
#: with code c (1-based: 0 is a static projection).
N_RULE_SLOTS = 4
if len(plasticity.RULES) > N_RULE_SLOTS:
    raise RuntimeError(f"engine.plasticity registers {len(plasticity.RULES)} rules, the kernel "
                       f"has {N_RULE_SLOTS} slots: add slots to engine.core.kernels._rule_arrive")


@numba.njit(nogil=True, inline="always")
def _empty_arrive(pl, p, k, i, r0, r1, per_synapse, local, base, out, syn_post, syn_weight,
                  buf_e, dt):  # pragma: no cover - compiled
    return None


@numba.njit(nogil=True, inline="always")
def _empty_post(pl, p, k, j, syn_weight, dt):  # pragma: no cover - compiled
    return 0


def _rule_slot(code: int, step: str):
    """The compiled ``step`` ("arrive" or "post_spike") of the rule with code ``code``."""
    if code > len(plasticity.RULES):
        return _empty_arrive if step == "arrive" else _empty_post
    return _compiled(getattr(plasticity.rule_module(code), step))


_arrive1, _arrive2, _arrive3, _arrive4 = (_rule_slot(c, "arrive")
                                          for c in range(1, N_RULE_SLOTS + 1))
_post1, _post2, _post3, _post4 = (_rule_slot(c, "post_spike")
                                  for c in range(1, N_RULE_SLOTS + 1))


@numba.njit(nogil=True, inline="always")
def _rule_arrive(rule, pl, p, k, i, r0, r1, per_synapse, local, base, out, syn_post,
                 syn_weight, buf_e, dt):  # pragma: no cover - compiled
    """The ``arrive`` step of rule ``rule`` (see engine.plasticity.base)."""
    if rule == 1:
        _arrive1(pl, p, k, i, r0, r1, per_synapse, local, base, out, syn_post, syn_weight,
                 buf_e, dt)
    elif rule == 2:
        _arrive2(pl, p, k, i, r0, r1, per_synapse, local, base, out, syn_post, syn_weight,
                 buf_e, dt)
    elif rule == 3:
        _arrive3(pl, p, k, i, r0, r1, per_synapse, local, base, out, syn_post, syn_weight,
                 buf_e, dt)
    else:
        _arrive4(pl, p, k, i, r0, r1, per_synapse, local, base, out, syn_post, syn_weight,
                 buf_e, dt)


@numba.njit(nogil=True, inline="always")
def _rule_post(rule, pl, p, k, j, syn_weight, dt):  # pragma: no cover - compiled
    """The ``post_spike`` step of rule ``rule``: its number of plasticity updates."""
    if rule == 1:
        return _post1(pl, p, k, j, syn_weight, dt)
    if rule == 2:
        return _post2(pl, p, k, j, syn_weight, dt)
    if rule == 3:
        return _post3(pl, p, k, j, syn_weight, dt)
    return _post4(pl, p, k, j, syn_weight, dt)


def _make_run_chunk(models_digest: str, threaded: bool):
    """The kernel, compiled with the neuron models of the registry inlined.

    numba's cache of a function is keyed by its own source file only, so a change in a
    model's (or a plasticity rule's) file would leave a stale ``run_chunk`` in the cache. A
    closure variable is part of numba's cache key (it hashes the cell contents), so
    ``models_digest``, a hash of those files (:func:`inlined_sources_digest`), makes each
    version of them its own cache entry.

    ``threaded`` (a closure constant: numba drops the branches it rules out before
    compiling) gives the kernel that splits the neuron updates over ``net.threads``
    threads (:func:`_update_parts`). The kernel of one thread never compiles that parallel
    code, so its cold compile and its speed stay as they were.
    """

    @numba.njit(cache=True, nogil=True)
    def run_chunk(k0, k1, net, neu, pl, rec, bp, ev_k, ev_gid, ev_ptr):  # pragma: no cover
        """Advance the network over time indices ``[k0, k1)``.

        Parameters
        ----------
        k0, k1
            The time range.
        net, neu, pl, rec, bp
            The run's ``Network``, ``Neurons``, ``Plasticity``, ``Recording`` and ``Watch``
            (:mod:`engine.core.kernel_data`; changed in place).
        ev_k, ev_gid, ev_ptr
            The input events of the chunk (step, neuron) sorted by step, and the first one
            not taken yet.

        Returns
        -------
        (status, k_next, ev_ptr, bad_neuron)
            ``status`` is OK, SPIKE_BUFFER_FULL (grow ``spk_*`` and call again from ``k_next``),
            INVALID_STATE (``bad_neuron`` got a NaN/inf membrane potential at ``k_next``; that
            step is half done) or BREAKPOINT (a condition held after step ``k_next - 1``, which
            is complete; ``bp.hit`` says which).

        Breakpoints (empty arrays: none) are checked at the end of every step: ``watch[gid]``
        a neuron whose spike stops the run; ``rate_*`` one row per rate condition on a node
        (spikes labelled in the last ``rate_window`` steps, kept in ``rate_ring`` /
        ``rate_sum``, times ``rate_scale`` gives Hz; checked from step ``rate_from`` on);
        ``wb_*`` one row per weight range on a projection, checked in steps where its
        plasticity changed weights.
        """
        # Local names for the containers' arrays (the loop below reads them as before).
        bin_steps, dt, threads = net.bin_steps, net.dt, net.threads
        node_type, node_start, node_params = net.node_type, net.node_start, net.node_params
        node_record, node_of = net.node_record, net.node_of
        node_hetero, neuron_params = net.node_hetero, net.neuron_params
        proj_tgt, proj_inh, proj_row_off = net.proj_tgt, net.proj_inh, net.proj_row_off
        proj_syn_off, proj_delay, proj_dsyn_off = (net.proj_syn_off, net.proj_delay,
                                                   net.proj_dsyn_off)
        rowptr, syn_post, syn_weight, syn_delay = (net.rowptr, net.syn_post, net.syn_weight,
                                                   net.syn_delay)
        out_proj_ptr, out_proj = net.out_proj_ptr, net.out_proj
        v, u, ie, ii, iext, ref = neu.v, neu.u, neu.ie, neu.ii, neu.iext, neu.ref
        buf_e, buf_i = neu.buf_e, neu.buf_i
        proj_rule, proj_pend_off = pl.rule, pl.pend_off
        pend, pend_n, pend_cur, pend_k = pl.pend, pl.pend_n, pl.pend_cur, pl.pend_k
        spk_k, spk_gid, n_spk, spk_now = rec.spk_k, rec.spk_gid, rec.n_spk, rec.spk_now
        cnt_spikes, cnt_active, cnt_syn, cnt_plast = (rec.cnt_spikes, rec.cnt_active,
                                                      rec.cnt_syn, rec.cnt_plast)
        hw_steps, hw_flag, cnt_hw = rec.hw_steps, rec.hw_flag, rec.cnt_hw
        mon_interval, mon_off, mon_ch_ptr = rec.mon_interval, rec.mon_off, rec.mon_ch_ptr
        ch_gid, ch_var, tr_out = rec.ch_gid, rec.ch_var, rec.tr_out
        wt_syn, wt_interval, wt_out = rec.wt_syn, rec.wt_interval, rec.wt_out
        watch, rate_node, rate_window = bp.watch, bp.rate_node, bp.rate_window
        rate_from, rate_scale, rate_above, rate_below = (bp.rate_from, bp.rate_scale,
                                                         bp.rate_above, bp.rate_below)
        rate_ring, rate_sum, node_now = bp.rate_ring, bp.rate_sum, bp.node_now
        wb_proj, wb_lo, wb_hi, wb_seen, hit = bp.wb_proj, bp.wb_lo, bp.wb_hi, bp.wb_seen, bp.hit
        _ = models_digest  # part of the cache key (see _make_run_chunk)
        n_nodes = node_type.shape[0]
        n_total = node_start[n_nodes]
        n_proj = proj_tgt.shape[0]
        ring = buf_e.shape[0]
        pring = pend.shape[0]
        cap = spk_k.shape[0]
        n_events = ev_k.shape[0]
        any_plastic = False
        n_hw = hw_steps.shape[0]
        hring = hw_flag.shape[1]
        any_iext = False
        for g in range(n_total):
            if iext[g] != 0.0:
                any_iext = True
                break
        for p in range(n_proj):
            if proj_rule[p] != 0:
                any_plastic = True
        # No external input anywhere: the models get an empty iext and skip reading it.
        ext = iext if any_iext else np.empty(0, np.float64)
        any_watch = watch.shape[0] > 0
        n_rate = rate_node.shape[0]
        parts = 1
        if threaded:
            parts = thread_parts(threads, n_total)
        node_ns = np.zeros(n_nodes if parts > 1 else 0, np.int64)
        node_active = np.zeros_like(node_ns)
        n_wb = wb_proj.shape[0]
        for k in range(k0, k1):
            # Room for the worst case of this step: every neuron plus every input event.
            n_ev_now = 0
            while ev_ptr + n_ev_now < n_events and ev_k[ev_ptr + n_ev_now] == k:
                n_ev_now += 1
            if n_spk[0] + n_total + n_ev_now > cap or n_total + n_ev_now > spk_now.shape[0]:
                return SPIKE_BUFFER_FULL, k, ev_ptr, -1
            b = (k - 1) // bin_steps if k > 0 else 0
            ns = 0
            for j in range(n_hw):  # a constant current is input at every step of this call
                if any_iext and k > 0 and (k == k0 or (k - 1) % hw_steps[j] == 0):
                    flag = hw_flag[j, ((k - 1) // hw_steps[j]) % hring]
                    for g in range(n_total):
                        if iext[g] != 0.0:
                            flag[g] = 1
            spike_hit = -1
            if n_rate > 0:
                node_now[:] = 0
            # ---------------------------------------------------------------- neuron updates
            if k > 0:
                prev = (k - 1) % ring
                part_bad = bad_node = -1
                if threaded:
                    if parts > 1:  # all neurons in one parallel pass; each node's share below
                        part_bad = _update_parts(parts, net, prev, buf_e, buf_i, v, u, ie, ii,
                                                 ext, ref, spk_now, dt, node_ns, node_active)
                        # As one pass: the nodes before the bad neuron's count, then it stops.
                        if part_bad >= 0:
                            bad_node = node_of[part_bad]
                for node in range(n_nodes):
                    kind = node_type[node]
                    if kind < 0:  # an encoder
                        continue
                    first = ns
                    if parts > 1:  # stepped above
                        ns, active = first + node_ns[node], node_active[node]
                        bad = part_bad if node == bad_node else -1
                    elif node_hetero[node] < 0:  # one row of constants for the whole node
                        ns, active, bad = _step_node(kind, node_params[node], node_start[node],
                                                     node_start[node + 1], prev, buf_e, buf_i,
                                                     v, u, ie, ii, ext, ref, spk_now, ns, dt)
                    else:
                        ns, active, bad = _step_neurons(kind, neuron_params, node_hetero[node],
                                                        node_start[node], node_start[node + 1],
                                                        prev, buf_e, buf_i, v, u, ie, ii, ext,
                                                        ref, spk_now, ns, dt)
                    if bad >= 0:
                        return INVALID_STATE, k, ev_ptr, bad
                    cnt_active[b, node] += active
                    cnt_spikes[b, node] += ns - first
                    if ns > first:  # a neuron that spikes is active in its hardware step
                        for j in range(n_hw):
                            row = ((k - 1) // hw_steps[j]) % hring
                            for s in range(first, ns):
                                hw_flag[j, row, spk_now[s]] = 1
                    if n_rate > 0:
                        node_now[node] = ns - first
                    if node_record[node]:
                        for s in range(first, ns):
                            spk_k[n_spk[0]] = k
                            spk_gid[n_spk[0]] = spk_now[s]
                            n_spk[0] += 1
            # ---------------------------------------------------------------- input spikes at k
            for e in range(ev_ptr, ev_ptr + n_ev_now):
                gid = ev_gid[e]
                node = node_of[gid]
                spk_now[ns] = gid
                ns += 1
                cnt_spikes[b, node] += 1
                if n_rate > 0:
                    node_now[node] += 1
                if node_record[node]:
                    spk_k[n_spk[0]] = k
                    spk_gid[n_spk[0]] = gid
                    n_spk[0] += 1
            ev_ptr += n_ev_now
            for j in range(n_hw):
                if k > 0 and k % hw_steps[j] == 0:  # the last step of a hardware step
                    hw_flush(hw_flag[j, ((k - 1) // hw_steps[j]) % hring],
                             cnt_hw[j, (k - hw_steps[j]) // bin_steps], node_type, node_start)
            # ---------------------------------------------------------------- propagation
            for s in range(ns):
                gid = spk_now[s]
                if any_watch and spike_hit < 0 and watch[gid] != 0:
                    spike_hit = gid
                node = node_of[gid]
                i = gid - node_start[node]
                for q in range(out_proj_ptr[node], out_proj_ptr[node + 1]):
                    p = out_proj[q]
                    r0 = rowptr[proj_row_off[p] + i]
                    r1 = rowptr[proj_row_off[p] + i + 1]
                    # One tracked hardware step and one delay (the usual static case): the
                    # targets are flagged in the delivery loop below, in the same pass.
                    fused = n_hw == 1 and proj_rule[p] == 0 and proj_delay[p] >= 0
                    if n_hw > 0 and not fused:
                        _mark_arrivals(hw_flag, hw_steps, k, proj_delay[p], r0, r1,
                                       node_start[proj_tgt[p]], syn_post, syn_delay,
                                       proj_dsyn_off[p] - proj_syn_off[p])
                    if proj_rule[p] != 0:  # plastic: queue the pre spike, learn at arrival
                        if proj_delay[p] >= 0:  # one delay: queued under its arrival step
                            slot = (k + proj_delay[p]) % pring
                        else:  # per-synapse delays: under its emission step, row walked later
                            slot = k % pring
                            if pend_k[slot, p] != k:
                                pend_k[slot, p] = k
                                pend_n[slot, p] = 0
                            pend_cur[slot, proj_pend_off[p] + pend_n[slot, p]] = r0
                        pend[slot, proj_pend_off[p] + pend_n[slot, p]] = i
                        pend_n[slot, p] += 1
                        continue
                    cnt_syn[b, p] += r1 - r0
                    base = node_start[proj_tgt[p]]
                    d = proj_delay[p]
                    buf = buf_i if proj_inh[p] else buf_e
                    if fused:  # weight delivered at k + d: hardware step (k + d) // h
                        slot = (k + d) % ring
                        flag = hw_flag[0, ((k + d) // hw_steps[0]) % hring]
                        for syn in range(r0, r1):
                            t = base + syn_post[syn]
                            buf[slot, t] += syn_weight[syn]
                            flag[t] = 1
                    elif d >= 0:
                        slot = (k + d) % ring
                        for syn in range(r0, r1):
                            buf[slot, base + syn_post[syn]] += syn_weight[syn]
                    else:
                        shift = proj_dsyn_off[p] - proj_syn_off[p]
                        for syn in range(r0, r1):
                            slot = (k + syn_delay[shift + syn]) % ring
                            buf[slot, base + syn_post[syn]] += syn_weight[syn]
            # ---------------------------------------------------------------- plasticity
            for j in range(n_wb):
                wb_seen[j] = cnt_plast[b, wb_proj[j]]
            if any_plastic:
                for p in range(n_proj):
                    if proj_rule[p] != 0:
                        _plastic_arrivals(k, b, p, net, pl, buf_e, cnt_syn, cnt_plast)
                        _plastic_posts(k, b, p, ns, spk_now, net, pl, cnt_plast)
            # ---------------------------------------------------------------- recording
            for m in range(mon_interval.shape[0]):
                if k % mon_interval[m] == 0:
                    row = mon_off[m] + (k // mon_interval[m]) * (mon_ch_ptr[m + 1] - mon_ch_ptr[m])
                    for ch in range(mon_ch_ptr[m], mon_ch_ptr[m + 1]):
                        g = ch_gid[ch]
                        var = ch_var[ch]
                        if var == V:
                            val = v[g]
                        elif var == I_EXC:
                            val = ie[g]
                        elif var == I_INH:
                            val = ii[g]
                        else:
                            val = u[g]
                        tr_out[row + ch - mon_ch_ptr[m]] = val
            if wt_syn.shape[0] > 0 and k % wt_interval == 0:
                row = (k // wt_interval) * wt_syn.shape[0]
                for t in range(wt_syn.shape[0]):
                    wt_out[row + t] = syn_weight[wt_syn[t]]
            # ---------------------------------------------------------------- breakpoints
            rate_hit = -1
            for j in range(n_rate):  # every window moves on, whatever stops the run
                slot = k % rate_window[j]
                now = node_now[rate_node[j]]
                rate_sum[j] += now - rate_ring[j, slot]
                rate_ring[j, slot] = now
                if rate_hit < 0 and k >= rate_from[j]:
                    rate = rate_sum[j] * rate_scale[j]
                    if rate > rate_above[j] or rate < rate_below[j]:
                        rate_hit = j
            if spike_hit >= 0:
                hit[0], hit[1], hit[2] = HIT_SPIKE, 0, spike_hit
                return BREAKPOINT, k + 1, ev_ptr, -1
            if rate_hit >= 0:
                hit[0], hit[1], hit[2] = HIT_RATE, rate_hit, rate_node[rate_hit]
                return BREAKPOINT, k + 1, ev_ptr, -1
            for j in range(n_wb):
                p = wb_proj[j]
                if cnt_plast[b, p] != wb_seen[j]:
                    for syn in range(proj_syn_off[p], proj_syn_off[p + 1]):
                        if not (wb_lo[j] <= syn_weight[syn] <= wb_hi[j]):
                            hit[0], hit[1], hit[2] = HIT_WEIGHT, j, syn
                            return BREAKPOINT, k + 1, ev_ptr, -1
        return OK, k1, ev_ptr, -1

    return run_chunk


def inlined_sources_digest() -> str:
    """sha256 of every file of engine.neurons and engine.plasticity (and of the memory hints
    the rules call): the kernel inlines the models' steps and reads the rules' parameter
    layouts, so it is cached under this digest."""
    h = hashlib.sha256()
    for package in (neurons, plasticity):
        for path in sorted(Path(package.__file__).parent.glob("*.py")):
            h.update(f"{package.__name__}/{path.name}".encode())
            h.update(path.read_bytes())
    h.update(Path(memory_hints.__file__).read_bytes())
    return h.hexdigest()


run_chunk = _make_run_chunk(inlined_sources_digest(), threaded=False)
#: :data:`run_chunk` for runs of more than one thread (compiled at its first call).
run_chunk_threaded = _make_run_chunk(inlined_sources_digest(), threaded=True)


@numba.njit(nogil=True, inline="always")
def _mark_arrivals(hw_flag, hw_steps, k, d, r0, r1, base, syn_post, syn_delay,
                   shift):  # pragma: no cover - compiled
    """Flag the targets of synapses r0..r1 (a spike emitted at k) in the hardware step
    that takes the arrival: weight delivered at ``k + delay`` is integrated in step
    ``k + delay + 1``, hardware step ``(k + delay) // h``; ``d < 0``: per-synapse delays."""
    hring = hw_flag.shape[1]
    for j in range(hw_steps.shape[0]):
        h = hw_steps[j]
        if d >= 0:
            row = ((k + d) // h) % hring
            for syn in range(r0, r1):
                hw_flag[j, row, base + syn_post[syn]] = 1
        else:
            for syn in range(r0, r1):
                hw_flag[j, ((k + syn_delay[shift + syn]) // h) % hring, base + syn_post[syn]] = 1


@numba.njit(cache=True, nogil=True)
def hw_flush(flag, cnt, node_type, node_start):  # pragma: no cover - compiled
    """End of a hardware step: add the flagged neurons of each node to ``cnt``, clear flags."""
    for node in range(node_type.shape[0]):
        if node_type[node] < 0:
            continue
        part = flag[node_start[node]:node_start[node + 1]]
        n = 0
        for g in range(part.shape[0]):  # from 0 over a view: vectorised
            n += part[g]
        part[:] = 0
        cnt[node] += n


@numba.njit(nogil=True)
def _plastic_arrivals(k, b, p, net, pl, buf_e, cnt_syn,
                      cnt_plast):  # pragma: no cover - compiled
    """Pre spikes of projection p arriving at time k: its rule's ``arrive`` for each.

    With one delay, the queue slot of step k holds whole rows. With per-synapse delays a
    slot holds the spikes emitted at one step; rows are sorted by delay, so the synapses of
    each spike that arrive now (delay k - emission) continue where the last step stopped.
    (Not cached on its own: it is compiled into run_chunk, whose cache key covers the rules.)
    """
    pend, pend_n, pend_cur, pend_k = pl.pend, pl.pend_n, pl.pend_cur, pl.pend_k
    rowptr = net.rowptr
    pring = pend.shape[0]
    row_off = net.proj_row_off[p]
    pend_off = pl.pend_off[p]
    if net.proj_delay[p] >= 0:
        slot = k % pring
        for c in range(pend_n[slot, p]):
            i = pend[slot, pend_off + c]
            _arrive(k, b, p, i, rowptr[row_off + i], rowptr[row_off + i + 1], False, net, pl,
                    buf_e, cnt_syn, cnt_plast)
        pend_n[slot, p] = 0
        return
    shift = net.proj_dsyn_off[p] - net.proj_syn_off[p]
    for d in range(min(pl.dmax[p], k) + 1):
        slot = (k - d) % pring
        if pend_k[slot, p] != k - d:
            continue  # nothing was emitted at k - d
        for c in range(pend_n[slot, p]):
            i = pend[slot, pend_off + c]
            r0 = pend_cur[slot, pend_off + c]
            r_end = rowptr[row_off + i + 1]
            r1 = r0
            while r1 < r_end and net.syn_delay[shift + r1] == d:
                r1 += 1
            pend_cur[slot, pend_off + c] = r1
            if r1 > r0:
                _arrive(k, b, p, i, r0, r1, True, net, pl, buf_e, cnt_syn, cnt_plast)


@numba.njit(nogil=True, inline="always")
def _arrive(k, b, p, i, r0, r1, per_synapse, net, pl, buf_e, cnt_syn,
            cnt_plast):  # pragma: no cover - compiled
    """Synapses r0..r1 of pre neuron i receive its spike at time k.

    The pre-side state (trace, last arrival) is the pre neuron's, or with ``per_synapse``
    each synapse's own (its arrivals differ from its neighbours' by their delays).
    """
    cnt_syn[b, p] += r1 - r0
    cnt_plast[b, p] += r1 - r0
    _rule_arrive(pl.rule[p], pl, p, k, i, r0, r1, per_synapse,
                 pl.pre_off[p] - net.proj_syn_off[p],  # per-synapse state index = this + syn
                 net.node_start[net.proj_tgt[p]], k % buf_e.shape[0], net.syn_post,
                 net.syn_weight, buf_e, net.dt)


@numba.njit(nogil=True)
def _plastic_posts(k, b, p, ns, spk_now, net, pl, cnt_plast):  # pragma: no cover - compiled
    """Post spikes of projection p's target at time k (after the arrivals of step k): its
    rule's ``post_spike`` for each."""
    rule = pl.rule[p]
    tgt = net.proj_tgt[p]
    base = net.node_start[tgt]
    for s in range(ns):
        gid = spk_now[s]
        if net.node_of[gid] != tgt:
            continue
        cnt_plast[b, p] += _rule_post(rule, pl, p, k, gid - base, net.syn_weight, net.dt)


@numba.njit(cache=True, nogil=True)
def weight_stats(w, lo, hi, n_bins):  # pragma: no cover - compiled
    """Mean, standard deviation and a histogram on [lo, hi] of ``w`` in one pass.

    Values outside [lo, hi] count in the first / last bin (weights of plastic projections
    stay inside their bounds; static ones define the range).
    """
    counts = np.zeros(n_bins, np.int64)
    n = w.shape[0]
    if n == 0:
        return np.nan, np.nan, counts
    scale = n_bins / (hi - lo) if hi > lo else 0.0
    total = 0.0
    total_sq = 0.0
    for i in range(n):
        x = np.float64(w[i])
        total += x
        total_sq += x * x
        b = int((x - lo) * scale)
        b = 0 if b < 0 else (n_bins - 1 if b >= n_bins else b)
        counts[b] += 1
    mean = total / n
    var = total_sq / n - mean * mean
    return mean, np.sqrt(var if var > 0.0 else 0.0), counts
