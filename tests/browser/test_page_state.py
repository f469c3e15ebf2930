"""Issue 18 (the smaller things, on the page): unsaved work offered on a fresh tab, the
neuron panel following a breakpoint, "breakpoint never reached", and banners that go when
the state they describe ends.

Serves the real workbench (runs go through the worker pool) and drives Debian's Chromium.
"""

from __future__ import annotations

import json

import pytest

from tests.browser.conftest import ARTIFACTS
from tests.browser.test_result_views import _open_sample, _ready, _set_duration
from workbench.storage import SAMPLES_DIR

pytestmark = pytest.mark.browser

# A name that would run a script or show markup if it were inserted as HTML anywhere.
NAME = 'Lab <b>5</b> <img src=x onerror="window.__pwned = 1">'


def _banner(page):
    return page.get_by_test_id("message")


def _set_breakpoint(page, app, wait_until, kind: str, target: str, a: float) -> None:
    page.locator(".ss-break-kind select").select_option(label=kind)
    wait_until(lambda: app.run_bar.breakpoint.break_kind.value != "", message="kind chosen")
    field = page.locator(".ss-break-target input")
    field.fill(target)
    field.press("Tab")
    first = page.locator(".ss-break-a input")
    first.fill(f"{a:g}")
    first.press("Tab")
    wait_until(lambda: app.run_bar.breakpoint.break_target.value == target
               and app.run_bar.breakpoint.break_a.value == a,
               message="breakpoint fields applied")


def test_a_fresh_tab_offers_unsaved_work_and_restores_it_with_its_history(
        served, goto_app, browser_page, wait_until):
    page = _ready(goto_app(served.url))
    first = served.last
    doc = json.loads((SAMPLES_DIR / "lif_single_neuron.json").read_text())
    doc["name"] = NAME
    page.locator(".ss-upload input[type='file']").set_input_files(
        files=[{"name": "lab.json", "mimeType": "application/json",
                "buffer": json.dumps(doc).encode()}])
    wait_until(lambda: first.session.document.get("name") == NAME, message="uploaded")
    page.get_by_test_id("palette-encoder-regular").click()  # one edit to undo later
    page.locator('[data-node-id="regular"]').wait_for()
    wait_until(lambda: first.workspace.load_autosave(first.session_id) is not None
               and len(first.workspace.load_autosave(first.session_id)["history"]["undo"]),
               message="autosaved with its edit")

    # A bookmark: the same browser (workspace cookie), a new tab, no ?session= in the URL.
    tab = browser_page.context.new_page()
    tab.goto(served.url)
    _ready(tab)
    fresh = served.last
    assert fresh is not first and fresh.session_id != first.session_id
    offer = tab.locator(".ss-restore button")
    offer.wait_for()
    assert offer.count() == 1
    # Shown as text, exactly as typed.
    assert offer.inner_text() == f"Restore unsaved work of {NAME}, edited just now"
    ARTIFACTS.mkdir(exist_ok=True)
    tab.screenshot(path=ARTIFACTS / "test_page_state-restore-offer.png")
    assert tab.get_by_test_id("project-name").inner_text() == "Single LIF neuron"
    offer.click()
    tab.get_by_test_id("project-name").filter(has_text="Lab <b>5</b>").wait_for()
    assert tab.get_by_test_id("project-name").inner_text() == NAME
    tab.locator('[data-node-id="regular"]').wait_for()
    assert not tab.locator(".ss-restore-offer").is_visible()
    # Its undo history came with it.
    tab.locator(".ss-undo button").click()
    wait_until(lambda: not any(n["id"] == "regular"
                               for n in fresh.session.document["network"]["nodes"]),
               message="undone in the new tab")
    assert fresh.session.document["name"] == NAME
    assert tab.evaluate("() => window.__pwned") is None
    assert page.evaluate("() => window.__pwned") is None
    tab.close()


