"""One neuron of a run up close: its traces recorded on demand, and its synapses.

A run is deterministic (every random draw comes from the project's seed), so running the same
project again with a state monitor on one neuron gives exactly the values a monitor on it
would have recorded the first time: :func:`probe_neuron` does that, recording only that neuron
(every state variable, every step) and no spikes (the first run has them). The state
monitors of the project stay in the project (they are nodes, and the node list seeds the
connectivity) but are not recorded.

The synapses onto and from the neuron come from the compiled network
(:func:`incoming_synapses`, :func:`outgoing_synapses`, :func:`current_inputs`); the spikes
that reached it come from the first run's spikes (:func:`arrived_spikes`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from engine.core.build import CompiledNetwork, build, monitor_spec
from engine.core.limits import RunLimits, StopCheck
from engine.core.results import TraceRecord
from engine.errors import SpikeStudioError
from engine.neurons import NEURON_MODELS
from engine.project import Project
from engine.simulator import CancelCheck, ProgressCallback, Simulation
from engine.spike_stats import population_codes

__all__ = ["NeuronProbe", "arrived_spikes", "current_inputs", "incoming_synapses",
           "outgoing_synapses", "probe_neuron", "probe_traces", "synapse_summary"]

PROBE_MONITOR = "probe"

_INCOMING = ("projection", "source", "receptor", "plastic", "pre")
_OUTGOING = ("projection", "target", "receptor", "plastic", "post")
_DTYPES = (object, object, object, bool, np.int64)


@dataclass
class NeuronProbe:
    """What :func:`probe_neuron` found out about one neuron.

    Attributes
    ----------
    population, neuron
        Node id and local index.
    model
        The node's neuron model (or encoder model).
    traces
        Every state variable of the neuron at every step, time 0 to ``duration_ms``
        (``None`` for an encoder, which has no state).
    incoming, outgoing
        Its synapses (see :func:`incoming_synapses`, :func:`outgoing_synapses`); the weights
        are those at ``duration_ms`` (they differ from the first ones only in plastic
        projections, whose ``weight_initial`` column holds the start).
    currents
        External current inputs (see :func:`current_inputs`).
    duration_ms
        Model time simulated.
    status, messages
        Of the re-run (``completed`` unless it was stopped or failed).
    wall_s
        Wall time of the probe (build and run).
    """

    population: str
    neuron: int
    model: str
    traces: TraceRecord | None
    incoming: pd.DataFrame
    outgoing: pd.DataFrame
    currents: pd.DataFrame
    duration_ms: float
    status: str = "completed"
    messages: list[str] = field(default_factory=list)
    wall_s: float = 0.0


def _locate(compiled: CompiledNetwork, population: str, neuron: int) -> tuple[int, int]:
    """(node index, global neuron index), or a SpikeStudioError naming the field."""
    if population not in compiled.node_ids:
        raise SpikeStudioError(f"population: no population or encoder {population!r} in "
                               f"this network")
    node = compiled.node_ids.index(population)
    size = int(compiled.node_start[node + 1] - compiled.node_start[node])
    if not 0 <= int(neuron) < size:
        raise SpikeStudioError(f"neuron: {population!r} has neurons 0 to {size - 1}, got "
                               f"{neuron}")
    return node, int(compiled.node_start[node]) + int(neuron)


def _delay_steps(c: CompiledNetwork, p: int, synapses: np.ndarray) -> np.ndarray:
    """Delays (steps) of global synapse indices of projection p."""
    if c.proj_delay[p] >= 0:
        return np.full(len(synapses), int(c.proj_delay[p]), np.int64)
    shift = int(c.proj_dsyn_off[p] - c.proj_syn_off[p])
    return c.syn_delay[shift + synapses].astype(np.int64)


def _table(rows: list[dict], columns: tuple[str, ...], weights: np.ndarray,
           c: CompiledNetwork) -> pd.DataFrame:
    """One frame of the rows' columns, with the synapses' weights now and at the start."""
    if not rows:
        rows = [{**{name: np.empty(0, dtype) for name, dtype in zip(columns, _DTYPES,
                                                                       strict=True)},
                 "delay_ms": np.empty(0), "synapse": np.empty(0, np.int64)}]
    frame = pd.concat([pd.DataFrame(r) for r in rows], ignore_index=True)
    syn = frame["synapse"].to_numpy(np.int64)
    frame["weight"] = weights[syn].astype(np.float64)
    frame["weight_initial"] = c.syn_weight[syn].astype(np.float64)
    return frame[[*columns, "weight", "weight_initial", "delay_ms", "synapse"]]


def incoming_synapses(compiled: CompiledNetwork, population: str, neuron: int,
                      weights: np.ndarray | None = None) -> pd.DataFrame:
    """The synapses onto one neuron, projection by projection.

    Parameters
    ----------
    compiled
        The compiled network (:func:`engine.core.build.build`).
    population, neuron
        Node id and local index of the neuron.
    weights
        Weight of every synapse (``Simulation.syn_weight`` after a run: plastic projections'
        current weights); default the compiled, initial weights.

    Returns
    -------
    pandas.DataFrame
        One row per synapse: ``projection``, ``source`` (node id), ``receptor`` (``exc`` or
        ``inh``), ``plastic``, ``pre`` (local index in the source), ``weight``,
        ``weight_initial``, ``delay_ms`` and ``synapse`` (global synapse index), in
        projection order, then by ``pre``.
    """
    c = compiled
    node, _ = _locate(c, population, neuron)
    rows = []
    for p in np.flatnonzero(c.proj_tgt == node):
        lo, hi = int(c.proj_syn_off[p]), int(c.proj_syn_off[p + 1])
        local = np.flatnonzero(c.syn_post[lo:hi] == int(neuron))
        if not len(local):
            continue
        src = int(c.proj_src[p])
        n_pre = int(c.node_start[src + 1] - c.node_start[src])
        rowptr = c.rowptr[c.proj_row_off[p]:c.proj_row_off[p] + n_pre + 1] - lo
        synapses = local + lo
        rows.append({
            "projection": c.proj_ids[p], "source": c.node_ids[src],
            "receptor": "inh" if c.proj_inh[p] else "exc", "plastic": bool(c.proj_rule[p]),
            "pre": np.searchsorted(rowptr, local, side="right") - 1,
            "delay_ms": _delay_steps(c, p, synapses) * c.dt_ms, "synapse": synapses,
        })
    # Projections in order; a CSR block lists a target's synapses by pre neuron.
    return _table(rows, _INCOMING, c.syn_weight if weights is None else weights, c)


def outgoing_synapses(compiled: CompiledNetwork, population: str, neuron: int,
                      weights: np.ndarray | None = None) -> pd.DataFrame:
    """The synapses from one neuron, projection by projection.

    Returns
    -------
    pandas.DataFrame
        One row per synapse: ``projection``, ``target`` (node id), ``receptor``, ``plastic``,
        ``post`` (local index in the target), ``weight``, ``weight_initial``, ``delay_ms``
        and ``synapse``, in projection order then by synapse. See :func:`incoming_synapses`
        for the parameters.
    """
    c = compiled
    node, _ = _locate(c, population, neuron)
    n_pre = int(c.node_start[node + 1] - c.node_start[node])
    rows = []
    for p in np.flatnonzero(c.proj_src == node):
        row = c.rowptr[c.proj_row_off[p]:c.proj_row_off[p] + n_pre + 1]
        synapses = np.arange(row[neuron], row[neuron + 1], dtype=np.int64)
        if not len(synapses):
            continue
        rows.append({
            "projection": c.proj_ids[p], "target": c.node_ids[int(c.proj_tgt[p])],
            "receptor": "inh" if c.proj_inh[p] else "exc", "plastic": bool(c.proj_rule[p]),
            "post": c.syn_post[synapses].astype(np.int64),
            "delay_ms": _delay_steps(c, p, synapses) * c.dt_ms, "synapse": synapses,
        })
    return _table(rows, _OUTGOING, c.syn_weight if weights is None else weights, c)


def current_inputs(project: Project, compiled: CompiledNetwork, population: str,
                   neuron: int) -> pd.DataFrame:
    """The external current inputs of one neuron.

    Returns
    -------
    pandas.DataFrame
        One row per current encoder and channel: ``source`` (encoder id), ``projections``
        (the ids of its projections onto the population, comma-separated), ``channel`` (-1
        when every channel carries the same amplitude, so only the summed gain matters) and
        ``gain`` (what the encoder's amplitude is multiplied by for this neuron).
    """
    c = compiled
    _, gid = _locate(c, population, neuron)
    rows = []
    for row, node in enumerate(c.current_nodes):
        source = c.node_ids[node]
        names = ", ".join(p.id for p in project.network.projections
                          if p.source == source and p.target == population)
        if node in c.current_channels:
            channel, target, weight = c.current_channels[node]
            hit = target == gid
            rows += [(source, names, int(ch), float(w))
                     for ch, w in zip(channel[hit], weight[hit], strict=True)]
        elif c.current_gain[row, gid] != 0:
            rows.append((source, names, -1, float(c.current_gain[row, gid])))
    return pd.DataFrame(rows, columns=["source", "projections", "channel", "gain"])


def arrived_spikes(incoming: pd.DataFrame, spikes: pd.DataFrame, duration_ms: float,
                   dt_ms: float) -> pd.DataFrame:
    """The spikes that reached a neuron through its synapses, in time order.

    A spike emitted at ``t`` over a synapse with delay ``d`` increments the target's synaptic
    current at ``t + d`` (docs/architecture.md): that is its arrival time. The step from
    ``t + d`` to ``t + d + dt`` takes it in, so a recorded trace shows it from the sample at
    ``t + d + dt`` on. Only arrivals the run took in (before ``duration_ms``) count; sources
    whose spikes were not recorded contribute nothing (see ``simulation.record_spikes``).

    Parameters
    ----------
    incoming
        Synapses onto the neuron (:func:`incoming_synapses`).
    spikes
        The run's spikes DataFrame.
    duration_ms, dt_ms
        The run's duration and time step.

    Returns
    -------
    pandas.DataFrame
        ``time_ms`` (arrival), ``spike_ms`` (emission), ``projection``, ``source``, ``pre``
        and ``weight`` of the synapse.
    """
    if not dt_ms > 0:
        raise SpikeStudioError(f"dt_ms: must be > 0, got {dt_ms!r}")
    end_k = int(round(float(duration_ms) / dt_ms))
    times = spikes["time_ms"].to_numpy(np.float64)
    neurons = spikes["neuron"].to_numpy().astype(np.int64, copy=False)
    parts = []
    for source in pd.unique(incoming["source"]):
        syn = incoming[incoming["source"] == source]
        mask = population_codes(spikes, [source]) == 0
        t, n = times[mask], neurons[mask]
        order = np.argsort(n, kind="stable")  # by neuron, in time order within one
        t, n = t[order], n[order]
        pre = syn["pre"].to_numpy(np.int64)
        lo = np.searchsorted(n, pre, side="left")
        count = np.searchsorted(n, pre, side="right") - lo
        total = int(count.sum())
        # The spikes of every synapse's pre neuron, one run of indices per synapse.
        each = np.repeat(np.arange(len(pre)), count)
        idx = np.repeat(lo, count) + np.arange(total) - np.repeat(np.cumsum(count) - count,
                                                                 count)
        sent_k = np.rint(t[idx] / dt_ms).astype(np.int64)
        delay_k = np.rint(syn["delay_ms"].to_numpy(np.float64) / dt_ms).astype(np.int64)
        arrive_k = sent_k + delay_k[each]
        keep = arrive_k < end_k
        parts.append(pd.DataFrame({
            "time_ms": arrive_k[keep] * dt_ms, "spike_ms": t[idx][keep],
            "projection": syn["projection"].to_numpy(object)[each][keep],
            "source": source, "pre": pre[each][keep],
            "weight": syn["weight"].to_numpy(np.float64)[each][keep],
        }))
    if not parts:
        return pd.DataFrame({"time_ms": np.empty(0), "spike_ms": np.empty(0),
                             "projection": pd.Series(dtype=object),
                             "source": pd.Series(dtype=object),
                             "pre": np.empty(0, np.int64), "weight": np.empty(0)})
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values("time_ms", kind="stable", ignore_index=True)


def synapse_summary(synapses: pd.DataFrame,
                    arrivals: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per projection of a neuron's incoming or outgoing synapses.

    Parameters
    ----------
    synapses
        :func:`incoming_synapses` or :func:`outgoing_synapses`.
    arrivals
        :func:`arrived_spikes` of the incoming synapses, to count them per projection.

    Returns
    -------
    pandas.DataFrame
        ``projection``, ``source`` (incoming) or ``target`` (outgoing), ``receptor``,
        ``plastic``, ``synapses``, ``weight_mean``, ``weight_min``, ``weight_max``,
        ``delay_min_ms``, ``delay_max_ms`` and, with ``arrivals``, ``spikes`` (arrived).
    """
    end = "source" if "source" in synapses else "target"
    out = synapses.groupby("projection", sort=False).agg(
        **{end: (end, "first")}, receptor=("receptor", "first"), plastic=("plastic", "first"),
        synapses=("synapse", "size"), weight_mean=("weight", "mean"),
        weight_min=("weight", "min"), weight_max=("weight", "max"),
        delay_min_ms=("delay_ms", "min"), delay_max_ms=("delay_ms", "max"),
    ).reset_index()
    if arrivals is not None:
        counts = arrivals.groupby("projection", sort=False).size()
        out["spikes"] = out["projection"].map(counts).fillna(0).astype(np.int64)
    return out


def _variables(project: Project, population: str, variables) -> tuple[str, list[str]]:
    """The node's model and the variables to record (all of its state by default)."""
    nodes = {n.id: n for n in project.network.nodes if n.kind != "monitor"}
    if population not in nodes:
        raise SpikeStudioError(f"population: no population or encoder {population!r} in "
                               f"this network")
    node = nodes[population]
    if node.kind != "population":
        if variables:
            raise SpikeStudioError(f"variables: {population!r} is an input encoder: it has "
                                   f"no state to record")
        return node.model, []
    known = list(NEURON_MODELS[node.model].state_variables)
    if variables is None:
        return node.model, known
    unknown = [v for v in variables if v not in known]
    if unknown:
        raise SpikeStudioError(f"variables: the {node.model} model has no state variable "
                               f"{unknown[0]!r} (it has {', '.join(known)})")
    return node.model, list(variables)


def probe_neuron(project: Project, population: str, neuron: int,
                 variables: list[str] | None = None, *, duration_ms: float | None = None,
                 limits: RunLimits | None = None, cancel: CancelCheck = None,
                 progress: ProgressCallback | None = None) -> NeuronProbe:
    """Run ``project`` again with a monitor on one neuron: its exact traces and synapses.

    Parameters
    ----------
    project
        The project exactly as it was run (same seed, nodes and projections).
    population, neuron
        Node id and local index of the neuron.
    variables
        State variables to record; default every one of its model (membrane and synaptic
        currents, and the model's own: ``u`` of Izhikevich, ``theta`` of the adaptive LIF).
    duration_ms
        Model time of the run to reproduce (a run stopped early, or continued past its
        duration, has its own); default ``project.simulation.duration_ms``.
    limits
        The administrator's caps, as for any run.
    cancel, progress
        As for :func:`engine.simulator.simulate`.

    Returns
    -------
    NeuronProbe
        For an encoder (no state) nothing is simulated unless one of its synapses is plastic
        (the weights at ``duration_ms`` need the run).

    Notes
    -----
    The run is built exactly as the first one (the project's own duration, continued past it
    as the first run was), so its dynamics are identical; only what is recorded differs: one
    neuron's state every step, no spikes, no weight snapshots.
    """
    t0 = time.perf_counter()
    model, names = _variables(project, population, variables)
    sim_cfg = project.simulation
    duration = float(sim_cfg.duration_ms if duration_ms is None else duration_ms)
    if not duration >= 0:
        raise SpikeStudioError(f"duration_ms: must be >= 0 ms, got {duration_ms!r}")
    stop = StopCheck(cancel, None if limits is None else limits.max_wall_s, t0)
    compiled = build(project, limits, stop)
    node, _ = _locate(compiled, population, neuron)
    compiled.monitors = ([monitor_spec(PROBE_MONITOR, population, node, [neuron], names, 1,
                                       compiled.n_steps, compiled.node_start)]
                         if names else [])
    compiled.node_record[:] = False     # the first run recorded the spikes
    compiled.weight_records = []        # and the weights' history
    incoming = incoming_synapses(compiled, population, neuron)
    outgoing = outgoing_synapses(compiled, population, neuron)
    currents = current_inputs(project, compiled, population, neuron)
    plastic = bool(incoming["plastic"].any() or outgoing["plastic"].any())
    traces, status, messages, simulated = None, "completed", [], 0.0
    if names or plastic:
        sim = Simulation(project, limits=limits, compiled=compiled)
        sim.run_for(duration, progress=progress, cancel=cancel)
        status, messages = ("error" if sim.invalid else sim.status), list(sim.messages)
        if sim.invalid:
            messages.append(sim.hit.message)
        simulated = sim.t_ms
        if names:
            traces = sim.traces()[PROBE_MONITOR]
        if plastic:
            incoming["weight"] = sim.syn_weight[incoming["synapse"].to_numpy()].astype(float)
            outgoing["weight"] = sim.syn_weight[outgoing["synapse"].to_numpy()].astype(float)
    return NeuronProbe(population=population, neuron=int(neuron), model=model, traces=traces,
                       incoming=incoming, outgoing=outgoing, currents=currents,
                       duration_ms=simulated if (names or plastic) else duration,
                       status=status, messages=messages, wall_s=time.perf_counter() - t0)


def probe_traces(project: Project, population: str, neuron: int,
                 variables: list[str] | None = None, *, duration_ms: float | None = None,
                 limits: RunLimits | None = None) -> TraceRecord:
    """The traces of one neuron, recorded on demand (see :func:`probe_neuron`).

    Equal, value for value, to what a state monitor on that neuron records in a run of the
    same project (every step; a monitor sampling every ``n`` steps holds every ``n``-th).

    Raises
    ------
    SpikeStudioError
        For an unknown population, neuron or variable (naming the field), or an encoder.
    """
    if variables is not None and not variables:
        raise SpikeStudioError("variables: name at least one state variable")
    probe = probe_neuron(project, population, neuron, variables, duration_ms=duration_ms,
                         limits=limits)
    if probe.traces is None:
        raise SpikeStudioError(f"population: {population!r} is an input encoder: it has no "
                               f"state to record")
    return probe.traces
