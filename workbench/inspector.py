"""The inspector: parameter forms for the selected node or projection.

Forms are generated from the engine's parameter specs (units, defaults, ranges, docs). A value
that fails its spec never leaves the form; a value that passes is applied as an undoable edit,
and the whole document is re-validated by the engine, whose messages come back inline.

Text that is not a valid value stays in its input and is reported to :class:`PendingInputs`
under a field path (``simulation.dt_ms``, ``network.nodes[exc].params.tau_m``,
``network.projections[p].weight.value``), so the app can refuse to run and restore the text
when the inspector is rebuilt.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import panel as pn

from engine.connectivity.rules import CONNECTIVITY_RULES
from engine.core.per_neuron import document_values
from engine.encoders import CURRENT_ENCODERS, ENCODER_MODELS
from engine.errors import Problem
from engine.hetero.values import (
    DISTS,
    dist_specs,
    fitted_distribution,
    is_per_neuron,
    mean_value,
    per_neuron_spec,
    summary_text,
)
from engine.monitors.specs import MONITOR_SPECS
from engine.neurons import NEURON_MODELS
from engine.params import ParamSpec
from engine.plasticity import PLASTICITY_RULES
from engine.project import MAX_SIZE, SIMULATION_SPECS
from widgets.param_form import ParamForm
from widgets.value_histogram import value_histogram
from workbench import edits
from workbench.style import html_pane, markdown_html, text_html

EditFn = Callable[..., Any]
Apply = Callable[..., None]   # apply(edit_function, *args) performs an undoable edit

_ITEM = re.compile(r"^network\.(nodes|projections)\[(\d+)\](?:\.(.*))?$")

WEIGHT_MODES = {
    "constant": (ParamSpec("value", "mV", 1.0, "Weight of every synapse (signed: >= 0 "
                           "excitatory, <= 0 inhibitory).", minimum=-1e6, maximum=1e6),),
    "uniform": (ParamSpec("low", "mV", 0.5, "Lowest weight.", minimum=-1e6, maximum=1e6),
                ParamSpec("high", "mV", 1.5, "Highest weight.", minimum=-1e6, maximum=1e6)),
    "normal": (ParamSpec("mean", "mV", 1.0, "Mean weight (draws are clipped to the sign of "
                         "the receptor).", minimum=-1e6, maximum=1e6),
               ParamSpec("std", "mV", 0.2, "Standard deviation.", minimum=0.0, maximum=1e6)),
}
DELAY_MODES = {
    "constant": (ParamSpec("value", "ms", 0.1, "Axonal delay (a multiple of dt).",
                           minimum=0.0, maximum=6000.0),),
    "uniform": (ParamSpec("low", "ms", 0.5, "Shortest delay.", minimum=0.0, maximum=6000.0),
                ParamSpec("high", "ms", 2.0, "Longest delay.", minimum=0.0, maximum=6000.0)),
}


@dataclass
class PendingInputs:
    """Invalid texts of a session's inputs by field path, and where to report changes.

    ``texts`` are restored into rebuilt forms; ``report(path, text, message)`` is called when
    an input starts holding an invalid text (``message`` set) or holds a valid one again
    (``None, None``); ``shown`` collects the paths of every field rendered, so the caller can
    forget invalid texts of fields that no longer exist (e.g. after a model change).
    """

    texts: dict[str, str] = dataclasses.field(default_factory=dict)
    report: Callable[[str, str | None, str | None], Any] = lambda path, text, message: None
    shown: set[str] = dataclasses.field(default_factory=set)

    def attach(self, form: ParamForm, prefix: str) -> ParamForm:
        """Restore ``form``'s pending texts and report its changes under ``prefix``."""
        names = [spec.name for spec in form.specs]
        self.shown.update(prefix + name for name in names)
        restored = {name: self.texts[prefix + name] for name in names
                    if prefix + name in self.texts}
        if restored:
            form.pending = restored
        form.on_pending(lambda name, text, message: self.report(prefix + name, text, message))
        return form


def item_prefix(group: str, item_id: str) -> str:
    """Field path prefix of a node (``group="nodes"``) or projection, e.g. ``network.nodes[a].``"""
    return f"network.{group}[{item_id}]."


