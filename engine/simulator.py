"""Run a compiled network in chunks of model time, with progress and cancellation.

The whole time loop runs inside the numba kernel; Python only runs between chunks to report
progress, honour a cancel request, set piecewise-constant input currents, fetch the input
spikes of the next chunk and take weight snapshots. Chunk lengths adapt so each kernel call
takes about ``chunk_wall_s`` seconds: long enough to amortise the call, short enough that Stop
acts within a fraction of a second.
"""

from __future__ import annotations

import dataclasses
import math
import os
import threading
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from engine import kernels
from engine import plasticity as plasticity_rules
from engine.breakpoints import Breakpoint, BreakpointHit
from engine.build import _MB, MAX_CHUNK_EVENTS, CompiledNetwork, build, estimate_memory
from engine.encoders import BLOCK_STEPS, SPIKE_ENCODERS, BlockSpikeSource, make_spike_source
from engine.energy.profiles import hardware_steps, hw_columns
from engine.errors import MemoryBudgetError, SimulationError, SpikeStudioError
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
        simulation = Simulation(project, limits=limits, stop=stop, writing=writing)
        compiled = simulation.net
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


def salvaged_result(project: Project, spikes: pd.DataFrame, t_ms: float, status: str,
                    message: str) -> SimulationResult:
    """What is left of a run whose process died: the spikes it had streamed, up to ``t_ms``.

    Parameters
    ----------
    project
        The project that was running.
    spikes
        The spikes received before the process died (the spikes frame's columns; the
        ``population`` categories may be any superset or subset of the node ids).
    t_ms
        Model time the run had reached (its last progress report).
    status, message
        The result's status (one of :data:`engine.limits.STATUSES`) and why it ended.

    Counts, traces and weights are empty: they lived in the dead process.
    """
    result = _unbuilt_result(project, status, message, 0.0)
    ids = list(result.node_info["node"])
    known = spikes[spikes["population"].astype(object).isin(ids)]
    salvaged = pd.DataFrame({
        "time_ms": known["time_ms"].to_numpy(np.float64),
        "population": pd.Categorical(known["population"].astype(object), categories=ids),
        "neuron": known["neuron"].to_numpy(np.int32)})
    last = float(salvaged["time_ms"].max()) + result.dt_ms if len(salvaged) else 0.0
    duration = min(max(float(t_ms), last), result.requested_ms)
    return dataclasses.replace(result, spikes=salvaged, duration_ms=duration)


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
    """A run that can be paused, stepped, continued and extended.

    Holds the whole state of a run of a compiled network (arrays the kernel mutates in
    place): membranes, synaptic currents, delay rings, plasticity traces and queues, weights,
    the encoders' streams (generated per block from the time index, so they do not depend on
    where a run pauses), counts and recordings. ``run_for`` continues from where the last
    call stopped, so two calls of 500 ms give exactly the spikes, traces, weights and counts
    of one call of 1000 ms; ``result`` collects what was recorded so far.

    Parameters
    ----------
    project
        A validated project; ``simulation.duration_ms`` sizes the recordings at first (they
        grow when a run is continued past it, after a new memory check).
    limits
        The administrator's caps: the memory budget (checked when building and again when
        extending) and the wall time, counted over the time spent running.
    compiled
        An already compiled network of ``project`` (it is then not built again).
    stop
        Cancel / time check while building (see :func:`engine.build.build`).
    writing
        Count written output files in the memory check (CLI).

    Examples
    --------
    >>> sim = Simulation(project)                       # doctest: +SKIP
    >>> sim.run_for(500.0); sim.run_for(500.0)           # doctest: +SKIP
    >>> sim.result().spikes                              # doctest: +SKIP
    """

    def __init__(self, project: Project, *, limits: RunLimits | None = None,
                 compiled: CompiledNetwork | None = None, stop: StopCheck | None = None,
                 writing: bool = False):
        t0 = time.perf_counter()
        if compiled is None:
            compiled = build(project, limits, stop, writing=writing)
        self.build_time_s = time.perf_counter() - t0
        self.net = compiled
        self.project = project
        self.limits = limits
        c = compiled
        self.k = 0                 # next time index to run
        self.status = "completed"  # of the last run_for
        self.messages: list[str] = []
        self.hit: BreakpointHit | None = None
        self.invalid = False       # a NaN/inf state: the run cannot go on
        self.wall_s = 0.0          # wall time spent running
        self._rss0: int | None = None
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
        # Idle updates per hardware step (engine.energy.model): per tracked step (ms of the
        # profiles, rounded to whole simulation steps), a flag per neuron "gets input or
        # spikes in hardware step s" for the steps in flight (a ring over s: arrivals are
        # flagged when sent, up to max_delay ahead) and the flagged count per bin and node.
        self.hw_ms = hardware_steps(project.energy)
        self.hw_steps = np.array([max(1, round(t / c.dt_ms)) for t in self.hw_ms], np.int64)
        hring = c.max_delay // int(self.hw_steps.min(initial=1)) + 2
        self.hw_flag = np.zeros((len(self.hw_ms), hring, n), np.uint8)
        self.cnt_hw = np.zeros((len(self.hw_ms), n_bins, n_nodes), np.int64)
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
        self.set_breakpoints([])

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

    # ------------------------------------------------------------------ run, pause, continue
    @property
    def t_ms(self) -> float:
        """Model time reached: the run holds the state at this time."""
        return max(self.k - 1, 0) * self.net.dt_ms

    def run(self, progress: ProgressCallback | None = None, cancel: CancelCheck = None,
            chunk_wall_s: float = 0.1, build_time_s: float | None = None,
            stop: StopCheck | None = None) -> SimulationResult:
        """Run to the end of the project's duration (or until stopped) and collect the results.

        ``stop`` adds the wall-time limit to ``cancel`` (the time counts from the start of the
        build); the memory budget is checked against the process's resident memory between
        chunks. A NaN/inf state raises :class:`SimulationError` (``partial_result`` holds the
        run so far), as :func:`simulate` always did.
        """
        if build_time_s is not None:
            self.build_time_s = build_time_s
        stop = stop or StopCheck(cancel)
        self._advance(self.net.n_steps, progress, stop, chunk_wall_s)
        if self.invalid:
            error = SimulationError(self.hit.message)
            error.partial_result = self._result(self.k, "error", [self.hit.message],
                                                self.wall_s, self.build_time_s)
            raise error
        return self._result(self.k, self.status, self.messages, self.wall_s,
                            self.build_time_s, stop)

    def run_for(self, duration_ms: float, *, progress: ProgressCallback | None = None,
                cancel: CancelCheck = None, pause: CancelCheck = None,
                chunk_wall_s: float = 0.1) -> SimulationResult:
        """Continue the run for ``duration_ms`` of model time from the current state.

        ``duration_ms`` is rounded to whole time steps (one ``dt`` steps once). Going past
        the end of the recordings grows them, after checking the memory estimate of the new
        end against the budget. The run pauses early at a breakpoint (``self.hit``), when
        ``pause`` is set (status ``paused``; like ``cancel``, an Event or a callable checked
        between chunks), on cancel, or at a limit (``self.status``); any of these can be
        continued, except a NaN or infinite state.

        Returns
        -------
        SimulationResult
            Everything recorded so far (:meth:`result`).

        Raises
        ------
        MemoryBudgetError
            When the recordings up to the new end would not fit the budget (the run stays
            where it was and can still be continued for less).
        SimulationError
            When the state is already invalid (NaN or infinite).
        """
        if not duration_ms >= 0:
            raise SpikeStudioError(f"duration_ms: must be >= 0 ms, got {duration_ms!r}")
        if self.invalid:
            raise SimulationError(f"{self.hit.message} The run cannot be continued.")
        end = max(self.k - 1, 0) + int(round(duration_ms / self.net.dt_ms))
        self._extend(end)
        limit = None if self.limits is None else self.limits.max_wall_s
        left = None if limit is None else max(0.0, limit - self.wall_s)
        stop = StopCheck(cancel, left)
        self._advance(end, progress, stop, chunk_wall_s, StopCheck(pause))
        return self.result()

    def new_spikes(self, start: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Recorded spikes from record index ``start`` on, for live views (cheap copies).

        Returns ``(time_ms float64, node index int32 into net.node_ids, neuron int32)``; the
        record only grows, so ``start`` is the count returned before.
        """
        c = self.net
        n = int(self.n_spk[0])
        gid = self.spk_gid[start:n]
        node = c.node_of[gid]
        return (self.spk_k[start:n] * c.dt_ms, node.astype(np.int32),
                (gid - c.node_start[node]).astype(np.int32))

    def result(self) -> SimulationResult:
        """Everything recorded so far, as one result.

        ``status`` is ``paused`` when the run stopped before the end of its last
        ``run_for`` (or of the project's duration) at a breakpoint, else that of the last
        call; ``breakpoint`` says which condition fired, when, and on which neuron.
        """
        status = self.status
        if self.invalid:
            status = "error"
        elif status == "completed" and self.hit is not None:
            status = "paused"
        return self._result(self.k, status, list(self.messages), self.wall_s,
                            self.build_time_s)

    def traces(self) -> dict[str, TraceRecord]:
        """The state monitors' traces recorded so far (what :meth:`result` holds, alone)."""
        return self._traces(max(0, min(self.k - 1, self.net.n_steps)))

    def _advance(self, end: int, progress: ProgressCallback | None, stop: StopCheck,
                 chunk_wall_s: float, pause: StopCheck | None = None) -> None:
        """Run time indices ``self.k .. end`` (inclusive) in chunks; set status and hit."""
        c = self.net
        start = time.perf_counter()
        budget = c.memory.budget_mb * 1024 * 1024
        if self._rss0 is None:
            self._rss0 = _rss_bytes()
        rss0 = self._rss0
        splits = self._split_points()
        chunk = 100
        k = self.k
        status = "completed"
        messages: list[str] = []
        self.hit = None
        try:
            while k <= end:
                if pause is not None and pause.status() is not None:
                    status = "paused"
                    break
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
                stop_k = min(k + min(chunk, self.max_chunk_steps), boundary, end + 1)
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
                    code, k_next, ev_ptr, bad = self._call_kernel(k_next, stop_k, ev_k, ev_gid,
                                                                  ev_ptr)
                    if code == kernels.INVALID_STATE:
                        self.invalid = True
                        self.hit = self._invalid_hit(int(k_next), int(bad))
                        break
                    if code == kernels.BREAKPOINT:
                        self.hit = self._breakpoint_hit(int(k_next))
                        break
                    if code == kernels.SPIKE_BUFFER_FULL:
                        if not self._make_room(int(k_next), len(ev_k) - int(ev_ptr)):
                            status = "memory_limit"
                            messages.append(self._record_full(int(k_next)))
                            break
                k = int(k_next)
                if self.invalid:
                    break
                self._snapshot_weights(k)
                if status != "completed" or self.hit is not None:
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
        self.k = k
        self.status, self.messages = status, messages
        self.wall_s += time.perf_counter() - start

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
            self.hw_steps, self.hw_flag, self.cnt_hw,
            self.mon_interval, self.mon_off, self.mon_ch_ptr, self.ch_gid, self.ch_var,
            self.tr_out, self.wt_syn, self.wt_interval, self.wt_out,
            self.watch, self.rate_node, self.rate_window, self.rate_from, self.rate_scale,
            self.rate_above, self.rate_below, self.rate_ring, self.rate_sum, self.node_now,
            self.wb_proj, self.wb_lo, self.wb_hi, self.wb_seen, self.hit_out,
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

    # ------------------------------------------------------------------ breakpoints
    def set_breakpoints(self, breakpoints: list[Breakpoint | dict]) -> None:
        """Conditions that pause the run (see :mod:`engine.breakpoints`); replaces the old.

        A rate condition's window starts filling now: it is checked once a whole window has
        been simulated from here. Spike conditions stay set after they fire (continuing runs
        to the next such spike); rate and weight conditions describe a state that lasts, so
        each fires once and is then removed (set it again to re-arm it).

        Raises
        ------
        SpikeStudioError
            For an unknown population, projection or neuron, naming the field.
        """
        c = self.net
        bps = [b if isinstance(b, Breakpoint) else Breakpoint.from_dict(b, f"breakpoints[{i}]")
               for i, b in enumerate(breakpoints)]
        n, dt = c.n_neurons, c.dt_ms
        self.watch = np.zeros(n if any(b.kind == "spike" for b in bps) else 0, np.uint8)
        rates, weights = [], []
        for i, b in enumerate(bps):
            where = f"breakpoints[{i}]"
            if b.kind == "weight_range":
                if b.projection not in c.proj_ids:
                    raise SpikeStudioError(f"{where}.projection: no projection {b.projection!r}")
                if not b.w_min <= b.w_max:
                    raise SpikeStudioError(f"{where}.w_max: must be >= w_min ({b.w_min:g})")
                weights.append(b)
                continue
            if b.population not in c.node_ids:
                raise SpikeStudioError(f"{where}.population: no population or encoder "
                                       f"{b.population!r}")
            node = c.node_ids.index(b.population)
            size = int(c.node_start[node + 1] - c.node_start[node])
            if b.kind == "spike":
                if not 0 <= b.neuron < size:
                    raise SpikeStudioError(f"{where}.neuron: {b.population!r} has neurons 0 to "
                                           f"{size - 1}, got {b.neuron}")
                self.watch[int(c.node_start[node]) + b.neuron] = 1
            else:
                if not b.window_ms >= dt:
                    raise SpikeStudioError(f"{where}.window_ms: must be at least dt "
                                           f"({dt:g} ms), got {b.window_ms:g}")
                rates.append((b, node, size))
        self.breakpoints = bps
        self._rate_bps = [r[0] for r in rates]
        self._weight_bps = weights
        windows = [max(1, int(round(b.window_ms / dt))) for b, _, _ in rates]
        self.rate_node = np.array([node for _, node, _ in rates], np.int64)
        self.rate_window = np.array(windows, np.int64)
        self.rate_from = np.array([self.k + w - 1 for w in windows], np.int64)
        self.rate_scale = np.array([1000.0 / (size * w * dt) for (_, _, size), w
                                    in zip(rates, windows, strict=True)])
        self.rate_above = np.array([b.rate_hz if b.kind == "rate_above" else np.inf
                                    for b, _, _ in rates])
        self.rate_below = np.array([b.rate_hz if b.kind == "rate_below" else -np.inf
                                    for b, _, _ in rates])
        self.rate_ring = np.zeros((len(rates), max(windows, default=1)), np.int64)
        self.rate_sum = np.zeros(len(rates), np.int64)
        self.node_now = np.zeros(len(c.node_ids), np.int64)
        self.wb_proj = np.array([c.proj_ids.index(b.projection) for b in weights], np.int64)
        self.wb_lo = np.array([b.w_min for b in weights], np.float64)
        self.wb_hi = np.array([b.w_max for b in weights], np.float64)
        self.wb_seen = np.zeros(len(weights), np.int64)
        self.hit_out = np.zeros(3, np.int64)

    def _where(self, gid: int) -> tuple[str, int]:
        node = int(self.net.node_of[gid])
        return self.net.node_ids[node], gid - int(self.net.node_start[node])

    def _breakpoint_hit(self, k_next: int) -> BreakpointHit:
        """The hit the kernel reported; one-shot conditions are removed."""
        c = self.net
        kind, j, what = (int(x) for x in self.hit_out)
        t = (k_next - 1) * c.dt_ms
        if kind == kernels.HIT_SPIKE:
            pop, neuron = self._where(what)
            bp = next(b for b in self.breakpoints if b.kind == "spike"
                      and b.population == pop and b.neuron == neuron)
            return BreakpointHit("spike", t, pop, neuron, f"Paused at t = {t:g} ms: neuron "
                                 f"{neuron} of {pop!r} spiked.", bp.to_dict())
        if kind == kernels.HIT_RATE:
            bp = self._rate_bps[j]
            rate = float(self.rate_sum[j] * self.rate_scale[j])
            self._drop(bp)
            return BreakpointHit(bp.kind, t, bp.population, 0,
                                 f"Paused at t = {t:g} ms: {bp.describe()} ({rate:.4g} Hz).",
                                 bp.to_dict(), value=rate)
        bp = self._weight_bps[j]
        p = c.proj_ids.index(bp.projection)
        rows = c.rowptr[c.proj_row_off[p]:c.proj_row_off[p]
                        + int(c.node_start[c.proj_src[p] + 1] - c.node_start[c.proj_src[p]]) + 1]
        pre = int(np.searchsorted(rows, what, side="right")) - 1
        post = int(c.syn_post[what])
        w = float(self.syn_weight[what])
        target = c.node_ids[int(c.proj_tgt[p])]
        self._drop(bp)
        return BreakpointHit("weight_range", t, target, post,
                             f"Paused at t = {t:g} ms: {bp.describe()}: synapse {pre} -> {post} "
                             f"has weight {w:.6g}.", bp.to_dict(), synapse=(pre, post), value=w)

    def _drop(self, bp: Breakpoint) -> None:
        """Remove a one-shot condition, keeping the others' windows where they are."""
        rings = {id(b): (self.rate_ring[i].copy(), int(self.rate_sum[i]), int(self.rate_from[i]))
                 for i, b in enumerate(self._rate_bps)}
        self.set_breakpoints([b for b in self.breakpoints if b is not bp])
        for i, b in enumerate(self._rate_bps):
            ring, total, start = rings[id(b)]
            self.rate_ring[i, :ring.shape[0]] = ring[:self.rate_ring.shape[1]]
            self.rate_sum[i], self.rate_from[i] = total, start

    def _invalid_hit(self, k: int, gid: int) -> BreakpointHit:
        """A NaN/inf state in step k (half done: the run cannot go on)."""
        pop, neuron = self._where(gid)
        t = k * self.net.dt_ms
        return BreakpointHit(
            "invalid_state", t, pop, neuron,
            f"Stopped at t = {t:g} ms: neuron {neuron} of {pop!r} reached an invalid (NaN or "
            f"infinite) membrane potential. Check its input weights and currents, or use a "
            f"smaller dt.")

    # ------------------------------------------------------------------ extending
    def _extend(self, end: int) -> None:
        """Grow counts, recordings and input streams so the run can go on to time index end.

        The memory estimate of a run to ``end`` is checked against the budget first; on
        refusal nothing changes.
        """
        c = self.net
        if end <= c.n_steps:
            return
        sim = self.project.simulation
        old_duration = sim.duration_ms
        sim.duration_ms = end * c.dt_ms
        try:
            est = estimate_memory(self.project, self.limits)
        finally:
            sim.duration_ms = old_duration
        if est.total > est.budget_mb * _MB:
            raise MemoryBudgetError(
                f"Continuing to t = {end * c.dt_ms:g} ms would need about "
                f"{est.total / _MB:,.0f} MB, more than {est.budget_source}. Largest items: "
                f"{est.describe()}. The run stays paused at t = {self.t_ms:g} ms: continue "
                f"for less time, or record fewer neurons or less often.")
        n_bins = max(1, math.ceil(end / c.bin_steps))
        for name in ("cnt_spikes", "cnt_active", "cnt_syn", "cnt_plast"):
            old = getattr(self, name)
            grown = np.zeros((n_bins, old.shape[1]), old.dtype)
            grown[:old.shape[0]] = old
            setattr(self, name, grown)
        grown = np.zeros((self.cnt_hw.shape[0], n_bins, self.cnt_hw.shape[2]), np.int64)
        grown[:, :self.cnt_hw.shape[1]] = self.cnt_hw
        self.cnt_hw = grown
        headroom = max(est.record_headroom, c.n_neurons + 1024)
        if est.record_capacity > self.record_capacity:
            n_spk = int(self.n_spk[0])
            for name in ("spk_k", "spk_gid"):
                old = getattr(self, name)
                grown = np.empty(est.record_capacity + headroom, old.dtype)
                grown[:n_spk] = old[:n_spk]
                setattr(self, name, grown)
            self.record_capacity = est.record_capacity
        old_off, old_tr = self.mon_off.copy(), self.tr_out
        old_samples = [m["n_samples"] for m in c.monitors]
        for m in c.monitors:
            m["n_samples"] = end // m["interval"] + 1
        self._init_monitors()
        for m_i in range(len(c.monitors)):
            size = old_samples[m_i] * (self.mon_ch_ptr[m_i + 1] - self.mon_ch_ptr[m_i])
            self.tr_out[self.mon_off[m_i]:self.mon_off[m_i] + size] = \
                old_tr[old_off[m_i]:old_off[m_i] + size]
        grown = np.full((end // self.wt_interval + 1) * len(self.wt_syn), np.nan, np.float32)
        grown[:self.wt_out.shape[0]] = self.wt_out
        self.wt_out = grown
        for i, source in list(c.spike_sources.items()):
            if not isinstance(source, BlockSpikeSource):  # events computed up to the end
                node = self.project.network.node(c.node_ids[i])
                c.spike_sources[i] = make_spike_source(
                    SPIKE_ENCODERS[node.model], node.size, node.resolved_params(), c.dt_ms,
                    0, end)
        c.n_steps = end
        est.budget_mb, est.budget_source = c.memory.budget_mb, c.memory.budget_source
        c.memory = est
        per_step = max(1, self._events_per_step())
        self.max_chunk_steps = int(min(1_000_000, max(1, MAX_CHUNK_EVENTS // per_step)))

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
            **self._hw_counts(last_k, n_bins, sizes * is_neuron),
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
            breakpoint=None if self.hit is None else self.hit.to_dict(),
        )

    def _hw_counts(self, last_k: int, n_bins: int, neurons: np.ndarray
                   ) -> dict[str, np.ndarray]:
        """Count columns per hardware step (see engine.energy.profiles.hw_columns).

        A hardware step belongs to the bin of its first simulation step; a run that ends
        mid-step still pays that step's updates (the chip steps once), so its flags are
        flushed here.
        """
        c = self.net
        columns = {}
        # On copies: a paused run asked for its result goes on with its flags and counts.
        cnt_hw = self.cnt_hw.copy()
        for j, (ms, h) in enumerate(zip(self.hw_ms, self.hw_steps, strict=True)):
            h = int(h)
            if last_k % h and n_bins:
                ring = self.hw_flag.shape[1]
                kernels.hw_flush(self.hw_flag[j, ((last_k - 1) // h) % ring].copy(),
                                 cnt_hw[j, (last_k // h) * h // c.bin_steps],
                                 c.node_type, c.node_start)
            starts = np.arange(0, last_k, h)  # first step - 1 of each hardware step
            per_bin = np.bincount(starts // c.bin_steps, minlength=n_bins)[:n_bins]
            updates, active = hw_columns(ms)
            columns[updates] = (per_bin[:, None] * neurons[None, :]).ravel()
            columns[active] = cnt_hw[j, :n_bins].ravel()
        return columns

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


__all__ = ["Breakpoint", "BreakpointHit", "Progress", "RunStopped", "Simulation", "simulate"]
