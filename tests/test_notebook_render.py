"""Every widget renders outside a server, the way a Jupyter notebook renders it (comm root)."""

from __future__ import annotations

import json
from pathlib import Path

import panel as pn
import pytest
from bokeh.core.json_encoder import serialize_json
from bokeh.document import Document
from pyviz_comms import Comm

from engine.encoders import ENCODER_MODELS
from engine.energy.model import load_profiles
from engine.energy.tables import energy_table
from engine.neurons import NEURON_MODELS
from engine.project import loads_project
from engine.simulator import simulate
from widgets.energy_heatmap import EnergyHeatmap
from widgets.graph_editor import GraphEditor, editor_data, palette_items
from widgets.param_form import ParamForm
from widgets.raster import RasterPlot
from widgets.rates import RatePlot
from widgets.summary import SummaryTable
from widgets.traces import TracePlot, trace_items_from_frame
from widgets.weights import WeightEvolution

SAMPLES = Path(__file__).parent.parent / "sample_projects"


@pytest.fixture(scope="module")
def result():
    doc = json.loads((SAMPLES / "stdp_song_abbott.json").read_text())
    doc["simulation"]["duration_ms"] = 500.0
    return simulate(loads_project(json.dumps(doc))), doc


def _widgets(result):
    from engine.spike_stats import population_rates, population_summary

    r, doc = result
    pid = next(iter(r.weights))
    return {
        "graph editor": GraphEditor(**editor_data(doc),
                                    palette=palette_items(NEURON_MODELS, ENCODER_MODELS)),
        "param form": ParamForm(specs=NEURON_MODELS["lif"].params, values={}),
        "raster": RasterPlot(spikes=r.spikes, sizes=r.sizes, duration_ms=r.duration_ms),
        "rates": RatePlot(rates=population_rates(r.spikes, r.sizes, r.duration_ms)),
        "traces": TracePlot(traces=trace_items_from_frame(r.traces_frame())),
        "summary": SummaryTable(summary=population_summary(r.spikes, r.sizes, r.duration_ms)),
        "weights": WeightEvolution(record=r.weights[pid], spikes=r.spikes),
        "energy": EnergyHeatmap(tables={"loihi": energy_table(
            r.counts, load_profiles()["loihi"], r.bin_ms, r.duration_ms)}, bin_ms=r.bin_ms,
            duration_ms=r.duration_ms, profile="loihi"),
    }


@pytest.mark.parametrize("name", ["graph editor", "param form", "raster", "rates", "traces",
                                  "summary", "weights", "energy"])
def test_widget_renders_in_a_notebook_context(result, name):
    widget = _widgets(result)[name]
    doc = Document()
    model = pn.panel(widget).get_root(doc, comm=Comm())
    doc.add_root(model)
    # The notebook's mime bundle is this document serialised to JSON.
    assert json.loads(serialize_json(doc.to_json()))["roots"]
