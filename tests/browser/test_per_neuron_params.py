"""Issue 22 item 1 on the page: a population's tau_m made per neuron in the inspector.

Open the CUBA sample, make the inhibitory population's tau_m a normal distribution, read back
the "per neuron" summary and the histogram the browser draws (the values the simulator uses),
narrow the distribution, run, and undo back to one value.
"""

from __future__ import annotations

import numpy as np
import panel as pn
import pytest

from engine.core.per_neuron import document_values
from tests.browser.test_result_views import _open_sample, _ready, _run_and_wait, _set_duration
from widgets.value_histogram import histogram_counts

pytestmark = pytest.mark.browser

CUBA = "CUBA balanced network"


def _select_node(page, node_id: str) -> None:
    page.locator(f'[data-node-id="{node_id}"] .body').click()
    page.locator(".ss-inspector [data-testid='inspector-title']", has_text=node_id).wait_for()


def _tau_m(app):
    return app.session.document["network"]["nodes"][1]["params"]["tau_m"]


def _histogram_source_id(app) -> str | None:
    """The id of the data source of the histogram the inspector shows (None: no histogram)."""
    for part in app.model.inspector.objects:
        if isinstance(part, pn.pane.Bokeh) and "ss-hist-tau_m" in part.css_classes:
            return part.object.renderers[0].data_source.id
    return None


def _browser_counts(page, source_id: str) -> list[int] | None:
    """The bar heights the browser holds for that data source."""
    return page.evaluate(
        "(id) => { for (const d of Bokeh.documents) { const m = d.get_model_by_id(id);"
        " if (m) { const c = m.data instanceof Map ? m.data.get('count') : m.data.count;"
        " return Array.from(c, Number); } } return null; }", source_id)


def _shown_counts(page, app, wait_until) -> list[int]:
    """The histogram's counts as the browser has them, once it shows the current one."""
    wait_until(lambda: _histogram_source_id(app) is not None, message="histogram built")
    counts: list = []

    def arrived() -> bool:
        counts[:] = _browser_counts(page, _histogram_source_id(app)) or []
        return bool(counts)

    wait_until(arrived, message="histogram in the browser")
    page.locator(".ss-inspector .ss-hist-tau_m canvas").first.wait_for()
    return counts


def test_tau_m_per_neuron_in_the_inspector_then_undo(served, goto_app, wait_until,
                                                     save_screenshot):
    page = _ready(goto_app(served.url))
    app = served.last
    _open_sample(page, app, wait_until, CUBA)
    _set_duration(page, app, wait_until, 200.0)
    _select_node(page, "inh")
    assert page.get_by_test_id("per-neuron-tau_m").count() == 0

    page.locator(".ss-inspector .ss-vary-dist select").select_option("normal")
    page.locator(".ss-inspector .ss-make-per-neuron select").select_option("tau_m")
    wait_until(lambda: isinstance(_tau_m(app), dict), message="tau_m per neuron")
    assert _tau_m(app) == {"dist": "normal", "mean": 20.0, "std": 2.0}

    summary = page.get_by_test_id("per-neuron-tau_m")
    summary.wait_for()
    text = summary.inner_text()
    assert "per neuron: normal, mean 20, std 2 ms" in text
    used = document_values(app.session.document, "inh", "tau_m")
    assert f"drawn: mean {used.mean():.6g} / min {used.min():.6g} / max {used.max():.6g} ms" \
        f" (800 values)" in text
    counts = _shown_counts(page, app, wait_until)
    assert counts == histogram_counts(used)[0].tolist() and sum(counts) == 800
    save_screenshot("per-neuron-tau_m")

    # Narrow it: the summary and the histogram follow.
    field = page.locator(".ss-inspector .param-std input").first
    field.fill("0.5")
    field.press("Tab")
    wait_until(lambda: _tau_m(app).get("std") == 0.5, message="std applied")
    page.get_by_test_id("per-neuron-tau_m").filter(has_text="std 0.5 ms").wait_for()
    narrow = document_values(app.session.document, "inh", "tau_m")
    assert narrow.std() < used.std() / 2
    wait_until(lambda: _shown_counts(page, app, wait_until)
               == histogram_counts(narrow)[0].tolist(), message="histogram updated")

    _run_and_wait(page, app, wait_until)
    result = app.results.result
    assert result.status == "completed"
    assert int((result.spikes["population"] == "inh").sum()) > 0

    # Undo twice: the std, then the distribution: tau_m is one number again, as the page shows.
    page.locator(".ss-undo button").click()
    wait_until(lambda: _tau_m(app) == {"dist": "normal", "mean": 20.0, "std": 2.0},
               message="std undone")
    page.get_by_test_id("per-neuron-tau_m").filter(has_text="std 2 ms").wait_for()
    page.locator(".ss-undo button").click()
    wait_until(lambda: _tau_m(app) == 20.0, message="one value again")
    page.get_by_test_id("per-neuron-tau_m").wait_for(state="detached")
    page.locator(".ss-inspector .ss-hist-tau_m").wait_for(state="detached")
    shown = page.locator(".ss-inspector .param-tau_m input").first
    assert float(shown.input_value()) == 20.0
    assert np.all(document_values(app.session.document, "inh", "tau_m") == 20.0)
