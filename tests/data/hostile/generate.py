"""Generate the hostile project corpus: files a hostile student could upload or pass to the CLI.

``python tests/data/hostile/generate.py`` rewrites the small cases (``*.json``, ``*.bin``) and
``expected.json`` in this folder; they are committed. The big cases (megabytes, a 1.3M-node
network) are built at test time from :data:`BIG_CASES` and never committed.

``expected.json`` maps each file name to ``{"outcome": "error" | "ok" | "any", "path": ...}``:
``error`` means loading must raise ``ProjectError``, ``ok`` that it must load, ``any`` that
either is fine (but nothing else); ``path``, when given, is a field path (prefix) that one of
the problems must name.
"""

from __future__ import annotations

import copy
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

BASE: dict[str, Any] = {
    "format": "spikestudio-project",
    "version": 1,
    "name": "Hostile base",
    "description": "A small valid project every hostile case starts from.",
    "network": {
        "nodes": [
            {"id": "input", "kind": "encoder", "model": "poisson", "size": 4,
             "params": {"rate_hz": 20.0}},
            {"id": "pop", "kind": "population", "model": "lif", "size": 4, "label": "Pop",
             "params": {"tau_m": 10.0}},
            {"id": "mon", "kind": "monitor", "model": "state", "target": "pop",
             "params": {"variables": ["v"], "neurons": [0], "interval_ms": 0.1}},
        ],
        "projections": [
            {"id": "drive", "source": "input", "target": "pop",
             "connectivity": {"rule": "fixed_probability", "p": 0.5},
             "weight": 2.0, "delay_ms": 1.0, "receptor": "exc", "plasticity": None},
        ],
    },
    "simulation": {"duration_ms": 100.0, "dt_ms": 0.1, "seed": 1, "count_bin_ms": 1.0,
                   "record_spikes": "all", "memory_budget_mb": 512.0},
    "layout": {"positions": {"input": [80, 160], "pop": [340, 160], "mon": [340, 300]},
               "viewport": {"x": 0, "y": 0, "k": 1}},
    "lab": "# Notes\nNothing here.",
}

Doc = dict[str, Any]


def _doc(change: Callable[[Doc], Any]) -> Doc:
    doc = copy.deepcopy(BASE)
    change(doc)
    return doc


def _node(doc: Doc, i: int) -> Doc:
    return doc["network"]["nodes"][i]


def _proj(doc: Doc) -> Doc:
    return doc["network"]["projections"][0]


def _nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


def _with_viewport(text: str) -> str:
    """The base document as text, its layout.viewport replaced by raw JSON ``text``."""
    return json.dumps(BASE).replace('"viewport": {"x": 0, "y": 0, "k": 1}',
                                    f'"viewport": {text}')


SCRIPT = '<script>alert("x")</script><img src=x onerror=alert(1)>'

# name -> (document or raw text/bytes, outcome, field path one problem must name)
Case = tuple[Any, str, str | None]


