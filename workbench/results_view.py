"""The result tabs (``workbench.views.VIEWS``) and the run display they share.

The results view owns what a run is shown with whatever tab is open: its header line, the
time cursor, and the raster, rates and neuron panel (drawn live while it runs; the Activity tab
shows them). Every tab is a :class:`~workbench.view_protocol.ResultView` it hands the result
and project to. Analyses come from ``engine.spike_stats`` (no logic is re-implemented
here). The raster owns the time axis; rates, traces, weights and energy share it.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

import panel as pn

from engine.analysis.activity import NetworkActivity, run_activity
from engine.core.results import SimulationResult
from engine.encoders import CURRENT_ENCODERS
from engine.spike_stats import population_rates
from widgets.graph_editor import activity_data
from widgets.plot_format import file_stem, recorded_populations, spike_count_text
from widgets.raster import RasterPlot
from widgets.rates import RatePlot
from widgets.time_cursor import TimeCursor
from workbench import runner
from workbench.builtin_views import ActivityDisplay
from workbench.neuron_panel import NeuronPanel, Prober
from workbench.result_stamp import (
    ResultStamp,
    document_revision,
    header_html,
    live_header_html,
)
from workbench.run_snapshot import result_populations
from workbench.style import html_pane, text_html
from workbench.view_protocol import ResultView, ViewContext
from workbench.views import build_views

#: The time cursor stays in view while the page scrolls between the graph and the plots.
_CURSOR_STYLES = {"position": "sticky", "top": "0", "bottom": "0", "z-index": "20"}


class ResultsView(pn.viewable.Viewer):
    """Tabs showing the last result of a session, and whose result it is.

    A result belongs to one run of one project version (a :class:`ResultStamp`, taken by
    :meth:`run_started`). :meth:`clear` forgets it everywhere (every tab, the status line, the
    downloads, the time cursor and the graph's activity) when the project is replaced; a
    header line names the run and says when the project has been edited since.

    ``cursor`` is the run's :class:`~widgets.time_cursor.TimeCursor` (the app places it); its
    line is drawn in every time plot, and a graph editor linked with :meth:`link_graph` shows
    the run's activity at the cursor. ``probe`` records a neuron again for the neuron panel
    (default: in a simulation worker, :func:`workbench.runner.probe`).

    Its tabs are ``views`` (default ``workbench.views.VIEWS``), built with ``context`` (the
    session's side of a :class:`~workbench.view_protocol.ViewContext`) completed with the time
    axis, cursor, shown run and activity display of this view; more can be added
    (:meth:`add_view`).
    """

    def __init__(self, probe: Prober | None = None, context: ViewContext | None = None,
                 views: Sequence[type[ResultView]] | None = None, **params: Any):
        super().__init__(**params)
        self.result: SimulationResult | None = None
        self.stamp: ResultStamp | None = None
        self._pending: ResultStamp | None = None
        self._pending_document: dict | None = None
        #: While a run is drawn live: (its stamp, t_ms, spikes so far, requested ms).
        self._live: tuple[ResultStamp, float, int, float | None] | None = None
        #: (stamp, live spikes the raster holds) while the raster is streamed a live run.
        self._streamed: tuple[ResultStamp, int] | None = None
        #: The project document the shown result was run from (the report describes it).
        self.run_document: dict | None = None
        self._document: dict | None = None
        self.run_count = 0  # runs started for the current project
        self.header = html_pane(header_html(None, None), sizing_mode="stretch_width")
        # The header line, then the controls views put beside it (ResultView.header_tools).
        self._header_row = pn.Row(self.header, sizing_mode="stretch_width",
                                  css_classes=["ss-result-header-row"])
        self.raster = RasterPlot(height=360, title="Spike raster")
        self.rates = RatePlot(x_range=self.raster.x_range, height=200)
        self.cursor = TimeCursor(visible=False, css_classes=["ss-cursor-bar"],
                                 styles=_CURSOR_STYLES)
        #: Activity frames of the shown result (engine.analysis.activity), None without a result.
        self.network_activity: NetworkActivity | None = None
        self._graph: Any = None  # a GraphEditor showing the activity (link_graph)
        # The neuron panel sits beside the raster; choosing a neuron there selects it in
        # the raster, and every selection (click, breakpoint, ranking) shows it there.
        self.neuron_panel = NeuronPanel(x_range=self.raster.x_range, probe=probe)
        self.neuron_panel.on_pick = self._pick
        self.status = html_pane(self._status_html(), sizing_mode="stretch_width")
        self.download_spikes = pn.widgets.FileDownload(
            callback=self._spikes_csv, filename="spikes.csv", label="Download spikes (CSV)",
            width=200, disabled=True, css_classes=["ss-download-spikes"])
        self.views: list[ResultView] = []  # one per tab, in tab order
        self._shown: dict[int, Any] = {}  # id(view) -> the result it was given
        self.raster.param.watch(self._on_select, "selected")
        # The plots join the page with the first result: an empty raster and rate plot
        # only delayed the first page.
        self.activity = pn.Column(pn.Row(self.status, self.download_spikes),
                                  sizing_mode="stretch_width")
        # The neuron panel wraps below the plots when the results column is narrow.
        self._activity_body = pn.FlexBox(pn.Column(self.raster, self.rates,
                                                   sizing_mode="stretch_width",
                                                   styles={"flex": "1 1 520px"}),
                                         self.neuron_panel, flex_wrap="wrap",
                                         sizing_mode="stretch_width")
        # Only the visible tab is laid out in the browser: rendering every result view at
        # once made the page freeze for seconds after each run.
        self.tabs = pn.Tabs(dynamic=True, sizing_mode="stretch_width")
        self.tabs.param.watch(self._on_tab, "active")
        context = replace(context or ViewContext(), x_range=self.raster.x_range,
                          cursor=self.cursor, shown_run=self.shown_run,
                          activity=ActivityDisplay(self.activity, [self.raster, self.rates]))
        for view in build_views(context, views):
            self.add_view(view)

    def __panel__(self):
        return pn.Column(self._header_row, self.tabs, sizing_mode="stretch_width")

    @property
    def document(self) -> dict | None:
        """The session's current project document (the header compares it with the run's)."""
        return self._document

    @document.setter
    def document(self, document: dict | None) -> None:
        self._document = document
        self._show_header()
        if document is not None:
            for view in self.views:
                view.set_project(document)

    def link_graph(self, editor: Any) -> None:
        """Show the shown run's activity at the time cursor on ``editor`` (a GraphEditor)."""
        self._graph = editor
        editor.cursor_channel = self.cursor.channel
        self._show_activity()

    def _show_activity(self) -> None:
        """Hand the graph the activity of the shown result (nothing without one)."""
        if self._graph is None:
            return
        act, r = self.network_activity, self.result
        if act is None or r is None:
            self._graph.activity = {}
            return
        current = self._current_nodes(r)
        self._graph.activity = activity_data(act, [n for n in act.rates_hz
                                                   if n not in current])

    def _show_header(self) -> None:
        r = self.result
        if self._live is not None:
            stamp, t_ms, spikes, requested = self._live
            self.header.object = live_header_html(stamp, t_ms, requested, spikes, self.stamp,
                                                  r.duration_ms if r is not None else None)
            return
        self.header.object = header_html(self.stamp, self._document,
                                         r.duration_ms if r is not None else None,
                                         r.status if r is not None else "completed")

    def add_view(self, view: ResultView) -> None:
        """Add a result view's tab after the others (see workbench.view_protocol).

        A ``lazy`` view is given a new result only when its tab is opened, so a run does not
        pay for analyses nobody is looking at.
        """
        self.views.append(view)
        self.tabs.append((view.title, view))
        tools = view.header_tools()
        if tools is not None:
            self._header_row.append(tools)
        if self._document is not None:
            view.set_project(self._document)

    def view(self, key: str) -> ResultView:
        """The view whose ``key`` is ``key`` (KeyError if there is none)."""
        for view in self.views:
            if view.key == key:
                return view
        raise KeyError(key)

    def open_view(self, view: ResultView) -> None:
        """Bring ``view``'s tab to the front."""
        self.tabs.active = self.views.index(view)

    def _view_in_tab(self, tab: int) -> ResultView | None:
        return self.views[tab] if 0 <= tab < len(self.views) else None

    def _on_tab(self, event) -> None:
        self._show_lazy(event.new)
        view = self._view_in_tab(event.new)
        if view is not None:
            # Views in a hidden tab are not laid out in the browser: fit them to the data now.
            view.shown()

    def _show_lazy(self, tab: int) -> None:
        """Give the lazy view in ``tab`` the current result unless it already has it."""
        view = self._view_in_tab(tab)
        if view is not None and view.lazy:
            self._give(view)

    def has_result(self, view: ResultView) -> bool:
        """Whether ``view`` has been given the result on show (a lazy one: its tab opened)."""
        return self.result is not None and self._shown.get(id(view)) is self.result

    def _give(self, view: ResultView) -> None:
        if self.result is not None and not self.has_result(view):
            self._shown[id(view)] = self.result
            view.set_result(self.result)

    def shown_run(self) -> tuple[SimulationResult, ResultStamp, dict] | None:
        """``(result, stamp, project document)`` of the run shown, or None (no result yet)."""
        if self.result is None or self.stamp is None or self.run_document is None:
            return None
        return self.result, self.stamp, self.run_document

    # ------------------------------------------------------------------ updates
    def show_document(self, document: dict) -> None:
        """The session's project document (every view's ``set_project``)."""
        self.document = document

    def run_started(self, document: dict) -> ResultStamp:
        """Take the stamp of a run of ``document`` that starts now (its result goes to show)."""
        self.run_count += 1
        sim = document.get("simulation", {})
        record = sim.get("record_spikes", "all")
        self._pending_document = document  # for the report of this run
        self._pending = ResultStamp(str(document.get("name") or "Untitled"),
                                    document_revision(document), self.run_count,
                                    datetime.now(), tuple(record) if isinstance(
                                        record, list) else str(record))
        # The raster now shows the new run as it goes: the old run's playback goes away. The
        # cursor bar stays in place (cleared, its controls disabled) until the run is shown:
        # hiding it and showing it again moved the results and made the browser lay out the
        # whole page twice per run.
        self._forget_activity(hide=False)
        return self._pending

    def clear(self) -> None:
        """Forget the result in every tab: the project was replaced (Open, New, upload).

        The ownership is dropped at once (a run still finishing is not shown); the plots are
        emptied on the session's next tick, because a button callback does not hold the
        document lock that changes of plain Bokeh models need.
        """
        self.result = self.stamp = self._pending = self._live = self._streamed = None
        self.run_document = self._pending_document = None
        self.run_count = 0
        self._shown.clear()
        self._forget_activity()
        self._show_header()
        self.status.object = self._status_html()
        self.download_spikes.param.update(disabled=True, filename="spikes.csv")
        # schedule=True: on the next tick, with this session as Panel's current document.
        pn.state.execute(self._clear_views, schedule=True)

    def release(self) -> None:
        """The page closed: drop every reference to its results so the server frees them
        (no redraw: the page is gone)."""
        self.result = self.stamp = self._pending = self._live = None
        self.run_document = self._pending_document = None
        self._shown.clear()
        self.network_activity = None

    def _forget_activity(self, hide: bool = True) -> None:
        """No run to play back: the cursor is cleared, the graph shows no activity.

        Parameters
        ----------
        hide : bool
            Hide the cursor bar too (False: it stays where it is, cleared, for a run that
            has just started).
        """
        self.network_activity = None
        self.cursor.clear()
        if hide:
            self.cursor.visible = False
        self._show_activity()

    def _clear_views(self) -> None:
        if self.result is not None:
            return  # a new run was shown in the meantime
        self.activity[:] = [self.activity[0]]
        self.raster.param.update(spikes=None, store=None, sizes={}, duration_ms=None,
                                 selected=None)
        self.rates.rates = None
        self.neuron_panel.clear()
        for view in self.views:
            view.clear()

    def show(self, result: SimulationResult, stamp: ResultStamp | None = None) -> bool:
        """Display a (possibly partial) result of the run started last.

        Returns False (and shows nothing) for a result whose run was started before the
        project was replaced: it belongs to another project.
        """
        stamp = stamp or self._pending
        if stamp is None:
            return False
        self.result, self.stamp = result, stamp
        self._live = None
        if stamp is self._pending:
            self.run_document = self._pending_document
        self._draw_activity(result, stamp)
        self._name_exports(stamp)
        self.status.object = self._status_html()
        self.download_spikes.disabled = not _downloadable(result)
        self._show_header()
        for view in self.views:
            if not view.lazy:
                self._give(view)
        self._show_lazy(self.tabs.active)
        return True

    def _draw_activity(self, result: SimulationResult, stamp: ResultStamp) -> None:
        """Raster, rates, neuron panel and time cursor of ``result``."""
        if len(self.activity) == 1:
            self.activity.append(self._activity_body)
        self._streamed = None  # the raster now holds this result, not a live stream
        # Current inputs carry no spikes, unrecorded nodes have none: no raster rows for them.
        sizes, _ = result_populations(result, stamp.record_spikes)
        self.neuron_panel.set_result(result, self.run_document, sizes)
        self._follow_selection()  # e.g. the neuron selected before a pause, or at it
        # Spikes kept on disk (too many for the server's memory) are drawn from the store.
        self.raster.param.update(spikes=result.spikes, store=result.spike_store, sizes=sizes,
                                 duration_ms=max(result.duration_ms, result.dt_ms))
        if result.duration_ms > 0:
            bin_ms = max(1.0, result.duration_ms / 200)
            self.rates.rates = result.population_rates(sizes, bin_ms)
        self._show_cursor(result)

    def end_live(self) -> None:
        """The run shown live ended without a result to show (it failed or was refused):
        the raster, rates, neuron panel and cursor go back to the result the tabs show."""
        if self._live is None:
            if self.network_activity is None:  # cleared when the run started: hide it
                self._forget_activity()
            return
        self._live = None
        if self.result is not None and self.stamp is not None:
            self._draw_activity(self.result, self.stamp)
            self._name_exports(self.stamp)
        else:
            self._streamed = None
            self.raster.param.update(spikes=None, store=None, sizes={}, duration_ms=None)
            self.rates.rates = None
        self.status.object = self._status_html()
        self._show_header()

    def _show_cursor(self, result: SimulationResult) -> None:
        """Play back ``result``: the cursor spans it, the graph gets its activity frames."""
        if result.duration_ms <= 0:
            self._forget_activity()
            return
        self.network_activity = run_activity(result)
        self.cursor.show_run(result.duration_ms, self.network_activity.step_ms)
        self.cursor.visible = True
        self._show_activity()

    def show_live(self, spikes, t_ms: float) -> None:
        """While the run started last goes on: the raster and rates of its spikes so far.

        ``spikes`` has the columns of ``SimulationResult.spikes`` and holds every spike so
        far, in arrival order (the rows given before come first); the raster is sent only the
        rows it has not drawn yet. The full result replaces this view when the run pauses or
        ends (:meth:`show`).
        """
        doc, stamp = self._pending_document, self._pending
        if doc is None or stamp is None or t_ms <= 0:
            return
        sizes = {n["id"]: int(n.get("size", 1)) for n in doc["network"]["nodes"]
                 if n.get("kind") != "monitor" and n.get("model") not in CURRENT_ENCODERS}
        recorded = recorded_populations(stamp.record_spikes, sizes)
        sizes = {node: size for node, size in sizes.items() if node in recorded}
        if len(self.activity) == 1:
            self.activity.append(self._activity_body)
        self.neuron_panel.run_going_on()
        requested = doc.get("simulation", {}).get("duration_ms")
        self._stream_live(stamp, spikes, sizes, t_ms, requested)
        # Bins of the whole run's length: they stay put while the curve grows.
        self.rates.rates = population_rates(spikes, sizes, t_ms,
                                            bin_ms=max(1.0, (requested or t_ms) / 200))
        # The header and the status line say the raster is this run's so far, and that the
        # other tabs still hold the previous result.
        self.raster.export_name = file_stem(stamp.project, stamp.run, "raster-so-far")
        self.rates.export_name = file_stem(stamp.project, stamp.run, "rates-so-far")
        self._live = (stamp, float(t_ms), len(spikes), requested)
        self.status.object = self._live_status_html()
        self._show_header()

    def _stream_live(self, stamp: ResultStamp, spikes, sizes: dict[str, int], t_ms: float,
                     requested: float | None) -> None:
        """Send the raster the live spikes it has not drawn yet.

        The time axis spans the whole run from its first update on (a growing axis meant a
        re-layout in the browser at every update); it is laid out again only when the run
        goes past it (a step beyond the end) or after a pause drew the partial result.
        """
        streamed = self._streamed
        if (streamed is None or streamed[0] is not stamp or streamed[1] > len(spikes)
                or t_ms > (self.raster.duration_ms or 0.0)):
            self.raster.start_stream(sizes, max(float(requested or 0.0), float(t_ms)))
            streamed = (stamp, 0)
        self.raster.stream(spikes.iloc[streamed[1]:])
        self._streamed = (stamp, len(spikes))

    def _name_exports(self, stamp: ResultStamp) -> None:
        """Downloads (CSV, plot images) are named after the project and the run."""
        def name(what: str) -> str:
            return file_stem(stamp.project, stamp.run, what)

        self.download_spikes.filename = f"{name('spikes')}.csv"
        self.raster.export_name = name("raster")
        self.rates.export_name = name("rates")
        for view in self.views:
            view.set_export_name(name)

    def _spikes_csv(self) -> io.StringIO:
        """The spikes of the shown result, columns time_ms,population,neuron (as the CLI)."""
        out = io.StringIO()
        if self.result is not None and self.result.spike_store is not None:
            self.result.spike_store.write_csv(out)
        elif self.result is not None:
            self.result.spikes.astype({"population": str}).to_csv(
                out, index=False, columns=["time_ms", "population", "neuron"],
                float_format="%.10g")
        out.seek(0)
        return out

    @staticmethod
    def _current_nodes(result: SimulationResult) -> set[str]:
        info = result.node_info
        return set(info.loc[info["model"].isin(list(CURRENT_ENCODERS)), "node"])

    def _status_html(self) -> str:
        r = self.result
        if r is None:
            return ('<div class="ss-result" data-testid="result-status" data-spikes="">'
                    'No results yet: press <b>Run</b>.</div>')
        recorded = recorded_populations(self.stamp.record_spikes if self.stamp else "all",
                                        r.sizes)
        current = self._current_nodes(r)
        per_pop = ", ".join(f"{text_html(str(k))}: {spike_count_text(v, k in recorded)}"
                            for k, v in r.spike_counts().items() if k not in current)
        state = {"completed": "", "cancelled": " (stopped early)",
                 "memory_limit": " (stopped: memory budget)", "error": " (stopped: error)"}
        return (f'<div class="ss-result" data-testid="result-status" '
                f'data-spikes="{r.n_spikes}" data-status="{r.status}">'
                f'<b><span class="ss-result-spikes">{r.n_spikes:,}</span> spikes</b> in '
                f'{r.duration_ms:g} ms of model time{state.get(r.status, "")} &middot; '
                f'{per_pop} &middot; computed in {r.wall_time_s:.2f} s'
                f'{_on_disk_html(r)}</div>')

    def _live_status_html(self) -> str:
        stamp, t_ms, spikes, _ = self._live
        return (f'<div class="ss-result" data-testid="result-status" data-spikes="{spikes}" '
                f'data-status="running" data-live-run="{stamp.run}"><b>'
                f'<span class="ss-result-spikes">{spikes:,}</span> spikes</b> so far in run '
                f'{stamp.run} (t = {t_ms:,.1f} ms), drawn live while it runs: the full '
                f'result replaces them when it pauses or ends.</div>')

    def _pick(self, population: str, neuron: int, time_ms: float | None = None) -> None:
        """A neuron chosen in the neuron panel: selected (and shown) in the raster."""
        self.raster.reveal(population, neuron, time_ms)
        # Choosing the neuron that is selected already changes no selection (no event),
        # yet the panel may have been emptied since (a live run): show it anyway.
        self._follow_selection()

    def _on_select(self, event) -> None:
        self._follow_selection()

    def _follow_selection(self) -> None:
        """The neuron panel shows the raster's selected neuron (if it shows another, or none).

        A breakpoint selects the neuron it paused at, often the one selected before the run,
        which changes nothing: the panel follows the selection, not only its changes.
        """
        sel = self.raster.selected
        if not sel or self.result is None:
            return
        key = (str(sel["population"]), int(sel["neuron"]))
        if self.neuron_panel.shown != key or self.neuron_panel.result is not self.result:
            self.neuron_panel.show_neuron(*key)


#: Bytes a spike takes in the page's CSV download while it is sent (text, then base64).
_CSV_BYTES_PER_SPIKE = 40


def _downloadable(result: SimulationResult) -> bool:
    """Whether the spikes CSV fits in the page's share of the server while it is sent (the
    download goes through the page as one message)."""
    store = result.spike_store
    if store is None:
        return True
    budget = runner.session_memory_mb() * runner.IN_MEMORY_SHARE * 2**20
    return store.n_spikes * _CSV_BYTES_PER_SPIKE <= budget


def _on_disk_html(result: SimulationResult) -> str:
    """What a result whose spikes are kept on disk cannot show, for its status line."""
    store = result.spike_store
    if store is None:
        return ""
    download = ("Download spikes writes them from those files" if _downloadable(result) else
                "they are too many to download through the page: they are kept in the "
                "workspace on the server while this page is open")
    return (f'<div class="ss-result-on-disk" data-testid="result-on-disk">'
            f'Too large to show whole: its {store.n_spikes:,} spikes '
            f'({store.nbytes / 2**20:,.0f} MB) are more than this server keeps in memory for '
            f'one page, so they stay in files on the server. The raster draws the visible '
            f'window (a density image when zoomed out); the rates and statistics were '
            f'computed from all of them; {download}. The neuron panel shows a neuron\'s own '
            f'spikes but not the spikes arriving at it; Compare and the analysis tabs do not '
            f'see them.</div>')
