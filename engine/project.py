"""Project files: plain JSON, versioned, validated field by field, saved atomically.

The document (format version 1)::

    {"format": "spikestudio-project", "version": 1, "name": str, "description": str,
     "network": {"nodes": [Node, ...], "projections": [Projection, ...]},
     "simulation": {"duration_ms", "dt_ms", "seed", "count_bin_ms", "record_spikes",
                    "memory_budget_mb", "threads"},
     "layout": {"positions": {node_id: [x, y]}},
     "lab": "markdown lab notes" | {lab with steps},  # engine.labs.lab_file, docs/labs.md
     "energy": {"profiles": {profile_id: {...}}},   # optional: user-edited hardware profiles
     "scenarios": [{...}, ...],                     # optional: user workloads (engine.scenarios)
     "hopfield": {...}}                             # optional: patterns, engine.labs.hopfield

A Node is ``{"id", "kind": "population" | "encoder" | "monitor", "model", "size", "label",
"params"}``; a monitor also has ``"target"`` (the population it records). A Projection is
``{"id", "source", "target", "connectivity": {"rule", ...}, "weight", "delay_ms",
"receptor": "exc" | "inh", "plasticity": null | {"rule", ...}, "record_weights": null |
{"every_ms", "synapses": [[pre, post], ...]}, "label"}``. ``weight`` and ``delay_ms`` are a
number or ``{"dist": "uniform", "low", "high"}`` / ``{"dist": "normal", "mean", "std"}``.
A population's numeric param may also be per neuron: a distribution (also ``"lognormal"``),
a list of ``size`` numbers or ``{"array": KEY}`` of the companion file ``<stem>.arrays.npz``
(:mod:`engine.hetero`, docs/heterogeneous.md); :attr:`Project.arrays` holds those arrays.

Loading parses JSON only (never pickle or eval), runs migrations for older versions, and
reports every problem with its field path in one :class:`~engine.errors.ProjectError`.

Limits (a project file may come from anyone): the whole document first respects the limits
of :mod:`engine.validation` (20 MB, 64 levels of nesting, 1,000,000 values, strings of at
most 100,000 characters, every number finite and at most 1e15 in magnitude), checked without
recursion before anything else. Then:

- at most :data:`MAX_NODES` nodes and :data:`MAX_PROJECTIONS` projections (10,000 each) and
  :data:`MAX_TOTAL_NEURONS` (1e8) neurons in all;
- names and labels of at most 200 characters on one line, a description of at most 10,000
  and lab notes of at most 100,000 characters;
- weights and delays, and every parameter of their distributions, within 1e6 mV / ms;
- at most :data:`~engine.params.MAX_STEPS` (2**31 - 1) time steps per simulation or
  scenario, so step counters fit int32 and steps x neurons fit int64 (1e8 ms, the longest
  duration, is fine at dt >= 0.05 ms);
- parameters without their own maximum within 1e10 ms (times) or 1e12 (anything else).
"""

from __future__ import annotations

import copy
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from engine.connectivity.rules import CONNECTIVITY_RULES
from engine.encoders import CURRENT_ENCODERS, ENCODER_MODELS, SPIKE_ENCODERS
from engine.encoders import encoder as encoder_module
from engine.energy.profiles import profiles_from_document
from engine.errors import Problem, ProjectError
from engine.files import atomic_write_text  # noqa: F401 - re-exported (workbench.storage)
from engine.hetero.companion import (
    companion_path,
    inline_document,
    read_companion,
    referenced_keys,
    split_document,
    write_companion,
)
from engine.hetero.values import is_per_neuron, per_neuron_spec, resolve_values, value_problems
from engine.migrations import CURRENT_VERSION, FORMAT_NAME, migrate
from engine.monitors.specs import MONITOR_MODELS, MONITOR_SPECS
from engine.neurons import NEURON_MODELS, emits_spikes
from engine.neurons import model as neuron_model
from engine.params import MAX_STEPS, MAX_TIME_MS, ModelSpec, ParamSpec
from engine.plasticity import PLASTICITY_RULES
from engine.scenarios.defs import scenarios_from_document
from engine.validation import (
    ID_RE,
    ID_RULE,
    MAX_FILE_BYTES,
    Scan,
    one_line_problem,
    parse_and_scan,
    scan_document,
)
from engine.validation import is_int as _is_int
from engine.validation import is_number as _is_number
from engine.validation import join as _join
from engine.validation import known as _known
from engine.validation import short_repr as _repr
from engine.validation import type_name as _type_name

NODE_KINDS = ("population", "encoder", "monitor")
MAX_SIZE = 10_000_000
#: Server limits of one project (see engine.validation for the document-wide ones).
MAX_NODES = 10_000
MAX_PROJECTIONS = 10_000
MAX_TOTAL_NEURONS = 100_000_000  # neuron and synapse indices stay far inside int32
MAX_NAME_CHARS = 200        # project name, node and projection labels
MAX_DESCRIPTION_CHARS = 10_000
MAX_LAB_CHARS = 100_000     # lab notes (markdown)
MAX_WEIGHT_MV = 1e6         # any weight or weight-distribution parameter
MAX_DELAY_MS = 1e6          # any delay or delay-distribution parameter
MAX_VIEWPORT = 1e9          # editor pan/zoom values

MAX_THREADS = 256           # simulation.threads

SIMULATION_SPECS: tuple[ParamSpec, ...] = (
    ParamSpec("duration_ms", "ms", 1000.0, "Model time to simulate.", minimum=0.0,
              exclusive_minimum=True, maximum=1e8),
    ParamSpec("dt_ms", "ms", 0.1, "Integration time step.", minimum=0.001, maximum=10.0),
    ParamSpec("seed", "", 42, "Seed of every random choice (connectivity, weights, inputs).",
              kind="int", minimum=0, maximum=2**32 - 1),
    ParamSpec("count_bin_ms", "ms", 1.0, "Width of the time bins of operation counts (the "
              "energy model's input), rounded to a whole number of steps.", minimum=0.0,
              exclusive_minimum=True, maximum=1e6),
    ParamSpec("memory_budget_mb", "MB", 4096.0, "Refuse to build networks whose synapses and "
              "recordings need more memory than this.", minimum=1.0, maximum=1e6),
    ParamSpec("threads", "", 1, "Threads that update the neurons of large populations (spikes "
              "are the same for any number; a server may allow fewer).", kind="int",
              minimum=1, maximum=MAX_THREADS),
)


