"""Issue 18 (the smaller things): unsaved work offered on a fresh tab, and banners that last
as long as the state they describe (without a browser; tests/browser has the page's side)."""

from __future__ import annotations

import os
import time

import pytest

from workbench import edits, storage
from workbench.lifetimes import Lifetimes
from workbench.restore_offer import edited_ago
from workbench.session import ProjectSession


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("SPIKESTUDIO_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("SPIKESTUDIO_SECRET", raising=False)
    return tmp_path / "home"


def _edited_tab(ws: storage.Workspace, session_id: str, name: str,
                edits_made: int = 2) -> ProjectSession:
    """A tab that opened the default sample, renamed it and edited it, without saving."""
    tab = ProjectSession(session_id, ws)
    tab.restore_or_open_default()
    tab.apply(edits.rename_project, name)
    for i in range(edits_made - 1):
        tab.apply(edits.add_node, "population", "lif", 100.0 + 40 * i, 300.0)
    return tab


# ---------------------------------------------------------------------------- lifetimes
def test_ending_a_state_forgets_what_it_holds_and_narrower_states_only():
    lifetimes, gone = Lifetimes(), []
    for state in ("pause", "run", "project"):
        lifetimes.hold(f"{state} note", state, lambda s=state: gone.append(s))
    lifetimes.end("pause")
    assert gone == ["pause"]
    lifetimes.end("pause")  # nothing held there any more
    assert gone == ["pause"]
    lifetimes.end("project")  # ends the run too
    assert gone == ["pause", "run", "project"]
    with pytest.raises(ValueError, match="state: must be one of pause, run, project"):
        lifetimes.hold("note", "forever", lambda: None)


def test_a_later_text_in_the_same_place_replaces_the_earlier_ones_hold():
    lifetimes, gone = Lifetimes(), []
    lifetimes.hold("banner", "pause", lambda: gone.append("paused"))
    lifetimes.hold("banner", "project", lambda: gone.append("saved"))
    lifetimes.end("run")
    assert gone == []
    lifetimes.end("project")
    assert gone == ["saved"]


@pytest.fixture
def workbench():
    from workbench.app import Workbench

    return Workbench(session_id=storage.Workspace.local().issue_session_id())


def test_a_banner_goes_when_its_state_ends_not_a_later_one(workbench):
    workbench.message_bar.message("Paused at t = 3 ms: neuron 1 of 'exc' spikes.", "warning",
                                  lasts="pause")
    assert 'data-lasts="pause"' in workbench.message_bar.messages.object
    workbench.lifetimes.end("pause")  # Continue, Step, the run's end
    bar = workbench.message_bar
    assert bar.messages.object == "" and not bar.dismiss_button.visible

    workbench.message_bar.message("About the run.", "warning")  # lasts the run, by default
    workbench.lifetimes.end("pause")
    assert "About the run." in workbench.message_bar.messages.object
    workbench.message_bar.message("Saved.", lasts="project")  # replaces it in the banner
    workbench.lifetimes.end("run")  # the replaced message's end must not clear this one
    assert "Saved." in workbench.message_bar.messages.object
    workbench.lifetimes.end("project")
    assert workbench.message_bar.messages.object == ""


def test_opening_another_project_ends_the_messages_of_the_last_one(workbench):
    workbench.message_bar.message("Breakpoint never reached: ...", "warning")
    workbench.file_menu._new()
    assert "never reached" not in workbench.message_bar.messages.object
    assert "New project." in workbench.message_bar.messages.object


def test_the_pinned_run_dropped_note_lasts_until_the_next_run_or_project(workbench):
    compare = workbench.views["compare"]
    compare.pinned = type("Pin", (), {"header": "run 1 of Old"})()
    workbench.file_menu._new()  # the pin belonged to the old project
    assert "was dropped" in compare.pin_status.object
    workbench.lifetimes.end("run")  # what Run does first
    assert "was dropped" not in compare.pin_status.object
    assert "was dropped" not in compare.status.object


# ---------------------------------------------------------------------------- unsaved work
def test_unsaved_work_lists_other_tabs_with_unsaved_changes_newest_first():
    ws = storage.Workspace.for_user("ana")
    older = _edited_tab(ws, "tab-older", "Older work")
    newer = _edited_tab(ws, "tab-newer", "Newer <b>work</b>")
    saved = _edited_tab(ws, "tab-saved", "Saved work")
    saved.save()  # nothing unsaved: not offered
    past = time.time() - 3600
    os.utime(ws.autosave_dir / "tab-older.json", (past, past))
    found = ws.unsaved_work(exclude="tab-mine")
    assert [(w.session_id, w.name) for w in found] == [("tab-newer", newer.document["name"]),
                                                       ("tab-older", "Older work")]
    assert found[1].modified == pytest.approx(past)
    assert [w.session_id for w in ws.unsaved_work(exclude="tab-newer")] == ["tab-older"]
    assert storage.Workspace.for_user("bo").unsaved_work() == []  # private
    assert older.dirty


def test_restoring_takes_over_the_work_with_its_undo_history():
    ws = storage.Workspace.for_user("ana")
    old = _edited_tab(ws, "tab-old", "Lab 3", edits_made=3)
    fresh = ProjectSession("tab-new", ws)
    assert fresh.restore_or_open_default() is False
    assert fresh.restore_unsaved("tab-old") is True
    assert fresh.document == old.document and fresh.dirty and fresh.can_undo
    undone = 0
    while fresh.undo():
        undone += 1
    assert undone == 3 and fresh.document["name"] == "Single LIF neuron"
    # The work moved: this tab's autosave holds it, the old tab's file is gone.
    assert ws.load_autosave("tab-old") is None
    assert ws.load_autosave("tab-new")["document"] == fresh.document
    assert fresh.restore_unsaved("tab-old") is False  # gone: nothing changes


def test_a_fresh_tab_offers_unsaved_work_and_restores_it(workbench):
    from workbench.app import Workbench

    ws = workbench.workspace
    _edited_tab(ws, ws.issue_session_id(), "Lab <i>4</i>")
    fresh = Workbench(session_id=ws.issue_session_id())
    buttons = fresh.file_menu.restore_offer._buttons.objects
    assert fresh.file_menu.restore_offer._layout.visible and len(buttons) == 1
    # A button label is text: the name is shown as typed, never as markup.
    assert buttons[0].label == "Restore unsaved work of Lab <i>4</i>, edited just now"
    buttons[0].clicks += 1
    assert fresh.session.document["name"] == "Lab <i>4</i>" and fresh.session.can_undo
    assert not fresh.file_menu.restore_offer._layout.visible  # nothing left to offer
    banner = fresh.message_bar.messages.object
    assert "Restored the unsaved work of Lab <i>4</i>" not in banner  # escaped
    assert "Restored the unsaved work of Lab &lt;i&gt;4&lt;/i&gt;" in banner


def test_dismissing_the_offer_keeps_the_autosave(workbench):
    from workbench.app import Workbench

    ws = workbench.workspace
    old_id = ws.issue_session_id()
    _edited_tab(ws, old_id, "Keep me")
    fresh = Workbench(session_id=ws.issue_session_id())
    fresh.file_menu.restore_offer.dismiss_button.clicks += 1
    assert not fresh.file_menu.restore_offer._layout.visible
    assert ws.load_autosave(old_id)["document"]["name"] == "Keep me"
    assert Workbench(session_id=ws.issue_session_id()).file_menu.restore_offer._layout.visible


def test_a_reloaded_tab_restores_its_own_work_and_offers_nothing(workbench):
    from workbench.app import Workbench

    ws = workbench.workspace
    own = ws.issue_session_id()
    _edited_tab(ws, own, "Mine")
    reloaded = Workbench(session_id=own)
    assert reloaded.session.document["name"] == "Mine"
    assert not reloaded.file_menu.restore_offer._layout.visible


@pytest.mark.parametrize("seconds, words", [(5, "just now"), (60, "1 minute ago"),
                                            (150, "2 minutes ago"), (7200, "2 hours ago"),
                                            (86400 * 3 + 5, "3 days ago")])
def test_edited_ago(seconds, words):
    assert edited_ago(1000.0, now=1000.0 + seconds) == words


# ---------------------------------------------------------------------------- one naming
def _record_choice_options(document: dict) -> dict:
    import panel as pn

    from workbench.inspector import simulation_inspector

    parts = simulation_inspector(document, [], lambda *a: None)
    found = [w for part in parts if isinstance(part, pn.Column) for w in part.objects
             if isinstance(w, pn.widgets.CheckBoxGroup)]
    assert len(found) == 1
    return found[0].options


def test_the_digits_sample_has_one_name_per_layer():
    """Graph label, "Record spikes of", raster row and --readout: one name per layer."""
    doc = storage.read_document(storage.SAMPLES_DIR / "digits_mlp.json")
    nodes = {n["id"]: n for n in doc["network"]["nodes"]}
    for layer in ("layer1", "output"):
        assert nodes[layer]["label"] == layer
    assert _record_choice_options(doc) == {"Input x 64 (input)": "input", "layer1": "layer1",
                                           "output": "output"}


def test_record_spikes_of_names_nodes_as_the_graph_does():
    for entry in storage.list_samples():
        doc = storage.read_document(entry.path)
        graph = {n["id"]: n.get("label") or n["id"] for n in doc["network"]["nodes"]}
        for text, node in _record_choice_options(doc).items():
            assert text.startswith(graph[node]), (entry.name, text, node)