def size_spec() -> ParamSpec:
    """The node size as a parameter: a whole number in [1, MAX_SIZE]."""
    return ParamSpec("size", "", 1, "Number of neurons (encoders: input channels).",
                     kind="int", minimum=1, maximum=MAX_SIZE, label="Size (neurons)")


def item_problems(document: dict, problems: list[Problem]) -> dict[str, list[tuple[str, str]]]:
    """Problems grouped by node/projection id as ``(field path within the item, message)``."""
    network = document.get("network", {})
    out: dict[str, list[tuple[str, str]]] = {}
    for problem in problems:
        match = _ITEM.match(problem.path)
        if not match:
            continue
        group, index, rest = match.group(1), int(match.group(2)), match.group(3) or ""
        items = network.get(group, [])
        if index < len(items) and isinstance(items[index], dict):
            out.setdefault(str(items[index].get("id")), []).append((rest, problem.message))
    return out


def _value_or_dist(value: Any) -> tuple[str, dict[str, Any]]:
    if isinstance(value, dict):
        return value.get("dist", "uniform"), {k: v for k, v in value.items() if k != "dist"}
    return "constant", {"value": value}


def _from_mode(mode: str, values: dict[str, Any]) -> Any:
    return values["value"] if mode == "constant" else {"dist": mode, **values}


def _form(specs, values, problems: dict[str, str], on_change, title: str = "",
          pending: PendingInputs | None = None, prefix: str = "") -> ParamForm:
    form = ParamForm(specs=list(specs), values=dict(values), problems=problems, title=title)
    if pending is not None:
        pending.attach(form, prefix)
    form.on_change(on_change)
    return form


def _sub_problems(item_issues: list[tuple[str, str]], prefix: str) -> dict[str, str]:
    """Problems under ``prefix`` keyed by their first field name after it."""
    out = {}
    for path, message in item_issues:
        if path == prefix.rstrip("."):
            out.setdefault("", message)
        elif path.startswith(prefix):
            out.setdefault(path[len(prefix):].split(".")[0].split("[")[0], message)
    return out


def _select(name: str, options, value, on_change, **kwargs) -> pn.widgets.Select:
    widget = pn.widgets.Select(label=name, options=options, value=value,
                               sizing_mode="stretch_width", **kwargs)
    widget.param.watch(lambda event: on_change(event.new), "value")
    return widget


def _issues_html(issues: list[tuple[str, str]]) -> pn.pane.HTML:
    if not issues:
        return html_pane("", visible=False)
    rows = "".join(f"<li><code>{text_html(path or 'item')}</code>: {text_html(msg)}</li>"
                   for path, msg in issues)
    return html_pane(f'<ul class="ss-item-problems">{rows}</ul>',
                        sizing_mode="stretch_width", css_classes=["ss-problems"])


def _doc_pane(markdown: str, testid: str = "model-doc") -> pn.pane.HTML:
    """Markdown (a model's doc or the project description) as sanitised HTML, never raw."""
    return html_pane(f'<div class="ss-model-doc" data-testid="{testid}">'
                     f'{markdown_html(markdown)}</div>', sizing_mode="stretch_width")


