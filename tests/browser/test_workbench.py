"""The workbench app in a real browser (Debian's Chromium through Playwright).

Each test serves the real app in-process; the harness (conftest.py) fails a test on any
console error or any request to a host other than 127.0.0.1.
"""

from __future__ import annotations

import gc
import logging
import re
import time
import weakref

import pytest

from engine.simulator import simulate
from engine.spike_stats import population_summary

pytestmark = pytest.mark.browser


def _box(locator) -> dict:
    """The element's box once it is laid out (None while the editor is being re-rendered)."""
    for _ in range(50):
        locator.wait_for()
        box = locator.bounding_box()
        if box is not None:
            return box
        time.sleep(0.2)
    raise AssertionError(f"{locator} has no box")


def _centre(locator) -> tuple[float, float]:
    box = _box(locator)
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def _drag(page, start, end) -> None:
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(*end, steps=12)
    page.mouse.up()


def _drop(page, palette_item: str, at: tuple[float, float], node_id: str) -> None:
    """Drag a palette item onto the canvas; again if the page missed the first drag (a
    loaded machine can drop the mouse events of a page that is still settling)."""
    node = page.locator(f'[data-node-id="{node_id}"]')
    for attempt in range(3):
        show_canvas(page)
        _drag(page, _centre(page.get_by_test_id(palette_item)), _canvas_point(page, *at))
        try:
            node.wait_for(timeout=10_000)
            return
        except Exception:  # noqa: BLE001 - not there: the drag was lost, try once more
            if attempt == 2:
                raise


def show_canvas(page) -> None:
    """Scroll the graph editor's canvas wholly into view (an edit in the inspector under it
    may have scrolled the page down): drags need its nodes on screen."""
    page.locator(".ss-ge-canvas").evaluate("el => el.scrollIntoView({block: 'center'})")


def _canvas_point(page, fx: float, fy: float) -> tuple[float, float]:
    box = _box(page.locator(".ss-ge-canvas"))
    return box["x"] + fx * box["width"], box["y"] + fy * box["height"]


def _set_number(page, name: str, value: str) -> None:
    field = page.locator(f".ss-inspector .param-{name} input").first
    field.fill(value)
    field.press("Tab")


def _select_node(page, node_id: str) -> None:
    page.locator(f'[data-node-id="{node_id}"] .body').click()
    page.locator(".ss-inspector [data-testid='inspector-title']",
                 has_text=node_id).wait_for()


def _browser_range(page, model_id: str) -> list[float] | None:
    return page.evaluate(
        "(id) => { for (const d of Bokeh.documents) { const m = d.get_model_by_id(id);"
        " if (m) return [m.start, m.end]; } return null; }", model_id)


def _ready(page):
    page.get_by_test_id("project-name").wait_for()
    return page