def _document_cases() -> dict[str, Case]:
    s = _doc
    cases: dict[str, Case] = {
        # ------------------------------------------------------------ the cases
        "issue_viewport_inf.json": (
            json.dumps(BASE).replace('"viewport": {"x": 0', '"viewport": {"x": 1e309'),
            "error", "layout.viewport.x"),
        "issue_viewport_neg_inf.json": (
            json.dumps(BASE).replace('"k": 1}', '"k": -1e400}'), "error", "layout.viewport.k"),
        "issue_normal_std_1e308.json": (s(lambda d: _proj(d).update(
            weight={"dist": "normal", "mean": 1.0, "std": 1e308})), "error",
            "network.projections[0].weight.std"),
        "issue_nesting_490.json": (_with_viewport("[" * 490 + "1" + "]" * 490), "error",
                                   "layout.viewport"),
        "issue_nesting_999.json": (_with_viewport("[" * 999 + "1" + "]" * 999), "error", ""),
        "issue_nesting_objects_700.json": (_with_viewport('{"a": ' * 700 + "1" + "}" * 700),
                                           "error", ""),
        "nesting_65_in_lab.json": (s(lambda d: d.update(lab=_nested(65))), "error", "lab"),
        "nesting_60_ok_depth_in_lab.json": (s(lambda d: d.update(lab=_nested(60))), "error",
                                            "lab"),
        # ------------------------------------------------------------ not a project at all
        "top_level_array.json": ("[1, 2, 3]", "error", ""),
        "top_level_string.json": ('"spikestudio"', "error", ""),
        "top_level_number.json": ("42", "error", ""),
        "top_level_null.json": ("null", "error", ""),
        "empty_object.json": ("{}", "error", "format"),
        "truncated.json": (json.dumps(BASE, indent=1)[:700], "error", ""),
        "trailing_garbage.json": (json.dumps(BASE) + " }{", "error", ""),
        "bom.json": ("\ufeff" + json.dumps(BASE), "ok", None),
        "nan_literal.json": (json.dumps(BASE).replace('"rate_hz": 20.0', '"rate_hz": NaN'),
                             "error", "network.nodes[0].params.rate_hz"),
        "infinity_literal.json": (json.dumps(BASE).replace('"duration_ms": 100.0',
                                                           '"duration_ms": Infinity'),
                                  "error", "simulation.duration_ms"),
        "overflow_in_lab_list.json": (json.dumps(_doc(lambda d: d.update(lab=["QQQ"])))
                                      .replace('"QQQ"', "-1E+309"), "error", "lab[0]"),
        "huge_int_literal.json": (json.dumps(BASE).replace('"seed": 1', '"seed": ' + "9" * 400),
                                  "error", "simulation.seed"),
        "int_too_many_digits.json": (json.dumps(BASE).replace('"seed": 1',
                                                              '"seed": ' + "9" * 5000),
                                     "error", ""),
        "single_quotes.json": ("{'format': 'spikestudio-project'}", "error", ""),
        "comments.json": ("// a comment\n" + json.dumps(BASE), "error", ""),
        "duplicate_keys.json": (json.dumps(BASE)[:-1] + ', "name": "second"}', "any", None),
        # ------------------------------------------------------------ top level
        "unknown_top_key.json": (s(lambda d: d.update(hack={"a": 1})), "error", "hack"),
        "format_wrong.json": (s(lambda d: d.update(format="pickle")), "error", "format"),
        "version_future.json": (s(lambda d: d.update(version=99)), "error", "version"),
        "version_string.json": (s(lambda d: d.update(version="1")), "error", "version"),
        "version_negative.json": (s(lambda d: d.update(version=-1)), "error", "version"),
        "version_float.json": (s(lambda d: d.update(version=1.5)), "error", "version"),
        "version_bool.json": (s(lambda d: d.update(version=True)), "error", "version"),
        "name_number.json": (s(lambda d: d.update(name=5)), "error", "name"),
        "name_null.json": (s(lambda d: d.update(name=None)), "error", "name"),
        "name_huge.json": (s(lambda d: d.update(name="n" * 5000)), "error", "name"),
        "name_null_byte.json": (s(lambda d: d.update(name="a\x00b")), "error", "name"),
        "name_control_chars.json": (s(lambda d: d.update(name="a\x1b[31mred")), "error",
                                    "name"),
        "name_newline.json": (s(lambda d: d.update(name="two\nlines")), "error", "name"),
        "name_lone_surrogate.json": (json.dumps(BASE).replace('"Hostile base"', '"\\ud800x"'),
                                     "error", "name"),
        "name_unicode_ok.json": (s(lambda d: d.update(name="Réseau 脉冲 🧠 שלום")), "ok", None),
        # Bidi overrides and zero-width characters show a name reversed or blank.
        "name_bidi_override.json": (s(lambda d: d.update(name="Réseau \u202ertl")), "error",
                                    "name"),
        "name_zero_width.json": (s(lambda d: d.update(name="\u200b\u200b")), "error", "name"),
        "name_script.json": (s(lambda d: d.update(name=SCRIPT)), "ok", None),
        "description_script.json": (s(lambda d: d.update(description=SCRIPT * 3)), "ok",
                                    None),
        "description_huge.json": (s(lambda d: d.update(description="d" * 20_000)), "error",
                                  "description"),
        "lab_script.json": (s(lambda d: d.update(lab=SCRIPT + "\n[x](javascript:alert(1))")),
                            "ok", None),
        "lab_too_long.json": (s(lambda d: d.update(lab="x" * 150_000)), "error", "lab"),
        "lab_object.json": (s(lambda d: d.update(lab={"a": 1})), "error", "lab"),
        # ------------------------------------------------------------ network shape
        "network_missing.json": (s(lambda d: d.pop("network")), "error", "network"),
        "network_list.json": (s(lambda d: d.update(network=[])), "error", "network"),
        "nodes_object.json": (s(lambda d: d["network"].update(nodes={"a": 1})), "error",
                              "network.nodes"),
        "nodes_null.json": (s(lambda d: d["network"].update(nodes=None)), "error",
                            "network.nodes"),
        "nodes_strings.json": (s(lambda d: d["network"].update(nodes=["a", "b"])), "error",
                               "network.nodes[0]"),
        "projections_string.json": (s(lambda d: d["network"].update(projections="x")),
                                    "error", "network.projections"),
        "network_too_many_neurons.json": (s(lambda d: d["network"]["nodes"].extend(
            {"id": f"big{i}", "kind": "population", "model": "lif", "size": 10_000_000}
            for i in range(11))), "error", "network.nodes"),
        "network_unknown_key.json": (s(lambda d: d["network"].update(synapses=[])), "error",
                                     "network.synapses"),
        # ------------------------------------------------------------ node fields
        "node_id_empty.json": (s(lambda d: _node(d, 1).update(id="")), "error",
                               "network.nodes[1].id"),
        "node_id_number.json": (s(lambda d: _node(d, 1).update(id=7)), "error",
                                "network.nodes[1].id"),
        "node_id_null_byte.json": (s(lambda d: _node(d, 1).update(id="po\x00p")), "error",
                                   "network.nodes[1].id"),
        "node_id_trailing_newline.json": (s(lambda d: (_node(d, 1).update(id="pop\n"))),
                                          "error", "network.nodes[1].id"),
        "proj_id_trailing_newline.json": (s(lambda d: _proj(d).update(id="drive\n")),
                                          "error", "network.projections[0].id"),
        "scenario_id_trailing_newline.json": (s(lambda d: d.update(scenarios=[{
            "id": "s\n", "name": "S"}])), "error", "scenarios[0].id"),
        "node_id_unicode.json": (s(lambda d: _node(d, 1).update(id="pöp")), "error",
                                 "network.nodes[1].id"),
        "node_id_script.json": (s(lambda d: _node(d, 1).update(id=SCRIPT)), "error",
                                "network.nodes[1].id"),
        "node_id_huge.json": (s(lambda d: _node(d, 1).update(id="a" * 90_000)), "error",
                              "network.nodes[1].id"),
        "node_id_list.json": (s(lambda d: _node(d, 1).update(id=["pop"])), "error",
                              "network.nodes[1].id"),
        "node_duplicate_id.json": (s(lambda d: _node(d, 0).update(id="pop")), "error",
                                   "network.nodes[1].id"),
        "node_kind_unknown.json": (s(lambda d: _node(d, 1).update(kind="neuron")), "error",
                                   "network.nodes[1].kind"),
        "node_kind_list.json": (s(lambda d: _node(d, 1).update(kind=["population"])), "error",
                                "network.nodes[1].kind"),
        "node_model_unknown.json": (s(lambda d: _node(d, 1).update(model="hodgkin")), "error",
                                    "network.nodes[1].model"),
        "node_model_dict.json": (s(lambda d: _node(d, 1).update(model={"lif": 1})), "error",
                                 "network.nodes[1].model"),
        "node_model_proto.json": (s(lambda d: _node(d, 1).update(model="__class__")), "error",
                                  "network.nodes[1].model"),
        "node_size_zero.json": (s(lambda d: _node(d, 1).update(size=0)), "error",
                                "network.nodes[1].size"),
        "node_size_negative.json": (s(lambda d: _node(d, 1).update(size=-4)), "error",
                                    "network.nodes[1].size"),
        "node_size_float.json": (s(lambda d: _node(d, 1).update(size=2.5)), "error",
                                 "network.nodes[1].size"),
        "node_size_string.json": (s(lambda d: _node(d, 1).update(size="4")), "error",
                                  "network.nodes[1].size"),
        "node_size_bool.json": (s(lambda d: _node(d, 1).update(size=True)), "error",
                                "network.nodes[1].size"),
        "node_size_huge.json": (s(lambda d: _node(d, 1).update(size=10**12)), "error",
                                "network.nodes[1].size"),
        "node_params_list.json": (s(lambda d: _node(d, 1).update(params=[1, 2])), "error",
                                  "network.nodes[1].params"),
        "node_param_unknown.json": (s(lambda d: _node(d, 1)["params"].update(gain=2)), "error",
                                    "network.nodes[1].params.gain"),
        "node_param_string.json": (s(lambda d: _node(d, 1)["params"].update(tau_m="10")),
                                   "error", "network.nodes[1].params.tau_m"),
        "node_param_negative_tau.json": (s(lambda d: _node(d, 1)["params"].update(tau_m=-1)),
                                         "error", "network.nodes[1].params.tau_m"),
        "node_param_zero_tau.json": (s(lambda d: _node(d, 1)["params"].update(tau_m=0)),
                                     "error", "network.nodes[1].params.tau_m"),
        "node_param_huge_tau.json": (s(lambda d: _node(d, 1)["params"].update(tau_m=1e300)),
                                     "error", "network.nodes[1].params.tau_m"),
        "node_preset_unknown.json": (s(lambda d: _node(d, 1).update(
            model="izhikevich", params={"preset": "zombie"})), "error",
            "network.nodes[1].params.preset"),
        "node_preset_list.json": (s(lambda d: _node(d, 1).update(
            model="izhikevich", params={"preset": ["regular_spiking"]})), "error",
            "network.nodes[1].params.preset"),
        "node_label_script.json": (s(lambda d: _node(d, 1).update(label=SCRIPT)), "ok", None),
        "node_label_huge.json": (s(lambda d: _node(d, 1).update(label="l" * 1000)), "error",
                                 "network.nodes[1].label"),
        "node_label_number.json": (s(lambda d: _node(d, 1).update(label=3)), "error",
                                   "network.nodes[1].label"),
        "node_unknown_key.json": (s(lambda d: _node(d, 1).update(__proto__={"x": 1})), "error",
                                  "network.nodes[1].__proto__"),
        "node_target_on_population.json": (s(lambda d: _node(d, 1).update(target="input")),
                                           "error", "network.nodes[1].target"),
        # ------------------------------------------------------------ encoders
        "encoder_rate_negative.json": (s(lambda d: _node(d, 0)["params"].update(rate_hz=-5)),
                                       "error", "network.nodes[0].params.rate_hz"),
        "encoder_rate_huge.json": (s(lambda d: _node(d, 0)["params"].update(rate_hz=1e12)),
                                   "error", "network.nodes[0].params.rate_hz"),
        "encoder_rate_table_bad.json": (s(lambda d: _node(d, 0)["params"].update(
            rate_table=[[10, 5], [5, "x"]])), "error", "network.nodes[0].params.rate_table"),
        "encoder_stop_before_start.json": (s(lambda d: _node(d, 0)["params"].update(
            start_ms=50, stop_ms=10)), "error", "network.nodes[0].params.stop_ms"),
        "encoder_stop_huge.json": (s(lambda d: _node(d, 0)["params"].update(stop_ms=1e14)),
                                   "error", "network.nodes[0].params.stop_ms"),
        "encoder_regular_phase_step_huge.json": (s(lambda d: _node(d, 0).update(
            model="regular", size=1000, params={"rate_hz": 5, "phase_step_ms": 1e9})),
            "error", "network.nodes[0].params.phase_step_ms"),
        "encoder_delta_sample_tiny.json": (s(lambda d: _node(d, 0).update(
            model="delta", size=2, params={"sample_ms": 1e-6})), "any", None),
        "encoder_latency_period_tiny.json": (s(lambda d: _node(d, 0).update(
            model="latency", size=3, params={"period_ms": 1e-6})), "any", None),
        "encoder_spike_times_ragged.json": (s(lambda d: _node(d, 0).update(
            model="spike_times", size=2, params={"times_ms": [[1.0, 2.0], "x"]})), "error",
            "network.nodes[0].params.times_ms"),
        "encoder_spike_times_negative.json": (s(lambda d: _node(d, 0).update(
            model="spike_times", size=1, params={"times_ms": [[-1.0]]})), "error",
            "network.nodes[0].params.times_ms"),
        "encoder_latency_size_mismatch.json": (s(lambda d: _node(d, 0).update(
            model="latency", size=9, params={"values": [0.5]})), "error",
            "network.nodes[0].size"),
        # ------------------------------------------------------------ monitors
        "monitor_self_target.json": (s(lambda d: _node(d, 2).update(target="mon")), "error",
                                     "network.nodes[2].target"),
        "monitor_target_missing.json": (s(lambda d: _node(d, 2).update(target="ghost")),
                                        "error", "network.nodes[2].target"),
        "monitor_target_list.json": (s(lambda d: _node(d, 2).update(target=["pop"])), "error",
                                     "network.nodes[2].target"),
        "monitor_target_encoder.json": (s(lambda d: _node(d, 2).update(target="input")),
                                        "error", "network.nodes[2].target"),
        "monitor_neuron_out_of_range.json": (s(lambda d: _node(d, 2)["params"].update(
            neurons=[0, 99])), "error", "network.nodes[2].params.neurons[1]"),
        "monitor_neuron_negative.json": (s(lambda d: _node(d, 2)["params"].update(
            neurons=[-1])), "error", "network.nodes[2].params.neurons"),
        "monitor_variable_unknown.json": (s(lambda d: _node(d, 2)["params"].update(
            variables=["__dict__"])), "error", "network.nodes[2].params.variables[0]"),
        "monitor_variables_dict.json": (s(lambda d: _node(d, 2)["params"].update(
            variables={"v": 1})), "error", "network.nodes[2].params.variables"),
        "monitor_interval_zero.json": (s(lambda d: _node(d, 2)["params"].update(
            interval_ms=0)), "error", "network.nodes[2].params.interval_ms"),
        "monitor_with_size.json": (s(lambda d: _node(d, 2).update(size=3)), "error",
                                   "network.nodes[2].size"),
        # ------------------------------------------------------------ projections
        "proj_dangling_source.json": (s(lambda d: _proj(d).update(source="ghost")), "error",
                                      "network.projections[0].source"),
        "proj_dangling_target.json": (s(lambda d: _proj(d).update(target="ghost")), "error",
                                      "network.projections[0].target"),
        "proj_target_encoder.json": (s(lambda d: _proj(d).update(target="input")), "error",
                                     "network.projections[0].target"),
        "proj_source_monitor.json": (s(lambda d: _proj(d).update(source="mon")), "error",
                                     "network.projections[0].source"),
        "proj_source_list.json": (s(lambda d: _proj(d).update(source=["input"])), "error",
                                  "network.projections[0].source"),
        "proj_duplicate_id.json": (s(lambda d: d["network"]["projections"].append(
            copy.deepcopy(_proj(d)))), "error", "network.projections[1].id"),
        "proj_id_clashes_node.json": (s(lambda d: _proj(d).update(id="pop")), "error",
                                      "network.projections[0].id"),
        "proj_cycle_self_loop.json": (s(lambda d: d["network"]["projections"].append(
            {"id": "loop", "source": "pop", "target": "pop", "weight": 0.5,
             "delay_ms": 1.0})), "ok", None),
        "proj_p_above_one.json": (s(lambda d: _proj(d)["connectivity"].update(p=1.5)),
                                  "error", "network.projections[0].connectivity.p"),
        "proj_p_negative.json": (s(lambda d: _proj(d)["connectivity"].update(p=-0.1)),
                                 "error", "network.projections[0].connectivity.p"),
        "proj_p_string.json": (s(lambda d: _proj(d)["connectivity"].update(p="0.5")), "error",
                               "network.projections[0].connectivity.p"),
        "proj_indegree_above_size.json": (s(lambda d: _proj(d).update(
            connectivity={"rule": "fixed_indegree", "k": 50})), "error",
            "network.projections[0].connectivity.k"),
        "proj_indegree_huge.json": (s(lambda d: _proj(d).update(
            connectivity={"rule": "fixed_indegree", "k": 10**14})), "error",
            "network.projections[0].connectivity.k"),
        "proj_indegree_zero.json": (s(lambda d: _proj(d).update(
            connectivity={"rule": "fixed_indegree", "k": 0})), "error",
            "network.projections[0].connectivity.k"),
        "proj_rule_unknown.json": (s(lambda d: _proj(d).update(
            connectivity={"rule": "everything"})), "error",
            "network.projections[0].connectivity.rule"),
        "proj_rule_list.json": (s(lambda d: _proj(d).update(connectivity={"rule": ["x"]})),
                                "error", "network.projections[0].connectivity.rule"),
        "proj_connectivity_string.json": (s(lambda d: _proj(d).update(connectivity="all")),
                                          "error", "network.projections[0].connectivity"),
        "proj_matrix_wrong_shape.json": (s(lambda d: _proj(d).update(
            connectivity={"rule": "matrix", "weights": [[1.0, 2.0]]})), "error",
            "network.projections[0].connectivity.weights"),
        "proj_matrix_ragged.json": (s(lambda d: _proj(d).update(
            connectivity={"rule": "matrix", "weights": [[1.0], [1.0, 2.0], [], 5]})), "error",
            "network.projections[0].connectivity.weights"),
        "proj_one_to_one_size_mismatch.json": (s(lambda d: (_node(d, 0).update(size=3),
                                                            _proj(d).update(connectivity={
                                                                "rule": "one_to_one"}))),
                                               "error", "network.projections[0].connectivity"),
        "proj_weight_huge.json": (s(lambda d: _proj(d).update(weight=1e300)), "error",
                                  "network.projections[0].weight"),
        "proj_weight_string.json": (s(lambda d: _proj(d).update(weight="2")), "error",
                                    "network.projections[0].weight"),
        "proj_weight_negative_exc.json": (s(lambda d: _proj(d).update(weight=-2)), "error",
                                          "network.projections[0].weight"),
        "proj_weight_normal_mean_huge.json": (s(lambda d: _proj(d).update(
            weight={"dist": "normal", "mean": 1e200, "std": 1.0})), "error",
            "network.projections[0].weight.mean"),
        "proj_weight_normal_std_negative.json": (s(lambda d: _proj(d).update(
            weight={"dist": "normal", "mean": 1.0, "std": -1.0})), "error",
            "network.projections[0].weight.std"),
        "proj_weight_uniform_huge.json": (s(lambda d: _proj(d).update(
            weight={"dist": "uniform", "low": -1e308, "high": 1e308})), "error",
            "network.projections[0].weight"),
        "proj_weight_uniform_reversed.json": (s(lambda d: _proj(d).update(
            weight={"dist": "uniform", "low": 3.0, "high": 1.0})), "error",
            "network.projections[0].weight.high"),
        "proj_weight_dist_unknown.json": (s(lambda d: _proj(d).update(
            weight={"dist": "cauchy", "loc": 0})), "error",
            "network.projections[0].weight.dist"),
        "proj_weight_dist_list.json": (s(lambda d: _proj(d).update(weight={"dist": []})),
                                       "error", "network.projections[0].weight.dist"),
        "proj_weight_dist_extra.json": (s(lambda d: _proj(d).update(
            weight={"dist": "normal", "mean": 1, "std": 1, "eval": "x"})), "error",
            "network.projections[0].weight.eval"),
        "proj_delay_off_grid.json": (s(lambda d: _proj(d).update(delay_ms=0.05)), "error",
                                     "network.projections[0].delay_ms"),
        "proj_delay_negative.json": (s(lambda d: _proj(d).update(delay_ms=-1.0)), "error",
                                     "network.projections[0].delay_ms"),
        "proj_delay_huge.json": (s(lambda d: _proj(d).update(delay_ms=1e12)), "error",
                                 "network.projections[0].delay_ms"),
        "proj_delay_normal_huge_std.json": (s(lambda d: _proj(d).update(
            delay_ms={"dist": "normal", "mean": 1.0, "std": 1e300})), "error",
            "network.projections[0].delay_ms.std"),
        "proj_delay_uniform_huge.json": (s(lambda d: _proj(d).update(
            delay_ms={"dist": "uniform", "low": 0.0, "high": 1e9})), "error",
            "network.projections[0].delay_ms.high"),
        "proj_receptor_unknown.json": (s(lambda d: _proj(d).update(receptor="glu")), "error",
                                       "network.projections[0].receptor"),
        "proj_receptor_list.json": (s(lambda d: _proj(d).update(receptor=["exc"])), "error",
                                    "network.projections[0].receptor"),
        "proj_plasticity_unknown.json": (s(lambda d: _proj(d).update(
            plasticity={"rule": "magic"})), "error", "network.projections[0].plasticity.rule"),
        "proj_plasticity_string.json": (s(lambda d: _proj(d).update(plasticity="stdp")),
                                        "error", "network.projections[0].plasticity"),
        "proj_plasticity_w_max_huge.json": (s(lambda d: _proj(d).update(
            plasticity={"rule": "stdp", "w_max": 1e11})), "error",
            "network.projections[0].plasticity.w_max"),
        "proj_plasticity_inverted_bounds.json": (s(lambda d: _proj(d).update(
            plasticity={"rule": "stdp", "w_min": 5.0, "w_max": 1.0})), "error",
            "network.projections[0].plasticity.w_max"),
        "proj_record_weights_bad_pairs.json": (s(lambda d: _proj(d).update(
            record_weights={"every_ms": 10, "synapses": [[0], [1, "x"], [99, 99], 7]})),
            "error", "network.projections[0].record_weights.synapses[0]"),
        "proj_record_weights_every_zero.json": (s(lambda d: _proj(d).update(
            record_weights={"every_ms": 0, "synapses": []})), "error",
            "network.projections[0].record_weights.every_ms"),
        "proj_record_weights_every_huge.json": (s(lambda d: _proj(d).update(
            record_weights={"every_ms": 1e14, "synapses": []})), "error",
            "network.projections[0].record_weights.every_ms"),
        "proj_record_weights_list.json": (s(lambda d: _proj(d).update(
            record_weights=[1, 2])), "error", "network.projections[0].record_weights"),
        "proj_label_control.json": (s(lambda d: _proj(d).update(label="a\x07b")), "error",
                                    "network.projections[0].label"),
        # ------------------------------------------------------------ simulation
        "sim_list.json": (s(lambda d: d.update(simulation=[1])), "error", "simulation"),
        "sim_dt_zero.json": (s(lambda d: d["simulation"].update(dt_ms=0)), "error",
                             "simulation.dt_ms"),
        "sim_dt_negative.json": (s(lambda d: d["simulation"].update(dt_ms=-0.1)), "error",
                                 "simulation.dt_ms"),
        "sim_duration_zero.json": (s(lambda d: d["simulation"].update(duration_ms=0)), "error",
                                   "simulation.duration_ms"),
        "sim_duration_huge.json": (s(lambda d: d["simulation"].update(duration_ms=1e300)),
                                   "error", "simulation.duration_ms"),
        "sim_too_many_steps.json": (s(lambda d: d["simulation"].update(
            duration_ms=1e7, dt_ms=0.001)), "error", "simulation.duration_ms"),
        "sim_long_duration_ok.json": (s(lambda d: d["simulation"].update(
            duration_ms=1e8, dt_ms=1.0)), "ok", None),
        "sim_seed_negative.json": (s(lambda d: d["simulation"].update(seed=-1)), "error",
                                   "simulation.seed"),
        "sim_seed_huge.json": (s(lambda d: d["simulation"].update(seed=2**70)), "error",
                               "simulation.seed"),
        "sim_seed_string.json": (s(lambda d: d["simulation"].update(seed="1")), "error",
                                 "simulation.seed"),
        "sim_count_bin_zero.json": (s(lambda d: d["simulation"].update(count_bin_ms=0)),
                                    "error", "simulation.count_bin_ms"),
        "sim_memory_budget_huge.json": (s(lambda d: d["simulation"].update(
            memory_budget_mb=1e12)), "error", "simulation.memory_budget_mb"),
        "sim_record_spikes_unknown.json": (s(lambda d: d["simulation"].update(
            record_spikes=["ghost", "mon"])), "error", "simulation.record_spikes[0]"),
        "sim_record_spikes_number.json": (s(lambda d: d["simulation"].update(
            record_spikes=3)), "error", "simulation.record_spikes"),
        "sim_unknown_key.json": (s(lambda d: d["simulation"].update(turbo=64)), "error",
                                 "simulation.turbo"),
        "sim_threads_huge.json": (s(lambda d: d["simulation"].update(threads=10**6)), "error",
                                  "simulation.threads"),
        # ------------------------------------------------------------ layout
        "layout_list.json": (s(lambda d: d.update(layout=[])), "error", "layout"),
        "layout_positions_list.json": (s(lambda d: d["layout"].update(positions=[1, 2])),
                                       "error", "layout.positions"),
        "layout_position_huge.json": (s(lambda d: d["layout"]["positions"].update(
            pop=[1e300, 0])), "error", "layout.positions.pop"),
        "layout_position_bad.json": (s(lambda d: d["layout"]["positions"].update(
            pop=["x", None, 3])), "error", "layout.positions.pop"),
        "layout_position_key_script.json": (s(lambda d: d["layout"]["positions"].update(
            {SCRIPT: [1, 2]})), "any", None),
        "layout_viewport_string.json": (s(lambda d: d["layout"].update(viewport="zoom")),
                                        "error", "layout.viewport"),
        "layout_viewport_string_value.json": (s(lambda d: d["layout"]["viewport"].update(
            k="1")), "error", "layout.viewport.k"),
        "layout_viewport_huge.json": (s(lambda d: d["layout"]["viewport"].update(k=1e200)),
                                      "error", "layout.viewport.k"),
        "layout_viewport_list_ok.json": (s(lambda d: d["layout"].update(viewport=[10, -5, 1.5])),
                                         "ok", None),
        "layout_viewport_list_nan.json": (_with_viewport("[0, NaN, 1]"), "error",
                                          "layout.viewport[1]"),
        "layout_unknown_key.json": (s(lambda d: d["layout"].update(theme="dark")), "error",
                                    "layout.theme"),
        "key_huge.json": (s(lambda d: d["layout"]["positions"].update({"k" * 5000: [0, 0]})),
                          "error", "layout.positions"),
        "key_null_byte.json": (s(lambda d: d["layout"]["positions"].update({"a\x00": [0, 0]})),
                               "error", "layout.positions"),
        # ------------------------------------------------------------ energy, scenarios
        "energy_list.json": (s(lambda d: d.update(energy=[1])), "error", "energy"),
        "energy_profiles_string.json": (s(lambda d: d.update(energy={"profiles": "x"})),
                                        "error", "energy"),
        "energy_profile_garbage.json": (s(lambda d: d.update(energy={"profiles": {
            "hack": {"kind": ["x"], "name": 5, "figures": None}}})), "error", "energy"),
        "energy_profile_bad_id.json": (s(lambda d: d.update(energy={"profiles": {
            SCRIPT: {}}})), "error", "energy"),
        "energy_profile_inf.json": (json.dumps(_doc(lambda d: d.update(energy={"profiles": {
            "hw": {"name": "x", "kind": "QQQ"}}}))).replace('"QQQ"', "1e999"), "error",
            "energy.profiles.hw.kind"),
        "scenarios_object.json": (s(lambda d: d.update(scenarios={"a": 1})), "error",
                                  "scenarios"),
        "scenarios_garbage.json": (s(lambda d: d.update(scenarios=[1, None, "x", []])),
                                   "error", "scenarios[0]"),
        "scenario_unhashable_fields.json": (s(lambda d: d.update(scenarios=[{
            "id": "s", "name": "S", "input": {"pattern": ["frames"], "model": {"a": 1}},
            "targets": [[]], "tags": {"a": []}}])), "error", "scenarios[0]"),
        "scenario_huge_duration.json": (s(lambda d: d.update(scenarios=[{
            "id": "s", "name": "S", "duration_ms": 1e14}])), "error",
            "scenarios[0].duration_ms"),
        "scenario_rates_negative.json": (s(lambda d: d.update(scenarios=[{
            "id": "s", "name": "S", "input": {"rate_hz": -1, "period_ms": 0}}])), "error",
            "scenarios[0].input"),
        "scenario_script_text.json": (s(lambda d: d.update(scenarios=[{
            "id": "s", "name": SCRIPT, "description": SCRIPT}])), "ok", None),
    }
    return cases