@dataclass
class Node:
    """A population, encoder or monitor in the network graph."""

    id: str
    kind: str
    model: str
    size: int = 1
    params: dict[str, Any] = field(default_factory=dict)
    label: str = ""
    target: str | None = None

    def spec(self) -> ModelSpec:
        """The registry entry describing this node's parameters."""
        return model_spec(self.kind, self.model)

    def resolved_params(self) -> dict[str, Any]:
        """Parameters with defaults (and any named preset) filled in."""
        if self.kind == "monitor":
            values = {p.name: p.default for p in MONITOR_SPECS}
            values.update(self.params)
            return values
        return self.spec().resolve(self.params)


@dataclass
class Projection:
    """Synapses from one node to a population."""

    id: str
    source: str
    target: str
    connectivity: dict[str, Any] = field(default_factory=lambda: {"rule": "all_to_all"})
    weight: Any = 1.0
    delay_ms: Any = 0.0
    receptor: str = "exc"
    plasticity: dict[str, Any] | None = None
    record_weights: dict[str, Any] | None = None
    label: str = ""


@dataclass
class Network:
    """The network graph: nodes and projections."""

    nodes: list[Node] = field(default_factory=list)
    projections: list[Projection] = field(default_factory=list)

    def node(self, node_id: str) -> Node:
        for node in self.nodes:
            if node.id == node_id:
                return node
        raise KeyError(node_id)

    def projection(self, projection_id: str) -> Projection:
        for projection in self.projections:
            if projection.id == projection_id:
                return projection
        raise KeyError(projection_id)

    @property
    def populations(self) -> list[Node]:
        return [n for n in self.nodes if n.kind == "population"]

    @property
    def encoders(self) -> list[Node]:
        return [n for n in self.nodes if n.kind == "encoder"]

    @property
    def monitors(self) -> list[Node]:
        return [n for n in self.nodes if n.kind == "monitor"]


@dataclass
class SimulationSettings:
    """How long and how finely to simulate, and what to count."""

    duration_ms: float = 1000.0
    dt_ms: float = 0.1
    seed: int = 42
    count_bin_ms: float = 1.0
    record_spikes: str | list[str] = "all"
    memory_budget_mb: float = 4096.0
    threads: int = 1