def test_build_by_mouse_run_and_compare_with_engine(served, goto_app, wait_until,
                                                   save_screenshot):
    page = _ready(goto_app(served.url))
    app = served.last
    page.locator(".ss-new button").click()
    wait_until(lambda: not app.session.document["network"]["nodes"], message="new project")
    # Drag an encoder and two populations from the palette onto the canvas.
    _drop(page, "palette-encoder-poisson", (0.2, 0.5), "poisson")
    _drop(page, "palette-population-lif", (0.5, 0.3), "lif")
    _drop(page, "palette-population-lif", (0.8, 0.7), "lif_2")
    # Wire encoder -> lif -> lif_2 by dragging from the output handles.
    _drag(page, _centre(page.locator('[data-node-id="poisson"] [data-handle="out"]')),
          _centre(page.locator('[data-node-id="lif"] .body')))
    page.locator('[data-edge-id="poisson_to_lif"]').wait_for()
    _drag(page, _centre(page.locator('[data-node-id="lif"] [data-handle="out"]')),
          _centre(page.locator('[data-node-id="lif_2"] .body')))
    page.locator('[data-edge-id="lif_to_lif_2"]').wait_for()
    # Strong enough input to make both populations fire.
    _select_node(page, "poisson")
    _set_number(page, "rate_hz", "60")
    wait_until(lambda: app.session.document["network"]["nodes"][0]["params"].get("rate_hz")
               == 60.0, message="rate applied")
    page.locator('[data-edge-id="lif_to_lif_2"] .line').click(force=True)
    page.locator(".ss-inspector [data-testid='inspector-title']",
                 has_text="lif_to_lif_2").wait_for()
    _set_number(page, "value", "4")
    wait_until(lambda: app.session.document["network"]["projections"][1]["weight"] == 4.0,
               message="weight applied")
    save_screenshot("built")
    page.locator(".ss-run button").click()
    status = page.get_by_test_id("result-status")
    page.wait_for_function(
        "() => document.querySelector('body') !== null", timeout=1000)
    wait_until(lambda: app.run_bar.handle is not None and app.run_bar.handle.done
               and app.results.result is not None, timeout=60, message="run finished")
    page.locator("[data-testid='result-status'][data-status='completed']").wait_for()
    shown = int(status.get_attribute("data-spikes"))
    expected_result = simulate(app.session.project())
    expected = expected_result.spike_counts()
    assert shown == int(expected.sum()) > 0
    assert expected["lif"] > 0 and expected["lif_2"] > 0
    assert f"{int(expected['lif']):,}" in status.inner_text()
    # What the user sees: the raster's time axis spans the run (a stale range hid the spikes).
    wait_until(lambda: _browser_range(page, app.results.raster.x_range.id) == [0, 500],
               message="raster x range in the browser spans the run")
    save_screenshot("ran", full_page=True)
    # The spikes download holds exactly the engine's spikes.
    with page.expect_download() as info:
        page.locator(".ss-download-spikes button, .ss-download-spikes a").first.click()
    import pandas as pd

    downloaded = pd.read_csv(info.value.path())
    assert list(downloaded.columns) == ["time_ms", "population", "neuron"]
    assert len(downloaded) == shown
    # The summary table (built on the first result) shows the engine's statistics.
    _tab(page, "Summary")
    table = page.locator(".ss-summary-table")
    table.locator(".tabulator-row").nth(1).wait_for()
    summary = population_summary(expected_result.spikes, expected_result.sizes,
                                 expected_result.duration_ms).set_index("population")
    for pop in ("lif", "lif_2"):
        row = table.locator(".tabulator-row", has=page.locator(
            ".tabulator-cell[tabulator-field='population']", has_text=re.compile(f"^{pop}$")))
        cell = row.locator(".tabulator-cell[tabulator-field='mean_rate_hz']")
        assert cell.inner_text().strip() == f"{summary.loc[pop, 'mean_rate_hz']:,.2f}"
        spikes = row.locator(".tabulator-cell[tabulator-field='spikes']").inner_text()
        assert int(spikes.replace(",", "")) == int(expected[pop])
    save_screenshot("summary")


def test_invalid_value_is_shown_and_never_applied(served, goto_app, wait_until):
    page = _ready(goto_app(served.url))
    app = served.last
    _select_node(page, "neuron")
    before = app.session.document
    _set_number(page, "tau_m", "-5")
    error = page.locator(".ss-inspector .ss-param-error").first
    error.wait_for()
    assert "must be > 0 ms" in error.inner_text()
    page.wait_for_timeout(300)
    assert app.session.document == before
    # A cross-field problem found by the engine is shown and blocks Run.
    _set_number(page, "v_reset", "-40")
    page.get_by_test_id("problems").wait_for()
    # Named as the inspector names it (label and unit), not by its path in the file.
    assert "v reset (mV): must be below v_thresh" in page.get_by_test_id("problems").inner_text()
    page.locator(".ss-run button").click()
    message = page.get_by_test_id("message")
    message.wait_for()
    assert message.get_attribute("data-level") == "error"
    assert "v reset (mV)" in message.inner_text()
    assert app.run_bar.handle is None


