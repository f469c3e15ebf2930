"""Run a compiled network in chunks of model time, with progress and cancellation.

The whole time loop runs inside the numba kernel; Python only runs between chunks to report
progress, honour a cancel request, set piecewise-constant input currents, fetch the input
spikes of the next chunk and take weight snapshots. Chunk lengths adapt so each kernel call
takes about ``chunk_wall_s`` seconds: long enough to amortise the call, short enough that Stop
acts within a fraction of a second.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from engine import kernels
from engine import plasticity as plasticity_rules
from engine.build import MAX_CHUNK_EVENTS, CompiledNetwork, build
from engine.encoders import BLOCK_STEPS, BlockSpikeSource
from engine.errors import MemoryBudgetError, SimulationError
from engine.limits import RECORD_RATE_HZ, RunLimits, RunStopped, StopCheck, memory_budget
from engine.neurons import NEURON_MODELS
from engine.neurons import model as neuron_model
from engine.progress import Progress
from engine.project import Project
from engine.results import SimulationResult, TraceRecord, WeightRecord

HIST_BINS = 40
MAX_TRAJECTORY_SAMPLES = 100_000



ProgressCallback = Callable[[Progress], None]
CancelCheck = threading.Event | Callable[[], bool] | None


def simulate(project: Project, *, limits: RunLimits | None = None,
             duration_ms: float | None = None, progress: ProgressCallback | None = None,
             cancel: CancelCheck = None, chunk_wall_s: float = 0.1,
             writing: bool = False) -> SimulationResult:
    """Build and run a project within the administrator's limits.

    Parameters
    ----------
    project
        A validated project.
    limits
        Caps on memory and wall time per run. The memory budget is the project's
        ``simulation.memory_budget_mb`` lowered to ``limits.max_memory_mb`` (a project cannot
        raise it); the run's wall time (build, simulation, results) is capped at
        ``limits.max_wall_s``. None: the project's budget, bounded by this machine's memory.
    duration_ms
        Overrides ``project.simulation.duration_ms``.
    progress
        Called between chunks with a :class:`Progress`.
    cancel
        A ``threading.Event`` or a callable; when it is set / returns True the run stops
        promptly in any phase and the run returns what was done so far (status
        ``cancelled``): nothing when it was still building (``duration_ms`` 0).
    chunk_wall_s
        Target wall time of one kernel call.
    writing
        The caller will write the spikes to files: count that in the memory estimate (CLI).

    Returns
    -------
    SimulationResult
        ``status`` is one of :data:`engine.limits.STATUSES`: ``memory_limit`` and
        ``time_limit`` runs hold their partial results and a message naming what to change.

    Raises
    ------
    MemoryBudgetError
        Before building, when the network would not fit the memory budget.
    SimulationError
        When a state variable became NaN or infinite (``partial_result`` holds the run so far).
    """
    if duration_ms is not None:
        project.simulation.duration_ms = float(duration_ms)
    t0 = time.perf_counter()
    stop = StopCheck(cancel, None if limits is None else limits.max_wall_s, t0)
    try:
        compiled = build(project, limits, stop, writing=writing)
        simulation = Simulation(compiled, project)
    except RunStopped as exc:
        return _unbuilt_result(project, exc.status, str(exc), time.perf_counter() - t0)
    except MemoryError:
        _, source = memory_budget(project.simulation.memory_budget_mb, limits)
        raise MemoryBudgetError(
            f"This machine could not allocate the memory to build the network (the budget "
            f"is {source}). Try fewer neurons or synapses, or a lower "
            f"simulation.memory_budget_mb.") from None
    build_time = time.perf_counter() - t0
    result = simulation.run(progress=progress, cancel=cancel, chunk_wall_s=chunk_wall_s,
                            build_time_s=build_time, stop=stop)
    if compiled.memory.budget_mb < project.simulation.memory_budget_mb:
        result.messages.append(f"Memory budget: {compiled.memory.budget_source}.")
    return result


def _unbuilt_result(project: Project, status: str, message: str,
                    wall: float) -> SimulationResult:
    """The result of a run stopped while building: every node listed, nothing simulated."""
    sim = project.simulation
    nodes = [n for n in project.network.nodes if n.kind != "monitor"]
    ids = [n.id for n in nodes]
    projections = project.network.projections
    empty = np.empty(0, np.int64)
    node_col = pd.Categorical([], categories=ids)
    return SimulationResult(
        spikes=pd.DataFrame({"time_ms": np.empty(0), "population": node_col,
                             "neuron": np.empty(0, np.int32)}),
        traces={},
        counts=pd.DataFrame({"bin_start_ms": np.empty(0), "node": node_col,
                             "kind": np.empty(0, object), "size": empty, "spikes": empty,
                             "neuron_updates": empty, "active_updates": empty,
                             "syn_events": empty, "plasticity_updates": empty}),
        projection_counts=pd.DataFrame({"bin_start_ms": np.empty(0),
                                        "projection": np.empty(0, object),
                                        "source": np.empty(0, object),
                                        "target": np.empty(0, object),
                                        "syn_events": empty, "plasticity_updates": empty}),
        weights={},
        node_info=pd.DataFrame({"node": ids, "kind": [n.kind for n in nodes],
                                "model": [n.model for n in nodes],
                                "size": np.array([n.size for n in nodes], np.int64)}),
        network_info=pd.DataFrame({
            "projection": [p.id for p in projections],
            "source": [p.source for p in projections],
            "target": [p.target for p in projections],
            "n_synapses": np.zeros(len(projections), np.int64),  # never built
            "n_pre": [project.network.node(p.source).size for p in projections],
            "n_post": [project.network.node(p.target).size for p in projections],
            "receptor": [p.receptor for p in projections],
            "plastic": [bool(p.plasticity) for p in projections],
        }),
        duration_ms=0.0, requested_ms=sim.duration_ms, dt_ms=sim.dt_ms,
        bin_ms=max(1, int(round(sim.count_bin_ms / sim.dt_ms))) * sim.dt_ms,
        status=status, wall_time_s=wall, build_time_s=wall, messages=[message],
    )


def _rss_bytes() -> int | None:
    """Resident memory of this process (None where /proc is not available)."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return None


