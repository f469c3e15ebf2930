"""Random edit sequences, as a user could click them: never a crash, valid means it runs.

Every sequence starts from a new project and applies random editor actions (add, connect,
move, delete, set fields, including values the engine must refuse). After every step the
session must hold a JSON-serialisable document and a problem list; when the list is empty
the project must build and simulate. Undoing every step must give back the start.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.encoders import ENCODER_MODELS
from engine.errors import SimulationError, SpikeStudioError
from engine.neurons import NEURON_MODELS
from engine.simulator import simulate
from workbench import edits
from workbench.session import ProjectSession

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

KINDS = [("population", m) for m in NEURON_MODELS] + [("encoder", m) for m in ENCODER_MODELS]
VALUES = st.one_of(st.integers(-5, 50), st.floats(-100, 100, allow_nan=False),
                   st.sampled_from([0, 1, 0.5, -1, "exc", "inh", "", None, [0], [[1.0]]]))
CONNECTIVITY = st.one_of(
    st.fixed_dictionaries({"rule": st.just("all_to_all")}),
    st.fixed_dictionaries({"rule": st.just("one_to_one")}),
    st.fixed_dictionaries({"rule": st.just("fixed_probability"), "p": st.floats(-0.5, 1.5)}),
    st.fixed_dictionaries({"rule": st.just("fixed_indegree"), "k": st.integers(-2, 30)}),
    st.fixed_dictionaries({"rule": st.just("bogus")}),
)
PLASTICITY = st.one_of(
    st.none(), st.just({"rule": "stdp"}), st.just({"rule": "teaching"}),
    st.fixed_dictionaries({"rule": st.just("stdp"), "w_max": st.floats(-1, 5),
                           "pairing": st.sampled_from(["all_to_all", "nearest", "x"])}),
)
DELAYS = st.one_of(st.sampled_from([0.0, 0.1, 0.25, 1.0, -1.0, 0.15]),
                   st.just({"dist": "uniform", "low": 0.1, "high": 1.0}))

BUILD = st.one_of(  # the common case: build something runnable
    st.tuples(st.just("add"), st.sampled_from(KINDS)),
    st.tuples(st.just("connect"), st.integers(0, 7), st.integers(0, 7)),
    st.tuples(st.just("size"), st.integers(0, 7), st.integers(1, 30)),
    st.tuples(st.just("plasticity"), st.integers(0, 7),
              st.sampled_from([{"rule": "stdp"}, {"rule": "teaching"}])),
    st.tuples(st.just("delay"), st.integers(0, 7), st.sampled_from([0.0, 0.5, 2.0])),
    st.tuples(st.just("weight"), st.integers(0, 7), st.floats(0.5, 20)),
)
ACTIONS = st.lists(st.one_of(
    BUILD, BUILD, BUILD,
    st.tuples(st.just("add"), st.sampled_from(KINDS)),
    st.tuples(st.just("monitor"), st.integers(0, 5)),
    st.tuples(st.just("connect"), st.integers(0, 7), st.integers(0, 7)),
    st.tuples(st.just("move"), st.integers(0, 7), st.floats(-1e4, 1e4)),
    st.tuples(st.just("delete_node"), st.integers(0, 7)),
    st.tuples(st.just("delete_edge"), st.integers(0, 7)),
    st.tuples(st.just("size"), st.integers(0, 7), st.integers(-3, 40)),
    st.tuples(st.just("param"), st.integers(0, 7), st.sampled_from(
        ["tau_m", "v_thresh", "rate_hz", "amplitude", "t_ref", "preset", "bogus"]), VALUES),
    st.tuples(st.just("model"), st.integers(0, 7), st.sampled_from(
        sorted(NEURON_MODELS) + sorted(ENCODER_MODELS))),
    st.tuples(st.just("weight"), st.integers(0, 7), VALUES),
    st.tuples(st.just("delay"), st.integers(0, 7), DELAYS),
    st.tuples(st.just("receptor"), st.integers(0, 7), st.sampled_from(["exc", "inh"])),
    st.tuples(st.just("connectivity"), st.integers(0, 7), CONNECTIVITY),
    st.tuples(st.just("plasticity"), st.integers(0, 7), PLASTICITY),
    st.tuples(st.just("dt"), st.sampled_from([0.1, 0.05, 0.2, 0.0, -0.1, 0.3])),
), min_size=1, max_size=20)


def _pick(items: list, index: int):
    return items[index % len(items)] if items else None


def _apply(session: ProjectSession, action: tuple) -> None:
    doc = session.document
    nodes = [n["id"] for n in doc["network"]["nodes"]]
    projections = [p["id"] for p in doc["network"]["projections"]]
    name = action[0]
    if name == "add":
        session.apply(edits.add_node, *action[1])
    elif name == "monitor":
        session.apply(edits.add_node, "monitor", "state", 10.0, 10.0, _pick(nodes, action[1]))
    elif name == "connect" and nodes:
        session.apply(edits.connect, _pick(nodes, action[1]), _pick(nodes, action[2]))
    elif name == "move" and nodes:
        session.apply(edits.move_node, _pick(nodes, action[1]), action[2], -action[2])
    elif name == "delete_node" and nodes:
        session.apply(edits.delete, "node", _pick(nodes, action[1]))
    elif name == "delete_edge" and projections:
        session.apply(edits.delete, "edge", _pick(projections, action[1]))
    elif name == "size" and nodes:
        session.apply(edits.set_node_field, _pick(nodes, action[1]), "size", action[2])
    elif name == "param" and nodes:
        session.apply(edits.set_node_param, _pick(nodes, action[1]), action[2], action[3])
    elif name == "model" and nodes:
        session.apply(edits.set_node_field, _pick(nodes, action[1]), "model", action[2])
    elif name in ("weight", "delay", "receptor", "connectivity", "plasticity") and projections:
        field = {"delay": "delay_ms"}.get(name, name)
        session.apply(edits.set_projection_field, _pick(projections, action[1]), field,
                      action[2])
    elif name == "dt":
        session.apply(edits.set_simulation, "dt_ms", action[1])


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(actions=ACTIONS)
def test_random_edits_never_crash_and_valid_projects_run(actions, tmp_path_factory,
                                                         monkeypatch):
    monkeypatch.setenv("SPIKESTUDIO_HOME", str(tmp_path_factory.mktemp("home")))
    session = ProjectSession("fuzz")
    session.new()
    session.apply(edits.set_simulation, "duration_ms", 5.0)
    start = json.dumps(session.document, sort_keys=True)
    applied = 0
    for action in actions:
        before = session.document
        try:
            _apply(session, action)
        except (edits.EditError, SpikeStudioError):
            assert session.document == before  # a refused edit changes nothing
            continue
        applied += session.document is not before
        json.dumps(session.document, allow_nan=False)  # autosave and download can write it
        assert isinstance(session.problems, list)
        if not session.problems:
            try:
                result = simulate(session.project())
            except SimulationError as exc:
                assert str(exc)  # a run may stop (NaN, memory) but says why
            else:
                # A duration that is not a multiple of dt ends on the step grid.
                assert abs(result.duration_ms - 5.0) < result.dt_ms + 1e-9
    for _ in range(applied):
        assert session.undo()
    assert json.dumps(session.document, sort_keys=True) == start