def test_long_run_can_be_stopped_and_keeps_partial_results(served, goto_app, wait_until,
                                                          save_screenshot):
    page = _ready(goto_app(served.url))
    app = served.last
    page.locator(".ss-open-select select").select_option(label="Sample: CUBA balanced network")
    page.locator(".ss-open button").click()
    page.get_by_test_id("project-name").filter(has_text="CUBA").wait_for()
    # Ten minutes of model time (about a minute and a half of computing): the run must still
    # be going when the page has answered a click and Stop arrives, on any machine (a minute
    # of model time was done in 8.8 s, before Stop, in one CI run).
    field = page.locator(".param-duration_ms input").first
    field.fill("600000")
    field.press("Tab")
    wait_until(lambda: app.session.document["simulation"]["duration_ms"] == 600000.0,
               message="duration applied")
    page.locator(".ss-run button").click()
    page.locator("[data-testid='run-state'][data-state='running']").wait_for(timeout=30000)
    # The page stays live while the kernel runs: the editor still answers a click.
    _select_node(page, "inh")
    page.locator(".ss-stop button").click()
    page.locator("[data-testid='result-status'][data-status='cancelled']").wait_for(
        timeout=30000)
    result = app.results.result
    assert 0 < result.duration_ms < 600000
    assert int(page.get_by_test_id("result-status").get_attribute("data-spikes")) == len(
        result.spikes) > 0
    save_screenshot("stopped", full_page=True)


def test_undo_redo_buttons_and_keys(served, goto_app, wait_until):
    page = _ready(goto_app(served.url))
    app = served.last
    page.get_by_test_id("palette-population-izhikevich").click()
    page.locator('[data-node-id="izhikevich"]').wait_for()
    page.locator(".ss-undo button").click()
    page.locator('[data-node-id="izhikevich"]').wait_for(state="detached")
    page.locator(".ss-redo button").click()
    page.locator('[data-node-id="izhikevich"]').wait_for()
    # Keyboard shortcuts inside the editor.
    page.locator('[data-node-id="izhikevich"] .body').click()
    page.keyboard.press("Delete")
    page.locator('[data-node-id="izhikevich"]').wait_for(state="detached")
    page.keyboard.press("Control+z")
    page.locator('[data-node-id="izhikevich"]').wait_for()
    page.keyboard.press("Control+Shift+z")
    page.locator('[data-node-id="izhikevich"]').wait_for(state="detached")
    assert not any(n["id"] == "izhikevich" for n in app.session.document["network"]["nodes"])


def test_save_reload_and_autosave_restore(served, goto_app, wait_until, browser_page):
    page = _ready(goto_app(served.url))
    app = served.last
    page.get_by_test_id("palette-population-lif").click()
    page.locator('[data-node-id="lif"]').wait_for()
    page.locator(".ss-save-as-name input").fill("My lab")
    page.locator(".ss-save-as-name input").press("Tab")
    page.locator(".ss-save-as button").click()
    page.get_by_test_id("save-state").filter(has_text=re.compile(r"^saved$")).wait_for()
    assert app.session.path.endswith("My_lab.json")
    # An unsaved edit after the save must survive a reload too (autosave).
    page.get_by_test_id("palette-encoder-regular").click()
    page.locator('[data-node-id="regular"]').wait_for()
    wait_until(lambda: "session=" in page.url, message="session id in the URL")
    page.reload()
    _ready(page)
    page.locator('[data-node-id="regular"]').wait_for()
    page.locator('[data-node-id="lif"]').wait_for()
    assert page.get_by_test_id("project-name").inner_text() == "My lab"
    assert "unsaved" in page.get_by_test_id("save-state").inner_text()
    assert served.apps[-1] is not app and served.apps[-1].session.path == app.session.path


