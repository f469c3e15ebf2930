"""Where projects live: samples, the class folder, and one private workspace per person.

Everything is plain JSON written atomically (engine.project.atomic_write_text) under
``$SPIKESTUDIO_HOME`` (default ``~/.spikestudio``)::

    secret.key                         signs workspace cookies and session ids (0600)
    class/*.json                       published by the lecturer, read-only, listed for all
    workspaces/<hash>/projects/*.json  one person's saved projects (private)
    workspaces/<hash>/autosave/<session id>.json
                                       each tab's document and undo history, after its first edit
    workspaces/<hash>/autosave_shared/<session id>/<sha256>.json
                                       its snapshots and long lists, each written once
                                       (workbench.autosave_store)

A workspace is named by a key: ``user:<name>`` when the server authenticates people (Panel's
basic auth or OAuth) or ``browser:<random id>`` issued by the server to one browser. The folder
is a hash of the key, so a name never becomes a path. Identifiers a client sends back (browser
tokens, session ids) are only accepted with the server's signature.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import shutil
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sample_projects
from engine.errors import SpikeStudioError
from engine.project import atomic_write_text, load_project, name_problem, save_document
from workbench.autosave_store import SharedAutosave, resolve_state

SAMPLES_DIR = sample_projects.directory()  # package data: also found in an installed wheel
DEFAULT_SAMPLE = "lif_single_neuron.json"
#: Autosaves untouched for this many days are deleted at server start
#: (``$SPIKESTUDIO_AUTOSAVE_DAYS`` overrides).
AUTOSAVE_DAYS = 30.0
#: A ``*.tmp`` file this old is a leftover of a killed write, never one in progress.
TMP_MIN_AGE_S = 60.0
#: A fresh tab offers at most this many autosaves with unsaved work, found among the newest
#: this many autosave files of the workspace.
UNSAVED_OFFERED = 5
UNSAVED_SCANNED = 20
_STEM_BYTES = 80  # file names stay far below the 255-byte limit of common file systems
_SIG_HEX = 16


class NameTaken(SpikeStudioError):
    """Save-as to a name that another project of the workspace already has."""

    def __init__(self, name: str, path: Path, suggestion: str):
        super().__init__(f"A project named “{name}” already exists in your workspace. "
                         f"Replace it, or save as “{suggestion}”.")
        self.name, self.path, self.suggestion = name, path, suggestion


@dataclass(frozen=True)
class UnsavedWork:
    """A tab's autosave with unsaved changes: which tab, which project, when last edited."""

    session_id: str
    name: str
    modified: float  # seconds since the epoch


@dataclass(frozen=True)
class ProjectEntry:
    """A project that can be opened: its file, name, description and where it comes from."""

    path: Path
    name: str
    description: str
    kind: str  # "sample", "class" or "mine"

    @property
    def sample(self) -> bool:
        return self.kind == "sample"


# ---------------------------------------------------------------------------- folders
def home() -> Path:
    root = Path(os.environ.get("SPIKESTUDIO_HOME", Path.home() / ".spikestudio"))
    root.mkdir(parents=True, exist_ok=True)
    return root


def class_dir() -> Path:
    return home() / "class"


def _entries(folder: Path, kind: str) -> list[ProjectEntry]:
    out = []
    for path in sorted(folder.glob("*.json")):
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            out.append(ProjectEntry(path, str(doc.get("name", path.stem)),
                                    str(doc.get("description", "")), kind))
        except (OSError, ValueError, AttributeError):
            continue  # an unreadable file is not offered
    return sorted(out, key=lambda e: (e.name.casefold(), e.path.name))


def list_samples() -> list[ProjectEntry]:
    return _entries(SAMPLES_DIR, "sample")


def list_class_projects() -> list[ProjectEntry]:
    """Projects the lecturer published for everyone (opened read-only)."""
    return _entries(class_dir(), "class")


def read_document(path: Path) -> dict[str, Any]:
    """Load, validate and return a project document (ProjectError on any problem).

    The arrays of its companion file (``<stem>.arrays.npz``) are put inline: the workbench
    edits, undoes and autosaves a self-contained JSON document.
    """
    # At most a project file's size limit is read; undecodable bytes become a JSON problem.
    return load_project(path).to_dict(inline_arrays=True)


# ---------------------------------------------------------------------------- names -> files
def normal_name(name: str) -> str:
    """The form two project names are compared in (NFC, outer whitespace removed)."""
    return unicodedata.normalize("NFC", str(name)).strip()


