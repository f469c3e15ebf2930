"""Issue 13 (1, 3): pause, step and continue a run from the page; a breakpoint pauses it and
selects its neuron in the raster.

Serves the real workbench (runs go through the worker pool) and drives Debian's Chromium.
"""

from __future__ import annotations

import pytest

from tests.browser.test_result_views import _open_sample, _ready, _set_duration

pytestmark = pytest.mark.browser


def _state(page) -> str:
    return page.get_by_test_id("run-state").get_attribute("data-state")


def test_pause_step_continue_from_the_page(served, goto_app, wait_until, save_screenshot):
    page = _ready(goto_app(served.url))
    app = served.last
    _open_sample(page, app, wait_until, "CUBA balanced network")
    _set_duration(page, app, wait_until, 100_000.0)  # runs until paused / stopped
    page.locator(".ss-run button").click()
    wait_until(lambda: app.run_bar.handle is not None and app.run_bar.handle.state == "running"
               and app.run_bar.handle.progress is not None, timeout=120, message="running")
    page.locator(".ss-pause button").click()
    wait_until(lambda: app.run_bar.handle.paused
               and app.results.result is app.run_bar.handle.result,
               timeout=60, message="paused, partial result shown")
    # (the page draws the partial result first: slow on a loaded machine)
    page.locator("[data-testid='run-state'][data-state='paused']").wait_for(timeout=60_000)
    assert "holds no simulation worker" in page.get_by_test_id("run-state").inner_text()
    first = app.run_bar.handle.result
    assert first.status == "paused" and 0 < first.duration_ms < 100_000.0
    save_screenshot("paused")

    # Step by one dt (the field's 0): the result grows by exactly dt.
    page.locator(".ss-step button").click()
    wait_until(lambda: app.run_bar.handle.pauses == 2
               and app.results.result is app.run_bar.handle.result,
               timeout=60, message="stepped one dt")
    assert app.run_bar.handle.result.duration_ms == pytest.approx(first.duration_ms + 0.1)
    # Step 5 ms from the field.
    field = page.locator(".ss-step-ms input")
    field.fill("5")
    field.press("Tab")
    wait_until(lambda: app.run_bar.step_ms.value == 5.0, message="step field applied")
    page.locator(".ss-step button").click()
    wait_until(lambda: app.run_bar.handle.pauses == 3
               and app.results.result is app.run_bar.handle.result,
               timeout=60, message="stepped 5 ms")
    second = app.run_bar.handle.result
    assert second.duration_ms == pytest.approx(first.duration_ms + 5.1)
    assert len(second.spikes) > len(first.spikes)

    # Continue, pause again: it grew; Stop keeps what was simulated.
    page.locator(".ss-continue button").click()
    wait_until(lambda: app.run_bar.handle.state == "running", message="continued")
    wait_until(lambda: app.run_bar.handle.progress is not None
               and app.run_bar.handle.progress.t_ms > second.duration_ms + 20, timeout=60,
               message="ran on")
    page.locator(".ss-stop button").click()
    wait_until(lambda: app.run_bar.handle.done and app.results.result is app.run_bar.handle.result,
               timeout=60, message="stopped")
    assert app.run_bar.handle.result.status == "cancelled"
    assert app.run_bar.handle.result.duration_ms > second.duration_ms + 20
    assert not app.run_bar.run_button.disabled and app.run_bar.pause_button.disabled


def test_a_spike_breakpoint_pauses_and_selects_the_neuron(served, goto_app, wait_until,
                                                           save_screenshot):
    page = _ready(goto_app(served.url))
    app = served.last
    _open_sample(page, app, wait_until, "CUBA balanced network")
    _set_duration(page, app, wait_until, 300.0)
    page.locator(".ss-break-kind select").select_option(label="neuron spikes")
    wait_until(lambda: app.run_bar.breakpoint.break_kind.value == "spike", message="kind chosen")
    target = page.locator(".ss-break-target input")
    target.fill("exc")
    target.press("Tab")
    neuron = page.locator(".ss-break-a input")
    neuron.fill("1910")
    neuron.press("Tab")
    wait_until(lambda: app.run_bar.breakpoint.break_target.value == "exc"
               and app.run_bar.breakpoint.break_a.value == 1910,
               message="breakpoint fields applied")
    page.locator(".ss-run button").click()
    wait_until(lambda: app.run_bar.handle is not None and app.run_bar.handle.paused
               and app.results.result is app.run_bar.handle.result, timeout=120,
               message="paused at the breakpoint")
    hit = app.run_bar.handle.result.breakpoint
    assert (hit["kind"], hit["population"], hit["neuron"]) == ("spike", "exc", 1910)
    spikes = app.run_bar.handle.result.spikes
    last = spikes[(spikes["population"] == "exc") & (spikes["neuron"] == 1910)]
    assert last["time_ms"].iloc[0] == pytest.approx(hit["t_ms"])  # its first spike
    # (the session shows the pause on its own thread: wait for its last step)
    page.locator("[data-testid='message'][data-level='warning']",
                 has_text="neuron 1910 of 'exc' spiked").wait_for()
    wait_until(lambda: app.results.raster.selected == {"population": "exc", "neuron": 1910},
               message="the neuron is selected in the raster")
    wait_until(lambda: "exc[1910]" in str(app.results.neuron_panel.header.object),
               message="the neuron detail shows it")
    save_screenshot("breakpoint")
    page.locator(".ss-continue button").click()  # on to its next spike
    wait_until(lambda: app.run_bar.handle.pauses == 2, timeout=60, message="its next spike")
    # This neuron of the sample fires at 0.7 ms, then at 18.3 ms.
    assert hit["t_ms"] == pytest.approx(0.7)
    assert app.run_bar.handle.result.breakpoint["t_ms"] == pytest.approx(18.3)