_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


class Simulation:
    """State of one run of a compiled network (arrays the kernel mutates in place)."""

    def __init__(self, compiled: CompiledNetwork, project: Project):
        self.net = compiled
        self.project = project
        c = compiled
        n = c.n_neurons
        self.v = c.initial_v.copy()
        self.u = c.initial_u.copy()
        self.ie = np.zeros(n)
        self.ii = np.zeros(n)
        self.iext = c.bias.copy()
        self.ref = np.zeros(n, np.int64)
        ring = c.max_delay + 1
        self.buf_e = np.zeros((ring, n))
        self.buf_i = np.zeros((ring, n))
        # Plasticity rewrites weights: each run learns on its own copy, so a compiled network
        # can be run again (and reproduces the first run).
        plastic = bool(np.any(c.proj_rule != 0))
        self.syn_weight = c.syn_weight.copy() if plastic else c.syn_weight
        self._init_plasticity()
        n_bins = max(1, math.ceil(c.n_steps / c.bin_steps))
        n_nodes, n_proj = len(c.node_ids), len(c.proj_ids)
        self.cnt_spikes = np.zeros((n_bins, n_nodes), np.int64)
        self.cnt_active = np.zeros((n_bins, n_nodes), np.int64)
        self.cnt_syn = np.zeros((n_bins, n_proj), np.int64)
        self.cnt_plast = np.zeros((n_bins, n_proj), np.int64)
        # The spike record is allocated once at its capacity (pages are only touched as
        # spikes arrive): it never grows, and a run that fills it stops (memory_limit).
        self.record_capacity = c.memory.record_capacity
        headroom = max(c.memory.record_headroom, n + 1024)
        self.spk_k = np.empty(self.record_capacity + headroom, np.int64)
        self.spk_gid = np.empty_like(self.spk_k, dtype=np.int32)
        # Chunks are shortened so one kernel call fetches a bounded number of input events.
        per_step = max(1, self._events_per_step())
        self.max_chunk_steps = int(min(1_000_000, max(1, MAX_CHUNK_EVENTS // per_step)))
        self.n_spk = np.zeros(1, np.int64)
        self.spk_now = np.empty(n + 1024, np.int32)
        self._init_monitors()
        self._init_weight_records()
        self._resets = set(compiled.reset_k.tolist())

    # ------------------------------------------------------------------ set-up
    def _init_plasticity(self) -> None:
        c = self.net
        plastic = np.flatnonzero(c.proj_rule != 0)
        n_post = sum(c.node_start[t + 1] - c.node_start[t] for t in c.proj_tgt[plastic])
        self.pre_trace = np.zeros(max(1, c.n_pre_state))
        self.post_trace = np.zeros(max(1, n_post))
        self.pre_last = np.full(max(1, c.n_pre_state), kernels.NEVER, np.int64)
        self.post_last = np.full(max(1, n_post), kernels.NEVER, np.int64)
        # Rules that credit synapses (the teaching rule) keep a flag per synapse.
        credit = any(plasticity_rules.rule_module(int(c.proj_rule[p])).CREDITS_SYNAPSES
                     for p in plastic)
        self.credited = np.ones(c.n_synapses if credit else 1, np.uint8)
        # Queue of pre spikes, by arrival step (one delay) or by emission step (per-synapse
        # delays: pend_cur is where each spike's row has arrived so far).
        pring = (max((int(c.proj_dmax[p]) for p in plastic), default=0)) + 1
        n_proj = max(1, len(c.proj_ids))
        self.pend = np.zeros((pring, max(1, c.n_pend_state)), np.int32)
        spread = any(c.proj_delay[p] < 0 for p in plastic)
        self.pend_cur = np.zeros((pring, max(1, c.n_pend_state)) if spread else (1, 1),
                                 np.int64)
        self.pend_n = np.zeros((pring, n_proj), np.int64)
        self.pend_k = np.full((pring, n_proj), -1, np.int64)
        self._init_decay_tables(plastic)

    def _init_decay_tables(self, plastic: np.ndarray) -> None:
        """exp(-n dt / tau) for the rules' traces, until it falls below e^-30 (then 0)."""
        c = self.net
        n_proj = max(1, len(c.proj_ids))
        self.tab_off = np.zeros((n_proj, 2), np.int64)
        self.tab_len = np.zeros((n_proj, 2), np.int64)
        tables = [np.zeros(1)]
        size = 1
        for p in plastic:
            rule = plasticity_rules.rule_module(int(c.proj_rule[p]))
            for side, index in enumerate(rule.TRACE_TAUS):
                tau = c.proj_pparams[p, index]
                n = int(np.ceil(30.0 * tau / c.dt_ms)) + 1
                tables.append(np.exp(-np.arange(n) * c.dt_ms / tau))
                self.tab_off[p, side], self.tab_len[p, side] = size, n
                size += n
        self.decay_tab = np.concatenate(tables)

    def _init_monitors(self) -> None:
        c = self.net
        intervals, offsets, ch_ptr, gids, codes = [], [], [0], [], []
        total = 0
        for m in c.monitors:
            intervals.append(m["interval"])
            offsets.append(total)
            where = neuron_model(c.node_model[m["node"]]).STATE  # variable -> kernel array
            for var in m["variables"]:
                gids.extend(m["gids"])
                codes.extend([where[var]] * len(m["gids"]))
            n_ch = len(m["variables"]) * len(m["gids"])
            ch_ptr.append(ch_ptr[-1] + n_ch)
            total += m["n_samples"] * n_ch
        self.mon_interval = np.asarray(intervals, np.int64)
        self.mon_off = np.asarray(offsets, np.int64)
        self.mon_ch_ptr = np.asarray(ch_ptr, np.int64)
        self.ch_gid = np.asarray(gids, np.int64)
        self.ch_var = np.asarray(codes, np.int32)
        self.tr_out = np.full(total, np.nan)

    def _init_weight_records(self) -> None:
        c = self.net
        selected = [r["synapses"] for r in c.weight_records]
        self.wt_syn = np.concatenate(selected) if selected else np.empty(0, np.int64)
        self.wt_interval = max(1, math.ceil((c.n_steps + 1) / MAX_TRAJECTORY_SAMPLES))
        n_samples = c.n_steps // self.wt_interval + 1
        self.wt_out = np.full(n_samples * len(self.wt_syn), np.nan, np.float32)
        self.snap_times: dict[str, list[int]] = {r["projection"]: [] for r in c.weight_records}
        self.snaps: dict[str, list[np.ndarray]] = {r["projection"]: []
                                                   for r in c.weight_records}
        self.snap_stats: dict[str, list[tuple]] = {r["projection"]: []
                                                   for r in c.weight_records}
        self.hist_edges = {}
        for rec in c.weight_records:
            w_min, w_max = _weight_bounds(c, rec["index"], c.syn_weight[rec["lo"]:rec["hi"]])
            self.hist_edges[rec["projection"]] = np.linspace(
                w_min, w_max if w_max > w_min else w_min + 1.0, HIST_BINS + 1)

    # ------------------------------------------------------------------ run
    def _split_points(self) -> np.ndarray:
        """Time indices where a chunk must end: current changes and weight snapshots."""
        c = self.net
        points = [c.n_steps + 1]
        for schedule in c.current_sources.values():
            points.extend((schedule.change_k + 1).tolist())
        for rec in c.weight_records:
            points.extend(range(1, c.n_steps + 2, rec["every"]))
        points.extend(c.reset_k.tolist())
        points = np.unique(np.asarray(points, np.int64))
        return points[(points > 0) & (points <= c.n_steps + 1)]

    def _set_currents(self, k: int) -> None:
        """External input for steps k.. (the value held over the interval (k-1, k])."""
        c = self.net
        self.iext[:] = c.bias
        for row, node in enumerate(c.current_nodes):
            amplitude = c.current_sources[node].value_at(k - 1)
            if node in c.current_channels:
                channel, target, weight = c.current_channels[node]
                if np.any(amplitude):
                    self.iext += np.bincount(target, weights=amplitude[channel] * weight,
                                             minlength=self.iext.shape[0])
            elif amplitude:
                self.iext += amplitude * c.current_gain[row]

    def _reset_state(self) -> None:
        """A new dataset sample: every neuron back to its initial state, nothing in flight."""
        c = self.net
        self.v[:] = c.initial_v
        self.u[:] = c.initial_u
        for state in (self.ie, self.ii, self.ref, self.buf_e, self.buf_i):
            state[...] = 0

    def _events_per_step(self) -> int:
        """Input events per time index on average over a block (bursts of fixed sources
        are bounded by their totals, which the memory estimate holds anyway)."""
        c = self.net
        rate = 0.0
        for source in c.spike_sources.values():
            if isinstance(source, BlockSpikeSource):
                rate += source.block_events_bound() / BLOCK_STEPS
            else:
                rate += len(source.k) / max(1, c.n_steps)
        return int(math.ceil(rate))

    def _events(self, k_lo: int, k_hi: int,
                stop: StopCheck | None = None) -> tuple[np.ndarray, np.ndarray]:
        ks, gids = [], []
        for node, source in self.net.spike_sources.items():
            if stop is not None and stop.status() is not None:
                break  # the caller sees the stop request before using these events
            if isinstance(source, BlockSpikeSource) and stop is not None:
                k, n = source.events(k_lo, k_hi, lambda: stop.status() is not None)
            else:
                k, n = source.events(k_lo, k_hi)
            ks.append(k)
            gids.append(n.astype(np.int32) + np.int32(self.net.node_start[node]))
        if not ks:
            return np.empty(0, np.int64), np.empty(0, np.int32)
        k = np.concatenate(ks)
        order = np.argsort(k, kind="stable")
        return k[order], np.concatenate(gids)[order]

    def _record_full(self, k: int) -> str:
        c = self.net
        worst = c.memory.record_worst
        return (f"Stopped at {max(k - 1, 0) * c.dt_ms:g} ms: the spike record is full "
                f"({self.record_capacity:,} spikes; these neurons could fire up to {worst:,} "
                f"times). The network fires faster than a mean of {RECORD_RATE_HZ:g} Hz per "
                f"recorded neuron: record fewer populations (simulation.record_spikes), "
                f"simulate less time, or check for runaway activity.")

    def run(self, progress: ProgressCallback | None = None, cancel: CancelCheck = None,
            chunk_wall_s: float = 0.1, build_time_s: float = 0.0,
            stop: StopCheck | None = None) -> SimulationResult:
        """Run to the end (or until stopped) and collect the results.

        ``stop`` adds the wall-time limit to ``cancel`` (the time counts from the start of the
        build); the memory budget is checked against the process's resident memory between
        chunks.
        """
        c = self.net
        start = time.perf_counter()
        stop = stop or StopCheck(cancel, start=start)
        budget = c.memory.budget_mb * 1024 * 1024
        rss0 = _rss_bytes()
        splits = self._split_points()
        chunk = 100
        k = 0
        status = "completed"
        messages: list[str] = []
        try:
            while k <= c.n_steps:
                halt = stop.status()
                if halt is not None:
                    status = halt
                    if halt == "time_limit":
                        messages.append(f"Stopped at {max(k - 1, 0) * c.dt_ms:g} ms: "
                                        f"{stop.reason(halt)}.")
                    break
                rss = _rss_bytes()
                if rss is not None and rss0 is not None and rss - rss0 > budget:
                    status = "memory_limit"
                    messages.append(
                        f"Stopped at {max(k - 1, 0) * c.dt_ms:g} ms: the run used "
                        f"{(rss - rss0) / 2**20:,.0f} MB, more than {c.memory.budget_source}. "
                        f"Record fewer neurons or less often, or simulate less time.")
                    break
                boundary = int(splits[np.searchsorted(splits, k, side="right")])
                stop_k = min(k + min(chunk, self.max_chunk_steps), boundary)
                if k in self._resets:
                    self._reset_state()
                self._set_currents(max(k, 1))
                ev_k, ev_gid = self._events(k, stop_k, stop)
                if stop.status() is not None:
                    continue  # reported at the top of the loop
                tick = time.perf_counter()
                k_next = k
                ev_ptr = 0
                while k_next < stop_k:
                    result = self._call_kernel(k_next, stop_k, ev_k, ev_gid, ev_ptr)
                    code, k_next, ev_ptr, bad = result
                    if code == kernels.INVALID_STATE:
                        raise self._invalid_state(int(k_next), int(bad), start, build_time_s)
                    if code == kernels.SPIKE_BUFFER_FULL:
                        if not self._make_room(int(k_next), len(ev_k) - int(ev_ptr)):
                            status = "memory_limit"
                            messages.append(self._record_full(int(k_next)))
                            break
                k = int(k_next)
                self._snapshot_weights(k)
                if status != "completed":
                    break
                elapsed = time.perf_counter() - tick
                # Aim each call at chunk_wall_s; grow at most 4x per chunk to stay responsive.
                scale = chunk_wall_s / elapsed if elapsed > 1e-4 else 4.0
                chunk = int(min(max(chunk * min(scale, 4.0), 10), 1_000_000))
                if progress is not None:
                    progress(Progress(t_ms=max(k - 1, 0) * c.dt_ms,
                                      duration_ms=c.n_steps * c.dt_ms,
                                      elapsed_s=time.perf_counter() - start,
                                      spikes=int(self.n_spk[0])))
        except MemoryError:
            status = "memory_limit"
            messages.append(f"Stopped at {max(k - 1, 0) * c.dt_ms:g} ms: this machine could not "
                            f"allocate more memory (the budget is {c.memory.budget_source}). "
                            f"Record fewer neurons, use fewer input events or a shorter run.")
        return self._result(k, status, messages, time.perf_counter() - start, build_time_s,
                            stop)

    def _make_room(self, k: int, events_left: int) -> bool:
        """After SPIKE_BUFFER_FULL: make room for one more step, or say the record is full.

        The kernel wants room for every neuron and every input event of the step. The record
        never grows past its capacity; only an input burst above the estimated bound (a
        6-sigma Poisson draw) can need a larger scratch or a little more headroom.
        """
        c = self.net
        n_spk = int(self.n_spk[0])
        if n_spk >= self.record_capacity and n_spk > 0:  # (nothing recorded: capacity 0)
            return False
        want = c.n_neurons + events_left
        if self.spk_now.shape[0] < want:
            self.spk_now = np.empty(want, np.int32)
        if n_spk + want > self.spk_k.shape[0]:
            for name in ("spk_k", "spk_gid"):
                old = getattr(self, name)
                grown = np.empty(n_spk + want, old.dtype)
                grown[:n_spk] = old[:n_spk]
                setattr(self, name, grown)
        return True

    def _call_kernel(self, k0, k1, ev_k, ev_gid, ev_ptr):
        c = self.net
        return kernels.run_chunk(
            k0, k1, c.bin_steps,
            c.node_type, c.node_start, c.node_params, c.node_record, c.node_of,
            self.v, self.u, self.ie, self.ii, self.iext, self.ref, self.buf_e, self.buf_i,
            c.proj_tgt, c.proj_inh, c.proj_row_off, c.proj_syn_off, c.proj_delay,
            c.proj_dsyn_off, c.proj_rule, c.proj_pparams, c.proj_col_off,
            c.proj_trace_pre_off, c.proj_trace_post_off, c.proj_pend_off, c.proj_dmax,
            c.rowptr, c.syn_post, self.syn_weight, c.syn_delay, c.colptr, c.col_syn,
            c.col_pre,
            c.out_proj_ptr, c.out_proj,
            self.pre_trace, self.pre_last, self.post_trace, self.post_last, self.credited,
            self.pend, self.pend_n, self.pend_cur, self.pend_k,
            self.decay_tab, self.tab_off, self.tab_len,
            ev_k, ev_gid, ev_ptr,
            self.spk_k, self.spk_gid, self.n_spk, self.spk_now,
            self.cnt_spikes, self.cnt_active, self.cnt_syn, self.cnt_plast,
            self.mon_interval, self.mon_off, self.mon_ch_ptr, self.ch_gid, self.ch_var,
            self.tr_out, self.wt_syn, self.wt_interval, self.wt_out,
            c.dt_ms,
        )

    def _snapshot_weights(self, k_next: int) -> None:
        """Keep weights after step k_next - 1 when that is a snapshot time."""
        c = self.net
        k_done = k_next - 1
        for rec in c.weight_records:
            if k_done >= 0 and k_done % rec["every"] == 0:
                times = self.snap_times[rec["projection"]]
                if times and times[-1] == k_done:
                    continue
                times.append(k_done)
                weights = self.syn_weight[rec["lo"]:rec["hi"]]
                edges = self.hist_edges[rec["projection"]]
                mean, std, counts = kernels.weight_stats(weights, edges[0], edges[-1],
                                                         HIST_BINS)
                self.snap_stats[rec["projection"]].append((float(mean), float(std), counts))
                if rec["full"]:
                    self.snaps[rec["projection"]].append(weights.copy())

    def _invalid_state(self, k: int, gid: int, start: float, build_time_s: float):
        c = self.net
        node = int(c.node_of[gid])
        error = SimulationError(
            f"Stopped at t = {k * c.dt_ms:g} ms: neuron {gid - int(c.node_start[node])} of "
            f"{c.node_ids[node]!r} reached an invalid (NaN or infinite) membrane potential. "
            f"Check its input weights and currents, or use a smaller dt.")
        error.partial_result = self._result(k, "error", [str(error)],
                                            time.perf_counter() - start, build_time_s)
        return error

    # ------------------------------------------------------------------ results
    def _result(self, k_next: int, status: str, messages: list[str], wall: float,
                build_time_s: float, stop: StopCheck | None = None) -> SimulationResult:
        """Collect the results of steps before ``k_next``.

        A cancel request arriving while collecting (the run itself completed or reached a
        limit) leaves out the parts not collected yet, in the order spikes, counts, traces,
        weights, so Stop acts here too. A run stopped by a cancel request is collected whole.
        """
        c = self.net
        dt = c.dt_ms
        last_k = max(0, min(k_next - 1, c.n_steps))
        dropped: list[str] = []
        watch = stop is not None and stop.cancel is not None and status != "cancelled"

        def cancelled(part: str) -> bool:
            if dropped or (watch and stop.status() == "cancelled"):
                dropped.append(part)
                return True
            return False

        n = 0 if cancelled("spikes") else int(self.n_spk[0])
        gid = self.spk_gid[:n]
        node = c.node_of[gid]
        spikes = pd.DataFrame({
            "time_ms": self.spk_k[:n] * dt,
            "population": pd.Categorical.from_codes(node, categories=c.node_ids),
            "neuron": (gid - c.node_start[node]).astype(np.int32),
        })
        n_bins = max(1, math.ceil(last_k / c.bin_steps)) if last_k > 0 else 1
        if cancelled("operation counts"):
            n_bins = 0
        bin_ms = c.bin_steps * dt
        bin_start = np.arange(n_bins) * bin_ms
        steps_in_bin = np.minimum(c.bin_steps, last_k - np.arange(n_bins) * c.bin_steps)
        steps_in_bin = np.maximum(steps_in_bin, 0)
        sizes = np.diff(c.node_start)
        incoming_syn = np.zeros((n_bins, len(c.node_ids)), np.int64)
        incoming_plast = np.zeros_like(incoming_syn)
        for p, tgt in enumerate(c.proj_tgt):
            incoming_syn[:, tgt] += self.cnt_syn[:n_bins, p]
            incoming_plast[:, tgt] += self.cnt_plast[:n_bins, p]
        is_neuron = c.node_type >= 0  # encoders have negative type codes
        counts = pd.DataFrame({
            "bin_start_ms": np.repeat(bin_start, len(c.node_ids)),
            "node": pd.Categorical(np.tile(c.node_ids, n_bins), categories=c.node_ids),
            "kind": np.tile(c.node_kind, n_bins),
            "size": np.tile(sizes, n_bins),
            "spikes": self.cnt_spikes[:n_bins].ravel(),
            "neuron_updates": (steps_in_bin[:, None] * (sizes * is_neuron)[None, :]).ravel(),
            "active_updates": self.cnt_active[:n_bins].ravel(),
            "syn_events": incoming_syn.ravel(),
            "plasticity_updates": incoming_plast.ravel(),
        })
        projection_counts = pd.DataFrame({
            "bin_start_ms": np.repeat(bin_start, len(c.proj_ids)),
            "projection": np.tile(c.proj_ids, n_bins),
            "source": np.tile([c.node_ids[s] for s in c.proj_src], n_bins),
            "target": np.tile([c.node_ids[t] for t in c.proj_tgt], n_bins),
            "syn_events": self.cnt_syn[:n_bins].ravel(),
            "plasticity_updates": self.cnt_plast[:n_bins].ravel(),
        })
        traces = {} if cancelled("traces") else self._traces(last_k)
        weights = {} if cancelled("weights") else self._weights(last_k)
        if dropped:
            status = "cancelled"
            messages = messages + [f"Cancelled while collecting the results: "
                                   f"{', '.join(dropped)} left out."]
        return SimulationResult(
            spikes=spikes, traces=traces, counts=counts,
            projection_counts=projection_counts, weights=weights,
            node_info=pd.DataFrame({"node": c.node_ids, "kind": c.node_kind,
                                    "model": c.node_model, "size": sizes}),
            network_info=self._network_info(),
            duration_ms=last_k * dt, requested_ms=c.n_steps * dt, dt_ms=dt, bin_ms=bin_ms,
            status=status, wall_time_s=wall, build_time_s=build_time_s, messages=messages,
        )

    def _network_info(self) -> pd.DataFrame:
        c = self.net
        sizes = np.diff(c.node_start)
        return pd.DataFrame({
            "projection": c.proj_ids,
            "source": [c.node_ids[s] for s in c.proj_src],
            "target": [c.node_ids[t] for t in c.proj_tgt],
            "n_synapses": np.diff(c.proj_syn_off),
            "n_pre": sizes[c.proj_src], "n_post": sizes[c.proj_tgt],
            "receptor": np.where(c.proj_inh == 1, "inh", "exc"),
            "plastic": c.proj_rule != 0,
        })

    def _traces(self, last_k: int) -> dict[str, TraceRecord]:
        c = self.net
        out = {}
        for m_i, m in enumerate(c.monitors):
            n_samples = last_k // m["interval"] + 1
            n_ch = len(m["variables"]) * len(m["neurons"])
            lo = self.mon_off[m_i]
            block = self.tr_out[lo: lo + n_samples * n_ch].reshape(n_samples, n_ch)
            k_n = len(m["neurons"])
            units = NEURON_MODELS[c.node_model[m["node"]]].state_variables
            out[m["id"]] = TraceRecord(
                monitor=m["id"], population=m["population"], neurons=m["neurons"].copy(),
                time_ms=np.arange(n_samples) * m["interval"] * c.dt_ms,
                values={var: block[:, i * k_n:(i + 1) * k_n].copy()
                        for i, var in enumerate(m["variables"])},
                units={var: units.get(var, "") for var in m["variables"]},
            )
        return out

    def _weights(self, last_k: int) -> dict[str, WeightRecord]:
        c = self.net
        out = {}
        n_traj = last_k // self.wt_interval + 1
        trajectories = self.wt_out[: n_traj * len(self.wt_syn)].reshape(n_traj, len(self.wt_syn))
        col = 0
        for rec in c.weight_records:
            pid = rec["projection"]
            snaps = self.snaps[pid]
            stats = self.snap_stats[pid]
            edges = self.hist_edges[pid]
            k_sel = len(rec["synapses"])
            out[pid] = WeightRecord(
                projection=pid, pre=rec["pre"], post=rec["post"],
                n_pre=int(c.node_start[c.proj_src[rec["index"]] + 1]
                          - c.node_start[c.proj_src[rec["index"]]]),
                n_post=int(c.node_start[c.proj_tgt[rec["index"]] + 1]
                           - c.node_start[c.proj_tgt[rec["index"]]]),
                w_min=float(edges[0]), w_max=float(edges[-1]),
                times_ms=np.asarray(self.snap_times[pid], np.float64) * c.dt_ms,
                mean=np.array([s[0] for s in stats]),
                std=np.array([s[1] for s in stats]),
                hist_edges=edges,
                hist=np.array([s[2] for s in stats]).reshape(len(stats), HIST_BINS),
                snapshots=np.vstack(snaps) if rec["full"] and snaps else (
                    np.empty((0, rec["hi"] - rec["lo"]), np.float32) if rec["full"] else None),
                synapse_index=rec["synapses"] - rec["lo"],
                trajectory_time_ms=np.arange(n_traj) * self.wt_interval * c.dt_ms,
                trajectories=trajectories[:, col:col + k_sel].copy(),
            )
            col += k_sel
        return out


def _weight_bounds(c: CompiledNetwork, b: int, matrix: np.ndarray) -> tuple[float, float]:
    """Weight axis range: the rule's bounds for plastic projections, else the data range."""
    rule = int(c.proj_rule[b])
    if rule != plasticity_rules.NO_PLASTICITY:
        return plasticity_rules.packed_bounds(rule, c.proj_pparams[b])
    if matrix.size:
        return float(matrix.min()), float(matrix.max())
    return 0.0, 1.0


__all__ = ["Progress", "RunStopped", "Simulation", "simulate"]
