"""Energy model: operation counts of a run x per-operation energies of a hardware profile.

The simulator counts what happens per node per time bin (``SimulationResult.counts``, see
``docs/architecture.md``). This module prices those counts with a :class:`HardwareProfile`
(a set of sourced per-operation energies, shipped in ``engine/data/hardware_profiles.json``),
adds static power integrated over time, and compares the SNN with a dense ANN of the same
architecture the way the literature does, plus a memory-inclusive comparison.

Every formula is written out in ``docs/energy.md``. The functions here are pure: DataFrames
and dataclasses in, DataFrames and dataclasses out; no Panel, no Bokeh, no I/O except
:func:`load_profiles` reading the package data.

A figure whose value is ``null`` is either *included in* another figure (``included_in``
names it: e.g. TrueNorth's whole-chip per-event energy contains its neuron updates) or
*unknown*. Either way it is priced at 0 J; unknown figures that meet a non-zero count are
reported by :func:`unpriced_operations` so the UI can say "not counted" instead of implying
the operation is free.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from importlib import resources
from typing import Any, Literal

import numpy as np
import pandas as pd

from engine.errors import Problem, ProjectError
from engine.models import CURRENT_ENCODERS
from engine.validation import ID_RE as _ID_RE

PROFILES_FORMAT = "spikestudio-hardware-profiles"
PROFILES_VERSION = 1
PROFILE_KINDS = ("neuromorphic", "dense")

#: Per-operation figures (joules) in display order, with what each prices.
ENERGY_FIGURES: dict[str, str] = {
    "synaptic_op": "one synaptic event (a spike delivered over one synapse)",
    "neuron_update_active": "one update of a neuron that received input or spiked",
    "neuron_update_idle": "one update of a neuron with no input",
    "plasticity_update": "one weight change evaluated by a plasticity rule",
    "spike_out": "routing one emitted spike",
    "weight_read": "reading the weight from memory for one synaptic event",
    "mac": "one multiply-accumulate of a dense layer",
    "ac": "one accumulate (the literature's E_AC for SNN synaptic events)",
    "mac_memory": "memory access (weight read) per dense MAC",
}
#: Power figures (watts).
POWER_FIGURES: dict[str, str] = {
    "static_power_w": "static (leakage / idle) power of the chip",
}
FIGURE_NAMES: tuple[str, ...] = (*ENERGY_FIGURES, *POWER_FIGURES)
#: Tags a figure may carry; the UI shows them as badges next to the value.
FIGURE_FLAGS = ("secondary", "pre-silicon", "system-level", "chip-level", "derived",
                "assumption", "user-edited")
# Sanity bounds that catch unit slips (pJ typed as J) without judging real hardware.
_MAX_ENERGY_J = 1e-3
_MAX_POWER_W = 1e4
_PROFILE_KEYS = {"name", "kind", "description", *FIGURE_NAMES}
_FIGURE_KEYS = {"value", "source", "note", "flags", "included_in"}

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


# ============================================================================ profiles
@dataclass(frozen=True)
class Figure:
    """One sourced figure of a hardware profile.

    Parameters
    ----------
    value
        Joules per operation (watts for ``static_power_w``), or ``None`` when the profile
        has no figure of its own.
    source
        Citation; required when ``value`` is set.
    note
        What the figure is and how far to trust it ("secondary source", "pre-silicon
        figure", ...); required when ``value`` is ``None`` (say why it is missing).
    flags
        Tags from :data:`FIGURE_FLAGS`.
    included_in
        For a ``None`` value: the figure of the same profile that already contains this cost.
    """

    value: float | None
    source: str = ""
    note: str = ""
    flags: tuple[str, ...] = ()
    included_in: str | None = None

    @property
    def priced(self) -> float:
        """The value used in sums: ``None`` counts as 0 (see :func:`unpriced_operations`)."""
        return 0.0 if self.value is None else float(self.value)

    @property
    def unknown(self) -> bool:
        """True when the figure is missing and not folded into another one."""
        return self.value is None and self.included_in is None

    def to_dict(self) -> dict[str, Any]:
        item: dict[str, Any] = {"value": self.value, "source": self.source, "note": self.note}
        if self.flags:
            item["flags"] = list(self.flags)
        if self.included_in is not None:
            item["included_in"] = self.included_in
        return item


@dataclass(frozen=True)
class HardwareProfile:
    """Per-operation energies and static power of one platform.

    Build with :func:`profile_from_dict` (validates) or take one from :func:`load_profiles`.
    ``figures`` holds every name of :data:`FIGURE_NAMES`; treat it as read-only and use
    :func:`edit_profile` to change a value.
    """

    id: str
    name: str
    kind: Literal["neuromorphic", "dense"]
    figures: Mapping[str, Figure]
    description: str = ""

    def energy(self, name: str) -> float:
        """Priced value of figure ``name`` (J, or W for ``static_power_w``; ``None`` -> 0)."""
        return self.figures[name].priced

    def unknown_figures(self) -> list[str]:
        """Figures this profile lacks (``None`` and not included in another figure)."""
        return [n for n in FIGURE_NAMES if self.figures[n].unknown]

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (without the id, which is the key in a profiles document)."""
        item: dict[str, Any] = {"name": self.name, "kind": self.kind}
        if self.description:
            item["description"] = self.description
        item.update({n: self.figures[n].to_dict() for n in FIGURE_NAMES})
        return item


def profile_from_dict(data: Any, profile_id: str, path: str = "profiles") -> HardwareProfile:
    """Validate a profile's JSON form and build a :class:`HardwareProfile`.

    Parameters
    ----------
    data
        The profile object (as in ``hardware_profiles.json`` under ``profiles.<id>``).
    profile_id
        Its id (the key it is stored under).
    path
        Field path of the profiles mapping, used in error messages.

    Raises
    ------
    ProjectError
        Listing every problem with its field path, e.g.
        ``profiles.loihi.synaptic_op: must be >= 0 J, got -1``.
    """
    problems = validate_profile(data, profile_id, path)
    if problems:
        raise ProjectError(problems)
    figures = {n: _figure_from_dict(data[n]) for n in FIGURE_NAMES}
    return HardwareProfile(id=profile_id, name=data["name"], kind=data["kind"],
                           figures=figures, description=data.get("description", ""))


def _figure_from_dict(item: Mapping[str, Any]) -> Figure:
    value = item["value"]
    return Figure(value=None if value is None else float(value), source=item["source"],
                  note=item["note"], flags=tuple(item.get("flags", ())),
                  included_in=item.get("included_in"))


def validate_profile(data: Any, profile_id: str, path: str = "profiles") -> list[Problem]:
    """Every problem of one profile's JSON form, each naming its field path."""
    here = f"{path}.{profile_id}" if path else str(profile_id)
    problems: list[Problem] = []
    if not isinstance(profile_id, str) or not _ID_RE.match(profile_id):
        problems.append(Problem(here, "id must start with a letter or _ and hold only "
                                      "letters, digits, _ and - (at most 64)"))
    if not isinstance(data, dict):
        return [*problems, Problem(here, f"must be an object, got {_type_name(data)}")]
    for key in sorted(set(data) - _PROFILE_KEYS, key=str):
        problems.append(Problem(f"{here}.{key}", "unknown key (allowed: "
                                f"{', '.join(sorted(_PROFILE_KEYS))})"))
    for key in ("name", "kind", *FIGURE_NAMES):
        if key not in data:
            hint = " (use {\"value\": null, \"note\": \"why\"} for a missing figure)" \
                if key in FIGURE_NAMES else ""
            problems.append(Problem(f"{here}.{key}", f"is required{hint}"))
    if "name" in data and (not isinstance(data["name"], str) or not data["name"].strip()):
        problems.append(Problem(f"{here}.name", "must be a non-empty string"))
    if "description" in data and not isinstance(data["description"], str):
        problems.append(Problem(f"{here}.description", "must be a string"))
    if "kind" in data and data["kind"] not in PROFILE_KINDS:
        problems.append(Problem(f"{here}.kind", f"must be one of {', '.join(PROFILE_KINDS)}; "
                                                f"got {data['kind']!r}"))
    for name in FIGURE_NAMES:
        if name in data:
            problems.extend(_validate_figure(data[name], name, data, f"{here}.{name}"))
    if data.get("kind") == "dense":
        problems.extend(_check_dense(data, here))
    return problems


def _validate_figure(item: Any, name: str, profile: dict, path: str) -> list[Problem]:
    if not isinstance(item, dict):
        return [Problem(path, "must be an object {\"value\", \"source\", \"note\"}, got "
                              f"{_type_name(item)}")]
    problems = [Problem(f"{path}.{k}", f"unknown key (allowed: {', '.join(sorted(_FIGURE_KEYS))})")
                for k in sorted(set(item) - _FIGURE_KEYS, key=str)]
    problems += [Problem(f"{path}.{k}", "is required")
                 for k in ("value", "source", "note") if k not in item]
    for key in ("source", "note"):
        if key in item and not isinstance(item[key], str):
            problems.append(Problem(f"{path}.{key}", "must be a string"))
    value = item.get("value")
    message = _check_value(value, name)
    if message:
        # The value's problem is reported at the figure's own path: it is what users edit.
        problems.append(Problem(path, message))
    elif value is not None and not str(item.get("source", "")).strip():
        problems.append(Problem(f"{path}.source", "is required for a figure with a value "
                                                  "(never present an unsourced number)"))
    if value is None and "value" in item and not str(item.get("note", "")).strip():
        problems.append(Problem(f"{path}.note", "must say why the figure is missing"))
    problems += _check_flags(item.get("flags", []), f"{path}.flags")
    problems += _check_included_in(item, name, profile, path)
    return problems


def _check_value(value: Any, name: str) -> str | None:
    if value is None:
        return None
    unit, bound = ("W", _MAX_POWER_W) if name in POWER_FIGURES else ("J", _MAX_ENERGY_J)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"must be a number in {unit} or null, got {value!r}"
    if not math.isfinite(value):
        return f"must be a finite number, got {value!r}"
    if value < 0:
        return f"must be >= 0 {unit}, got {value:g}"
    if value > bound:
        return (f"must be <= {bound:g} {unit}, got {value:g} (values are in {unit}: "
                f"23.6 pJ is 2.36e-11)")
    return None


def _check_flags(flags: Any, path: str) -> list[Problem]:
    if not isinstance(flags, list):
        return [Problem(path, f"must be a list, got {_type_name(flags)}")]
    return [Problem(f"{path}[{i}]", f"must be one of {', '.join(FIGURE_FLAGS)}; got {f!r}")
            for i, f in enumerate(flags) if f not in FIGURE_FLAGS]


def _check_included_in(item: dict, name: str, profile: dict, path: str) -> list[Problem]:
    target = item.get("included_in")
    if target is None:
        return []
    where = f"{path}.included_in"
    if item.get("value") is not None:
        return [Problem(where, "only a figure without a value can be included in another")]
    if target == name or target not in FIGURE_NAMES:
        others = ", ".join(n for n in FIGURE_NAMES if n != name)
        return [Problem(where, f"must name another figure ({others}); got {target!r}")]
    other = profile.get(target)
    if not isinstance(other, dict) or other.get("value") is None:
        return [Problem(where, f"names {target!r}, which has no value to include it in")]
    return []


def _check_dense(data: dict, here: str) -> list[Problem]:
    # The ANN baseline needs both; a dense profile without them cannot serve as one.
    problems = []
    for name in ("mac", "ac"):
        item = data.get(name)
        if isinstance(item, dict) and item.get("value") is None:
            problems.append(Problem(f"{here}.{name}", "a dense profile needs a value (the "
                                                      "ANN baseline uses it)"))
    return problems


def _type_name(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean",
            type(None): "null"}.get(type(value), type(value).__name__)


def profiles_from_document(document: Any, path: str = "") -> dict[str, HardwareProfile]:
    """Validate a profiles document ``{"format", "version", "profiles": {id: {...}}}``.

    Also accepts the bare ``{"profiles": {...}}`` section a project stores. Raises
    :class:`~engine.errors.ProjectError` listing every problem of every profile.
    """
    base = f"{path}.profiles" if path else "profiles"
    if not isinstance(document, dict) or not isinstance(document.get("profiles"), dict):
        raise ProjectError([Problem(base, "must be an object mapping profile ids to profiles")])
    problems: list[Problem] = []
    if "format" in document and document["format"] != PROFILES_FORMAT:
        problems.append(Problem(_join(path, "format"), f"must be {PROFILES_FORMAT!r}"))
    if "version" in document and document["version"] != PROFILES_VERSION:
        problems.append(Problem(_join(path, "version"), f"must be {PROFILES_VERSION}"))
    for pid, data in document["profiles"].items():
        problems.extend(validate_profile(data, pid, base))
    if problems:
        raise ProjectError(problems)
    return {pid: profile_from_dict(data, pid, base)
            for pid, data in document["profiles"].items()}


def profiles_to_document(profiles: Iterable[HardwareProfile]) -> dict[str, Any]:
    """The JSON document of ``profiles`` (what a project saves; inverse of the loader)."""
    return {"format": PROFILES_FORMAT, "version": PROFILES_VERSION,
            "profiles": {p.id: p.to_dict() for p in profiles}}


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def load_profiles() -> dict[str, HardwareProfile]:
    """The built-in profiles from ``engine/data/hardware_profiles.json``, by id."""
    text = resources.files("engine").joinpath("data/hardware_profiles.json").read_text("utf-8")
    return profiles_from_document(json.loads(text))


def clone_profile(profile: HardwareProfile, new_id: str, name: str | None = None
                  ) -> HardwareProfile:
    """A copy under a new id (and name), for users to edit and save with their project."""
    clone = replace(profile, id=new_id, name=name or f"{profile.name} (copy)",
                    figures=dict(profile.figures))
    return _revalidated(clone)


def edit_profile(profile: HardwareProfile, figure: str, value: float | None, *,
                 source: str, note: str = "", included_in: str | None = None
                 ) -> HardwareProfile:
    """A copy of ``profile`` with one figure replaced, tagged ``user-edited``.

    A source is required (use e.g. "own measurement, 2025-01-10" or "guess"): the model never
    shows an unsourced number. Raises :class:`~engine.errors.ProjectError` when invalid.
    """
    if figure not in FIGURE_NAMES:
        raise ProjectError([Problem(f"profiles.{profile.id}.{figure}",
                                    f"unknown figure (one of {', '.join(FIGURE_NAMES)})")])
    figures = dict(profile.figures)
    figures[figure] = Figure(value=value, source=source, note=note, flags=("user-edited",),
                             included_in=included_in)
    return _revalidated(replace(profile, figures=figures))


def _revalidated(profile: HardwareProfile) -> HardwareProfile:
    # Round-trip through the JSON form so edits obey exactly the rules files obey.
    return profile_from_dict(profile.to_dict(), profile.id)


def dense_profiles(profiles: Mapping[str, HardwareProfile]) -> dict[str, HardwareProfile]:
    """The profiles usable as ANN baselines (``kind == "dense"``)."""
    return {pid: p for pid, p in profiles.items() if p.kind == "dense"}


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
        ``neuron_active_j = active_updates * E_neuron_update_active``;
        ``neuron_idle_j = (neuron_updates - active_updates) * E_neuron_update_idle``;
        ``learning_j = plasticity_updates * E_plasticity_update``;
        ``routing_j = spikes * E_spike_out``;
        ``memory_j = syn_events * E_weight_read`` (0 unless ``weight_reads``);
        ``event_driven_j`` = synaptic + neuron_active + learning + routing + memory (zero
        when nothing happens: "no input, no power");
        ``dynamic_j = event_driven_j + neuron_idle_j``;
        ``static_j = P_static * bin duration * share of the node``;
        ``total_j = dynamic_j + static_j``.
    """
    if bin_ms <= 0:
        raise ValueError(f"bin_ms must be > 0, got {bin_ms}")
    check_counts(counts)
    frame = _complete_grid(counts, bin_ms, duration_ms)
    _price_operations(frame, profile, weight_reads)
    seconds = _bin_seconds(frame["bin_start_ms"].to_numpy(float), bin_ms, duration_ms)
    share = _static_shares(frame, static_split)
    frame["static_j"] = profile.energy("static_power_w") * seconds * share
    frame["total_j"] = frame["dynamic_j"] + frame["static_j"]
    return frame[[*COUNT_COLUMNS[:4], *ENERGY_COLUMNS]]


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
    ops = ["spikes", "neuron_updates", "active_updates", "syn_events", "plasticity_updates"]
    summed = (counts.assign(bin=index, node=counts["node"].astype(str))
              .groupby(["bin", "node"], sort=False)[ops].sum())
    frame = summed.reindex(grid, fill_value=0).reset_index()
    frame = frame.merge(nodes, on="node", how="left")
    frame["bin_start_ms"] = frame["bin"] * bin_ms
    return frame.drop(columns="bin")


def _price_operations(frame: pd.DataFrame, profile: HardwareProfile, weight_reads: bool
                      ) -> None:
    e = profile.energy
    syn = frame["syn_events"].to_numpy(float)
    active = frame["active_updates"].to_numpy(float)
    idle = frame["neuron_updates"].to_numpy(float) - active
    frame["synaptic_j"] = syn * e("synaptic_op")
    frame["neuron_active_j"] = active * e("neuron_update_active")
    frame["neuron_idle_j"] = idle * e("neuron_update_idle")
    frame["learning_j"] = frame["plasticity_updates"].to_numpy(float) * e("plasticity_update")
    frame["routing_j"] = frame["spikes"].to_numpy(float) * e("spike_out")
    frame["memory_j"] = syn * e("weight_read") if weight_reads else 0.0
    frame["event_driven_j"] = (frame["synaptic_j"] + frame["neuron_active_j"]
                               + frame["learning_j"] + frame["routing_j"] + frame["memory_j"])
    frame["dynamic_j"] = frame["event_driven_j"] + frame["neuron_idle_j"]


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
        "neuron_update_active": int(counts["active_updates"].sum()),
        "neuron_update_idle": int((counts["neuron_updates"] - counts["active_updates"]).sum()),
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
                       energies=_ann_energies(dense_macs, chosen))


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


def _ann_energies(dense_macs: float, profiles: Mapping[str, HardwareProfile]) -> pd.DataFrame:
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
               dense_connectivity: bool = False) -> SnnAnnComparison:
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
    n = ann.n_inferences if ann.n_inferences > 0 else 1.0
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
        snn_profile=snn_profile.id, ann_profile=ann_profile.id, n_inferences=ann.n_inferences,
        synaptic_operations=acs + macs, effective_acs=acs, effective_macs=macs,
        dense_macs=ann.dense_macs, activation_sparsity=activation_sparsity(counts),
        snn_literature_j=snn_lit, ann_literature_j=ann_lit,
        ratio_literature=_ratio(snn_lit, ann_lit), snn_memory_j=snn_mem, ann_memory_j=ann_mem,
        ratio_memory=_ratio(snn_mem, ann_mem), unpriced=unpriced_operations(counts, snn_profile))


def _ratio(a: float, b: float) -> float:
    return a / b if b > 0 else float("nan")


# ============================================================================ convenience
def energy_of_result(result: Any, profile: HardwareProfile, **kwargs: Any) -> pd.DataFrame:
    """:func:`energy_breakdown` of a ``SimulationResult`` (uses its ``counts``, ``bin_ms``
    and ``duration_ms``)."""
    return energy_breakdown(result.counts, profile, result.bin_ms, result.duration_ms,
                            **kwargs)
