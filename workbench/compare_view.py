"""The Compare tab: a pinned run next to the current one, so a parameter's effect is one look.

"Pin this run" (beside the results' header, whatever tab is open) keeps the run shown as a
:class:`~workbench.run_snapshot.RunSnapshot`. The pin stays through later runs of the project
until it is unpinned, replaced by pinning another run, or dropped because another project was
opened. The tab shows what changed in the project between the two runs
(:func:`engine.analysis.project_diff.project_differences`), a table of statistics per population
with the change (:func:`engine.analysis.run_comparison.comparison_table`), both rasters on one time
axis
and the rate curves overlaid (pinned dashed).

Memory: one pin per session, holding the pinned run's spikes and a few rows of statistics
(traces and weights are dropped); its size is shown next to the pin.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import panel as pn
from bokeh.models import Range1d

from engine.analysis.project_diff import difference_lines, project_differences
from engine.analysis.run_comparison import common_bin_ms, comparison_table
from engine.core.results import SimulationResult
from engine.spike_stats import population_rates
from widgets.palette import population_colors
from widgets.plot_format import file_stem
from widgets.plot_tools import set_range
from widgets.raster import RasterPlot
from widgets.run_comparison import ComparisonTable, RateComparisonPlot
from widgets.session_thread import run_in_session
from workbench.result_stamp import document_revision
from workbench.run_snapshot import RunSnapshot, snapshot
from workbench.style import html_pane, text_html
from workbench.view_protocol import ResultView, ViewContext

#: Most lines of the "what changed" list (the last one then says how many more).
MAX_DIFF_LINES = 12

_HOW_TO = ("Press <b>Pin this run</b> (above the tabs) to keep the run shown, change a "
           "parameter, run again and come back here: both runs are shown one above the "
           "other, with what changed and how the statistics moved. The pin stays through "
           "later runs of this project; opening another project drops it.")


class CompareTab(ResultView):
    """A pinned run and the current run: differences, statistics, rasters and rates."""

    title, key, lazy = "Compare", "compare", True

    def __init__(self, context: ViewContext | None = None, **params: Any):
        super().__init__(context, **params)
        self.pinned: RunSnapshot | None = None
        self.current: RunSnapshot | None = None
        self._current_of: SimulationResult | None = None  # the result `current` is of
        self._dropped: str | None = None  # header of a pin dropped with its project
        self._document: dict | None = None  # the session's project document now
        self.pin_button = pn.widgets.Button(
            label="Pin this run", width=110, css_classes=["ss-pin"],
            description="Keep the run shown to compare later runs with it (the Compare tab); "
                        "replaces the run pinned before")
        self.unpin_button = pn.widgets.Button(label="Unpin", width=70, disabled=True,
                                              css_classes=["ss-unpin"])
        self.pin_button.on_click(lambda e: self.pin())
        self.unpin_button.on_click(lambda e: self.unpin())
        self.pin_status = html_pane(self._pin_html(), sizing_mode="stretch_width")
        self._tools = pn.Row(self.pin_button, self.unpin_button, self.pin_status,
                             sizing_mode="stretch_width", css_classes=["ss-pin-bar"])
        self.status = html_pane(self._status_html(), sizing_mode="stretch_width")
        self.diff = html_pane("", sizing_mode="stretch_width")
        self.table = ComparisonTable()
        self.download = pn.widgets.FileDownload(
            callback=self._table_csv, filename="comparison.csv", label="Download table (CSV)",
            width=200, disabled=True, css_classes=["ss-compare-csv"])
        self.x_range = Range1d(0.0, 1.0)  # both rasters and the rates: one time axis
        self.pinned_raster: RasterPlot | None = None  # built with the first comparison
        self.current_raster: RasterPlot | None = None
        self.rates: RateComparisonPlot | None = None
        self._plots = pn.Column(sizing_mode="stretch_width", visible=False)
        self._layout = pn.Column(self.status, self.diff, self.table, self.download,
                                 self._plots, sizing_mode="stretch_width")

    def __panel__(self):
        return self._layout

    def header_tools(self) -> pn.Row:
        """Pin / Unpin and what is pinned, beside the results' header line."""
        return self._tools

    # ------------------------------------------------------------------ protocol
    def set_result(self, result: SimulationResult) -> None:
        """The Compare tab was opened or a run finished while it is open."""
        self._take_current()
        self._render()

    def set_project(self, document: dict) -> None:
        self._document = document
        if self.pinned is not None and self.current is not None:
            self.status.object = self._status_html()

    def clear(self) -> None:
        """Another project was opened: its runs are not comparable with the pinned one."""
        if self.pinned is not None:
            self._dropped = self.pinned.header
            if self.context.lifetimes is not None:
                # Said until the next run or project: then it is old news.
                self.context.lifetimes.hold("compare-dropped-pin", "run",
                                           self._forget_dropped)
        self.pinned = self.current = self._current_of = None
        self._show_pin()
        self._render()

    def _forget_dropped(self) -> None:
        if self._dropped is not None:
            self._dropped = None
            self._show_pin()
            self._render()

    def set_export_name(self, name: Callable[[str], str]) -> None:
        # Named after both runs' stamps instead (see _name_exports).
        self._name_exports()

    def close(self) -> None:
        self.pinned = self.current = self._current_of = None  # the session ended

    # ------------------------------------------------------------------ pin
    def pin(self) -> None:
        """Pin the run the result tabs show (replacing the pinned run)."""
        shown = self.context.shown_run() if self.context.shown_run is not None else None
        self._dropped = None
        if shown is None:
            self.pin_status.object = self._pin_html("Nothing to pin yet: run the project first.")
            return
        result, stamp, document = shown
        self.pinned = snapshot(result, stamp, document)
        self.current, self._current_of = self.pinned, result
        self._show_pin()
        self._render()

    def unpin(self) -> None:
        """Forget the pinned run."""
        self.pinned = None
        self._dropped = None
        self._show_pin()
        self._render()

    def _take_current(self) -> None:
        """Keep a snapshot of the run shown now (the pinned one when it is that run)."""
        shown = self.context.shown_run() if self.context.shown_run is not None else None
        if shown is None:
            self.current = self._current_of = None
            return
        result, stamp, document = shown
        if result is self._current_of:
            return
        pinned = self.pinned
        same = pinned is not None and pinned.stamp is stamp and pinned.spikes is result.spikes
        self.current = pinned if same else snapshot(result, stamp, document)
        self._current_of = result

    # ------------------------------------------------------------------ text
    def _show_pin(self) -> None:
        self.pin_status.object = self._pin_html()
        self.unpin_button.disabled = self.pinned is None

    def _pin_html(self, note: str | None = None) -> str:
        p = self.pinned
        if note is not None:
            body, run = text_html(note), ""
        elif p is not None:
            run = str(p.stamp.run)
            body = (f'Pinned: <b>{text_html(p.header)}</b> &middot; '
                    f'{p.nbytes / 2**20:,.1f} MB &middot; see the <b>Compare</b> tab')
        elif self._dropped is not None:
            run = ""
            body = (f'The pinned run ({text_html(self._dropped)}) was dropped: another '
                    f'project was opened, and a pin belongs to one project.')
        else:
            run, body = "", "No run pinned."
        return (f'<div class="ss-pin-status ss-hint" data-testid="pin-status" '
                f'data-run="{run}">{body}</div>')

    def _status_html(self) -> str:
        p, c = self.pinned, self.current
        if p is None or c is None:
            dropped = ""
            if self._dropped is not None:
                dropped = (f'<p>The pinned run ({text_html(self._dropped)}) was dropped when '
                           f'another project was opened.</p>')
            return (f'<div class="ss-compare-status" data-testid="compare-status" '
                    f'data-state="empty">{dropped}<p class="ss-hint">{_HOW_TO}</p></div>')
        same = p is c
        lines = [f'Pinned: <b>{text_html(p.header)}</b> (dashed) &middot; shown: '
                 f'<b>{text_html(c.header)}</b>']
        if same:
            lines.append("The pinned run is the run shown: change a parameter and run "
                         "again to compare.")
        elif self._document is not None and document_revision(self._document) != \
                c.stamp.revision:
            lines.append(f"The project has been edited since run {c.stamp.run}: run again "
                         f"to compare those edits too.")
        state = "same" if same else "compared"
        return (f'<div class="ss-compare-status" data-testid="compare-status" '
                f'data-state="{state}" data-pinned="{p.stamp.run}" data-current="{c.stamp.run}">'
                + "<br>".join(lines) + "</div>")

    def _diff_html(self) -> str:
        p, c = self.pinned, self.current
        if p is None or c is None or p.stamp is c.stamp:
            return ""
        diffs = project_differences(p.document, c.document)
        if diffs:
            items = "".join(f"<li>{text_html(line)}</li>"
                            for line in difference_lines(diffs, MAX_DIFF_LINES))
            body = (f"<b>What changed from run {p.stamp.run} to run {c.stamp.run}</b> "
                    f"({len(diffs)}):<ul>{items}</ul>")
        elif p.stamp.revision == c.stamp.revision:
            body = (f"<b>Nothing changed</b> between run {p.stamp.run} and run {c.stamp.run}: "
                    f"the same project version (and seed) gives the same spikes.")
        else:
            body = ("<b>Only names or labels changed</b>: both runs computed the same model.")
        return (f'<div class="ss-compare-diff" data-testid="compare-diff" '
                f'data-count="{len(diffs)}">{body}</div>')

    # ------------------------------------------------------------------ plots
    def _render(self) -> None:
        p, c = self.pinned, self.current
        self.status.object = self._status_html()
        self.diff.object = self._diff_html()
        compared = p is not None and c is not None
        self.download.disabled = not compared
        if not compared:
            self.table.table = None
            self._plots.visible = False
            for raster in (self.pinned_raster, self.current_raster):
                if raster is not None:
                    raster.param.update(spikes=None, sizes={}, duration_ms=None)
            if self.rates is not None:
                self.rates.param.update(pinned=None, current=None)
            return
        self.table.param.update(table=comparison_table(p.statistics, c.statistics),
                                pinned_label=f"run {p.stamp.run} (pinned)",
                                current_label=f"run {c.stamp.run}")
        self._build_plots()
        # One colour per population in both rasters and the rates.
        names = list(c.raster_sizes) + [n for n in p.raster_sizes if n not in c.raster_sizes]
        colors = population_colors(names)
        for raster, run, what in ((self.pinned_raster, p, "Pinned"),
                                  (self.current_raster, c, "Shown")):
            raster.param.update(spikes=run.spikes, sizes=run.raster_sizes, colors=colors,
                                duration_ms=max(run.duration_ms, 1e-3))
            title = f"{what}: {run.header}"
            run_in_session(raster.figure.document,
                           lambda fig=raster.figure, title=title: setattr(fig.title, "text",
                                                                          title))
        end = max(p.duration_ms, c.duration_ms, 1e-3)
        run_in_session(self.pinned_raster.figure.document,
                       lambda: set_range(self.x_range, 0.0, end))
        bin_ms = common_bin_ms(p.duration_ms, c.duration_ms)
        self.rates.param.update(
            pinned=population_rates(p.spikes, p.raster_sizes, p.duration_ms, bin_ms=bin_ms),
            current=population_rates(c.spikes, c.raster_sizes, c.duration_ms, bin_ms=bin_ms),
            colors=colors, pinned_label=f"run {p.stamp.run} (pinned)",
            current_label=f"run {c.stamp.run}")
        self._name_exports()
        self._plots.visible = True

    def _build_plots(self) -> None:
        if self.rates is not None:
            return
        self.pinned_raster = RasterPlot(x_range=self.x_range, height=240, title="Pinned run")
        self.current_raster = RasterPlot(x_range=self.x_range, height=240, title="Shown run")
        self.rates = RateComparisonPlot(x_range=self.x_range)
        self._plots.objects = [self.pinned_raster, self.current_raster, self.rates]

    def _name_exports(self) -> None:
        """Downloads are named after the project and both runs."""
        p, c = self.pinned, self.current
        if p is None or c is None:
            return
        def name(what: str) -> str:
            return file_stem(c.stamp.project, c.stamp.run, f"{what}-vs-run{p.stamp.run}")

        self.download.filename = f"{name('comparison')}.csv"
        if self.rates is not None:
            self.rates.export_name = name("rates")
            self.current_raster.export_name = file_stem(c.stamp.project, c.stamp.run, "raster")
            self.pinned_raster.export_name = file_stem(p.stamp.project, p.stamp.run,
                                                       "raster-pinned")

    def _table_csv(self) -> io.StringIO:
        """The comparison table, one row per population (as the tab shows it, unrounded)."""
        out = io.StringIO()
        table = self.table.table
        if table is not None:
            table.to_csv(out, index=False, float_format="%.10g")
        out.seek(0)
        return out