def test_two_sessions_do_not_interfere(served, goto_app, ss_browser, wait_until):
    page_a = _ready(goto_app(served.url))
    app_a = served.last
    context = ss_browser.new_context()
    try:
        page_b = context.new_page()
        page_b.goto(served.url)
        _ready(page_b)
        app_b = served.last
        assert app_b is not app_a
        page_b.locator(".ss-open-select select").select_option(
            label="Sample: CUBA balanced network")
        page_b.locator(".ss-open button").click()
        page_b.get_by_test_id("project-name").filter(has_text="CUBA").wait_for()
        page_a.get_by_test_id("palette-population-lif").click()
        page_a.locator('[data-node-id="lif"]').wait_for()
        assert page_a.get_by_test_id("project-name").inner_text() == "Single LIF neuron"
        assert page_b.locator('[data-node-id="lif"]').count() == 0
        assert {n["id"] for n in app_b.session.document["network"]["nodes"]} == {
            "exc", "inh", "exc_v"}
        assert app_a.session_id != app_b.session_id
    finally:
        context.close()


def _open_sample(page, label: str, name_part: str) -> None:
    page.locator(".ss-open-select select").select_option(label=f"Sample: {label}")
    page.locator(".ss-open button").click()
    page.get_by_test_id("project-name").filter(has_text=name_part).wait_for()


def _tab(page, title: str) -> None:
    page.locator(".bk-tab", has_text=re.compile(f"^{re.escape(title)}$")).click()


def _run_and_wait(page, app, wait_until, timeout: float = 120) -> None:
    page.locator(".ss-run button").click()
    wait_until(lambda: app.run_bar.handle is not None and app.run_bar.handle.done, timeout=timeout,
               message="run finished")
    page.locator("[data-testid='result-status'][data-status='completed']").wait_for()


def test_energy_heatmap_and_profile_switch(served, goto_app, wait_until, save_screenshot):
    page = _ready(goto_app(served.url))
    app = served.last
    _open_sample(page, "Energy: sparse events vs dense frames", "Energy")
    _run_and_wait(page, app, wait_until)
    _tab(page, "Energy")
    totals = page.get_by_test_id("ss-energy-totals").first
    totals.wait_for()
    first_profile = totals.get_attribute("data-profile")
    first_total = float(totals.get_attribute("data-total-j"))
    assert first_total > 0
    # The page says what idle neuron updates are counted per on this profile.
    idle = totals.locator(".ss-energy-idle")
    assert idle.get_attribute("data-idle-basis") == "per 1 ms hardware step"  # Loihi
    assert "per 1 ms hardware step" in idle.inner_text()
    ratios = page.get_by_test_id("snn-ann")
    ratios.wait_for()
    assert float(ratios.get_attribute("data-ratio-memory")) > 0
    select = page.locator(".ss-energy-controls select").first
    options = select.locator("option").all_inner_texts()
    other = next(o for o in options if "TrueNorth" in o)
    select.select_option(label=other)
    assert first_profile != "truenorth"
    wait_until(lambda: app.views["energy"].heatmap.profile == "truenorth",
               message="profile switched")
    page.locator("[data-testid='ss-energy-totals'][data-profile='truenorth']").first.wait_for()
    second_total = float(page.get_by_test_id("ss-energy-totals").first.get_attribute(
        "data-total-j"))
    assert second_total != first_total
    save_screenshot("energy", full_page=True)


@pytest.mark.slow
def test_scenario_matrix_is_simulated(served, goto_app, wait_until, save_screenshot):
    page = _ready(goto_app(served.url))
    app = served.last
    _open_sample(page, "Energy: sparse events vs dense frames", "Energy")
    _tab(page, "Scenarios")
    page.locator(".ss-scenarios-run button").click()
    page.locator("[data-testid='scenario-state'][data-state='completed']").wait_for(
        timeout=240_000)
    table = page.get_by_test_id("ss-fit-criteria")
    table.wait_for()
    cells = page.locator("td.ss-fit-cell")
    assert cells.count() > 10
    ratings = {c.get_attribute("data-rating") for c in cells.all()}
    assert ratings <= {"recommended", "neutral", "cautious"} and len(ratings) >= 2
    report = app.views["scenarios"].matrix.report
    sparse = page.locator("[data-testid^='ss-fit-criteria-sparse_events-']").first
    assert sparse.get_attribute("data-value") is not None
    assert len(report.completed) >= 6
    save_screenshot("scenarios", full_page=True)