@dataclass
class Project:
    """A whole project: network, simulation settings, editor layout and lab notes."""

    name: str = "Untitled"
    description: str = ""
    network: Network = field(default_factory=Network)
    simulation: SimulationSettings = field(default_factory=SimulationSettings)
    layout: dict[str, Any] = field(default_factory=lambda: {"positions": {}})
    lab: str | dict[str, Any] = ""  # Markdown notes, or a lab with steps (engine.labs)
    energy: dict[str, Any] = field(default_factory=dict)
    scenarios: list[dict[str, Any]] = field(default_factory=list)
    hopfield: dict[str, Any] = field(default_factory=dict)  # patterns of an associative memory
    #: Per-neuron arrays of the companion file, by key (params refer to them as
    #: ``{"array": KEY}``; engine.hetero). Not part of the JSON document.
    arrays: dict[str, np.ndarray] = field(default_factory=dict)

    # ------------------------------------------------------------------ conversion
    def to_dict(self, inline_arrays: bool = False) -> dict[str, Any]:
        """The JSON document of this project (a deep copy, safe to mutate).

        With ``inline_arrays`` every ``{"array": KEY}`` of :attr:`arrays` is replaced by its
        list of values: a self-contained document (what the workbench edits).
        """
        if inline_arrays and self.arrays:
            return inline_document(self.to_dict(), self.arrays)
        nodes = []
        for n in self.network.nodes:
            item: dict[str, Any] = {"id": n.id, "kind": n.kind, "model": n.model}
            if n.kind != "monitor":
                item["size"] = n.size
            if n.target is not None:
                item["target"] = n.target
            if n.label:
                item["label"] = n.label
            item["params"] = n.params
            nodes.append(item)
        projections = []
        for p in self.network.projections:
            item = {"id": p.id, "source": p.source, "target": p.target,
                    "connectivity": p.connectivity, "weight": p.weight,
                    "delay_ms": p.delay_ms, "receptor": p.receptor,
                    "plasticity": p.plasticity}
            if p.record_weights is not None:
                item["record_weights"] = p.record_weights
            if p.label:
                item["label"] = p.label
            projections.append(item)
        s = self.simulation
        return copy.deepcopy({
            "format": FORMAT_NAME,
            "version": CURRENT_VERSION,
            "name": self.name,
            "description": self.description,
            "network": {"nodes": nodes, "projections": projections},
            "simulation": {"duration_ms": s.duration_ms, "dt_ms": s.dt_ms, "seed": s.seed,
                           "count_bin_ms": s.count_bin_ms, "record_spikes": s.record_spikes,
                           "memory_budget_mb": s.memory_budget_mb,
                           # Written only when set: documents of one thread stay as they were.
                           **({"threads": s.threads} if s.threads != 1 else {})},
            "layout": self.layout,
            "lab": self.lab,
            **({"energy": self.energy} if self.energy else {}),
            **({"scenarios": self.scenarios} if self.scenarios else {}),
            **({"hopfield": self.hopfield} if self.hopfield else {}),
        })

    @classmethod
    def from_dict(cls, document: Any, arrays: dict[str, np.ndarray] | None = None) -> Project:
        """Validate (after migrating) a JSON document and build a :class:`Project`.

        ``arrays`` are the companion file's per-neuron arrays (``{"array": KEY}`` values).

        Raises
        ------
        ProjectError
            With every problem found, each naming its field path.
        """
        return cls._build(document, None, arrays)

    @classmethod
    def _build(cls, document: Any, scan: Scan | None,
               arrays: dict[str, np.ndarray] | None = None) -> Project:
        """:meth:`from_dict`, reusing the ``scan`` of ``document`` when it was parsed."""
        scan = scan_document(document) if scan is None else scan
        if scan.structural:  # too deep or too big to even migrate (copying recurses)
            raise ProjectError(scan.structural)
        migrated = migrate(document)
        problems = _validate(migrated, scan if migrated is document else None, arrays)
        if problems:
            raise ProjectError(problems)
        return cls.from_checked(migrated, arrays)

    @classmethod
    def from_checked(cls, document: dict,
                     arrays: dict[str, np.ndarray] | None = None) -> Project:
        """Build a :class:`Project` from a document already migrated and found valid.

        For callers that validated this very document (``validate_document`` returned no
        problem, or it came from :meth:`to_dict` of a Project): one load path validates once
        per change. Anything else goes through :meth:`from_dict`.
        """
        net = document["network"]
        nodes = [Node(id=n["id"], kind=n["kind"], model=n["model"], size=int(n.get("size", 1)),
                      params=copy.deepcopy(n.get("params", {})), label=n.get("label", ""),
                      target=n.get("target"))
                 for n in net.get("nodes", [])]
        projections = [Projection(
            id=p["id"], source=p["source"], target=p["target"],
            connectivity=copy.deepcopy(p.get("connectivity", {"rule": "all_to_all"})),
            weight=copy.deepcopy(p.get("weight", 1.0)),
            delay_ms=copy.deepcopy(p.get("delay_ms", 0.0)),
            receptor=p.get("receptor", "exc"),
            plasticity=copy.deepcopy(p.get("plasticity")),
            record_weights=copy.deepcopy(p.get("record_weights")),
            label=p.get("label", ""),
        ) for p in net.get("projections", [])]
        sim = {spec.name: spec.default for spec in SIMULATION_SPECS}
        sim["record_spikes"] = "all"
        sim.update(document.get("simulation", {}))
        return cls(
            name=document.get("name", "Untitled"),
            description=document.get("description", ""),
            network=Network(nodes=nodes, projections=projections),
            simulation=SimulationSettings(
                duration_ms=float(sim["duration_ms"]), dt_ms=float(sim["dt_ms"]),
                seed=int(sim["seed"]), count_bin_ms=float(sim["count_bin_ms"]),
                record_spikes=copy.deepcopy(sim["record_spikes"]),
                memory_budget_mb=float(sim["memory_budget_mb"]),
                threads=int(sim["threads"])),
            layout=copy.deepcopy(document.get("layout", {"positions": {}})),
            lab=copy.deepcopy(document.get("lab", "")),
            energy=copy.deepcopy(document.get("energy", {})),
            scenarios=copy.deepcopy(document.get("scenarios", [])),
            hopfield=copy.deepcopy(document.get("hopfield", {})),
            arrays={k: arrays[k] for k in referenced_keys(document) if k in arrays}
            if arrays else {},
        )


# ---------------------------------------------------------------------- file I/O
def loads_project(text: str | bytes, arrays: dict[str, np.ndarray] | None = None) -> Project:
    """Parse a project from JSON text (never executes anything).

    ``arrays`` are its companion file's per-neuron arrays, if it has one.

    Raises
    ------
    ProjectError
        When the text is not JSON, breaks a document limit (size, nesting, value count; see
        :mod:`engine.validation`) or the document is invalid.
    """
    return Project._build(*parse_and_scan(text), arrays)


def load_project(path: str | os.PathLike[str]) -> Project:
    """Read and validate a project file, with its companion file of per-neuron arrays
    (``<stem>.arrays.npz``, see :mod:`engine.hetero.companion`) when there is one."""
    text = read_limited(path)
    companion = companion_path(path)
    return loads_project(text, read_companion(companion) if companion.exists() else None)


