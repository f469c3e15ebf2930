"""A tab's autosave that shares what edits leave unchanged, so an edit writes about its size.

The autosave holds the document and up to 50 undo and redo snapshots. Written as one JSON
file, a project with 100,000 per-neuron values wrote tens of MB on every edit (each
snapshot repeats the list). Here every piece is written once, named by its content:

- a long list (at least :data:`SHARED_MIN` items, e.g. a per-neuron parameter) is replaced
  in the document by ``{"$shared": <sha256>}`` and written to ``<sha256>.json``;
- each undo/redo snapshot (with its lists replaced) is written the same way, and the state
  file lists the snapshots by their hashes.

So an edit writes the state file (the current document without its long lists, and one hash
per snapshot), the snapshot it pushed, and only the lists it changed. The shared pieces of
tab ``<id>`` live in ``<workspace>/autosave_shared/<id>/``, beside ``autosave/<id>.json``.

Crash safety: pieces are written (atomically) before the state file that names them, and a
piece is deleted only after a state file no longer naming it was written; every piece is
checked against its hash when read. A state whose pieces are missing or damaged restores
without its history (a damaged document: no restore at all), never half of it.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.files import atomic_write_text

#: Lists with at least this many items are written once and shared (smaller ones stay inline).
SHARED_MIN = 1000
_KEY = "$shared"
_HEX = 64


class DamagedPiece(ValueError):
    """A shared piece is missing or does not match its hash."""


def _dumps(value: Any) -> str:
    return json.dumps(value, allow_nan=False, ensure_ascii=False)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class _Split:
    """A document without its long lists (``skeleton``), the hashes of those lists (``refs``)
    and, once written as a snapshot, the skeleton's hash."""

    doc: dict
    skeleton: Any
    refs: frozenset[str]
    digest: str | None = None


class SharedAutosave:
    """Writes and reads one tab's autosave state (see the module docstring).

    Parameters
    ----------
    state_path
        The tab's state file (``autosave/<id>.json``).
    shared_dir
        The folder of its shared pieces (``autosave_shared/<id>``).
    """

    def __init__(self, state_path: Path, shared_dir: Path):
        self.state_path, self.shared_dir = state_path, shared_dir
        # Documents never change (edits return new ones), so each is split once, as the
        # current document and then as a snapshot: id -> _Split. Holding the document keeps
        # its id from being reused.
        self._split: dict[int, _Split] = {}
        self._on_disk: set[str] = set()  # hashes of the pieces in shared_dir

    # ------------------------------------------------------------------ writing
    def write(self, head: dict[str, Any], document: dict, undo: list[dict],
              redo: list[dict]) -> None:
        """Write the state ``head`` (path, source, dirty...) with ``document`` and history."""
        # Listed at each write (a few hundred names at most): a piece deleted behind our back
        # is written again rather than referred to.
        self._on_disk = {p.stem for p in self.shared_dir.glob("*.json")}
        kept: dict[int, _Split] = {}
        current = self._split_of(document, kept)
        needed = set(current.refs)
        stacks = {}
        for key, stack in (("undo", undo), ("redo", redo)):
            hashes = []
            for doc in stack:
                split = self._split_of(doc, kept)
                if split.digest is None or split.digest not in self._on_disk:
                    split.digest = self._put(_dumps(split.skeleton))
                hashes.append(split.digest)
                needed |= split.refs | {split.digest}
            stacks[key] = hashes
        self._split = kept
        state = {**head, "document": current.skeleton, "history": stacks, "shared": True}
        atomic_write_text(self.state_path, _dumps(state))
        for stale in self._on_disk - needed:
            (self.shared_dir / f"{stale}.json").unlink(missing_ok=True)
        self._on_disk &= needed

    def _split_of(self, doc: dict, kept: dict[int, _Split]) -> _Split:
        """``doc`` split into its skeleton and pieces (cached; recomputed when a piece it
        needs is missing); recorded in ``kept``."""
        split = self._split.get(id(doc))
        if split is None or split.doc is not doc or not split.refs <= self._on_disk:
            skeleton, refs = self._externalize(doc)
            split = _Split(doc, skeleton, frozenset(refs))
        kept[id(doc)] = split
        return split

    def _externalize(self, value: Any) -> tuple[Any, set[str]]:
        """``value`` with its long lists replaced by references (each written), and their
        hashes."""
        refs: set[str] = set()

        def walk(item: Any) -> Any:
            if isinstance(item, dict):
                return {k: walk(v) for k, v in item.items()}
            if isinstance(item, list):
                if len(item) >= SHARED_MIN:
                    digest = self._put(_dumps(item))
                    refs.add(digest)
                    return {_KEY: digest}
                return [walk(v) for v in item]
            return item

        return walk(value), refs

    def _put(self, text: str) -> str:
        """Write ``text`` as a piece unless it is there already; its hash."""
        digest = _digest(text)
        if digest not in self._on_disk:
            atomic_write_text(self.shared_dir / f"{digest}.json", text)
            self._on_disk.add(digest)
        return digest

    def remove(self) -> None:
        """Delete the tab's shared pieces (its state file is the caller's)."""
        shutil.rmtree(self.shared_dir, ignore_errors=True)
        self._on_disk, self._split = set(), {}


# ---------------------------------------------------------------------- reading
def resolve_state(state: dict[str, Any], shared_dir: Path) -> dict[str, Any] | None:
    """A state as :meth:`SharedAutosave.write` wrote it, with every piece read back: the
    document and the history as plain documents (the form of an unshared state, which is
    returned as it is). None when the document's pieces are missing or damaged; a history
    with a missing or damaged piece is dropped (an empty history)."""
    if not state.get("shared"):
        return state
    try:
        document = _resolve(state.get("document"), shared_dir)
    except DamagedPiece:
        return None
    history = state.get("history")
    try:
        history = {key: [_resolve(_read(shared_dir, digest), shared_dir)
                         for digest in history.get(key, []) if isinstance(digest, str)]
                   for key in ("undo", "redo")} if isinstance(history, dict) else {}
    except DamagedPiece:
        history = {}
    return {**state, "document": document, "history": history}


def _read(shared_dir: Path, digest: str) -> Any:
    if len(digest) != _HEX or any(c not in "0123456789abcdef" for c in digest):
        raise DamagedPiece(f"not a piece name: {digest[:80]!r}")
    try:
        text = (shared_dir / f"{digest}.json").read_text(encoding="utf-8")
        if _digest(text) != digest:
            raise DamagedPiece(f"piece {digest} does not match its hash")
        return json.loads(text)
    except (OSError, ValueError) as error:
        raise DamagedPiece(f"piece {digest}: {error}") from error


def _resolve(value: Any, shared_dir: Path) -> Any:
    if isinstance(value, dict):
        if set(value) == {_KEY} and isinstance(value[_KEY], str):
            return _read(shared_dir, value[_KEY])
        return {k: _resolve(v, shared_dir) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, shared_dir) for v in value]
    return value
