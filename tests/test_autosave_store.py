"""The autosave writes each snapshot and long per-neuron list once (workbench.autosave_store):
an edit writes about its own size, and restore-after-crash and undo still work."""

from __future__ import annotations

import json
import os
import time

import pytest

from workbench import autosave_store, edits, storage
from workbench.session import SAVED_HISTORY, ProjectSession

SIZE = 3000  # above SHARED_MIN: the list is shared


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("SPIKESTUDIO_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("SPIKESTUDIO_SECRET", raising=False)
    return tmp_path / "home"


@pytest.fixture
def writes(monkeypatch):
    """Every (file name, bytes) the autosave writes."""
    seen: list[tuple[str, int]] = []
    original = autosave_store.atomic_write_text

    def record(path, text):
        seen.append((path.name, len(text.encode("utf-8"))))
        original(path, text)

    monkeypatch.setattr(autosave_store, "atomic_write_text", record)
    return seen


def taus(offset: float = 0.0) -> list[float]:
    return [10.0 + offset + (i % 97) / 7.0 for i in range(SIZE)]


def hetero_session(session_id: str = "tab") -> tuple[ProjectSession, str]:
    session = ProjectSession(session_id, storage.Workspace.for_user("ana"))
    session.new()
    session.apply(edits.add_node, "population", "lif", 100.0, 100.0)
    node = session.document["network"]["nodes"][-1]["id"]
    session.apply(edits.set_node_field, node, "size", SIZE)
    session.apply(edits.set_node_param, node, "tau_m", taus())
    return session, node


def shared_dir(session: ProjectSession):
    return session.workspace.root / "autosave_shared" / session.session_id


def test_an_edit_that_keeps_the_list_writes_far_less_than_the_list(writes):
    session, node = hetero_session()
    list_bytes = len(json.dumps(taus()))
    for i in range(30):  # a long history: every snapshot holds the list
        writes.clear()
        session.apply(edits.move_node, node, 100.0 + i, 100.0)
        written = sum(size for _, size in writes)
        assert written < list_bytes / 4, (i, writes)
    pieces = list(shared_dir(session).glob("*.json"))
    lists = [p for p in pieces if p.stat().st_size >= list_bytes]
    assert len(lists) == 1  # the list is on disk once, for 33 snapshots
    writes.clear()
    session.apply(edits.set_node_param, node, "tau_m", taus(1.0))
    assert list_bytes <= sum(size for _, size in writes) < 2 * list_bytes


def test_restore_after_a_crash_gives_the_document_and_every_undo_step():
    session, node = hetero_session()
    states = [session.document]
    for i in range(3):
        session.apply(edits.set_node_param, node, "tau_m", taus(i + 1.0))
        states.append(session.document)
    assert session.undo()
    # A new process: nothing in memory, only the files.
    reloaded = ProjectSession("tab", storage.Workspace.for_user("ana"))
    assert reloaded.restore_or_open_default()
    assert reloaded.document == states[2] and reloaded.dirty
    assert reloaded.redo() and reloaded.document == states[3]
    for expected in reversed(states[:3]):
        assert reloaded.undo() and reloaded.document == expected
    # Its undo steps were autosaved in turn: read back from the files, without its memory.
    state = session.workspace.load_autosave("tab")
    assert state["document"] == states[0]
    assert all(s in state["history"]["redo"] for s in states[1:])


def test_pieces_no_longer_in_the_history_are_deleted():
    session, node = hetero_session()
    for i in range(SAVED_HISTORY + 5):
        session.apply(edits.set_node_param, node, "tau_m", taus(i + 1.0))
    pieces = list(shared_dir(session).glob("*.json"))
    # SAVED_HISTORY snapshots + the lists of the document and of the kept snapshots.
    assert len(pieces) <= 2 * SAVED_HISTORY + 2
    state = session.workspace.load_autosave("tab", resolve=False)
    named = set(state["history"]["undo"])
    assert named <= {p.stem for p in pieces}


def test_a_missing_snapshot_drops_the_history_and_a_missing_list_the_restore():
    session, node = hetero_session()
    session.apply(edits.move_node, node, 300.0, 100.0)
    state = session.workspace.load_autosave("tab", resolve=False)
    folder = shared_dir(session)
    (folder / f"{state['history']['undo'][-1]}.json").unlink()
    restored = ProjectSession("tab", storage.Workspace.for_user("ana"))
    assert restored.restore_or_open_default()
    assert restored.document == session.document and not restored.can_undo
    # The document's list damaged (not its hash): no restore, the default project opens.
    list_piece = state["document"]["network"]["nodes"][-1]["params"]["tau_m"]["$shared"]
    (folder / f"{list_piece}.json").write_text(json.dumps(taus(5.0)))
    fresh = ProjectSession("tab", storage.Workspace.for_user("ana"))
    assert fresh.restore_or_open_default() is False
    assert fresh.document["name"] == "Single LIF neuron"


def test_an_unshared_autosave_of_an_older_version_still_restores():
    session, node = hetero_session()
    old_state = {"document": session.document, "path": None, "source": None, "dirty": True,
                 "history": {"undo": [session.history.export()["undo"][-1]], "redo": []}}
    session.workspace.autosave("old-tab", old_state)
    restored = ProjectSession("old-tab", storage.Workspace.for_user("ana"))
    assert restored.restore_or_open_default()
    assert restored.document == session.document
    assert restored.undo() and restored.document == old_state["history"]["undo"][0]


def test_taking_over_a_tab_moves_its_pieces_and_cleanup_removes_orphans():
    session, node = hetero_session("tab-a")
    other = ProjectSession("tab-b", storage.Workspace.for_user("ana"))
    assert other.restore_unsaved("tab-a")
    assert other.document == session.document and other.can_undo
    assert not shared_dir(session).exists() and shared_dir(other).exists()
    assert [w.session_id for w in other.workspace.unsaved_work(exclude="tab-c")] == ["tab-b"]
    # A stale autosave goes with its pieces.
    old = time.time() - 40 * 86400
    os.utime(other.workspace.autosave_dir / "tab-b.json", (old, old))
    storage.cleanup()
    assert not shared_dir(other).exists()
    # Pieces without a state file go once they are older than a write in progress.
    orphan = other.workspace.root / "autosave_shared" / "gone"
    orphan.mkdir(parents=True)
    storage.cleanup()
    assert orphan.exists()
    storage.cleanup(now=time.time() + 2 * storage.TMP_MIN_AGE_S)
    assert not orphan.exists()