def read_limited(path: str | os.PathLike[str]) -> bytes:
    """The bytes of a file, refusing to read more than a project file may hold.

    Raises
    ------
    ProjectError
        When the file cannot be read or is larger than ``MAX_FILE_BYTES``.
    """
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ProjectError([Problem("", f"cannot read {path}: {exc.strerror}")]) from None
    if len(data) > MAX_FILE_BYTES:
        raise ProjectError([Problem("", f"{path} is larger than "
                                        f"{MAX_FILE_BYTES // 2**20} MB, the limit of a project "
                                        f"file")])
    return data


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a project's name, or None when it can.

    The same rule as opening a file applies (:func:`engine.validation.one_line_problem`
    with :data:`MAX_NAME_CHARS`), so Save as never writes a name that Open then refuses.
    """
    return one_line_problem(name, MAX_NAME_CHARS)


def dumps_project(project: Project) -> str:
    """Serialise a project to pretty-printed JSON text, self-contained: its companion arrays
    are written inline (the download of a project is this one file)."""
    return json.dumps(project.to_dict(inline_arrays=True), indent=2, allow_nan=False) + "\n"


def save_project(project: Project, path: str | os.PathLike[str]) -> None:
    """Write a project atomically: temp file in the same folder, fsync, rename.

    Per-neuron lists longer than :data:`engine.hetero.values.INLINE_LIMIT` and the arrays the
    project refers to go to the companion file ``<stem>.arrays.npz`` (written first); a
    project without any removes a companion file left from an earlier save.
    """
    save_document(project.to_dict(), path, project.arrays)


def save_document(document: dict[str, Any], path: str | os.PathLike[str],
                  arrays: dict[str, np.ndarray] | None = None) -> None:
    """Write a (valid) project document and its companion file as :func:`save_project`."""
    document, companion = split_document(document, arrays)
    target = companion_path(path)
    if companion:
        write_companion(target, companion)
    else:
        target.unlink(missing_ok=True)
    text = json.dumps(document, indent=2, allow_nan=False, ensure_ascii=False) + "\n"
    atomic_write_text(Path(path), text)


# ---------------------------------------------------------------------- validation
def model_spec(kind: str, model: str) -> ModelSpec:
    """Registry entry for a node of ``kind`` and ``model`` (KeyError when unknown)."""
    registry = {"population": NEURON_MODELS, "encoder": ENCODER_MODELS}.get(kind, {})
    return registry[model]


class _Checker:
    """Collects problems with their paths."""

    def __init__(self, arrays: dict[str, np.ndarray] | None = None) -> None:
        self.problems: list[Problem] = []
        self.arrays = arrays  # the companion file's arrays (None: no companion file)
        self.seed = 0         # the simulation's seed (per-neuron distributions draw from it)

    def add(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message))

    def mapping(self, value: Any, path: str, allowed: set[str], required: set[str]) -> bool:
        if not isinstance(value, dict):
            self.add(path, f"must be an object, got {_type_name(value)}")
            return False
        for key in sorted(set(value) - allowed, key=str):
            self.add(_join(path, key), f"unknown key (allowed: {', '.join(sorted(allowed))})")
        for key in sorted(required - set(value)):
            self.add(_join(path, key), "is required")
        return True

    def string(self, value: Any, path: str, max_len: int = 100_000,
               one_line: bool = False) -> bool:
        if not isinstance(value, str):
            self.add(path, f"must be a string, got {_type_name(value)}")
            return False
        if one_line:
            problem = one_line_problem(value, max_len)
        elif len(value) > max_len:
            problem = f"must be at most {max_len:,} characters, got {len(value):,}"
        else:
            problem = None
        if problem is not None:
            self.add(path, problem)
            return False
        return True

    def params(self, params: Any, spec: ModelSpec | tuple[ParamSpec, ...], path: str) -> dict:
        specs = spec.params if isinstance(spec, ModelSpec) else spec
        allowed = {p.name for p in specs}
        presets = spec.presets if isinstance(spec, ModelSpec) else {}
        if presets:
            allowed.add("preset")
        if not self.mapping(params, path, allowed, set()):
            return {}
        for p in specs:
            if p.name in params:
                message = p.check(params[p.name])
                if message:
                    self.add(_join(path, p.name), message)
        if "preset" in params and not _known(params["preset"], presets):
            self.add(_join(path, "preset"),
                     f"must be one of {', '.join(presets)}; got {_repr(params['preset'])}")
        return params


def _size_of(node: dict | None) -> int | None:
    """A node's size when it is a valid one (else None: the node's own problem is reported)."""
    size = node.get("size", 1) if node else None
    return size if _is_int(size) and 1 <= size <= MAX_SIZE else None


def validate_document(document: Any, arrays: dict[str, np.ndarray] | None = None
                      ) -> list[Problem]:
    """Every problem in a (migrated) project document, each with its field path.

    The document limits of :mod:`engine.validation` come first: a document nested too
    deeply or holding too many values gets only that problem. Every number anywhere must be
    finite and at most ``MAX_MAGNITUDE`` in size, so a validated document always serialises
    with ``json.dumps(..., allow_nan=False)``.
    """
    return _validate(document, None, arrays)


def _validate(document: Any, scan: Scan | None,
              arrays: dict[str, np.ndarray] | None = None) -> list[Problem]:
    """:func:`validate_document`, reusing a ``scan`` of this very document when given."""
    scan = scan_document(document) if scan is None else scan
    if scan.structural:
        return scan.structural
    c = _Checker(arrays)
    _validate_fields(c, document, scan)
    # Values no field check looked at (free-form or unknown keys) still get their problem.
    reported = {p.path for p in c.problems}
    c.problems.extend(p for p in scan.unparsable + scan.values if p.path not in reported)
    return c.problems


def _validate_fields(c: _Checker, document: Any, scan: Scan) -> None:
    top_keys = {"format", "version", "name", "description", "network", "simulation",
                "layout", "lab", "energy", "scenarios", "hopfield"}
    if not c.mapping(document, "", top_keys, {"format", "version", "network"}):
        return
    if document.get("format") != FORMAT_NAME:
        c.add("format", f"must be {_repr(FORMAT_NAME)}, got {_repr(document.get('format'))}")
    if not _is_int(document.get("version")) or document["version"] != CURRENT_VERSION:
        c.add("version", f"must be {CURRENT_VERSION} after migration, got "
                         f"{_repr(document.get('version'))}")
    limits = {"name": MAX_NAME_CHARS, "description": MAX_DESCRIPTION_CHARS,
              "lab": MAX_LAB_CHARS}
    for key, max_len in limits.items():
        if key == "lab" and isinstance(document.get("lab"), dict):
            # A lab with steps: imported here because the labs' checks import this module.
            from engine.labs.validation import lab_problems
            c.problems.extend(lab_problems(document["lab"], document))
        elif key in document:
            c.string(document[key], key, max_len, one_line=key == "name")
    sim = document.get("simulation", {})
    dt = _validate_simulation(c, sim)
    if "layout" in document:
        _validate_layout(c, document["layout"])
    # engine.energy.profiles and engine.scenarios.defs expect plain numbers: a section the
    # scan already faults (NaN, 1e400 as an int) gets the scan's problems only.
    if "energy" in document and _scan_clean(scan, "energy"):
        _validate_energy(c, document["energy"])
    if "scenarios" in document and _scan_clean(scan, "scenarios"):
        try:
            scenarios_from_document(document["scenarios"])
        except ProjectError as exc:
            c.problems.extend(exc.problems)
        else:
            _check_scenario_times(c, document["scenarios"], dt)
    network = document.get("network")
    if c.mapping(network, "network", {"nodes", "projections"}, {"nodes"}):
        _validate_network(c, network, dt, sim if isinstance(sim, dict) else {})
        if "hopfield" in document and _scan_clean(scan, "hopfield"):
            # Imported here: importing engine.labs imports the labs' checks, which import this.
            from engine.labs.hopfield import hopfield_problems
            for where, message in hopfield_problems(document["hopfield"], document):
                c.add(where, message)


def _validate_simulation(c: _Checker, sim: Any) -> float:
    allowed = {p.name for p in SIMULATION_SPECS} | {"record_spikes"}
    if not c.mapping(sim, "simulation", allowed, set()):
        return 0.1
    for spec in SIMULATION_SPECS:
        if spec.name in sim:
            message = spec.check(sim[spec.name])
            if message:
                c.add(f"simulation.{spec.name}", message)
    dt = sim.get("dt_ms", 0.1)
    dt = dt if _is_number(dt) and dt > 0 else 0.1
    seed = sim.get("seed", 42)
    c.seed = seed if _is_int(seed) and 0 <= seed < 2**32 else 0
    duration = sim.get("duration_ms", 1000.0)
    reported = any(p.path == "simulation.duration_ms" for p in c.problems)
    if _is_number(duration) and duration / dt > MAX_STEPS and not reported:
        c.add("simulation.duration_ms",
              f"needs {duration / dt:.3g} time steps of {dt:g} ms; at most {MAX_STEPS:,} "
              f"steps are allowed (shorten the duration or raise dt_ms)")
    record = sim.get("record_spikes", "all")
    if record != "all" and not (isinstance(record, list)
                                and all(isinstance(r, str) for r in record)):
        c.add("simulation.record_spikes", "must be \"all\" or a list of node ids")
    return dt


def _scan_clean(scan: Scan, root: str) -> bool:
    """No problem of the scan lies in the section ``root`` of the document."""
    return not any(p.path == root or p.path.startswith((f"{root}.", f"{root}["))
                   for p in scan.unparsable + scan.values)


def _check_scenario_times(c: _Checker, scenarios: list, dt: float) -> None:
    """Scenario times stay within the step and time limits of a simulation."""
    items = scenarios.get("scenarios", []) if isinstance(scenarios, dict) else scenarios
    for i, item in enumerate(items if isinstance(items, list) else []):
        if not isinstance(item, dict):
            continue
        path = f"scenarios[{i}]"
        duration = item.get("duration_ms")
        if _is_number(duration) and duration / dt > MAX_STEPS:
            c.add(f"{path}.duration_ms",
                  f"needs {duration / dt:.3g} time steps of {dt:g} ms; at most {MAX_STEPS:,} "
                  f"steps are allowed")
        times = [(key, item.get(key)) for key in ("window_ms", "deadline_ms")]
        spec = item.get("input")
        if isinstance(spec, dict):
            times += [(f"input.{key}", spec.get(key)) for key in ("period_ms", "on_ms",
                                                                   "start_ms")]
        for key, value in times:
            if _is_number(value) and abs(value) > MAX_TIME_MS:
                c.add(f"{path}.{key}", f"must be at most {MAX_TIME_MS:g} ms, got {value:g}")


def _validate_layout(c: _Checker, layout: Any) -> None:
    if not c.mapping(layout, "layout", {"positions", "viewport"}, set()):
        return
    positions = layout.get("positions", {})
    if not isinstance(positions, dict):
        c.add("layout.positions", "must be an object mapping node ids to [x, y]")
        return
    for key, xy in positions.items():
        if not (isinstance(xy, list) and len(xy) == 2 and all(_is_number(v) for v in xy)):
            c.add(_join("layout.positions", key), "must be [x, y] with two finite numbers")
        elif any(abs(v) > MAX_VIEWPORT for v in xy):
            c.add(_join("layout.positions", key), f"must be within +-{MAX_VIEWPORT:g}, got {xy}")
    if "viewport" in layout:
        _validate_viewport(c, layout["viewport"])


def _validate_viewport(c: _Checker, viewport: Any) -> None:
    """The editor's pan and zoom: finite numbers, by name (``{"x", "y", "k"}``) or a list."""
    if not isinstance(viewport, (dict, list)):
        c.add("layout.viewport", f"must be an object or a list of numbers (pan and zoom), "
                                 f"got {_type_name(viewport)}")
        return
    if len(viewport) > 16:
        c.add("layout.viewport", f"must have at most 16 entries, got {len(viewport)}")
        return
    items = viewport.items() if isinstance(viewport, dict) else enumerate(viewport)
    for key, value in items:
        if not _is_number(value) or abs(value) > MAX_VIEWPORT:
            c.add(_join("layout.viewport", key), f"must be a finite number within "
                                                 f"+-{MAX_VIEWPORT:g}, got {_repr(value)}")


