"""Hardware profiles: sourced per-operation energies as data, with their own validation.

A :class:`HardwareProfile` is a set of :class:`Figure` values (joules per operation, watts of
static power), each with its source. This module checks, (de)serialises, loads (the package
data ``engine/data/hardware_profiles.json``), clones and edits them; it imports neither pandas
nor the simulator, so the project format can validate its ``energy`` section on its own.
Pricing a run with a profile is :mod:`engine.energy.model`, which re-exports every name here.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from importlib import resources
from typing import Any, Literal

from engine.errors import Problem, ProjectError
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
_PROFILE_KEYS = {"name", "kind", "description", "time_step_ms", *FIGURE_NAMES}
_FIGURE_KEYS = {"value", "source", "note", "flags", "included_in"}
_TIME_STEP_KEYS = {"value", "source", "note", "flags"}
#: ``time_step_ms.value`` of an asynchronous chip: neurons update only on events.
EVENT_DRIVEN = "event-driven"
_MAX_TIME_STEP_MS = 1e4
#: How idle neuron updates are counted, by the kind of ``time_step_ms`` value.
IDLE_BASES = ("hardware step", "simulation step", "event-driven")


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
class TimeStep:
    """How often the hardware updates every neuron, with its source.

    Parameters
    ----------
    value
        The hardware time step in ms (a clocked chip updates every neuron once per step, so
        idle updates are counted per hardware step); ``None``: every simulation step (a
        GPU/CPU simulator, and the default of profiles saved before this field existed);
        :data:`EVENT_DRIVEN`: an asynchronous chip with no idle updates at all.
    source, note, flags
        As for :class:`Figure` (a number or ``"event-driven"`` needs a source).
    """

    value: float | str | None = None
    source: str = ""
    note: str = ("not given: idle neuron updates are counted at every simulation step (the "
                 "behaviour of profiles saved before hardware time steps existed)")
    flags: tuple[str, ...] = ()

    @property
    def idle_basis(self) -> str:
        """One of :data:`IDLE_BASES`: what one idle neuron update is counted per."""
        if self.value == EVENT_DRIVEN:
            return "event-driven"
        return "simulation step" if self.value is None else "hardware step"

    def label(self) -> str:
        """Short text for tables: "per 1 ms hardware step", "per simulation step", ..."""
        if self.idle_basis == "hardware step":
            return f"per {float(self.value):g} ms hardware step"
        if self.idle_basis == "event-driven":
            return "event-driven (no idle updates)"
        return "per simulation step"

    def to_dict(self) -> dict[str, Any]:
        item: dict[str, Any] = {"value": self.value, "source": self.source, "note": self.note}
        if self.flags:
            item["flags"] = list(self.flags)
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
    time_step: TimeStep = TimeStep()

    @property
    def time_step_ms(self) -> float | None:
        """The hardware time step in ms, or ``None`` (per simulation step or event-driven)."""
        return float(self.time_step.value) if self.time_step.idle_basis == "hardware step" \
            else None

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
        item["time_step_ms"] = self.time_step.to_dict()
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
    step = data.get("time_step_ms")
    # Profiles saved before the field existed keep their old meaning (per simulation step).
    time_step = TimeStep() if step is None else TimeStep(
        value=step["value"] if step["value"] in (None, EVENT_DRIVEN) else float(step["value"]),
        source=step["source"], note=step["note"], flags=tuple(step.get("flags", ())))
    return HardwareProfile(id=profile_id, name=data["name"], kind=data["kind"],
                           figures=figures, description=data.get("description", ""),
                           time_step=time_step)


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
    if "time_step_ms" in data:
        problems.extend(_validate_time_step(data["time_step_ms"], f"{here}.time_step_ms"))
    if data.get("kind") == "dense":
        problems.extend(_check_dense(data, here))
    return problems


def _sourced_object(item: Any, path: str, allowed: set[str]) -> list[Problem] | None:
    """Shape problems of a ``{"value", "source", "note", ...}`` object (None: not an object)."""
    if not isinstance(item, dict):
        return None
    problems = [Problem(f"{path}.{k}", f"unknown key (allowed: {', '.join(sorted(allowed))})")
                for k in sorted(set(item) - allowed, key=str)]
    problems += [Problem(f"{path}.{k}", "is required")
                 for k in ("value", "source", "note") if k not in item]
    for key in ("source", "note"):
        if key in item and not isinstance(item[key], str):
            problems.append(Problem(f"{path}.{key}", "must be a string"))
    return problems


def _not_an_object(item: Any, path: str) -> list[Problem]:
    return [Problem(path, "must be an object {\"value\", \"source\", \"note\"}, got "
                          f"{_type_name(item)}")]


def _validate_figure(item: Any, name: str, profile: dict, path: str) -> list[Problem]:
    problems = _sourced_object(item, path, _FIGURE_KEYS)
    if problems is None:
        return _not_an_object(item, path)
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


def _validate_time_step(item: Any, path: str) -> list[Problem]:
    problems = _sourced_object(item, path, _TIME_STEP_KEYS)
    if problems is None:
        return _not_an_object(item, path)
    value = item.get("value")
    if value is None or value == EVENT_DRIVEN:
        pass
    elif isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not math.isfinite(value) or not 0 < value <= _MAX_TIME_STEP_MS:
        problems.append(Problem(path, f"must be a time step in ms (> 0, <= "
                                      f"{_MAX_TIME_STEP_MS:g}), null (every simulation step) "
                                      f"or {EVENT_DRIVEN!r}; got {value!r}"))
    if value is not None and "value" in item and not str(item.get("source", "")).strip():
        problems.append(Problem(f"{path}.source", "is required for a time step with a value"))
    if value is None and "value" in item and not str(item.get("note", "")).strip():
        problems.append(Problem(f"{path}.note", "must say why idle updates are counted per "
                                                "simulation step"))
    return problems + _check_flags(item.get("flags", []), f"{path}.flags")


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
    return dict(_builtin_profiles())


@functools.cache
def _builtin_profiles() -> dict[str, HardwareProfile]:
    # Read and validated once per process: a batch prices every run on them (about 20 ms
    # each time). The profiles are frozen; callers get their own dict.
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


#: The note a user-set "every simulation step" time step gets when none is given.
PER_SIMULATION_STEP_NOTE = ("set by the user: idle neuron updates are counted at every "
                            "simulation step (a GPU/CPU simulator's schedule)")


def edit_time_step(profile: HardwareProfile, value: float | str | None, *, source: str = "",
                   note: str = "") -> HardwareProfile:
    """A copy of ``profile`` with its hardware time step replaced, tagged ``user-edited``.

    Parameters
    ----------
    value
        The step in ms (a clocked chip updates every neuron once per step: idle updates are
        priced per hardware step), ``None`` (every simulation step) or :data:`EVENT_DRIVEN`
        (no idle updates).
    source
        Required for a number or ``"event-driven"`` (never an unsourced figure).
    note
        Optional; ``None`` gets :data:`PER_SIMULATION_STEP_NOTE`.

    Raises
    ------
    ProjectError
        Naming ``profiles.<id>.time_step_ms`` (or its ``.source``) when invalid.
    """
    if value is None and not note.strip():
        note = PER_SIMULATION_STEP_NOTE
    step = TimeStep(value=value, source=source, note=note, flags=("user-edited",))
    return _revalidated(replace(profile, time_step=step))


def _revalidated(profile: HardwareProfile) -> HardwareProfile:
    # Round-trip through the JSON form so edits obey exactly the rules files obey.
    return profile_from_dict(profile.to_dict(), profile.id)


def dense_profiles(profiles: Mapping[str, HardwareProfile]) -> dict[str, HardwareProfile]:
    """The profiles usable as ANN baselines (``kind == "dense"``)."""
    return {pid: p for pid, p in profiles.items() if p.kind == "dense"}


def hardware_steps(energy_section: Mapping[str, Any] | None = None) -> tuple[float, ...]:
    """The distinct hardware time steps (ms) of the built-in profiles and a project's own.

    The simulator counts neuron activity per hardware step for each of them (the columns
    named by :func:`hw_columns`), so idle updates can be priced per hardware step.
    ``energy_section`` is ``Project.energy`` (already validated).
    """
    profiles = list(load_profiles().values())
    if energy_section and energy_section.get("profiles"):
        profiles += profiles_from_document({"profiles": energy_section["profiles"]},
                                           "energy").values()
    return tuple(sorted({p.time_step_ms for p in profiles if p.time_step_ms is not None}))


def hw_columns(time_step_ms: float) -> tuple[str, str]:
    """Names of the count columns of one hardware step: (updates, active updates).

    ``hw_updates_<T>ms`` is neurons x hardware steps begun in the bin; ``hw_active_<T>ms``
    the (neuron, hardware step) pairs in which the neuron received input or spiked.
    """
    return f"hw_updates_{time_step_ms:g}ms", f"hw_active_{time_step_ms:g}ms"
