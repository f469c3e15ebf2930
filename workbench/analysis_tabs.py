"""The Weights, Energy and Scenarios tabs: engine analyses shown with their widgets.

Each tab takes the session's latest result (or project) and hands plain data to a widget from
``widgets/``; computations come from ``engine.energy.model`` and ``engine.evaluation.scenario_fit``.
"""

from __future__ import annotations

import json
import math
import threading
from typing import Any

import panel as pn

from engine.core.results import SimulationResult
from engine.energy import model as E
from engine.energy.tables import energy_table
from engine.evaluation.scenario_fit import (
    ScenarioProgress,
    default_scenarios,
    run_scenarios,
    scenario_to_dict,
    scenarios_from_document,
    why_not_ratable,
)
from engine.project import Project
from widgets.energy_heatmap import EnergyHeatmap
from widgets.plot_format import file_stem
from widgets.scenario_matrix import ScenarioMatrix
from widgets.weights import WeightEvolution
from workbench import runner
from workbench.background import BackgroundJob
from workbench.edits import set_energy_profile, set_scenarios
from workbench.style import (
    error_html,
    hint_html,
    html_pane,
    lines_html,
    markdown_html,
    state_html,
    text_html,
)
from workbench.view_protocol import ResultView, ViewContext

RATIO_TEXT = """
**Two ways to compare with a dense ANN of the same architecture** (per inference = one run):

* *Literature style* (Spikformer, SpikingJelly, KerasSpiking): synaptic operations x E_AC
  against the ANN's MACs x E_MAC, both on the dense profile. It leaves out memory traffic and
  neuron updates, which flatters spiking networks.
* *Memory-inclusive*: the SNN's whole dynamic energy on the chosen hardware profile (synaptic
  events, neuron updates active and idle, learning, spike routing and one weight read per
  event) against the ANN's MACs x (E_MAC + memory access per MAC). Yan et al. (arXiv
  2409.08290) show why this is the fairer figure: with few time steps the spike rate must
  stay low for the SNN to win. Ratios below 1 favour the spiking network.
"""


#: How a profile counts idle neuron updates (its ``time_step_ms``), as the editor offers it.
STEP_MODES = {"per hardware step of ...": "hardware", "per simulation step": "simulation",
              "none (event-driven chip)": "event"}
STEP_NOTE = (
    "<b>Time step</b> decides how <i>idle</i> neuron updates (neurons that got no input) are "
    "priced: a clocked chip (e.g. Loihi, 1 ms) updates every neuron once per hardware step; "
    "a GPU/CPU simulator once per simulation step; an asynchronous, event-driven chip never "
    "(a hardware step is rounded to whole simulation steps, at least one). "
    "Synaptic events and active updates do not change. A run counts updates per hardware "
    "step while it simulates, so after a new step <b>run again</b>: until then this run is "
    "priced per simulation step (the line under each total says so).")


