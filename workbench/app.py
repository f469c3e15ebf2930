"""The SpikeStudio workbench: ``spikestudio serve`` (workbench/server.py) serves it.

One :class:`Workbench` per browser session wires the engine to the widgets: the graph editor
and inspector edit the session's project document (undoable, validated by the engine,
autosaved); Run submits the project to the shared runner and a periodic callback shows its
progress and, at the end, the results. Nothing here simulates, validates or analyses by itself.
"""

from __future__ import annotations

import io
import json
import logging
import shutil
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import panel as pn

from engine.core.breakpoints import Breakpoint, breakpoint_targets, resolve_target
from engine.errors import SpikeStudioError
from engine.models import ENCODER_MODELS, NEURON_MODELS
from engine.project import MONITOR_MODELS, SIMULATION_SPECS, Project, dumps_project, loads_project
from widgets.graph_editor import GraphEditor, editor_data, palette_items
from widgets.layout_batching import LayoutBatching
from widgets.param_form import ParamForm
from widgets.scroll_anchor import ScrollAnchor
from widgets.session_thread import held
from workbench import edits, identity, runner, storage
from workbench.export_menu import ExportMenu, import_nir_bytes
from workbench.inspector import (
    PendingInputs,
    item_prefix,
    item_problems,
    node_inspector,
    projection_inspector,
    simulation_inspector,
)
from workbench.lifetimes import Lifetimes
from workbench.offline import serve_resources_locally
from workbench.restore_offer import RestoreOffer
from workbench.results_view import ResultsView
from workbench.session import ProjectSession
from workbench.style import CSS, html_pane, lines_html, text_html
from workbench.sweep_tab import sweep_this_parameter, sweepable_fields
from workbench.view_protocol import ResultView, ViewContext
from workbench.views import build_views

log = logging.getLogger(__name__)
POLL_MS = 50           # how soon a finished run is noticed
#: How often a running run's progress is sent to the page. Every text that changes on the
#: page makes the browser lay the whole page out again (BokehJS re-renders the pane, then
#: measures every plot): at 0.15 s, with the live raster, the page's main thread was busy for
#: the whole run and the run's end reached it seconds late (issue 18, bench/ui.py --runs-only).
PROGRESS_EVERY_S = 0.5
OPEN_PROMPT = "Open..."
#: Where this browser's paused runs wait (workbench.runner: a paused run holds no worker).
PAUSED_DIR = "paused"
#: How often (at most) the raster and rates of a running run are redrawn from its live
#: spikes: the first as soon as spikes arrive, then every second or three times what a draw
#: costs the server, whichever is longer (see PROGRESS_EVERY_S for the browser's side).
LIVE_EVERY_S = 1.0
#: "Pause when" choices of the run bar -> engine.core.breakpoints kinds, and what the two number
#: fields mean for each.
BREAK_KINDS = {"(no breakpoint)": "", "neuron spikes": "spike", "rate above": "rate_above",
               "rate below": "rate_below", "weight leaves range": "weight_range"}
BREAK_FIELDS = {"spike": ("neuron", None), "rate_above": ("rate Hz", "window ms"),
                "rate_below": ("rate Hz", "window ms"), "weight_range": ("w min", "w max")}
# Bottom-right toasts covered the inspector and the results' CSV button.
TOAST_POSITION = "bottom-left"