def _validate_energy(c: _Checker, energy: Any) -> None:
    """User hardware profiles saved with the project (checked by engine.energy.profiles)."""
    if not c.mapping(energy, "energy", {"profiles"}, set()):
        return
    if "profiles" in energy:
        try:
            profiles_from_document({"profiles": energy["profiles"]}, path="energy")
        except ProjectError as exc:
            c.problems.extend(exc.problems)


def _is_multiple(value: float, step: float) -> bool:
    ratio = value / step
    return abs(ratio - round(ratio)) < 1e-6 * max(1.0, abs(ratio))


def _validate_network(c: _Checker, network: dict, dt: float, sim: dict) -> None:
    nodes = network.get("nodes", [])
    projections = network.get("projections", [])
    if not isinstance(nodes, list):
        c.add("network.nodes", f"must be a list, got {_type_name(nodes)}")
        nodes = []
    if not isinstance(projections, list):
        c.add("network.projections", f"must be a list, got {_type_name(projections)}")
        projections = []
    # Refuse oversized networks before the per-item checks (they are the slow part).
    if len(nodes) > MAX_NODES:
        c.add("network.nodes", f"has {len(nodes):,} nodes; a project may have at most "
                               f"{MAX_NODES:,}")
        return
    if len(projections) > MAX_PROJECTIONS:
        c.add("network.projections", f"has {len(projections):,} projections; a project may "
                                     f"have at most {MAX_PROJECTIONS:,}")
        return
    seen: dict[str, str] = {}
    by_id: dict[str, dict] = {}
    for i, node in enumerate(nodes):
        path = f"network.nodes[{i}]"
        if _validate_node(c, node, path):
            _check_id(c, node["id"], path, seen)
            by_id.setdefault(node["id"], node)
    total = sum(_size_of(n) or 0 for n in nodes if isinstance(n, dict)
                and n.get("kind") in ("population", "encoder"))
    if total > MAX_TOTAL_NEURONS:
        c.add("network.nodes", f"have {total:,} neurons in all; a project may have at most "
                               f"{MAX_TOTAL_NEURONS:,}")
    for i, node in enumerate(nodes):
        if isinstance(node, dict) and node.get("kind") == "monitor":
            _validate_monitor_target(c, node, f"network.nodes[{i}]", by_id, dt)
    for i, proj in enumerate(projections):
        path = f"network.projections[{i}]"
        if _validate_projection(c, proj, path, by_id, dt):
            _check_id(c, proj["id"], path, seen)
    record = sim.get("record_spikes", "all")
    if isinstance(record, list):
        for j, node_id in enumerate(record):
            node = by_id.get(node_id) if isinstance(node_id, str) else None
            if node is None or node.get("kind") == "monitor":
                c.add(f"simulation.record_spikes[{j}]",
                      f"{_repr(node_id)} is not a population or encoder of this network")


