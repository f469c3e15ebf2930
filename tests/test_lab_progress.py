"""Lab progress: kept per workspace, never overwritten, private; the lecturer's table; the
Lab notes tab's steps (without a browser)."""

from __future__ import annotations

import csv
import json

import pytest

from engine.labs import Observation
from sample_projects import directory
from workbench import lab_progress, storage
from workbench.cli import main as cli_main
from workbench.lab_panel import LabPanel


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("SPIKESTUDIO_HOME", str(tmp_path / "home"))
    monkeypatch.delenv(lab_progress.ENV_LECTURERS, raising=False)
    return tmp_path / "home"


def test_attempts_are_appended_in_the_users_own_workspace(home):
    alice, bob = storage.Workspace.for_user("alice"), storage.Workspace.for_user("bob")
    lab_progress.record(alice, "lif", "rheobase", False, {"spikes": 0.0}, when=1.0)
    lab_progress.record(alice, "lif", "rheobase", True, {"spikes": 5.0}, when=2.0)
    lab_progress.record(bob, "lif", "below-threshold", True, when=3.0)
    mine = lab_progress.attempts(alice)
    assert [(a.step, a.holds, a.when) for a in mine] == [("rheobase", False, 1.0),
                                                         ("rheobase", True, 2.0)]
    assert mine[1].measured == {"spikes": 5.0}
    assert [a.step for a in lab_progress.attempts(bob)] == ["below-threshold"]
    # Each person's file sits in their own (hashed) workspace folder, readable by them only.
    path = alice.root / "labs" / "progress.jsonl"
    assert path.is_file() and (path.stat().st_mode & 0o077) == 0
    assert not (bob.root / "labs" / "progress.jsonl").read_text().count("alice")


def test_damaged_lines_are_skipped_not_fatal(home):
    ws = storage.Workspace.for_user("carol")
    lab_progress.record(ws, "lif", "rheobase", True, when=1.0)
    with (ws.root / "labs" / "progress.jsonl").open("a") as f:
        f.write("{not json\n")
    lab_progress.record(ws, "lif", "fi-curve", False, {"x": float("nan")}, when=2.0)
    found = lab_progress.attempts(ws)
    assert [a.step for a in found] == ["rheobase", "fi-curve"]
    assert found[1].measured == {"x": None}


def test_class_table_counts_held_and_tried_per_user_and_step(home):
    alice, bob = storage.Workspace.for_user("alice"), storage.Workspace.for_user("bob")
    lab_progress.record(alice, "lif", "rheobase", False)
    lab_progress.record(alice, "lif", "rheobase", True)
    lab_progress.record(bob, "lif", "below-threshold", True)
    table = lab_progress.class_progress()
    assert table.users == ["alice", "bob"]
    assert table.cell("alice", "lif", "rheobase") == "1/2"
    assert table.cell("bob", "lif", "rheobase") == ""
    assert table.cell("bob", "lif", "below-threshold") == "1/1"
    rows = list(csv.reader(table.csv().splitlines()))
    assert rows[0] == ["user", "lif/below-threshold", "lif/rheobase"]
    assert rows[1] == ["alice", "", "1/2"]


def test_class_table_lists_steps_in_lab_order_not_alphabetically(home):
    ws = storage.Workspace.for_user("dora")
    # Checked out of order, and a step no sample lab has (a lab from another folder).
    for step in ("fi-curve", "zz-extra", "above-rheobase", "rheobase"):
        lab_progress.record(ws, "lif", step, True)
    header = lab_progress.class_progress().rows()[0]
    assert header == ["user", "lif/rheobase", "lif/above-rheobase", "lif/fi-curve",
                      "lif/zz-extra"]
    order = [("lif", "fi-curve"), ("lif", "rheobase"), ("lif", "above-rheobase")]
    header = lab_progress.class_progress(order=order).rows()[0]
    assert header == ["user", "lif/fi-curve", "lif/rheobase", "lif/above-rheobase",
                      "lif/zz-extra"]


