"""Where projects live: the sample projects, the user's saved projects and autosaves.

Everything is plain JSON written atomically (engine.project.atomic_write_text). The folder is
``$SPIKESTUDIO_HOME`` or ``~/.spikestudio``; each browser session autosaves its document under
``autosave/<session id>.json`` after every edit, so a reload or a crash loses nothing.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.errors import Problem, ProjectError
from engine.project import atomic_write_text, loads_project

SAMPLES_DIR = Path(__file__).resolve().parent.parent / "sample_projects"
DEFAULT_SAMPLE = "lif_single_neuron.json"
_SAFE = re.compile(r"[^A-Za-z0-9_\-]+")


@dataclass(frozen=True)
class ProjectEntry:
    """A project that can be opened: its file, name and description."""

    path: Path
    name: str
    description: str
    sample: bool


def home() -> Path:
    root = Path(os.environ.get("SPIKESTUDIO_HOME", Path.home() / ".spikestudio"))
    root.mkdir(parents=True, exist_ok=True)
    return root


def _entries(folder: Path, sample: bool) -> list[ProjectEntry]:
    out = []
    for path in sorted(folder.glob("*.json")):
        try:
            doc = json.loads(path.read_text())
            out.append(ProjectEntry(path, str(doc.get("name", path.stem)),
                                    str(doc.get("description", "")), sample))
        except (OSError, ValueError, AttributeError):
            continue  # an unreadable file is not offered
    return out


def list_samples() -> list[ProjectEntry]:
    return _entries(SAMPLES_DIR, sample=True)


def list_user_projects() -> list[ProjectEntry]:
    return _entries(home() / "projects", sample=False)


def read_document(path: Path) -> dict[str, Any]:
    """Load, validate and return a project document (ProjectError on any problem)."""
    try:
        text = Path(path).read_bytes()  # undecodable bytes become a "not JSON" problem
    except OSError as exc:
        raise ProjectError([Problem("", f"cannot read {path}: {exc.strerror}")]) from None
    return loads_project(text).to_dict()


def user_project_path(name: str) -> Path:
    stem = _SAFE.sub("_", name).strip("_") or "project"
    return home() / "projects" / f"{stem}.json"


def save_user_project(document: dict[str, Any], path: Path | None = None) -> Path:
    """Save (atomically) into the user's project folder; returns the path."""
    target = path or user_project_path(document.get("name", "project"))
    atomic_write_text(target, json.dumps(document, indent=2, allow_nan=False) + "\n")
    return target


def _autosave_path(session_id: str) -> Path:
    return home() / "autosave" / f"{_SAFE.sub('_', session_id)[:64]}.json"


def autosave(session_id: str, state: dict[str, Any]) -> None:
    """Keep the latest state of a browser session (document and file path)."""
    atomic_write_text(_autosave_path(session_id), json.dumps(state, allow_nan=False))


def load_autosave(session_id: str) -> dict[str, Any] | None:
    path = _autosave_path(session_id)
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None
