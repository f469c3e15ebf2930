"""The result views every run has: Activity, Traces and Summary (Lab notes: lab_notes_tab).

They are entries of ``workbench.views.VIEWS`` like every other tab. The Activity tab shows
what :class:`~workbench.results_view.ResultsView` draws while a run goes on (raster, rates and
neuron panel share the run's time cursor, live stream and graph highlight, so the results view
owns them); Traces and Summary own their plot and table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import panel as pn

from engine.core.results import SimulationResult
from widgets.summary import SummaryTable
from widgets.traces import TracePlot, trace_items_from_frame
from workbench.run_snapshot import result_populations
from workbench.view_protocol import ResultView, ViewContext


@dataclass
class ActivityDisplay:
    """What the Activity tab shows: ``panel``, whose ``plots`` are refitted when it opens."""

    panel: Any
    plots: list[Any] = field(default_factory=list)

    def refit(self) -> None:
        """Fit the plots to their data (a hidden tab's plots are not laid out meanwhile)."""
        for plot in self.plots:
            plot.refit()


class ActivityTab(ResultView):
    """The run's status line, spike download, raster, rates and neuron panel."""

    title: ClassVar[str] = "Activity"
    key: ClassVar[str] = "activity"

    def __init__(self, context: ViewContext | None = None, **params: Any):
        super().__init__(context, **params)
        self.display = self.context.activity or ActivityDisplay(pn.Column())

    def __panel__(self):
        return self.display.panel

    def shown(self) -> None:
        self.display.refit()


class TracesTab(ResultView):
    """The recorded state traces of the shown run, with its spikes marked.

    Lazy: building the trace figure took most of the server's time after a run, for a tab
    nobody was looking at.
    """

    title: ClassVar[str] = "Traces"
    key: ClassVar[str] = "traces"
    lazy: ClassVar[bool] = True

    def __init__(self, context: ViewContext | None = None, **params: Any):
        super().__init__(context, **params)
        self.traces = TracePlot(x_range=self.context.x_range, height=260,
                                title="Recorded traces (state monitors)")

    def __panel__(self):
        return pn.Column(self.traces, sizing_mode="stretch_width")

    def set_result(self, result: SimulationResult) -> None:
        marks = {(rec.population, int(n)): result.neuron_spike_times(rec.population, int(n))
                 for rec in result.traces.values() for n in rec.neurons}
        units = {v: u for rec in result.traces.values() for v, u in rec.units.items()}
        self.traces.traces = trace_items_from_frame(result.traces_frame(), marks, units)

    def shown(self) -> None:
        self.traces.refit()

    def clear(self) -> None:
        self.traces.traces = []

    def set_export_name(self, name: Callable[[str], str]) -> None:
        self.traces.export_name = name("traces")


class SummaryTab(ResultView):
    """Per-population statistics of the shown run (and whether its spikes were recorded)."""

    title: ClassVar[str] = "Summary"
    key: ClassVar[str] = "summary"

    def __init__(self, context: ViewContext | None = None, **params: Any):
        super().__init__(context, **params)
        self.summary = SummaryTable()

    def __panel__(self):
        return pn.Column(self.summary, sizing_mode="stretch_width")

    def set_result(self, result: SimulationResult) -> None:
        if result.duration_ms <= 0:
            return
        shown = self.context.shown_run() if self.context.shown_run is not None else None
        record = shown[1].record_spikes if shown is not None else "all"
        sizes, every = result_populations(result, record)
        summary = result.population_summary(every)
        summary["recorded"] = summary["population"].astype(str).isin(sizes)
        self.summary.summary = summary

    def clear(self) -> None:
        self.summary.summary = None
