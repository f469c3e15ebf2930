"""Issue 9 (6): the hidden-pattern lab asks to record the distractors; the page offers it.

The simulation settings list every population and spike encoder with a checkbox; ticking one
is an undoable edit and the next run records its spikes. The node inspector has the same
switch for the selected node.
"""

from __future__ import annotations

import pytest

from tests.browser.test_result_views import _open_sample, _ready, _run_and_wait, _set_duration

pytestmark = pytest.mark.browser


def _recorded(app) -> list[str] | str:
    return app.session.document["simulation"]["record_spikes"]


def test_record_the_distractors_from_the_page(served, goto_app, wait_until, browser_page,
                                              save_screenshot):
    page = _ready(goto_app(served.url))
    app = served.last
    _open_sample(page, app, wait_until, "STDP: hidden pattern")
    # The lab note's instruction names the controls the page offers.
    assert "**Record spikes of**" in app.session.document["lab"]["intro"]
    before = list(_recorded(app))
    assert "distractors" not in before
    # Nothing selected: the inspector shows the simulation settings with the checkboxes.
    box = page.locator(".ss-record-spikes label", has_text="distractors").locator("input")
    box.wait_for()
    assert not box.is_checked()
    box.check()
    wait_until(lambda: "distractors" in _recorded(app), message="distractors recorded")
    assert [n for n in _recorded(app) if n != "distractors"] == before
    save_screenshot("record-spikes-settings")
    # Undo and redo go through the same history as every edit.
    page.locator(".ss-undo button").click()
    wait_until(lambda: _recorded(app) == before, message="undone")
    page.locator(".ss-redo button").click()
    wait_until(lambda: "distractors" in _recorded(app), message="redone")
    _set_duration(page, app, wait_until, 300.0)
    _run_and_wait(page, app, wait_until)
    result = app.results.result
    assert "distractors" in set(result.spikes["population"].astype(str))
    status = page.get_by_test_id("result-status").inner_text()
    assert "distractors: not recorded" not in status
    assert "afferent_noise: not recorded" in status
    # The node inspector's switch for the selected node: stop recording the distractors.
    page.locator('[data-node-id="distractors"] .body').click()
    node_box = page.locator(".ss-record-node input[type=checkbox]")
    node_box.wait_for()
    assert node_box.is_checked()
    node_box.uncheck()
    wait_until(lambda: "distractors" not in _recorded(app), message="stopped recording")
    assert list(_recorded(app)) == before