def _raw_cases() -> dict[str, Case]:
    text = json.dumps(BASE)
    return {
        "empty.json": (b"", "error", ""),
        "whitespace_only.json": (b" \n\t ", "error", ""),
        "not_utf8.bin": (b"\xff\xfe\x00{" + text.encode() + b"\xc3\x28", "error", ""),
        "latin1_name.bin": (text.replace("Hostile base", "Caf\xe9").encode("latin-1"),
                            "error", ""),
        "utf16.bin": (text.encode("utf-16"), "error", ""),
        "bom_bytes.bin": (b"\xef\xbb\xbf" + text.encode(), "ok", None),
        "null_bytes_raw.bin": (text.encode()[:50] + b"\x00\x00" + text.encode()[50:], "error",
                               ""),
        "binary_garbage.bin": (bytes(range(256)) * 4, "error", ""),
    }


def small_cases() -> dict[str, Case]:
    """Every committed case: name -> (document or raw text/bytes, outcome, path)."""
    return {**_document_cases(), **_raw_cases()}


def to_bytes(content: Any) -> bytes:
    """The file content of a case (documents are written as compact JSON)."""
    if isinstance(content, bytes):
        return content
    if isinstance(content, str):
        return content.encode("utf-8", "surrogatepass")
    return json.dumps(content).encode("utf-8")


