"""Lab progress: each Check a student makes, kept in their own workspace; the class table.

Every Check appends one JSON line to ``<workspace>/labs/progress.jsonl`` (lab, step, holds,
when, the figures measured): attempts are only ever added, never rewritten, so nothing is
lost when two tabs of the same person check at once (each line is one ``O_APPEND`` write).
The file lives in the person's private workspace; only the lecturer's table reads all of
them (:func:`class_progress`), and the page shows it only to users named as lecturers.
"""

from __future__ import annotations

import csv
import io
import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench import storage

__all__ = ["Attempt", "ClassTable", "attempts", "class_progress", "is_lecturer", "lab_order",
           "record"]

PROGRESS_FILE = "progress.jsonl"
#: Set by ``spikestudio serve --lecturers alice,bob``: the users who see the class table.
ENV_LECTURERS = "SPIKESTUDIO_LECTURERS"
MAX_LINE_CHARS = 20_000  # a line longer than this is not ours: skipped when reading


@dataclass(frozen=True)
class Attempt:
    """One Check of one step."""

    lab: str
    step: str
    holds: bool
    when: float  # seconds since the epoch
    measured: dict[str, Any] = field(default_factory=dict)


def _progress_path(root: Path) -> Path:
    return root / "labs" / PROGRESS_FILE


def record(workspace: storage.Workspace, lab: str, step: str, holds: bool,
           measured: dict[str, Any] | None = None, when: float | None = None) -> Attempt:
    """Append one attempt to ``workspace``'s progress; returns it."""
    attempt = Attempt(lab, step, bool(holds), time.time() if when is None else when,
                      {k: _number(v) for k, v in (measured or {}).items()})
    line = json.dumps({"lab": attempt.lab, "step": attempt.step, "holds": attempt.holds,
                       "when": attempt.when, "measured": attempt.measured,
                       "workspace": workspace.key}, allow_nan=False, ensure_ascii=False)
    path = _progress_path(workspace.root)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, (line + "\n").encode("utf-8"))
    finally:
        os.close(fd)
    return attempt


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number and abs(number) != float("inf") else None


def attempts(workspace: storage.Workspace) -> list[Attempt]:
    """The attempts of one workspace, oldest first."""
    return _read(_progress_path(workspace.root))[1]


def _read(path: Path) -> tuple[str | None, list[Attempt]]:
    """``(workspace key, attempts)`` of a progress file; damaged lines are skipped."""
    if not path.is_file():
        return None, []
    key, out = None, []
    with path.open(encoding="utf-8", errors="replace") as f:
        for line in f:
            if len(line) > MAX_LINE_CHARS:
                continue
            try:
                item = json.loads(line)
                attempt = Attempt(str(item["lab"]), str(item["step"]), bool(item["holds"]),
                                  float(item["when"]), dict(item.get("measured") or {}))
            except (ValueError, KeyError, TypeError):
                continue
            key = key or item.get("workspace")
            out.append(attempt)
    return key, out


@dataclass(frozen=True)
class ClassTable:
    """Users x lab steps: per cell the attempts that held and all attempts."""

    users: list[str]
    steps: list[tuple[str, str]]                      # (lab, step)
    cells: dict[tuple[str, str, str], tuple[int, int]]  # (user, lab, step) -> (held, tried)

    def cell(self, user: str, lab: str, step: str) -> str:
        """``"held/tried"`` (e.g. ``1/2``: two attempts, one held), empty when never tried."""
        held, tried = self.cells.get((user, lab, step), (0, 0))
        return f"{held}/{tried}" if tried else ""

    def rows(self) -> list[list[str]]:
        """The header row (``user``, then ``lab/step``) and one row per user."""
        header = ["user", *(f"{lab}/{step}" for lab, step in self.steps)]
        return [header, *([user, *(self.cell(user, lab, step) for lab, step in self.steps)]
                          for user in self.users)]

    def text(self) -> str:
        """The table as aligned plain text."""
        rows = self.rows()
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
                         for r in rows)

    def csv(self) -> str:
        """The table as CSV."""
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows(self.rows())
        return out.getvalue()


def _user_name(key: str | None, folder: Path) -> str:
    """How the lecturer's table names a workspace: the user name, else its folder."""
    if key and key.startswith("user:"):
        return key[len("user:"):]
    return key or folder.name


def lab_order() -> list[tuple[str, str]]:
    """``(lab, step)`` of every sample lab: labs by file name, steps as each lab lists them."""
    from engine.labs.catalogue import labs_in
    return [(e.lab.id, s.id) for e in labs_in() for s in e.lab.steps]


def _in_order(found: list[tuple[str, str]], order: Sequence[tuple[str, str]]
              ) -> list[tuple[str, str]]:
    """``found`` sorted as ``order`` lists them; steps it does not know (a lab from elsewhere,
    a step since renamed) come last, alphabetically."""
    rank = {key: i for i, key in enumerate(order)}
    return sorted(found, key=lambda key: (key not in rank, rank.get(key, 0), key))


def class_progress(workspaces: Path | None = None,
                   order: Sequence[tuple[str, str]] | None = None) -> ClassTable:
    """The progress of every workspace under ``workspaces`` (default: the server's).

    Parameters
    ----------
    workspaces
        The folder holding the workspaces.
    order
        ``(lab, step)`` in the order the table's columns follow (default: :func:`lab_order`,
        the steps as the labs list them).
    """
    root = Path(workspaces) if workspaces is not None else storage.home() / "workspaces"
    per_user: dict[str, list[Attempt]] = {}
    if root.is_dir():
        for folder in sorted(p for p in root.iterdir() if p.is_dir()):
            key, found = _read(_progress_path(folder))
            if found:
                per_user.setdefault(_user_name(key, folder), []).extend(found)
    steps: list[tuple[str, str]] = []
    cells: dict[tuple[str, str, str], tuple[int, int]] = {}
    for user, items in per_user.items():
        for a in items:
            if (a.lab, a.step) not in steps:
                steps.append((a.lab, a.step))
            held, tried = cells.get((user, a.lab, a.step), (0, 0))
            cells[(user, a.lab, a.step)] = (held + a.holds, tried + 1)
    return ClassTable(sorted(per_user), _in_order(steps, lab_order() if order is None else order),
                      cells)


def is_lecturer(workspace: storage.Workspace) -> bool:
    """True for the workspace of an authenticated user named in ``--lecturers``.

    Only ``user:`` workspaces qualify (they exist only when the server logs people in), so
    a browser workspace never sees the class table.
    """
    if not workspace.key.startswith("user:"):
        return False
    names = {n.strip() for n in os.environ.get(ENV_LECTURERS, "").split(",") if n.strip()}
    return workspace.key[len("user:"):] in names
