"""The Sweep tab: run the project over one or two parameters' ranges with several seeds.

The sweep is :mod:`engine.sweep`'s (the same as ``spikestudio sweep``): its tasks run in a
pool of worker processes of their own (:class:`engine.executor.local.LocalPoolExecutor`),
at most ``spikestudio serve --max-sweep-workers`` per sweep so one person's sweep cannot take
every core of a class server, each run under the server's per-run caps. The plot fills as
tasks finish; Stop drops the queued tasks and keeps the finished rows; a click on a point
opens the project with that point's values; the rows download as CSV.
"""

from __future__ import annotations

import copy
import io
import os
import threading
from typing import Any

import pandas as pd
import panel as pn

from engine.errors import SpikeStudioError
from engine.executor.local import LocalPoolExecutor
from engine.project import Project
from engine.sweep import plan_sweep, rows_frame, run_sweep
from engine.sweep.fields import resolve_field, set_field
from engine.sweep.summary import metric_columns, over_seeds
from widgets.sweep_plot import SweepPlot
from workbench import runner
from workbench.background import BackgroundJob
from workbench.style import error_html, html_pane, state_html, text_html
from workbench.view_protocol import ResultView, ViewContext

#: Environment variable of ``spikestudio serve --max-sweep-workers``.
ENV_MAX_SWEEP_WORKERS = "SPIKESTUDIO_MAX_SWEEP_WORKERS"
#: Most points per swept parameter on the page (the CLI has no such limit).
MAX_POINTS = 50
NONE = "(none)"


def max_sweep_workers() -> int:
    """Worker processes one sweep may use: ``--max-sweep-workers`` (default 1)."""
    try:
        return max(1, int(os.environ.get(ENV_MAX_SWEEP_WORKERS, "1")))
    except ValueError:
        return 1


def sweepable_fields(project: Project) -> list[str]:
    """``NODE.PARAM`` of every numeric parameter of populations and encoders, and
    ``PROJECTION.weight`` / ``.delay_ms`` where they are plain numbers."""
    names = []
    for node in project.network.nodes:
        if node.kind == "monitor":
            continue
        names += [f"{node.id}.{k}" for k, v in node.resolved_params().items()
                  if isinstance(v, int | float) and not isinstance(v, bool)]
    for proj in project.network.projections:
        names += [f"{proj.id}.{k}" for k in ("weight", "delay_ms")
                  if isinstance(getattr(proj, k), int | float)]
    return names


def sweep_this_parameter(names: list[str], on_sweep: Any) -> pn.Row:
    """The inspector's "Sweep this parameter": a choice of the shown item's sweepable
    ``names`` and a button calling ``on_sweep(name)``."""
    choice = pn.widgets.Select(options=names, width=170, css_classes=["ss-sweep-this-field"])
    button = pn.widgets.Button(label="Sweep this parameter", css_classes=["ss-sweep-this"])
    button.on_click(lambda _: on_sweep(choice.value))
    return pn.Row(choice, button, sizing_mode="stretch_width")


