"""One load path: a project is migrated and validated once per change, not once per layer.

Opening a file, uploading one or editing the document validates it once; Run then builds the
Project from that validated document and marks the job as checked, so the worker does not
validate it again either.
"""
from __future__ import annotations

import json

import pytest

import engine.project as P
from workbench import edits, storage


@pytest.fixture
def counted(monkeypatch):
    calls = []
    real = P._validate

    def counting(document, scan, arrays=None):
        calls.append(document.get("name") if isinstance(document, dict) else None)
        return real(document, scan, arrays)

    monkeypatch.setattr(P, "_validate", counting)
    return calls


@pytest.fixture
def app(tmp_path, monkeypatch):
    monkeypatch.setenv("SPIKESTUDIO_HOME", str(tmp_path / "home"))
    from workbench import app as app_module
    from workbench import runner

    submitted = []

    class Handle:
        done, result, error, progress, paused, pauses = False, None, None, None, False, 0

        def stop(self):
            pass

    def submit(project, debug=None, owner=None, store_dir=None):
        submitted.append(project)
        return Handle()

    monkeypatch.setattr(runner, "submit", submit)
    monkeypatch.setattr(app_module.pn.state, "add_periodic_callback", lambda *a, **k: None)
    workbench = app_module.Workbench(session_id="load-path-test")
    workbench.submitted = submitted
    return workbench


def _sample(app, name: str) -> str:
    return next(path for label, path in app.file_menu.open_select.options.items()
                if label == f"Sample: {name}")


def test_open_then_run_validates_once(app, counted):
    app.file_menu.open_select.value = _sample(app, "CUBA balanced network")
    counted.clear()
    app.file_menu.open_selected()
    assert app.session.document["name"] == "CUBA balanced network"
    app.run_bar.run()
    assert len(app.submitted) == 1 and len(counted) == 1, counted
    # The worker is told the document is checked: a Project, not a raw document, is sent.
    assert isinstance(app.submitted[0], P.Project)


def test_edit_then_run_validates_once(app, counted):
    counted.clear()
    app.edit(edits.set_simulation, "seed", 1234)
    assert app.session.document["simulation"]["seed"] == 1234
    app.run_bar.run()
    assert len(counted) == 1, counted
    assert app.submitted[-1].simulation.seed == 1234
    app.run_bar.handle.done = True
    app.run_bar.run()  # a second run of the same version validates nothing
    assert len(counted) == 1


def test_upload_then_run_validates_once(app, counted):
    doc = storage.read_document(storage.SAMPLES_DIR / "lif_single_neuron.json")
    doc["name"] = "Uploaded"
    counted.clear()
    app.file_menu.upload.param.update(filename="up.json", value=json.dumps(doc).encode())
    assert app.session.document["name"] == "Uploaded"
    app.run_bar.run()
    assert len(counted) == 1, counted


def test_an_invalid_edit_is_still_reported_and_blocks_the_run(app, counted):
    app.edit(edits.set_simulation, "dt_ms", -1.0)
    assert any(p.path == "simulation.dt_ms" for p in app.session.problems)
    app.run_bar.run()
    assert not app.submitted and 'data-level="error"' in app.message_bar.messages.object


def test_the_worker_builds_a_checked_document_without_validating(counted):
    from workbench.workers import run_job

    class Channel:
        def progress(self, *a):
            pass

        def cancel_requested(self):
            return False

    project = P.load_project(storage.SAMPLES_DIR / "lif_single_neuron.json")
    counted.clear()
    result, error = run_job(Channel(), project.to_dict(), {"checked": True})
    assert error is None and result is not None and counted == []
    result, error = run_job(Channel(), project.to_dict(), {})
    assert error is None and len(counted) == 1  # an unmarked document is validated
