"""Issue 13 item 6: a pinned run shown next to the current one.

Run CUBA, pin it, change a neuron parameter (in the inspector) and the duration (in the run
bar), run again, and read back from the page: both runs' spike counts and their difference,
the list of what changed, and the two rasters on one time axis. Opening another project drops
the pin, and the page says so.
"""

from __future__ import annotations

import pytest

from tests.browser.test_result_views import (
    _open_sample,
    _ready,
    _run_and_wait,
    _set_duration,
    _tab,
    _wait_browser,
)

pytestmark = pytest.mark.browser

CUBA = "CUBA balanced network"


def _select_node(page, node_id: str) -> None:
    page.locator(f'[data-node-id="{node_id}"] .body').click()
    page.locator(".ss-inspector [data-testid='inspector-title']", has_text=node_id).wait_for()


def _cell(page, population: str, metric: str, side: str) -> float:
    cell = page.locator(f"[data-testid='compare-table'] tr[data-population='{population}'] "
                        f"td[data-metric='{metric}'][data-side='{side}']")
    return float(cell.get_attribute("data-value"))


def _exc_spikes(result) -> int:
    return int((result.spikes["population"] == "exc").sum())


def test_pinned_comparison_shows_both_runs(served, goto_app, wait_until, save_screenshot):
    page = _ready(goto_app(served.url))
    app = served.last
    _open_sample(page, app, wait_until, CUBA)
    _set_duration(page, app, wait_until, 300.0)
    _run_and_wait(page, app, wait_until)
    first = app.results.result

    page.locator(".ss-pin button").click()
    page.locator("[data-testid='pin-status'][data-run='1']").wait_for()
    assert "Run 1 of CUBA balanced network, 300 ms" in \
        page.get_by_test_id("pin-status").inner_text()

    # Change a neuron parameter in the inspector and the duration in the run bar.
    _select_node(page, "exc")
    field = page.locator(".ss-inspector .param-tau_m input").first
    field.fill("10")
    field.press("Tab")
    wait_until(lambda: app.session.document["network"]["nodes"][0]["params"]["tau_m"] == 10.0,
               message="tau_m applied")
    _set_duration(page, app, wait_until, 200.0)
    _run_and_wait(page, app, wait_until)
    second = app.results.result
    assert second is not first
    # The pin survived the run.
    assert page.locator("[data-testid='pin-status'][data-run='1']").count() == 1

    _tab(page, "Compare")
    page.locator("[data-testid='compare-status'][data-state='compared']"
                 "[data-pinned='1'][data-current='2']").wait_for()
    diff = page.get_by_test_id("compare-diff").inner_text()
    assert "duration: 300 → 200 ms" in diff
    assert "exc.tau_m: 20 → 10 ms" in diff
    assert page.get_by_test_id("compare-diff").get_attribute("data-count") == "2"

    # Both runs' spike counts and the difference, read from the page's table.
    pinned, current = _cell(page, "exc", "spikes", "pinned"), _cell(page, "exc", "spikes",
                                                                    "current")
    assert pinned == _exc_spikes(first) > 0
    assert current == _exc_spikes(second) > 0
    assert _cell(page, "exc", "spikes", "change") == current - pinned
    assert pinned != current  # a different tau_m and duration: different activity
    change_text = page.locator("[data-testid='compare-table'] tr[data-population='exc'] "
                               "td[data-metric='spikes'][data-side='change']").inner_text()
    assert change_text.startswith("+" if current > pinned else "−")

    # Two rasters, pinned above the shown run, on one time axis as long as the longer run.
    counts = page.get_by_test_id("ss-spike-count")
    counts.nth(1).wait_for()
    assert [int(counts.nth(k).get_attribute("data-count")) for k in range(2)] == \
        [len(first.spikes), len(second.spikes)]
    tab = app.views["compare"]
    _wait_browser(page, tab.x_range.id, ["start", "end"], [0.0, 300.0])
    assert tab.pinned_raster.figure.x_range is tab.current_raster.figure.x_range
    assert tab.rates.figure.x_range is tab.x_range
    # Export buttons on the comparison's plots: two rasters and the rates.
    assert page.locator(".ss-export-png").count() >= 3
    save_screenshot("compare", full_page=True)

    # Unpin and pin again: the second run is now the pinned one (and the run shown).
    page.locator(".ss-unpin button").click()
    page.locator("[data-testid='pin-status'][data-run='']").wait_for()
    page.locator("[data-testid='compare-status'][data-state='empty']").wait_for()
    page.locator(".ss-pin button").click()
    page.locator("[data-testid='compare-status'][data-state='same']").wait_for()

    # Another project: the pin is dropped, and the page says why.
    _open_sample(page, app, wait_until, "STDP: hidden pattern")
    page.get_by_test_id("pin-status").filter(has_text="was dropped").wait_for()
    assert "another project was opened" in page.get_by_test_id("pin-status").inner_text()
    assert tab.pinned is None