def _check_id(c: _Checker, node_id: str, path: str, seen: dict[str, str]) -> None:
    if node_id in seen:
        c.add(f"{path}.id", f"{_repr(node_id)} is already used by {seen[node_id]}")
    else:
        seen[node_id] = path


def _validate_node(c: _Checker, node: Any, path: str) -> bool:
    allowed = {"id", "kind", "model", "size", "label", "params", "target"}
    if not c.mapping(node, path, allowed, {"id", "kind", "model"}):
        return False
    ok = True
    node_id = node.get("id")
    if not (isinstance(node_id, str) and ID_RE.match(node_id)):
        c.add(f"{path}.id", f"{ID_RULE}; got {_repr(node_id)}")
        ok = False
    kind = node.get("kind")
    if kind not in NODE_KINDS:
        c.add(f"{path}.kind", f"must be one of {', '.join(NODE_KINDS)}; got {_repr(kind)}")
        return False
    if "label" in node:
        c.string(node["label"], f"{path}.label", MAX_NAME_CHARS, one_line=True)
    model = node.get("model")
    if kind == "monitor":
        if model not in MONITOR_MODELS:
            c.add(f"{path}.model",
                  f"must be one of {', '.join(MONITOR_MODELS)}; got {_repr(model)}")
        if "size" in node:
            c.add(f"{path}.size", "monitors have no size")
        c.params(node.get("params", {}), MONITOR_SPECS, f"{path}.params")
        return ok
    if "target" in node:
        c.add(f"{path}.target", "only monitors have a target")
    registry = NEURON_MODELS if kind == "population" else ENCODER_MODELS
    if not _known(model, registry):
        c.add(f"{path}.model", f"unknown {kind} model {_repr(model)}; known: "
                               f"{', '.join(registry)}")
        return ok
    size = node.get("size", 1)
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_SIZE:
        c.add(f"{path}.size", f"must be a whole number in [1, {MAX_SIZE}], got {_repr(size)}")
        size = None
    spec = registry[model]
    raw = node.get("params", {})
    per_neuron = {}
    if kind == "population" and isinstance(raw, dict):
        per_neuron = {p.name: raw[p.name] for p in spec.params
                      if per_neuron_spec(p) and is_per_neuron(raw.get(p.name))}
        raw = {k: v for k, v in raw.items() if k not in per_neuron}
    params = c.params(raw, spec, f"{path}.params")
    for name, value in per_neuron.items():
        for suffix, message in value_problems(value, spec.param(name), size, c.arrays):
            c.add(f"{path}.params.{name}{suffix}", message)
    # Also with no params at all: the defaults must agree with the size (a fixed-size
    # encoder whose size was edited would otherwise emit spikes past its last neuron).
    if not any(p.path.startswith(f"{path}.params") for p in c.problems):
        values = spec.resolve({**params, **per_neuron})
        if per_neuron and size is not None:
            values = resolve_values(values, spec.params, size, c.seed, str(node_id),
                                    c.arrays)
        _check_node_consistency(c, kind, model, values, size, path)
    return ok


def _check_node_consistency(c: _Checker, kind: str, model: str, values: dict, size: int | None,
                            path: str) -> None:
    """Rules that involve more than one parameter."""
    p = f"{path}.params"
    if kind == "population":
        for name, message in neuron_model(model).check(values):
            c.add(f"{p}.{name}", message)
    if kind != "encoder":
        return
    module = encoder_module(model)
    if hasattr(module, "fixed_size") and size is not None:
        expected = module.fixed_size(values)
        if size != expected:
            c.add(f"{path}.size", f"must be {expected} for a {model} encoder "
                                  f"({module.SIZE_RULE}), got {size}")
    for name, message in (module.check(values, size) if hasattr(module, "check") else []):
        c.add(f"{p}.{name}", message)


