"""Graph editor and parameter form driven by a real mouse and keyboard in Chromium."""

from __future__ import annotations

import itertools
import threading
from typing import Any

import panel as pn
import pytest

from engine.encoders import ENCODER_MODELS
from engine.neurons import NEURON_MODELS
from widgets.graph_editor import GraphEditor, editor_data, palette_items
from widgets.param_form import ParamForm

pytestmark = pytest.mark.browser

SAMPLE = {
    "network": {
        "nodes": [
            {"id": "drive", "kind": "encoder", "model": "poisson", "size": 200,
             "label": "Poisson drive"},
            {"id": "exc", "kind": "population", "model": "lif", "size": 4000,
             "label": "Excitatory"},
            {"id": "inh", "kind": "population", "model": "lif", "size": 1000,
             "label": "Inhibitory"},
            {"id": "vm", "kind": "monitor", "model": "state", "size": 1, "target": "exc",
             "label": "Membrane"},
        ],
        "projections": [
            {"id": "in_exc", "source": "drive", "target": "exc", "receptor": "exc",
             "plasticity": {"rule": "stdp"}},
            {"id": "exc_inh", "source": "exc", "target": "inh", "receptor": "exc"},
            {"id": "inh_exc", "source": "inh", "target": "exc", "receptor": "inh"},
            {"id": "exc_exc", "source": "exc", "target": "exc", "receptor": "exc"},
        ],
    },
    "layout": {"positions": {"drive": [0, 60], "exc": [300, 0], "inh": [300, 170],
                             "vm": [600, 0]}},
}


class EditorApp:
    """A stand-in for the workbench: applies editor actions to plain data and sets it back."""

    def __init__(self, **data: Any) -> None:
        self.actions: list[dict[str, Any]] = []
        self.initial = data
        self.editor: GraphEditor | None = None
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def __call__(self) -> pn.viewable.Viewable:
        self.editor = GraphEditor(palette=palette_items(NEURON_MODELS, ENCODER_MODELS),
                                  height=560, **self.initial)
        self.editor.on_action(self.apply)
        return pn.Column(self.editor, sizing_mode="stretch_width")

    def names(self) -> list[str]:
        return [a["action"] for a in self.actions]

    def apply(self, action: dict[str, Any]) -> None:
        with self._lock:
            self.actions.append(action)
        ed = self.editor
        assert ed is not None
        kind = action["action"]
        if kind == "add_node":
            node_id = f"{action['kind'][:3]}{next(self._ids)}"
            node = {"id": node_id, "kind": action["kind"], "model": action["model"],
                    "size": 100, "label": ""}
            ed.param.update(nodes=[*ed.nodes, node],
                            positions={**ed.positions, node_id: [action["x"], action["y"]]})
        elif kind == "move":
            ed.positions = {**ed.positions, action["id"]: [action["x"], action["y"]]}
        elif kind == "connect":
            edge = {"id": f"p{next(self._ids)}", "source": action["source"],
                    "target": action["target"], "receptor": "exc", "plastic": False, "rule": ""}
            ed.edges = [*ed.edges, edge]
        elif kind == "select":
            ed.selection = {"type": action["type"], "id": action["id"]} if "id" in action else {}
        elif kind == "delete" and action["type"] == "edge":
            ed.param.update(edges=[e for e in ed.edges if e["id"] != action["id"]], selection={})


def _centre(locator: Any) -> tuple[float, float]:
    """Centre of an element on screen (retried: a redraw may replace it while we measure)."""
    for _ in range(50):
        locator.wait_for()
        box = locator.bounding_box()
        if box is not None:
            return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    raise AssertionError(f"{locator} never settled on screen")


def _drag(page: Any, start: tuple[float, float], end: tuple[float, float]) -> None:
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(*end, steps=12)
    page.mouse.up()


