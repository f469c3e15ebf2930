"""The Evaluation tab's Compression section: a sweep of compression settings on the test set.

Each setting (weight precision, pruning fraction, idle-neuron pruning, and their
combinations) compresses the project (:func:`engine.compression.compress`) and classifies
the tab's test samples with it; the section shows accuracy, synaptic events, energy per
inference on a chosen profile and model size before and after, a Pareto plot of accuracy
against energy (marker size = model size), and opens the chosen point's project in the
editor. The sweep runs in a thread, its simulations in the server's worker pool, with
progress and Cancel.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import panel as pn

from engine.compression import CompressionPoint, compress, evaluate_settings
from widgets.evaluation_plots import ParetoPlot
from widgets.plot_format import file_stem
from workbench import runner
from workbench.background import BackgroundJob, Work
from workbench.compression_data import (
    DEFAULT_BITS,
    DEFAULT_PRUNE,
    parse_bits,
    parse_fractions,
    points_frame,
    sweep_settings,
)
from workbench.evaluation_data import percent
from workbench.style import html_pane, lines_html, state_html, text_html

_INTRO = ("Each setting compresses a copy of the project and classifies the test samples "
          "chosen above with it, at the project's own presentation time (one simulation per "
          "setting; idle-neuron pruning adds a calibration run on the training samples). "
          "The first point is the project as it is. Weights are quantised per layer to K "
          "bits, pruned smallest first, and hidden neurons that never spike on the "
          "calibration set are removed.")

_CHOSEN = ' class="ss-eval-chosen"'
#: ``prepare()`` -> (project, dataset loader, samples, output population), or raises a
#: SpikeStudioError naming the field at fault: the tab's inputs.
Prepare = Callable[[], tuple[Any, Callable[[], Any], int, str]]


class CompressionSection(pn.viewable.Viewer):
    """Sweep, Pareto plot, before/after table and "Open compressed project"."""

    def __init__(self, prepare: Prepare, open_project: Callable[[Any, str], None] | None,
                 profiles: Callable[[], dict], **params: Any):
        super().__init__(**params)
        self.prepare, self.open_project, self.profiles = prepare, open_project, profiles
        self.points: list[CompressionPoint] = []
        self._swept: dict[str, Any] = {}  # project, samples, output of the shown sweep
        self.job = BackgroundJob("spikestudio-compression", self._show_progress, self._done)
        self.bits = pn.widgets.TextInput(label="Weight bits (2..8)", value=DEFAULT_BITS,
                                         width=150, css_classes=["ss-comp-bits"])
        self.prune = pn.widgets.TextInput(label="Prune fractions", value=DEFAULT_PRUNE,
                                          width=150, css_classes=["ss-comp-prune"])
        self.idle = pn.widgets.Checkbox(label="also prune idle neurons", value=False,
                                        css_classes=["ss-comp-idle"], align="end")
        self.profile = pn.widgets.Select(label="Energy on profile", width=260,
                                         css_classes=["ss-comp-profile"])
        self.run_button = pn.widgets.Button(label="Run compression sweep", color="primary",
                                            width=190, css_classes=["ss-comp-run"])
        self.stop_button = pn.widgets.Button(label="Cancel", color="danger", width=90,
                                             disabled=True, css_classes=["ss-comp-cancel"])
        self.progress = pn.indicators.Progress(value=0, max=1000, width=300, height=14)
        self.status = html_pane(_state("idle", "No sweep yet."))
        self.pareto = ParetoPlot(height=340)
        self.choice = pn.widgets.Select(label="Point", width=320, options={},
                                        css_classes=["ss-comp-point"])
        self.open_button = pn.widgets.Button(label="Open compressed project", width=200,
                                             disabled=True, css_classes=["ss-comp-open"],
                                             align="end")
        self.before_after = html_pane("")
        self.table = html_pane("")
        self.run_button.on_click(lambda e: self.start())
        self.stop_button.on_click(lambda e: self.job.cancel())
        self.open_button.on_click(lambda e: self.open_selected())
        self.profile.param.watch(lambda e: self._show(), "value")
        self.choice.param.watch(lambda e: self._chosen(), "value")
        self.pareto.param.watch(lambda e: self._tapped(), "selected")
        self.results = pn.Column(self.pareto, pn.Row(self.choice, self.open_button),
                                 self.before_after, self.table, visible=False,
                                 sizing_mode="stretch_width")
        self._layout = pn.Column(
            html_pane('<h3 class="ss-insp-title">Compression</h3>'
                      f'<p class="ss-hint">{text_html(_INTRO)}</p>'),
            pn.Row(self.bits, self.prune, self.idle, self.profile),
            pn.Row(self.run_button, self.stop_button, self.progress, align="center"),
            self.status, self.results, sizing_mode="stretch_width")
        self.refresh_profiles()

    def __panel__(self):
        return self._layout

    def refresh_profiles(self) -> None:
        """Offer the current profiles (the project's own included)."""
        profiles = self.profiles()
        keep = self.profile.value
        self.profile.options = {f"{p.name} ({pid})": pid for pid, p in profiles.items()}
        self.profile.value = keep if keep in profiles else (
            "loihi" if "loihi" in profiles else next(iter(profiles)))

    def clear(self) -> None:
        """Forget the sweep and stop a running one (the project was replaced)."""
        self.job.forget()
        self.points, self._swept = [], {}
        self.results.visible = False
        self.open_button.disabled = True
        self.progress.value = 0
        self.status.object = _state("idle", "No sweep yet.")

    def close(self) -> None:
        self.job.cancel()

    # ------------------------------------------------------------------ running
    def start(self) -> None:
        """Run the sweep the inputs describe."""
        if self.job.busy:
            return
        try:
            settings = sweep_settings(parse_bits(self.bits.value),
                                      parse_fractions(self.prune.value), self.idle.value)
            project, load, n, output = self.prepare()
        except Exception as exc:  # noqa: BLE001 - a SpikeStudioError / ProjectError, shown
            self.status.object = _state("error", lines_html(exc))
            return
        profiles = self.profiles()

        def work(outcome: dict, cancel: threading.Event) -> None:
            outcome["points"] = evaluate_settings(
                project, settings, load(), samples=n, output=output, profiles=profiles,
                progress=lambda f, t: self.job.report((f, t)), cancel=cancel,
                simulate=runner.simulate)
            outcome["swept"] = {"project": project, "samples": n, "output": output,
                                "total": len(settings) + 1}

        self._run(work, f"Compressing and classifying: {len(settings) + 1} points of "
                        f"{n:,} samples...")

    def open_selected(self) -> None:
        """Compress the project again with the chosen point's settings and open it (asking
        before unsaved changes are discarded)."""
        i = self.choice.value
        if self.job.busy or i is None or not 0 < i < len(self.points) or \
                self.open_project is None:
            return
        settings = self.points[i].settings
        project, n = self._swept["project"], self._swept["samples"]

        def work(outcome: dict, cancel: threading.Event) -> None:
            outcome["opened"], _ = compress(project, settings, samples=n, cancel=cancel,
                                            simulate=runner.simulate)

        self._run(work, f"Compressing with {text_html(settings.label())}...")

    def _run(self, work: Work, text: str) -> None:
        if not self.job.start(work):
            return
        self.run_button.disabled = self.open_button.disabled = True
        self.stop_button.disabled = False
        self.progress.value = 0
        self.status.object = _state("running", text)

    def _show_progress(self, latest: tuple[float, str]) -> None:
        fraction, text = latest
        self.progress.value = int(1000 * min(max(fraction, 0.0), 1.0))
        self.status.object = _state("running", text_html(text))

    def _done(self, outcome: dict, cancelled: bool) -> None:
        self.run_button.disabled = False
        self.stop_button.disabled = True
        self.open_button.disabled = not self.points
        if "error" in outcome:
            self.status.object = _state("error", lines_html(outcome["error"]))
            return
        if "opened" in outcome:
            project = outcome["opened"]
            self.status.object = _state("completed", f"Compressed: "
                                                     f"{text_html(project.name)}.")
            self.open_project(project, project.name)
            return
        points = outcome.get("points")
        if points is None:
            return  # cleared: the project was replaced while it ran
        if not points:
            self.status.object = _state("cancelled" if cancelled else "error",
                                        "No point was measured.")
            return
        self.points, self._swept = points, outcome["swept"]
        state = "cancelled" if cancelled else "completed"
        self.progress.value = 1000 if state == "completed" else self.progress.value
        self.status.object = _state(state, f"{len(points)} of {self._swept['total']} points "
                                           f"measured{' (cancelled)' if cancelled else ''}.")
        name = self._swept["project"].name
        self.pareto.export_name = file_stem(name, None, "compression-pareto")
        options = {("before (uncompressed)" if i == 0 else p.label): i
                   for i, p in enumerate(points)}
        best = max(range(1, len(points)), key=lambda i: points[i].accuracy, default=0)
        self.choice.param.update(options=options, value=best)
        self.open_button.disabled = len(points) < 2
        self._show()
        self.results.visible = True

    # ------------------------------------------------------------------ showing
    def _show(self) -> None:
        if not self.points or self.profile.value is None:
            return
        profile = self.profile.value
        profiles = self.profiles()
        frame = points_frame(self.points, profile)
        name = profiles[profile].name if profile in profiles else profile
        self.pareto.param.update(points=frame, profile_name=name, selected=self.choice.value)
        self._tables(frame)

    def _chosen(self) -> None:
        i = self.choice.value
        self.open_button.disabled = self.job.busy or i is None or i == 0
        if self.points and i is not None:
            self.pareto.selected = i
            self._tables(points_frame(self.points, self.profile.value))

    def _tapped(self) -> None:
        i = self.pareto.selected
        if i is not None and i != self.choice.value and i in self.choice.values:
            self.choice.value = i

    def _tables(self, frame) -> None:
        i = self.choice.value if self.choice.value is not None else 0
        before, after = frame.iloc[0], frame.iloc[i]
        rows = [("accuracy", percent(before.accuracy), percent(after.accuracy),
                 "accuracy"),
                ("synaptic events per inference", f"{before.synaptic_events:,.0f}",
                 f"{after.synaptic_events:,.0f}", "events"),
                (f"energy per inference ({self.profile.value})", before.energy_text,
                 after.energy_text, "energy"),
                ("model size", before.size_text, after.size_text, "size"),
                ("neurons", f"{before.neurons:,}", f"{after.neurons:,}", "neurons"),
                ("synapses", f"{before.synapses:,}", f"{after.synapses:,}", "synapses")]
        body = "".join(f'<tr data-row="{key}"><th>{text_html(what)}</th>'
                       f'<td class="ss-num">{text_html(a)}</td>'
                       f'<td class="ss-num">{text_html(b)}</td></tr>'
                       for what, a, b, key in rows)
        self.before_after.object = (
            f'<table class="ss-eval-table" data-testid="compression-before-after" '
            f'data-index="{i}"><tr><th></th><th>before (uncompressed)</th>'
            f'<th>after ({text_html(after.label)})</th></tr>{body}</table>')
        lines = "".join(
            f'<tr data-index="{k}" data-accuracy="{r.accuracy}" data-energy-j="{r.energy_j}" '
            f'data-size-bytes="{r.size_bytes}" data-front="{str(r.on_front).lower()}"'
            f'{_CHOSEN if k == i else ""}>'
            f'<td>{"before" if r.baseline else text_html(r.label)}</td>'
            f'<td class="ss-num">{percent(r.accuracy)}</td>'
            f'<td class="ss-num">{r.synaptic_events:,.0f}</td>'
            f'<td class="ss-num">{text_html(r.energy_text)}</td>'
            f'<td class="ss-num">{r.size_bytes:,}</td>'
            f'<td>{"yes" if r.on_front else ""}</td></tr>'
            for k, r in enumerate(frame.itertuples()))
        self.table.object = (
            f'<table class="ss-eval-table" data-testid="compression-table"><tr><th>settings'
            f'</th><th>accuracy</th><th>synaptic events / inference</th><th>energy / '
            f'inference</th><th>size (bytes)</th><th>Pareto front</th></tr>{lines}</table>'
            f'<p class="ss-hint">Model size: weights at their bits (32 unquantised) in the '
            f'cheaper of a dense or a sparse layout, plus each population\'s parameters '
            f'(engine.compression.size). Energy: the test run\'s operations priced on the '
            f'chosen profile, per sample.</p>')


def _state(state: str, markup: str) -> str:
    return state_html(state, markup, "compression-state")