def _validate_monitor_target(c: _Checker, node: dict, path: str, by_id: dict, dt: float) -> None:
    target = node.get("target")
    target_node = by_id.get(target) if isinstance(target, str) else None
    if target_node is None or target_node.get("kind") != "population":
        c.add(f"{path}.target", f"must be the id of a population, got {_repr(target)}")
        return
    params = node.get("params", {})
    if not isinstance(params, dict):
        return
    size = target_node.get("size", 1)
    neurons = params.get("neurons", [])
    for j, index in enumerate(neurons if isinstance(neurons, list) else []):
        if _is_int(index) and _is_int(size) and not 0 <= index < size:
            c.add(f"{path}.params.neurons[{j}]", f"must be a neuron index in [0, {size - 1}] "
                                                 f"of {_repr(target)}, got {_repr(index)}")
    model = target_node.get("model")
    if _known(model, NEURON_MODELS):
        known = NEURON_MODELS[model].state_variables
        variables = params.get("variables", ["v"])
        if isinstance(variables, list):
            for j, var in enumerate(variables):
                if not _known(var, known):
                    c.add(f"{path}.params.variables[{j}]",
                          f"{model} has no state variable {_repr(var)}; known: {', '.join(known)}")


def _validate_projection(c: _Checker, proj: Any, path: str, by_id: dict, dt: float) -> bool:
    allowed = {"id", "source", "target", "connectivity", "weight", "delay_ms", "receptor",
               "plasticity", "record_weights", "label"}
    if not c.mapping(proj, path, allowed, {"id", "source", "target"}):
        return False
    if not (isinstance(proj.get("id"), str) and ID_RE.match(proj["id"])):
        c.add(f"{path}.id", f"{ID_RULE}; got {_repr(proj.get('id'))}")
        return False
    source = by_id.get(proj["source"]) if isinstance(proj["source"], str) else None
    target = by_id.get(proj["target"]) if isinstance(proj["target"], str) else None
    if source is None or source.get("kind") == "monitor":
        c.add(f"{path}.source", f"must be the id of a population or encoder, got "
                                f"{_repr(proj['source'])}")
    elif (source.get("kind") == "population" and _known(source.get("model"), NEURON_MODELS)
          and not emits_spikes(source["model"])):
        c.add(f"{path}.source", f"{_repr(proj['source'])} is a "
                                f"{NEURON_MODELS[source['model']].title} population, which never "
                                f"spikes: it cannot drive a projection (record its v with a "
                                f"state monitor)")
    if target is None or target.get("kind") != "population":
        c.add(f"{path}.target", f"must be the id of a population, got {_repr(proj['target'])}")
    receptor = proj.get("receptor", "exc")
    if receptor not in ("exc", "inh"):
        c.add(f"{path}.receptor", f"must be \"exc\" or \"inh\", got {_repr(receptor)}")
    if "label" in proj:
        c.string(proj["label"], f"{path}.label", MAX_NAME_CHARS, one_line=True)
    n_pre = _size_of(source)
    n_post = _size_of(target)
    _validate_connectivity(c, proj.get("connectivity", {"rule": "all_to_all"}),
                           f"{path}.connectivity", n_pre, n_post,
                           same=proj["source"] == proj["target"])
    sign = -1 if receptor == "inh" else 1
    _validate_value_or_dist(c, proj.get("weight", 1.0), f"{path}.weight", "mV",
                            MAX_WEIGHT_MV, sign=sign)
    _validate_value_or_dist(c, proj.get("delay_ms", 0.0), f"{path}.delay_ms", "ms",
                            MAX_DELAY_MS, minimum=0.0, dt=dt)
    is_current = source is not None and _known(source.get("model"), CURRENT_ENCODERS)
    if is_current and proj.get("delay_ms", 0.0) not in (0, 0.0):
        c.add(f"{path}.delay_ms", "current inputs act without delay; set 0")
    plasticity = proj.get("plasticity")
    if plasticity is not None:
        _validate_plasticity(c, proj, plasticity, f"{path}.plasticity", is_current)
    if proj.get("record_weights") is not None:
        _validate_record_weights(c, proj["record_weights"], f"{path}.record_weights", n_pre,
                                 n_post, dt)
    return True


def _validate_connectivity(c: _Checker, conn: Any, path: str, n_pre: int | None,
                           n_post: int | None, same: bool = False) -> None:
    if not isinstance(conn, dict):
        c.add(path, f"must be an object with a \"rule\", got {_type_name(conn)}")
        return
    rule = conn.get("rule")
    if not _known(rule, CONNECTIVITY_RULES):
        c.add(f"{path}.rule", f"must be one of {', '.join(CONNECTIVITY_RULES)}; got {_repr(rule)}")
        return
    params = {k: v for k, v in conn.items() if k != "rule"}
    c.params(params, CONNECTIVITY_RULES[rule], path)
    if rule == "one_to_one" and n_pre is not None and n_post is not None and n_pre != n_post:
        c.add(f"{path}.rule", f"one_to_one needs equal sizes, got {n_pre} -> {n_post}")
    if rule == "fixed_indegree" and n_pre is not None and _is_number(conn.get("k", 10)):
        # Without autapses a neuron of a recurrent projection cannot pick itself.
        available = n_pre - 1 if same and conn.get("allow_autapses", True) is False else n_pre
        if conn.get("k", 10) > available:
            c.add(f"{path}.k", f"must be at most {available} (the source neurons available to "
                               f"each target), got {conn.get('k')}")
    if rule == "matrix" and isinstance(conn.get("weights"), list) and n_pre and n_post:
        rows = conn["weights"]
        cols = len(rows[0]) if rows and isinstance(rows[0], list) else 0
        if len(rows) != n_pre or cols != n_post:
            c.add(f"{path}.weights", f"must be {n_pre} x {n_post} (source x target), got "
                                     f"{len(rows)} x {cols}")