def node_inspector(document: dict, node: dict, issues: list[tuple[str, str]],
                   apply: Apply, pending: PendingInputs | None = None) -> list:
    """Widgets editing one node."""
    nid = node["id"]
    base = item_prefix("nodes", nid)
    kind = node["kind"]
    parts: list = [html_pane(
        f'<div class="ss-insp-title" data-testid="inspector-title">{text_html(kind.title())} '
        f'<b>{text_html(nid)}</b></div>', sizing_mode="stretch_width")]
    label = pn.widgets.TextInput(label="Label", value=node.get("label", ""),
                                 sizing_mode="stretch_width")
    label.param.watch(lambda e: apply(edits.set_node_field, nid, "label", e.new), "value")
    parts.append(label)
    if kind == "monitor":
        populations = [n["id"] for n in document["network"]["nodes"]
                       if n["kind"] == "population"]
        parts.append(_select("Records population", populations, node.get("target"),
                             lambda v: apply(edits.set_node_field, nid, "target", v)))
        parts.append(_form(MONITOR_SPECS, node.get("params", {}),
                           _sub_problems(issues, "params."),
                           lambda name, value: apply(edits.set_node_param, nid, name, value),
                           pending=pending, prefix=f"{base}params."))
        parts.append(_issues_html([i for i in issues if not i[0].startswith("params.")]))
        return parts
    registry = NEURON_MODELS if kind == "population" else ENCODER_MODELS
    parts.append(_select("Model", {m.title: k for k, m in registry.items()}, node["model"],
                         lambda v: apply(edits.set_node_field, nid, "model", v)))
    # A checked text field, not an IntInput clamped to [start, end]: 0 or 10^8 snapped back.
    size_problems = dict(i for i in issues if i[0] == "size")
    parts.append(_form([size_spec()], {"size": node.get("size", 1)}, size_problems,
                       lambda name, value: apply(edits.set_node_field, nid, "size", value),
                       pending=pending, prefix=base))
    if nid in edits.spike_nodes(document):
        record = pn.widgets.Checkbox(label="Record its spikes",
                                     value=nid in edits.recorded_nodes(document),
                                     css_classes=["ss-record-node"])
        record.param.watch(lambda e: apply(edits.record_spikes_of, nid, e.new), "value")
        parts.append(record)
    spec = registry.get(node["model"])
    if spec is None:
        return parts
    params = node.get("params", {})
    if spec.presets:
        options = ["(none)"] + list(spec.presets)
        parts.append(_select("Preset", options, params.get("preset", "(none)"),
                             lambda v: apply(edits.set_node_param, nid, "preset",
                                             None if v == "(none)" else v)))
    try:
        values = spec.resolve(params)
    except KeyError:
        values = dict(params)
    # Per-neuron values get their own editor (a number field cannot show them).
    varied = [p for p in spec.params if kind == "population" and per_neuron_spec(p)
              and is_per_neuron(params.get(p.name))]
    parts.append(_form([p for p in spec.params if p not in varied], values,
                       _sub_problems(issues, "params."),
                       lambda name, value: apply(edits.set_node_param, nid, name, value),
                       pending=pending, prefix=f"{base}params."))
    for p in varied:
        parts += _per_neuron_editor(document, nid, p, params[p.name], issues, apply, pending,
                                    base)
    if kind == "population":
        parts += _make_per_neuron(nid, [p.name for p in spec.params if per_neuron_spec(p)
                                        and p not in varied], apply)
    parts.append(_doc_pane(spec.doc))
    parts.append(_issues_html([i for i in issues
                               if not i[0].startswith("params.") and i[0] != "size"]))
    return parts


def _make_per_neuron(nid: str, names: list[str], apply: Apply) -> list:
    """Two selects turning a shared number into a distribution centred on it (one edit)."""
    if not names:
        return []
    dist = _select("Vary per neuron as", list(DISTS), "normal", lambda v: None,
                   css_classes=["ss-vary-dist"])
    none = "(choose a parameter)"

    def vary(name: str) -> None:
        if name != none:
            apply(edits.vary_per_neuron, nid, name, dist.value)

    choose = _select("Make per neuron", [none, *names], none, vary,
                     css_classes=["ss-make-per-neuron"])
    return [pn.Row(dist, choose, sizing_mode="stretch_width")]


