"""Workbench actions without a browser: failed opens never claim success or lose work."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from workbench import edits


@pytest.fixture
def workbench(tmp_path, monkeypatch):
    monkeypatch.setenv("SPIKESTUDIO_HOME", str(tmp_path / "home"))
    from workbench.app import Workbench

    return Workbench(session_id="headless-test")


def _message(app) -> str:
    return app.message_bar.messages.object


@pytest.mark.parametrize("payload, expected", [
    (b"\x00\xffnot json", "not a valid JSON document"),
    (b'{"format": "spikestudio-project", "version": 99}', "version"),
    (b"[1, 2, 3]", "must be an object, got a list"),
])
def test_a_bad_upload_reports_the_error_and_keeps_the_document(workbench, payload, expected):
    before = json.dumps(workbench.session.document, sort_keys=True)
    workbench.file_menu.upload.param.update(filename="bad.json", value=payload)
    message = _message(workbench)
    assert 'data-level="error"' in message and expected in message
    assert "Opened" not in message
    assert json.dumps(workbench.session.document, sort_keys=True) == before


def test_a_good_upload_opens_and_says_so(workbench):
    doc = json.loads(json.dumps(workbench.session.document))
    doc["name"] = "Uploaded copy"
    workbench.file_menu.upload.param.update(filename="copy.json", value=json.dumps(doc).encode())
    assert "Opened copy.json." in _message(workbench)
    assert workbench.session.document["name"] == "Uploaded copy"
    assert workbench.session.dirty


def test_opening_a_broken_file_reports_it_and_keeps_the_document(workbench, tmp_path):
    before = json.dumps(workbench.session.document, sort_keys=True)
    broken = tmp_path / "broken.json"
    broken.write_bytes(b"\xff\xfe{")
    workbench.file_menu.open_select.options = {"Mine: broken": str(broken)}
    workbench.file_menu.open_select.value = str(broken)
    workbench.file_menu.open_selected()
    message = _message(workbench)
    assert 'data-level="error"' in message and "not a valid JSON document" in message
    assert "Opened" not in message
    assert json.dumps(workbench.session.document, sort_keys=True) == before


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan")])
def test_an_edit_json_cannot_hold_is_refused_and_the_document_really_is_unchanged(workbench,
                                                                                  value):
    """Issue 8: 'viewport: 1e309' broke every later save while a toast said 'unchanged'."""
    before = json.dumps(workbench.session.document)
    workbench.edit(edits.set_simulation, "duration_ms", value)
    assert json.dumps(workbench.session.document) == before
    text = workbench.message_bar.messages.object
    assert "simulation.duration_ms" in text and "unchanged" not in text
    workbench.file_menu.save("still saveable")  # the next save works
    assert workbench.session.path is not None


def test_pause_when_takes_a_label_or_an_id_and_names_the_choices(workbench):
    workbench.run_bar.breakpoint.break_kind.value = "spike"
    workbench.run_bar.breakpoint.break_target.value = "lif neuron"  # the label the editor shows
    workbench.run_bar.breakpoint.break_a.value = 0
    assert workbench.run_bar.breakpoint.breakpoints(workbench.session.document) == [
        {"kind": "spike", "population": "neuron", "neuron": 0}]
    workbench.run_bar.breakpoint.break_target.value = "neuron"  # its id
    data = workbench.run_bar.breakpoint.breakpoints(workbench.session.document)
    assert data[0]["population"] == "neuron"
    workbench.run_bar.breakpoint.break_target.value = "Excitatory"
    assert workbench.run_bar.breakpoint.breakpoints(workbench.session.document) is None
    message = _message(workbench)
    assert 'data-level="error"' in message
    assert ("Pause when: no population named &#x27;Excitatory&#x27; (choose from Constant "
            "input (input), LIF neuron (neuron))") in message


def test_a_cloned_profile_time_step_is_edited_with_validation(workbench):
    energy = workbench.views["energy"]
    energy.heatmap.profile = "loihi"
    assert not energy.step_row.visible  # built-in profiles are not edited
    energy._clone()
    assert energy.heatmap.profile == "loihi_custom" and energy.step_row.visible
    assert (energy.step_mode.value, energy.step_value.value) == ("hardware", 1.0)
    stored = lambda: workbench.session.document["energy"]["profiles"]["loihi_custom"][  # noqa: E731
        "time_step_ms"]

    energy.step_value.value = 0.0
    energy._apply_step()
    assert "profiles.loihi_custom.time_step_ms: must be a time step in ms (&gt; 0" in \
        energy.editor_note.object
    assert stored()["value"] == 1.0  # unchanged
    energy.step_value.value = None
    energy._apply_step()
    assert "enter the hardware time step in ms" in energy.editor_note.object

    energy.step_value.value = 2.0
    energy.step_source.value = "own measurement"
    energy._apply_step()
    assert stored() == {"value": 2.0, "source": "own measurement", "note": "",
                        "flags": ["user-edited"]}
    assert energy.profiles["loihi_custom"].time_step.label() == "per 2 ms hardware step"

    energy.step_mode.value = "event"
    energy.step_source.value = ""
    energy._apply_step()
    assert "time_step_ms.source: is required" in energy.editor_note.object
    energy.step_source.value = "datasheet"
    energy._apply_step()
    assert stored()["value"] == "event-driven"

    energy.step_mode.value = "simulation"
    energy._apply_step()
    assert stored()["value"] is None and "every simulation step" in stored()["note"]
    # The project still validates with every edit (the engine's own rules).
    assert workbench.session.project().energy["profiles"]["loihi_custom"]
    energy._show_figure()
    assert energy.step_mode.value == "simulation" and not energy.step_value.visible


def test_the_partial_result_of_a_dead_worker_is_shown_with_what_happened(workbench):
    from engine.project import Project
    from engine.simulator import salvaged_result, simulate
    from workbench.runner import RunHandle, death_message

    document = json.loads((Path(__file__).parent.parent / "sample_projects"
                           / "cuba_balanced.json").read_text())
    document["simulation"]["duration_ms"] = 50.0
    project = Project.from_dict(document)
    full = simulate(project)
    assert len(full.spikes) > 2
    half_ms = full.duration_ms / 2
    error = death_message(-9, 1024.0, None)
    partial = salvaged_result(project, full.spikes[full.spikes["time_ms"] < half_ms], half_ms,
                              "cancelled", error)
    handle = RunHandle(duration_ms=full.requested_ms, state="done", result=partial,
                       error=error)
    workbench.results.run_started(document)
    workbench.run_bar._finish(handle)
    assert workbench.results.result is partial
    assert error in _message(workbench) and 'data-level="error"' in _message(workbench)
    state = workbench.run_bar.progress_text.object
    assert f"Stopped: {half_ms:g} of {full.requested_ms:g} ms" in state
