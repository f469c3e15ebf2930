"""Issue 22 item 2 in the page: a trained NIR graph comes in through the upload field, the
page lists what the import approximated, and the graph's Input port is replaced by an
encoder in the inspector."""

from __future__ import annotations

import pytest

from tests.browser.test_result_views import _ready, _run_and_wait

pytestmark = pytest.mark.browser

nir = pytest.importorskip("nir")


@pytest.mark.slow
def test_trained_nir_upload_lists_approximations_and_its_port_is_replaced(
        served, goto_app, wait_until, tmp_path):
    from tests.test_nir_trained import _hetero_classifier

    page = _ready(goto_app(served.url))
    app = served.last
    upload = tmp_path / "trained.nir"
    nir.write(upload, _hetero_classifier())
    page.locator(".ss-upload input[type='file']").set_input_files(str(upload))
    wait_until(lambda: app.dialog.pending is not None or
               any(n["id"] == "lif1" for n in app.session.document["network"]["nodes"]),
               message="upload seen")
    if app.dialog.pending is not None:
        page.locator(".ss-confirm-yes button").click()
    message = page.locator("[data-testid=message]", has_text="The import approximated")
    message.wait_for(timeout=30_000)
    text = message.inner_text()
    assert "Time step: dt = 0.1 ms" in text and "Node 'lif1' (CubaLIF, 6 neurons)" in text
    assert "input port 'input'" in text

    # The port: select it and pick another encoder in the inspector's Model field.
    page.locator('[data-node-id="input"] .body').click()
    page.locator(".ss-inspector [data-testid='inspector-title']", has_text="input").wait_for()
    page.locator(".ss-inspector select").first.select_option(label="Poisson spike trains")
    wait_until(lambda: app.session.document["network"]["nodes"][0]["model"] == "poisson",
               message="the port became a Poisson input")
    _run_and_wait(page, app, wait_until)
    spikes = app.results.result.spikes
    assert (spikes["population"] == "lif2").sum() > 0
