"""The model side of the page: the graph editor and, under it, the inspector of its selection.

Edits made in either are undoable edits of the session's project (``workbench.edits``); the
inspector shows the selected node or projection (or the simulation settings) with its problems
and, for a sweepable parameter, a shortcut to the Sweep tab.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import panel as pn

from engine.encoders import ENCODER_MODELS
from engine.errors import SpikeStudioError
from engine.monitors.specs import MONITOR_MODELS
from engine.neurons import NEURON_MODELS
from widgets.graph_editor import GraphEditor, editor_data, palette_items
from workbench import edits
from workbench.inspector import (
    PendingInputs,
    item_prefix,
    item_problems,
    node_inspector,
    projection_inspector,
    simulation_inspector,
)
from workbench.results_view import ResultsView
from workbench.session import ProjectSession
from workbench.style import html_pane, text_html
from workbench.sweep_tab import sweep_this_parameter, sweepable_fields


class ModelPanel(pn.viewable.Viewer):
    """The graph editor and the inspector of one session's project.

    Parameters
    ----------
    session : ProjectSession
        The project edited.
    edit : callable
        ``edit(edit_function, *args)``: an undoable edit; its result, or None when it failed
        (the error is shown).
    results : ResultsView
        The results: the editor shows the run's activity; "Sweep this parameter" opens its
        Sweep tab.
    undo, redo : callable
        What the editor's Undo/Redo keys do.
    """

    def __init__(self, session: ProjectSession, edit: Callable[..., Any], results: ResultsView,
                 undo: Callable[[], None], redo: Callable[[], None], **params: Any):
        super().__init__(**params)
        self.session, self._edit, self.results = session, edit, results
        self._undo, self._redo = undo, redo
        self._inspected: tuple | None = None  # the selection the inspector shows
        self.editor = GraphEditor(palette=palette_items(NEURON_MODELS, ENCODER_MODELS,
                                                        MONITOR_MODELS),
                                  height=470, sizing_mode="stretch_width")
        self.editor.on_action(self.on_editor_action)
        results.link_graph(self.editor)
        self.inspector = pn.Column(sizing_mode="stretch_width", css_classes=["ss-inspector"],
                                   scroll=True, height=560)

    def __panel__(self):
        return pn.Column(self.editor, self.inspector, css_classes=["ss-model-column"],
                         sizing_mode="stretch_width",
                         styles={"flex": "1 1 700px", "min-width": "0"})

    def show_project(self) -> None:
        """Show the session's document, its problems and its invalid field texts."""
        doc = self.session.document
        by_item = item_problems(doc, self.session.problems)
        selection = dict(self.editor.selection)
        if selection and not _exists(doc, selection):
            selection = {}
        self.editor.param.update(**editor_data(doc), selection=selection,
                                 problems={k: v[0][1] for k, v in by_item.items()})
        self._drop_gone_field_errors(doc)
        self.render_inspector(by_item)

    def deselect(self) -> None:
        """Nothing selected (a project replaced the last; shown by :meth:`show_project`)."""
        self.editor.selection = {}

    def fit(self) -> None:
        """Bring the whole graph into view."""
        self.editor.fit_request += 1

    def _drop_gone_field_errors(self, doc: dict) -> None:
        """Forget invalid texts typed into nodes or projections that no longer exist."""
        network = doc.get("network", {})
        alive = {item_prefix(group, item["id"]) for group in ("nodes", "projections")
                 for item in network.get(group, []) if isinstance(item, dict)}
        self.session.drop_field_errors(
            lambda path: not path.startswith("network.") or any(map(path.startswith, alive)))

    def _sweep_this(self, item_id: str) -> list:
        """The inspector's "Sweep this parameter" row for a node or projection (if any)."""
        try:
            view = self.results.view("sweep")
        except KeyError:
            return []
        try:
            project = self.session.project()
        except SpikeStudioError:
            return []  # fix the project first; the problems are listed below
        names = [n for n in sweepable_fields(project) if n.split(".", 1)[0] == item_id]
        if not names:
            return []

        def sweep(name: str) -> None:
            view.choose(name)
            self.results.open_view(view)

        return [sweep_this_parameter(names, sweep)]

    def render_inspector(self, by_item: dict | None = None) -> None:
        """Show the selected item (or the simulation settings) and the project's problems."""
        doc = self.session.document
        by_item = by_item if by_item is not None else item_problems(doc, self.session.problems)
        sel = self.editor.selection
        pending = PendingInputs(
            texts={path: text for path, (text, _) in self.session.field_errors.items()},
            report=self.session.set_field_error)
        prefix = None  # the field path prefix of the item shown
        try:
            if sel.get("type") == "node" or (sel.get("type") == "edge" and any(
                    n["id"] == sel["id"] for n in doc["network"]["nodes"])):
                parts = node_inspector(doc, edits.find_node(doc, sel["id"]),
                                       by_item.get(sel["id"], []), self._edit, pending)
                prefix = item_prefix("nodes", sel["id"])
                parts += self._sweep_this(sel["id"])
            elif sel.get("type") == "edge":
                parts = projection_inspector(doc, edits.find_projection(doc, sel["id"]),
                                             by_item.get(sel["id"], []), self._edit, pending)
                prefix = item_prefix("projections", sel["id"])
                parts += self._sweep_this(sel["id"])
            else:
                parts = simulation_inspector(doc, self.session.problems, self._edit, pending)
        except edits.EditError:
            parts = simulation_inspector(doc, self.session.problems, self._edit, pending)
        if prefix is not None:
            # Fields of the shown item that are gone (model or rule changed) drop their texts.
            self.session.drop_field_errors(
                lambda path: not path.startswith(prefix) or path in pending.shown)
        lines = self.session.problem_lines()
        if lines:
            items = "".join(f"<li>{text_html(line)}</li>" for line in lines[:20])
            parts.append(html_pane(
                f'<div class="ss-problem-list" data-testid="problems" data-count="{len(lines)}">'
                f'<b>{len(lines)} problem(s) to fix before running</b><ul>{items}</ul></div>',
                sizing_mode="stretch_width"))
        self.inspector.objects = parts
        shown = (sel.get("type"), sel.get("id"))
        if shown != self._inspected:
            # Another item: start at its title, not at the previous item's scroll offset.
            self._inspected = shown
            self.inspector.scroll_position = 1
            self.inspector.scroll_position = 0

    def on_editor_action(self, action: dict) -> None:
        """What the graph editor asks for: add, move, connect, select, delete, undo, redo."""
        name = action["action"]
        if name == "add_node":
            target = self.editor.selection.get("id") if action["kind"] == "monitor" else None
            new_id = self._edit(edits.add_node, action["kind"], action["model"], action["x"],
                                action["y"], target)
            if new_id:
                self._select("node", new_id)
        elif name == "move":
            self._edit(edits.move_node, action["id"], action["x"], action["y"])
        elif name == "connect":
            new_id = self._edit(edits.connect, action["source"], action["target"])
            if new_id:
                kind = "node" if any(n["id"] == new_id for n in
                                     self.session.document["network"]["nodes"]) else "edge"
                self._select(kind, new_id)
        elif name == "select":
            self.editor.selection = ({"type": action["type"], "id": action["id"]}
                                     if "id" in action else {})
            self.render_inspector()
        elif name == "delete":
            self._edit(edits.delete, action["type"], action["id"])
            self.editor.selection = {}
            self.render_inspector()
        elif name == "undo":
            self._undo()
        elif name == "redo":
            self._redo()

    def _select(self, kind: str, item_id: str) -> None:
        self.editor.selection = {"type": kind, "id": item_id}
        self.render_inspector()


def _exists(doc: dict, selection: dict) -> bool:
    group = "nodes" if selection.get("type") == "node" else "projections"
    return any(item["id"] == selection.get("id") for item in doc["network"].get(group, []))
