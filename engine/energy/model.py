"""Energy model: operation counts of a run x per-operation energies of a hardware profile.

The simulator counts what happens per node per time bin (``SimulationResult.counts``, see
``docs/architecture.md``). This module prices those counts with a :class:`HardwareProfile`
(a set of sourced per-operation energies, shipped in ``engine/data/hardware_profiles.json``),
adds static power integrated over time, and compares the SNN with a dense ANN of the same
architecture the way the literature does, plus a memory-inclusive comparison.

Every formula is written out in ``docs/energy.md``. The functions here are pure: DataFrames
and dataclasses in, DataFrames and dataclasses out; no Panel, no Bokeh, no I/O. The profiles
themselves (data, validation, :func:`load_profiles`) live in :mod:`engine.energy.profiles`
and are re-exported here.

A figure whose value is ``null`` is either *included in* another figure (``included_in``
names it: e.g. TrueNorth's whole-chip per-event energy contains its neuron updates) or
*unknown*. Either way it is priced at 0 J; unknown figures that meet a non-zero count are
reported by :func:`unpriced_operations` so the UI can say "not counted" instead of implying
the operation is free.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from engine.encoders import CURRENT_ENCODERS
from engine.energy.profiles import (  # noqa: F401 - the profile definitions, re-exported
    ENERGY_FIGURES,
    EVENT_DRIVEN,
    FIGURE_FLAGS,
    FIGURE_NAMES,
    POWER_FIGURES,
    PROFILE_KINDS,
    PROFILES_FORMAT,
    PROFILES_VERSION,
    Figure,
    HardwareProfile,
    TimeStep,
    clone_profile,
    dense_profiles,
    edit_profile,
    edit_time_step,
    hw_columns,
    load_profiles,
    profile_from_dict,
    profiles_from_document,
    profiles_to_document,
    validate_profile,
)

COUNT_COLUMNS = ("bin_start_ms", "node", "kind", "size", "spikes", "neuron_updates",
                 "active_updates", "syn_events", "plasticity_updates")
ENERGY_COLUMNS = ("synaptic_j", "neuron_active_j", "neuron_idle_j", "learning_j",
                  "routing_j", "memory_j", "event_driven_j", "dynamic_j", "static_j",
                  "total_j")
# Which count each priced figure multiplies (for unpriced_operations).
_FIGURE_COUNTS = {
    "synaptic_op": "syn_events",
    "plasticity_update": "plasticity_updates",
    "spike_out": "spikes",
    "weight_read": "syn_events",
}


# ============================================================================ SNN energy
def check_counts(counts: pd.DataFrame) -> None:
    """Raise ``ValueError`` unless ``counts`` follows the contract of ``docs/architecture.md``."""
    missing = [c for c in COUNT_COLUMNS if c not in counts.columns]
    if missing:
        raise ValueError(f"counts lacks column(s) {', '.join(missing)}; expected "
                         f"{', '.join(COUNT_COLUMNS)}")
    ops = counts[["spikes", "neuron_updates", "active_updates", "syn_events",
                  "plasticity_updates"]]
    if len(ops) and (ops.to_numpy() < 0).any():
        raise ValueError("counts must be >= 0")
    if (counts["active_updates"] > counts["neuron_updates"]).any():
        raise ValueError("active_updates exceeds neuron_updates in some rows")
    for updates in (c for c in counts.columns if str(c).startswith("hw_updates_")):
        active = updates.replace("hw_updates_", "hw_active_", 1)
        if active not in counts.columns:
            raise ValueError(f"counts has {updates} but not {active}")
        if (counts[[updates, active]].to_numpy() < 0).any():
            raise ValueError(f"{updates} and {active} must be >= 0")
        if (counts[active] > counts[updates]).any():
            raise ValueError(f"{active} exceeds {updates} in some rows")


def _hw_count_columns(counts: pd.DataFrame) -> list[str]:
    return [c for c in counts.columns if str(c).startswith(("hw_updates_", "hw_active_"))]


def idle_basis(profile: HardwareProfile, counts: pd.DataFrame) -> str:
    """What the profile's idle neuron updates are counted per, in this run, as UI text.

    ``"per 1 ms hardware step"``, ``"per simulation step"``, ``"event-driven (no idle
    updates)"``, or, for a hardware step the run did not count (a profile added or edited
    after the run), ``"per simulation step (2 ms hardware steps not counted in this run)"``.
    """
    step = profile.time_step
    if step.idle_basis == "hardware step" and hw_columns(step.value)[0] not in counts.columns:
        return f"per simulation step ({float(step.value):g} ms hardware steps not counted " \
               f"in this run)"
    return step.label()


def neuron_update_counts(counts: pd.DataFrame | Mapping[str, np.ndarray], profile: HardwareProfile
                         ) -> tuple[np.ndarray, np.ndarray]:
    """Active and idle neuron updates per row of ``counts`` as the profile's hardware does them.

    - hardware step ``T`` (a clocked chip updates every neuron once per step): active =
      ``hw_active_<T>ms`` (the (neuron, step) pairs with input or a spike in that step),
      idle = ``hw_updates_<T>ms - hw_active_<T>ms`` (neurons x hardware steps minus those);
    - event-driven: active = ``active_updates`` (simulation steps with input), idle = 0 (an
      asynchronous chip updates a neuron only on an event);
    - per simulation step (or a hardware step this run did not count, see
      :func:`idle_basis`): active = ``active_updates``, idle = ``neuron_updates -
      active_updates``.
    """
    # ``counts`` may also be a mapping of column -> array (run_energy_totals: no pandas
    # indexing per profile); ``in`` looks at a DataFrame's columns too.
    step = profile.time_step
    active = np.asarray(counts["active_updates"], dtype=float)
    if step.idle_basis == "event-driven":
        return active, np.zeros(len(active))
    if step.idle_basis == "hardware step":
        updates, hw_active = hw_columns(step.value)
        if updates in counts:
            active = np.asarray(counts[hw_active], dtype=float)
            return active, np.asarray(counts[updates], dtype=float) - active
    return active, np.asarray(counts["neuron_updates"], dtype=float) - active


def energy_breakdown(counts: pd.DataFrame, profile: HardwareProfile, bin_ms: float,
                     duration_ms: float | None = None, *, weight_reads: bool = True,
                     static_split: Literal["neurons", "nodes"] = "neurons") -> pd.DataFrame:
    """Energy per node per time bin, split by cause.

    Parameters
    ----------
    counts
        ``SimulationResult.counts`` (columns :data:`COUNT_COLUMNS`).
    profile
        Hardware profile pricing the operations.
    bin_ms
        Width of the count bins (``SimulationResult.bin_ms``).
    duration_ms
        Simulated time. When given, the last bin is clipped to it (a stopped run ends
        mid-bin) and bins missing from ``counts`` are filled with zero counts, so static
        energy covers the whole run. When ``None``, the bins present in ``counts`` are used,
        each ``bin_ms`` wide.
    weight_reads
        Price one weight read per synaptic event (``weight_read`` figure).
    static_split
        How static power is attributed to nodes: ``"neurons"`` (by population size; encoders
        get none because their input arrives from off-chip) or ``"nodes"`` (equal shares).

    Returns
    -------
    DataFrame
        ``bin_start_ms, node, kind, size`` followed by :data:`ENERGY_COLUMNS` (joules):
        ``synaptic_j = syn_events * E_synaptic_op``;
        ``neuron_active_j = active updates * E_neuron_update_active``;
        ``neuron_idle_j = idle updates * E_neuron_update_idle``, both counted per the
        profile's ``time_step_ms`` (:func:`neuron_update_counts`: per hardware step, per
        simulation step, or no idle updates on an event-driven chip);
        ``learning_j = plasticity_updates * E_plasticity_update``;
        ``routing_j = spikes * E_spike_out``;
        ``memory_j = syn_events * E_weight_read`` (0 unless ``weight_reads``);
        ``event_driven_j`` = synaptic + neuron_active + learning + routing + memory (zero
        when nothing happens: "no input, no power");
        ``dynamic_j = event_driven_j + neuron_idle_j``;
        ``static_j = P_static * bin duration * share of the node``;
        ``total_j = dynamic_j + static_j``.
    """
    return energy_breakdowns(counts, {"": profile}, bin_ms, duration_ms,
                             weight_reads=weight_reads, static_split=static_split)[""]


def energy_breakdowns(counts: pd.DataFrame, profiles: Mapping[str, HardwareProfile],
                      bin_ms: float, duration_ms: float | None = None, *,
                      weight_reads: bool = True,
                      static_split: Literal["neurons", "nodes"] = "neurons"
                      ) -> dict[str, pd.DataFrame]:
    """:func:`energy_breakdown` of one run for several profiles at once.

    The checks, the (bin, node) grid and the static shares do not depend on the profile, so
    they are computed once; each profile then only prices the operations (the same
    arithmetic as :func:`energy_breakdown`, so the figures are identical).

    Parameters
    ----------
    counts, bin_ms, duration_ms, weight_reads, static_split
        As for :func:`energy_breakdown`.
    profiles
        Key (e.g. profile id) -> hardware profile.

    Returns
    -------
    dict
        Key -> that profile's breakdown (the columns of :func:`energy_breakdown`).
    """
    if bin_ms <= 0:
        raise ValueError(f"bin_ms must be > 0, got {bin_ms}")
    check_counts(counts)
    grid = _complete_grid(counts, bin_ms, duration_ms)
    seconds = _bin_seconds(grid["bin_start_ms"].to_numpy(float), bin_ms, duration_ms)
    share = _static_shares(grid, static_split)
    breakdowns = {}
    for key, profile in profiles.items():
        frame = grid.copy()
        _price_operations(frame, profile, weight_reads)
        frame["static_j"] = profile.energy("static_power_w") * seconds * share
        frame["total_j"] = frame["dynamic_j"] + frame["static_j"]
        breakdowns[key] = frame[[*COUNT_COLUMNS[:4], *ENERGY_COLUMNS]]
    return breakdowns


def _complete_grid(counts: pd.DataFrame, bin_ms: float, duration_ms: float | None
                   ) -> pd.DataFrame:
    """One row per (bin, node), zero counts where ``counts`` has none.

    Static power flows in silent bins too, so a simulator that skipped empty rows must not
    make the silent part of a run free.
    """
    nodes = counts.drop_duplicates("node")[["node", "kind", "size"]]
    nodes = nodes.assign(node=nodes["node"].astype(str))
    index = np.rint(counts["bin_start_ms"].to_numpy(float) / bin_ms).astype(np.int64)
    if duration_ms is not None:
        n_bins = max(int(math.ceil(duration_ms / bin_ms - 1e-9)), 0)
        bins = np.arange(n_bins, dtype=np.int64)
    else:
        bins = np.unique(index)
    grid = pd.MultiIndex.from_product([bins, nodes["node"]], names=["bin", "node"])
    ops = ["spikes", "neuron_updates", "active_updates", "syn_events", "plasticity_updates",
           *_hw_count_columns(counts)]
    summed = (counts.assign(bin=index, node=counts["node"].astype(str))
              .groupby(["bin", "node"], sort=False)[ops].sum())
    frame = summed.reindex(grid, fill_value=0).reset_index()
    frame = frame.merge(nodes, on="node", how="left")
    frame["bin_start_ms"] = frame["bin"] * bin_ms
    return frame.drop(columns="bin")


def _price_operations(frame: pd.DataFrame, profile: HardwareProfile, weight_reads: bool
                      ) -> None:
    active, idle = neuron_update_counts(frame, profile)
    priced = _operation_energies(frame["syn_events"].to_numpy(float), active, idle,
                                 frame["plasticity_updates"].to_numpy(float),
                                 frame["spikes"].to_numpy(float), profile, weight_reads)
    for column, values in priced.items():
        frame[column] = values


def _operation_energies(syn: np.ndarray, active: np.ndarray, idle: np.ndarray,
                        plasticity: np.ndarray, spikes: np.ndarray, profile: HardwareProfile,
                        weight_reads: bool) -> dict[str, np.ndarray]:
    """The dynamic energy columns of :func:`energy_breakdown` from the operation counts (one
    array element per row), in column order."""
    e = profile.energy
    out = {"synaptic_j": syn * e("synaptic_op"),
           "neuron_active_j": active * e("neuron_update_active"),
           "neuron_idle_j": idle * e("neuron_update_idle"),
           "learning_j": plasticity * e("plasticity_update"),
           "routing_j": spikes * e("spike_out"),
           "memory_j": syn * e("weight_read") if weight_reads else np.zeros(len(syn))}
    out["event_driven_j"] = (out["synaptic_j"] + out["neuron_active_j"] + out["learning_j"]
                             + out["routing_j"] + out["memory_j"])
    out["dynamic_j"] = out["event_driven_j"] + out["neuron_idle_j"]
    return out


def run_energy_totals(counts: pd.DataFrame, profiles: Mapping[str, HardwareProfile],
                      duration_ms: float, *, weight_reads: bool = True,
                      static_split: Literal["neurons", "nodes"] = "neurons"
                      ) -> dict[str, float]:
    """Total energy (J) of a whole run on each profile, without building breakdown frames.

    The same figures as ``energy_totals(energy_breakdowns(whole_run_counts(counts),
    profiles, max(duration_ms, 1e-9), duration_ms))["total_j"]`` (the same arithmetic on
    the same rows; tests/test_energy_totals_fast.py compares them exactly), in a fraction of
    the time: a batch of thousands of small runs spent most of each task building those
    frames with pandas.

    Parameters
    ----------
    counts
        ``SimulationResult.counts``.
    profiles
        Key (e.g. profile id) -> hardware profile.
    duration_ms
        Simulated time.
    weight_reads, static_split
        As for :func:`energy_breakdown`.

    Returns
    -------
    dict
        Key -> joules.
    """
    whole = whole_run_counts(counts)  # one row per node, in order of first appearance
    check_counts(whole)
    span_ms = max(duration_ms, 1e-9)
    if math.ceil(duration_ms / span_ms - 1e-9) < 1:  # no bin at all: nothing was simulated
        return dict.fromkeys(profiles, 0.0)
    whole = whole.assign(node=whole["node"].astype(str))
    seconds = _bin_seconds(np.zeros(len(whole)), span_ms, duration_ms)
    share = _static_shares(whole, static_split)
    columns = {c: whole[c].to_numpy(float) for c in whole.columns
               if c not in ("node", "kind", "size")}
    syn, plasticity, spikes = (columns[c] for c in ("syn_events", "plasticity_updates",
                                                    "spikes"))
    totals = {}
    for key, profile in profiles.items():
        active, idle = neuron_update_counts(columns, profile)
        dynamic = _operation_energies(syn, active, idle, plasticity, spikes, profile,
                                      weight_reads)["dynamic_j"]
        static = profile.energy("static_power_w") * seconds * share
        totals[key] = float(np.sum(dynamic + static))
    return totals


def _bin_seconds(starts_ms: np.ndarray, bin_ms: float, duration_ms: float | None
                 ) -> np.ndarray:
    if duration_ms is None:
        return np.full(starts_ms.shape, bin_ms * 1e-3)
    return np.clip(np.minimum(bin_ms, duration_ms - starts_ms), 0.0, None) * 1e-3


def _static_shares(frame: pd.DataFrame, static_split: str) -> np.ndarray:
    """Fraction of the chip's static power attributed to each row's node (sums to 1 per bin)."""
    nodes = frame.drop_duplicates("node")[["node", "kind", "size"]]
    if static_split == "nodes":
        weights = pd.Series(1.0, index=nodes["node"])
    elif static_split == "neurons":
        # Leakage scales with the silicon in use, i.e. with the neurons (and their synapse
        # memory) mapped to the chip; encoders stand for off-chip input.
        is_pop = nodes["kind"].eq("population").to_numpy()
        sizes = nodes["size"].to_numpy(float)
        weights = pd.Series(np.where(is_pop, sizes, 0.0) if is_pop.any() else sizes,
                            index=nodes["node"])
    else:
        raise ValueError(f"static_split must be 'neurons' or 'nodes', got {static_split!r}")
    total = weights.sum()
    shares = weights / total if total > 0 else weights * 0.0
    return frame["node"].map(shares).to_numpy(float)


def energy_totals(breakdown: pd.DataFrame, by: Literal["node", "bin"] | None = None
                  ) -> pd.Series | pd.DataFrame:
    """Sum an :func:`energy_breakdown` over the whole run, per node or per bin.

    Returns a Series of :data:`ENERGY_COLUMNS` when ``by`` is ``None``, otherwise a
    DataFrame indexed by node (with ``kind`` and ``size``) or by ``bin_start_ms``.
    """
    cols = list(ENERGY_COLUMNS)
    if by is None:
        return breakdown[cols].sum()
    if by == "node":
        meta = breakdown.drop_duplicates("node").set_index("node")[["kind", "size"]]
        return meta.join(breakdown.groupby("node", sort=False)[cols].sum())
    if by == "bin":
        return breakdown.groupby("bin_start_ms")[cols].sum()
    raise ValueError(f"by must be None, 'node' or 'bin', got {by!r}")


def unpriced_operations(counts: pd.DataFrame, profile: HardwareProfile,
                        weight_reads: bool = True) -> dict[str, int]:
    """Operations that happened but that the profile has no figure for.

    Returns ``{figure name: count}`` for each *unknown* figure (``None`` and not included in
    another) whose count in the run is > 0. Their energy is counted as 0, so the UI should
    say "not counted" next to them rather than imply they are free.
    """
    check_counts(counts)
    counts_by_figure = {
        **{f: int(counts[c].sum()) for f, c in _FIGURE_COUNTS.items()},
        **dict(zip(("neuron_update_active", "neuron_update_idle"),
                   (int(a.sum()) for a in neuron_update_counts(counts, profile)), strict=True)),
    }
    if not weight_reads:
        counts_by_figure.pop("weight_read")
    return {f: n for f, n in counts_by_figure.items() if n > 0 and profile.figures[f].unknown}


# ============================================================================ ANN baseline
@dataclass(frozen=True)
class AnnBaseline:
    """The SNN's architecture evaluated as a dense ANN.

    Attributes
    ----------
    layers
        Per projection: ``projection, source, target, recurrent, n_synapses, n_post, fan_in,
        evaluations_per_inference, macs_per_inference``.
    window_ms
        Length of one inference (one presentation window).
    n_inferences
        ``duration_ms / window_ms`` (fractional for a stopped run).
    dense_macs
        MACs per inference (sum of ``macs_per_inference``).
    energies
        Per dense profile: ``profile, e_mac_j, e_mac_memory_j, compute_j, memory_j, total_j``
        for one inference (``compute_j = dense_macs * E_MAC``, ``memory_j = dense_macs *
        E_mac_memory``).
    """

    layers: pd.DataFrame
    window_ms: float
    recurrent_step_ms: float
    n_inferences: float
    dense_macs: float
    energies: pd.DataFrame = field(repr=False)


def recurrent_projections(network_info: pd.DataFrame) -> set[str]:
    """Ids of projections that are part of a cycle of the node graph (self-loops included).

    A projection ``s -> t`` closes a cycle exactly when ``s`` is reachable from ``t``.
    """
    graph: dict[str, set[str]] = {}
    for s, t in zip(network_info["source"].astype(str), network_info["target"].astype(str),
                    strict=True):
        graph.setdefault(s, set()).add(t)
    recurrent = set()
    for pid, s, t in zip(network_info["projection"].astype(str),
                         network_info["source"].astype(str),
                         network_info["target"].astype(str), strict=True):
        if s == t or s in _reachable(graph, t):
            recurrent.add(pid)
    return recurrent


def _reachable(graph: Mapping[str, set[str]], start: str) -> set[str]:
    seen, stack = {start}, [start]
    while stack:
        for nxt in graph.get(stack.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


def ann_baseline(network_info: pd.DataFrame, node_info: pd.DataFrame, duration_ms: float,
                 dt_ms: float, *, window_ms: float | None = None,
                 recurrent_step_ms: float | None = None,
                 profiles: Mapping[str, HardwareProfile] | None = None,
                 dense_connectivity: bool = False) -> AnnBaseline:
    """Dense-equivalent MACs of the network and their energy on the dense profiles.

    Definitions (see ``docs/energy.md``):

    - An *inference* is one presentation window of ``window_ms`` (default: the whole run).
    - A feed-forward projection is evaluated once per inference:
      ``MACs = fan_in x n_post = n_synapses`` (``n_pre x n_post`` with
      ``dense_connectivity``: a dense layer stores the zeros too).
    - A recurrent projection (``source == target`` or part of a cycle) is evaluated once per
      time step of ``recurrent_step_ms`` (default ``dt_ms``): ``window_ms /
      recurrent_step_ms`` times per inference.

    Parameters
    ----------
    network_info, node_info
        ``SimulationResult.network_info`` / ``node_info``.
    duration_ms, dt_ms
        Simulated time and time step of the run.
    profiles
        Profiles to price the MACs with; only ``kind == "dense"`` ones are used (default: the
        built-in dense profiles).
    """
    window = float(window_ms) if window_ms else float(duration_ms)
    step = float(recurrent_step_ms) if recurrent_step_ms else float(dt_ms)
    if window <= 0 or step <= 0:
        raise ValueError("window_ms and recurrent_step_ms must be > 0")
    layers = _ann_layers(network_info, node_info, window / step, dense_connectivity)
    dense_macs = float(layers["macs_per_inference"].sum())
    chosen = dense_profiles(profiles if profiles is not None else load_profiles())
    return AnnBaseline(layers=layers, window_ms=window, recurrent_step_ms=step,
                       n_inferences=float(duration_ms) / window, dense_macs=dense_macs,
                       energies=ann_energies(dense_macs, chosen))


def _ann_layers(network_info: pd.DataFrame, node_info: pd.DataFrame, steps: float,
                dense_connectivity: bool) -> pd.DataFrame:
    recurrent = recurrent_projections(network_info)
    sizes = dict(zip(node_info["node"].astype(str), node_info["size"], strict=True))
    layers = network_info[["projection", "source", "target", "n_synapses"]].copy()
    layers["projection"] = layers["projection"].astype(str)
    layers["recurrent"] = layers["projection"].isin(recurrent)
    layers["n_post"] = [sizes.get(str(t), n) for t, n in
                        zip(network_info["target"], network_info["n_post"], strict=True)]
    if dense_connectivity:
        layers["n_synapses"] = network_info["n_pre"].to_numpy() * layers["n_post"].to_numpy()
    n_post = layers["n_post"].to_numpy(float)
    layers["fan_in"] = np.divide(layers["n_synapses"].to_numpy(float), n_post,
                                 out=np.zeros_like(n_post), where=n_post > 0)
    layers["evaluations_per_inference"] = np.where(layers["recurrent"], steps, 1.0)
    layers["macs_per_inference"] = (layers["n_synapses"].to_numpy(float)
                                    * layers["evaluations_per_inference"])
    return layers.reset_index(drop=True)


def ann_energies(dense_macs: float, profiles: Mapping[str, HardwareProfile]) -> pd.DataFrame:
    """Energy of ``dense_macs`` MACs (one inference of a dense ANN) on each profile.

    Returns
    -------
    pd.DataFrame
        Per profile: ``profile, e_mac_j, e_mac_memory_j``, ``compute_j = dense_macs x
        E_MAC``, ``memory_j = dense_macs x E_mac_memory`` and ``total_j`` (their sum). Pass
        dense profiles (:func:`dense_profiles`): others have no MAC figures.
    """
    rows = []
    for pid, p in profiles.items():
        compute = dense_macs * p.energy("mac")
        memory = dense_macs * p.energy("mac_memory")
        rows.append({"profile": pid, "e_mac_j": p.energy("mac"),
                     "e_mac_memory_j": p.energy("mac_memory"), "compute_j": compute,
                     "memory_j": memory, "total_j": compute + memory})
    return pd.DataFrame(rows, columns=["profile", "e_mac_j", "e_mac_memory_j", "compute_j",
                                       "memory_j", "total_j"])


# ============================================================================ SNN vs ANN
@dataclass(frozen=True)
class SnnAnnComparison:
    """SNN and dense-ANN energy of the same architecture, per inference.

    Metric names follow NeuroBench where they mean the same thing. All counts and energies
    are per inference (the run's totals divided by ``n_inferences``).

    Attributes
    ----------
    synaptic_operations
        ``effective_acs + effective_macs``.
    effective_acs
        Synaptic events driven by spikes (one accumulate each): the literature's "SOPs".
    effective_macs
        Multiply-accumulates on real-valued input (projections from current encoders, every
        time step; an upper bound when the current is zero part of the time).
    dense_macs
        MACs of the dense-equivalent ANN (:func:`ann_baseline`).
    activation_sparsity
        ``1 - spikes / neuron_updates`` over populations (NaN without populations).
    snn_literature_j, ann_literature_j, ratio_literature
        ``effective_acs x E_AC + effective_macs x E_MAC`` vs ``dense_macs x E_MAC``, with the
        dense profile's E_AC and E_MAC (Spikformer / SpikingJelly style).
    snn_memory_j, ann_memory_j, ratio_memory
        Memory-inclusive: the SNN's dynamic energy on ``snn_profile`` (synapses, neuron
        updates active and idle, learning, routing, a weight read per event) plus
        ``effective_macs x (E_MAC + E_mac_memory)``, vs ``dense_macs x (E_MAC +
        E_mac_memory)``. Static energy is left out of both sides.
    unpriced
        Operations of the run the SNN profile has no figure for (see
        :func:`unpriced_operations`).
    """

    snn_profile: str
    ann_profile: str
    n_inferences: float
    synaptic_operations: float
    effective_acs: float
    effective_macs: float
    dense_macs: float
    activation_sparsity: float
    snn_literature_j: float
    ann_literature_j: float
    ratio_literature: float
    snn_memory_j: float
    ann_memory_j: float
    ratio_memory: float
    unpriced: dict[str, int] = field(default_factory=dict)

    def metrics(self) -> dict[str, float]:
        """The NeuroBench-named metrics as a plain dict (for tables)."""
        return {"synaptic_operations": self.synaptic_operations,
                "effective_acs": self.effective_acs, "effective_macs": self.effective_macs,
                "dense_macs": self.dense_macs, "activation_sparsity": self.activation_sparsity}


def activation_sparsity(counts: pd.DataFrame) -> float:
    """NeuroBench activation sparsity: the fraction of neuron outputs that are zero.

    ``1 - sum(spikes) / sum(neuron_updates)`` over population nodes (one output per update).
    """
    pops = counts[counts["kind"] == "population"]
    updates = float(pops["neuron_updates"].sum())
    return 1.0 - float(pops["spikes"].sum()) / updates if updates > 0 else float("nan")


def effective_macs(network_info: pd.DataFrame, node_info: pd.DataFrame, duration_ms: float,
                   dt_ms: float) -> float:
    """MACs on real-valued input over the whole run.

    Projections from current encoders multiply an analogue value by each weight every time
    step; they produce no spikes and hence no synaptic events in ``counts``.
    """
    models = dict(zip(node_info["node"].astype(str), node_info["model"], strict=True))
    current = network_info["source"].astype(str).map(models).isin(set(CURRENT_ENCODERS))
    steps = round(duration_ms / dt_ms)
    return float(network_info.loc[current, "n_synapses"].sum()) * steps


def snn_vs_ann(counts: pd.DataFrame, network_info: pd.DataFrame, node_info: pd.DataFrame,
               duration_ms: float, dt_ms: float, bin_ms: float, *,
               ann_profile: HardwareProfile, snn_profile: HardwareProfile | None = None,
               window_ms: float | None = None, recurrent_step_ms: float | None = None,
               dense_connectivity: bool = False,
               n_inferences: float | None = None) -> SnnAnnComparison:
    """Compare the run's energy with a dense ANN of the same architecture, two ways.

    Parameters
    ----------
    counts, network_info, node_info, duration_ms, dt_ms, bin_ms
        From the ``SimulationResult``.
    ann_profile
        A dense profile: its E_MAC / E_AC / memory-per-MAC price the ANN and the
        literature-style SNN figure.
    snn_profile
        Profile for the memory-inclusive SNN figure (default ``ann_profile``: same process on
        both sides, the fair default).
    window_ms, recurrent_step_ms, dense_connectivity
        As in :func:`ann_baseline`.
    n_inferences
        The inferences the run made, dividing its totals (default ``duration_ms /
        window_ms``, right when inputs fill the run). Pass the samples shown when they end
        before the run does (a dataset whose presentations were shortened but not the
        duration): the silent rest of the run is no inference, so dividing by the windows
        that fit would make the SNN look cheaper per inference than it is.

    Returns
    -------
    SnnAnnComparison
        Ratios are SNN / ANN: below 1 the SNN is estimated to be cheaper (NaN if the ANN
        costs 0).
    """
    if ann_profile.kind != "dense":
        raise ValueError(f"ann_profile must be a dense profile, {ann_profile.id!r} is "
                         f"{ann_profile.kind}")
    snn_profile = snn_profile or ann_profile
    ann = ann_baseline(network_info, node_info, duration_ms, dt_ms, window_ms=window_ms,
                       recurrent_step_ms=recurrent_step_ms, profiles={},
                       dense_connectivity=dense_connectivity)
    if n_inferences is not None and not n_inferences > 0:
        raise ValueError(f"n_inferences must be > 0, got {n_inferences!r}")
    made = ann.n_inferences if n_inferences is None else float(n_inferences)
    n = made if made > 0 else 1.0
    acs = float(counts["syn_events"].sum()) / n
    macs = effective_macs(network_info, node_info, duration_ms, dt_ms) / n
    e_mac, e_ac = ann_profile.energy("mac"), ann_profile.energy("ac")
    e_mem = ann_profile.energy("mac_memory")
    breakdown = energy_breakdown(counts, snn_profile, bin_ms, duration_ms)
    snn_lit = acs * e_ac + macs * e_mac
    ann_lit = ann.dense_macs * e_mac
    snn_mem = float(breakdown["dynamic_j"].sum()) / n + macs * (e_mac + e_mem)
    ann_mem = ann.dense_macs * (e_mac + e_mem)
    return SnnAnnComparison(
        snn_profile=snn_profile.id, ann_profile=ann_profile.id, n_inferences=made,
        synaptic_operations=acs + macs, effective_acs=acs, effective_macs=macs,
        dense_macs=ann.dense_macs, activation_sparsity=activation_sparsity(counts),
        snn_literature_j=snn_lit, ann_literature_j=ann_lit,
        ratio_literature=_ratio(snn_lit, ann_lit), snn_memory_j=snn_mem, ann_memory_j=ann_mem,
        ratio_memory=_ratio(snn_mem, ann_mem), unpriced=unpriced_operations(counts, snn_profile))


def _ratio(a: float, b: float) -> float:
    return a / b if b > 0 else float("nan")


# ============================================================================ convenience
def whole_run_counts(counts: pd.DataFrame) -> pd.DataFrame:
    """The counts of a run summed into one bin per node starting at 0 ms.

    Energy is linear in the counts, and static power in the time: pricing this with
    ``bin_ms`` = the run's duration gives the run's totals much faster than per bin.
    """
    sums = ["spikes", "neuron_updates", "active_updates", "syn_events", "plasticity_updates",
            # per hardware step: without them a clocked chip's idle updates would be
            # counted per simulation step
            *(c for c in counts.columns if str(c).startswith(("hw_updates_", "hw_active_")))]
    whole = (counts.groupby("node", observed=True, sort=False)
             .agg({"kind": "first", "size": "first", **dict.fromkeys(sums, "sum")})
             .reset_index())
    whole.insert(0, "bin_start_ms", 0.0)
    return whole


def energy_of_result(result: Any, profile: HardwareProfile, **kwargs: Any) -> pd.DataFrame:
    """:func:`energy_breakdown` of a ``SimulationResult`` (uses its ``counts``, ``bin_ms``
    and ``duration_ms``)."""
    return energy_breakdown(result.counts, profile, result.bin_ms, result.duration_ms,
                            **kwargs)
