"""The SpikeStudio workbench: ``panel serve workbench/app.py`` (or ``spikestudio serve``).

One :class:`Workbench` per browser session wires the engine to the widgets: the graph editor
and inspector edit the session's project document (undoable, validated by the engine,
autosaved); Run submits the project to the shared runner and a periodic callback shows its
progress and, at the end, the results. Nothing here simulates, validates or analyses by itself.
"""

from __future__ import annotations

import io
import json
import logging
import time
import uuid
from pathlib import Path
from typing import Any

import panel as pn

from engine.errors import SpikeStudioError
from engine.models import ENCODER_MODELS, NEURON_MODELS
from engine.project import MONITOR_MODELS, SIMULATION_SPECS
from widgets.graph_editor import GraphEditor, editor_data, palette_items
from widgets.param_form import ParamForm
from widgets.session_thread import held
from workbench import edits, runner, storage
from workbench.analysis_tabs import EnergyTab, ScenariosTab, WeightsTab
from workbench.inspector import (
    item_problems,
    node_inspector,
    projection_inspector,
    simulation_inspector,
)
from workbench.results_view import ResultsView
from workbench.session import ProjectSession
from workbench.style import CSS, html_pane

log = logging.getLogger(__name__)
POLL_MS = 50           # how soon a finished run is noticed
PROGRESS_EVERY_S = 0.15  # how often a running run's progress is sent to the page


