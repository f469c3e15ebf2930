"""The Evaluation tab: classify a labelled dataset at several presentation times.

It runs its own batch of simulations (one per presentation time, through the server's worker
pool, a thread per run like the Scenarios tab) with progress and Cancel, then shows accuracy
against presentation time (with the dense ANN's as a reference line when the project is a
converted chain), the confusion matrix, the firing rate per population and the energy per
inference of the SNN on every hardware profile against the ANN on the dense ones.
Computations are :mod:`engine.evaluation.presentation_sweep`'s; tables for the plots come from
:mod:`workbench.evaluation_data`.
"""

from __future__ import annotations

from typing import Any

import panel as pn

from engine.energy.model import load_profiles
from engine.errors import SpikeStudioError
from engine.evaluation.datasets import Dataset, load_dataset_bytes
from engine.evaluation.presentation_sweep import (
    PresentationSweep,
    SweepProgress,
    project_profiles,
    sweep_presentation,
)
from engine.project import Project
from widgets.evaluation_plots import AccuracyCurve, ConfusionMatrix, EnergyBars, LayerRates
from widgets.plot_format import file_stem
from workbench import runner
from workbench.background import BackgroundJob
from workbench.compression_section import CompressionSection
from workbench.evaluation_data import (
    DATASETS,
    DEFAULT_TIMES,
    EvalSetup,
    choose_dataset,
    energy_frame,
    eval_setup,
    parse_times,
    percent,
    rates_frame,
)
from workbench.result_stamp import document_revision
from workbench.style import (
    error_html,
    hint_html,
    html_pane,
    lines_html,
    state_html,
    text_html,
)
from workbench.view_protocol import ResultView, ViewContext

_IDLE = ("Each presentation time is one simulation of all chosen samples, shown one after "
         "the other; the output neuron with most spikes in a sample's window is the "
         "predicted class.")