def _per_neuron_editor(document: dict, nid: str, spec: ParamSpec, value: Any,
                       issues: list[tuple[str, str]], apply: Apply,
                       pending: PendingInputs | None, base: str) -> list:
    """A per-neuron parameter: its summary (text), a histogram of the values a run uses, and
    its distribution, editable."""
    name = spec.name
    # The values the simulator uses (drawn from the project's seed); None while invalid.
    resolved = document_values(document, nid, name)
    lines = [summary_text(value, spec.unit)]
    if resolved is not None and not isinstance(value, list):
        lines.append("drawn: " + summary_text(resolved, spec.unit).removeprefix("per neuron: "))
    summary = html_pane(f'<div class="ss-per-neuron" data-testid="per-neuron-{name}">'
                        f'<b>{text_html(name)}</b>: '
                        + "<br>".join(text_html(line) for line in lines) + '</div>',
                        sizing_mode="stretch_width")
    mode = value.get("dist") if isinstance(value, dict) and "dist" in value else (
        "array" if isinstance(value, dict) else "list")
    keep = {"list": "list of values (kept)", "array": "array (kept)"}
    options = {**({keep[mode]: mode} if mode in keep else {}),
               "one value (the mean)": "constant", **{d: d for d in DISTS}}

    def choose(choice: str) -> None:
        if choice == mode:
            return
        if choice == "constant":
            mean = mean_value(value)
            new = spec.default if mean is None else mean
        elif mode in DISTS:  # a new distribution starts from the old one's draws
            sample = [] if resolved is None else resolved.tolist()
            new = fitted_distribution(sample, choice)
        else:
            new = fitted_distribution(value if isinstance(value, list) else [], choice)
        apply(edits.set_node_param, nid, name, new)

    parts: list = [summary, _select(f"{name} per neuron", options, mode, choose,
                                    css_classes=[f"ss-per-neuron-mode-{name}"])]
    if resolved is not None:
        label = f"{name} ({spec.unit})" if spec.unit else name
        parts.append(value_histogram(resolved, label, f"ss-hist-{name}"))
    if mode in DISTS:
        fields = {k: v for k, v in value.items() if k != "dist"}

        def on_value(key: str, number: Any) -> None:
            apply(edits.set_node_param, nid, name, {**value, key: number})

        parts.append(_form(dist_specs(spec, mode), fields,
                           _sub_problems(issues, f"params.{name}."), on_value,
                           pending=pending, prefix=f"{base}params.{name}."))
    problems = [(path, msg) for path, msg in issues
                if path == f"params.{name}" or path.startswith(f"params.{name}[")]
    parts.append(_issues_html(problems))
    return parts


def projection_inspector(document: dict, proj: dict, issues: list[tuple[str, str]],
                         apply: Apply, pending: PendingInputs | None = None) -> list:
    """Widgets editing one projection."""
    pid = proj["id"]
    base = item_prefix("projections", pid)
    source = edits.find_node(document, proj["source"])
    current = source["model"] in CURRENT_ENCODERS
    parts: list = [html_pane(
        f'<div class="ss-insp-title" data-testid="inspector-title">Projection '
        f'<b>{text_html(pid)}</b><div class="ss-insp-sub">{text_html(proj["source"])} '
        f'&rarr; {text_html(proj["target"])}</div></div>',
        sizing_mode="stretch_width")]

    def set_field(field: str) -> Callable[[Any], None]:
        return lambda value: apply(edits.set_projection_field, pid, field, value)

    parts.append(_select("Receptor", {"excitatory": "exc", "inhibitory": "inh"},
                         proj.get("receptor", "exc"), set_field("receptor")))
    conn = dict(proj.get("connectivity", {"rule": "all_to_all"}))
    rule = conn.get("rule", "all_to_all")
    parts.append(_select("Connectivity", {m.title: k for k, m in CONNECTIVITY_RULES.items()},
                         rule, lambda v: apply(edits.set_projection_field, pid,
                                               "connectivity", {"rule": v})))
    # Autapses (i -> i) only exist when a projection connects a node to itself.
    rule_specs = [s for s in CONNECTIVITY_RULES[rule].params if s.name != "allow_autapses"
                  or proj["source"] == proj["target"]] if rule in CONNECTIVITY_RULES else []
    if rule_specs:
        parts.append(_form(rule_specs, conn, _sub_problems(issues, "connectivity."),
                           lambda name, value: apply(edits.set_projection_field, pid,
                                                     "connectivity", {**conn, name: value}),
                           pending=pending, prefix=f"{base}connectivity."))
    for field, modes, label in (("weight", WEIGHT_MODES, "Weight"),
                                ("delay_ms", DELAY_MODES, "Delay")):
        if field == "delay_ms" and current:
            continue
        mode, values = _value_or_dist(proj.get(field, 0.0))
        mode = mode if mode in modes else "constant"
        parts.append(_select(f"{label} distribution", list(modes), mode,
                             lambda v, f=field, m=modes: apply(
                                 edits.set_projection_field, pid, f,
                                 _from_mode(v, {s.name: s.default for s in m[v]}))))
        field_problems = _sub_problems(issues, f"{field}.")
        field_problems.update({s.name: msg for path, msg in issues if path == field
                               for s in modes[mode][:1]})

        def on_value(name, value, f=field, m=mode, vals=values):
            apply(edits.set_projection_field, pid, f, _from_mode(m, {**vals, name: value}))

        parts.append(_form(modes[mode], values, field_problems, on_value,
                           pending=pending, prefix=f"{base}{field}."))
    if not current and proj.get("receptor", "exc") == "exc":
        plasticity = proj.get("plasticity") or {}
        rule_name = plasticity.get("rule", "none")
        parts.append(_select("Plasticity", {"none": "none", **{m.title: k for k, m in
                                                               PLASTICITY_RULES.items()}},
                             rule_name, lambda v: apply(
                                 edits.set_projection_field, pid, "plasticity",
                                 None if v == "none" else {"rule": v})))
        if rule_name in PLASTICITY_RULES:
            spec = PLASTICITY_RULES[rule_name]
            parts.append(_form(spec.params, spec.resolve(
                {k: v for k, v in plasticity.items() if k != "rule"}),
                _sub_problems(issues, "plasticity."),
                lambda name, value: apply(edits.set_projection_field, pid, "plasticity",
                                          {**plasticity, name: value}),
                pending=pending, prefix=f"{base}plasticity."))
            parts.append(_doc_pane(spec.doc))
    known = ("connectivity.", "weight", "delay_ms", "plasticity.")
    parts.append(_issues_html([i for i in issues if not i[0].startswith(known)]))
    return parts


