"""The page's header: the project's name and save state, and its file and edit buttons.

New, Open (samples, class projects, the workspace's own), Save, Save as, Download, Upload
(JSON or NIR), Export and Undo/Redo, and the offer to restore another tab's unsaved work.
Whatever would discard unsaved changes asks first (:class:`~workbench.dialogs.ConfirmDialog`).
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import panel as pn

from engine.errors import SpikeStudioError
from engine.project import Project, dumps_project, loads_project
from workbench import storage
from workbench.dialogs import ConfirmDialog
from workbench.export_menu import ExportMenu, import_nir_bytes
from workbench.message_bar import MessageBar
from workbench.restore_offer import RestoreOffer
from workbench.session import ProjectSession
from workbench.style import html_pane, text_html

OPEN_PROMPT = "Open..."


class FileMenu(pn.viewable.Viewer):
    """Opens, saves and replaces the session's project.

    Parameters
    ----------
    session : ProjectSession
        The project the buttons act on.
    messages : MessageBar
        Says what happened; failed actions become its messages.
    dialog : ConfirmDialog
        Asks before unsaved changes are discarded or a saved project replaced.
    replaced : callable
        Called after every Open, New, upload and restore: the page starts afresh.
    shown_run : callable
        ``(document, result, run number)`` of the run the results show, or None (exports).
    """

    def __init__(self, session: ProjectSession, messages: MessageBar, dialog: ConfirmDialog,
                 replaced: Callable[[], None],
                 shown_run: Callable[[], tuple[dict, Any, int] | None], **params: Any):
        super().__init__(**params)
        self.session, self.workspace = session, session.workspace
        self._messages, self.dialog, self._replaced = messages, dialog, replaced
        say = messages.message
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
            f'{text_html(self.workspace.label)}</span>', sizing_mode=None)
        self.open_button = pn.widgets.Button(label="Open", width=70, css_classes=["ss-open"])
        self.open_button.on_click(lambda e: self.open_selected())
        self.save_button = pn.widgets.Button(label="Save", width=70, css_classes=["ss-save"])
        self.save_button.on_click(lambda e: self.save())
        self.save_as_name = pn.widgets.TextInput(placeholder="Save as name...", width=170,
                                                 css_classes=["ss-save-as-name"])
        self.save_as_button = pn.widgets.Button(label="Save as", width=80,
                                                css_classes=["ss-save-as"])
        self.save_as_button.on_click(lambda e: self.save(self.save_as_name.value))
        self.export_menu = ExportMenu(project=self._export_project, run=shown_run, message=say)
        self.upload = pn.widgets.FileInput(accept=".json,.nir", width=210,
                                           css_classes=["ss-upload"])
        self.upload.param.watch(self._on_upload, "value")
        self.download = pn.widgets.FileDownload(callback=self._download, filename="project.json",
                                                label="Download", color="default",
                                                width=100, css_classes=["ss-download"])
        self.restore_offer = RestoreOffer(on_restore=self.restore_unsaved)

    def __panel__(self):
        # A wrapping flex box: on a laptop screen the file buttons take a second line instead
        # of widening the page (which pushed the inspector off-screen below 1700 px).
        return pn.FlexBox(self.title, self.new_button, self.open_select, self.open_button,
                          self.save_button, self.save_as_name, self.save_as_button,
                          self.download, self.upload, self.export_menu, self.undo_button,
                          self.redo_button, self.workspace_label, flex_wrap="wrap",
                          align_items="center", css_classes=["ss-header"],
                          sizing_mode="stretch_width")

    # ------------------------------------------------------------------ shown state
    def show_flags(self) -> None:
        """The project's name and save state, Undo/Redo, the download's file name."""
        s = self.session
        self.undo_button.disabled = not s.can_undo
        self.redo_button.disabled = not s.can_redo
        name = text_html(s.document.get("name", "Untitled"))
        state = "unsaved changes" if s.dirty else ("saved" if s.path else "not saved yet")
        self.title.object = (f'<div class="ss-brand">SpikeStudio</div><div class="ss-project" '
                             f'data-testid="project-name">{name}</div>'
                             f'<div class="ss-save-state" data-testid="save-state">{state}</div>')
        self.download.filename = f"{storage.file_stem(s.document.get('name', 'project'))}.json"

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

    def show_open_project(self, refresh: bool = False) -> None:
        """Let the Open list show the project that is open (or the neutral entry)."""
        source = self.session.source or ""
        if refresh or source not in self.open_select.options.values():
            self.open_select.options = self._open_options()
        values = self.open_select.options.values()
        self.open_select.value = source if source in values else ""

    # ------------------------------------------------------------------ undo
    def undo(self) -> None:
        """Undo the last edit."""
        if not self.session.undo():
            self._messages.message("Nothing to undo.")

    def redo(self) -> None:
        """Redo the last undone edit."""
        if not self.session.redo():
            self._messages.message("Nothing to redo.")

    # ------------------------------------------------------------------ files
    def new(self) -> None:
        """Start an empty project (asking first when there are unsaved changes)."""
        self.dialog.unless_unsaved("Start a new project", self._new)

    def _new(self) -> None:
        if self._messages.succeeds(self.session.new):
            self._replaced()
            self._messages.message("New project.")

    def open_selected(self) -> None:
        """Open the project chosen in the Open list (asking first over unsaved changes)."""
        say = self._messages.message
        path = self.open_select.value
        if not path:
            say("Choose a project in the list, then press Open.")
            return
        if path not in self.open_select.options.values():  # only what the list offers
            say("That project is not available.", "error")
            return
        # A broken file is reported before anything is asked or discarded; the document read
        # here is the one opened (read, migrated and validated once).
        document = self._messages.guard(storage.read_document, Path(path))
        if document is not None:
            self.dialog.unless_unsaved("Open another project",
                                       lambda: self._open(Path(path), document))

    def offer_unsaved(self) -> None:
        """Offer the unsaved work of this person's other tabs."""
        self.restore_offer.offer(self.workspace.unsaved_work(exclude=self.session.session_id))

    def restore_unsaved(self, work: storage.UnsavedWork) -> None:
        """Take over another tab's unsaved work (asking first over unsaved changes here)."""
        self.dialog.unless_unsaved("Restore that work", lambda: self._restore(work))

    def _restore(self, work: storage.UnsavedWork) -> None:
        restored = self._messages.guard(self.session.restore_unsaved, work.session_id)
        self.offer_unsaved()
        if restored is None:
            return  # the error is shown
        if not restored:
            self._messages.message(f"The unsaved work of {work.name} is no longer there "
                                   f"(another tab restored or saved it).", "warning")
            return
        self._replaced()
        self._messages.message(f"Restored the unsaved work of {work.name}: Undo goes back "
                               f"through its edits.")

    def _open(self, path: Path, document: dict | None = None) -> None:
        if self._messages.succeeds(self.session.open_path, path, document):
            self._replaced()
            self._messages.message(f"Opened {self.session.document.get('name')}.")

    def save(self, name: str | None = None, replace: bool = False) -> None:
        """Save (``name`` None) or save as ``name``; asks before replacing another project."""
        self._messages.guard(self._save, name, replace)

    def _save(self, name: str | None, replace: bool) -> None:
        try:
            path = self.session.save(name, replace=replace)
        except storage.NameTaken as taken:
            self.save_as_name.value = taken.suggestion
            taken_name = taken.name
            self.dialog.ask(str(taken), "Replace it",
                            lambda: self.save(taken_name, replace=True))
            return
        self.show_open_project(refresh=True)
        self._messages.message(f"Saved “{self.session.document.get('name')}” in your "
                               f"workspace ({path.name}).")

    def _on_upload(self, event) -> None:
        if not event.new:
            return
        data, filename = event.new, self.upload.filename
        # Empty the file field, so choosing the same file again (after Cancel) is seen.
        self.upload.clear()
        # A bad file is reported, nothing asked.
        notes: list[str] = []
        exact = False
        if str(filename or "").lower().endswith(".nir"):
            report = self._messages.guard(import_nir_bytes, data)
            project = report.project if report is not None else None
            notes = report.approximations if report is not None else []
            exact = report is not None and report.exact
            data = dumps_project(project) if project is not None else data
        else:
            project = self._messages.guard(loads_project, data)
        if project is not None:
            self.dialog.unless_unsaved(
                f"Open {filename}",
                lambda: self._open_upload(data, filename, project, notes, exact))

    def open_project(self, project: Project, name: str) -> None:
        """Open a project a result view built (e.g. a compressed copy) as an upload named
        ``name`` is opened: unsaved, asking first when unsaved changes would be lost."""
        data = dumps_project(project)
        self.dialog.unless_unsaved(f"Open {name}",
                                   lambda: self._open_upload(data, name, project))

    def _open_upload(self, data: bytes, filename: str, project=None,
                     notes: list[str] | None = None, exact: bool = False) -> None:
        if self._messages.succeeds(self.session.open_text, data, project):
            self._replaced()
            if exact:  # an import that approximated nothing says so (and why)
                self._messages.message(f"Opened {filename}. " + " ".join(notes or []))
            elif notes:  # an import: what it approximated, as plain text, while it is open
                self._messages.message(f"Opened {filename}. The import approximated:\n"
                                       + "\n".join(f"- {n}" for n in notes),
                                       "warning", lasts="project")
            else:
                self._messages.message(f"Opened {filename}.")

    def _export_project(self) -> Project:
        """The current project for an export (refused while a field is invalid)."""
        blockers = self.session.run_blockers()
        if blockers:
            raise SpikeStudioError(f"fix {len(blockers)} field(s) first: "
                                   + "; ".join(blockers))
        return self.session.project()

    def _download(self) -> io.StringIO:
        return io.StringIO(json.dumps(self.session.document, indent=2, allow_nan=False))