def test_weights_tab_shows_stdp_evolution(served, goto_app, wait_until, save_screenshot):
    page = _ready(goto_app(served.url))
    app = served.last
    _open_sample(page, "STDP: Song & Abbott", "STDP")
    field = page.locator(".param-duration_ms input").first
    field.fill("5000")
    field.press("Tab")
    wait_until(lambda: app.session.document["simulation"]["duration_ms"] == 5000.0,
               message="duration applied")
    _run_and_wait(page, app, wait_until)
    _tab(page, "Weights (STDP)")
    wait_until(lambda: app.views["weights"].view is not None
               and app.views["weights"].view.record is not None,
               message="weights shown")
    record = app.views["weights"].view.record
    assert record.hist.shape[0] > 1
    assert not (record.hist[0] == record.hist[-1]).all(), "weights changed during the run"
    page.locator(".ss-weights-choice select").wait_for()
    # The synapses the project records are shown from the start.
    assert app.views["weights"].view.selected == [int(s) for s in record.synapse_index]
    weights = app.views["weights"].view
    assert len(weights.trajectory_source.data["xs"]) == len(record.synapse_index) > 0
    save_screenshot("weights", full_page=True)


def test_clone_and_edit_hardware_profile_saved_with_project(served, goto_app, wait_until):
    page = _ready(goto_app(served.url))
    app = served.last
    _open_sample(page, "Energy: sparse events vs dense frames", "Energy")
    _run_and_wait(page, app, wait_until)
    _tab(page, "Energy")
    before = float(page.get_by_test_id("ss-energy-totals").first.get_attribute("data-total-j"))
    page.locator(".ss-profile-clone button").click()
    wait_until(lambda: "loihi_custom" in app.session.document.get("energy", {}).get(
        "profiles", {}), message="clone stored in the project")
    page.locator("[data-testid='ss-energy-totals'][data-profile='loihi_custom']").first.wait_for()
    # Ten times the synaptic-op energy, with a source.
    app_profile = app.views["energy"].profiles["loihi_custom"]
    new_value = app_profile.figures["synaptic_op"].value * 10
    field = page.locator(".ss-profile-value input")
    field.fill(repr(new_value))
    field.press("Tab")
    page.locator("input[placeholder^='e.g. own measurement']").fill("test measurement")
    page.locator("input[placeholder^='e.g. own measurement']").press("Tab")
    page.locator(".ss-profile-apply button").click()
    wait_until(lambda: app.session.document["energy"]["profiles"]["loihi_custom"][
        "synaptic_op"]["value"] == new_value, message="edited figure stored")
    page.wait_for_function(
        "(before) => [...document.querySelectorAll('*')].length > 0", arg=before)
    wait_until(lambda: float(page.get_by_test_id("ss-energy-totals").first.get_attribute(
        "data-total-j")) > before, message="edited profile changes the totals")
    # The project (with its profile) validates and saves.
    assert app.session.project().energy["profiles"]["loihi_custom"]


def test_pick_neuron_by_typed_index(served, goto_app, wait_until):
    page = _ready(goto_app(served.url))
    app = served.last
    _select_node(page, "input")
    _set_number(page, "amplitude", "15")
    wait_until(lambda: app.session.document["network"]["nodes"][0]["params"]["amplitude"]
               == 15.0, message="amplitude applied")
    _run_and_wait(page, app, wait_until)
    # The neuron panel is beside the raster (issue 13 (5)), not on another tab.
    page.locator(".ss-pick-population select").select_option("neuron")
    page.locator(".ss-pick-neuron input").fill("0")
    page.locator(".ss-pick-neuron input").press("Tab")
    page.locator(".ss-pick-show button").click()
    detail = page.get_by_test_id("neuron-detail")
    detail.filter(has_text="neuron[0]").wait_for()
    n_spikes = int((app.results.result.spikes["population"] == "neuron").sum())
    assert f"{n_spikes} spikes" in detail.inner_text() and n_spikes > 0
    # its input: the current projection "drive" from the encoder "input"
    page.get_by_test_id("neuron-currents").filter(has_text="drive").wait_for()