def test_editor_gestures_send_actions(serve_app, goto_app, wait_until, save_screenshot):
    app = EditorApp()
    page = goto_app(serve_app(app))
    nodes = page.locator("[data-node-id]")

    page.get_by_test_id("palette-population-lif").click()
    wait_until(lambda: "add_node" in app.names(), message="add_node from palette")
    nodes.first.wait_for()
    page.get_by_test_id("palette-encoder-poisson").click()
    nodes.nth(1).wait_for()  # nodes appear once the app has applied the action
    assert [a["kind"] for a in app.actions if a["action"] == "add_node"] == [
        "population", "encoder"]
    pop, enc = "pop1", "enc2"

    # Dragging a node moves it locally and sends one "move" at the end.
    before = list(app.editor.positions[pop])
    x, y = _centre(page.locator(f'[data-node-id="{pop}"] .body'))
    _drag(page, (x - 30, y), (x + 270, y - 20))
    wait_until(lambda: "move" in app.names(), message="move after node drag")
    moves = [a for a in app.actions if a["action"] == "move"]
    assert len(moves) == 1 and moves[0]["id"] == pop
    assert moves[0]["x"] > before[0] + 100

    # Drag from the encoder's output handle onto the population: a new edge.
    wait_until(lambda: app.editor.positions[pop][0] == moves[0]["x"], message="move applied")
    page.wait_for_timeout(200)  # let the new positions reach the browser
    handle = _centre(page.locator(f'[data-node-id="{enc}"] [data-handle="out"]'))
    _drag(page, handle, _centre(page.locator(f'[data-node-id="{pop}"] .body')))
    wait_until(lambda: "connect" in app.names(), message="connect after handle drag")
    assert [a for a in app.actions if a["action"] == "connect"] == [
        {"action": "connect", "source": enc, "target": pop}]
    edge = page.locator("[data-edge-id]")
    edge.wait_for()
    save_screenshot("connected")

    # Click the edge to select it, then Delete removes it.
    point = edge.locator(".line").evaluate(
        """p => { const L = p.getTotalLength(), q = p.getPointAtLength(L / 2),
                  m = p.getScreenCTM();
                  return [q.x * m.a + q.y * m.c + m.e, q.x * m.b + q.y * m.d + m.f]; }""")
    page.mouse.click(*point)
    wait_until(lambda: app.editor.selection.get("type") == "edge", message="edge selected")
    page.locator('[data-edge-id].selected').wait_for()
    assert page.get_by_test_id("delete-selection").is_enabled()
    page.keyboard.press("Delete")
    wait_until(lambda: "delete" in app.names(), message="delete on Delete key")
    assert app.actions[-1]["type"] == "edge"
    edge.wait_for(state="detached")

    # Keyboard shortcuts inside the editor.
    page.keyboard.press("Control+z")
    page.keyboard.press("Control+Shift+z")
    page.keyboard.press("Control+y")
    wait_until(lambda: app.names()[-3:] == ["undo", "redo", "redo"], message="undo/redo keys")

    # Clicking the background clears the selection; fit keeps every node in view.
    page.get_by_test_id("fit-view").click()
    page.wait_for_timeout(100)
    canvas = page.locator(".ss-ge-canvas").bounding_box()
    for i in range(nodes.count()):
        box = nodes.nth(i).bounding_box()
        assert canvas["x"] <= box["x"] and box["x"] + box["width"] <= canvas["x"] + canvas[
            "width"]


def test_editor_renders_network(serve_app, goto_app, save_screenshot):
    data = editor_data(SAMPLE)
    app = EditorApp(**data, selection={"type": "edge", "id": "exc_inh"},
                    problems={"inh": "size must be >= 1"})
    page = goto_app(serve_app(app))
    page.locator('[data-node-id="vm"]').wait_for()

    assert page.locator("[data-node-id]").count() == 4
    assert page.locator("[data-edge-id]").count() == 4
    assert "LIF · 4000" in page.locator('[data-node-id="exc"]').text_content()
    assert "inh" in page.locator('[data-edge-id="inh_exc"]').get_attribute("class")
    plastic = page.locator('[data-edge-id="in_exc"]')
    assert "plastic" in plastic.get_attribute("class")
    assert plastic.locator(".label").text_content() == "stdp"
    assert page.locator('[data-monitor-link="vm"]').count() == 1
    assert page.locator('[data-node-id="inh"]').get_attribute("data-problem") == (
        "size must be >= 1")
    assert "selected" in page.locator('[data-edge-id="exc_inh"]').get_attribute("class")
    save_screenshot("network")


def test_param_form_validates_inline(serve_app, goto_app, wait_until, save_screenshot):
    calls: list[tuple[str, Any]] = []

    def factory() -> pn.viewable.Viewable:
        form = ParamForm(specs=NEURON_MODELS["lif"].params, values={"tau_m": 10.0},
                         title="Leaky integrate-and-fire")
        form.on_change(lambda name, value: calls.append((name, value)))
        return pn.Column(form, width=360)

    page = goto_app(serve_app(factory))
    field = page.locator(".param-tau_m input")
    field.fill("-5")
    field.press("Tab")
    error = page.locator(".ss-param-error")
    error.wait_for()
    assert "must be > 0 ms" in error.inner_text()
    save_screenshot("invalid")
    page.wait_for_timeout(200)
    assert calls == []

    field.fill("20")
    field.press("Tab")
    wait_until(lambda: calls == [("tau_m", 20.0)], message="on_change with a valid value")
    error.wait_for(state="hidden")


