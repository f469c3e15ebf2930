"""A run of a compiled network that can be paused, stepped, continued and extended.

:class:`Simulation` owns the run's state (the arrays the kernel changes in place) and its
public controls; the chunked time loop is :mod:`engine.core.stepping`, the breakpoints
:mod:`engine.core.breakpoint_table`, the results :mod:`engine.core.assembly`.
"""

from __future__ import annotations

import math
import time

import numpy as np

from engine import plasticity as plasticity_rules
from engine.core import kernels
from engine.core.assembly import HIST_BINS, ResultAssembly
from engine.core.breakpoint_table import BreakpointTable
from engine.core.breakpoints import Breakpoint, BreakpointHit
from engine.core.build import _MB, CompiledNetwork, build, estimate_memory
from engine.core.kernel_data import Network, Neurons, Plasticity, Recording, Watch
from engine.core.limits import RunLimits, StopCheck
from engine.core.results import SimulationResult, TraceRecord
from engine.core.stepping import CancelCheck, ProgressCallback, Stepping, max_chunk_steps
from engine.core.threads import usable_threads
from engine.encoders import SPIKE_ENCODERS, BlockSpikeSource, make_spike_source
from engine.energy.profiles import hardware_steps
from engine.errors import MemoryBudgetError, SimulationError, SpikeStudioError
from engine.neurons import model as neuron_model
from engine.project import Project

#: Most samples of a recorded weight trajectory (longer runs sample less often).
MAX_TRAJECTORY_SAMPLES = 100_000


class Simulation(Stepping, ResultAssembly):
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
        Cancel / time check while building (see :func:`engine.core.build.build`).
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
                 writing: bool = False, threads: int | None = None):
        t0 = time.perf_counter()
        if compiled is None:
            compiled = build(project, limits, stop, writing=writing)
        self.build_time_s = time.perf_counter() - t0
        self.net = compiled
        self.project = project
        self.limits = limits
        #: Threads of the neuron updates: ``threads``, else the project's, within the caps.
        self.threads = usable_threads(project.simulation.threads if threads is None
                                      else threads,
                                      None if limits is None else limits.max_threads)
        c = compiled
        self.k = 0                 # next time index to run
        self.status = "completed"  # of the last run_for
        self.messages: list[str] = []
        self.hit: BreakpointHit | None = None
        self.invalid = False       # a NaN/inf state: the run cannot go on
        self.wall_s = 0.0          # wall time spent running
        self._rss0: int | None = None  # resident memory at the start (stepping)
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
        # Idle updates per hardware step (engine.energy): per tracked step (ms of the
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
        self.max_chunk_steps = max_chunk_steps(c)
        self.n_spk = np.zeros(1, np.int64)
        self.spk_now = np.empty(n + 1024, np.int32)
        self._init_monitors()
        self._init_weight_records()
        self._resets = set(compiled.reset_k.tolist())
        self.breaks = BreakpointTable(c, [], 0)

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
        return self._result(self.k, self.status, self.messages + self._thread_note(),
                            self.wall_s, self.build_time_s, stop)

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
        return self._result(self.k, status, list(self.messages) + self._thread_note(),
                            self.wall_s, self.build_time_s)

    def _thread_note(self) -> list[str]:
        """Say so when the caps ran the project with fewer threads than it asks for."""
        asked = self.project.simulation.threads
        cap = None if self.limits is None else self.limits.max_threads
        if cap is None or asked <= cap:
            return []
        return [f"simulation.threads is {asked}; this server runs each run with at most "
                f"{cap} thread{'s' if cap != 1 else ''} (the spikes are the same)."]

    def traces(self) -> dict[str, TraceRecord]:
        """The state monitors' traces recorded so far (what :meth:`result` holds, alone)."""
        return self._traces(max(0, min(self.k - 1, self.net.n_steps)))

    def kernel_data(self) -> tuple[Network, Neurons, Plasticity, Recording, Watch]:
        """The run's arrays as the kernel takes them (views, changed in place by a call).

        Built afresh for each call: growing the record, the counts or the monitors, or
        setting breakpoints, replaces arrays.
        """
        c = self.net
        net = Network(
            c.bin_steps, c.dt_ms, self.threads, c.node_type, c.node_start, c.node_params,
            c.node_record, c.node_of, c.proj_tgt, c.proj_inh, c.proj_row_off, c.proj_syn_off,
            c.proj_delay, c.proj_dsyn_off, c.rowptr, c.syn_post, self.syn_weight, c.syn_delay,
            c.out_proj_ptr, c.out_proj, c.node_hetero, c.neuron_params)
        neurons = Neurons(self.v, self.u, self.ie, self.ii, self.iext, self.ref, self.buf_e,
                          self.buf_i)
        plastic = Plasticity(
            c.proj_rule, c.proj_pparams, c.proj_col_off, c.proj_trace_pre_off,
            c.proj_trace_post_off, c.proj_pend_off, c.proj_dmax, c.colptr, c.col_syn,
            c.col_pre, self.pre_trace, self.pre_last, self.post_trace, self.post_last,
            self.credited, self.pend, self.pend_n, self.pend_cur, self.pend_k, self.decay_tab,
            self.tab_off, self.tab_len)
        recording = Recording(
            self.spk_k, self.spk_gid, self.n_spk, self.spk_now, self.cnt_spikes,
            self.cnt_active, self.cnt_syn, self.cnt_plast, self.hw_steps, self.hw_flag,
            self.cnt_hw, self.mon_interval, self.mon_off, self.mon_ch_ptr, self.ch_gid,
            self.ch_var, self.tr_out, self.wt_syn, self.wt_interval, self.wt_out)
        return net, neurons, plastic, recording, self.breaks.arrays

    # ------------------------------------------------------------------ breakpoints
    def set_breakpoints(self, breakpoints: list[Breakpoint | dict]) -> None:
        """Conditions that pause the run (see :mod:`engine.core.breakpoints`); replaces the old.

        A rate condition's window starts filling now: it is checked once a whole window has
        been simulated from here. Spike conditions stay set after they fire (continuing runs
        to the next such spike); rate and weight conditions describe a state that lasts, so
        each fires once and is then removed (set it again to re-arm it).

        Raises
        ------
        SpikeStudioError
            For an unknown population, projection or neuron, naming the field.
        """
        self.breaks = BreakpointTable(self.net, breakpoints, self.k)

    @property
    def breakpoints(self) -> list[Breakpoint]:
        """The conditions set now (those that fired once and were removed are not)."""
        return self.breaks.breakpoints

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
        self.max_chunk_steps = max_chunk_steps(c)



def _weight_bounds(c: CompiledNetwork, b: int, matrix: np.ndarray) -> tuple[float, float]:
    """Weight axis range: the rule's bounds for plastic projections, else the data range."""
    rule = int(c.proj_rule[b])
    if rule != plasticity_rules.NO_PLASTICITY:
        return plasticity_rules.packed_bounds(rule, c.proj_pparams[b])
    if matrix.size:
        return float(matrix.min()), float(matrix.max())
    return 0.0, 1.0
