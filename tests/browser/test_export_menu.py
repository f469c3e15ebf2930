"""Issue 11 in the page: the model leaves as NIR or a script, the run as a report, and a NIR
file comes back in through the upload field."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from tests.browser.test_result_views import _open_sample, _ready, _run_and_wait

pytestmark = pytest.mark.browser


def _export(page, label: str) -> Path:
    page.locator(".ss-export-target select").select_option(label=label)
    with page.expect_download(timeout=60_000) as info:
        page.locator(".ss-export-model button").click()
    download = info.value
    path = Path(download.path())
    return path.rename(path.with_name(download.suggested_filename))


@pytest.mark.slow
def test_export_report_and_nir_upload_from_the_page(served, goto_app, wait_until, tmp_path):
    page = _ready(goto_app(served.url))
    app = served.last
    _open_sample(page, app, wait_until, "Energy: sparse events vs dense frames")

    nir_file = _export(page, "NIR graph (.nir)")
    assert nir_file.name == "Energy_sparse_events_vs_dense_frames.nir"
    assert nir_file.read_bytes()[:8] == b"\x89HDF\r\n\x1a\n"
    # What NIR cannot hold is said, not dropped silently.
    page.locator("[data-testid=message]", has_text="Exported to nir").wait_for(timeout=20_000)

    script = _export(page, "Brian2 script (.zip)")
    assert script.name.endswith("-brian2.zip")
    with zipfile.ZipFile(script) as archive:
        assert {"brian2/run_brian2.py", "brian2/network.npz"} <= set(archive.namelist())

    # The report belongs to a run: offered once there is one, named after it.
    assert app.file_menu.export_menu.report.disabled
    _run_and_wait(page, app, wait_until)
    wait_until(lambda: not app.file_menu.export_menu.report.disabled, message="report offered")
    with page.expect_download(timeout=60_000) as info:
        page.locator(".ss-export-report button").click()
    assert info.value.suggested_filename == \
        "Energy_sparse_events_vs_dense_frames-run1-report.html"
    html = Path(info.value.path()).read_text()
    assert "Energy: sparse events vs dense frames" in html and "Bokeh" in html

    # The NIR file comes back as a project (the page asks before replacing unsaved work).
    upload = tmp_path / "model.nir"
    upload.write_bytes(nir_file.read_bytes())
    page.locator(".ss-upload input[type='file']").set_input_files(str(upload))
    wait_until(lambda: app.dialog.pending is not None or
               app.session.document.get("name", "").endswith("(from NIR)") or
               app.results.result is None, message="upload seen")
    if app.dialog.pending is not None:
        page.locator(".ss-confirm-yes button").click()
    wait_until(lambda: app.results.result is None, message="imported project replaced")
    page.locator("[data-testid=message]", has_text="Opened model.nir").wait_for(timeout=20_000)
    ids = {n["id"] for n in app.session.document["network"]["nodes"]}
    assert len(ids) >= 2
    # The old run's report is gone with its project.
    assert app.file_menu.export_menu.report.disabled


@pytest.mark.slow
def test_export_that_nir_cannot_hold_is_refused_with_a_message(served, goto_app, wait_until):
    page = _ready(goto_app(served.url))
    app = served.last
    _open_sample(page, app, wait_until, "CUBA balanced network")
    # Izhikevich cannot be written to NIR: turn the excitatory population into one.
    from workbench import edits

    node = app.session.document["network"]["nodes"][0]["id"]
    app.session.apply(edits.set_node_field, node, "model", "izhikevich")
    wait_until(lambda: app.session.document["network"]["nodes"][0]["model"] == "izhikevich",
               message="model changed")
    page.locator(".ss-export-target select").select_option(label="NIR graph (.nir)")
    page.locator(".ss-export-model button").click()
    message = page.locator("[data-testid=message]", has_text="Export to nir refused")
    message.wait_for(timeout=30_000)
    assert node in message.inner_text()
