"""What changed between two versions of a project document, as short readable lines.

Comparing two runs asks "what did I change?": :func:`project_differences` walks two project
documents and lists every difference that can change what a run computes, e.g.
``exc.tau_m: 20 → 10 ms`` or ``duration: 1000 → 500 ms``. Parts that do not change a run
(layout, lab notes, description, names and labels) are ignored, and a node parameter left out
of one document compares equal to the same value written out (defaults are filled in from the
model registry first).

Pure functions on plain dicts: no validation here, so documents that are not (or no longer)
valid still give a best-effort answer instead of an error.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from engine.connectivity.rules import CONNECTIVITY_RULES
from engine.hetero.values import is_per_neuron, summary_text
from engine.monitors.specs import MONITOR_SPECS
from engine.plasticity import PLASTICITY_RULES
from engine.project import SIMULATION_SPECS, model_spec

#: Top-level parts of a document that do not change what a run computes.
NOT_MODEL = ("layout", "lab", "description", "name")
# Also not worth a line: the file format marker and a node's or projection's display label.
_IGNORED_TOP = NOT_MODEL + ("format", "version")
_IGNORED_ITEM_KEYS = ("label",)
#: Order of the top-level sections in the list (the rest follow alphabetically).
_SECTION_ORDER = ("simulation", "network")

__all__ = ["NOT_MODEL", "Difference", "difference_lines", "project_differences"]


class _Missing:
    """A key one of the two documents does not have."""

    def __repr__(self) -> str:
        return "(not set)"


MISSING = _Missing()


@dataclass(frozen=True)
class Difference:
    """One changed value between two project documents.

    Attributes
    ----------
    path
        Where it is in the document, dotted, with node and projection ids in place of list
        indices (``network.nodes.exc.params.tau_m``).
    label
        The short name a user reads (``exc.tau_m``, ``duration``, ``exc_to_inh.p``).
    before, after
        The two values; :data:`MISSING` when one document does not have it.
    unit
        Unit of the value ("" for none).
    """

    path: str
    label: str
    before: Any
    after: Any
    unit: str = ""
    per_neuron: bool = False  # a population's parameter: lists are one value per neuron

    @property
    def text(self) -> str:
        """``exc.tau_m: 20 → 10 ms`` (plain text); a population's per-neuron list reads
        ``per neuron: mean 10.2 / min 8 / max 12 ms (5 values)``."""
        if self.before is MISSING and isinstance(self.after, _Added):
            return f"{self.label} added{self.after.what}"
        if self.after is MISSING and isinstance(self.before, _Added):
            return f"{self.label} removed"
        if self.per_neuron and (is_per_neuron(self.before) or is_per_neuron(self.after)):
            def show(value: Any) -> str:
                if is_per_neuron(value):
                    return summary_text(value, self.unit)
                unit = f" {self.unit}" if self.unit and _is_number(value) else ""
                return format_value(value) + unit
            return f"{self.label}: {show(self.before)} → {show(self.after)}"
        unit = f" {self.unit}" if self.unit and _is_number(self.before, self.after) else ""
        return f"{self.label}: {format_value(self.before)} → {format_value(self.after)}{unit}"


@dataclass(frozen=True)
class _Added:
    """A whole node or projection that only one document has (``what`` describes it)."""

    what: str


def project_differences(before: Mapping[str, Any] | None,
                        after: Mapping[str, Any] | None) -> list[Difference]:
    """Every difference between two project documents that can change a run.

    Parameters
    ----------
    before, after
        Project documents (dicts as in a project file), e.g. the pinned run's and the current
        run's.

    Returns
    -------
    list of Difference
        Simulation settings first, then nodes and projections in document order (an added or
        removed node or projection is one entry), then the other sections. Empty when the two
        documents run the same model.
    """
    before, after = dict(before or {}), dict(after or {})
    keys = _ordered_keys(before, after, skip=_IGNORED_TOP)
    keys.sort(key=lambda k: (_SECTION_ORDER.index(k), "") if k in _SECTION_ORDER
              else (len(_SECTION_ORDER), k))
    out: list[Difference] = []
    for key in keys:
        a, b = before.get(key, MISSING), after.get(key, MISSING)
        if key == "simulation" and isinstance(a, dict) and isinstance(b, dict):
            _diff_mapping(out, ("simulation",), a, b, _simulation_unit, label=_simulation_label)
        elif key == "network" and isinstance(a, dict) and isinstance(b, dict):
            _diff_network(out, a, b)
        else:
            _diff_value(out, (key,), a, b, lambda path: "", label=".".join)
    return out


def difference_lines(differences: Iterable[Difference], limit: int = 8) -> list[str]:
    """The differences' texts, at most ``limit`` lines (the last says how many more there are).
    """
    texts = [d.text for d in differences]
    if len(texts) <= limit:
        return texts
    shown = texts[:max(limit - 1, 0)]
    return [*shown, f"… and {len(texts) - len(shown)} more"]


# ---------------------------------------------------------------------------- values
_MAX_TEXT = 60  # a settings dict (a plasticity rule) is cut to about this many characters


def format_value(value: Any) -> str:
    """A value as a short text: ``20``, ``0.022``, ``lif``, ``[0, 1, 2]``, ``normal(mean=1)``."""
    if value is MISSING:
        return "(not set)"
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return _number(value)
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)):
        if len(value) > 6:
            return f"[{', '.join(format_value(v) for v in value[:4])}, … {len(value):,} items]"
        return f"[{', '.join(format_value(v) for v in value)}]"
    if isinstance(value, dict):
        kind = value.get("dist", value.get("rule"))
        rest = [f"{k}={format_value(v)}" for k, v in value.items() if k not in ("dist", "rule")]
        text = (f"{format_value(kind)}({', '.join(rest)})" if kind is not None
                else "{" + ", ".join(rest) + "}")
        return text if len(text) <= _MAX_TEXT else f"{text[:_MAX_TEXT - 1]}…"
    return str(value)


def _number(value: float) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    # 0.022000000000000002 reads as 0.022; large seeds and sizes keep every digit.
    if isinstance(value, int) or (float(value).is_integer() and abs(value) < 1e15):
        return f"{int(value)}"
    return f"{value:.6g}"


def _is_number(*values: Any) -> bool:
    """True when every value that is present is a number (units are shown for numbers)."""
    present = [v for v in values if v is not MISSING and v is not None]
    return bool(present) and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                 for v in present)


# ---------------------------------------------------------------------------- walking
def _ordered_keys(a: Mapping, b: Mapping, skip: Iterable[str] = ()) -> list[str]:
    """Keys of ``a`` then the new keys of ``b``, without ``skip``."""
    skip = set(skip)
    keys = [k for k in a if k not in skip]
    return keys + [k for k in b if k not in skip and k not in a]


def _diff_value(out: list[Difference], path: tuple[str, ...], a: Any, b: Any, unit, label
                ) -> None:
    """Recurse into two dicts with the same ``dist``/``rule``; anything else is one leaf."""
    if isinstance(a, dict) and isinstance(b, dict) and (
            a.get("dist") == b.get("dist") and a.get("rule") == b.get("rule")):
        _diff_mapping(out, path, a, b, unit, label)
    elif not _equal(a, b):
        out.append(Difference(".".join(path), label(path), a, b, unit(path)))


def _diff_mapping(out: list[Difference], path: tuple[str, ...], a: Mapping, b: Mapping, unit,
                  label) -> None:
    for key in _ordered_keys(a, b):
        _diff_value(out, (*path, str(key)), a.get(key, MISSING), b.get(key, MISSING), unit,
                    label)


def _equal(a: Any, b: Any) -> bool:
    if _is_number(a, b) and a is not MISSING and b is not MISSING:
        return float(a) == float(b)
    return a == b


def _by_id(items: Any) -> dict[str, dict]:
    """A list of nodes or projections keyed by id (anything malformed is skipped)."""
    if not isinstance(items, list):
        return {}
    return {str(item["id"]): item for item in items if isinstance(item, dict) and "id" in item}


def _diff_network(out: list[Difference], a: Mapping, b: Mapping) -> None:
    nodes_a, nodes_b = _by_id(a.get("nodes")), _by_id(b.get("nodes"))
    for node_id in _ordered_keys(nodes_a, nodes_b):
        _diff_item(out, "nodes", node_id, nodes_a.get(node_id), nodes_b.get(node_id))
    proj_a, proj_b = _by_id(a.get("projections")), _by_id(b.get("projections"))
    for proj_id in _ordered_keys(proj_a, proj_b):
        _diff_item(out, "projections", proj_id, proj_a.get(proj_id), proj_b.get(proj_id))


def _diff_item(out: list[Difference], group: str, item_id: str, a: dict | None,
               b: dict | None) -> None:
    """One node or projection: added, removed, or its changed fields."""
    path = f"network.{group}.{item_id}"
    kind = "node" if group == "nodes" else "projection"
    if a is None or b is None:
        present = a if a is not None else b
        what = _added_what(group, present)
        out.append(Difference(path, f"{kind} {item_id}",
                              MISSING if a is None else _Added(what),
                              MISSING if b is None else _Added(what)))
        return
    a, b = _resolved(group, a), _resolved(group, b)
    base = ("network", group, item_id)
    if group == "nodes" and a.get("model") != b.get("model"):
        # Another model: its parameters are another model's, one line says it all.
        keys = [k for k in _ordered_keys(a, b, skip=_IGNORED_ITEM_KEYS) if k != "params"]
    else:
        keys = _ordered_keys(a, b, skip=_IGNORED_ITEM_KEYS)
    unit = _item_unit(group, a)
    first = len(out)
    for key in keys:
        if key == "id":
            continue
        _diff_value(out, (*base, key), a.get(key, MISSING), b.get(key, MISSING), unit,
                    _item_label)
    if group == "nodes" and a.get("kind") == "population":
        params = f"{path}.params."
        out[first:] = [replace(d, per_neuron=True) if d.path.startswith(params) else d
                       for d in out[first:]]


def _added_what(group: str, item: dict) -> str:
    """`` (lif population, 100 neurons)`` / `` (exc → inh)``: what was added."""
    if group == "projections":
        return f" ({item.get('source', '?')} → {item.get('target', '?')})"
    kind = item.get("kind", "node")
    size = item.get("size")
    count = f", {format_value(size)} neurons" if isinstance(size, int) and kind != "monitor" else ""
    return f" ({item.get('model', '?')} {kind}{count})"


def _resolved(group: str, item: dict) -> dict:
    """``item`` with its model's defaults filled in (so "left out" equals "the default")."""
    item = dict(item)
    if group == "nodes":
        params = item.get("params") if isinstance(item.get("params"), dict) else {}
        try:
            if item.get("kind") == "monitor":
                resolved = {p.name: p.default for p in MONITOR_SPECS} | params
            else:
                resolved = model_spec(item.get("kind"), item.get("model")).resolve(params)
                if "preset" in params:
                    resolved["preset"] = params["preset"]
        except (KeyError, TypeError, AttributeError):  # unknown model: compare as written
            resolved = params
        item["params"] = resolved
        item.setdefault("size", 1)
    else:
        conn = item.get("connectivity")
        if isinstance(conn, dict) and conn.get("rule") in CONNECTIVITY_RULES:
            spec = CONNECTIVITY_RULES[conn["rule"]]
            item["connectivity"] = {"rule": conn["rule"],
                                    **spec.resolve({k: v for k, v in conn.items()
                                                    if k != "rule"})}
        plastic = item.get("plasticity")
        if isinstance(plastic, dict) and plastic.get("rule") in PLASTICITY_RULES:
            spec = PLASTICITY_RULES[plastic["rule"]]
            item["plasticity"] = {"rule": plastic["rule"],
                                  **spec.resolve({k: v for k, v in plastic.items()
                                                  if k != "rule"})}
    return item


