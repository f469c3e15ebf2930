"""The SpikeStudio workbench: ``spikestudio serve`` (workbench/server.py) serves it.

One :class:`Workbench` per browser session wires the session's project document
(:class:`~workbench.session.ProjectSession`: undoable, validated by the engine, autosaved) to
the page's components: the header's file menu (``workbench.file_menu``), the confirm bar
(``workbench.dialogs``), the message banner (``workbench.message_bar``), the graph editor and
inspector (``workbench.model_panel``), the run bar (``workbench.run_bar``) and the result tabs
(``workbench.results_view``, one per entry of ``workbench.views.VIEWS``). Nothing here
simulates, validates, analyses or edits by itself.
"""

from __future__ import annotations

from typing import Any

import panel as pn

from widgets.layout_batching import LayoutBatching
from workbench import identity, runner, storage
from workbench.dialogs import ConfirmDialog
from workbench.file_menu import FileMenu
from workbench.lifetimes import Lifetimes
from workbench.message_bar import MessageBar, release_toast_area
from workbench.model_panel import ModelPanel
from workbench.offline import serve_resources_locally
from workbench.result_stamp import ResultStamp
from workbench.results_view import ResultsView
from workbench.run_bar import RunBar
from workbench.session import ProjectSession
from workbench.style import CSS
from workbench.view_protocol import ResultView, ViewContext


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
        # Banners and notes last as long as the state they describe (workbench.lifetimes).
        self.lifetimes = Lifetimes()
        self._build_components()
        restored = self.message_bar.guard(self.session.restore_or_open_default)
        self.session.param.watch(self._on_document, ["document", "problems"])
        self.session.param.watch(self._on_flags, ["can_undo", "can_redo", "dirty", "path",
                                                  "source", "document"])
        self._after_project_replaced()
        if restored:
            self.message_bar.message("Restored your last session.", "info")
        else:  # a fresh tab (a bookmark): other tabs' unsaved work is offered
            self.file_menu.offer_unsaved()
        if pn.state.curdoc is not None and pn.state.curdoc.session_context is not None:
            # A closed tab must not keep a shared worker busy.
            pn.state.on_session_destroyed(self._on_session_destroyed)
            pn.state.onload(runner.warm_up_in_background)
        else:
            runner.warm_up_in_background()

    def _build_components(self) -> None:
        self.message_bar = MessageBar(self.lifetimes, self.session.error_text)
        self.dialog = ConfirmDialog(self.session, self.message_bar.message)
        self.file_menu = FileMenu(self.session, self.message_bar, self.dialog,
                                  replaced=self._after_project_replaced,
                                  shown_run=self._shown_run)
        context = ViewContext(apply=self.edit, get_project=self.session.project,
                              open_project=self.file_menu.open_project,
                              lifetimes=self.lifetimes)
        self.results = ResultsView(context=context)
        #: The result views by key (``ResultView.key``).
        self.views: dict[str, ResultView] = {view.key: view for view in self.results.views}
        self.model = ModelPanel(self.session, self.edit, self.results,
                                undo=self.file_menu.undo, redo=self.file_menu.redo)
        self.run_bar = RunBar(self.session, self.workspace, self.results,
                              say=self.message_bar.message, guard=self.message_bar.guard,
                              on_shown=self._result_shown, lifetimes=self.lifetimes)

    def __panel__(self):
        # The graph (with the inspector under it) and the run bar with the results side by
        # side from about 1400 px: a run's results are in view where Run was pressed, with
        # the graph beside them (below the graph they started 800 px down a 900 px window).
        # Narrower, the two wrap one above the other (the editor keeps its width) and the
        # results anchor scrolls to the results. The time cursor sits above the result plots
        # it drives and stays in view (sticky) while the page scrolls.
        right = pn.Column(self.run_bar, self.results.cursor, self.run_bar.results_anchor,
                          self.results, css_classes=["ss-results-column"],
                          sizing_mode="stretch_width",
                          styles={"flex": "1 1 620px", "min-width": "0"})
        body = pn.FlexBox(self.model, right, flex_wrap="wrap", sizing_mode="stretch_width",
                          css_classes=["ss-body"])
        return pn.Column(self.file_menu, self.dialog, self.file_menu.restore_offer,
                         self.message_bar, body, LayoutBatching(), sizing_mode="stretch_width",
                         css_classes=["ss-app"], stylesheets=[CSS])

    # ------------------------------------------------------------------ wiring
    def edit(self, fn, *args):
        """An undoable edit of the project (``workbench.edits``); None when it failed."""
        return self.message_bar.guard(self.session.apply, fn, *args)

    def _after_project_replaced(self) -> None:
        """Called after every Open, New, upload and restore: the views start afresh.

        Results of the old project are gone; a run of it still going is stopped (and
        ``ResultsView.show`` drops its result when it arrives).
        """
        self.run_bar.reset()
        self.lifetimes.end("project")  # before the views, which may note what was dropped
        self.results.clear()
        self.file_menu.export_menu.result_shown(None, None)
        self.model.deselect()
        self._on_document()
        self._on_flags()
        self.results.show_document(self.session.document)
        self.model.fit()  # a new project: show all of it
        self.file_menu.show_open_project()

    def _on_document(self, *events) -> None:
        self.model.show_project()
        self.run_bar.show_project()
        self.results.document = self.session.document  # and every result view's set_project
        self.file_menu.export_menu.project_named(self.session.document.get("name"))

    def _on_flags(self, *events) -> None:
        self.file_menu.show_flags()

    def _result_shown(self, stamp: ResultStamp) -> None:
        self.file_menu.export_menu.result_shown(stamp.project, stamp.run)

    def _shown_run(self) -> tuple[dict, Any, int] | None:
        """``(document, result, run number)`` of the run the results show, or None."""
        shown = self.results.shown_run()
        if shown is None:
            return None
        result, stamp, document = shown
        return document, result, stamp.run

    def _on_session_destroyed(self, session_context) -> None:
        self.run_bar.close()
        for view in self.views.values():
            view.close()
        # The page's results leave the server's memory, and then the page itself.
        self.results.release()
        if session_context is not None:
            release_toast_area(session_context._document)


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