class EvaluationTab(ResultView):
    """Accuracy, confusion, rates and energy per inference of a dataset classifier.

    It runs its own batch of simulations: a run's result is not used (``set_result`` is the
    default no-op).
    """

    title, key = "Evaluation", "evaluation"

    def __init__(self, context: ViewContext | None = None, **params: Any):
        super().__init__(context, **params)
        self.get_project = self.context.get_project
        self.setup: EvalSetup | None = None
        self.upload: Dataset | None = None
        self.sweep: PresentationSweep | None = None
        self._evaluated: dict[str, Any] = {}  # project, revision, profiles of the shown sweep
        self._revision: str | None = None
        self._document: dict | None = None
        self._choosing = False
        self._energy_seen: Any = None
        self.job = BackgroundJob("spikestudio-evaluation", self._show_progress, self._done)
        self._build()

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        self.why_not = html_pane("", visible=False)
        self.dataset = pn.widgets.Select(label="Dataset", width=230,
                                         options={v: k for k, v in DATASETS.items()},
                                         css_classes=["ss-eval-dataset"])
        self.file = pn.widgets.FileInput(accept=".csv,.npz", width=220, visible=False,
                                         css_classes=["ss-eval-file"])
        self.file_note = html_pane("", visible=False)
        self.samples = pn.widgets.IntInput(label="Test samples", value=200, start=1,
                                           width=110, css_classes=["ss-eval-samples"])
        self.output = pn.widgets.Select(label="Output population (neuron i = class i)",
                                        options=[], width=250, css_classes=["ss-eval-output"])
        self.times = pn.widgets.TextInput(label="Presentation times (ms)", value=DEFAULT_TIMES,
                                          width=220, css_classes=["ss-eval-times"])
        self.run_button = pn.widgets.Button(label="Evaluate", color="primary", width=110,
                                            css_classes=["ss-eval-run"])
        self.stop_button = pn.widgets.Button(label="Cancel", color="danger", width=90,
                                             disabled=True, css_classes=["ss-eval-cancel"])
        self.progress = pn.indicators.Progress(value=0, max=1000, width=300, height=14)
        self.status = html_pane(_state("idle", text_html(_IDLE)))
        self.dataset.param.watch(lambda e: self._show_dataset_choice(), "value")
        self.file.param.watch(self._on_file, "value")
        self.run_button.on_click(lambda e: self.start())
        self.stop_button.on_click(lambda e: self.job.cancel())
        self.summary = html_pane("")
        self.shown_time = pn.widgets.Select(label="Show presentation time (ms)", options=[],
                                            width=200, visible=False,
                                            css_classes=["ss-eval-shown"])
        self.shown_time.param.watch(lambda e: self._show_point(), "value")
        self.accuracy = AccuracyCurve(height=300)
        self.confusion = ConfusionMatrix(height=330)
        self.rates = LayerRates(height=330)
        self.energy = EnergyBars(height=300)
        self.energy_note = html_pane("")
        self.controls = pn.Column(
            pn.Row(self.dataset, self.file, self.samples, self.output, self.times),
            self.file_note,
            pn.Row(self.run_button, self.stop_button, self.progress, align="center"),
            self.status, sizing_mode="stretch_width")
        self.results = pn.Column(
            self.summary, self.accuracy, self.shown_time,
            pn.Row(self.confusion, self.rates, sizing_mode="stretch_width"),
            self.energy, self.energy_note, sizing_mode="stretch_width", visible=False)
        self.compression = CompressionSection(self._prepare, self.context.open_project,
                                              self._profiles)
        self._layout = pn.Column(self.why_not, self.controls, self.results, self.compression,
                                 sizing_mode="stretch_width")
        self._show_dataset_choice()

    def __panel__(self):
        return self._layout

    # ------------------------------------------------------------------ project
    def set_project(self, document: dict) -> None:
        """Offer the project's populations; explain what is missing when it cannot be
        evaluated."""
        try:
            project: Project = self.get_project()
        except Exception:  # noqa: BLE001 - an invalid project: Evaluate reports its problems
            project = None
        self._document = document
        reason = None
        if project is not None:
            try:
                self.setup = eval_setup(project)
            except SpikeStudioError as exc:
                self.setup, reason = None, str(exc)
        self.why_not.object = (f'<div class="ss-msg ss-msg-warning" data-testid='
                               f'"eval-why-not">{lines_html(reason)}</div>' if reason else "")
        self.why_not.visible = reason is not None
        self.controls.visible = self.compression.visible = reason is None
        energy = document.get("energy")
        if energy != self._energy_seen:  # the project's own profiles changed
            self._energy_seen = energy
            self.compression.refresh_profiles()
        if self.setup is not None and reason is None:
            keep = self.output.value if self.output.value in self.setup.populations else None
            self.output.options = list(self.setup.populations)
            self.output.value = keep or self.setup.default_output
            if self.dataset.value == "digits" and not self.setup.digits_fit:
                self.dataset.value = "project"
        self._revision = document_revision(document) if self.sweep is not None else None
        self._show_stale()
        self._check_busy()

    def _check_busy(self) -> None:
        self.run_button.disabled = self.job.busy or self.setup is None

    def clear(self) -> None:
        """Forget the shown evaluation and stop a running one (the project was replaced)."""
        self.job.forget()
        self.compression.clear()
        self._outcome, self._latest = {}, None
        self.sweep, self._evaluated = None, {}
        self.results.visible = False
        self.progress.value = 0
        self.status.object = _state("idle", text_html(_IDLE))

    def close(self) -> None:
        self.job.cancel()
        self.compression.close()

    def _profiles(self) -> dict:
        """The built-in profiles and the project's own (the built-in ones alone while the
        project is invalid)."""
        try:
            return project_profiles(self.get_project())
        except Exception:  # noqa: BLE001 - an invalid project: its problems are listed
            return load_profiles()

    def _prepare(self) -> tuple[Project, Any, int, str]:
        """What the compression sweep classifies: the project, a loader of the chosen test
        set, the number of samples and the output population."""
        project: Project = self.get_project()
        setup = eval_setup(project)
        if self.samples.value is None or self.samples.value < 1:
            raise SpikeStudioError("test samples: must be at least 1")
        kind, upload = self.dataset.value, self.upload
        return (project, lambda: choose_dataset(kind, project, upload),
                int(self.samples.value), self.output.value or setup.default_output)

    def _show_stale(self) -> None:
        if self.sweep is None:
            return
        stale = self._revision is not None and self._revision != self._evaluated["revision"]
        self.summary.object = self._summary_html(stale)

    # ------------------------------------------------------------------ dataset
    def _show_dataset_choice(self) -> None:
        upload = self.dataset.value == "upload"
        self.file.visible = upload
        self.file_note.visible = upload
        if upload and self.upload is None:
            self.file_note.object = _note("CSV: a header row, a column <code>label</code> "
                                          "(whole numbers), every other column a feature. "
                                          ".npz: arrays <code>x</code> (one row per sample) "
                                          "and <code>y</code> (labels). Nothing is "
                                          "unpickled.")

    def _on_file(self, event) -> None:
        if not event.new:
            return
        try:
            self.upload = load_dataset_bytes(event.new, self.file.filename or "")
        except SpikeStudioError as exc:
            self.upload = None
            self.file_note.object = _error(str(exc))
            return
        d = self.upload
        self.file_note.object = _note(
            f"Loaded <b>{text_html(d.name)}</b>: {len(d.y):,} samples of "
            f"{d.x.shape[1]:,} features, {d.n_classes} classes.")

    # ------------------------------------------------------------------ running
    def start(self) -> None:
        if self.job.busy:
            return
        try:
            project: Project = self.get_project()
            setup = eval_setup(project)
            times = parse_times(self.times.value)
            if self.samples.value is None or self.samples.value < 1:
                raise SpikeStudioError("test samples: must be at least 1")
        except Exception as exc:  # noqa: BLE001 - a ProjectError / SpikeStudioError, shown
            self.status.object = _state("error", lines_html(exc))
            return
        kind, upload, n = self.dataset.value, self.upload, int(self.samples.value)
        output = self.output.value or setup.default_output
        workers = min(2, runner.server_config()[0])
        profiles = project_profiles(project)
        revision = document_revision(self._document)

        def work(outcome: dict, cancel) -> None:
            data = choose_dataset(kind, project, upload)
            outcome["sweep"] = sweep_presentation(
                project, data, times, n_samples=n, output=output, profiles=profiles,
                simulate=runner.simulate, progress=self.job.report, cancel=cancel,
                max_workers=workers)
            outcome["evaluated"] = {"project": project, "revision": revision,
                                    "profiles": profiles, "setup": setup}

        self.job.start(work)
        self.run_button.disabled = True
        self.stop_button.disabled = False
        self.progress.value = 0
        self.status.object = _state("running", f"Evaluating {n:,} samples at "
                                               f"{len(times)} presentation times...")

    def _show_progress(self, p: SweepProgress) -> None:
        self.progress.value = int(1000 * p.fraction)
        self.status.object = _state("running", f"{p.done} of {p.total} presentation times "
                                               f"done &middot; {100 * p.fraction:.0f}% "
                                               f"simulated")

    def _done(self, outcome: dict, cancelled: bool) -> None:
        self.stop_button.disabled = True
        self._check_busy()
        if "error" in outcome:
            self.status.object = _state("error", lines_html(outcome["error"]))
            return
        sweep = outcome.get("sweep")
        if sweep is None:
            return  # cleared: the project was replaced while it ran
        failed = "".join(f"<br>{t:g} ms: {lines_html(why)}"
                         for t, why in sweep.problems.items())
        if not sweep.points:
            state = "cancelled" if sweep.cancelled else "error"
            self.status.object = _state(state, f"No presentation time was evaluated.{failed}")
            return
        self.sweep, self._evaluated = sweep, outcome["evaluated"]
        self._revision = self._evaluated["revision"]
        state = "cancelled" if sweep.cancelled else "completed"
        self.progress.value = 1000 if state == "completed" else self.progress.value
        self.status.object = _state(state, f"{len(sweep.points)} of "
                                           f"{len(sweep.points) + len(sweep.problems)} "
                                           f"presentation times evaluated"
                                           f"{' (cancelled)' if sweep.cancelled else ''}."
                                           f"{failed}")
        self._show_sweep()

    # ------------------------------------------------------------------ showing
    def _show_sweep(self) -> None:
        sweep = self.sweep
        name = self._evaluated["project"].name
        for plot, what in ((self.accuracy, "accuracy"), (self.confusion, "confusion"),
                           (self.rates, "rates"), (self.energy, "energy-per-inference")):
            plot.export_name = file_stem(name, None, f"evaluation-{what}")
        ann = sweep.ann
        self.accuracy.param.update(curve=sweep.curve(), ann_accuracy=ann.accuracy if ann
                                   else None, selected=sweep.points[-1].present_ms)
        options = {f"{p.present_ms:g}": p.present_ms for p in sweep.points}
        self._choosing = True  # options and value change together: draw once, below
        try:
            self.shown_time.param.update(options=options, value=sweep.points[-1].present_ms,
                                         visible=True)
        finally:
            self._choosing = False
        self._show_point()
        self.results.visible = True

    def _show_point(self) -> None:
        if self._choosing:
            return
        sweep, t = self.sweep, self.shown_time.value
        point = sweep.point(t) if sweep is not None and t is not None else None
        if point is None:
            return
        self.accuracy.selected = t
        self.confusion.param.update(matrix=point.report["confusion"],
                                    title=f"Confusion matrix at {t:g} ms")
        setup: EvalSetup = self._evaluated["setup"]
        self.rates.param.update(rates=rates_frame(point, setup.populations),
                                title=f"Firing rate per population at {t:g} ms")
        profiles = self._evaluated["profiles"]
        self.energy.param.update(energy=energy_frame(point, sweep.ann, profiles),
                                 title=f"Energy per inference at {t:g} ms: SNN on every "
                                       f"profile, ANN on the dense ones")
        self.energy_note.object = self._energy_html(point)
        self._show_stale()

    def _summary_html(self, stale: bool) -> str:
        sweep = self.sweep
        t = self.shown_time.value
        point = sweep.point(t) if t is not None else None
        if point is None:
            return ""
        r = point.report
        ann = sweep.ann
        ann_text = (f"ANN {percent(ann.accuracy)} on the same samples" if ann is not None and
                    ann.accuracy is not None else "no ANN reference")
        why = ("" if ann is None or ann.why_no_accuracy is None else
               f'<p class="ss-hint" data-testid="eval-no-ann">No ANN accuracy line: this '
               f'project is not a converted chain of layers ({text_html(ann.why_no_accuracy)}'
               f'); the curve shows the SNN only.</p>')
        latency = r["latency_ms"]["mean"]
        lines = [
            f'<b>Accuracy at {t:g} ms: <span data-testid="eval-accuracy" data-accuracy='
            f'"{r["accuracy"]}" data-present-ms="{t:g}">{percent(r["accuracy"])}</span></b> '
            f'(SNN; {ann_text}) &middot; {sweep.samples:,} samples of '
            f'<i>{text_html(sweep.dataset)}</i>, output <i>{text_html(sweep.output)}</i>',
            f'{r["undecided"]} samples without an output spike &middot; '
            f'{r["spikes_per_inference"]:,.0f} spikes and '
            f'{r["synaptic_events_per_inference"]:,.0f} synaptic events per inference '
            f'&middot; mean decision latency '
            f'{"n/a" if latency is None else f"{latency:.1f} ms"}',
        ]
        stale_text = ('<p class="ss-msg ss-msg-warning" data-testid="eval-stale">The project '
                      'has changed since this evaluation: press Evaluate to bring it up to '
                      'date.</p>' if stale else "")
        return (f'<div data-testid="eval-summary">{stale_text}<p>{"<br>".join(lines)}</p>'
                f'{why}</div>')

    def _energy_html(self, point) -> str:
        """The energy figures as a table: units, and how each one counts idle work."""
        frame = energy_frame(point, self.sweep.ann, self._evaluated["profiles"])
        rows = "".join(
            f'<tr data-side="{text_html(r.side)}" data-profile="{text_html(r.profile)}" '
            f'data-total-j="{r.total_j}"><td>{text_html(r.side)}</td>'
            f'<td>{text_html(r.label.split(" · ", 1)[-1])}</td>'
            f'<td class="ss-num">{text_html(r.total_text)}</td><td>{text_html(r.part_text)}</td>'
            f'<td>{text_html(r.basis)}</td></tr>' for r in frame.itertuples())
        ann = self.sweep.ann
        macs = ("" if ann is None else
                f"<p class='ss-hint'>ANN: {ann.macs_per_inference:,.0f} MACs per inference, "
                f"counted as the {text_html(ann.macs_basis)} (the project does not record "
                f"the source ANN's MAC count); energy = MACs &times; (E_MAC + memory "
                f"access per MAC) of each dense profile.</p>")
        return (f'<table class="ss-eval-table" data-testid="eval-energy"><tr><th>side</th>'
                f'<th>profile</th><th>energy per inference</th><th>of which</th>'
                f'<th>how it is counted</th></tr>{rows}</table>{macs}'
                f'<p class="ss-hint">SNN: the run\'s energy on each profile divided by the '
                f'samples. The diamond marks its event-driven part (synaptic events, spikes, '
                f'active neuron updates: zero without input); the rest is idle neuron updates '
                f'(per hardware time step on clocked chips, per simulation step on CPU/GPU '
                f'profiles, none on event-driven chips) and static power over the '
                f'presentation time.</p>')


_note = hint_html


def _error(text: str) -> str:
    return error_html(text, "eval-error")


def _state(state: str, markup: str) -> str:
    return state_html(state, markup, "eval-state")