def test_breakpoint_pauses_follow_the_neuron_and_their_banners_end_with_them(
        served, goto_app, wait_until, save_screenshot):
    page = _ready(goto_app(served.url))
    page.set_default_timeout(60_000)  # three CUBA runs keep a loaded 2-core machine busy
    app = served.last
    panel = app.results.neuron_panel
    _open_sample(page, app, wait_until, "CUBA balanced network")
    _set_duration(page, app, wait_until, 300.0)
    _set_breakpoint(page, app, wait_until, "neuron spikes", "exc", 1910)
    page.locator(".ss-run button").click()
    wait_until(lambda: app.run_bar.handle is not None and app.run_bar.handle.pauses == 1
               and app.results.result is app.run_bar.handle.result, timeout=120,
               message="paused at the breakpoint")
    wait_until(lambda: panel.shown == ("exc", 1910), timeout=60,
               message="the panel shows the neuron")
    pause_banner = page.locator("[data-testid='message'][data-lasts='pause']",
                                has_text="neuron 1910 of 'exc' spike")
    pause_banner.wait_for(timeout=60_000)  # (generous: a loaded 2-core machine)

    # Continue: the pause's banner goes; at the next pause, at the same (already selected)
    # neuron, the panel shows it again although the selection did not change.
    page.locator(".ss-continue button").click()
    wait_until(lambda: app.run_bar.handle.pauses == 2
               and app.results.result is app.run_bar.handle.result,
               timeout=60, message="paused again")
    # (Continue ended the first pause: its banner went; the second pause has its own.)
    page.locator("[data-testid='message']", has_text="t = 0.7 ms").wait_for(
        state="detached", timeout=60_000)
    wait_until(lambda: panel.shown == ("exc", 1910) and panel.result is app.run_bar.handle.result,
               timeout=60, message="the panel shows the neuron again")
    assert app.results.raster.selected == {"population": "exc", "neuron": 1910}
    page.locator("[data-testid='neuron-detail'][data-population='exc'][data-neuron='1910']"
                 ).wait_for(state="attached", timeout=60_000)
    save_screenshot("second-pause", full_page=True)

    # No breakpoint any more, Continue to the end: the pause and its banner end; the
    # breakpoint was reached, so nothing says it was not.
    page.locator(".ss-break-kind select").select_option(label="(no breakpoint)")
    wait_until(lambda: app.run_bar.breakpoint.break_kind.value == "", message="no breakpoint")
    page.locator(".ss-continue button").click()
    wait_until(lambda: app.run_bar.handle.done and not app.run_bar.run_button.disabled, timeout=120,
               message="ran to its end")
    pause_banner.wait_for(state="detached", timeout=60_000)
    assert app.run_bar.handle.result.status == "completed"
    assert "never reached" not in app.message_bar.messages.object



def test_a_breakpoint_never_reached_is_said_until_the_next_run(served, goto_app, wait_until,
                                                                save_screenshot):
    # The default sample's neuron never reaches threshold: a breakpoint on its spike never
    # fires. It is named by its label, as typed and as the graph shows it.
    page = _ready(goto_app(served.url))
    page.set_default_timeout(60_000)
    app = served.last
    _set_breakpoint(page, app, wait_until, "neuron spikes", "LIF neuron", 0)
    page.locator(".ss-run button").click()
    unreached = page.locator("[data-testid='message'][data-level='warning']",
                             has_text="Breakpoint never reached")
    unreached.wait_for(timeout=120_000)
    assert unreached.inner_text() == (
        "Breakpoint never reached: “neuron 0 of 'LIF neuron' spikes” did not happen before "
        "the run ended at t = 200 ms.")
    page.locator("[data-testid='run-state'][data-state='completed']").wait_for()
    save_screenshot("never-reached")

    # The next run makes that banner stale: it goes when the run starts.
    page.locator(".ss-break-kind select").select_option(label="(no breakpoint)")
    wait_until(lambda: app.run_bar.breakpoint.break_kind.value == "", message="no breakpoint")
    before = app.run_bar.handle
    page.locator(".ss-run button").click()
    unreached.wait_for(state="detached")
    wait_until(lambda: app.run_bar.handle is not before and app.run_bar.handle.done, timeout=120,
               message="ran")
    assert "never reached" not in app.message_bar.messages.object