def test_cli_class_progress_prints_and_writes_csv(home, tmp_path, capsys):
    lab_progress.record(storage.Workspace.for_user("alice"), "lif", "rheobase", True)
    out = tmp_path / "progress.csv"
    assert cli_main(["class", "progress", "--csv", str(out)]) == 0
    text = capsys.readouterr().out
    assert "alice" in text and "lif/rheobase" in text and "1/1" in text
    assert out.read_text().splitlines()[1] == "alice,1/1"
    empty = tmp_path / "none"
    empty.mkdir()
    assert cli_main(["class", "progress", "--workspaces", str(empty)]) == 0
    assert "no lab progress recorded yet" in capsys.readouterr().out


def test_only_authenticated_lecturers_are_lecturers(home, monkeypatch):
    monkeypatch.setenv(lab_progress.ENV_LECTURERS, "alice, bob")
    assert lab_progress.is_lecturer(storage.Workspace.for_user("alice"))
    assert not lab_progress.is_lecturer(storage.Workspace.for_user("mallory"))
    assert not lab_progress.is_lecturer(storage.Workspace.for_browser("alice"))
    assert not lab_progress.is_lecturer(storage.Workspace.local())


def test_serve_refuses_lecturers_without_login(capsys):
    assert cli_main(["serve", "--lecturers", "alice"]) == 2
    assert "--lecturers: give user names" in capsys.readouterr().err


# ---------------------------------------------------------------------- the tab
def lif_document() -> dict:
    return json.loads((directory() / "lif_single_neuron.json").read_text())


def test_panel_shows_steps_as_text_and_notes_as_before(home):
    panel = LabPanel(lambda: None, lambda: None)
    doc = lif_document()
    doc["lab"]["steps"][0]["title"] = "<b>bold</b> title"
    doc["lab"]["steps"][0]["question"] = "<script>alert(1)</script> why?"
    panel.show_document(doc)
    assert len(panel.cards) == len(doc["lab"]["steps"])
    first = panel.cards[0]
    assert "&lt;b&gt;bold&lt;/b&gt; title" in first.header.object
    assert "<script>" not in first.body.object and "why?" in first.body.object
    assert "Lab 1: a single leaky" in panel.notes.object
    panel.show_document({**doc, "lab": "# Just notes"})
    assert panel.cards == [] and "Just notes" in panel.notes.object


def test_panel_records_checks_and_ticks_held_steps(home):
    panel = LabPanel(lambda: None, lambda: None)
    doc = lif_document()
    panel.show_document(doc)
    panel.record("lif", "below-threshold", Observation(True, "ok", {"spikes": 0.0}))
    panel.show_document(doc)  # reopened: the step that held is ticked, the others not
    assert [c.ticked for c in panel.cards][:2] == [True, False]
    assert 'data-ticked="true"' in panel.cards[0].header.object
    assert panel.class_table.object == ""  # not a lecturer: no class table


def test_a_checks_figure_shows_under_its_outcome_and_goes_with_the_next_check(home):
    from engine.labs import FigureData

    panel = LabPanel(lambda: None, lambda: None)
    panel.show_document(lif_document())
    card = panel.cards[3]
    figure = FigureData("fi_curve", {"amplitude_mv": (20.0,), "rate_hz": (40.0,),
                                     "analytic_amplitude_mv": (0.0, 20.0),
                                     "analytic_rate_hz": (0.0, 41.0)})
    card._done({"observation": Observation(False, "off", {"x": 1.0}, "look", figure)}, False)
    assert 'data-state="missing"' in card.outcome.object
    (pane,) = card.figure.objects
    assert pane.object.yaxis[0].axis_label == "firing rate (Hz)"
    card._done({"observation": Observation(True, "ok")}, False)
    assert card.figure.objects == []


def test_panel_shows_the_class_table_to_lecturers_only(home, monkeypatch):
    from workbench import identity

    lab_progress.record(storage.Workspace.for_user("bob"), "lif", "rheobase", True)
    monkeypatch.setenv(lab_progress.ENV_LECTURERS, "alice")
    for user, sees in (("alice", True), ("bob", False)):
        monkeypatch.setattr(identity, "current",
                            lambda u=user: identity.Identity(storage.Workspace.for_user(u)))
        panel = LabPanel(lambda: None, lambda: None)
        panel.show_document(lif_document())
        assert ('data-testid="class-progress"' in panel.class_table.object) is sees
        assert ("bob" in panel.class_table.object) is sees