def test_user_defined_scenarios(served, goto_app, wait_until):
    page = _ready(goto_app(served.url))
    app = served.last
    _open_sample(page, "Energy: sparse events vs dense frames", "Energy")
    _tab(page, "Scenarios")
    page.locator(".card-header", has_text="Scenario definitions").click()
    editor = page.locator(".ss-scenarios-json textarea")
    editor.wait_for()
    editor.fill("[{not json")
    editor.press("Tab")
    page.locator(".ss-scenarios-use button").click()
    page.get_by_test_id("scenario-error").filter(has_text="Not valid JSON").wait_for()
    from engine.evaluation.scenario_fit import default_scenarios, scenario_to_dict

    mine = scenario_to_dict(default_scenarios()[0])
    mine.update(id="my_sensor", name="My sensor", duration_ms=200.0)
    import json

    editor.fill(json.dumps([mine]))
    editor.press("Tab")
    page.locator(".ss-scenarios-use button").click()
    wait_until(lambda: app.session.document.get("scenarios", [{}])[0].get("id") == "my_sensor",
               message="scenarios stored in the project")
    page.locator(".ss-scenarios-run button").click()
    page.locator("[data-testid='scenario-state'][data-state='completed']").wait_for(
        timeout=120_000)
    cells = page.locator("[data-testid^='ss-fit-criteria-my_sensor-']")
    assert cells.count() >= 3
    assert page.locator("td.ss-fit-cell").count() == cells.count() + page.locator(
        "[data-testid^='ss-fit-hardware-my_sensor-']").count()


def test_huge_network_is_refused_with_a_message_and_the_server_lives_on(served, goto_app,
                                                                        wait_until):
    from workbench import edits

    page = _ready(goto_app(served.url))
    app = served.last
    _select_node(page, "neuron")
    app.edit(edits.set_node_field, "neuron", "size", 100_000)
    app.edit(edits.connect, "neuron", "neuron")  # recurrent, p = 0.1: 10^9 synapses
    page.locator('[data-edge-id="neuron_to_neuron"]').wait_for()
    page.locator(".ss-run button").click()
    message = page.get_by_test_id("message").filter(has_text="memory budget")
    message.wait_for(timeout=30_000)
    assert "simulation.memory_budget_mb" in message.inner_text()
    assert message.get_attribute("data-level") == "error"
    assert "Traceback" not in page.content()
    # The session still works: undo the projection and run normally.
    page.locator(".ss-undo button").click()
    page.locator('[data-edge-id="neuron_to_neuron"]').wait_for(state="detached")
    app.edit(edits.set_node_field, "neuron", "size", 1)
    _run_and_wait(page, app, wait_until)


def test_malformed_upload_is_reported_and_work_is_kept(served, goto_app, wait_until, tmp_path):
    import json as _json

    page = _ready(goto_app(served.url))
    app = served.last
    before = app.session.document
    bad = _json.loads(_json.dumps(before))
    bad["network"]["nodes"][1]["params"]["tau_m"] = -5
    path = tmp_path / "bad.json"
    path.write_text(_json.dumps(bad))
    page.locator(".ss-upload input[type='file']").set_input_files(str(path))
    message = page.get_by_test_id("message").filter(has_text="tau_m")
    message.wait_for()
    assert "network.nodes[1].params.tau_m: must be > 0 ms, got -5 ms" in message.inner_text()
    assert app.session.document == before
    # The error stays the last word: no "Opened bad.json." replaces it.
    banner = app.message_bar.messages.object
    assert 'data-level="error"' in banner and "Opened" not in banner
    (tmp_path / "garbage.json").write_bytes(b"\x00\xffnot json")
    page.locator(".ss-upload input[type='file']").set_input_files(str(tmp_path / "garbage.json"))
    page.get_by_test_id("message").filter(has_text="not a valid JSON document").wait_for()
    assert app.session.document == before
    banner = app.message_bar.messages.object
    assert 'data-level="error"' in banner and "Opened" not in banner