class Workbench(pn.viewable.Viewer):
    """The whole app for one browser session."""

    def __init__(self, session_id: str | None = None, **params: Any):
        super().__init__(**params)
        self.session_id = session_id or uuid.uuid4().hex[:16]
        self.session = ProjectSession(self.session_id)
        self.handle: runner.RunHandle | None = None
        self._poller = None
        self._progress_at = 0.0
        self._build_widgets()
        restored = self._guard(self.session.restore_or_open_default)
        self.session.param.watch(self._on_document, ["document", "problems"])
        self.session.param.watch(self._on_flags, ["can_undo", "can_redo", "dirty", "path"])
        self._refresh_all()
        if restored:
            self.message("Restored your last session.", "info")
        if pn.state.curdoc is not None and pn.state.curdoc.session_context is not None:
            # A closed tab must not keep a shared worker busy.
            pn.state.on_session_destroyed(self._on_session_destroyed)
            pn.state.onload(runner.warm_up_in_background)
        else:
            runner.warm_up_in_background()

    def _on_session_destroyed(self, session_context) -> None:
        if self.handle is not None:
            self.handle.stop()
        self.scenarios.cancel.set()

    # ------------------------------------------------------------------ layout
    def _build_widgets(self) -> None:
        self.editor = GraphEditor(palette=palette_items(NEURON_MODELS, ENCODER_MODELS,
                                                        MONITOR_MODELS),
                                  height=470, sizing_mode="stretch_width")
        self.editor.on_action(self._on_editor_action)
        self.inspector = pn.Column(sizing_mode="stretch_width", css_classes=["ss-inspector"],
                                   scroll=True, height=560)
        self.run_form = ParamForm(specs=list(SIMULATION_SPECS[:3]), values={})
        self.run_form.on_change(lambda n, v: self._edit(edits.set_simulation, n, v))
        self.run_button = pn.widgets.Button(label="Run", color="primary", width=90,
                                            css_classes=["ss-run"])
        self.stop_button = pn.widgets.Button(label="Stop", color="danger", width=90,
                                             disabled=True, css_classes=["ss-stop"])
        self.run_button.on_click(lambda e: self.run())
        self.stop_button.on_click(lambda e: self.stop())
        self.progress = pn.indicators.Progress(value=0, max=1000, bar_color="primary",
                                               sizing_mode="stretch_width", height=14)
        self.progress_text = html_pane(self._progress_html("idle", ""),
                                          sizing_mode="stretch_width")
        self.messages = html_pane("", sizing_mode="stretch_width",
                                     css_classes=["ss-messages"])
        self.results = ResultsView()
        self.weights = WeightsTab(x_range=self.results.raster.x_range)
        self.energy = EnergyTab(x_range=self.results.raster.x_range, apply=self._edit)
        self.scenarios = ScenariosTab(self.session.project, apply=self._edit)
        self.results.add_tab("Weights (STDP)", self.weights, lazy=True)
        self.results.add_tab("Energy", self.energy, lazy=True)
        self.results.add_tab("Scenarios", self.scenarios)
        self._build_header()

    def _build_header(self) -> None:
        self.title = html_pane("", css_classes=["ss-title"], sizing_mode=None, width=300)
        self.undo_button = pn.widgets.Button(label="Undo", width=70, disabled=True,
                                             css_classes=["ss-undo"])
        self.redo_button = pn.widgets.Button(label="Redo", width=70, disabled=True,
                                             css_classes=["ss-redo"])
        self.undo_button.on_click(lambda e: self.undo())
        self.redo_button.on_click(lambda e: self.redo())
        self.new_button = pn.widgets.Button(label="New", width=70, css_classes=["ss-new"])
        self.new_button.on_click(lambda e: self._guard(self.session.new))
        self.open_select = pn.widgets.Select(label="", options=self._open_options(),
                                             width=260, css_classes=["ss-open-select"])
        self.open_button = pn.widgets.Button(label="Open", width=70, css_classes=["ss-open"])
        self.open_button.on_click(lambda e: self.open_selected())
        self.save_button = pn.widgets.Button(label="Save", width=70, css_classes=["ss-save"])
        self.save_button.on_click(lambda e: self.save())
        self.save_as_name = pn.widgets.TextInput(placeholder="Save as name...", width=170,
                                                 css_classes=["ss-save-as-name"])
        self.save_as_button = pn.widgets.Button(label="Save as", width=80,
                                                css_classes=["ss-save-as"])
        self.save_as_button.on_click(lambda e: self.save(self.save_as_name.value or None))
        self.upload = pn.widgets.FileInput(accept=".json", width=210,
                                           css_classes=["ss-upload"])
        self.upload.param.watch(self._on_upload, "value")
        self.download = pn.widgets.FileDownload(callback=self._download, filename="project.json",
                                                label="Download", color="default",
                                                width=100, css_classes=["ss-download"])

    def __panel__(self):
        # A wrapping flex box: on a laptop screen the file buttons take a second line instead
        # of widening the page (which pushed the inspector off-screen below 1700 px).
        header = pn.FlexBox(self.title, self.new_button, self.open_select, self.open_button,
                            self.save_button, self.save_as_name, self.save_as_button,
                            self.download, self.upload, self.undo_button, self.redo_button,
                            flex_wrap="wrap", align_items="center", css_classes=["ss-header"],
                            sizing_mode="stretch_width")
        run_bar = pn.Column(
            pn.Row(self.run_form, pn.Column(self.run_button, self.stop_button, width=110),
                   sizing_mode="stretch_width"),
            self.progress, self.progress_text, sizing_mode="stretch_width",
            css_classes=["ss-runbar"])
        left = pn.Column(self.editor, run_bar, sizing_mode="stretch_width")
        body = pn.Row(left, pn.Column(self.inspector, width=380), sizing_mode="stretch_width")
        return pn.Column(header, self.messages, body, self.results,
                         sizing_mode="stretch_width", css_classes=["ss-app"],
                         stylesheets=[CSS])

    # ------------------------------------------------------------------ helpers
    def _guard(self, fn, *args):
        """Run a user action; its result, or None when it failed (the error is shown)."""
        return self._attempt(fn, *args)[1]

    def _succeeds(self, fn, *args) -> bool:
        """Run a user action whose result may be None; False when it failed."""
        return self._attempt(fn, *args)[0]

    def _attempt(self, fn, *args) -> tuple[bool, Any]:
        """(ok, result) of a user action; errors become messages, never tracebacks."""
        try:
            return True, fn(*args)
        except (SpikeStudioError, edits.EditError) as exc:
            self.message(str(exc), "error")
        except Exception as exc:  # noqa: BLE001 - a UI action must never kill the session
            log.exception("workbench action failed")
            self.message(f"Something went wrong ({type(exc).__name__}: {exc}); your project "
                         f"is unchanged.", "error")
        return False, None

    def _edit(self, fn, *args):
        return self._guard(self.session.apply, fn, *args)

    def message(self, text: str, level: str = "info") -> None:
        """Show a notification and keep it readable in the page."""
        lines = "<br>".join(_escape(line) for line in str(text).splitlines())
        self.messages.object = (f'<div class="ss-msg ss-msg-{level}" data-testid="message" '
                                f'data-level="{level}">{lines}</div>')
        notifications = pn.state.notifications
        if notifications is not None:
            getattr(notifications, "error" if level == "error" else "info")(
                str(text).splitlines()[0][:200], duration=6000)

    @staticmethod
    def _open_options() -> dict[str, str]:
        options = {f"Sample: {e.name}": str(e.path) for e in storage.list_samples()}
        options.update({f"Mine: {e.name}": str(e.path) for e in storage.list_user_projects()})
        return options

    # ------------------------------------------------------------------ document -> views
    def _refresh_all(self) -> None:
        self._on_document()
        self._on_flags()
        self.results.show_document(self.session.document)

    def _on_document(self, *events) -> None:
        doc = self.session.document
        by_item = item_problems(doc, self.session.problems)
        selection = dict(self.editor.selection)
        if selection and not self._exists(doc, selection):
            selection = {}
        self.editor.param.update(**editor_data(doc), selection=selection,
                                 problems={k: v[0][1] for k, v in by_item.items()})
        self.run_form.param.update(values=dict(doc.get("simulation", {})), problems={
            p.path.split(".", 1)[1]: p.message for p in self.session.problems
            if p.path.startswith("simulation.")})
        self._render_inspector(by_item)
        self.results.document = doc
        self.energy.set_document(doc)
        self.scenarios.set_document(doc)

    def _on_flags(self, *events) -> None:
        s = self.session
        self.undo_button.disabled = not s.can_undo
        self.redo_button.disabled = not s.can_redo
        name = _escape(s.document.get("name", "Untitled"))
        state = "unsaved changes" if s.dirty else ("saved" if s.path else "not saved yet")
        self.title.object = (f'<div class="ss-brand">SpikeStudio</div><div class="ss-project" '
                             f'data-testid="project-name">{name}</div>'
                             f'<div class="ss-save-state" data-testid="save-state">{state}</div>')
        self.download.filename = f"{storage.user_project_path(s.document.get('name', 'project')).stem}.json"  # noqa: E501

    @staticmethod
    def _exists(doc: dict, selection: dict) -> bool:
        group = "nodes" if selection.get("type") == "node" else "projections"
        return any(item["id"] == selection.get("id") for item in doc["network"].get(group, []))

    def _render_inspector(self, by_item: dict | None = None) -> None:
        doc = self.session.document
        by_item = by_item if by_item is not None else item_problems(doc, self.session.problems)
        sel = self.editor.selection
        try:
            if sel.get("type") == "node":
                parts = node_inspector(doc, edits.find_node(doc, sel["id"]),
                                       by_item.get(sel["id"], []), self._edit)
            elif sel.get("type") == "edge":
                if any(n["id"] == sel["id"] for n in doc["network"]["nodes"]):
                    parts = node_inspector(doc, edits.find_node(doc, sel["id"]),
                                           by_item.get(sel["id"], []), self._edit)
                else:
                    parts = projection_inspector(doc, edits.find_projection(doc, sel["id"]),
                                                 by_item.get(sel["id"], []), self._edit)
            else:
                parts = simulation_inspector(doc, self.session.problems, self._edit)
        except edits.EditError:
            parts = simulation_inspector(doc, self.session.problems, self._edit)
        lines = self.session.problem_lines()
        if lines:
            items = "".join(f"<li>{_escape(line)}</li>" for line in lines[:20])
            parts.append(html_pane(
                f'<div class="ss-problem-list" data-testid="problems" data-count="{len(lines)}">'
                f'<b>{len(lines)} problem(s) to fix before running</b><ul>{items}</ul></div>',
                sizing_mode="stretch_width"))
        self.inspector.objects = parts

    # ------------------------------------------------------------------ editor actions
    def _on_editor_action(self, action: dict) -> None:
        name = action["action"]
        if name == "add_node":
            target = self.editor.selection.get("id") if action["kind"] == "monitor" else None
            new_id = self._edit(edits.add_node, action["kind"], action["model"], action["x"],
                                action["y"], target)
            if new_id:
                self.editor.selection = {"type": "node", "id": new_id}
                self._render_inspector()
        elif name == "move":
            self._edit(edits.move_node, action["id"], action["x"], action["y"])
        elif name == "connect":
            new_id = self._edit(edits.connect, action["source"], action["target"])
            if new_id:
                kind = "node" if any(n["id"] == new_id for n in
                                     self.session.document["network"]["nodes"]) else "edge"
                self.editor.selection = {"type": kind, "id": new_id}
                self._render_inspector()
        elif name == "select":
            self.editor.selection = ({"type": action["type"], "id": action["id"]}
                                     if "id" in action else {})
            self._render_inspector()
        elif name == "delete":
            self._edit(edits.delete, action["type"], action["id"])
            self.editor.selection = {}
            self._render_inspector()
        elif name == "undo":
            self.undo()
        elif name == "redo":
            self.redo()

    def undo(self) -> None:
        if not self.session.undo():
            self.message("Nothing to undo.")

    def redo(self) -> None:
        if not self.session.redo():
            self.message("Nothing to redo.")

    # ------------------------------------------------------------------ files
    def open_selected(self) -> None:
        path = self.open_select.value
        if path and self._succeeds(self.session.open_path, Path(path)):
            self.editor.selection = {}
            self._refresh_all()
            self.message(f"Opened {self.session.document.get('name')}.")

    def save(self, name: str | None = None) -> None:
        path = self._guard(self.session.save, name)
        if path is not None:
            self.open_select.options = self._open_options()
            self.message(f"Saved to {path}.")

    def _on_upload(self, event) -> None:
        if not event.new:
            return
        if self._succeeds(self.session.open_text, event.new):
            self.editor.selection = {}
            self._refresh_all()
            self.message(f"Opened {self.upload.filename}.")

    def _download(self) -> io.StringIO:
        return io.StringIO(json.dumps(self.session.document, indent=2, allow_nan=False))

    # ------------------------------------------------------------------ running
    def run(self) -> None:
        if self.handle is not None and not self.handle.done:
            self.message("A run is already in progress: press Stop first.")
            return
        project = self._guard(self.session.project)
        if project is None:
            return
        self.handle = runner.submit(project)
        self.run_button.disabled = True
        self.stop_button.disabled = False
        self.progress.value = 0
        self.progress_text.object = self._progress_html("queued", "Waiting for a free worker...")
        if self._poller is None:
            self._poller = pn.state.add_periodic_callback(self._poll, period=POLL_MS)

    def stop(self) -> None:
        if self.handle is not None:
            self.handle.stop()
            self.progress_text.object = self._progress_html("stopping", "Stopping...")

    def _poll(self) -> None:
        handle = self.handle
        if handle is None:
            return
        # Everything a poll changes reaches the page as one patch: a result touches Panel
        # panes and Bokeh models alike, and split into separately written patches those could
        # arrive out of order under load (widgets.session_thread explains).
        with held(pn.state.curdoc):
            self._show_progress(handle)

    def _show_progress(self, handle: runner.RunHandle) -> None:
        p = handle.progress
        now = time.monotonic()
        if p is not None and not handle.done and now - self._progress_at >= PROGRESS_EVERY_S:
            self._progress_at = now
            eta = "" if p.eta_s != p.eta_s else f" &middot; about {p.eta_s:.1f} s left"
            self.progress.value = int(p.fraction * 1000)
            self.progress_text.object = self._progress_html(
                "running", f"t = {p.t_ms:,.1f} / {p.duration_ms:,.0f} ms{eta} &middot; "
                           f"{p.spikes:,} spikes")
        if handle.done:
            self._finish(handle)

    def _finish(self, handle: runner.RunHandle) -> None:
        if self._poller is not None:
            self._poller.stop()
            self._poller = None
        self.run_button.disabled = False
        self.stop_button.disabled = True
        if handle.result is not None:
            t0 = time.perf_counter()
            self._guard(self.results.show, handle.result)
            self.results.show_document(self.session.document)
            log.info("results shown in %.2f s", time.perf_counter() - t0)
            r = handle.result
            self.progress.value = int(1000 * r.duration_ms / max(r.requested_ms, 1e-9))
            done = "Stopped" if r.status == "cancelled" else "Done"
            self.progress_text.object = self._progress_html(
                r.status, f"{done}: {r.duration_ms:g} of {r.requested_ms:g} ms in "
                          f"{r.wall_time_s:.2f} s, {len(r.spikes):,} spikes")
            for note in r.messages:
                self.message(note, "warning")
        if handle.error:
            self.message(handle.error, "error")
            if handle.result is None:
                self.progress_text.object = self._progress_html("error", "Run failed.")

    @staticmethod
    def _progress_html(state: str, text: str) -> str:
        return (f'<div class="ss-progress-text" data-testid="run-state" data-state="{state}">'
                f'{text}</div>')


def _escape(text: str) -> str:
    import html

    return html.escape(str(text))


def session_id_from_url() -> str:
    """The ``?session=`` id of this page, creating one (kept in the URL across reloads)."""
    location = pn.state.location
    args = pn.state.session_args or {}
    raw = args.get("session", [b""])[0]
    sid = raw.decode() if isinstance(raw, bytes) else str(raw)
    if not sid or len(sid) > 64 or not sid.replace("-", "").isalnum():
        sid = uuid.uuid4().hex[:16]
        if location is not None:
            # After load: the browser's own location would overwrite an earlier change.
            pn.state.onload(lambda: location.update_query(session=sid))
    return sid


def create_app() -> pn.viewable.Viewable:
    """The servable page of one session."""
    return Workbench(session_id=session_id_from_url()).__panel__()


pn.extension("tabulator", notifications=True, design="bootstrap")
if __name__.startswith("bokeh"):
    create_app().servable(title="SpikeStudio")