def _record_spikes_choice(document: dict, apply: Apply) -> pn.Column:
    """One checkbox per population / spike encoder: whose spikes a run records."""
    every = edits.spike_nodes(document)
    # Named as the graph names them (the label), with the id the results use when it differs.
    labels = {n["id"]: str(n.get("label") or "") for n in document["network"]["nodes"]}
    options = {(f"{labels[i]} ({i})" if labels[i] and labels[i] != i else i): i for i in every}
    choice = pn.widgets.CheckBoxGroup(options=options, value=edits.recorded_nodes(document),
                                      inline=False, css_classes=["ss-record-spikes"])
    choice.param.watch(lambda e: apply(edits.set_record_spikes, list(e.new)), "value")
    hint = ("Unrecorded nodes still run; the results list them as \"not recorded\". "
            "Recording fewer keeps large runs small.")
    return pn.Column(
        html_pane('<h4 style="margin:0" data-testid="record-spikes-title">Record spikes of</h4>',
                  sizing_mode="stretch_width"),
        choice if every else html_pane('<p class="ss-hint">No populations yet.</p>'),
        html_pane(f'<p class="ss-hint">{text_html(hint)}</p>', sizing_mode="stretch_width"),
        sizing_mode="stretch_width")


def simulation_inspector(document: dict, problems: list[Problem], apply: Apply,
                         pending: PendingInputs | None = None) -> list:
    """Project name, description and simulation settings (shown when nothing is selected)."""
    sim_problems = {p.path.split(".", 1)[1]: p.message for p in problems
                    if p.path.startswith("simulation.")}
    name = pn.widgets.TextInput(label="Project name", value=document.get("name", ""),
                                sizing_mode="stretch_width")
    name.param.watch(lambda e: apply(edits.rename_project, e.new), "value")
    parts: list = [html_pane('<div class="ss-insp-title" data-testid="inspector-title">'
                                'Project</div>', sizing_mode="stretch_width"), name]
    if document.get("description"):
        parts.append(_doc_pane(document["description"], testid="project-description"))
    parts.append(_form(SIMULATION_SPECS[3:], document.get("simulation", {}), sim_problems,
                       lambda n, v: apply(edits.set_simulation, n, v),
                       title="Simulation settings", pending=pending, prefix="simulation."))
    parts.append(_record_spikes_choice(document, apply))
    parts.append(html_pane('<p class="ss-hint">Select a node or projection in the graph '
                              'to edit it. Drag from a node\'s right handle to another node to '
                              'connect them.</p>', sizing_mode="stretch_width"))
    return parts