def _big_network() -> str:
    node = '{"id": "n%d", "kind": "population", "model": "lif", "size": 1}'
    many = ", ".join(node % i for i in range(1_300_000))
    return json.dumps(BASE).replace('"nodes": [', f'"nodes": [{many}, ', 1)


def _nodes(count: int) -> Doc:
    return _doc(lambda d: d["network"].update(nodes=[
        {"id": f"n{i}", "kind": "population", "model": "lif", "size": 1}
        for i in range(count)]))


#: Cases too large to commit: name -> (builder, outcome, path), built at test time.
BIG_CASES: dict[str, tuple[Callable[[], Any], str, str | None]] = {
    "big_1_3M_nodes.json": (_big_network, "error", ""),
    "big_1_3M_string_nodes.json": (lambda: _doc(lambda d: d["network"].update(
        nodes=[f"n{i}" for i in range(1_300_000)])), "error", ""),
    "big_10001_nodes.json": (lambda: _nodes(10_001), "error", "network.nodes"),
    "big_25MB_lab.json": (lambda: _doc(lambda d: d.update(lab="x" * (25 * 2**20))), "error",
                          ""),
    "big_lab_one_string_5MB.json": (lambda: _doc(lambda d: d.update(lab="y" * (5 * 2**20))),
                                    "error", "lab"),
    "big_deep_100k.json": (lambda: "[" * 100_000 + "]" * 100_000, "error", ""),
    "big_deep_objects_50k.json": (lambda: '{"a":' * 50_000 + "1" + "}" * 50_000, "error", ""),
    "big_flat_list_2M.json": (lambda: _doc(lambda d: d.update(lab=[0] * 2_000_000)), "error",
                              ""),
    "big_many_keys.json": (lambda: _doc(lambda d: d["layout"].update(
        positions={f"k{i}": [0, 0] for i in range(300_000)})), "error", ""),
}


def write_small_cases() -> None:
    """Rewrite the committed case files and expected.json."""
    expected = {}
    for name, (content, outcome, path) in small_cases().items():
        data = to_bytes(content)
        assert len(data) < 200_000, name
        (HERE / name).write_bytes(data)
        expected[name] = {"outcome": outcome, "path": path}
    (HERE / "expected.json").write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    write_small_cases()
    print(f"wrote {len(small_cases())} cases to {HERE}", file=sys.stderr)
