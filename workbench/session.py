"""The state of one browser session: the project document, its history and validation.

Edits are pure functions of the document (workbench.edits); this class applies them, keeps the
undo history, re-validates with the engine and autosaves into its workspace. It knows nothing
of widgets. Autosaving starts with the first user action (an edit, open, new, upload or save):
merely loading the page writes nothing. The autosave holds the undo history (the last
:data:`SAVED_HISTORY` steps each way) so Undo works after a reload; each snapshot and each
long per-neuron list is written once (workbench.autosave_store), so an edit writes about
its own size, not the history's.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import param

from engine.errors import Problem, ProjectError, SpikeStudioError
from engine.field_labels import field_label, problem_text
from engine.migrations import migrate
from engine.project import Project, name_problem, validate_document
from engine.validation import scan_document
from workbench import edits, storage

#: Undo (and redo) steps kept in the autosave; the in-memory history is longer.
SAVED_HISTORY = 50


class _History(edits.History):
    """The edit history, plus the bounded part of it the autosave keeps."""

    def export(self, limit: int = SAVED_HISTORY) -> dict[str, list]:
        return {"undo": self._undo[-limit:], "redo": self._redo[-limit:]}

    def load(self, data: Any) -> None:
        """Restore an exported history; anything malformed is dropped (an empty history)."""
        self.clear()
        if not isinstance(data, dict):
            return
        for stack, key in ((self._undo, "undo"), (self._redo, "redo")):
            steps = data.get(key)
            if isinstance(steps, list):
                stack.extend(copy.deepcopy(d) for d in steps[-self.limit:] if _is_document(d))


def _is_document(value: Any) -> bool:
    return (isinstance(value, dict) and isinstance(value.get("network"), dict)
            and isinstance(value["network"].get("nodes"), list))


class ProjectSession(param.Parameterized):
    """One user's project, undo/redo history and validation state."""

    document = param.Dict(default={}, doc="The project JSON document being edited.")
    problems = param.List(default=[], doc="engine Problems of the current document.")
    path = param.String(default=None, allow_None=True,
                        doc="The workspace file the project is saved to (None: not saved yet).")
    source = param.String(default=None, allow_None=True,
                          doc="The file it was opened from (sample, class or own project).")
    dirty = param.Boolean(default=False, doc="Edited since the last save.")
    can_undo = param.Boolean(default=False)
    can_redo = param.Boolean(default=False)
    field_errors = param.Dict(default={}, doc=(
        "Inputs holding text that is not a valid value, {field path: (text, message)}; "
        "the document keeps its last valid value and Run is refused while any exists."))

    def __init__(self, session_id: str, workspace: storage.Workspace | None = None,
                 **params: Any):
        super().__init__(**params)
        self.session_id = session_id
        self.workspace = workspace or storage.Workspace.local()
        self.history = _History()
        # Writes each snapshot and long list once (workbench.autosave_store).
        self._autosave = self.workspace.shared_autosave(session_id)
        self._autosaving = False  # becomes True with the first user action
        self._project: Project | None = None  # built once per change, when first asked for

    # ------------------------------------------------------------------ loading
    def restore_or_open_default(self) -> bool:
        """Restore this session's autosave; else open the default sample. True if restored.

        Neither writes anything: a page that is only looked at leaves no file behind.
        """
        if self._load_state(self.workspace.load_autosave(self.session_id)):
            return True
        self._open_path(storage.SAMPLES_DIR / storage.DEFAULT_SAMPLE, autosave=False)
        return False

    def restore_unsaved(self, session_id: str) -> bool:
        """Take over another tab's autosave (its document, file and undo history).

        The work moves to this tab: it is autosaved here at once and the other tab's file
        is deleted, so it is not offered twice. False (nothing changed) when that autosave
        is gone or unreadable.
        """
        if session_id == self.session_id:
            return False
        if not self._load_state(self.workspace.load_autosave(session_id)):
            return False
        self.autosave()
        self.workspace.drop_autosave(session_id)
        return True

    def _load_state(self, saved: dict | None) -> bool:
        """Make an autosaved state the session's; True if it held a usable document."""
        if saved and _is_document(saved.get("document")):
            try:
                document = migrate(copy.deepcopy(saved["document"]))
            except Exception:  # noqa: BLE001 - a damaged autosave must not block the page
                document = None
            if document is not None:
                path = saved.get("path") if self.workspace.owns(saved.get("path")) else None
                source = saved.get("source")
                self._replace(document, path=path, dirty=bool(saved.get("dirty")),
                              source=source if isinstance(source, str) else path,
                              autosave=False)
                self.history.load(saved.get("history"))
                self.param.update(can_undo=self.history.can_undo,
                                  can_redo=self.history.can_redo)
                self._autosaving = True
                return True
        return False

    def open_path(self, path: Path, document: dict | None = None) -> None:
        """Open a project file (raises ProjectError with every problem).

        ``document`` is the file's content as :func:`storage.read_document` returned it, when
        the caller has read it already (it is not read, migrated or validated again).
        Only a file of this workspace becomes the project's own file: a sample or class
        project is opened as a copy (Save then saves it into the workspace).
        """
        self._open_path(path, autosave=True, document=document)

    def _open_path(self, path: Path, autosave: bool, document: dict | None = None) -> None:
        document = storage.read_document(path) if document is None else document
        own = str(path) if self.workspace.owns(path) else None
        self._replace(document, path=own, dirty=False, source=str(path), autosave=autosave,
                      checked=True)

    def open_text(self, text: str | bytes, project: Project | None = None) -> None:
        """Open an uploaded project (raises ProjectError with every problem).

        ``project`` is ``loads_project(text)`` when the caller has parsed it already.
        """
        from engine.project import loads_project

        project = loads_project(text) if project is None else project
        self._replace(project.to_dict(inline_arrays=True), path=None, dirty=True, source=None,
                      checked=True)

    def new(self) -> None:
        self._replace(edits.new_document(), path=None, dirty=False, source=None)

    def _replace(self, document: dict, path: str | None, dirty: bool, source: str | None,
                 autosave: bool = True, checked: bool = False) -> None:
        """Make ``document`` the project. ``checked``: it is a fresh, migrated and valid
        document (from ``loads_project``/``read_document``), so it is not validated again."""
        self.history.clear()
        self.field_errors = {}
        self.param.update(document=document if checked else migrate(copy.deepcopy(document)),
                          path=path, dirty=dirty, source=source)
        self._after_change(user_action=autosave, problems=[] if checked else None)

    # ------------------------------------------------------------------ editing
    def apply(self, edit: Callable[..., Any], *args: Any) -> Any:
        """Apply an edit function; returns its extra result (e.g. a new node id).

        Raises
        ------
        edits.EditError
            When the edit cannot be applied (the document is unchanged).
        """
        outcome = edit(self.document, *args)
        new, extra = outcome if isinstance(outcome, tuple) else (outcome, None)
        if new == self.document:
            return extra
        # A value JSON cannot hold (inf, NaN, ...) would make every later save fail: refuse
        # the edit here, naming the field, so the document really is unchanged.
        unsaveable = scan_document(new).unparsable
        if unsaveable:
            raise edits.EditError("; ".join(str(p) for p in unsaveable[:3]))
        self.history.push(self.document)
        self.param.update(document=new, dirty=True)
        self._after_change(user_action=True)
        return extra

    def undo(self) -> bool:
        previous = self.history.undo(self.document)
        if previous is None:
            return False
        self.param.update(document=previous, dirty=True)
        self._after_change(user_action=True)
        return True

    def redo(self) -> bool:
        following = self.history.redo(self.document)
        if following is None:
            return False
        self.param.update(document=following, dirty=True)
        self._after_change(user_action=True)
        return True

    def _after_change(self, user_action: bool = False,
                      problems: list[Problem] | None = None) -> None:
        """The document changed: validate it once (unless its ``problems`` are known)."""
        self._autosaving = self._autosaving or user_action
        self._project = None
        self.problems = validate_document(self.document) if problems is None else problems
        self.param.update(can_undo=self.history.can_undo, can_redo=self.history.can_redo)
        self.autosave()

    def autosave(self) -> None:
        """Write this tab's state, once the user has done something (see module doc)."""
        if not self._autosaving:
            return
        saved = self.history.export()
        self._autosave.write({"path": self.path, "source": self.source, "dirty": self.dirty},
                             self.document, saved["undo"], saved["redo"])

    # ------------------------------------------------------------------ saving / running
    def save(self, name: str | None = None, replace: bool = False) -> Path:
        """Save to the project's own file, or into the workspace under ``name`` (save as).

        Raises
        ------
        storage.NameTaken
            When another saved project already has that name and ``replace`` is false:
            nothing is ever overwritten without asking.
        ProjectError
            When the document is invalid (listing its problems).
        """
        document = copy.deepcopy(self.document)
        if name is not None:
            name = storage.normal_name(name)
            if not name:
                raise SpikeStudioError("Save as: type a name for the project first.")
            problem = name_problem(name)
            if problem:  # the rule Open applies: never save what cannot be opened again
                raise SpikeStudioError(f"Save as: the name {problem}.")
            document["name"] = name
        self.project()  # refuses an invalid document, listing its problems
        own = self.path if self.workspace.owns(self.path) else None
        if own and name is not None:
            # Save as its own current name is a plain save; another name is a new project.
            same = storage.normal_name(self.document.get("name", "")) == name
            own = own if same else None
        if own is None:
            existing = self.workspace.find(document.get("name", ""))
            if existing is not None and str(existing.path) == self.path:
                own = self.path
        target = self.workspace.save_project(document, own, replace=replace)
        self._autosaving = True
        self.param.update(document=document, path=str(target), source=str(target), dirty=False)
        self.autosave()
        return target

    def project(self) -> Project:
        """The validated Project (raises ProjectError listing the current problems)."""
        if self.problems:
            error = ProjectError(list(self.problems))
            error.document = self.document  # the page names its fields by their labels
            raise error
        if self._project is None:
            # Validated when it changed (_after_change): built without validating again.
            self._project = Project.from_checked(self.document)
        return self._project

    def problem_lines(self) -> list[str]:
        """The document's problems as the page shows them (labels, not field paths)."""
        return [problem_text(self.document, p) for p in self.problems if isinstance(p, Problem)]

    @staticmethod
    def error_text(error: Exception) -> str:
        """An error as the page shows it: the problems of a document this session validated
        (:meth:`project`) with labels, not field paths. Problems of an uploaded file keep
        their paths: they say where to fix that file."""
        document = getattr(error, "document", None)
        if isinstance(error, ProjectError) and error.problems and document is not None:
            return "\n".join(problem_text(document, p) for p in error.problems)
        return str(error)

    # ------------------------------------------------------------------ invalid inputs
    def set_field_error(self, path: str, text: str | None, message: str | None) -> None:
        """Record that the input at ``path`` holds ``text``, invalid because of ``message``
        (``message=None`` clears the record: the input holds a valid value again)."""
        errors = dict(self.field_errors)
        if message is None:
            if errors.pop(path, None) is None:
                return
        else:
            errors[path] = ("" if text is None else str(text), str(message))
        self.field_errors = errors

    def drop_field_errors(self, keep: Callable[[str], bool]) -> None:
        """Forget the invalid inputs whose path fails ``keep`` (their field is gone)."""
        errors = {path: v for path, v in self.field_errors.items() if keep(path)}
        if len(errors) != len(self.field_errors):
            self.field_errors = errors

    def run_blockers(self) -> list[str]:
        """Why the project cannot run now: invalid inputs, then the document's problems."""
        inputs = [f"{field_label(self.document, path)}: {message} (typed {text!r})"
                  for path, (text, message) in sorted(self.field_errors.items())]
        return inputs + self.problem_lines()