class WeightsTab(ResultView):
    """Weight evolution of the plastic (or recorded) projections of the last run."""

    title, key, lazy = "Weights (STDP)", "weights", True

    def __init__(self, context: ViewContext | None = None, **params: Any):
        super().__init__(context, **params)
        x_range = self.context.x_range
        self.choice = pn.widgets.Select(label="Projection", options=[], width=300,
                                        css_classes=["ss-weights-choice"], visible=False)
        self.x_range = x_range
        self.view: WeightEvolution | None = None  # built on first use: six figures are slow
        self.note = html_pane(_note("Run a project with a plastic projection (STDP or the "
                                    "teaching rule) to see its weights evolve."))
        self.result: SimulationResult | None = None
        self._name = None
        self.choice.param.watch(self._show, "value")
        self.cursor = self.context.cursor
        if self.cursor is not None:  # the page's time cursor chooses the snapshot
            self.cursor.param.watch(lambda e: self._follow_cursor(), "value")
        self._layout = pn.Column(self.note, self.choice, sizing_mode="stretch_width")

    def __panel__(self):
        return self._layout

    def clear(self) -> None:
        """Forget the shown result (the project was replaced)."""
        self.result = None
        self.note.visible = True
        self.choice.param.update(options=[], visible=False)
        if self.view is not None:
            self.view.param.update(record=None, spikes=None, selected=[])
            self.view.visible = False

    def set_export_name(self, name) -> None:
        """``name(what) -> file stem`` of the current run, for the figures' downloads."""
        self._name = name
        self._name_view()

    def _name_view(self) -> None:
        if self.view is not None and self._name is not None and self.choice.value:
            self.view.set_export_name(self._name(f"weights-{self.choice.value}"))

    def set_result(self, result: SimulationResult) -> None:
        self.result = result
        ids = list(result.weights)
        if ids and self.view is None:
            self.view = WeightEvolution(x_range=self.x_range,
                                        show_player=self.cursor is None)
            self._layout.append(self.view)
        self.note.visible = not ids
        self.choice.visible = bool(ids)
        if self.view is not None:
            self.view.visible = bool(ids)
        self.choice.options = ids
        if ids:
            self.choice.value = ids[0] if self.choice.value not in ids else self.choice.value
            self._show()

    def _show(self, *events) -> None:
        r = self.result
        pid = self.choice.value
        if r is None or pid not in r.weights or self.view is None:
            return
        info = r.network_info.set_index("projection").loc[pid]
        record = r.weights[pid]
        # Start with the synapses the project records at full resolution.
        recorded = [int(s) for s in record.synapse_index[: self.view.max_selected]]
        self.view.param.update(record=record, spikes=r.spikes, source=info["source"],
                               target=info["target"], selected=recorded)
        self._follow_cursor()
        self._name_view()
        self.view.refit()

    def _follow_cursor(self) -> None:
        """Show the weights at the time cursor (the last snapshot at or before it)."""
        if self.cursor is not None and self.view is not None and self.view.record is not None:
            self.view.show_time(self.cursor.value)


