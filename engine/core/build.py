"""Turn a validated :class:`~engine.project.Project` into flat arrays the kernel can step.

All neurons of populations and encoders share one global index space (monitors have none).
Each projection is a CSR block (row pointer per source neuron, int32 target, float32 weight,
optional uint16 delay), 8 bytes per synapse or 10 with per-synapse delays. Plastic
projections add a column index (CSC) for the post-spike side of the rule.

Memory is estimated from the connectivity rules *before* anything is allocated; a network over
budget is refused with a message that names the biggest consumers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from engine import plasticity as plasticity_rules
from engine.connectivity.generate import connect, expected_synapses
from engine.core.limits import (
    RECORD_MIN_SPIKES,
    RECORD_RATE_HZ,
    RunLimits,
    StopCheck,
    memory_budget,
)
from engine.core.per_neuron import OUTSIDE_PACK, pack_node, resolve_neuron_params
from engine.encoders import (
    BLOCK_STEPS,
    CURRENT_ENCODERS,
    SPIKE_ENCODERS,
    CurrentSchedule,
    EventBounds,
    SpikeSource,
    event_bounds,
    make_current_schedule,
    make_spike_source,
)
from engine.encoders import encoder as encoder_module
from engine.errors import MemoryBudgetError, Problem, ProjectError
from engine.hetero.values import is_per_neuron
from engine.neurons import TYPE_CODES
from engine.neurons import model as neuron_model
from engine.neurons.base import N_NODE_PARAMS
from engine.plasticity.base import N_PLASTICITY_PARAMS
from engine.project import Project

# Node type codes shared with engine.core.kernels: a population's is its model's position in
# engine.neurons.MODELS (TYPE_CODES); encoders are negative.
SPIKE_SOURCE, CURRENT_SOURCE = -1, -2
# Plasticity rule codes (0: static) are positions in engine.plasticity.RULES plus one.
FULL_SNAPSHOT_SYNAPSES = 200_000  # plastic projections up to this size keep full snapshots

_MB = 1024 * 1024


@dataclass
class MemoryEstimate:
    """Bytes needed, per item, before building.

    Items are tagged with the phase they live in: ``"build"`` (temporaries while the network
    is compiled), ``"run"`` (recordings, input blocks and result tables while simulating and
    collecting results) or ``"held"`` (everything the whole run keeps). Build temporaries are
    freed before the run allocates, so the peak is ``held + max(build, run)``.
    """

    items: dict[str, float] = field(default_factory=dict)
    phases: dict[str, str] = field(default_factory=dict)
    budget_mb: float = math.inf
    budget_source: str = "no budget"
    record_capacity: int = 0        # spikes the record holds before the run stops
    record_worst: int = 0           # most spikes the recorded nodes could ever produce
    record_headroom: int = 0        # extra room the kernel wants: one step of everything
    chunk_events: int = 0           # most input events the simulator fetches at once

    @property
    def total(self) -> float:
        by_phase = {"held": 0.0, "build": 0.0, "run": 0.0}
        for name, nbytes in self.items.items():
            by_phase[self.phases.get(name, "held")] += nbytes
        return by_phase["held"] + max(by_phase["build"], by_phase["run"])

    def add(self, name: str, nbytes: float, phase: str = "held") -> None:
        self.items[name] = self.items.get(name, 0.0) + float(nbytes)
        self.phases[name] = phase

    def describe(self, top: int = 3) -> str:
        biggest = sorted(self.items.items(), key=lambda kv: -kv[1])[:top]
        return ", ".join(f"{name} {nbytes / _MB:,.0f} MB" for name, nbytes in biggest)


@dataclass
class CompiledNetwork:
    """Flat arrays describing the network, its inputs and what to record."""

    dt_ms: float
    n_steps: int
    bin_steps: int
    node_ids: list[str]
    node_kind: list[str]
    node_model: list[str]
    node_type: np.ndarray          # int32 (n_nodes,)
    node_start: np.ndarray         # int64 (n_nodes + 1,) global index ranges
    node_params: np.ndarray        # float64 (n_nodes, N_NODE_PARAMS)
    node_hetero: np.ndarray        # int64 (n_nodes,) start of the node's block, -1: none
    neuron_params: np.ndarray      # float64 blocks (N_NODE_PARAMS, size) of per-neuron nodes,
    #                                flattened: constant P of neuron j at start + P * size + j
    node_record: np.ndarray        # bool (n_nodes,) record spikes
    node_of: np.ndarray            # int32 (n_neurons,) node of each global neuron
    initial_v: np.ndarray          # float64 (n_neurons,)
    initial_u: np.ndarray          # float64 (n_neurons,) the models' AUX state (engine.neurons)
    # projections
    proj_ids: list[str]
    proj_src: np.ndarray           # int32 node index
    proj_tgt: np.ndarray           # int32 node index
    proj_inh: np.ndarray           # int8 1 = inhibitory receptor
    proj_row_off: np.ndarray       # int64 offset into rowptr
    proj_syn_off: np.ndarray       # int64 offset into syn arrays (n_proj + 1,)
    proj_delay: np.ndarray         # int64 uniform delay in steps, -1 = per synapse
    proj_dsyn_off: np.ndarray      # int64 offset into syn_delay for per-synapse delays
    proj_rule: np.ndarray          # int32 plasticity rule code
    proj_pparams: np.ndarray       # float64 (n_proj, N_PLASTICITY_PARAMS)
    proj_col_off: np.ndarray       # int64 offset into colptr (plastic only)
    proj_trace_pre_off: np.ndarray   # int64 offset into pre-side plasticity state (a trace
    #                                  per pre neuron, or per synapse with per-synapse delays)
    proj_trace_post_off: np.ndarray  # int64 offset into post-side plasticity state
    proj_pend_off: np.ndarray      # int64 offset into the queue of pre spikes (plastic only)
    proj_dmax: np.ndarray          # int64 longest delay of each projection, in steps
    n_pre_state: int               # length of the pre-side plasticity state
    n_pend_state: int              # width of the pre-spike queue
    rowptr: np.ndarray             # int64
    syn_post: np.ndarray           # int32
    syn_weight: np.ndarray         # float32
    syn_delay: np.ndarray          # uint16
    colptr: np.ndarray             # int64
    col_syn: np.ndarray            # int64 synapse index (global) of each CSC entry
    col_pre: np.ndarray            # int32 pre-side state index of each CSC entry: the pre
    #                                neuron, or the synapse's own index within its projection
    #                                when the projection has per-synapse delays
    out_proj_ptr: np.ndarray       # int64 (n_nodes + 1,) projections leaving each node
    out_proj: np.ndarray           # int32
    max_delay: int
    # inputs
    spike_sources: dict[int, SpikeSource]          # node index -> source
    current_sources: dict[int, CurrentSchedule]    # node index -> schedule
    current_gain: np.ndarray       # float64 (n_current_nodes, n_neurons)
    current_nodes: list[int]
    bias: np.ndarray               # float64 (n_neurons,) i_offset per neuron
    # recording
    monitors: list[dict]
    weight_records: list[dict]
    memory: MemoryEstimate
    # per-channel current inputs: node index -> (channel, global target, weight) per synapse
    current_channels: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = field(
        default_factory=dict)
    # steps before which every population is reset (dataset presentations with reset)
    reset_k: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))

    @property
    def n_neurons(self) -> int:
        return int(self.node_start[-1])

    @property
    def n_synapses(self) -> int:
        return int(self.syn_post.shape[0])

    def synapse_bytes(self) -> int:
        """Bytes held by synapse arrays (weights, targets, delays, row pointers, CSC)."""
        arrays = (self.rowptr, self.syn_post, self.syn_weight, self.syn_delay, self.colptr,
                  self.col_syn, self.col_pre)
        return int(sum(a.nbytes for a in arrays))


# Bytes per item beyond the arrays' own sizes, measured on the code below (see
# tests/test_limits.py, which checks the estimate against the peak RSS of real runs).
SPIKE_BUFFER_BYTES = 12      # int64 time index + int32 neuron in the kernel's record
SPIKE_RESULT_BYTES = 44      # the spikes DataFrame and the temporaries that build it
SPIKE_WRITE_BYTES = 40       # CLI: writing the spikes (Parquet: a copy with string labels)
FIXED_EVENT_BYTES = 12       # a pre-computed input event (int64 time index + int32 neuron)
FIXED_EVENT_BUILD_BYTES = 64  # temporaries while latency / spike-time events are computed
BLOCK_EVENT_BYTES = 96       # a block of Poisson / regular events: generation + 2 cached
CHUNK_EVENT_BYTES = 56       # input events of one kernel call, merged and sorted
MAX_CHUNK_EVENTS = 50_000    # the simulator shortens chunks to fetch about this many
NEURON_BYTES = 80            # state, initial values, bias, node index, spike scratch
COUNT_ROW_BYTES = 160        # a (bin, node) row of counts: arrays + DataFrame + temporaries
PROJ_COUNT_ROW_BYTES = 120   # a (bin, projection) row of projection counts
WORKING_BYTES = 8 * _MB      # pandas / numpy working memory of a run, whatever its size
DRAW_BLOCK = 1 << 20         # synapse weights are drawn and clamped this many at a time


def estimate_memory(project: Project, limits: RunLimits | None = None, *,
                    writing: bool = False) -> MemoryEstimate:
    """Estimate the bytes a run of ``project`` can use, before anything is allocated.

    Covers everything that grows with the run: synapses and their build temporaries, neuron
    state and delay buffers, plasticity state, input events (pre-computed, or generated
    block by block), the capped spike record, traces, weight snapshots, operation counts and
    the result tables built at the end (and the written files with ``writing``).

    Parameters
    ----------
    project
        A validated project.
    limits
        The administrator's caps; the effective budget is the project's
        ``memory_budget_mb`` lowered to ``limits.max_memory_mb``.
    writing
        Also count writing the spikes to files (the CLI's ``--out``).
    """
    net, sim = project.network, project.simulation
    budget_mb, source = memory_budget(sim.memory_budget_mb, limits)
    est = MemoryEstimate(budget_mb=budget_mb, budget_source=source)
    sizes = {n.id: n.size for n in net.nodes if n.kind != "monitor"}
    n_neurons = sum(sizes.values())
    n_steps = _n_steps(sim)
    max_delay = 0
    total_syn = 0
    largest = 0.0
    for p in net.projections:
        rule = p.connectivity.get("rule", "all_to_all")
        n_syn = expected_synapses(rule, p.connectivity, sizes[p.source], sizes[p.target],
                                  p.source == p.target)
        total_syn += n_syn
        spread = isinstance(p.delay_ms, dict)
        # plastic: CSC index and state; with per-synapse delays also a trace per synapse
        per_syn = 8 + (2 if spread else 0) + (24 + (16 if spread else 0) if p.plasticity else 0)
        est.add(f"synapses of {p.id}", n_syn * per_syn + 8 * (sizes[p.source] + 1))
        # Build temporaries of one projection: connectivity (a mask for all-to-all without
        # autapses), drawn delays, the CSC index of plastic projections.
        largest = max(largest, n_syn * (9 + (24 if spread else 0)
                                        + (36 if p.plasticity else 0)))
        max_delay = max(max_delay, _max_delay_ms(p.delay_ms))
        if p.record_weights is not None or p.plasticity:
            est.add(f"weight record index of {p.id}", 4 * n_syn)  # pre neuron per synapse
        if p.record_weights is not None:
            every = p.record_weights.get("every_ms", sim.duration_ms / 100)
            snaps = min(sim.duration_ms / every, n_steps) + 1
            # snapshots, stacked into one matrix for the result
            est.add(f"weight snapshots of {p.id}", 8 * n_syn * snaps, "run")
            n_sel = len(p.record_weights.get("synapses", []))
            if n_sel:
                est.add(f"weight trajectories of {p.id}",
                        8 * n_sel * (min(n_steps, 100_000) + 1), "run")
        elif p.plasticity and n_syn <= FULL_SNAPSHOT_SYNAPSES:
            est.add(f"weight snapshots of {p.id}", 8 * n_syn * 101, "run")
    est.add("building the synapses (temporary)", 8 * total_syn + largest
            + 16 * min(total_syn, DRAW_BLOCK), "build")
    plastic = [p for p in net.projections if p.plasticity]
    if plastic:
        est.add("weights the run learns on (a copy)", 4 * total_syn)
        # Queue of pre spikes: a row per step of the longest plastic delay, a column per
        # pre neuron (plus a row cursor each with per-synapse delays).
        rows = int(round(max(_max_delay_ms(p.delay_ms) for p in plastic) / sim.dt_ms)) + 1
        width = 4 + (8 if any(isinstance(p.delay_ms, dict) for p in plastic) else 0)
        est.add("queue of plastic pre spikes",
                rows * width * sum(sizes[p.source] for p in plastic))
    ring = int(round(max_delay / sim.dt_ms)) + 1
    est.add("neuron state", n_neurons * NEURON_BYTES)
    for node in net.populations:
        _add_per_neuron_params(est, node)
    n_current = sum(1 for n in net.nodes if n.kind == "encoder" and n.model in CURRENT_ENCODERS)
    if n_current:
        est.add("current input gains", 8 * n_current * n_neurons)
    for node in net.encoders:
        _add_dataset_inputs(est, project, node, n_steps)
    est.add("delay buffers", 2 * 8 * ring * n_neurons)
    n_bins = n_steps // max(1, int(round(sim.count_bin_ms / sim.dt_ms))) + 1
    est.add("operation counts", n_bins * (COUNT_ROW_BYTES * len(sizes)
                                          + PROJ_COUNT_ROW_BYTES * len(net.projections)), "run")
    for m in net.monitors:
        values = m.resolved_params()
        interval = max(1, int(round(values["interval_ms"] / sim.dt_ms)))
        samples = n_steps // interval + 1
        # the kernel's buffer and the result's copy
        est.add(f"traces of {m.id}", 16 * samples * len(values["neurons"])
                * len(values["variables"]), "run")
    bounds = input_event_bounds(project)
    per_step = 0
    for node_id, b in bounds.items():
        per_step += b.per_step
        model = net.node(node_id).model
        if encoder_module(model).BLOCKWISE:  # generated block by block
            est.add(f"input events of {node_id}", BLOCK_EVENT_BYTES * b.per_block, "run")
        else:
            est.add(f"input events of {node_id}", FIXED_EVENT_BYTES * b.total)
            est.add(f"computing the input events of {node_id}",
                    FIXED_EVENT_BUILD_BYTES * b.total, "build")
    if bounds:
        total_events = sum(b.total for b in bounds.values())
        est.chunk_events = int(min(total_events, MAX_CHUNK_EVENTS + per_step))
        est.add("input events of one chunk", CHUNK_EVENT_BYTES * est.chunk_events, "run")
    est.add("working memory", WORKING_BYTES, "run")
    capacity, worst = spike_record_capacity(project, bounds)
    # The buffer keeps room for one more step of every neuron and input event.
    headroom = n_neurons + per_step
    per_spike = SPIKE_BUFFER_BYTES + SPIKE_RESULT_BYTES + (SPIKE_WRITE_BYTES if writing else 0)
    # A long run of a big network gets what the budget has left, not a refusal: the record
    # is cut to fit (the run stops with memory_limit if it fills).
    room = budget_mb * _MB - est.total - SPIKE_BUFFER_BYTES * headroom
    capacity = int(min(capacity, max(RECORD_MIN_SPIKES, room // per_spike)))
    est.record_capacity, est.record_worst, est.record_headroom = capacity, worst, headroom
    est.add("spike record", SPIKE_BUFFER_BYTES * (capacity + headroom), "run")
    est.add("spike table", (per_spike - SPIKE_BUFFER_BYTES) * capacity, "run")
    return est


def _add_per_neuron_params(est: MemoryEstimate, node) -> None:
    """A population's per-neuron parameters: a float64 array each while building, and the
    kernel's per-neuron rows of packed constants when a packed parameter varies."""
    names = [name for name, value in node.params.items() if is_per_neuron(value)]
    if not names:
        return
    rows = N_NODE_PARAMS if set(names) - OUTSIDE_PACK else 0
    est.add(f"per-neuron parameters of {node.id}", 8 * node.size * (len(names) + rows))


def _add_dataset_inputs(est: MemoryEstimate, project: Project, node, n_steps: int) -> None:
    """The arrays of a dataset encoder that grow with samples x channels.

    ``dataset_current`` schedules every sample (an amplitude row per channel at its start
    and a zero row at its end) and keeps (channel, target, weight) per synapse of its
    projections; ``dataset`` keeps a spike probability per channel of each shown sample and
    draws a random number per channel and step of a block.
    """
    module = encoder_module(node.model)
    if not hasattr(module, "windows"):
        return
    values = node.resolved_params()
    if node.model in CURRENT_ENCODERS:
        cells = node.size * len(values["samples"])
        est.add(f"per-channel schedule of {node.id}", 16 * cells)
        est.add(f"computing the schedule of {node.id}", 48 * cells, "build")
        synapses = sum(expected_synapses(p.connectivity.get("rule", "all_to_all"),
                                         p.connectivity, node.size,
                                         project.network.node(p.target).size, False)
                       for p in project.network.projections if p.source == node.id)
        est.add(f"per-channel synapses of {node.id}", 24 * synapses)
        return
    cells = node.size * len(module.windows(values, project.simulation.dt_ms, n_steps).start)
    est.add(f"spike probabilities of {node.id}", 8 * cells)
    est.add(f"computing the spike probabilities of {node.id}", 16 * cells, "build")
    est.add(f"random numbers of {node.id} (one block)", 24 * BLOCK_STEPS * node.size, "run")


def _n_steps(sim) -> int:
    return int(round(sim.duration_ms / sim.dt_ms))


def input_event_bounds(project: Project) -> dict[str, EventBounds]:
    """Bounds on the events of every spike encoder (see :func:`engine.encoders.event_bounds`)."""
    sim = project.simulation
    return {n.id: event_bounds(SPIKE_ENCODERS[n.model], n.size, n.resolved_params(),
                               sim.dt_ms, _n_steps(sim))
            for n in project.network.nodes
            if n.kind == "encoder" and n.model in SPIKE_ENCODERS}


def spike_record_capacity(project: Project,
                          bounds: dict[str, EventBounds] | None = None) -> tuple[int, int]:
    """(capacity, worst case) of the spike record, in spikes.

    The worst case is every recorded neuron firing as often as its refractory period allows
    plus every input event of recorded encoders. The capacity is that worst case, but at most
    a mean of :data:`~engine.core.limits.RECORD_RATE_HZ` per recorded neuron (plus
    :data:`~engine.core.limits.RECORD_MIN_SPIKES`): a run that fills it stops with status
    ``memory_limit``, so the record cannot grow without bound.
    """
    net, sim = project.network, project.simulation
    if bounds is None:
        bounds = input_event_bounds(project)
    record = sim.record_spikes
    n_steps = _n_steps(sim)
    worst = 0
    planned = float(RECORD_MIN_SPIKES)
    for node in net.nodes:
        if node.kind == "monitor" or not (record == "all" or node.id in record):
            continue
        if node.id in bounds:
            worst += bounds[node.id].total
            planned += bounds[node.id].total
        elif node.kind == "population":
            every = neuron_model(node.model).min_isi_steps(
                resolve_neuron_params(project, node), sim.dt_ms)
            if every is None:  # never spikes
                continue
            worst += node.size * (-(-n_steps // every))
            planned += node.size * RECORD_RATE_HZ * sim.duration_ms * 1e-3
    return int(min(worst, math.ceil(planned))), int(worst)


def _max_delay_ms(delay) -> float:
    if isinstance(delay, dict):
        if delay["dist"] == "uniform":
            return float(delay["high"])
        return float(delay["mean"] + 6 * delay["std"])  # draws beyond 6 sigma are clipped
    return float(delay)


def check_memory(project: Project, limits: RunLimits | None = None, *,
                 writing: bool = False) -> MemoryEstimate:
    """Raise :class:`MemoryBudgetError` when the estimate exceeds the effective budget.

    The effective budget is the project's ``simulation.memory_budget_mb``, lowered to the
    administrator's cap in ``limits``; the message names which of the two applied.
    """
    est = estimate_memory(project, limits, writing=writing)
    if est.total > est.budget_mb * _MB:
        raise MemoryBudgetError(
            f"This network would need about {est.total / _MB:,.0f} MB, more than "
            f"{est.budget_source}. Largest items: {est.describe()}. Try fewer neurons or a "
            f"lower connection probability, fewer or slower input events, record fewer "
            f"neurons or less often, or a shorter run."
        )
    return est


def build(project: Project, limits: RunLimits | None = None,
          stop: StopCheck | None = None, *, writing: bool = False) -> CompiledNetwork:
    """Compile a project into a :class:`CompiledNetwork` (after the memory check).

    Parameters
    ----------
    project
        A validated project.
    limits
        The administrator's caps (memory: the effective budget; time: see ``stop``).
    stop
        Checked between nodes, projections and blocks of synapses; when it says stop
        (cancelled, or over the wall-time limit) the build raises :class:`RunStopped`.
    writing
        Count the written output files in the memory check (CLI).

    Raises
    ------
    MemoryBudgetError
        When the network would not fit the memory budget.
    ProjectError
        For problems only visible while building (e.g. a recorded synapse that does not exist).
    RunStopped
        When ``stop`` asked to stop.
    """
    est = check_memory(project, limits, writing=writing)
    stop = stop or StopCheck()
    net, sim = project.network, project.simulation
    dt = sim.dt_ms
    n_steps = int(round(sim.duration_ms / dt))
    bin_steps = max(1, int(round(sim.count_bin_ms / dt)))
    nodes, index, starts, node_seeds = _layout(project)
    n_neurons = int(starts[-1])

    node_type = np.zeros(len(nodes), np.int32)
    node_params = np.zeros((len(nodes), N_NODE_PARAMS))
    node_hetero = np.full(len(nodes), -1, np.int64)
    hetero_rows: list[np.ndarray] = []  # per-neuron packed rows of the nodes that need them
    n_hetero = 0
    initial_v = np.zeros(n_neurons)
    initial_u = np.zeros(n_neurons)
    bias = np.zeros(n_neurons)
    record = sim.record_spikes
    node_record = np.array([record == "all" or n.id in record for n in nodes], dtype=bool)
    spike_sources: dict[int, SpikeSource] = {}
    current_sources: dict[int, CurrentSchedule] = {}
    for i, node in enumerate(nodes):
        stop.check("building the network")
        values = node.resolved_params()
        lo, hi = starts[i], starts[i + 1]
        rng = np.random.default_rng(node_seeds[i])
        if node.kind == "population":
            model = neuron_model(node.model)
            node_type[i] = TYPE_CODES[node.model]
            values = resolve_neuron_params(project, node)
            node_params[i], rows = pack_node(model, values, node.size, dt)
            if rows is not None:
                node_hetero[i] = n_hetero
                # A row per constant, a column per neuron (par[P] is one contiguous array).
                hetero_rows.append(np.ascontiguousarray(rows.T).reshape(-1))
                n_hetero += rows.size
            initial_v[lo:hi] = values["v_init"] + values["v_init_spread"] * rng.random(node.size)
            initial_u[lo:hi] = model.initial_aux(values, initial_v[lo:hi])
            bias[lo:hi] = values["i_offset"]
        elif node.model in SPIKE_ENCODERS:
            node_type[i] = SPIKE_SOURCE
            seed = int(node_seeds[i].generate_state(1)[0])
            spike_sources[i] = make_spike_source(SPIKE_ENCODERS[node.model], node.size, values,
                                                 dt, seed, n_steps)
        else:
            node_type[i] = CURRENT_SOURCE
            current_sources[i] = make_current_schedule(CURRENT_ENCODERS[node.model], values, dt)

    projections = _build_projections(project, nodes, index, starts, node_seeds[len(net.nodes):],
                                     dt, stop)
    stop.check("building the network")
    current_nodes = sorted(current_sources)
    current_gain = np.zeros((len(current_nodes), n_neurons))
    current_channels = {}
    for c, node_i in enumerate(current_nodes):
        if current_sources[node_i].per_channel:  # each channel its own amplitude
            current_channels[node_i] = _channel_synapses(
                [b for b in projections["current"] if b["src"] == node_i], starts)
            continue
        for blk in projections["current"]:
            if blk["src"] == node_i:
                # Every channel of a current encoder carries the same amplitude, so a target's
                # gain is the sum of its incoming weights.
                np.add.at(current_gain[c], starts[blk["tgt"]] + blk["targets"], blk["weights"])

    node_of = np.repeat(np.arange(len(nodes), dtype=np.int32), np.diff(starts))
    monitors = _build_monitors(net, index, starts, dt, n_steps)
    compiled = CompiledNetwork(
        dt_ms=dt, n_steps=n_steps, bin_steps=bin_steps,
        node_ids=[n.id for n in nodes], node_kind=[n.kind for n in nodes],
        node_model=[n.model for n in nodes], node_type=node_type, node_start=starts,
        node_params=node_params, node_hetero=node_hetero,
        neuron_params=np.concatenate(hetero_rows) if hetero_rows else np.zeros(0),
        node_record=node_record, node_of=node_of,
        initial_v=initial_v, initial_u=initial_u,
        spike_sources=spike_sources, current_sources=current_sources,
        current_gain=current_gain, current_nodes=current_nodes, bias=bias,
        monitors=monitors, memory=est, current_channels=current_channels,
        reset_k=_reset_steps(nodes, dt, n_steps), **projections["arrays"],
    )
    compiled.weight_records = _build_weight_records(net, compiled, dt)
    return compiled


def _channel_synapses(blocks: list[dict], starts: np.ndarray) -> tuple:
    """(channel, global target, weight) of every synapse of a per-channel current input."""
    channel = [np.repeat(np.arange(len(b["rowptr"]) - 1), np.diff(b["rowptr"])) for b in blocks]
    target = [starts[b["tgt"]] + b["targets"].astype(np.int64) for b in blocks]
    weight = [b["weights"] for b in blocks]
    return (np.concatenate(channel + [np.empty(0, np.int64)]).astype(np.int64),
            np.concatenate(target + [np.empty(0, np.int64)]),
            np.concatenate(weight + [np.empty(0)]))


def _reset_steps(nodes, dt: float, n_steps: int) -> np.ndarray:
    """Steps before which the network is reset: the encoders' that present samples
    (``reset_steps`` of engine.encoders.samples)."""
    steps = [encoder_module(n.model).reset_steps(n.resolved_params(), dt, n_steps)
             for n in nodes
             if n.kind == "encoder" and hasattr(encoder_module(n.model), "reset_steps")]
    if not steps:
        return np.empty(0, np.int64)
    steps = np.unique(np.concatenate(steps))
    return steps[steps <= n_steps]


def _layout(project: Project) -> tuple[list, dict[str, int], np.ndarray, list]:
    """Nodes that have neurons, their index, global index ranges and the child seeds."""
    net = project.network
    nodes = [n for n in net.nodes if n.kind != "monitor"]
    index = {n.id: i for i, n in enumerate(nodes)}
    # One child seed per node and per projection, keyed by position so adding a node at the
    # end does not change the randomness of the others.
    node_seeds = np.random.SeedSequence(project.simulation.seed).spawn(
        len(net.nodes) + len(net.projections) + 1)
    starts = np.zeros(len(nodes) + 1, dtype=np.int64)
    np.cumsum([n.size for n in nodes], out=starts[1:])
    return nodes, index, starts, node_seeds


def synapse_blocks(project: Project, stop: StopCheck | None = None) -> dict[str, dict]:
    """The synapses :func:`build` draws for each projection, by projection id.

    Exporters use this so a file holds exactly the synapses, weights and delays a run of the
    project simulates (same seeds, same order). Each block has ``rowptr`` (int64, one row
    per source neuron), ``targets`` (int32), ``weights`` (float32, float64 for current
    inputs), and ``delay`` (steps; -1 when per synapse, then ``delay_steps``; absent for
    current inputs, which act without delay).
    """
    nodes, index, starts, node_seeds = _layout(project)
    blocks = _build_projections(project, nodes, index, starts,
                                node_seeds[len(project.network.nodes):],
                                project.simulation.dt_ms, stop or StopCheck(), concatenate=False)
    return {blk["id"]: blk for blk in blocks}


def _draw(value, n: int, rng: np.random.Generator) -> np.ndarray:
    """A constant or a distribution ({"dist": "uniform"|"normal", ...}) drawn n times."""
    if not isinstance(value, dict):
        return np.full(n, float(value))
    if value["dist"] == "uniform":
        return rng.uniform(value["low"], value["high"], n)
    return rng.normal(value["mean"], value["std"], n)


def _weights(p, n_syn: int, rng: np.random.Generator, matrix_w: np.ndarray | None,
             stop: StopCheck, dtype=np.float32) -> np.ndarray:
    """Weights of a projection, drawn, sign-clamped and clipped block by block.

    float32 for synapses, float64 for the gains of current encoders.

    Drawing in blocks consumes the generator's stream exactly as one draw does (values are
    produced one after another), so the weights are the same; the float64 temporaries stay
    at :data:`DRAW_BLOCK` values and Stop is honoured between blocks.
    """
    out = np.empty(n_syn, dtype)
    for lo in range(0, n_syn, DRAW_BLOCK):
        stop.check("drawing synapse weights")
        hi = min(n_syn, lo + DRAW_BLOCK)
        w = matrix_w[lo:hi] if matrix_w is not None else _draw(p.weight, hi - lo, rng)
        out[lo:hi] = clamp_weights(p, w)
    return out


def clamp_weights(p, w: np.ndarray) -> np.ndarray:
    """Weights as a run holds them: sign-clamped by receptor (exc >= 0, inh <= 0) and,
    for a plastic projection, clipped to its bounds (learning starts inside them)."""
    w = np.minimum(w, 0.0) if p.receptor == "inh" else np.maximum(w, 0.0)
    if p.plasticity:
        w = np.clip(w, *plasticity_rules.bounds(p.plasticity))
    return w


def _all_to_all(n_pre: int, n_post: int, autapses: bool,
                stop: StopCheck) -> tuple[np.ndarray, np.ndarray]:
    """The all-to-all rule of :func:`engine.connectivity.generate.connect`, a block of rows at a
    time.

    Same synapses in the same order; Stop is honoured between blocks and the temporaries stay
    small (no full boolean mask).
    """
    row_len = n_post - (0 if autapses else np.arange(n_pre) < n_post)
    rowptr = np.zeros(n_pre + 1, dtype=np.int64)
    np.cumsum(np.broadcast_to(row_len, (n_pre,)), out=rowptr[1:])
    targets = np.empty(int(rowptr[-1]), np.int32)
    row = np.arange(n_post, dtype=np.int32)
    rows_per_block = max(1, DRAW_BLOCK // max(1, n_post))
    for r0 in range(0, n_pre, rows_per_block):
        stop.check("connecting neurons")
        r1 = min(n_pre, r0 + rows_per_block)
        if autapses:
            targets[rowptr[r0]:rowptr[r1]] = np.tile(row, r1 - r0)
            continue
        for i in range(r0, r1):
            targets[rowptr[i]:rowptr[i + 1]] = np.delete(row, i) if i < n_post else row
    return rowptr, targets


def _build_projections(project: Project, nodes, index, starts, seeds, dt,
                       stop: StopCheck, concatenate: bool = True):
    net = project.network
    blocks, current_blocks = [], []
    for j, p in enumerate(net.projections):
        stop.check("connecting neurons")
        src, tgt = index[p.source], index[p.target]
        n_pre, n_post = nodes[src].size, nodes[tgt].size
        rule = p.connectivity.get("rule", "all_to_all")
        conn_seed = int(seeds[j].generate_state(2)[0])
        if rule == "all_to_all":
            autapses = bool(p.connectivity.get("allow_autapses", True)) or p.source != p.target
            rowptr, targets = _all_to_all(n_pre, n_post, autapses, stop)
            matrix_w = None
        else:
            rowptr, targets, matrix_w = connect(rule, p.connectivity, n_pre, n_post,
                                                p.source == p.target, conn_seed)
        rng = np.random.default_rng(seeds[j])
        n_syn = targets.shape[0]
        current = nodes[src].model in CURRENT_ENCODERS
        weights = _weights(p, n_syn, rng, matrix_w, stop,
                           np.float64 if current else np.float32)
        blk = {"id": p.id, "src": src, "tgt": tgt, "n_post": n_post, "rowptr": rowptr,
               "targets": targets,
               "weights": weights, "inh": p.receptor == "inh", "plasticity": p.plasticity}
        if current:
            current_blocks.append(blk)
            continue
        if isinstance(p.delay_ms, dict):
            steps = np.rint(np.maximum(_draw(p.delay_ms, n_syn, rng), 0.0) / dt)
            if steps.size and steps.max() > np.iinfo(np.uint16).max:
                raise ProjectError([Problem(f"network.projections[{j}].delay_ms",
                                            f"delays must stay below "
                                            f"{np.iinfo(np.uint16).max * dt:g} ms")])
            blk["delay_steps"] = steps.astype(np.uint16)
            del steps
            blk["delay"] = -1
            if p.plasticity:
                # Rows sorted by delay: the synapses of a spike arriving at one step are
                # contiguous, so learning walks each row once, in arrival order.
                pre_of_syn = np.repeat(np.arange(n_pre), np.diff(rowptr))
                order = np.lexsort((targets, blk["delay_steps"], pre_of_syn))
                for key in ("targets", "weights", "delay_steps"):
                    blk[key] = blk[key][order]
        else:
            blk["delay"] = int(round(p.delay_ms / dt))
        blocks.append(blk)
    stop.check("connecting neurons")
    if not concatenate:  # synapse_blocks: every projection's own block
        return blocks + current_blocks
    return {"arrays": _concatenate_blocks(blocks, len(nodes), stop),
            "current": current_blocks}


def _concatenate_blocks(blocks: list[dict], n_nodes: int, stop: StopCheck) -> dict:
    n_proj = len(blocks)
    row_off = np.zeros(n_proj, np.int64)
    syn_off = np.zeros(n_proj + 1, np.int64)
    dsyn_off = np.zeros(n_proj, np.int64)
    col_off = np.zeros(n_proj, np.int64)
    pre_off = np.zeros(n_proj, np.int64)
    post_off = np.zeros(n_proj, np.int64)
    pend_off = np.zeros(n_proj, np.int64)
    pend_state = 0
    rule = np.zeros(n_proj, np.int32)
    pparams = np.zeros((n_proj, N_PLASTICITY_PARAMS))
    rowptrs, posts, weights, delays, colptrs, col_syns, col_pres = [], [], [], [], [], [], []
    rows = dsyn = cols = pre_state = post_state = 0
    for b, blk in enumerate(blocks):
        n_syn = blk["targets"].shape[0]
        row_off[b] = rows
        syn_off[b + 1] = syn_off[b] + n_syn
        rowptrs.append(blk["rowptr"] + syn_off[b])
        rows += blk["rowptr"].shape[0]
        posts.append(blk["targets"])
        weights.append(blk["weights"])
        dsyn_off[b] = dsyn
        if blk["delay"] < 0:
            delays.append(blk["delay_steps"])
            dsyn += n_syn
        plasticity = blk["plasticity"]
        if plasticity:
            stop.check("indexing plastic synapses")
            rule[b], pparams[b] = plasticity_rules.pack(plasticity)
            n_pre = blk["rowptr"].shape[0] - 1
            order = np.argsort(blk["targets"], kind="stable")
            counts = np.bincount(blk["targets"], minlength=blk["n_post"])
            colptr = np.zeros(counts.shape[0] + 1, np.int64)
            np.cumsum(counts, out=colptr[1:])
            col_off[b] = cols
            colptrs.append(colptr + sum(c.shape[0] for c in col_syns))
            per_synapse = blk["delay"] < 0  # each synapse sees its own arrivals
            pre_of_syn = np.repeat(np.arange(n_pre, dtype=np.int32), np.diff(blk["rowptr"]))
            col_syns.append(order.astype(np.int64) + syn_off[b])
            col_pres.append(order.astype(np.int32) if per_synapse else pre_of_syn[order])
            cols += colptr.shape[0]
            pre_off[b] = pre_state
            post_off[b] = post_state
            pend_off[b] = pend_state
            pre_state += n_syn if per_synapse else n_pre
            post_state += counts.shape[0]
            pend_state += n_pre
    out_lists: list[list[int]] = [[] for _ in range(n_nodes)]
    for b, blk in enumerate(blocks):
        out_lists[blk["src"]].append(b)
    out_ptr = np.zeros(n_nodes + 1, np.int64)
    np.cumsum([len(x) for x in out_lists], out=out_ptr[1:])

    def cat(arrays, dtype):
        # One copy into the final array, a block at a time so Stop acts during big copies.
        out = np.empty(sum(a.shape[0] for a in arrays), dtype)
        at = 0
        for a in arrays:
            for lo in range(0, a.shape[0], DRAW_BLOCK):
                stop.check("connecting neurons")
                part = a[lo:lo + DRAW_BLOCK]
                out[at:at + part.shape[0]] = part
                at += part.shape[0]
        return out

    delay = np.array([blk["delay"] for blk in blocks], dtype=np.int64)
    dmax = np.array([blk["delay"] if blk["delay"] >= 0 else
                     int(blk["delay_steps"].max(initial=0)) for blk in blocks], np.int64)
    max_delay = int(dmax.max(initial=0))
    return dict(
        proj_ids=[blk["id"] for blk in blocks],
        proj_src=np.array([blk["src"] for blk in blocks], np.int32),
        proj_tgt=np.array([blk["tgt"] for blk in blocks], np.int32),
        proj_inh=np.array([blk["inh"] for blk in blocks], np.int8),
        proj_row_off=row_off, proj_syn_off=syn_off, proj_delay=delay,
        proj_dsyn_off=dsyn_off, proj_rule=rule, proj_pparams=pparams, proj_col_off=col_off,
        proj_trace_pre_off=pre_off, proj_trace_post_off=post_off, proj_pend_off=pend_off,
        proj_dmax=dmax, n_pre_state=pre_state, n_pend_state=pend_state,
        rowptr=cat(rowptrs, np.int64), syn_post=cat(posts, np.int32),
        syn_weight=cat(weights, np.float32), syn_delay=cat(delays, np.uint16),
        colptr=cat(colptrs, np.int64), col_syn=cat(col_syns, np.int64),
        col_pre=cat(col_pres, np.int32),
        out_proj_ptr=out_ptr,
        out_proj=np.array([b for lst in out_lists for b in lst], np.int32),
        max_delay=max_delay, weight_records=[],
    )


def monitor_spec(monitor_id: str, population: str, node_i: int, neurons, variables,
                 interval: int, n_steps: int, starts: np.ndarray) -> dict:
    """What the simulator needs of one state monitor (``CompiledNetwork.monitors`` entries).

    ``node_i`` is the population's node index, ``interval`` the sampling period in steps and
    ``starts`` the nodes' global index ranges (``CompiledNetwork.node_start``).
    """
    neurons = np.asarray(neurons, dtype=np.int64)
    return {"id": monitor_id, "node": node_i, "population": population, "neurons": neurons,
            "variables": list(variables), "interval": int(interval),
            "n_samples": n_steps // int(interval) + 1, "gids": starts[node_i] + neurons}


def _build_monitors(net, index, starts, dt: float, n_steps: int) -> list[dict]:
    monitors = []
    for m in net.monitors:
        values = m.resolved_params()
        interval = max(1, int(round(values["interval_ms"] / dt)))
        monitors.append(monitor_spec(m.id, m.target, index[m.target], values["neurons"],
                                     values["variables"], interval, n_steps, starts))
    return monitors


def _build_weight_records(net, compiled: CompiledNetwork, dt: float) -> list[dict]:
    records = []
    for b, pid in enumerate(compiled.proj_ids):
        p = net.projection(pid)
        if p.record_weights is None and not p.plasticity:
            continue
        rec = p.record_weights or {}
        # Without an explicit request: about 100 snapshots per run, full matrices only while
        # they stay small (statistics are always kept).
        default_every = compiled.n_steps * dt / 100
        every = max(1, int(round(rec.get("every_ms", default_every) / dt)))
        lo, hi = compiled.proj_syn_off[b], compiled.proj_syn_off[b + 1]
        full = p.record_weights is not None or (hi - lo) <= FULL_SNAPSHOT_SYNAPSES
        rowptr = compiled.rowptr[compiled.proj_row_off[b]:
                                 compiled.proj_row_off[b] + net.node(p.source).size + 1]
        pre = np.repeat(np.arange(rowptr.shape[0] - 1, dtype=np.int32), np.diff(rowptr))
        post = compiled.syn_post[lo:hi]
        selected = []
        for j, (i_pre, i_post) in enumerate(rec.get("synapses", [])):
            row = compiled.syn_post[rowptr[i_pre]:rowptr[i_pre + 1]]
            hit = np.flatnonzero(row == i_post)
            if hit.size == 0:
                path = f"network.projections[{net.projections.index(p)}].record_weights"
                raise ProjectError([Problem(f"{path}.synapses[{j}]",
                                            f"there is no synapse {i_pre} -> {i_post} in "
                                            f"{pid!r} (with this seed)")])
            selected.append(int(rowptr[i_pre] + hit[0]))
        records.append({"projection": pid, "index": b, "every": every, "pre": pre,
                        "post": post, "synapses": np.asarray(selected, np.int64),
                        "lo": int(lo), "hi": int(hi), "full": full})
    return records