# ---------------------------------------------------------------------------- names, units
_SIM_UNITS = {spec.name: spec.unit for spec in SIMULATION_SPECS}
_SUFFIX_UNITS = {"_ms": "ms", "_hz": "Hz", "_mb": "MB", "_mv": "mV"}
#: Path parts that only say where a value lives: the label leaves them out.
_STRUCTURE = ("params", "connectivity")


def _simulation_label(path: tuple[str, ...]) -> str:
    return _strip_unit_suffix(".".join(path[1:]))


def _simulation_unit(path: tuple[str, ...]) -> str:
    return _SIM_UNITS.get(path[-1], "") if len(path) == 2 else _suffix_unit(path[-1])


def _item_label(path: tuple[str, ...]) -> str:
    """``network.nodes.exc.params.tau_m`` -> ``exc.tau_m``; ``...delay_ms`` -> ``....delay``."""
    parts = [p for p in path[2:-1] if p not in _STRUCTURE] + [path[-1]]
    return _strip_unit_suffix(".".join(parts))


def _strip_unit_suffix(label: str) -> str:
    for suffix in _SUFFIX_UNITS:
        if label.endswith(suffix) and len(label) > len(suffix):
            return label[:-len(suffix)]
    return label


def _suffix_unit(name: str) -> str:
    return next((u for s, u in _SUFFIX_UNITS.items() if name.endswith(s)), "")


def _item_unit(group: str, a: dict):
    """The unit function of one node's or projection's paths (from the model registries)."""
    def unit(path: tuple[str, ...]) -> str:
        name = path[-1]
        field = path[3] if len(path) > 3 else ""
        try:
            if group == "nodes" and field == "params" and len(path) == 5:
                if a.get("kind") == "monitor":
                    return next(p.unit for p in MONITOR_SPECS if p.name == name)
                return model_spec(a.get("kind"), a.get("model")).param(name).unit
            if field == "connectivity" and len(path) == 5:
                return CONNECTIVITY_RULES[a["connectivity"]["rule"]].param(name).unit
            if field == "plasticity" and len(path) == 5:
                return PLASTICITY_RULES[a["plasticity"]["rule"]].param(name).unit
        except (KeyError, TypeError, StopIteration):
            pass
        if field == "weight":
            return "mV"
        return _suffix_unit(name) if field != "size" else ""
    return unit
