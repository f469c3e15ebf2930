"""Number fields keep the user's text: parsing, formatting, pending invalid fields, Run guard.

Issue 9 part 4: invalid values were ignored or silently changed ("10,5" became 105, "1s"
became 1, size 0 snapped back to 100, Run ran with the last valid value and said nothing).
"""

from __future__ import annotations

import panel as pn
import pytest

from engine.connectivity.rules import CONNECTIVITY_RULES
from engine.neurons import NEURON_MODELS
from engine.params import ParamSpec
from engine.project import SIMULATION_SPECS
from widgets.param_form import ParamForm, format_number, parse_number

TAU = next(s for s in NEURON_MODELS["lif"].params if s.name == "tau_m")
SEED = next(s for s in SIMULATION_SPECS if s.name == "seed")
GAIN = ParamSpec("gain", "", 1.0, "A dimensionless gain.")


@pytest.mark.parametrize("text, spec, value", [
    ("12.5", TAU, 12.5), (" 3 ", TAU, 3.0), ("1e-3", TAU, 0.001), ("-.5", GAIN, -0.5),
    ("+2E2", GAIN, 200.0), ("7", SEED, 7), ("1e3", SEED, 1000), ("42.0", SEED, 42),
])
def test_valid_numbers_parse(text, spec, value):
    parsed, error = parse_number(text, spec)
    assert error is None and parsed == value and type(parsed) is type(value)


@pytest.mark.parametrize("text, spec, fragments", [
    ("10,5", TAU, ["use a dot as decimal separator", "10.5"]),
    ("1s", TAU, ["no units", "this field is in ms"]),
    ("5 mV", GAIN, ["no units", "has no unit"]),
    ("", TAU, ["a value is required"]),
    ("abc", TAU, ["not a number"]),
    ("1e999", TAU, ["too large"]),
    ("nan", TAU, ["not a number"]),
    ("2.5", SEED, ["whole number"]),
    ("1_000", GAIN, ["not a number"]),
])
def test_malformed_numbers_are_refused_with_a_reason(text, spec, fragments):
    parsed, error = parse_number(text, spec)
    assert parsed is None and error
    for fragment in fragments:
        assert fragment in error


@pytest.mark.parametrize("value, text", [
    (0.022000000000000002, "0.022"), (0.1 + 0.2, "0.3"), (20.0, "20"), (1e-3, "0.001"),
    (1e20, "1e+20"), (-65.0, "-65"), (3, "3"), (None, ""), (2.5e-7, "2.5e-07"),
])
def test_numbers_display_short(value, text):
    assert format_number(value) == text
    if value is not None:
        assert float(text) == pytest.approx(value, rel=1e-11)


def test_invalid_text_is_kept_pending_and_never_snaps_back():
    reports, calls = [], []
    form = ParamForm(NEURON_MODELS["lif"].params, {"tau_m": 20.0})
    form.on_change(lambda name, value: calls.append((name, value)))
    form.on_pending(lambda *args: reports.append(args))
    tau = form.widget("tau_m")
    tau.value = "10,5"
    assert calls == [] and tau.value == "10,5"
    assert form.pending == {"tau_m": "10,5"}
    assert reports[-1][:2] == ("tau_m", "10,5") and "dot" in reports[-1][2]
    # The app re-sets values after an edit elsewhere: the typed text stays, error too.
    form.values = {"tau_m": 20.0, "v_rest": -60.0}
    assert tau.value == "10,5" and "dot" in form.errors["tau_m"]
    assert form.widget("v_rest").value == "-60"
    tau.value = "10.5"
    assert calls == [("tau_m", 10.5)] and form.pending == {}
    assert reports[-1] == ("tau_m", None, None)


def test_a_rebuilt_form_restores_pending_text():
    form = ParamForm(NEURON_MODELS["lif"].params, {"tau_m": 20.0}, pending={"tau_m": "-5"})
    assert form.widget("tau_m").value == "-5"
    assert form.errors["tau_m"] == "must be > 0 ms, got -5 ms"


# ---------------------------------------------------------------------------- the workbench
@pytest.fixture
def app(tmp_path, monkeypatch):
    monkeypatch.setenv("SPIKESTUDIO_HOME", str(tmp_path / "home"))
    from workbench.app import Workbench

    return Workbench(session_id="param-parsing-test")


def _field(app, name: str):
    """The inspector's input of parameter ``name`` (found by its ``param-<name>`` class)."""
    found = [w for w in app.model.inspector.select(pn.widgets.Widget)
             if f"param-{name}" in w.css_classes]
    if not found:
        raise KeyError(name)
    return found[0]


def _select(app, kind: str, item_id: str) -> None:
    app.model.on_editor_action({"action": "select", "type": kind, "id": item_id})


