"""Result assembly: a run's arrays (or what is left of a run) as a :class:`SimulationResult`.

:func:`collect` turns the recordings of a :class:`~engine.simulator.Simulation` up to a time
index into spikes, operation counts, traces and weight records; :func:`unbuilt_result` and
:func:`salvaged_result` are the results of runs stopped while building or lost with their
process.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd

from engine.core import kernels
from engine.core.build import CompiledNetwork
from engine.core.limits import StopCheck
from engine.core.results import SimulationResult, TraceRecord, WeightRecord
from engine.energy.profiles import hw_columns
from engine.neurons import NEURON_MODELS
from engine.project import Project

#: Bins of the weight histograms a weight record keeps per snapshot.
HIST_BINS = 40


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
        The result's status (one of :data:`engine.core.limits.STATUSES`) and why it ended.

    Counts, traces and weights are empty: they lived in the dead process.
    """
    result = unbuilt_result(project, status, message, 0.0)
    ids = list(result.node_info["node"])
    known = spikes[spikes["population"].astype(object).isin(ids)]
    salvaged = pd.DataFrame({
        "time_ms": known["time_ms"].to_numpy(np.float64),
        "population": pd.Categorical(known["population"].astype(object), categories=ids),
        "neuron": known["neuron"].to_numpy(np.int32)})
    last = float(salvaged["time_ms"].max()) + result.dt_ms if len(salvaged) else 0.0
    duration = min(max(float(t_ms), last), result.requested_ms)
    return dataclasses.replace(result, spikes=salvaged, duration_ms=duration)


def unbuilt_result(project: Project, status: str, message: str,
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



def network_info(c: CompiledNetwork) -> pd.DataFrame:
    """One row per projection: its nodes, synapse count, receptor, plasticity."""
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


class ResultAssembly:
    """Collecting a :class:`engine.core.simulation.Simulation`'s recordings into a
    :class:`SimulationResult` (a mixin: it reads the run's state arrays)."""

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
            network_info=network_info(c),
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
