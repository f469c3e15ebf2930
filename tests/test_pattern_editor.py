"""The Hopfield lab's pattern editor: a click is one undoable edit of pattern and weights."""

from __future__ import annotations

import json

import numpy as np
import pytest

from engine.labs.hopfield import decode, hebbian_weights, settings
from sample_projects import directory
from workbench import storage
from workbench.lab_notes_tab import LabNotesTab
from workbench.session import ProjectSession
from workbench.view_protocol import ViewContext

HOPFIELD = directory() / "hopfield_memory.json"


@pytest.fixture
def session(tmp_path, monkeypatch):
    monkeypatch.setenv("SPIKESTUDIO_HOME", str(tmp_path / "home"))
    s = ProjectSession("patterns", storage.Workspace.local())
    s.open_path(HOPFIELD)
    return s


def _weights(document: dict, edge_id: str) -> np.ndarray:
    (edge,) = [e for e in document["network"]["projections"] if e["id"] == edge_id]
    return np.array(edge["connectivity"]["weights"])


def test_a_click_stores_the_pattern_and_its_weights_in_one_undoable_edit(session):
    tab = LabNotesTab(ViewContext(apply=session.apply))
    tab.set_project(session.document)
    before = session.document
    grids = tab.patterns.grids
    assert len(grids) == len(before["hopfield"]["patterns"]) and tab.patterns.view.visible
    grids[1].toggle(0)  # as a click on the first cell of the second pattern does
    after = session.document
    pattern = after["hopfield"]["patterns"][1]
    assert pattern[0] != before["hopfield"]["patterns"][1][0]
    h = settings(after["hopfield"])
    stored = hebbian_weights(np.array([decode(p) for p in h["patterns"]]), h["gain_mv"])
    assert np.allclose(_weights(after, h["excitatory"]), np.round(stored, 9))
    assert not np.allclose(_weights(after, h["excitatory"]), _weights(before, h["excitatory"]))
    assert session.undo() and session.document == before  # one Undo takes both back
    tab.set_project(session.document)
    assert tab.patterns.grids[1].pattern == before["hopfield"]["patterns"][1]


def test_no_editor_without_a_hopfield_section():
    tab = LabNotesTab(ViewContext(apply=lambda *a: None))
    tab.set_project(json.loads((directory() / "lif_single_neuron.json").read_text()))
    assert tab.patterns.grids == [] and not tab.patterns.view.visible