class SweepTab(ResultView):
    """Parameter sweep of the session's project (it does not use a run's result)."""

    title, key = "Sweep", "sweep"

    def __init__(self, context: ViewContext | None = None, **params: Any):
        super().__init__(context, **params)
        self.document: dict | None = None
        self.fields: list[str] = []
        self.rows = pd.DataFrame()
        self.field1 = pn.widgets.Select(label="Parameter", options=[], css_classes=["ss-sweep-f1"])
        self.start1 = pn.widgets.FloatInput(label="from", value=10.0, width=90,
                                            css_classes=["ss-sweep-start1"])
        self.stop1 = pn.widgets.FloatInput(label="to", value=30.0, width=90,
                                           css_classes=["ss-sweep-stop1"])
        self.num1 = pn.widgets.IntInput(label="points", value=5, start=1, end=MAX_POINTS,
                                        width=80, css_classes=["ss-sweep-num1"])
        self.field2 = pn.widgets.Select(label="Second parameter", options=[NONE])
        self.start2 = pn.widgets.FloatInput(label="from", value=0.0, width=90)
        self.stop2 = pn.widgets.FloatInput(label="to", value=1.0, width=90)
        self.num2 = pn.widgets.IntInput(label="points", value=3, start=1, end=MAX_POINTS,
                                        width=80)
        self.seeds = pn.widgets.IntInput(label="seeds", value=2, start=1, end=100, width=80,
                                         css_classes=["ss-sweep-seeds"])
        self.run_button = pn.widgets.Button(label="Run sweep", color="primary",
                                            css_classes=["ss-sweep-run"])
        self.stop_button = pn.widgets.Button(label="Stop", disabled=True,
                                             css_classes=["ss-sweep-stop"])
        self.metric = pn.widgets.Select(label="Show", options=[], css_classes=["ss-sweep-metric"])
        self.progress = pn.indicators.Progress(value=0, max=1, sizing_mode="stretch_width",
                                               visible=False)
        self.state = html_pane(state_html("idle", "Choose a parameter and its range, then Run "
                                                  "sweep.", "sweep-state"))
        self.download = pn.widgets.FileDownload(callback=self._csv, filename="sweep.csv",
                                                label="Download CSV", disabled=True,
                                                css_classes=["ss-sweep-csv"])
        self.plot = SweepPlot(on_pick=self._open_point)
        self.run_button.on_click(lambda _: self.start())
        self.stop_button.on_click(lambda _: self.job.cancel())
        self.metric.param.watch(lambda _: self._draw(), "value")
        self.job = BackgroundJob("spikestudio-sweep", self._show_progress, self._done)
        self._lock = threading.Lock()
        self._layout = pn.Column(
            pn.Row(self.field1, self.start1, self.stop1, self.num1),
            pn.Row(self.field2, self.start2, self.stop2, self.num2),
            pn.Row(self.seeds, self.run_button, self.stop_button, self.download),
            self.progress, self.state, self.metric, self.plot.pane,
            sizing_mode="stretch_width")

    def __panel__(self) -> Any:
        return self._layout

    # ------------------------------------------------------------------ the protocol
    def set_project(self, document: dict) -> None:
        self.document = document
        try:
            # The session's project is validated once per change: not validated again here.
            get_project = self.context.get_project
            names = sweepable_fields(get_project() if get_project is not None
                                     else Project.from_dict(document))
        except SpikeStudioError:
            return  # an invalid project keeps the last options; Run says what is wrong
        keep = self.field1.value
        self.field1.options = names
        if keep in names:
            self.field1.value = keep
        self.field2.options = [NONE, *names]

    def choose(self, name: str) -> None:
        """Preselect ``name`` (``NODE.PARAM``) as the first parameter ("Sweep this
        parameter"), with a range around its current value."""
        if name not in self.field1.options:
            return
        self.field1.value = name
        value = self._current(name)
        if isinstance(value, int | float) and value:
            self.start1.value, self.stop1.value = 0.5 * value, 1.5 * value
            if self.start1.value > self.stop1.value:
                self.start1.value, self.stop1.value = self.stop1.value, self.start1.value

    def clear(self) -> None:
        self.job.forget()

    def close(self) -> None:
        self.job.forget()

    # ------------------------------------------------------------------ running
    def _current(self, name: str) -> Any:
        if self.document is None:
            return None
        try:
            node = self.document
            for key in resolve_field(self.document, name):
                node = node[key]
            return node
        except (SpikeStudioError, KeyError, IndexError, TypeError):
            return None

    def _sets(self) -> list[str]:
        sets = [f"{self.field1.value}={self.start1.value!r}:{self.stop1.value!r}:"
                f"{self.num1.value}"]
        if self.field2.value not in (None, NONE):
            sets.append(f"{self.field2.value}={self.start2.value!r}:{self.stop2.value!r}:"
                        f"{self.num2.value}")
        return sets

    def start(self) -> bool:
        """Plan the sweep and start it; a bad request is shown, nothing runs."""
        if self.job.busy or self.document is None or not self.field1.value:
            return False
        _, limits = runner.server_config()
        try:
            plan = plan_sweep(self.document, self._sets(), seeds=int(self.seeds.value),
                              limits=limits)
        except SpikeStudioError as exc:
            self.state.object = error_html(str(exc), "sweep-error")
            return False
        self.fields = [f.name for f in plan.fields]
        self.rows = pd.DataFrame()
        self.progress.max, self.progress.value, self.progress.visible = plan.size, 0, True
        self.run_button.disabled, self.stop_button.disabled = True, False
        self.download.disabled = True
        self.state.object = state_html("running", text_html(
            f"Running {plan.size} simulations ({len(plan.points)} points x {plan.seeds} "
            f"seeds) on {max_sweep_workers()} worker processes ..."), "sweep-state")
        rows: list[dict] = []

        def work(outcome: dict, cancel: threading.Event) -> None:
            def on_row(row: dict, done: int, total: int) -> None:
                with self._lock:
                    rows.append(row)
                    self.job.report((list(rows), done, total))

            with LocalPoolExecutor(workers=max_sweep_workers()) as executor:
                result = run_sweep(plan, executor, cancel=cancel, on_row=on_row)
            outcome["outcome"] = result

        return self.job.start(work)

    def _show_progress(self, latest: tuple[list[dict], int, int]) -> None:
        rows, done, total = latest
        self.progress.value = done
        self.rows = rows_frame(rows)
        self.state.object = state_html("running", text_html(
            f"{done} of {total} simulations done ..."), "sweep-state")
        self._draw()

    def _done(self, outcome: dict, cancelled: bool) -> None:
        self.run_button.disabled, self.stop_button.disabled = False, True
        self.progress.visible = False
        result = outcome.get("outcome")
        if result is not None:
            self.rows = result.rows
        if outcome.get("error") or (result is not None and result.error):
            self.state.object = error_html(outcome.get("error") or result.error,
                                           "sweep-error")
        else:
            state = "cancelled" if cancelled else "completed"
            failed = int((self.rows["status"] != "completed").sum()) if len(self.rows) else 0
            self.state.object = state_html(state, text_html(
                f"{'Stopped' if cancelled else 'Done'}: {len(self.rows)} simulations"
                + (f", {failed} did not complete (see the CSV's error column)" if failed
                   else "") + "."), "sweep-state")
        self.download.disabled = self.rows.empty
        self._draw()

    # ------------------------------------------------------------------ showing
    def _draw(self) -> None:
        if self.rows.empty or not self.fields:
            return
        metrics = metric_columns(self.rows, self.fields)
        if list(self.metric.options) != metrics:
            keep = self.metric.value
            self.metric.options = metrics
            self.metric.value = keep if keep in metrics else next(
                (m for m in metrics if m.endswith(".rate_hz")), metrics[0])
        summary = over_seeds(self.rows, self.fields, self.metric.value)
        self.plot.show(summary, self.fields, self.metric.value)

    def _csv(self) -> io.StringIO:
        return io.StringIO(self.rows.to_csv(index=False))

    def _open_point(self, values: dict) -> None:
        """Open the project with a clicked point's values (unsaved, like an upload)."""
        if self.document is None or self.context.open_project is None:
            return
        document = copy.deepcopy(self.document)
        try:
            for name, value in values.items():
                set_field(document, resolve_field(document, name), value)
            project = Project.from_dict(document)
        except SpikeStudioError as exc:
            self.state.object = error_html(str(exc), "sweep-error")
            return
        label = ", ".join(f"{k}={v:g}" for k, v in values.items())
        self.context.open_project(project, f"{project.name} ({label})")
