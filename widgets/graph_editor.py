"""SVG node-link editor for the network graph.

:class:`GraphEditor` is a :class:`panel.custom.JSComponent` whose ES module
(``graph_editor.js``, styled by ``graph_editor.css``, both next to this file) has no imports, no
npm, no build step, so it works offline, under ``panel serve --dev`` and in tests. We chose
this over a bundled React Flow: our graphs have tens of nodes, so a hand-written SVG view is small
enough to own, needs no compiled bundle as package data, and exposes stable ``data-*`` hooks for
browser tests.

Data flows one way. The app sets plain data (``nodes``, ``edges``, ``positions``, ``selection``,
``palette``, ``problems``); the editor never changes the graph itself. Every user gesture is sent
to Python as an *action* dict and handed to the callbacks registered with
:meth:`GraphEditor.on_action`; the app applies it to the project (with undo/redo) and sets the new
data back. The only local state in the browser is the view (zoom/pan) and the position of a node
while it is being dragged.

Actions (all values are plain Python types)::

    {"action": "add_node", "kind": str, "model": str, "x": float, "y": float}
    {"action": "move", "id": str, "x": float, "y": float}          # sent at drag end
    {"action": "connect", "source": str, "target": str}            # target may be a monitor
    {"action": "select", "type": "node" | "edge", "id": str}
    {"action": "select"}                                            # clear the selection
    {"action": "delete", "type": "node" | "edge", "id": str}
    {"action": "undo"}
    {"action": "redo"}

Positions are node *centres* in graph coordinates (the project's ``layout.positions``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import panel as pn
import param

from engine.params import ModelSpec

if TYPE_CHECKING:  # plain data from the engine
    from engine.analysis.activity import NetworkActivity

__all__ = ["ACTIONS", "GraphEditor", "activity_data", "editor_data", "palette_items"]

log = logging.getLogger(__name__)

#: Action names the editor can send, with the keys each one carries.
ACTIONS: dict[str, tuple[str, ...]] = {
    "add_node": ("kind", "model", "x", "y"),
    "move": ("id", "x", "y"),
    "connect": ("source", "target"),
    "select": (),
    "delete": ("type", "id"),
    "undo": (),
    "redo": (),
}

ActionCallback = Callable[[dict[str, Any]], Any]


def _plain(value: Any) -> Any:
    """Copy browser data (Bokeh dict/list wrappers included) into plain JSON-able Python."""
    return json.loads(json.dumps(value, default=_json_default))


def _json_default(value: Any) -> Any:
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, Iterable) and not isinstance(value, (str, bytes)):
        return list(value)
    return str(value)


def _normalise_action(data: Any) -> dict[str, Any] | None:
    """Validate one message from the browser; return the action dict or ``None`` if malformed."""
    msg = _plain(data)
    if not isinstance(msg, dict) or msg.get("action") not in ACTIONS:
        return None
    name = msg["action"]
    if name == "select" and msg.get("type") in ("node", "edge") and msg.get("id") is not None:
        return {"action": "select", "type": msg["type"], "id": str(msg["id"])}
    if name == "select":
        return {"action": "select"}
    action: dict[str, Any] = {"action": name}
    for key in ACTIONS[name]:
        if msg.get(key) is None:
            return None
        if key in ("x", "y"):
            try:
                action[key] = float(msg[key])
            except (TypeError, ValueError):
                return None
        else:
            action[key] = str(msg[key])
    if name == "delete" and action["type"] not in ("node", "edge"):
        return None
    return action


def palette_items(
    neuron_models: Mapping[str, ModelSpec],
    encoder_models: Mapping[str, ModelSpec],
    monitor_models: Iterable[str] = ("state",),
) -> list[dict[str, str]]:
    """Palette entries for :attr:`GraphEditor.palette` from the engine's registries.

    Parameters
    ----------
    neuron_models, encoder_models
        Registries such as ``engine.neurons.NEURON_MODELS`` and ``engine.encoders.ENCODER_MODELS``.
    monitor_models
        Monitor model names (``engine.monitors.specs.MONITOR_MODELS``).

    Returns
    -------
    list of dict
        ``{"kind", "model", "title", "label", "color"}`` items in palette order: ``label`` is
        the short text on a node of that model, ``color`` its colour ("" for the kind's).
    """

    def item(kind: str, name: str, spec: ModelSpec) -> dict[str, str]:
        return {"kind": kind, "model": name, "title": spec.title, "label": spec.short_label,
                "color": spec.color}

    items = [item("population", k, m) for k, m in neuron_models.items()]
    items += [item("encoder", k, m) for k, m in encoder_models.items()]
    items += [{"kind": "monitor", "model": k, "title": "State monitor" if k == "state" else k,
               "label": k.replace("_", " ").capitalize(), "color": ""}
              for k in monitor_models]
    return items


def editor_data(document: Mapping[str, Any]) -> dict[str, Any]:
    """``nodes``, ``edges`` and ``positions`` for the editor from a project JSON document.

    Only the fields the editor draws are copied, so large parameter tables never travel to the
    browser with every edit.

    Parameters
    ----------
    document
        A project document as produced by ``Project.to_dict()``.

    Returns
    -------
    dict
        Keyword arguments for ``editor.param.update(**editor_data(doc))``.
    """
    network = document.get("network", {})
    nodes = []
    for node in network.get("nodes", []):
        item = {"id": node["id"], "kind": node.get("kind", "population"),
                "model": node.get("model", ""), "size": node.get("size", 1),
                "label": node.get("label", "")}
        if node.get("target") is not None:
            item["target"] = node["target"]
        nodes.append(item)
    edges = []
    for proj in network.get("projections", []):
        plasticity = proj.get("plasticity") or None
        edges.append({"id": proj["id"], "source": proj["source"], "target": proj["target"],
                      "receptor": proj.get("receptor", "exc"), "plastic": plasticity is not None,
                      "rule": plasticity.get("rule", "") if plasticity else ""})
    positions = {k: [float(v[0]), float(v[1])]
                 for k, v in document.get("layout", {}).get("positions", {}).items()}
    return {"nodes": nodes, "edges": edges, "positions": positions}


def activity_data(activity: NetworkActivity, nodes: Iterable[str] | None = None) -> dict:
    """:attr:`GraphEditor.activity` from an ``engine.analysis.activity.NetworkActivity``.

    Parameters
    ----------
    activity
        The run's frames (``engine.analysis.activity.network_activity``).
    nodes
        Nodes to tint (default: every node of ``activity``). Leave out nodes whose rate means
        nothing, such as current inputs (they carry no spikes); their projections go too.

    Returns
    -------
    dict
        ``times_ms``, ``step_ms``, ``window_ms``, ``max_rate_hz``, ``nodes`` (id -> rate per
        frame, Hz per neuron) and ``edges`` (projection id -> ``events`` and ``spikes`` per
        frame): plain lists, rates rounded to 0.001 Hz.
    """
    keep = list(activity.rates_hz) if nodes is None else [n for n in nodes
                                                          if n in activity.rates_hz]
    rates = {n: np.round(activity.rates_hz[n], 3).tolist() for n in keep}
    peak = max((max(r) for r in rates.values() if r), default=0.0)
    edges = {pid: {"events": activity.events[pid].tolist(),
                   "spikes": activity.spikes[pid].tolist()}
             for pid in activity.events if activity.sources.get(pid) in rates}
    return {"times_ms": activity.times_ms.tolist(), "step_ms": activity.step_ms,
            "window_ms": activity.window_ms, "max_rate_hz": float(peak), "nodes": rates,
            "edges": edges}


# The editor's ES module and stylesheet live next to this file (package data; no build step).
# Panel reads the module from the path and sends it inline; the stylesheet is read here so it
# stays inline in the component too (no extra request, styled on first paint).
_HERE = Path(__file__).resolve().parent
_ESM_PATH = _HERE / "graph_editor.js"
_CSS = (_HERE / "graph_editor.css").read_text(encoding="utf-8")


class GraphEditor(pn.custom.JSComponent):
    """SVG node-link editor for populations, encoders, monitors and projections.

    The editor only displays the data it is given and reports what the user does; see the
    module docstring for the action payloads.

    Parameters
    ----------
    nodes
        ``{"id", "kind", "model", "size", "label", "target"}`` dicts; ``kind`` is
        ``population``, ``encoder`` or ``monitor`` (monitors name the recorded population in
        ``target``).
    edges
        ``{"id", "source", "target", "receptor": "exc" | "inh", "plastic": bool, "rule": str}``.
    positions
        ``{node_id: [x, y]}`` node centres in graph coordinates. Nodes without a position are
        placed in a free slot of their kind's column (encoders, populations, monitors from left
        to right); that placement is not sent back.
    selection
        ``{"type": "node" | "edge", "id": ...}`` or ``{}``.
    palette
        ``{"kind", "model", "title", "label", "color"}`` items offered for adding (see
        :func:`palette_items`); a node's short label and colour are its model's item's.
    problems
        ``{node_or_edge_id: message}`` drawn as a red outline with the message as tooltip.
    activity, cursor_channel
        A run's activity (:func:`activity_data`) and the time cursor to show it at: at the
        cursor time each node is tinted by its rate (legend top left, the rate on the node
        and in its tooltip) and each projection pulses with the spikes it carries (width and
        opacity relative to its own busiest frame; the dashes flow while the cursor plays).

    Examples
    --------
    >>> editor = GraphEditor(palette=palette_items(NEURON_MODELS, ENCODER_MODELS))
    >>> editor.on_action(lambda action: print(action))  # doctest: +SKIP
    """

    nodes = param.List(default=[], doc="Nodes to draw (plain dicts).")
    edges = param.List(default=[], doc="Projections to draw (plain dicts).")
    positions = param.Dict(default={}, doc="Node centres {id: [x, y]}.")
    selection = param.Dict(default={}, doc='{"type": "node"|"edge", "id": ...} or {}.')
    palette = param.List(default=[], doc="Items the user can add: {kind, model, title, "
                         "label, color}; labels and colours of nodes come from here too.")
    problems = param.Dict(default={}, doc="Validation messages by node or edge id.")
    fit_request = param.Integer(default=0, doc="Increment to fit the whole graph into view "
                                "(e.g. after opening another project).")
    activity = param.Dict(default={}, doc="Per-frame activity of the shown run "
                          "(:func:`activity_data`), drawn at the time cursor; {} for none.")
    cursor_channel = param.String(default="", doc="Channel of the page's time cursor "
                                  "(``widgets.time_cursor.TimeCursor.channel``) to follow.")

    _esm = _ESM_PATH
    _stylesheets = [_CSS]

    def __init__(self, **params: Any) -> None:
        params.setdefault("height", 520)
        params.setdefault("sizing_mode", "stretch_width")
        super().__init__(**params)
        self._action_callbacks: list[ActionCallback] = []

    def on_action(self, callback: ActionCallback) -> ActionCallback:
        """Register ``callback(action: dict)`` for every user action; returns ``callback``."""
        self._action_callbacks.append(callback)
        return callback

    def remove_on_action(self, callback: ActionCallback) -> None:
        """Unregister a callback added with :meth:`on_action`."""
        self._action_callbacks = [cb for cb in self._action_callbacks if cb != callback]

    def _handle_msg(self, data: Any) -> None:
        action = _normalise_action(data)
        if action is None:
            log.warning("GraphEditor ignored a malformed message: %r", data)
            return
        self.dispatch(action)

    def dispatch(self, action: dict[str, Any]) -> None:
        """Deliver ``action`` to the registered callbacks (also handy in tests).

        A failing callback is logged and does not stop the others: one broken listener must
        not make the editor unresponsive.
        """
        for callback in list(self._action_callbacks):
            try:
                callback(dict(action))
            except Exception:
                log.exception("GraphEditor action callback failed for %r", action)