def _validate_value_or_dist(c: _Checker, value: Any, path: str, unit: str, limit: float,
                            sign: int = 0, minimum: float | None = None,
                            dt: float | None = None) -> None:
    """A number, or {"dist": "uniform", "low", "high"} / {"dist": "normal", "mean", "std"}.

    The number and every distribution parameter lie within +-``limit`` (a normal std of
    1e308 would draw infinities).
    """
    if _is_number(value):
        if sign > 0 and value < 0:
            c.add(path, f"excitatory weights must be >= 0 {unit}, got {value:g} {unit}")
        if sign < 0 and value > 0:
            c.add(path, f"inhibitory weights must be <= 0 {unit}, got {value:g} {unit}")
        if minimum is not None and value < minimum:
            c.add(path, f"must be >= {minimum:g} {unit}, got {value:g} {unit}")
        if dt is not None and value >= 0 and not _is_multiple(value, dt):
            c.add(path, f"must be a multiple of dt ({dt:g} ms), got {value:g} {unit}")
        if abs(value) > limit:
            c.add(path, f"must be at most {limit:g} {unit} in magnitude, got {value:g}")
        return
    if not isinstance(value, dict):
        c.add(path, f"must be a number or a distribution object, got {_type_name(value)}")
        return
    dist = value.get("dist")
    dists = {"uniform": {"low", "high"}, "normal": {"mean", "std"}}
    keys = dists[dist] if _known(dist, dists) else None
    if keys is None:
        c.add(f"{path}.dist", f"must be \"uniform\" or \"normal\", got {_repr(dist)}")
        return
    if not c.mapping(value, path, keys | {"dist"}, keys):
        return
    for key in sorted(keys):
        if key in value and not _is_number(value[key]):
            c.add(f"{path}.{key}", f"must be a finite number, got {_repr(value[key])}")
        elif key in value and abs(value[key]) > limit:
            c.add(f"{path}.{key}", f"must be at most {limit:g} {unit} in magnitude, got "
                                   f"{value[key]:g}")
    if all(_is_number(value.get(k)) for k in keys):
        if dist == "uniform" and value["high"] < value["low"]:
            c.add(f"{path}.high", f"must be >= low ({value['low']:g}), got {value['high']:g}")
        if dist == "normal" and value["std"] < 0:
            c.add(f"{path}.std", f"must be >= 0, got {value['std']:g}")
        if minimum is not None and dist == "uniform" and value["low"] < minimum:
            c.add(f"{path}.low", f"must be >= {minimum:g} {unit}, got {value['low']:g}")


def _validate_plasticity(c: _Checker, proj: dict, plasticity: Any, path: str,
                         is_current: bool) -> None:
    if not isinstance(plasticity, dict):
        c.add(path, f"must be null or an object with a \"rule\", got {_type_name(plasticity)}")
        return
    rule = plasticity.get("rule")
    if not _known(rule, PLASTICITY_RULES):
        c.add(f"{path}.rule", f"must be one of {', '.join(PLASTICITY_RULES)}; got {_repr(rule)}")
        return
    params = {k: v for k, v in plasticity.items() if k != "rule"}
    c.params(params, PLASTICITY_RULES[rule], path)
    if proj.get("receptor", "exc") != "exc":
        c.add(path, "plasticity is supported on excitatory projections only")
    if is_current:
        c.add(path, "current inputs cannot be plastic (they carry no spikes)")
    values = PLASTICITY_RULES[rule].resolve(params)
    if _is_number(values.get("w_min")) and _is_number(values.get("w_max")):
        w_min, w_max = values["w_min"], values["w_max"]
        if w_max > MAX_WEIGHT_MV:
            c.add(f"{path}.w_max", f"must be at most {MAX_WEIGHT_MV:g} mV, got {w_max:g}")
            return
        if w_max < w_min:
            c.add(f"{path}.w_max", f"must be >= w_min ({w_min:g}), got {w_max:g}")
            return
        # Learning starts inside its bounds (normal draws and matrices are clipped to them).
        weight_path = path.rsplit(".", 1)[0] + ".weight"
        weight = proj.get("weight", 1.0)
        bounds = f"the plasticity bounds [{w_min:g}, {w_max:g}] mV"
        if _is_number(weight) and not w_min <= weight <= w_max:
            c.add(weight_path, f"must lie within {bounds}, got {weight:g} mV")
        elif isinstance(weight, dict) and weight.get("dist") == "uniform":
            for key in ("low", "high"):
                value = weight.get(key)
                if _is_number(value) and not w_min <= value <= w_max:
                    c.add(f"{weight_path}.{key}", f"must lie within {bounds}, got {value:g} mV")


def _validate_record_weights(c: _Checker, rec: Any, path: str, n_pre: int | None,
                             n_post: int | None, dt: float) -> None:
    if not c.mapping(rec, path, {"every_ms", "synapses"}, set()):
        return
    every = rec.get("every_ms", 100.0)
    if not _is_number(every) or every <= 0:
        c.add(f"{path}.every_ms", f"must be > 0 ms, got {_repr(every)}")
    elif every > MAX_TIME_MS:
        c.add(f"{path}.every_ms", f"must be at most {MAX_TIME_MS:g} ms, got {every:g}")
    pairs = rec.get("synapses", [])
    if not isinstance(pairs, list):
        c.add(f"{path}.synapses", "must be a list of [pre, post] index pairs")
        return
    for j, pair in enumerate(pairs):
        ok = (isinstance(pair, list) and len(pair) == 2
              and all(isinstance(v, int) and not isinstance(v, bool) for v in pair))
        if not ok:
            c.add(f"{path}.synapses[{j}]", f"must be [pre, post] indices, got {_repr(pair)}")
        elif n_pre and n_post and not (0 <= pair[0] < n_pre and 0 <= pair[1] < n_post):
            c.add(f"{path}.synapses[{j}]", f"indices out of range ({n_pre} x {n_post}): {pair}")


__all__ = [
    "Network", "Node", "Project", "Projection", "SimulationSettings", "SPIKE_ENCODERS",
    "atomic_write_text", "dumps_project", "load_project", "loads_project", "model_spec",
    "save_project", "validate_document",
]
