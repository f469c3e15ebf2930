"""A static drawing of a project's network: nodes where the graph editor put them, arrows for
projections (excitatory and inhibitory in different colours), for reports and image exports.

Takes the plain project document (a dict); all text is drawn on the canvas as text glyphs, so
names from a project file never become markup.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bokeh.models import Arrow, ColumnDataSource, HoverTool, LabelSet, NormalHead, Range1d
from bokeh.plotting import figure

#: Fill colour of a node by kind.
KIND_COLORS = {"population": "#1f77b4", "encoder": "#2ca02c", "monitor": "#7f7f7f"}
RECEPTOR_COLORS = {"exc": "#1b7837", "inh": "#b2182b"}
_NODE_W, _NODE_H = 150.0, 54.0  # the graph editor's node box, in layout units


def diagram_positions(document: Mapping[str, Any]) -> dict[str, tuple[float, float]]:
    """Node id -> (x, y) in layout units (y down, as in the editor).

    Positions stored in the project's ``layout`` are used; nodes without one are placed in
    columns by their distance from the inputs (sources left, targets right).
    """
    network = document.get("network", {})
    nodes = [n["id"] for n in network.get("nodes", [])]
    stored = (document.get("layout") or {}).get("positions") or {}
    depth = _depths(nodes, network.get("projections", []), network.get("nodes", []))
    per_column: dict[int, int] = {}
    positions: dict[str, tuple[float, float]] = {}
    for node in nodes:
        if node in stored:
            x, y = stored[node]
            positions[node] = (float(x), float(y))
            continue
        col = depth[node]
        row = per_column.get(col, 0)
        per_column[col] = row + 1
        positions[node] = (40.0 + 240.0 * col, 40.0 + 110.0 * row)
    return positions


def _depths(nodes: list[str], projections: list[dict], node_docs: list[dict]) -> dict[str, int]:
    """Column of each node: steps from the nearest node without inputs (breadth first, in
    document order, so a loop still reads left to right from its first node)."""
    outgoing: dict[str, list[str]] = {n: [] for n in nodes}
    has_input: set[str] = set()
    for p in projections:
        if p.get("source") in outgoing and p.get("target") in outgoing \
                and p.get("source") != p.get("target"):
            outgoing[p["source"]].append(p["target"])
            has_input.add(p["target"])
    for n in node_docs:  # a monitor sits right of what it records
        if n.get("kind") == "monitor" and n.get("target") in outgoing:
            outgoing[n["target"]].append(n["id"])
            has_input.add(n["id"])
    depth: dict[str, int] = {}
    starts = [n for n in nodes if n not in has_input]
    while len(depth) < len(nodes):
        queue = [n for n in starts if n not in depth] or \
            [next(n for n in nodes if n not in depth)]
        for n in queue:
            depth[n] = 0
        while queue:
            node = queue.pop(0)
            for nxt in outgoing[node]:
                if nxt not in depth:
                    depth[nxt] = depth[node] + 1
                    queue.append(nxt)
        starts = []
    return depth


def _box_exit(centre: tuple[float, float], towards: tuple[float, float]
              ) -> tuple[float, float]:
    """Where the line from a node's centre towards another point leaves the node's box."""
    dx, dy = towards[0] - centre[0], towards[1] - centre[1]
    scale = min(_NODE_W / 2 / abs(dx) if dx else float("inf"),
                _NODE_H / 2 / abs(dy) if dy else float("inf"), 1.0)
    return centre[0] + dx * scale, centre[1] + dy * scale


def network_figure(document: Mapping[str, Any], height: int = 320) -> Any:
    """A Bokeh figure of the network of ``document`` (a project as a dict)."""
    network = document.get("network", {})
    nodes = network.get("nodes", [])
    pos = diagram_positions(document)
    fig = figure(height=height, title="Network", tools="pan,wheel_zoom,reset,save",
                 sizing_mode="stretch_width")
    fig.toolbar.logo = None
    fig.axis.visible = False
    fig.grid.visible = False
    if not nodes:
        fig.x_range, fig.y_range = Range1d(0, 1), Range1d(0, 1)
        return fig
    centres = {n: (x + _NODE_W / 2, -(y + _NODE_H / 2)) for n, (x, y) in pos.items()}
    for proj in network.get("projections", []):
        a, b = centres.get(proj.get("source")), centres.get(proj.get("target"))
        if a is None or b is None:
            continue
        color = RECEPTOR_COLORS.get(proj.get("receptor", "exc"), "#555555")
        if a == b:  # a recurrent projection: a loop above the node
            x, y = a
            fig.arc(x=x, y=y + _NODE_H / 2, radius=22, start_angle=0.0, end_angle=3.1416,
                    color=color, line_width=2)
            continue
        (x0, y0), (x1, y1) = _box_exit(a, b), _box_exit(b, a)
        # Shift each arrow to its right, so A->B and B->A are two arrows, not one line.
        length = max(((x1 - x0) ** 2 + (y1 - y0) ** 2) ** 0.5, 1e-9)
        ox, oy = 8.0 * (y1 - y0) / length, -8.0 * (x1 - x0) / length
        x0, y0, x1, y1 = x0 + ox, y0 + oy, x1 + ox, y1 + oy
        fig.add_layout(Arrow(end=NormalHead(size=9, fill_color=color, line_color=color),
                             x_start=x0, y_start=y0, x_end=x1, y_end=y1,
                             line_color=color, line_width=2, line_alpha=0.8))
    for n in nodes:  # a monitor is tied to the population it records
        a, b = centres.get(n["id"]), centres.get(n.get("target"))
        if n.get("kind") == "monitor" and a is not None and b is not None and a != b:
            (x0, y0), (x1, y1) = _box_exit(b, a), _box_exit(a, b)
            fig.segment(x0=[x0], y0=[y0], x1=[x1], y1=[y1], color=KIND_COLORS["monitor"],
                        line_dash="dashed", line_width=1.5)
    data = {"x": [], "y": [], "id": [], "text": [], "kind": [], "model": [], "size": [],
            "color": []}
    for n in nodes:
        x, y = centres[n["id"]]
        size = n.get("size", "")
        data["x"].append(x)
        data["y"].append(y)
        data["id"].append(str(n["id"]))
        data["text"].append(f"{n.get('label') or n['id']}\n{n.get('model', '')}"
                            + (f" x{size}" if size != "" else ""))
        data["kind"].append(str(n.get("kind", "")))
        data["model"].append(str(n.get("model", "")))
        data["size"].append(str(size))
        data["color"].append(KIND_COLORS.get(n.get("kind"), "#9467bd"))
    source = ColumnDataSource(data)
    boxes = fig.rect("x", "y", width=_NODE_W, height=_NODE_H, source=source,
                     fill_color="color", fill_alpha=0.15, line_color="color", line_width=2)
    fig.add_layout(LabelSet(x="x", y="y", text="text", source=source, text_align="center",
                            text_baseline="middle", text_font_size="9pt"))
    fig.add_tools(HoverTool(renderers=[boxes], tooltips=[("node", "@id"), ("kind", "@kind"),
                                                         ("model", "@model"),
                                                         ("size", "@size")]))
    xs = [x for x, _ in centres.values()]
    ys = [y for _, y in centres.values()]
    pad = 60.0
    fig.x_range = Range1d(min(xs) - _NODE_W / 2 - pad, max(xs) + _NODE_W / 2 + pad)
    fig.y_range = Range1d(min(ys) - _NODE_H / 2 - pad, max(ys) + _NODE_H / 2 + pad)
    return fig
