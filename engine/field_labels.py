"""Field paths as the page names them: labels, not internal paths.

Validation names a field by its path in the project document
(``network.projections[poisson_to_lif].weight.value``): right for the CLI, where a person fixes
a JSON file, but not what a student sees on the page. :func:`field_label` turns a path into
the names the page shows (the node's or projection's label, a projection as "Poisson → LIF",
the field as the inspector labels it): ``Projection “Poisson → LIF”, Weight (mV)``.
:func:`problem_text` does the same for a whole :class:`~engine.errors.Problem`. A path that
names nothing known is returned as it is, so no message ever loses its place.
"""

from __future__ import annotations

import re
from typing import Any

from engine.connectivity.rules import CONNECTIVITY_RULES
from engine.errors import Problem
from engine.hetero.values import DISTS, dist_specs
from engine.monitors.specs import MONITOR_SPECS
from engine.params import ParamSpec
from engine.plasticity import PLASTICITY_RULES
from engine.project import SIMULATION_SPECS, model_spec

_ITEM_RE = re.compile(r"^network\.(nodes|projections)\[([^\]]*)\]\.?(.*)$")
#: Fields named as the inspector names them (anything else: its name in words).
_FIELDS = {"weight": "Weight", "delay_ms": "Delay", "receptor": "Receptor",
           "connectivity": "Connectivity", "plasticity": "Plasticity", "size": "Size",
           "label": "Label", "model": "Model", "source": "Source", "target": "Target",
           "id": "Id", "kind": "Kind", "params": "Parameters"}


def field_label(document: Any, path: str) -> str:
    """How the page names the field at ``path`` of ``document`` (see the module docstring).

    Parameters
    ----------
    document
        The project document the path belongs to (nodes and projections by id or index).
    path
        A validation field path, e.g. ``network.nodes[exc].params.tau_m`` or
        ``simulation.dt_ms``.
    """
    network = document.get("network") if isinstance(document, dict) else None
    match = _ITEM_RE.match(path)
    if match and isinstance(network, dict):
        group, key, rest = match.groups()
        items = network.get(group)
        item = _find(items if isinstance(items, list) else [], key)
        if item is not None:
            name = (_node_name(network, item) if group == "nodes"
                    else _projection_name(network, item))
            where = f"{'Node' if group == 'nodes' else 'Projection'} “{name}”"
            field = _item_field(item, group, rest)
            return f"{where}, {field}" if field else where
    if path.startswith("simulation."):
        return f"Simulation, {_spec_field(SIMULATION_SPECS, path.split('.', 1)[1])}"
    return path


def problem_text(document: Any, problem: Problem) -> str:
    """A problem as the page shows it: ``<field label>: <message>``."""
    if not problem.path:
        return problem.message
    return f"{field_label(document, problem.path)}: {problem.message}"


def _find(items: list, key: str) -> dict | None:
    for item in items:
        if isinstance(item, dict) and item.get("id") == key:
            return item
    if key.isdigit() and int(key) < len(items) and isinstance(items[int(key)], dict):
        return items[int(key)]
    return None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _node_name(network: dict, node: dict) -> str:
    return _text(node.get("label")) or str(node.get("id", "?"))


def _projection_name(network: dict, proj: dict) -> str:
    if _text(proj.get("label")):
        return proj["label"]
    nodes = network.get("nodes") if isinstance(network.get("nodes"), list) else []

    def end(key: str) -> str:
        node = _find(nodes, str(proj.get(key, "?")))
        return _node_name(network, node) if node is not None else str(proj.get(key, "?"))

    return f"{end('source')} → {end('target')}"


def _item_field(item: dict, group: str, rest: str) -> str:
    """The field ``rest`` of a node or projection as the inspector labels it."""
    if not rest:
        return ""
    head, _, tail = rest.partition(".")
    head_name = re.sub(r"\[.*$", "", head)
    if group == "nodes" and head_name == "params" and tail:
        specs = _node_specs(item)
        if not specs:
            return _words(tail)
        return _spec_field(specs, tail) + _dist_field(item, specs, tail)
    if group == "projections" and head_name in ("connectivity", "plasticity") and tail:
        section = item.get(head_name) if isinstance(item.get(head_name), dict) else {}
        rules = CONNECTIVITY_RULES if head_name == "connectivity" else PLASTICITY_RULES
        rule = rules.get(section.get("rule")) if isinstance(section.get("rule"), str) else None
        specs = rule.params if rule is not None else ()
        return f"{_FIELDS[head_name]}, {_spec_field(specs, tail)}"
    if group == "projections" and head_name in ("weight", "delay_ms"):
        sub = tail.split(".")[0] if tail else ""
        unit = " (mV)" if head_name == "weight" else " (ms)"
        detail = "" if sub in ("", "value") else f" {sub.replace('_', ' ')}"
        return _FIELDS[head_name] + detail + unit
    name = _FIELDS.get(head_name, _words(head_name))
    return f"{name}, {_words(tail)}" if tail else name


def _node_specs(node: dict) -> tuple[ParamSpec, ...]:
    kind, model = node.get("kind"), node.get("model")
    if kind == "monitor":
        return MONITOR_SPECS
    try:
        return model_spec(str(kind), str(model)).params
    except KeyError:
        return ()


def _spec_field(specs: tuple[ParamSpec, ...], rest: str) -> str:
    """``rest`` (``tau_m``, ``rate_table[3]``) by its spec's form label when there is one."""
    name = re.sub(r"\[.*$", "", rest.split(".")[0])
    spec = next((s for s in specs if s.name == name), None)
    label = spec.display_label if spec is not None else _words(name)
    index = re.findall(r"\[(\d+)\]", rest)
    return label + (f", entry {' / '.join(str(int(i) + 1) for i in index)}" if index else "")


def _dist_field(node: dict, specs: tuple[ParamSpec, ...], rest: str) -> str:
    """``, std (ms)`` for ``tau_m.std`` when ``tau_m`` is a distribution (as its form names
    the field); ``""`` for anything else."""
    name, _, key = rest.partition(".")
    params = node.get("params") if isinstance(node.get("params"), dict) else {}
    value = params.get(name)
    spec = next((s for s in specs if s.name == name), None)
    dist = value.get("dist") if isinstance(value, dict) else None
    if spec is None or not isinstance(dist, str) or dist not in DISTS:
        return ""
    field = next((f for f in dist_specs(spec, dist) if f.name == key.split(".")[0]), None)
    return f", {field.display_label}" if field is not None else ""


def _words(name: str) -> str:
    text = re.sub(r"\[(\d+)\]", lambda m: f" {int(m.group(1)) + 1}", name)
    return text.replace("_", " ").replace(".", ", ").strip().capitalize()