class Workbench(pn.viewable.Viewer):
    """The whole app for one browser session."""

    def __init__(self, session_id: str | None = None, who: identity.Identity | None = None,
                 **params: Any):
        super().__init__(**params)
        serve_resources_locally()  # before any model of this page exists (see workbench.offline)
        who = who or identity.current()
        self.workspace = who.workspace
        self.session_id = session_id or self.workspace.issue_session_id()
        self.session = ProjectSession(self.session_id, self.workspace)
        self.handle: runner.RunHandle | None = None
        #: This page's run files (spikes too many for the server's memory): one directory
        #: per run, removed when a later run is shown and when the page closes.
        self._runs_dir = self.workspace.root / "runs" / uuid.uuid4().hex
        self._runs = 0
        # Bound now: Bokeh empties this script's module when a session ends, before
        # _on_session_destroyed runs.
        self._discard_runs = runner.discard_run_files
        self._poller = None
        self._pending: Callable[[], Any] | None = None
        self._inspected: tuple | None = None  # the selection the inspector shows
        self._message_level: str | None = None
        # Banners and notes last as long as the state they describe (workbench.lifetimes).
        self.lifetimes = Lifetimes()
        self._watching: list[dict] = []  # the breakpoints of the run going on
        self._reached = False  # one of them paused it
        self._hit_shown: dict | None = None
        self._progress_at = 0.0
        self._build_widgets()
        restored = self._guard(self.session.restore_or_open_default)
        self.session.param.watch(self._on_document, ["document", "problems"])
        self.session.param.watch(self._on_flags, ["can_undo", "can_redo", "dirty", "path",
                                                  "source", "document"])
        self._after_project_replaced()
        if restored:
            self.message("Restored your last session.", "info")
        else:  # a fresh tab (a bookmark): other tabs' unsaved work is offered
            self.restore_offer.offer(self.workspace.unsaved_work(exclude=self.session_id))
        if pn.state.curdoc is not None and pn.state.curdoc.session_context is not None:
            # A closed tab must not keep a shared worker busy.
            pn.state.on_session_destroyed(self._on_session_destroyed)
            pn.state.onload(runner.warm_up_in_background)
        else:
            runner.warm_up_in_background()

    def _on_session_destroyed(self, session_context) -> None:
        handle = self.handle
        if handle is not None:
            handle.stop()
        for view in self.views.values():
            view.close()
        # The page's results leave the server's memory and its run files the disk.
        self.handle = None
        self.results.release()
        self._discard_runs(handle, self._runs_dir)

    # ------------------------------------------------------------------ layout
    def _build_widgets(self) -> None:
        self.editor = GraphEditor(palette=palette_items(NEURON_MODELS, ENCODER_MODELS,
                                                        MONITOR_MODELS),
                                  height=470, sizing_mode="stretch_width")
        self.editor.on_action(self._on_editor_action)
        self.inspector = pn.Column(sizing_mode="stretch_width", css_classes=["ss-inspector"],
                                   scroll=True, height=560)
        self.run_form = ParamForm(specs=list(SIMULATION_SPECS[:3]), values={}, inline=True)
        self.run_form.on_change(lambda n, v: self._edit(edits.set_simulation, n, v))
        self.run_form.on_pending(
            lambda n, text, msg: self.session.set_field_error(f"simulation.{n}", text, msg))
        self.run_button = pn.widgets.Button(label="Run", color="primary", width=90,
                                            css_classes=["ss-run"])
        self.stop_button = pn.widgets.Button(label="Stop", color="danger", width=90,
                                             disabled=True, css_classes=["ss-stop"])
        self.run_button.on_click(lambda e: self.run())
        self.stop_button.on_click(lambda e: self.stop())
        self.pause_button = pn.widgets.Button(label="Pause", width=90, disabled=True,
                                              css_classes=["ss-pause"])
        self.continue_button = pn.widgets.Button(label="Continue", width=90, disabled=True,
                                                 css_classes=["ss-continue"])
        self.step_button = pn.widgets.Button(label="Step", width=70, disabled=True,
                                             css_classes=["ss-step"])
        self.step_ms = pn.widgets.FloatInput(label="step ms (0 = one dt)", value=0.0, start=0.0,
                                             width=120, css_classes=["ss-step-ms"])
        self.pause_button.on_click(lambda e: self.pause())
        self.continue_button.on_click(lambda e: self.resume(None))
        self.step_button.on_click(lambda e: self.resume(self._step_length()))
        self.break_kind = pn.widgets.Select(label="Pause when", options=BREAK_KINDS, value="",
                                            width=170, css_classes=["ss-break-kind"])
        self.break_target = pn.widgets.TextInput(
            label="population / projection", width=150, css_classes=["ss-break-target"],
            description="Its label (as in the editor) or its id")
        self.break_a = pn.widgets.FloatInput(label="neuron", value=0.0, width=90,
                                             css_classes=["ss-break-a"])
        self.break_b = pn.widgets.FloatInput(label="window ms", value=10.0, width=90,
                                             css_classes=["ss-break-b"])
        self.break_kind.param.watch(lambda e: self._label_break_fields(), "value")
        self._label_break_fields()
        self._shown_pauses = 0
        self.progress = pn.indicators.Progress(value=0, max=1000, bar_color="primary",
                                               sizing_mode="stretch_width", height=14)
        self.progress_text = html_pane(self._progress_html("idle", ""),
                                          sizing_mode="stretch_width")
        self.messages = html_pane("", sizing_mode="stretch_width",
                                     css_classes=["ss-messages"])
        self.dismiss_button = pn.widgets.Button(label="\u2715", width=34, visible=False,
                                                color="light", margin=(6, 4),
                                                description="Dismiss this message",
                                                css_classes=["ss-dismiss"])
        self.dismiss_button.on_click(lambda e: self.clear_message())
        self.message_bar = pn.Row(self.messages, self.dismiss_button,
                                  sizing_mode="stretch_width", margin=0)
        # Brings the results into view when a run finishes (unless the user scrolled away).
        self.results_anchor = ScrollAnchor()
        self.results = ResultsView()
        self.results.link_graph(self.editor)
        context = ViewContext(x_range=self.results.raster.x_range, apply=self._edit,
                              get_project=self.session.project,
                              open_project=self.open_project, cursor=self.results.cursor,
                              shown_run=self.results.shown_run, lifetimes=self.lifetimes)
        self.views: dict[str, ResultView] = {}
        for view in build_views(context):
            self.results.add_view(view)
            self.views[view.key] = view
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
        self.new_button.on_click(lambda e: self.new())
        self.open_select = pn.widgets.Select(label="", options=self._open_options(),
                                             width=260, css_classes=["ss-open-select"])
        self.workspace_label = html_pane(
            f'<span class="ss-workspace" data-testid="workspace">Workspace: '
            f'{_escape(self.workspace.label)}</span>', sizing_mode=None)
        self.open_button = pn.widgets.Button(label="Open", width=70, css_classes=["ss-open"])
        self.open_button.on_click(lambda e: self.open_selected())
        self.save_button = pn.widgets.Button(label="Save", width=70, css_classes=["ss-save"])
        self.save_button.on_click(lambda e: self.save())
        self.save_as_name = pn.widgets.TextInput(placeholder="Save as name...", width=170,
                                                 css_classes=["ss-save-as-name"])
        self.save_as_button = pn.widgets.Button(label="Save as", width=80,
                                                css_classes=["ss-save-as"])
        self.save_as_button.on_click(lambda e: self.save(self.save_as_name.value))
        self.export_menu = ExportMenu(project=self._export_project, run=self._shown_run,
                                      message=self.message)
        self.upload = pn.widgets.FileInput(accept=".json,.nir", width=210,
                                           css_classes=["ss-upload"])
        self.upload.param.watch(self._on_upload, "value")
        self.download = pn.widgets.FileDownload(callback=self._download, filename="project.json",
                                                label="Download", color="default",
                                                width=100, css_classes=["ss-download"])
        # Asks before anything is discarded or replaced (see _ask).
        self.confirm_text = html_pane("", sizing_mode=None)
        self.confirm_yes = pn.widgets.Button(label="Discard changes", color="danger",
                                             css_classes=["ss-confirm-yes"])
        self.confirm_no = pn.widgets.Button(label="Cancel", css_classes=["ss-confirm-no"])
        self.confirm_yes.on_click(lambda e: self._confirm())
        self.confirm_no.on_click(lambda e: self._cancel())
        self.restore_offer = RestoreOffer(on_restore=self.restore_unsaved)
        self.confirm_bar = pn.Row(self.confirm_text, self.confirm_yes, self.confirm_no,
                                  visible=False, css_classes=["ss-confirm"],
                                  styles={"background": "#fff4e5", "border-radius": "6px",
                                          "align-items": "center", "padding": "0 8px"})

    def __panel__(self):
        # A wrapping flex box: on a laptop screen the file buttons take a second line instead
        # of widening the page (which pushed the inspector off-screen below 1700 px).
        header = pn.FlexBox(self.title, self.new_button, self.open_select, self.open_button,
                            self.save_button, self.save_as_name, self.save_as_button,
                            self.download, self.upload, self.export_menu, self.undo_button,
                            self.redo_button,
                            self.workspace_label, flex_wrap="wrap",
                            align_items="center", css_classes=["ss-header"],
                            sizing_mode="stretch_width")
        run_bar = pn.Column(
            pn.Row(self.run_form, pn.Column(self.run_button, self.stop_button, width=110),
                   pn.Column(self.pause_button, self.continue_button, width=110),
                   pn.Column(self.step_button, self.step_ms, width=140),
                   sizing_mode="stretch_width"),
            pn.Row(self.break_kind, self.break_target, self.break_a, self.break_b,
                   sizing_mode="stretch_width", css_classes=["ss-breakpoints"]),
            self.progress, self.progress_text, sizing_mode="stretch_width",
            css_classes=["ss-runbar"])
        # The graph (with the inspector under it) and the run bar with the results side by
        # side from about 1400 px: a run's results are in view where Run was pressed, with
        # the graph beside them (below the graph they started 800 px down a 900 px window).
        # Narrower, the two wrap one above the other (the editor keeps its width) and the
        # results anchor scrolls to the results. The time cursor sits above the result plots
        # it drives and stays in view (sticky) while the page scrolls.
        left = pn.Column(self.editor, self.inspector, css_classes=["ss-model-column"],
                         sizing_mode="stretch_width",
                         styles={"flex": "1 1 700px", "min-width": "0"})
        right = pn.Column(run_bar, self.results.cursor, self.results_anchor, self.results,
                          css_classes=["ss-results-column"], sizing_mode="stretch_width",
                          styles={"flex": "1 1 620px", "min-width": "0"})
        body = pn.FlexBox(left, right, flex_wrap="wrap", sizing_mode="stretch_width",
                          css_classes=["ss-body"])
        return pn.Column(header, self.confirm_bar, self.restore_offer, self.message_bar, body,
                         LayoutBatching(), sizing_mode="stretch_width", css_classes=["ss-app"],
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
            result = fn(*args)
        except (SpikeStudioError, edits.EditError) as exc:
            self.message(self.session.error_text(exc), "error")
        except Exception as exc:  # noqa: BLE001 - a UI action must never kill the session
            log.exception("workbench action failed")
            self.message(f"Something went wrong ({type(exc).__name__}: {exc}); your project "
                         f"is unchanged.", "error")
        else:
            if self._message_level == "error":
                self.clear_message()  # an old error must not outlive a later success
            return True, result
        return False, None

    def _edit(self, fn, *args):
        return self._guard(self.session.apply, fn, *args)

    def message(self, text: str, level: str = "info", lasts: str = "run") -> None:
        """Show a notification and keep it readable in the page.

        The banner stays until a later message, Dismiss, or the end of the state ``lasts``
        (``"pause"``, ``"run"`` or ``"project"``, see :mod:`workbench.lifetimes`) it describes:
        by default the next run (or project) makes it stale.
        """
        level = level if level in ("info", "warning", "error") else "info"
        self.messages.object = (f'<div class="ss-msg ss-msg-{level}" data-testid="message" '
                                f'data-level="{level}" data-lasts="{text_html(lasts)}">'
                                f'{lines_html(text)}</div>')
        self._message_level = level
        self.lifetimes.hold("banner", lasts, self.clear_message)
        self.dismiss_button.visible = True
        notifications = pn.state.notifications
        if notifications is not None:
            # Brief toasts; the banner keeps the full text (errors until dismissed or a
            # later success). Notifications insert their message as HTML: escaped text.
            notifications.position = TOAST_POSITION
            getattr(notifications, "error" if level == "error" else "info")(
                text_html(" ".join(str(text).splitlines()[:2])[:200]),
                duration=5000 if level == "error" else 2500)

    def clear_message(self) -> None:
        """Remove the message banner."""
        self.messages.object = ""
        self._message_level = None
        self.dismiss_button.visible = False

    def _open_options(self) -> dict[str, str]:
        """Label -> file of every project this person may open ("" is the neutral entry)."""
        options = {OPEN_PROMPT: ""}
        for group, entries in (("Sample", storage.list_samples()),
                               ("Class", storage.list_class_projects()),
                               ("Mine", self.workspace.list_projects())):
            for entry in entries:
                label = f"{group}: {entry.name}"
                if label in options:  # two files with one name: both stay reachable
                    label = f"{label} ({entry.path.name})"
                options[label] = str(entry.path)
        return options

    def _show_open_project(self, refresh: bool = False) -> None:
        """Let the Open list show the project that is open (or the neutral entry)."""
        source = self.session.source or ""
        if refresh or source not in self.open_select.options.values():
            self.open_select.options = self._open_options()
        values = self.open_select.options.values()
        self.open_select.value = source if source in values else ""

    # ------------------------------------------------------------------ asking first
    def _ask(self, question: str, confirm_label: str, action: Callable[[], Any]) -> None:
        """Show ``question`` with a confirm and a Cancel button; ``action`` runs on confirm."""
        self._pending = action
        self.confirm_text.object = (f'<span class="ss-confirm-text" data-testid="confirm">'
                                    f'{_escape(question)}</span>')
        self.confirm_yes.label = confirm_label
        self.confirm_bar.visible = True

    def _confirm(self) -> None:
        action, self._pending = self._pending, None
        self.confirm_bar.visible = False
        if action is not None:
            action()

    def _cancel(self) -> None:
        self._pending = None
        self.confirm_bar.visible = False
        self.message("Cancelled: nothing was changed.")

    def _unless_unsaved(self, what: str, action: Callable[[], Any]) -> None:
        """Run ``action`` now, or after asking when it would discard unsaved changes."""
        if not self.session.dirty:
            self._pending = None
            self.confirm_bar.visible = False
            action()
            return
        name = self.session.document.get("name", "Untitled")
        self._ask(f"“{name}” has unsaved changes. {what} and discard them?",
                  f"Discard changes and {what[0].lower()}{what[1:]}", action)

    # ------------------------------------------------------------------ document -> views
    def _refresh_all(self) -> None:
        self._on_document()
        self._on_flags()
        self.results.show_document(self.session.document)
        self.editor.fit_request += 1  # a new project: show all of it

    def _after_project_replaced(self) -> None:
        """Called after every Open, New, upload and restore: the views start afresh.

        Results of the old project are gone; a run of it still going is stopped (and
        ``ResultsView.show`` drops its result when it arrives).
        """
        if self.handle is not None and not self.handle.done:
            self.handle.stop()
        self.lifetimes.end("project")  # before the views, which may note what was dropped
        self.results.clear()
        self.export_menu.result_shown(None, None)
        self.progress.value = 0
        self.progress_text.object = self._progress_html("idle", "")
        self.editor.selection = {}
        self._refresh_all()
        self._show_open_project()

    def _on_document(self, *events) -> None:
        doc = self.session.document
        by_item = item_problems(doc, self.session.problems)
        selection = dict(self.editor.selection)
        if selection and not self._exists(doc, selection):
            selection = {}
        self.editor.param.update(**editor_data(doc), selection=selection,
                                 problems={k: v[0][1] for k, v in by_item.items()})
        self._drop_gone_field_errors(doc)
        self.run_form.param.update(values=dict(doc.get("simulation", {})), problems={
            p.path.split(".", 1)[1]: p.message for p in self.session.problems
            if p.path.startswith("simulation.")}, pending={
            path.split(".", 1)[1]: text for path, (text, _) in self.session.field_errors.items()
            if path.startswith("simulation.")})
        self._render_inspector(by_item)
        self.results.document = doc  # and every result view's set_project
        self.export_menu.project_named(doc.get("name"))

    def _on_flags(self, *events) -> None:
        s = self.session
        self.undo_button.disabled = not s.can_undo
        self.redo_button.disabled = not s.can_redo
        name = text_html(s.document.get("name", "Untitled"))
        state = "unsaved changes" if s.dirty else ("saved" if s.path else "not saved yet")
        self.title.object = (f'<div class="ss-brand">SpikeStudio</div><div class="ss-project" '
                             f'data-testid="project-name">{name}</div>'
                             f'<div class="ss-save-state" data-testid="save-state">{state}</div>')
        self.download.filename = f"{storage.file_stem(s.document.get('name', 'project'))}.json"

    @staticmethod
    def _exists(doc: dict, selection: dict) -> bool:
        group = "nodes" if selection.get("type") == "node" else "projections"
        return any(item["id"] == selection.get("id") for item in doc["network"].get(group, []))

    def _drop_gone_field_errors(self, doc: dict) -> None:
        """Forget invalid texts typed into nodes or projections that no longer exist."""
        network = doc.get("network", {})
        alive = {item_prefix(group, item["id"]) for group in ("nodes", "projections")
                 for item in network.get(group, []) if isinstance(item, dict)}
        self.session.drop_field_errors(
            lambda path: not path.startswith("network.") or any(map(path.startswith, alive)))

    def _sweep_this(self, item_id: str) -> list:
        """The inspector's "Sweep this parameter" row for a node or projection (if any)."""
        view = self.views.get("sweep")
        try:
            project = self.session.project()
        except SpikeStudioError:
            return []  # fix the project first; the problems are listed below
        names = [n for n in sweepable_fields(project) if n.split(".", 1)[0] == item_id]
        if view is None or not names:
            return []

        def sweep(name: str) -> None:
            view.choose(name)
            self.results.open_view(view)

        return [sweep_this_parameter(names, sweep)]

    def _render_inspector(self, by_item: dict | None = None) -> None:
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
    def new(self) -> None:
        """Start an empty project (asking first when there are unsaved changes)."""
        self._unless_unsaved("Start a new project", self._new)

    def _new(self) -> None:
        if self._succeeds(self.session.new):
            self._after_project_replaced()
            self.message("New project.")

    def open_selected(self) -> None:
        """Open the project chosen in the Open list (asking first over unsaved changes)."""
        path = self.open_select.value
        if not path:
            self.message("Choose a project in the list, then press Open.")
            return
        if path not in self.open_select.options.values():  # only what the list offers
            self.message("That project is not available.", "error")
            return
        # A broken file is reported before anything is asked or discarded; the document read
        # here is the one opened (read, migrated and validated once).
        document = self._guard(storage.read_document, Path(path))
        if document is not None:
            self._unless_unsaved("Open another project",
                                 lambda: self._open(Path(path), document))

    def restore_unsaved(self, work: storage.UnsavedWork) -> None:
        """Take over another tab's unsaved work (asking first over unsaved changes here)."""
        self._unless_unsaved("Restore that work", lambda: self._restore(work))

    def _restore(self, work: storage.UnsavedWork) -> None:
        restored = self._guard(self.session.restore_unsaved, work.session_id)
        self.restore_offer.offer(self.workspace.unsaved_work(exclude=self.session_id))
        if restored is None:
            return  # the error is shown
        if not restored:
            self.message(f"The unsaved work of {work.name} is no longer there (another tab "
                         f"restored or saved it).", "warning")
            return
        self._after_project_replaced()
        self.message(f"Restored the unsaved work of {work.name}: Undo goes back through its "
                     f"edits.")

    def _open(self, path: Path, document: dict | None = None) -> None:
        if self._succeeds(self.session.open_path, path, document):
            self._after_project_replaced()
            self.message(f"Opened {self.session.document.get('name')}.")

    def save(self, name: str | None = None, replace: bool = False) -> None:
        """Save (``name`` None) or save as ``name``; asks before replacing another project."""
        self._guard(self._save, name, replace)

    def _save(self, name: str | None, replace: bool) -> None:
        try:
            path = self.session.save(name, replace=replace)
        except storage.NameTaken as taken:
            self.save_as_name.value = taken.suggestion
            taken_name = taken.name
            self._ask(str(taken), "Replace it", lambda: self.save(taken_name, replace=True))
            return
        self._show_open_project(refresh=True)
        self.message(f"Saved “{self.session.document.get('name')}” in your "
                     f"workspace ({path.name}).")

    def _on_upload(self, event) -> None:
        if not event.new:
            return
        data, filename = event.new, self.upload.filename
        # Empty the file field, so choosing the same file again (after Cancel) is seen.
        self.upload.clear()
        # A bad file is reported, nothing asked.
        if str(filename or "").lower().endswith(".nir"):
            project = self._guard(import_nir_bytes, data)
            data = dumps_project(project) if project is not None else data
        else:
            project = self._guard(loads_project, data)
        if project is not None:
            self._unless_unsaved(f"Open {filename}",
                                 lambda: self._open_upload(data, filename, project))

    def open_project(self, project: Project, name: str) -> None:
        """Open a project a result view built (e.g. a compressed copy) as an upload named
        ``name`` is opened: unsaved, asking first when unsaved changes would be lost."""
        data = dumps_project(project)
        self._unless_unsaved(f"Open {name}", lambda: self._open_upload(data, name, project))

    def _open_upload(self, data: bytes, filename: str, project=None) -> None:
        if self._succeeds(self.session.open_text, data, project):
            self._after_project_replaced()
            self.message(f"Opened {filename}.")

    def _export_project(self) -> Project:
        """The current project for an export (refused while a field is invalid)."""
        blockers = self.session.run_blockers()
        if blockers:
            raise SpikeStudioError(f"fix {len(blockers)} field(s) first: "
                                   + "; ".join(blockers))
        return self.session.project()

    def _shown_run(self) -> tuple[dict, Any, int] | None:
        r = self.results
        if r.result is None or r.run_document is None or r.stamp is None:
            return None
        return r.run_document, r.result, r.stamp.run

    def _download(self) -> io.StringIO:
        return io.StringIO(json.dumps(self.session.document, indent=2, allow_nan=False))

    # ------------------------------------------------------------------ running
    def run(self) -> None:
        # Everything Run changes (buttons, run state, results header, cursor) reaches the
        # page as one patch: each patch that disables a button or hides a pane makes the
        # browser lay out the whole page again (about 0.3 s each at load 7, bench/RESULTS.md).
        with held(pn.state.curdoc):
            self._run()

    def _run(self) -> None:
        if self.handle is not None and not self.handle.done:
            self.message("A run is already in progress: press Stop first.")
            return
        self.lifetimes.end("run")  # what was said about the last run is stale now
        blockers = self.session.run_blockers()
        if blockers:
            # One message listing every field to fix; nothing runs with stale values.
            self.message(f"Run refused: fix {len(blockers)} field(s) first:\n"
                         + "\n".join(blockers), "error")
            return
        project = self._guard(self.session.project)
        if project is None:
            return
        breakpoints = self._breakpoints(self.session.document)
        if breakpoints is None:
            return
        self.results_anchor.armed += 1
        self._runs += 1
        self.handle = runner.submit(
            project, owner=self.workspace.key,
            debug={"breakpoints": breakpoints, "live": True,
                   "checkpoint_dir": str(self.workspace.root / PAUSED_DIR)},
            store_dir=self._runs_dir / f"run-{self._runs}")
        self._live_shown, self._live_at, self._live_every = 0, 0.0, LIVE_EVERY_S
        self._shown_pauses = 0
        self._watch(breakpoints)
        self.results.run_started(self.session.document)
        self.run_button.disabled = True
        self.stop_button.disabled = False
        self._running_buttons(paused=False)
        self.progress.value = 0
        self.progress_text.object = self._progress_html("queued", "Waiting for a free worker...")
        if self._poller is None:
            self._poller = pn.state.add_periodic_callback(self._poll, period=POLL_MS)

    def stop(self) -> None:
        if self.handle is not None:
            self.handle.stop()
            self.progress_text.object = self._progress_html("stopping", "Stopping...")

    # ------------------------------------------------------------------ pause, step, continue
    def _running_buttons(self, paused: bool | None) -> None:
        """Pause while running; Step and Continue while paused; none when idle (None)."""
        self.pause_button.disabled = paused is not False
        self.continue_button.disabled = paused is not True
        self.step_button.disabled = paused is not True

    def _label_break_fields(self) -> None:
        first, second = BREAK_FIELDS.get(self.break_kind.value, (None, None))
        for widget, label in ((self.break_a, first), (self.break_b, second)):
            widget.visible = label is not None
            if label is not None:
                widget.label = label
        self.break_target.visible = bool(self.break_kind.value)
        self.break_target.label = ("projection" if self.break_kind.value == "weight_range"
                                  else "population")

    def _breakpoints(self, document: dict) -> list[dict] | None:
        """The run bar's breakpoint as engine data ([] for none; None after a message).

        The target may be typed as a label or an id of ``document``'s network.
        """
        kind = self.break_kind.value
        if not kind:
            return []
        what = "projection" if kind == "weight_range" else "population"
        try:
            # Labels (what the editor shows) and ids both name a target.
            target = resolve_target(self.break_target.value,
                                    breakpoint_targets(document, kind), what, "Pause when")
        except SpikeStudioError as exc:
            self.message(str(exc), "error")
            return None
        a, b = self.break_a.value, self.break_b.value
        if kind == "spike":
            data = {"kind": kind, "population": target, "neuron": int(a or 0)}
        elif kind == "weight_range":
            data = {"kind": kind, "projection": target, "w_min": a, "w_max": b}
        else:
            data = {"kind": kind, "population": target, "rate_hz": a, "window_ms": b}
        try:
            Breakpoint.from_dict(data, "Pause when")
        except SpikeStudioError as exc:
            self.message(str(exc), "error")
            return None
        return [data]

    def _step_length(self) -> float:
        """The Step field in ms; 0 (or empty) steps one dt of the run's project."""
        ms = self.step_ms.value or 0.0
        if ms > 0:
            return float(ms)
        r = self.handle.result if self.handle is not None else None
        return float(r.dt_ms) if r is not None else 0.1

    def pause(self) -> None:
        # (A Continue still waiting for a worker can be paused too: it is withdrawn.)
        if self.handle is not None and (self.handle.state == "running" or (
                self.handle.state == "queued" and self.handle.result is not None)):
            self.handle.pause()
            self.pause_button.disabled = True
            self.progress_text.object = self._progress_html("pausing", "Pausing...")

    def resume(self, ms: float | None) -> None:
        """Continue the paused run for ``ms`` (a step), or to its end (None)."""
        if self.handle is None or not self.handle.paused:
            return
        # Named in the network that is running (the project may have been edited since).
        breakpoints = self._breakpoints(self.results.run_document or self.session.document)
        if breakpoints is None:
            return
        self.handle.resume(ms, breakpoints)
        self.lifetimes.end("pause")
        if breakpoints != self._watching:
            self._watch(breakpoints)
        self._running_buttons(paused=False)
        self.progress_text.object = self._progress_html(
            "running", "Continuing..." if ms is None else f"Stepping {ms:g} ms...")

    def _show_live(self, handle: runner.RunHandle, t_ms: float) -> None:
        """Redraw the raster and rates from the spikes the running run sent so far."""
        t0 = time.monotonic()
        spikes, self._live_shown = handle.live_spikes()
        self._guard(self.results.show_live, spikes, t_ms)
        # Throttled by what a draw costs: a slow one (a loaded server, a density image)
        # must not take the time the run's own end needs to reach the page.
        self._live_at = time.monotonic()
        self._live_every = max(LIVE_EVERY_S, 3 * (self._live_at - t0))

    def _show_pause(self, handle: runner.RunHandle) -> None:
        """Show a paused run's partial result, why it paused, and its neuron."""
        self._shown_pauses = handle.pauses
        r = handle.result
        self._running_buttons(paused=True)
        self._guard(self.results.show, r)
        self.progress.value = int(1000 * r.duration_ms / max(r.requested_ms, 1e-9))
        self.progress_text.object = self._progress_html(
            "paused", f"Paused at t = {r.duration_ms:g} of {r.requested_ms:g} ms, "
                      f"{r.n_spikes:,} spikes. The paused run is kept on disk (it holds "
                      f"no simulation worker): Continue, Step or Stop.")
        if handle.pause_message:
            self.message(handle.pause_message, "error", lasts="pause")
        elif r.breakpoint:
            self._show_hit(r.breakpoint, lasts="pause")

    def _watch(self, breakpoints: list[dict]) -> None:
        """The run goes on with ``breakpoints``: none of them reached yet."""
        self._watching, self._reached, self._hit_shown = list(breakpoints), False, None

    def _show_hit(self, hit: dict, lasts: str = "run") -> None:
        """Say which condition fired and select its neuron in the raster."""
        self._hit_shown = hit
        self._reached = self._reached or hit["kind"] != "invalid_state"
        self.message(hit["message"], "error" if hit["kind"] == "invalid_state" else "warning",
                     lasts=lasts)
        if hit["kind"] in ("spike", "weight_range", "invalid_state"):
            self.results.raster.selected = {"population": hit["population"],
                                            "neuron": int(hit["neuron"])}

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
        if (p is not None and handle.state == "running"
                and now - self._progress_at >= PROGRESS_EVERY_S):
            self._progress_at = now
            eta = "" if p.eta_s != p.eta_s else f" \u00b7 about {p.eta_s:.1f} s left"
            self.progress.value = int(p.fraction * 1000)
            self.progress_text.object = self._progress_html(
                "running", f"t = {p.t_ms:,.1f} / {p.duration_ms:,.0f} ms{eta} \u00b7 "
                           f"{p.spikes:,} spikes")
        if (handle.state == "running" and len(handle.live) > self._live_shown
                and now - self._live_at >= self._live_every and p is not None):
            self._show_live(handle, p.t_ms)
        if handle.paused and handle.pauses != self._shown_pauses:
            self._show_pause(handle)
        if handle.done:
            self._finish(handle)

    def _finish(self, handle: runner.RunHandle) -> None:
        if self._poller is not None:
            self._poller.stop()
            self._poller = None
        self.lifetimes.end("pause")  # a pause's banner does not outlive its run
        self.run_button.disabled = False
        self.stop_button.disabled = True
        self._running_buttons(paused=None)
        if handle.result is None:
            self.results.end_live()  # the live raster goes back to the result the tabs show
        else:
            t0 = time.perf_counter()
            if self._guard(self.results.show, handle.result) and self.results.stamp:
                self.export_menu.result_shown(self.results.stamp.project,
                                              self.results.stamp.run)
            self.results.show_document(self.session.document)
            self.results_anchor.reveal += 1
            log.info("results shown in %.2f s", time.perf_counter() - t0)
            self._drop_run_files(keep=handle.store_dir)
            r = handle.result
            self.progress.value = int(1000 * r.duration_ms / max(r.requested_ms, 1e-9))
            done = "Stopped" if r.status == "cancelled" else "Done"
            self.progress_text.object = self._progress_html(
                r.status, f"{done}: {r.duration_ms:g} of {r.requested_ms:g} ms in "
                          f"{r.wall_time_s:.2f} s, {r.n_spikes:,} spikes")
            for note in r.messages:
                self.message(note, "warning")
        hit = handle.result.breakpoint if handle.result is not None else None
        if hit and hit != self._hit_shown:  # (a paused run that was stopped: said already)
            self._show_hit(hit)
        elif handle.result is not None and not hit and not handle.error:
            self._say_unreached(handle.result)
        if handle.error and not hit:
            self.message(handle.error, "error")
        if handle.error:
            if handle.result is None:
                self.progress_text.object = self._progress_html("error", "Run failed.")

    def _drop_run_files(self, keep: Path | None) -> None:
        """Remove the files of this page's earlier runs (the run ``keep`` is shown)."""
        if not self._runs_dir.is_dir():
            return
        for run_dir in self._runs_dir.iterdir():
            if run_dir != keep:
                shutil.rmtree(run_dir, ignore_errors=True)

    def _say_unreached(self, r) -> None:
        """A run that ended with a breakpoint set that never paused it says so."""
        if not self._watching or self._reached or r.status not in ("completed", "cancelled"):
            return
        names = [self._breakpoint_words(bp) for bp in self._watching]
        ended = ("ended" if r.status == "completed" else "was stopped")
        self.message(f"Breakpoint never reached: {'; '.join(names)} did not happen before "
                     f"the run {ended} at t = {r.duration_ms:g} ms.", "warning")

    def _breakpoint_words(self, data: dict) -> str:
        """A breakpoint in words, naming its population or projection by its label."""
        document = self.results.run_document or self.session.document
        kind = data.get("kind", "")
        labels = {i: (label or i) for i, label in breakpoint_targets(document, kind)}
        key = "projection" if kind == "weight_range" else "population"
        named = {**data, key: labels.get(data.get(key), data.get(key, ""))}
        return f"“{Breakpoint.from_dict(named).describe()}”"

    @staticmethod
    def _progress_html(state: str, text: str) -> str:
        """The run state line; ``text`` is plain text (escaped here)."""
        return (f'<div class="ss-progress-text" data-testid="run-state" '
                f'data-state="{text_html(state)}">{text_html(text)}</div>')


def _escape(text: str) -> str:
    import html

    return html.escape(str(text))


def session_id_from_url(workspace: storage.Workspace | None = None) -> str:
    """The ``?session=`` id of this page if the server issued it for this workspace.

    Any other id (forged, mistyped, another person's) is replaced by a new one, written into
    the URL so that a reload keeps the tab's autosave.
    """
    return identity.session_id(workspace or identity.current().workspace)


def create_app() -> pn.viewable.Viewable:
    """The servable page of one session."""
    storage.housekeeping()  # at start, then daily: stale autosaves and .tmp files go
    who = identity.current()
    return Workbench(session_id=session_id_from_url(who.workspace), who=who).__panel__()


pn.extension("tabulator", notifications=True, design="bootstrap")
if __name__.startswith("bokeh"):
    create_app().servable(title="SpikeStudio")
