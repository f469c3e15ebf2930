"""Python-side behaviour of GraphEditor (message handling, data helpers) and ParamForm."""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

from engine.connectivity.rules import CONNECTIVITY_RULES
from engine.encoders import ENCODER_MODELS
from engine.monitors.specs import MONITOR_SPECS
from engine.neurons import NEURON_MODELS
from widgets import graph_editor as editor_module
from widgets.graph_editor import GraphEditor, editor_data, palette_items
from widgets.param_form import ParamForm


def test_messages_become_plain_actions():
    editor = GraphEditor()
    got = []
    editor.on_action(got.append)
    editor._handle_msg(OrderedDict(action="move", id="exc", x=10, y="2.5"))
    editor._handle_msg({"action": "select"})
    editor._handle_msg({"action": "select", "type": "edge", "id": "p1"})
    editor._handle_msg({"action": "connect", "source": "a"})  # missing target: dropped
    editor._handle_msg({"action": "rm -rf"})  # unknown: dropped
    editor._handle_msg({"action": "delete", "type": "project", "id": "x"})  # bad type: dropped
    assert got == [
        {"action": "move", "id": "exc", "x": 10.0, "y": 2.5},
        {"action": "select"},
        {"action": "select", "type": "edge", "id": "p1"},
    ]
    assert all(type(a) is dict for a in got)


def test_failing_callback_does_not_block_others():
    editor = GraphEditor()
    got = []

    def broken(action):
        raise RuntimeError("boom")

    editor.on_action(broken)
    editor.on_action(got.append)
    editor._handle_msg({"action": "undo"})
    editor.remove_on_action(got.append)
    editor._handle_msg({"action": "redo"})
    assert got == [{"action": "undo"}]


def test_editor_data_and_palette():
    doc = {"network": {
        "nodes": [{"id": "in", "kind": "encoder", "model": "poisson", "size": 5,
                   "params": {"rate_table": [[0, 1]] * 1000}},
                  {"id": "p", "kind": "population", "model": "lif", "size": 10},
                  {"id": "m", "kind": "monitor", "model": "state", "target": "p"}],
        "projections": [{"id": "e", "source": "in", "target": "p", "receptor": "exc",
                         "plasticity": {"rule": "stdp", "a_plus": 0.1}},
                        {"id": "i", "source": "p", "target": "p", "receptor": "inh",
                         "plasticity": None}]},
        "layout": {"positions": {"p": [1, 2]}}}
    data = editor_data(doc)
    assert "params" not in data["nodes"][0]
    assert data["nodes"][2]["target"] == "p"
    assert data["edges"][0]["plastic"] and data["edges"][0]["rule"] == "stdp"
    assert not data["edges"][1]["plastic"] and data["edges"][1]["receptor"] == "inh"
    assert data["positions"] == {"p": [1.0, 2.0]}
    items = palette_items(NEURON_MODELS, ENCODER_MODELS)
    assert {"kind": "population", "model": "lif", "title": "Leaky integrate-and-fire",
            "label": "LIF", "color": NEURON_MODELS["lif"].color} in items
    # every neuron model's label and colour come from the registry (none in the JavaScript)
    by_model = {i["model"]: i for i in items if i["kind"] == "population"}
    assert {m: by_model[m]["label"] for m in ("if", "adaptive_lif", "li")} == {
        "if": "IF", "adaptive_lif": "Adaptive LIF", "li": "LI"}
    assert all(by_model[m]["color"] for m in NEURON_MODELS)
    assert next(i for i in items if i["model"] == "poisson")["label"] == "Poisson"
    js = (Path(editor_module.__file__).with_name("graph_editor.js")).read_text()
    assert not any(f'"{m}"' in js or f"{m}:" in js for m in NEURON_MODELS if len(m) > 2)
    assert items[-1]["kind"] == "monitor"
    assert len(items) == len(NEURON_MODELS) + len(ENCODER_MODELS) + 1


def test_param_form_blocks_invalid_and_reports_valid():
    calls = []
    form = ParamForm(NEURON_MODELS["lif"].params, {"tau_m": 20.0})
    form.on_change(lambda name, value: calls.append((name, value)))
    tau = form.widget("tau_m")
    assert tau.value == "20" and "param-tau_m" in tau.css_classes
    tau.value = "-5"
    assert calls == [] and form.errors == {"tau_m": "must be > 0 ms, got -5 ms"}
    assert "ss-param-invalid" in tau.css_classes
    tau.value = "20"  # back to the current value: error gone, nothing to apply
    assert calls == [] and form.errors == {}
    tau.value = "12"
    assert calls == [("tau_m", 12.0)] and isinstance(calls[0][1], float)


def test_param_form_json_kinds_problems_and_sync():
    calls = []
    specs = (*ENCODER_MODELS["poisson"].params, *MONITOR_SPECS,
             *CONNECTIVITY_RULES["fixed_indegree"].params)
    form = ParamForm(specs)
    form.on_change(lambda name, value: calls.append((name, value)))
    table = form.widget("rate_table")
    table.value = "[[0, 5]"
    assert form.errors["rate_table"].startswith("not valid JSON")
    table.value = "[[0, 5], [10, -1]]"
    assert form.errors["rate_table"] == "row 1: value must be >= 0 Hz, got -1 Hz"
    table.value = "[[0, 5], [10, 20]]"
    form.widget("allow_autapses").value = False
    assert calls == [("rate_table", [[0, 5], [10, 20]]), ("allow_autapses", False)]

    form.problems = {"k": "too many inputs for a 3-neuron source", "other": "x"}
    assert form.errors == {"k": "too many inputs for a 3-neuron source"}
    form.values = {"k": 3, "rate_table": [[0, 1.5]]}  # the app applied edits: no callbacks
    assert form.widget("k").value == "3"
    assert form.widget("rate_table").value == "[[0, 1.5]]"
    assert len(calls) == 2


def test_deeply_nested_json_in_a_field_is_an_error_not_a_crash():
    from engine.params import ParamSpec
    from widgets.param_form import _Field

    field = _Field(ParamSpec("table", "", [], "a table", kind="table"), [], lambda f, v: None)
    value, error = field.parse("[" * 100_000 + "]" * 100_000)
    assert value is None and "nested too deeply" in error