def _open_sample(app, name: str) -> None:
    from workbench import storage

    app.session.open_path(storage.SAMPLES_DIR / name)
    app.model.editor.selection = {}
    app._after_project_replaced()


def test_run_is_refused_while_a_field_is_invalid(app, monkeypatch):
    from workbench import runner

    submitted = []
    monkeypatch.setattr(runner, "submit", lambda project, debug=None, owner=None,
                        store_dir=None: submitted.append(project))
    _select(app, "node", "neuron")
    before = app.session.document
    _field(app, "tau_m").value = "-5"
    app.run_bar.run_form.widget("dt_ms").value = "0"
    app.run_bar.run_form.widget("duration_ms").value = "10,5"
    assert app.session.document == before
    app.run_bar.run()
    assert submitted == [] and app.run_bar.handle is None
    text = app.message_bar.messages.object
    assert 'data-level="error"' in text and "fix 3 field(s)" in text
    # Labels as the page shows them, not the document's field paths.
    assert "Node “LIF neuron”, tau m (ms): must be &gt; 0 ms" in text
    assert "Simulation, dt ms (ms): must be" in text
    assert "use a dot" in text and "network.nodes[" not in text and "simulation." not in text
    # Fixing them lets the run through.
    _field(app, "tau_m").value = "12"
    app.run_bar.run_form.widget("dt_ms").value = "0.05"
    app.run_bar.run_form.widget("duration_ms").value = "10.5"
    assert app.session.field_errors == {}
    assert app.session.document["simulation"]["duration_ms"] == 10.5
    app.run_bar.run()
    assert len(submitted) == 1


def test_size_out_of_range_is_an_error_not_a_snap_back(app):
    _select(app, "node", "neuron")
    size = _field(app, "size")
    assert size.value == "1"
    for text in ("0", "100000000", "1.5"):
        size.value = text
        assert app.session.document["network"]["nodes"][1]["size"] == 1
        assert _field(app, "size").value == text
        assert "network.nodes[neuron].size" in app.session.field_errors
    # Another edit rebuilds the inspector: the typed size and its error survive.
    _field(app, "tau_m").value = "15"
    assert _field(app, "size").value == "1.5"
    assert "whole number" in app.session.field_errors["network.nodes[neuron].size"][1]


def test_pending_text_survives_selecting_another_item_and_goes_with_its_node(app):
    _select(app, "node", "neuron")
    _field(app, "v_thresh").value = "-50mV"
    _select(app, "node", "input")
    _select(app, "node", "neuron")
    assert _field(app, "v_thresh").value == "-50mV"
    assert "this field is in mV" in app.session.field_errors[
        "network.nodes[neuron].params.v_thresh"][1]
    app.model.on_editor_action({"action": "delete", "type": "node", "id": "neuron"})
    assert app.session.field_errors == {}


def test_opening_a_project_forgets_pending_texts(app):
    app.run_bar.run_form.widget("dt_ms").value = "0"
    assert app.session.field_errors
    _open_sample(app, "cuba_balanced.json")
    assert app.session.field_errors == {} and app.run_bar.run_form.pending == {}
    assert app.run_bar.run_form.widget("dt_ms").value == "0.1"


def test_floats_show_short_in_the_inspector(app):
    _open_sample(app, "stdp_song_abbott.json")
    _select(app, "edge", "ff")
    assert _field(app, "a_minus").value == "0.022"


def test_autapses_only_offered_for_a_node_to_itself(app):
    _open_sample(app, "cuba_balanced.json")
    assert any(s.name == "allow_autapses"
               for s in CONNECTIVITY_RULES["fixed_probability"].params)
    _select(app, "edge", "exc_to_inh")
    with pytest.raises(KeyError):
        _field(app, "allow_autapses")
    _select(app, "edge", "exc_to_exc")
    assert _field(app, "allow_autapses").value is True


def test_an_error_banner_goes_after_a_later_success_or_dismiss(app):
    app.run_bar.run_form.widget("dt_ms").value = "0"
    app.run_bar.run()
    assert 'data-level="error"' in app.message_bar.messages.object
    app.run_bar.run_form.widget("dt_ms").value = "0.2"  # a successful edit
    assert app.message_bar.messages.object == "" and not app.message_bar.dismiss_button.visible
    app.message_bar.message("broken", "error")
    assert app.message_bar.dismiss_button.visible
    app.message_bar.dismiss_button.clicks += 1
    assert app.message_bar.messages.object == ""


def test_inspector_scrolls_to_top_on_a_new_selection(app):
    _select(app, "node", "neuron")
    app.model.inspector.scroll_position = 300  # as synced from the browser
    _field(app, "tau_m").value = "14"  # an edit of the same item keeps the position
    assert app.model.inspector.scroll_position == 300
    _select(app, "node", "input")
    assert app.model.inspector.scroll_position == 0
