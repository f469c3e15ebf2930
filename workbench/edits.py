"""Pure edits of a project document (the JSON dict), the unit of undo/redo.

Every function takes a document and returns a new one (the input is never mutated), so the
history can keep plain snapshots and the engine's validator judges the result. Defaults for
new nodes come from the engine's registries; nothing here re-implements engine rules.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from engine.connectivity.rules import CONNECTIVITY_RULES
from engine.encoders import CURRENT_ENCODERS, ENCODER_MODELS
from engine.encoders import encoder as encoder_module
from engine.hetero.values import centred_distribution, per_neuron_spec
from engine.neurons import NEURON_MODELS
from engine.project import Project

Document = dict[str, Any]

DEFAULT_SIZE = {"population": 100, "encoder": 100}
_NON_ID = re.compile(r"[^A-Za-z0-9_]+")


class EditError(ValueError):
    """An edit that cannot be applied (shown to the user as a notification)."""


def new_document(name: str = "Untitled") -> Document:
    """An empty project document with default simulation settings."""
    document = Project(name=name).to_dict()
    document["simulation"]["duration_ms"] = 500.0
    return document


def _copy(document: Document) -> Document:
    return copy.deepcopy(document)


def _nodes(document: Document) -> list[dict]:
    return document["network"]["nodes"]


def _projections(document: Document) -> list[dict]:
    return document["network"].setdefault("projections", [])


def _positions(document: Document) -> dict:
    return document.setdefault("layout", {}).setdefault("positions", {})


def find_node(document: Document, node_id: str) -> dict:
    for node in _nodes(document):
        if node["id"] == node_id:
            return node
    raise EditError(f"there is no node {node_id!r}")


def find_projection(document: Document, projection_id: str) -> dict:
    for projection in _projections(document):
        if projection["id"] == projection_id:
            return projection
    raise EditError(f"there is no projection {projection_id!r}")


def unique_id(document: Document, stem: str) -> str:
    """``stem``, or ``stem_2``, ``stem_3``... whichever is not used by a node or projection."""
    stem = _NON_ID.sub("_", stem).strip("_") or "node"
    if not stem[0].isalpha():
        stem = f"n_{stem}"
    used = {n["id"] for n in _nodes(document)} | {p["id"] for p in _projections(document)}
    if stem not in used:
        return stem
    i = 2
    while f"{stem}_{i}" in used:
        i += 1
    return f"{stem}_{i}"


def add_node(document: Document, kind: str, model: str, x: float = 200.0, y: float = 200.0,
             target: str | None = None) -> tuple[Document, str]:
    """Add a population, encoder or monitor with default parameters; returns its id."""
    doc = _copy(document)
    if kind == "population":
        if model not in NEURON_MODELS:
            raise EditError(f"unknown neuron model {model!r}")
        node = {"id": unique_id(doc, model), "kind": kind, "model": model,
                "size": DEFAULT_SIZE[kind], "params": {}}
        presets = NEURON_MODELS[model].presets
        if presets:  # a model with presets starts from its first (Izhikevich: regular spiking)
            node["params"] = {"preset": next(iter(presets))}
    elif kind == "encoder":
        if model not in ENCODER_MODELS:
            raise EditError(f"unknown encoder {model!r}")
        size = 1 if model in CURRENT_ENCODERS else DEFAULT_SIZE[kind]
        module = encoder_module(model)
        if hasattr(module, "fixed_size"):  # the size follows from the default parameters
            size = module.fixed_size(ENCODER_MODELS[model].defaults())
        node = {"id": unique_id(doc, model), "kind": kind, "model": model, "size": size,
                "params": {}}
    elif kind == "monitor":
        populations = [n["id"] for n in _nodes(doc) if n["kind"] == "population"]
        target = target if target in populations else (populations[0] if populations else None)
        if target is None:
            raise EditError("add a population first: a monitor records a population")
        node = {"id": unique_id(doc, f"{target}_monitor"), "kind": kind, "model": "state",
                "target": target, "params": {"variables": ["v"], "neurons": [0],
                                             "interval_ms": doc["simulation"].get("dt_ms", 0.1)}}
    else:
        raise EditError(f"unknown node kind {kind!r}")
    _nodes(doc).append(node)
    _positions(doc)[node["id"]] = [float(x), float(y)]
    return doc, node["id"]


def move_node(document: Document, node_id: str, x: float, y: float) -> Document:
    doc = _copy(document)
    find_node(doc, node_id)
    _positions(doc)[node_id] = [float(x), float(y)]
    return doc


def connect(document: Document, source: str, target: str) -> tuple[Document, str]:
    """Draw an edge: a projection between nodes, or point a monitor at a population.

    Returns the new document and the id of the projection or monitor that changed.
    """
    doc = _copy(document)
    src, tgt = find_node(doc, source), find_node(doc, target)
    if tgt["kind"] == "monitor":
        if src["kind"] != "population":
            raise EditError("monitors record populations; connect a population to it")
        tgt["target"] = source
        tgt["params"]["neurons"] = [i for i in tgt["params"].get("neurons", [0])
                                    if i < src.get("size", 1)] or [0]
        return doc, tgt["id"]
    if src["kind"] == "monitor":
        raise EditError("a monitor has no outputs")
    if tgt["kind"] != "population":
        raise EditError("projections end at a population (encoders have no inputs)")
    current = src["model"] in CURRENT_ENCODERS
    if src["kind"] == "encoder" or source == target:
        rule = {"rule": "all_to_all"} if current or src["kind"] == "encoder" else \
            {"rule": "fixed_probability", "p": 0.1}
    else:
        rule = {"rule": "fixed_probability", "p": 0.1}
    projection = {"id": unique_id(doc, f"{source}_to_{target}"), "source": source,
                  "target": target, "connectivity": rule, "weight": 1.0, "delay_ms": 0.0 if
                  current else doc["simulation"].get("dt_ms", 0.1), "receptor": "exc",
                  "plasticity": None}
    _projections(doc).append(projection)
    return doc, projection["id"]


def delete(document: Document, kind: str, item_id: str) -> Document:
    """Delete a node (with its projections and monitors) or a projection."""
    doc = _copy(document)
    if kind == "edge":
        if any(n["id"] == item_id and n["kind"] == "monitor" for n in _nodes(doc)):
            return delete(doc, "node", item_id)  # a monitor link: remove the monitor
        find_projection(doc, item_id)
        doc["network"]["projections"] = [p for p in _projections(doc) if p["id"] != item_id]
        return doc
    find_node(doc, item_id)
    gone = {item_id} | {n["id"] for n in _nodes(doc)
                        if n["kind"] == "monitor" and n.get("target") == item_id}
    doc["network"]["nodes"] = [n for n in _nodes(doc) if n["id"] not in gone]
    doc["network"]["projections"] = [p for p in _projections(doc)
                                     if p["source"] not in gone and p["target"] not in gone]
    for node_id in gone:
        _positions(doc).pop(node_id, None)
    record = doc["simulation"].get("record_spikes", "all")
    if isinstance(record, list):
        doc["simulation"]["record_spikes"] = [r for r in record if r not in gone]
    return doc


def set_node_param(document: Document, node_id: str, name: str, value: Any) -> Document:
    """Set one parameter of a node (``None`` removes it, restoring the default)."""
    doc = _copy(document)
    params = find_node(doc, node_id).setdefault("params", {})
    if value is None:
        params.pop(name, None)
    else:
        params[name] = value
    return doc


def vary_per_neuron(document: Document, node_id: str, name: str, dist: str) -> Document:
    """Make a population's shared parameter ``name`` a distribution ``dist`` centred on its
    current value (:func:`engine.hetero.values.centred_distribution`)."""
    node = find_node(document, node_id)
    spec = NEURON_MODELS.get(node.get("model")) if node.get("kind") == "population" else None
    param = next((p for p in spec.params if p.name == name), None) if spec else None
    if param is None or not per_neuron_spec(param):
        raise EditError(f"{name!r} of {node_id!r} cannot take a value per neuron")
    value = spec.resolve(node.get("params") or {}).get(name)
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise EditError(f"{name} of {node_id!r} is not one number")
    if dist == "lognormal" and value <= 0:
        raise EditError(f"{name} of {node_id!r} is {value:g}: a lognormal distribution has "
                        f"only positive values; choose uniform or normal")
    return set_node_param(document, node_id, name, centred_distribution(value, dist, param))


def set_node_field(document: Document, node_id: str, field: str, value: Any) -> Document:
    """Set ``size``, ``label``, ``model`` or ``target`` of a node.

    Changing the model drops parameters the new model does not have.
    """
    if field not in ("size", "label", "model", "target"):
        raise EditError(f"cannot edit {field!r} of a node")
    doc = _copy(document)
    node = find_node(doc, node_id)
    if field == "model" and value != node["model"]:
        registry = NEURON_MODELS if node["kind"] == "population" else ENCODER_MODELS
        if value not in registry:
            raise EditError(f"unknown model {value!r}")
        known = {p.name for p in registry[value].params}
        node["params"] = {k: v for k, v in node.get("params", {}).items() if k in known}
    node[field] = value
    return doc


def set_projection_field(document: Document, projection_id: str, field: str,
                         value: Any) -> Document:
    """Set a projection field: weight, delay_ms, receptor, label, connectivity, plasticity.

    Switching the receptor flips the sign of a constant weight so it stays valid.
    """
    allowed = ("weight", "delay_ms", "receptor", "label", "connectivity", "plasticity",
               "record_weights")
    if field not in allowed:
        raise EditError(f"cannot edit {field!r} of a projection")
    doc = _copy(document)
    projection = find_projection(doc, projection_id)
    if field == "receptor" and value != projection.get("receptor", "exc"):
        weight = projection.get("weight", 1.0)
        if isinstance(weight, (int, float)):
            projection["weight"] = -weight
        if value == "inh":
            projection["plasticity"] = None
    if field == "connectivity" and isinstance(value, dict):
        rule = value.get("rule")
        if rule in CONNECTIVITY_RULES:
            known = {p.name for p in CONNECTIVITY_RULES[rule].params} | {"rule"}
            value = {k: v for k, v in value.items() if k in known}
    projection[field] = value
    return doc


def set_simulation(document: Document, name: str, value: Any) -> Document:
    doc = _copy(document)
    doc["simulation"][name] = value
    return doc


def spike_nodes(document: Document) -> list[str]:
    """Ids of the nodes whose spikes can be recorded: populations and spike encoders."""
    return [n["id"] for n in _nodes(document)
            if n["kind"] == "population"
            or (n["kind"] == "encoder" and n.get("model") not in CURRENT_ENCODERS)]


def recorded_nodes(document: Document) -> list[str]:
    """The nodes of :func:`spike_nodes` whose spikes a run records."""
    record = document.get("simulation", {}).get("record_spikes", "all")
    every = spike_nodes(document)
    return every if record == "all" else [n for n in every if n in record]


def set_record_spikes(document: Document, node_ids: list[str]) -> Document:
    """Record the spikes of exactly ``node_ids`` (``simulation.record_spikes``).

    Every spiking node recorded is stored as ``"all"``, so nodes added later are recorded
    too, as in a new project; anything else as the list, in network order.
    """
    every = spike_nodes(document)
    unknown = [n for n in node_ids if n not in every]
    if unknown:
        raise EditError(f"simulation.record_spikes: {', '.join(map(str, unknown))} is not a "
                        f"population or spike encoder of this network")
    doc = _copy(document)
    chosen = [n for n in every if n in node_ids]
    doc["simulation"]["record_spikes"] = "all" if chosen == every else chosen
    return doc


def record_spikes_of(document: Document, node_id: str, recorded: bool) -> Document:
    """Start (``recorded``) or stop recording the spikes of one node."""
    current = recorded_nodes(document)
    wanted = current + [node_id] if recorded else [n for n in current if n != node_id]
    return set_record_spikes(document, wanted)


def set_energy_profile(document: Document, profile_id: str, profile: dict | None) -> Document:
    """Store (or with ``None`` remove) a user hardware profile in the project."""
    doc = _copy(document)
    profiles = doc.setdefault("energy", {}).setdefault("profiles", {})
    if profile is None:
        profiles.pop(profile_id, None)
    else:
        profiles[profile_id] = profile
    if not profiles:
        doc.pop("energy")
    return doc


def set_scenarios(document: Document, scenarios: list | None) -> Document:
    """Store the project's own scenario list (``None`` or empty: use the defaults)."""
    doc = _copy(document)
    if scenarios:
        doc["scenarios"] = scenarios
    else:
        doc.pop("scenarios", None)
    return doc


def rename_project(document: Document, name: str) -> Document:
    doc = _copy(document)
    doc["name"] = name
    return doc


class History:
    """Undo/redo of whole documents (they are small; snapshots keep the logic trivial)."""

    def __init__(self, limit: int = 200):
        self.limit = limit
        self._undo: list[Document] = []
        self._redo: list[Document] = []

    def push(self, previous: Document) -> None:
        """Record ``previous`` before an edit; a new edit clears the redo stack."""
        self._undo.append(previous)
        del self._undo[: -self.limit]
        self._redo.clear()

    def undo(self, current: Document) -> Document | None:
        if not self._undo:
            return None
        self._redo.append(current)
        return self._undo.pop()

    def redo(self, current: Document) -> Document | None:
        if not self._redo:
            return None
        self._undo.append(current)
        return self._redo.pop()

    def clear(self) -> None:
        self._undo.clear()
        self._redo.clear()

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)