class EnergyTab(ResultView):
    """Per-layer energy heatmap on hardware profiles plus the SNN/ANN comparison.

    ``apply(edit_function, *args)`` performs an undoable edit of the project: cloned and
    edited profiles are stored in the project's ``energy`` section and saved with it.
    """

    title, key, lazy = "Energy", "energy", True

    def __init__(self, context: ViewContext | None = None, **params: Any):
        super().__init__(context, **params)
        self.builtin = E.load_profiles()
        self.profiles = dict(self.builtin)
        self._custom_seen: dict | None = None
        self.apply = self.context.apply
        self.heatmap = EnergyHeatmap(x_range=self.context.x_range,
                                     profile_names=_names(self.profiles),
                                     profile="loihi")
        dense = [pid for pid, p in self.profiles.items() if p.kind == "dense"]
        self.ann_choice = pn.widgets.Select(label="ANN baseline profile", options=dense,
                                            value="cmos45_fp32" if "cmos45_fp32" in dense
                                            else dense[0], width=220)
        self.comparison = html_pane("", sizing_mode="stretch_width")
        self.result: SimulationResult | None = None
        self.ann_choice.param.watch(lambda e: self._compare(), "value")
        self.heatmap.param.watch(lambda e: self._compare(), "profile")
        # The widget draws plain tables: price the run on a profile when it is chosen.
        self.heatmap.param.watch(lambda e: self._price(), ["profile", "compare_profile"])
        self._build_profile_editor()
        self._layout = pn.Column(
            html_pane(_note("Energy = operation counts of the run x energy per operation "
                               "of the selected hardware profile (figures and sources in "
                               "docs/energy.md; most are secondary or pre-silicon figures, "
                               "see each profile's notes). Static power is integrated over "
                               "time. Event-driven energy is zero without input; idle neuron "
                               "updates are charged per step of the profile's hardware clock "
                               "(e.g. 1 ms on Loihi), per simulation step on GPU/CPU "
                               "profiles, and not at all on event-driven chips: the line "
                               "under each total says which.")),
            self.heatmap, self.editor, pn.Row(self.ann_choice), self.comparison,
            html_pane(markdown_html(RATIO_TEXT)),
            sizing_mode="stretch_width")

    def __panel__(self):
        return self._layout

    # ------------------------------------------------------------------ user profiles
    def _build_profile_editor(self) -> None:
        self.clone_button = pn.widgets.Button(label="Clone profile to edit", width=180,
                                              css_classes=["ss-profile-clone"])
        self.figure = pn.widgets.Select(label="Figure", options=list(E.FIGURE_NAMES),
                                        width=200)
        self.value = pn.widgets.FloatInput(label="Value (J per op, or W)", value=None,
                                           width=170, css_classes=["ss-profile-value"])
        self.source = pn.widgets.TextInput(label="Source (required)", width=240,
                                           placeholder="e.g. own measurement, 2026-11")
        self.apply_button = pn.widgets.Button(label="Apply to profile", width=140,
                                              css_classes=["ss-profile-apply"])
        self.delete_button = pn.widgets.Button(label="Delete profile", width=120)
        self.editor_note = html_pane("", sizing_mode="stretch_width")
        self.clone_button.on_click(lambda e: self._clone())
        self.apply_button.on_click(lambda e: self._apply_figure())
        self.delete_button.on_click(lambda e: self._delete())
        self.figure.param.watch(lambda e: self._show_figure(), "value")
        self.heatmap.param.watch(lambda e: self._show_figure(), "profile")
        self.edit_row = pn.Row(self.figure, self.value, self.source, self.apply_button,
                               self.delete_button, visible=False)
        self._build_step_editor()
        self.editor = pn.Column(pn.Row(self.clone_button, self.editor_note), self.edit_row,
                                self.step_row, sizing_mode="stretch_width")

    def _build_step_editor(self) -> None:
        """The profile's hardware time step: how idle neuron updates are priced."""
        self.step_mode = pn.widgets.Select(label="Idle neuron updates", options=STEP_MODES,
                                           width=230, css_classes=["ss-step-mode"])
        self.step_value = pn.widgets.FloatInput(label="Hardware time step (ms)", value=1.0,
                                                width=160, css_classes=["ss-step-value"])
        self.step_source = pn.widgets.TextInput(label="Source (for a step or event-driven)",
                                                width=240, css_classes=["ss-step-source"],
                                                placeholder="e.g. chip datasheet, 2026")
        self.step_apply = pn.widgets.Button(label="Apply time step", width=140,
                                            css_classes=["ss-step-apply"])
        self.step_apply.on_click(lambda e: self._apply_step())
        self.step_mode.param.watch(
            lambda e: setattr(self.step_value, "visible", e.new == "hardware"), "value")
        self.step_row = pn.Column(
            pn.Row(self.step_mode, self.step_value, self.step_source, self.step_apply),
            html_pane(_note(STEP_NOTE)), visible=False, sizing_mode="stretch_width")

    def set_project(self, document: dict) -> None:
        """Offer the project's own profiles beside the built-in ones."""
        custom = document.get("energy", {}).get("profiles", {})
        if custom == self._custom_seen:
            return  # other edits (a node moved) must not redraw the heatmap
        self._custom_seen = custom
        try:
            own = E.profiles_from_document({"profiles": custom}) if custom else {}
        except Exception:  # noqa: BLE001 - invalid ones are listed as project problems
            own = {}
        self.profiles = {**self.builtin, **own}
        current = self.heatmap.profile
        # Tables of the project's own profiles are priced again (their figures may differ).
        tables = {pid: t for pid, t in self.heatmap.tables.items() if pid in self.builtin}
        self.heatmap.param.update(profile_names=_names(self.profiles), tables=tables)
        if current in self.profiles:
            self.heatmap.profile = current
        self._price()
        self._show_figure()

    def _selected(self) -> E.HardwareProfile | None:
        return self.profiles.get(self.heatmap.profile or "")

    def _show_figure(self) -> None:
        profile = self._selected()
        editable = profile is not None and profile.id not in self.builtin
        self.edit_row.visible = self.step_row.visible = editable
        if profile is None:
            return
        if editable:
            self._show_step(profile.time_step)
        fig = profile.figures.get(self.figure.value)
        if editable and fig is not None:
            self.value.value = fig.value
            self.source.value = fig.source or ""
        kind = "your profile, saved with the project" if editable else \
            "built-in profile (clone it to edit its figures)"
        self.editor_note.object = _note(f"<b>{text_html(profile.name)}</b>: {kind}.")

    def _clone(self) -> None:
        profile = self._selected()
        if profile is None or self.apply is None:
            return
        new_id = f"{profile.id}_custom"
        i = 2
        while new_id in self.profiles:
            new_id, i = f"{profile.id}_custom{i}", i + 1
        clone = E.clone_profile(profile, new_id)
        self.apply(set_energy_profile, new_id, clone.to_dict())
        self.heatmap.profile = new_id

    def _apply_figure(self) -> None:
        profile = self._selected()
        if profile is None or self.apply is None:
            return
        try:
            edited = E.edit_profile(profile, self.figure.value, self.value.value,
                                    source=self.source.value.strip())
        except Exception as exc:  # noqa: BLE001 - a ProjectError naming the field
            self._profile_error(str(exc))
            return
        self.apply(set_energy_profile, profile.id, edited.to_dict())
        if self.result is not None:
            self._compare()

    def _show_step(self, step: E.TimeStep) -> None:
        mode = {"hardware step": "hardware", "event-driven": "event"}.get(step.idle_basis,
                                                                          "simulation")
        self.step_mode.value = mode
        self.step_value.visible = mode == "hardware"
        if mode == "hardware":
            self.step_value.value = float(step.value)
        self.step_source.value = step.source or ""

    def _apply_step(self) -> None:
        """Store the edited time step in the project (validated by the engine)."""
        profile = self._selected()
        if profile is None or self.apply is None:
            return
        mode = self.step_mode.value
        if mode == "hardware" and self.step_value.value is None:
            self._profile_error(f"profiles.{profile.id}.time_step_ms: enter the hardware time "
                                f"step in ms (or choose another way to count idle updates)")
            return
        value = {"hardware": self.step_value.value, "event": E.EVENT_DRIVEN}.get(mode)
        try:
            edited = E.edit_time_step(profile, value, source=self.step_source.value.strip())
        except Exception as exc:  # noqa: BLE001 - a ProjectError naming the field
            self._profile_error(str(exc))
            return
        self.apply(set_energy_profile, profile.id, edited.to_dict())
        if self.result is not None:
            self._compare()

    def _profile_error(self, text: str) -> None:
        self.editor_note.object = (f'<p class="ss-hint" data-testid="profile-error">'
                                   f'{lines_html(text)}</p>')

    def _delete(self) -> None:
        profile = self._selected()
        if profile is not None and profile.id not in self.builtin and self.apply is not None:
            self.heatmap.profile = "loihi"
            self.apply(set_energy_profile, profile.id, None)

    def set_result(self, result: SimulationResult) -> None:
        self.result = result
        self.heatmap.param.update(tables=self._tables(result, {}), bin_ms=result.bin_ms,
                                  duration_ms=result.duration_ms)
        self._compare()

    def clear(self) -> None:
        """Forget the shown result (the project was replaced)."""
        self.result = None
        self.heatmap.param.update(tables={}, duration_ms=None)
        self.comparison.object = ""

    def _tables(self, result: SimulationResult, tables: dict) -> dict:
        """``tables`` plus the shown profiles' tables of ``result`` that are missing."""
        shown = [p for p in (self.heatmap.profile, self.heatmap.compare_profile)
                 if p and p in self.profiles and p not in tables]
        return {**tables, **{pid: energy_table(result.counts, self.profiles[pid],
                                               result.bin_ms, result.duration_ms)
                             for pid in shown}}

    def _price(self) -> None:
        if self.result is not None and self.heatmap.missing():
            self.heatmap.tables = self._tables(self.result, self.heatmap.tables)

    def set_export_name(self, name) -> None:
        """``name(what) -> file stem`` of the current run, for the heatmaps' downloads."""
        self.heatmap.export_name = name("energy")

    def _compare(self) -> None:
        r = self.result
        if r is None or r.duration_ms <= 0:
            return
        snn = self.profiles.get(self.heatmap.profile or "loihi")
        ann = self.profiles[self.ann_choice.value]
        c = E.snn_vs_ann(r.counts, r.network_info, r.node_info, r.duration_ms, r.dt_ms,
                         r.bin_ms, ann_profile=ann,
                         snn_profile=snn if snn is not None and snn.kind != "dense" else None)
        rows = [
            ("Synaptic operations (effective ACs)", f"{c.effective_acs:,.0f}"),
            ("Effective MACs (real-valued input)", f"{c.effective_macs:,.0f}"),
            ("Dense ANN MACs", f"{c.dense_macs:,.0f}"),
            ("Activation sparsity", f"{c.activation_sparsity:.4f}"),
            ("SNN / ANN, literature style", _ratio(c.ratio_literature)),
            (f"SNN ({text_html(c.snn_profile)}) / ANN, memory-inclusive",
             _ratio(c.ratio_memory)),
        ]
        body = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
        unpriced = (f"<p class='ss-hint'>Not priced by this profile: "
                    f"{text_html(', '.join(c.unpriced))}</p>" if c.unpriced else "")
        self.comparison.object = (
            f'<table class="ss-ratio-table" data-testid="snn-ann" '
            f'data-ratio-literature="{c.ratio_literature}" '
            f'data-ratio-memory="{c.ratio_memory}">{body}</table>{unpriced}')


