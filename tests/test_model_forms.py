"""Every registered neuron model gets an inspector form from its spec, and an edit applies."""

from __future__ import annotations

import pytest

from engine.neurons import NEURON_MODELS
from engine.project import validate_document
from widgets.param_form import ParamForm
from workbench import edits
from workbench.inspector import node_inspector


@pytest.mark.parametrize("model", list(NEURON_MODELS))
def test_inspector_form_of_every_neuron_model(model):
    doc, nid = edits.add_node(edits.new_document(), "population", model)
    node = doc["network"]["nodes"][0]
    applied = []
    parts = node_inspector(doc, node, [], lambda fn, *args: applied.append((fn, args)))
    forms = [p for p in parts if isinstance(p, ParamForm)]
    spec = NEURON_MODELS[model]
    assert [s.name for s in forms[-1].specs] == [p.name for p in spec.params]
    first = spec.params[0]  # a number in every model's range (tau_m, or Izhikevich's a)
    forms[-1].widget(first.name).value = "7"
    assert applied[-1] == (edits.set_node_param, (nid, first.name, 7.0))
    doc = edits.set_node_param(doc, *applied[-1][1])
    assert validate_document(doc) == []
