"""Which nodes a run records (simulation.record_spikes), set from the page as undoable edits."""
from __future__ import annotations

import pytest

from engine.project import Project
from engine.simulator import simulate
from workbench import edits


def _doc() -> dict:
    doc = edits.new_document("rec")
    doc, source = edits.add_node(doc, "encoder", "poisson", 0, 0)
    doc, pop = edits.add_node(doc, "population", "lif", 100, 0)
    doc, _ = edits.add_node(doc, "encoder", "constant_current", 0, 100)
    doc, _ = edits.connect(doc, source, pop)
    doc["simulation"]["duration_ms"] = 100.0
    return doc


def test_spike_nodes_are_populations_and_spike_encoders():
    doc = _doc()
    ids = [n["id"] for n in doc["network"]["nodes"]]
    assert edits.spike_nodes(doc) == ids[:2]  # the current encoder has no spikes
    assert edits.recorded_nodes(doc) == ids[:2]


def test_record_a_subset_then_all_again_is_stored_as_all():
    doc = _doc()
    source, pop = edits.spike_nodes(doc)
    off = edits.record_spikes_of(doc, source, False)
    assert off["simulation"]["record_spikes"] == [pop]
    assert doc["simulation"]["record_spikes"] == "all"  # the input is never mutated
    assert edits.recorded_nodes(off) == [pop]
    on = edits.record_spikes_of(off, source, True)
    assert on["simulation"]["record_spikes"] == "all"
    none = edits.set_record_spikes(doc, [])
    assert none["simulation"]["record_spikes"] == []
    with pytest.raises(edits.EditError, match="record_spikes"):
        edits.set_record_spikes(doc, ["nope"])


def test_a_run_records_what_the_edit_chose():
    doc = _doc()
    source, pop = edits.spike_nodes(doc)
    only_source = edits.set_record_spikes(doc, [source])
    result = simulate(Project.from_dict(only_source))
    assert set(result.spikes["population"].astype(str)) == {source}
    both = edits.record_spikes_of(only_source, pop, True)
    result = simulate(Project.from_dict(both))
    assert source in set(result.spikes["population"].astype(str))


def test_the_edit_goes_through_the_session_and_undoes(tmp_path, monkeypatch):
    monkeypatch.setenv("SPIKESTUDIO_HOME", str(tmp_path / "home"))
    from workbench.session import ProjectSession

    session = ProjectSession("record-test")
    session.new()
    for args in (("encoder", "poisson", 0, 0), ("population", "lif", 100, 0)):
        session.apply(edits.add_node, *args)
    source, pop = edits.spike_nodes(session.document)
    session.apply(edits.record_spikes_of, pop, False)
    assert session.document["simulation"]["record_spikes"] == [source]
    assert session.project().simulation.record_spikes == [source]
    session.undo()
    assert session.document["simulation"]["record_spikes"] == "all"