def test_closing_the_tab_stops_its_run(served, goto_app, ss_browser, wait_until):
    context = ss_browser.new_context()
    page = context.new_page()
    page.goto(served.url)
    _ready(page)
    app = served.last
    page.locator(".ss-open-select select").select_option(label="Sample: CUBA balanced network")
    page.locator(".ss-open button").click()
    page.get_by_test_id("project-name").filter(has_text="CUBA").wait_for()
    field = page.locator(".param-duration_ms input").first
    field.fill("600000")
    field.press("Tab")
    wait_until(lambda: app.session.document["simulation"]["duration_ms"] == 600000.0,
               message="duration applied")
    page.locator(".ss-run button").click()
    wait_until(lambda: app.run_bar.handle is not None and app.run_bar.handle.state == "running",
               timeout=30, message="run started")
    handle = app.run_bar.handle  # (the closed page lets go of it: its results leave the server)
    context.close()
    wait_until(lambda: handle.done, timeout=60, message="run stopped after the tab closed")
    assert handle.result.status == "cancelled"
    wait_until(lambda: app.run_bar.handle is None, message="the closed page holds no run")


def test_fits_a_laptop_screen(served, goto_app):
    """At 1280 px the page needs no horizontal scrolling and the inspector is fully visible."""
    page = _ready(goto_app(served.url))
    page.set_viewport_size({"width": 1280, "height": 800})
    page.wait_for_function("() => document.documentElement.scrollWidth <= window.innerWidth",
                           timeout=10_000)
    box = page.locator(".ss-inspector").first.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 1280
    editor = page.locator(".ss-ge-main").first.bounding_box()
    assert editor is not None and editor["width"] >= 500


def test_a_closed_page_leaves_the_server(served, ss_browser, browser_page, wait_until):
    """Once its session ends, nothing of a page that ran and showed every tab stays in memory.

    Two leaks kept every page a class had ever opened (about 7.5 MB each, and the heap every
    later garbage collection walks): the PNG/SVG buttons' browser callbacks, held by Panel in
    a process-wide registry that reached the page again through the figures, and the toast
    area Panel leaves registered after its session has ended (``release_toast_area``).
    """
    # Panel starts one process-wide timer on the first page that handles an event; its task
    # keeps that page's document for the server's lifetime (one page, not one per page).
    browser_page.goto(served.url)
    first = _ready(browser_page)
    _run_and_wait(first, served.last, wait_until)

    context = ss_browser.new_context()
    page = context.new_page()
    page.goto(served.url)
    _ready(page)
    app = served.last
    _run_and_wait(page, app, wait_until)
    titles = [view.title for view in app.results.views]
    for title in [*titles, titles[0]]:  # every tab builds its plots; back to the first
        _tab(page, title)
    page.locator("[data-testid='result-status'][data-status='completed']").wait_for()
    gone = weakref.ref(app)
    del app
    served.apps.clear()
    context.close()

    def released() -> bool:
        # pytest's log capture keeps logged tracebacks (a write to the closed page's
        # websocket), whose frames hold its document; a server keeps no log records.
        for handler in logging.getLogger().handlers:
            for record in getattr(handler, "records", []):
                record.exc_info = None
        gc.collect()
        return gone() is None

    # The server ends a session a few seconds after its page closed (AppServer).
    wait_until(released, timeout=60, message="the closed page's Workbench was released")
