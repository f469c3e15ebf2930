"""Issue 18: the neuron panel follows the raster's selection, also when it did not change
(a breakpoint pausing at the neuron selected before, or "Show neuron" of that neuron)."""

from __future__ import annotations

from tests.test_neuron_panel import _state, shown, wait  # noqa: F401 - the fixture


def test_a_pause_at_the_selected_neuron_shows_it_after_a_live_run(shown):  # noqa: F811
    view, result, _, doc = shown
    view.raster.reveal("pop", 4)
    panel = view.neuron_panel
    wait(lambda: 'data-state="recorded"' in _state(view))
    view.run_started(doc)
    view.show_live(result.spikes.iloc[:50], 20.0)  # Continue: the run goes on, drawn live
    assert panel.result is None and "The run is going on" in panel.header.object
    assert view.show(result)  # it pauses again
    # What a breakpoint at that neuron does: select it (no change, so no event).
    view.raster.selected = {"population": "pop", "neuron": 4}
    assert panel.shown == ("pop", 4) and 'data-neuron="4"' in panel.header.object


def test_show_neuron_of_the_selected_neuron_shows_it(shown):  # noqa: F811
    view, result, _, _ = shown
    view.raster.reveal("pop", 2)
    panel = view.neuron_panel
    panel._show_hint()  # emptied (as a live run leaves it), the selection unchanged
    panel.shown = None
    panel.population.value, panel.index.value = "pop", 2
    panel.show_button.clicks += 1
    assert panel.shown == ("pop", 2) and 'data-neuron="2"' in panel.header.object