def test_the_raster_grows_while_the_run_goes_on(served, goto_app, wait_until):
    """Issue 13 (2): live view, the raster and rates are redrawn from the spikes so far."""
    page = _ready(goto_app(served.url))
    app = served.last
    _open_sample(page, app, wait_until, "CUBA balanced network")
    _set_duration(page, app, wait_until, 100_000.0)
    page.locator(".ss-run button").click()

    def live_spikes() -> int:
        # Streamed spikes are in the raster's index (its `spikes` is the final result's).
        running = app.run_bar.handle is not None and app.run_bar.handle.state == "running"
        return len(app.results.raster.index) if running else 0

    wait_until(lambda: live_spikes() > 0, timeout=120, message="a live raster")
    first = live_spikes()
    wait_until(lambda: live_spikes() > first, timeout=30, message="the raster grew")
    assert app.results.rates.rates is not None
    page.locator(".ss-spike-count").first.wait_for(state="attached")
    # The header says the raster is this run so far (no other result exists yet); generous
    # timeouts for the same reason as below.
    live = page.locator("[data-testid='result-header'][data-live='true'][data-live-run='1']")
    live.wait_for(timeout=60_000)
    assert "fill in when it ends" in live.inner_text(timeout=60_000)
    page.locator("[data-testid='result-status'][data-status='running']").wait_for(
        timeout=60_000)
    # (a generous timeout: live redraws keep a loaded 2-core machine's browser busy)
    page.locator(".ss-stop button").click(timeout=60_000)
    wait_until(lambda: app.run_bar.handle.done and app.results.result is app.run_bar.handle.result,
               timeout=60, message="stopped")
    # show() ends with the header: once it is the run's own (not live), the raster is too.
    wait_until(lambda: 'data-live' not in app.results.header.object, timeout=60,
               message="the result replaced the live view")
    assert len(app.results.raster.spikes) == len(app.run_bar.handle.result.spikes) >= first
    page.locator("[data-testid='result-header'][data-run='1']:not([data-live])").wait_for(
        timeout=60_000)


def test_a_nan_state_pauses_names_and_selects_the_neuron(served, goto_app, wait_until,
                                                         tmp_path):
    """Issue 13 (3): the NaN breakpoint is always on; the page says which neuron, when."""
    import json

    from tests.helpers import connection, document, encoder

    doc = document([encoder("drive", "constant_current", amplitude=-1e4),
                    {"id": "z", "kind": "population", "model": "izhikevich", "size": 3,
                     "params": {"preset": "regular_spiking"}}],
                   [connection("in", "drive", "z", weight=1e4)], duration_ms=20.0)
    doc["name"] = "Exploding"
    path = tmp_path / "exploding.json"
    path.write_text(json.dumps(doc))
    page = _ready(goto_app(served.url))
    app = served.last
    page.locator(".ss-upload input[type='file']").set_input_files(str(path))
    page.get_by_test_id("project-name").filter(has_text="Exploding").wait_for()
    page.locator(".ss-run button").click()
    page.locator("[data-testid='message'][data-level='error']",
                 has_text="neuron 0 of 'z' reached an invalid (NaN or infinite)").wait_for()
    hit = app.run_bar.handle.result.breakpoint
    assert hit["kind"] == "invalid_state" and app.run_bar.handle.result.status == "error"
    assert f"t = {hit['t_ms']:g} ms" in page.get_by_test_id("message").inner_text()
    wait_until(lambda: app.results.raster.selected == {"population": "z", "neuron": 0},
               message="the neuron is selected in the raster")
    assert not app.run_bar.run_button.disabled and app.run_bar.continue_button.disabled