class ScenariosTab(ResultView):
    """Simulate the project under every scenario and show the fit matrices.

    It runs its own batch of simulations: a run's result is not used (``set_result`` is the
    default no-op).
    """

    title, key = "Scenarios", "scenarios"

    def __init__(self, context: ViewContext | None = None, **params: Any):
        super().__init__(context, **params)
        self.get_project = self.context.get_project
        self.apply = self.context.apply
        self._shown_document = False
        self._own_seen: list | None = None
        self.matrix = ScenarioMatrix()
        self.editor = pn.widgets.TextAreaInput(
            label="Scenarios (JSON: edit, add or remove workloads)", height=260,
            sizing_mode="stretch_width", css_classes=["ss-scenarios-json"])
        self.use_button = pn.widgets.Button(label="Use these scenarios", width=170,
                                            css_classes=["ss-scenarios-use"])
        self.reset_button = pn.widgets.Button(label="Reset to defaults", width=150)
        self.editor_note = html_pane("")
        self.use_button.on_click(lambda e: self._use())
        self.reset_button.on_click(lambda e: self._reset())
        self.run_button = pn.widgets.Button(label="Run all scenarios", color="primary",
                                            width=170, css_classes=["ss-scenarios-run"])
        self.stop_button = pn.widgets.Button(label="Stop", color="danger", width=80,
                                             disabled=True, css_classes=["ss-scenarios-stop"])
        self.progress = pn.indicators.Progress(value=0, max=1000, width=300, height=14)
        self.status = html_pane(_state("idle", _IDLE))
        self.run_button.on_click(lambda e: self.start())
        self.job = BackgroundJob("spikestudio-scenarios", self._show_progress, self._done)
        self.stop_button.on_click(lambda e: self.job.cancel())
        self.why_not = html_pane("", sizing_mode="stretch_width", visible=False)
        self._layout = pn.Column(
            self.why_not,
            pn.Row(self.run_button, self.stop_button, self.progress),
            self.status, self.matrix,
            pn.Card(self.editor, pn.Row(self.use_button, self.reset_button), self.editor_note,
                    title="Scenario definitions", collapsed=True,
                    sizing_mode="stretch_width"),
            sizing_mode="stretch_width")

    def close(self) -> None:
        self.job.cancel()

    def clear(self) -> None:
        """Forget the matrices and stop a batch (the project was replaced)."""
        self.job.forget()
        self.matrix.report = None
        self.progress.value = 0
        self.status.object = _state("idle", _IDLE)
        self._shown_document = False

    def set_project(self, document: dict) -> None:
        """Show the project's scenarios (or the defaults) in the editor."""
        self._check_ratable()
        own = document.get("scenarios")
        if self._shown_document and own == self._own_seen:
            return  # keep what the user is typing when other parts of the project change
        self._shown_document, self._own_seen = True, own
        items = own if own else [scenario_to_dict(s) for s in default_scenarios()]
        self.editor.value = json.dumps(items, indent=2)
        origin = "this project's own scenarios" if own else "the default scenarios"
        self.editor_note.object = _note(f"Showing {origin}.")

    def _use(self) -> None:
        try:
            items = json.loads(self.editor.value)
            scenarios_from_document(items)
        except ValueError as exc:
            self.editor_note.object = _error(f"Not valid JSON: {exc}")
            return
        except Exception as exc:  # noqa: BLE001 - a ProjectError naming each field
            self.editor_note.object = _error(str(exc))
            return
        if self.apply is not None:
            self.apply(set_scenarios, items)

    def _reset(self) -> None:
        if self.apply is not None:
            self.apply(set_scenarios, None)

    def _check_ratable(self) -> str | None:
        """Explain up front when the project cannot be rated; None when it can."""
        try:
            project: Project = self.get_project()
            reason = why_not_ratable(project, self._scenarios(project))
        except Exception:  # noqa: BLE001 - an invalid project: Run all reports its problems
            reason = None
        busy = self.job.busy
        self.why_not.object = (f'<div class="ss-msg ss-msg-warning" data-testid='
                               f'"scenario-why-not">{lines_html(reason)}</div>' if reason else "")
        self.why_not.visible = reason is not None
        self.run_button.disabled = busy or reason is not None
        return reason

    def _scenarios(self, project: Project) -> list:
        if project.scenarios:
            return scenarios_from_document(project.scenarios)
        return default_scenarios()

    def __panel__(self):
        return self._layout

    def start(self) -> None:
        if self.job.busy:
            return
        try:
            project: Project = self.get_project()
        except Exception as exc:  # noqa: BLE001 - shown to the user, nothing to crash
            self.status.object = _state("error", lines_html(exc))
            return
        if self._check_ratable() is not None:
            return
        scenarios = self._scenarios(project)
        self.matrix.report = None
        self.matrix.export_name = file_stem(project.name, None, "scenarios")

        def work(outcome: dict, cancel: threading.Event) -> None:
            outcome["report"] = run_scenarios(
                project, scenarios, progress=self.job.report, cancel=cancel,
                simulate=runner.simulate)

        self.job.start(work)
        self.run_button.disabled = True
        self.stop_button.disabled = False
        self.status.object = _state("running", f"Simulating {len(scenarios)} scenarios...")

    def _show_progress(self, p: ScenarioProgress) -> None:
        self.progress.value = int(1000 * p.overall)
        self.status.object = _state("running", f"{p.done} of {p.total} scenarios done "
                                               f"&middot; {text_html(p.scenario)}: "
                                               f"{text_html(p.status)}")

    def _done(self, outcome: dict, cancelled: bool) -> None:
        self.run_button.disabled = False
        self.stop_button.disabled = True
        if "error" in outcome:
            self.status.object = _state("error", lines_html(outcome["error"]))
            return
        report = outcome.get("report")
        if report is None:
            return  # cleared: the project was replaced while the batch ran
        self.matrix.report = report
        done = len(report.completed)
        if not done and not cancelled:
            self.status.object = _state("error", "No scenario could be simulated: see the "
                                                 "reasons below.")
            return
        state = "cancelled" if cancelled else "completed"
        self.progress.value = 1000 if state == "completed" else self.progress.value
        self.status.object = _state(state, f"{done} scenarios simulated"
                                           f"{' (stopped early)' if cancelled else ''}.")


_IDLE = "Each scenario replaces the project's spike inputs with a workload and simulates it."



def _error(text: str) -> str:
    return error_html(text, "scenario-error")


_note = hint_html


def _state(state: str, markup: str) -> str:
    return state_html(state, markup, "scenario-state")


def _names(profiles: dict) -> dict[str, str]:
    return {pid: p.name for pid, p in profiles.items()}


def _ratio(value: float) -> str:
    if value is None or not math.isfinite(value):
        return "n/a"
    return f"{value:.3g}x"
