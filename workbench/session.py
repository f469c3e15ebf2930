"""The state of one browser session: the project document, its history and validation.

Edits are pure functions of the document (workbench.edits); this class applies them, keeps the
undo history, re-validates with the engine and autosaves. It knows nothing of widgets.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import param

from engine.errors import Problem, ProjectError
from engine.migrations import migrate
from engine.project import Project, validate_document
from workbench import edits, storage


class ProjectSession(param.Parameterized):
    """One user's project, undo/redo history and validation state."""

    document = param.Dict(default={}, doc="The project JSON document being edited.")
    problems = param.List(default=[], doc="engine Problems of the current document.")
    path = param.String(default=None, allow_None=True, doc="File the project was saved to.")
    dirty = param.Boolean(default=False, doc="Edited since the last save.")
    can_undo = param.Boolean(default=False)
    can_redo = param.Boolean(default=False)
    field_errors = param.Dict(default={}, doc=(
        "Inputs holding text that is not a valid value, {field path: (text, message)}; "
        "the document keeps its last valid value and Run is refused while any exists."))

    def __init__(self, session_id: str, **params: Any):
        super().__init__(**params)
        self.session_id = session_id
        self.history = edits.History()

    # ------------------------------------------------------------------ loading
    def restore_or_open_default(self) -> bool:
        """Restore this session's autosave; else open the default sample. True if restored."""
        saved = storage.load_autosave(self.session_id)
        if saved and isinstance(saved.get("document"), dict):
            self._replace(saved["document"], path=saved.get("path"),
                          dirty=bool(saved.get("dirty")))
            return True
        self.open_path(storage.SAMPLES_DIR / storage.DEFAULT_SAMPLE)
        return False

    def open_path(self, path: Path) -> None:
        """Open a project file (raises ProjectError with every problem)."""
        document = storage.read_document(path)
        sample = Path(path).resolve().parent == storage.SAMPLES_DIR.resolve()
        self._replace(document, path=None if sample else str(path), dirty=False)

    def open_text(self, text: str | bytes) -> None:
        """Open an uploaded project (raises ProjectError with every problem)."""
        from engine.project import loads_project

        self._replace(loads_project(text).to_dict(), path=None, dirty=True)

    def new(self) -> None:
        self._replace(edits.new_document(), path=None, dirty=False)

    def _replace(self, document: dict, path: str | None, dirty: bool) -> None:
        self.history.clear()
        self.field_errors = {}
        self.param.update(document=migrate(copy.deepcopy(document)), path=path, dirty=dirty)
        self._after_change()

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
        self.history.push(self.document)
        self.param.update(document=new, dirty=True)
        self._after_change()
        return extra

    def undo(self) -> bool:
        previous = self.history.undo(self.document)
        if previous is None:
            return False
        self.param.update(document=previous, dirty=True)
        self._after_change()
        return True

    def redo(self) -> bool:
        following = self.history.redo(self.document)
        if following is None:
            return False
        self.param.update(document=following, dirty=True)
        self._after_change()
        return True

    def _after_change(self) -> None:
        self.problems = validate_document(self.document)
        self.param.update(can_undo=self.history.can_undo, can_redo=self.history.can_redo)
        self.autosave()

    def autosave(self) -> None:
        storage.autosave(self.session_id, {"document": self.document, "path": self.path,
                                           "dirty": self.dirty})

    # ------------------------------------------------------------------ saving / running
    def save(self, name: str | None = None) -> Path:
        """Save to the current file, or to the user folder under ``name`` (save as)."""
        document = copy.deepcopy(self.document)
        if name:
            document["name"] = name
        self.project()  # refuses an invalid document, listing its problems
        target = Path(self.path) if self.path and not name else storage.user_project_path(
            document.get("name", "project"))
        storage.save_user_project(document, target)
        self.param.update(document=document, path=str(target), dirty=False)
        self.autosave()
        return target

    def project(self) -> Project:
        """The validated Project (raises ProjectError listing the current problems)."""
        if self.problems:
            raise ProjectError(list(self.problems))
        return Project.from_dict(self.document)

    def problem_lines(self) -> list[str]:
        return [str(p) for p in self.problems if isinstance(p, Problem)]

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
        inputs = [f"{path}: {message} (typed {text!r})"
                  for path, (text, message) in sorted(self.field_errors.items())]
        return inputs + self.problem_lines()