def test_palette_drag_zoom_and_monitor_connect(serve_app, goto_app, wait_until):
    data = editor_data(SAMPLE)
    data["nodes"] = [n for n in data["nodes"] if n["id"] != "vm"]
    app = EditorApp(**data)
    page = goto_app(serve_app(app))
    page.locator('[data-node-id="exc"]').wait_for()

    # Drag a monitor from the palette onto an empty part of the canvas.
    canvas = page.locator(".ss-ge-canvas").bounding_box()
    drop = (canvas["x"] + canvas["width"] - 160, canvas["y"] + canvas["height"] - 90)
    item = page.get_by_test_id("palette-monitor-state")
    item.scroll_into_view_if_needed()  # the palette scrolls: every neuron model is listed
    _drag(page, _centre(item), drop)
    wait_until(lambda: "add_node" in app.names(), message="add_node from palette drag")
    added = app.actions[-1]
    assert (added["kind"], added["model"]) == ("monitor", "state")
    monitor = page.locator('[data-kind="monitor"]')
    monitor.wait_for()
    mon_id = monitor.get_attribute("data-node-id")

    # Shift-drag from the monitor onto a population: normalised to population -> monitor.
    page.keyboard.down("Shift")
    _drag(page, _centre(monitor.locator(".body")), _centre(page.locator(
        '[data-node-id="inh"] .body')))
    page.keyboard.up("Shift")
    wait_until(lambda: "connect" in app.names(), message="connect to monitor")
    assert app.actions[-1] == {"action": "connect", "source": "inh", "target": mon_id}

    # Wheel zooms around the pointer; background drag pans without any action.
    label = page.locator(".ss-ge-zoom")
    before = label.text_content()
    page.mouse.move(canvas["x"] + 300, canvas["y"] + 300)
    page.mouse.wheel(0, -400)
    page.wait_for_function(
        "([el, b]) => el.textContent !== b", arg=[label.element_handle(), before])
    count = len(app.actions)
    _drag(page, (canvas["x"] + 40, canvas["y"] + 60), (canvas["x"] + 140, canvas["y"] + 120))
    page.wait_for_timeout(200)
    assert len(app.actions) == count


def test_guard_records_off_host_requests_and_console_errors(
        serve_app, goto_app, browser_guard, wait_until):
    page = goto_app(serve_app(lambda: pn.pane.Markdown("guard check")))
    page.evaluate("() => fetch('http://example.com/x').catch(() => null)")
    page.evaluate("() => console.error('deliberate test error')")
    wait_until(lambda: len(browser_guard.problems()) >= 3,
               message="the off-host request, its console error and ours recorded")
    assert browser_guard.off_host == ["http://example.com/x"]
    assert any("deliberate test error" in m for m in browser_guard.console_errors)
    # The aborted request also logs "ERR_BLOCKED_BY_CLIENT" to the console.
    assert len(browser_guard.take_new()) == 3
    browser_guard.reset()  # provoked on purpose: do not fail this test


# WCAG contrast ratio of each tinted node's texts (title, badge, rate) on its tint.
TEXT_CONTRAST = """() => {
  const rgb = (s) => (s.match(/[0-9.]+/g) || []).slice(0, 3).map(Number);
  const lum = (c) => {
    const [r, g, b] = c.map((v) => {
      const x = v / 255;
      return x <= 0.04045 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const ratio = (a, b) => (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  const find = (root, out) => {
    out.push(...root.querySelectorAll("g.ss-node.ss-active"));
    for (const el of root.querySelectorAll("*")) if (el.shadowRoot) find(el.shadowRoot, out);
    return out;
  };
  return find(document, []).map((g) => {
    const tint = lum(rgb(getComputedStyle(g.querySelector(".body")).fill));
    const texts = [...g.querySelectorAll(".title, .badge, .ss-rate")];
    return {id: g.dataset.nodeId,
            worst: Math.min(...texts.map((t) => ratio(tint, lum(rgb(getComputedStyle(t).fill)))))};
  });
}"""


def test_node_text_is_readable_on_every_activity_tint(serve_app, goto_app, save_screenshot):
    """Issue 18: the text of a node tinted by its rate keeps a contrast ratio of 4.5 (WCAG
    AA) on every tint of the scale, the grey badge and the rate included."""
    rates = [0.0, 3.0, 10.0, 20.0, 30.0, 40.0, 45.0, 50.0, 60.0, 80.0, 100.0]
    nodes = [{"id": f"p{i}", "kind": "population", "model": "lif", "size": 100,
              "label": f"Population {i}"} for i in range(len(rates))]
    positions = {f"p{i}": [150 + 230 * (i % 4), 60 + 110 * (i // 4)] for i in range(len(rates))}
    activity = {"times_ms": [0.0], "step_ms": 1.0, "window_ms": 1.0, "max_rate_hz": 100.0,
                "nodes": {f"p{i}": [r] for i, r in enumerate(rates)}, "edges": {}}
    app = EditorApp(nodes=nodes, positions=positions, activity=activity)
    page = goto_app(serve_app(app))
    page.locator("[data-node-id='p10'].ss-active").wait_for()
    contrast = page.evaluate(TEXT_CONTRAST)
    assert len(contrast) == len(rates)
    too_low = [c for c in contrast if c["worst"] < 4.5]
    assert not too_low, too_low
    save_screenshot("tints")
