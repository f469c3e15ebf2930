"""The neuron models of the registry in the browser: palette, node labels and colours, the
inspector, and a run of an adaptive LIF population."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from engine.neurons import NEURON_MODELS
from engine.simulator import simulate
from tests.browser.test_workbench import (
    _centre,
    _drag,
    _drop,
    _ready,
    _run_and_wait,
    _select_node,
    _set_number,
    _tab,
    show_canvas,
)

pytestmark = pytest.mark.browser


def _rgb(hex_color: str) -> str:
    h = hex_color.lstrip("#")
    return "rgb({}, {}, {})".format(*(int(h[i:i + 2], 16) for i in (0, 2, 4)))


def _set_until(page, wait_until, name: str, text: str, applied) -> None:
    """Type a value into the inspector until the document has it: a form the inspector was
    still replacing after a selection can swallow the first entry. Each attempt types another
    spelling of the number ("4", "4.0", "4.00"): a field that already shows the typed text
    sends no change when the same text is typed again."""
    spellings = [text, f"{float(text):.1f}", f"{float(text):.2f}"]
    for attempt, spelling in enumerate(spellings):
        _set_number(page, name, spelling)
        try:
            wait_until(applied, timeout=8, message=f"{name} applied")
            return
        except pytest.fail.Exception:
            if attempt == 2:
                raise


def test_adaptive_lif_from_the_palette_runs_in_the_browser(served, goto_app, wait_until,
                                                          save_screenshot):
    page = _ready(goto_app(served.url))
    app = served.last
    page.locator(".ss-new button").click()
    wait_until(lambda: not app.session.document["network"]["nodes"], message="new project")
    # Every registered model is in the palette under its title.
    for name, spec in NEURON_MODELS.items():
        assert page.get_by_test_id(f"palette-population-{name}").inner_text().strip() == \
            spec.title
    _drop(page, "palette-population-adaptive_lif", (0.6, 0.5), "adaptive_lif")
    node = page.locator('[data-node-id="adaptive_lif"]')
    # Its label and colour come from the registry.
    expect(node.locator(".badge")).to_have_text(re.compile("^Adaptive LIF"))
    expect(node.locator(".accent")).to_have_css("fill", _rgb(NEURON_MODELS["adaptive_lif"].color))
    # The inspector shows the model's own parameters.
    _select_node(page, "adaptive_lif")
    _set_until(page, wait_until, "delta_thresh", "4", lambda: app.session.document[
        "network"]["nodes"][0]["params"].get("delta_thresh") == 4.0)
    _drop(page, "palette-encoder-poisson", (0.2, 0.5), "poisson")
    show_canvas(page)
    _drag(page, _centre(page.locator('[data-node-id="poisson"] [data-handle="out"]')),
          _centre(page.locator('[data-node-id="adaptive_lif"] .body')))
    page.locator('[data-edge-id="poisson_to_adaptive_lif"]').wait_for()
    page.locator('[data-edge-id="poisson_to_adaptive_lif"] .line').click(force=True)
    page.locator(".ss-inspector [data-testid='inspector-title']",
                 has_text="poisson_to_adaptive_lif").wait_for()
    _set_until(page, wait_until, "value", "6", lambda: app.session.document[
        "network"]["projections"][0]["weight"] == 6.0)
    _run_and_wait(page, app, wait_until)
    expected = simulate(app.session.project()).spike_counts()
    assert expected["adaptive_lif"] > 0
    status = page.get_by_test_id("result-status")
    assert int(status.get_attribute("data-spikes")) == int(expected.sum())
    _tab(page, "Summary")
    table = page.locator(".ss-summary-table")
    row = table.locator(".tabulator-row", has=page.locator(
        ".tabulator-cell[tabulator-field='population']", has_text=re.compile("^adaptive_lif$")))
    row.wait_for()
    spikes = row.locator(".tabulator-cell[tabulator-field='spikes']").inner_text()
    assert int(spikes.replace(",", "")) == int(expected["adaptive_lif"])
    save_screenshot("adaptive_lif")