def file_stem(name: str) -> str:
    """A safe, readable file stem that keeps Unicode letters and digits (``été ☃`` -> ``été``).

    Anything else (spaces, punctuation, symbols, path separators) becomes ``_``. Distinct names
    may share a stem; :func:`_reserve` then adds ``-2``, ``-3``... so files never collide.
    """
    kept = []
    for ch in normal_name(name):
        category = unicodedata.category(ch)
        kept.append(ch if category[0] in "LN" or category in ("Mn", "Mc") or ch in "-_"
                    else "_")
    stem = re.sub(r"_+", "_", "".join(kept)).strip("_-")
    while len(stem.encode("utf-8")) > _STEM_BYTES:
        stem = stem[:-1]
    return stem or "project"


def _reserve(folder: Path, stem: str) -> Path:
    """Create (empty, exclusively) and return a file ``stem.json`` or ``stem-N.json``."""
    folder.mkdir(parents=True, exist_ok=True)
    n = 1
    while True:
        path = folder / (f"{stem}.json" if n == 1 else f"{stem}-{n}.json")
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
            return path
        except FileExistsError:
            n += 1


# ---------------------------------------------------------------------------- signing
def secret() -> bytes:
    """The server's signing key: ``$SPIKESTUDIO_SECRET`` or ``secret.key`` (made once, 0600)."""
    env = os.environ.get("SPIKESTUDIO_SECRET")
    if env:
        return env.encode("utf-8")
    path = home() / "secret.key"
    try:
        return bytes.fromhex(path.read_text().strip())
    except (OSError, ValueError):
        pass
    key = secrets.token_bytes(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return bytes.fromhex(path.read_text().strip())
    with os.fdopen(fd, "w") as handle:
        handle.write(key.hex())
    return key


def _sign(message: str) -> str:
    return hmac.new(secret(), message.encode("utf-8"), hashlib.sha256).hexdigest()[:_SIG_HEX]


def issue_browser_token() -> tuple[str, str]:
    """A new browser workspace: ``(workspace id, signed token for the browser's cookie)``."""
    ident = secrets.token_hex(16)
    return ident, f"{ident}.{_sign('browser:' + ident)}"


def browser_id_from_token(token: str | None) -> str | None:
    """The workspace id of a token this server issued; None for anything else."""
    if not token or not isinstance(token, str) or token.count(".") != 1:
        return None
    ident, signature = token.split(".")
    if not re.fullmatch(r"[0-9a-f]{32}", ident):
        return None
    return ident if hmac.compare_digest(signature, _sign("browser:" + ident)) else None


# ---------------------------------------------------------------------------- workspaces
@dataclass(frozen=True)
class Workspace:
    """One person's private folder of projects and autosaves.

    Parameters
    ----------
    key
        ``user:<name>`` (authenticated), ``browser:<id>`` (issued to one browser) or ``local``
        (headless use without a server).
    label
        How the workspace is named to its owner in the page.
    """

    key: str
    label: str

    @classmethod
    def for_user(cls, user: str) -> Workspace:
        return cls(f"user:{user}", str(user))

    @classmethod
    def for_browser(cls, ident: str) -> Workspace:
        return cls(f"browser:{ident}", "this browser")

    @classmethod
    def local(cls) -> Workspace:
        return cls("local", "this computer")

    @property
    def root(self) -> Path:
        digest = hashlib.sha256(self.key.encode("utf-8")).hexdigest()[:32]
        return home() / "workspaces" / digest

    @property
    def projects_dir(self) -> Path:
        return self.root / "projects"

    @property
    def autosave_dir(self) -> Path:
        return self.root / "autosave"

    # -------------------------------------------------------------- projects
    def list_projects(self) -> list[ProjectEntry]:
        return _entries(self.projects_dir, "mine")

    def owns(self, path: str | Path | None) -> bool:
        """True if ``path`` is a project file of this workspace (not a sample or class file)."""
        if not path:
            return False
        path = Path(path)
        return path.suffix == ".json" and path.resolve().parent == self.projects_dir.resolve()

    def find(self, name: str) -> ProjectEntry | None:
        """The saved project called ``name`` (compared after NFC normalisation), if any."""
        wanted = normal_name(name)
        return next((e for e in self.list_projects() if normal_name(e.name) == wanted), None)

    def free_name(self, name: str) -> str:
        """``name``, or ``name (2)``, ``name (3)``... whichever no saved project has."""
        taken = {normal_name(e.name) for e in self.list_projects()}
        base, n = normal_name(name), 2
        candidate = base
        while candidate in taken:
            candidate, n = f"{base} ({n})", n + 1
        return candidate

    def save_project(self, document: dict[str, Any], path: str | Path | None = None,
                     replace: bool = False) -> Path:
        """Save ``document`` atomically; returns its file.

        With ``path`` (a file of this workspace) the file is rewritten: that is saving a
        project to its own file. Without it the project is saved under its name: a new file,
        unless another saved project already has that name, which raises :class:`NameTaken`
        unless ``replace`` is true (then that project's file is rewritten).
        """
        if path is not None and not self.owns(path):
            raise SpikeStudioError(f"{Path(path).name} is not a project of your workspace; "
                                   "use Save as.")
        name = normal_name(document.get("name", "")) or "Untitled"
        problem = name_problem(str(document.get("name", "")))
        if problem:  # Open refuses such a file: never write one
            raise SpikeStudioError(f"Project name: {problem}.")
        if path is None:
            existing = self.find(name)
            if existing is not None and not replace:
                raise NameTaken(name, existing.path, self.free_name(name))
            self._write_owner()
            path = existing.path if existing is not None else _reserve(self.projects_dir,
                                                                      file_stem(name))
        try:
            # Long per-neuron lists go to the companion file <stem>.arrays.npz.
            save_document(document, Path(path))
        except BaseException:
            if Path(path).exists() and Path(path).stat().st_size == 0:
                Path(path).unlink(missing_ok=True)  # our empty reservation
            raise
        return Path(path)

    def _write_owner(self) -> None:
        # Lets a lecturer tell the hashed folders apart; written on the first save only.
        owner = self.root / "workspace.json"
        if not owner.exists():
            atomic_write_text(owner, json.dumps({"key": self.key, "label": self.label},
                                                ensure_ascii=False) + "\n")

    # -------------------------------------------------------------- sessions and autosaves
    def issue_session_id(self) -> str:
        """A new session (browser tab) id, signed for this workspace."""
        nonce = secrets.token_hex(8)
        return nonce + _sign(f"session:{self.key}:{nonce}")

    def valid_session_id(self, session_id: str | None) -> bool:
        """True only for ids :meth:`issue_session_id` made for this very workspace."""
        if not session_id or not re.fullmatch(f"[0-9a-f]{{{16 + _SIG_HEX}}}", session_id):
            return False
        nonce, signature = session_id[:16], session_id[16:]
        return hmac.compare_digest(signature, _sign(f"session:{self.key}:{nonce}"))

    def _autosave_path(self, session_id: str) -> Path:
        stem = re.sub(r"[^A-Za-z0-9_-]+", "_", session_id)[:64] or "session"
        return self.autosave_dir / f"{stem}.json"

    def _shared_dir(self, session_id: str) -> Path:
        return self.root / "autosave_shared" / self._autosave_path(session_id).stem

    def autosave(self, session_id: str, state: dict[str, Any] | str) -> None:
        """Keep the latest state of a tab, unshared (a dict or its JSON; see
        :meth:`shared_autosave` for the writer a session uses)."""
        text = state if isinstance(state, str) else json.dumps(state, allow_nan=False,
                                                               ensure_ascii=False)
        atomic_write_text(self._autosave_path(session_id), text)

    def shared_autosave(self, session_id: str) -> SharedAutosave:
        """The writer of a tab's autosave that writes unchanged snapshots and lists once."""
        return SharedAutosave(self._autosave_path(session_id), self._shared_dir(session_id))

    def load_autosave(self, session_id: str, resolve: bool = True) -> dict[str, Any] | None:
        """A tab's autosaved state: document, file, dirty flag and undo history.

        With ``resolve`` false the shared pieces are not read: the document may hold
        references in place of its long lists and the history holds snapshot hashes (enough
        for its name and flags). None when there is no usable state.
        """
        try:
            state = json.loads(self._autosave_path(session_id).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(state, dict):
            return None
        return resolve_state(state, self._shared_dir(session_id)) if resolve else state

    def unsaved_work(self, exclude: str | None = None, most: int = UNSAVED_OFFERED
                     ) -> list[UnsavedWork]:
        """Autosaves of other tabs holding unsaved changes, newest first (at most ``most``).

        ``exclude`` is this tab's session id. Only the newest :data:`UNSAVED_SCANNED` files
        are read, so a workspace with many old autosaves does not slow a page down.
        """
        paths = []
        for path in self.autosave_dir.glob("*.json"):
            try:
                paths.append((path.stat().st_mtime, path))
            except OSError:
                continue  # deleted meanwhile
        found = []
        for mtime, path in sorted(paths, reverse=True)[:UNSAVED_SCANNED]:
            if exclude is not None and path == self._autosave_path(exclude):
                continue
            state = self.load_autosave(path.stem, resolve=False)
            document = state.get("document") if state else None
            if not (state and state.get("dirty") and isinstance(document, dict)):
                continue
            found.append(UnsavedWork(path.stem, str(document.get("name") or "Untitled"),
                                     mtime))
            if len(found) >= most:
                break
        return found

    def drop_autosave(self, session_id: str) -> None:
        """Delete a tab's autosave (its work was taken over by another tab)."""
        self._autosave_path(session_id).unlink(missing_ok=True)
        self.shared_autosave(session_id).remove()


# ---------------------------------------------------------------------------- class folder
def publish(source: str | Path, replace: bool = False) -> Path:
    """Copy a validated project into the class folder (what ``spikestudio publish`` does).

    Raises
    ------
    ProjectError
        When the file is not a valid project.
    SpikeStudioError
        When a class project of that name exists and ``replace`` is false.
    """
    document = read_document(Path(source))
    name = normal_name(document.get("name", "")) or "Untitled"
    existing = next((e for e in list_class_projects() if normal_name(e.name) == name), None)
    if existing is not None and not replace:
        raise SpikeStudioError(f"the class already has a project named “{name}” "
                               f"({existing.path}); use --replace to update it")
    target = existing.path if existing is not None else _reserve(class_dir(), file_stem(name))
    save_document(document, target)
    return target


# ---------------------------------------------------------------------------- housekeeping
def cleanup(autosave_days: float | None = None, now: float | None = None) -> dict[str, int]:
    """Delete stale autosaves and leftover ``*.tmp`` files of killed writes.

    Autosaves untouched for ``autosave_days`` (default ``$SPIKESTUDIO_AUTOSAVE_DAYS`` or
    :data:`AUTOSAVE_DAYS`) go, in every workspace and in the pre-workspace ``autosave/``
    folder. A ``.tmp`` file counts as left over once it is :data:`TMP_MIN_AGE_S` old (a write
    in progress in another server on the same folder is younger). Returns the counts.
    """
    if autosave_days is None:
        autosave_days = float(os.environ.get("SPIKESTUDIO_AUTOSAVE_DAYS", AUTOSAVE_DAYS))
    now = time.time() if now is None else now
    root = home()
    removed = {"autosaves": 0, "tmp": 0}
    folders = [root / "autosave", *root.glob("workspaces/*/autosave")]
    for path in (p for folder in folders for p in folder.glob("*.json")):
        if _older(path, now, autosave_days * 86400.0):
            removed["autosaves"] += _unlink(path)
            # Its shared pieces go with it (workbench.autosave_store).
            shutil.rmtree(path.parent.parent / "autosave_shared" / path.stem, ignore_errors=True)
    for shared in root.glob("workspaces/*/autosave_shared/*"):
        # Pieces without a state file (a tab killed before its first state was written, a
        # folder left by a crash) once they are old enough not to be a first write going on.
        if not (shared.parent.parent / "autosave" / f"{shared.name}.json").exists() and \
                _older(shared, now, TMP_MIN_AGE_S):
            shutil.rmtree(shared, ignore_errors=True)
    for path in root.rglob("*.tmp"):
        if path.is_file() and _older(path, now, TMP_MIN_AGE_S):
            removed["tmp"] += _unlink(path)
    return removed


def _older(path: Path, now: float, seconds: float) -> bool:
    try:
        return now - path.stat().st_mtime > seconds
    except OSError:
        return False


def _unlink(path: Path) -> int:
    try:
        path.unlink()
        return 1
    except OSError:
        return 0


_last_cleanup = float("-inf")
HOUSEKEEPING_EVERY_S = 86400.0


def housekeeping(now: float | None = None) -> bool:
    """:func:`cleanup` when the server starts (its first session) and then once a day.

    Returns True when it ran.
    """
    global _last_cleanup
    now = time.time() if now is None else now
    if now - _last_cleanup < HOUSEKEEPING_EVERY_S:
        return False
    _last_cleanup = now
    cleanup(now=now)
    return True
