"""Spike raster with zoom-dependent detail for up to millions of spikes.

The browser only ever receives what the visible window needs: individual spikes (WebGL
scatter) when at most ``max_points`` are visible, otherwise a binned density image of the
visible window, recomputed on the server after each pan/zoom (debounced). Aggregation lives in
:mod:`widgets.raster_data`.

Hovering a spike drawn as a glyph names its population, neuron index and time. A density
image has no spikes to hover: the status line says to zoom in (the neuron index axis and a
click on a row work the same in both modes).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import panel as pn
import param
from bokeh.events import RangesUpdate, Tap
from bokeh.models import (
    BoxAnnotation,
    ColumnDataSource,
    CustomJSHover,
    FixedTicker,
    HoverTool,
    LinearAxis,
    LinearColorMapper,
    Range1d,
    Span,
)
from bokeh.plotting import figure

from widgets.palette import hex_to_rgb, population_colors
from widgets.plot_tools import (
    apply_time_axis,
    export_buttons,
    scroll_with_page,
    set_export_name,
    set_range,
)
from widgets.raster_data import RasterIndex, StoredRasterIndex, Window
from widgets.session_thread import change_is_held, held, run_in_session
from widgets.time_cursor import cursor_line

_EMPTY_IMAGE = {"image": [], "x": [], "y": [], "dw": [], "dh": []}
_EMPTY_POINTS = {"x": np.empty(0), "y": np.empty(0), "pop": np.empty(0, np.int32),
                 "neuron": np.empty(0, np.int32)}
#: Hover text of a spike: its population's name (looked up in the browser: one string per
#: spike would multiply what each redraw sends), its index and time.
_HOVER_TIPS = [("population", "@pop{custom}"), ("neuron", "@neuron"), ("time", "@x{0,0.0[00]} ms")]
#: Neuron index ticks on the y axis (about one per 45 px of plot height).
_TICK_PX = 45


class RasterPlot(pn.viewable.Viewer):
    """Spike raster, rows stacked by population, click a row to select a neuron.

    Each population gets a band of at least a few percent of the rows
    (:func:`widgets.raster_data.band_layout`), so a one-neuron population stays visible.

    Parameters
    ----------
    spikes
        Spikes DataFrame of the contract (``time_ms``, ``population``, ``neuron``).
    sizes
        Population id -> size; the order is the top-to-bottom block order.
    colors
        Optional population id -> CSS colour overrides (default: :mod:`widgets.palette`).
    duration_ms
        Length of the time axis (default: the last spike time).
    x_range
        A Bokeh ``Range1d`` to share with other plots (keyword only, not a param).

    Notes
    -----
    ``selected`` is ``{"population": id, "neuron": int}`` after a click on a row or on one of
    its spikes (or set it to highlight a row; :meth:`reveal` also scrolls to it). The y axis
    next to the plot shows neuron indices within each population, the outer one the
    populations' names. Box zoom (the default drag) and the wheel zoom both axes. The total
    spike count is rendered in an element with CSS class and
    ``data-testid`` ``ss-spike-count`` (text and ``data-count`` are the plain integer).
    Build one ``RasterPlot`` per session: Bokeh models cannot be shared between documents.
    """

    spikes = param.DataFrame(default=None, allow_None=True, doc="Spikes DataFrame.")
    store = param.Parameter(default=None, doc="An engine.core.spike_store.SpikeStore to draw "
                                              "instead of ``spikes`` (read in chunks).")
    sizes = param.Dict(default={}, doc="Population id -> size, top to bottom.")
    colors = param.Dict(default=None, allow_None=True, doc="Colour overrides per population.")
    duration_ms = param.Number(default=None, allow_None=True, bounds=(0, None))
    max_points = param.Integer(default=100_000, bounds=(1, None),
                               doc="Above this many visible spikes a density image is drawn.")
    image_shape = param.NumericTuple(default=(800, 400), length=2,
                                     doc="Maximum (nx, ny) bins of the density image.")
    debounce_ms = param.Integer(default=120, bounds=(0, None),
                                doc="Delay before re-aggregating after a range change.")
    selected = param.Dict(default=None, allow_None=True,
                          doc='{"population": id, "neuron": int} of the clicked row.')
    mode = param.Selector(default="empty", objects=["empty", "points", "density"],
                          constant=True, doc="What is drawn for the current window.")
    visible_spikes = param.Integer(default=0, constant=True,
                                   doc="Spikes inside the current window.")
    height = param.Integer(default=380, bounds=(100, None))
    title = param.String(default="Spike raster")
    export_name = param.String(default="raster", doc="File name (no extension) of downloads.")

    def __init__(self, x_range: Range1d | None = None, **params):
        super().__init__(**params)
        self._own_x_range = x_range is None
        self.x_range = x_range if x_range is not None else Range1d(0.0, 1.0)
        self.y_range = Range1d(-0.5, 0.5)
        self._index = RasterIndex(None, {})
        self._rgb: list[tuple[int, int, int]] = []
        self._pending = False
        self._drawn: tuple | None = None  # (index, window) of the last aggregation
        # Rows were streamed since the points were last sent whole: the next full draw sends
        # them whole again (see _refresh).
        self._streamed_rows = False
        self._density = None
        self._quiet = False  # set while we move the ranges ourselves
        self._figure = self._make_figure()
        self._count = pn.pane.HTML(self._count_html(), margin=(0, 10))
        plot = pn.pane.Bokeh(self._figure, sizing_mode="stretch_width")
        self._layout = pn.Column(pn.Row(self._count, export_buttons(self._figure)), plot,
                                 sizing_mode="stretch_width")
        self._set_data()
        self._name_changed()

    @param.depends("export_name", watch=True)
    def _name_changed(self) -> None:
        set_export_name(self._figure, self.export_name)

    # ------------------------------------------------------------------ public
    @property
    def figure(self):
        """The Bokeh figure (for linking or embedding elsewhere)."""
        return self._figure

    @property
    def index(self) -> RasterIndex:
        """Row layout and window queries of the current data."""
        return self._index

    @property
    def density(self):
        """The :class:`~widgets.raster_data.Density` on screen, or None in points mode."""
        return self._density

    @property
    def points_source(self) -> ColumnDataSource:
        """Source of the individual spikes drawn (columns ``x``, ``y``, ``pop``, ``neuron``)."""
        return self._points

    @property
    def population_axis(self) -> LinearAxis:
        """The outer y axis, naming the population of each band."""
        return self._population_axis

    @property
    def neuron_axis(self):
        """The y axis next to the plot, labelled with neuron indices."""
        return self._neuron_axis

    def reveal(self, population: str, neuron: int, time_ms: float | None = None) -> None:
        """Select a neuron and, when its row (or ``time_ms``) is out of view, move the view
        to it, keeping the zoom."""
        self.selected = {"population": population, "neuron": int(neuron)}
        if population not in self._index.names:
            return
        moves = [(self.y_range, self._index.row_y(population, int(neuron)), -0.5,
                  max(self._index.height, 1) - 0.5)]
        if time_ms is not None and self.x_range.bounds is not None:
            moves.append((self.x_range, float(time_ms), *self.x_range.bounds))
        for rng, at, low, high in moves:
            a, b = sorted((rng.start, rng.end))
            if not a <= at <= b:
                start = min(max(at - (b - a) / 2, low), high - (b - a))
                self._run(lambda rng=rng, start=start, span=b - a:
                          rng.update(start=start, end=start + span))

    def start_stream(self, sizes: dict[str, int], duration_ms: float) -> None:
        """Get ready for a run whose spikes arrive while it goes on (:meth:`stream`).

        The rows of ``sizes`` and a time axis over the run's whole ``duration_ms`` are laid
        out once, with no spikes: what follows only adds points, so the browser does not lay
        the plot out again at each update of a live run.
        """
        with param.parameterized.discard_events(self):
            self.param.update(spikes=None, store=None, sizes=dict(sizes),
                              duration_ms=duration_ms)
        self._run(self._apply_data)

    def stream(self, spikes) -> None:
        """Add the spikes that arrived since the last call (a spikes DataFrame of the
        populations given to :meth:`start_stream`).

        While the raster shows points and everything new fits under ``max_points``, only the
        new spikes in view are sent (``ColumnDataSource.stream``: one small patch); otherwise
        the window is aggregated again as after a zoom. The ``spikes`` parameter is left as
        it is: the full result replaces the streamed spikes when the run ends.
        """
        self._run(lambda: self._append(spikes))

    def _append(self, spikes) -> None:
        old = self._index
        sizes = dict(zip(old.names, (int(v) for v in np.diff(old.offsets)), strict=True))
        more = RasterIndex(spikes, sizes)
        self._index = index = old.extended(more)
        window = self.window()
        # The source holds exactly old.points(window) when the last draw was of `old` in this
        # window: then adding more.points(window) makes it index.points(window).
        in_step = self._drawn is not None and self._drawn[0] is old and \
            self._drawn[1] == window and self.mode != "density"
        n = index.count(window)
        if not in_step or n > self.max_points:
            self.refresh()
            return
        doc = self._figure.document
        with held(doc):
            self._drawn = (index, window)
            new = more.points(window)
            if change_is_held(doc, self._points, "data"):
                # The data set earlier in this hold is sent when the hold ends, with these
                # rows in it: streaming them as well would draw them twice in the browser.
                self._points.data = index.points(window)
                self._streamed_rows = False
            elif len(new["x"]):
                self._points.stream(new)
                self._streamed_rows = True
            with param.edit_constant(self):
                self.param.update(mode="points" if len(index) else "empty", visible_spikes=n)
            self._count.object = self._count_html()

    def window(self) -> Window:
        """The visible ``(x0, x1, y0, y1)`` window."""
        return (self.x_range.start, self.x_range.end, self.y_range.start, self.y_range.end)

    def refit(self) -> None:
        """Fit the ranges to the data again (after the plot was hidden while data arrived)."""
        self._run(lambda: self._fit_ranges(self._index))

    def refresh(self) -> None:
        """Re-aggregate for the current ranges now (range changes do this automatically)."""
        with held(self._figure.document):  # one patch (see widgets.session_thread)
            self._refresh()

    def _refresh(self) -> None:
        self._pending = False
        window = self.window()
        self._drawn = (self._index, window)
        n = self._index.count(window) if len(self._index) else 0
        if n == 0:
            mode, image, points = "empty" if not len(self._index) else "points", None, None
        elif n <= self.max_points:
            mode, image, points = "points", None, self._index.points(window)
        else:
            nx, ny = (int(v) for v in self.image_shape)
            mode, points = "density", None
            image = self._index.density(window, self._rgb, nx=nx, ny=ny)
        self._density = image
        self._label_neurons(window)
        points = points if points is not None else dict(_EMPTY_POINTS)
        # Points already held are not sent again (a range event that did not change what is
        # in view), except after a live stream: then the full draw (the run's result) replaces
        # the streamed rows in the browser, so that what the page shows at the end never
        # depends on how the stream's patches arrived (a page in CI once held a streamed
        # run's points twice, 1 of 60 overlapping runs; the cause was not found).
        if self._streamed_rows or not _same_rows(self._points.data, points):
            self._points.data = points
            self._streamed_rows = False
        if image is None:
            self._image.data = dict(_EMPTY_IMAGE)
        else:
            self._image.data = {"image": [image.rgba], "x": [image.x], "y": [image.y],
                                "dw": [image.dw], "dh": [image.dh]}
        with param.edit_constant(self):
            self.param.update(mode=mode, visible_spikes=n)
        self._count.object = self._count_html()

    # ------------------------------------------------------------------ figure
    def _make_figure(self):
        # Zoom both axes by default (find a neuron, not only a time); time-only pan and zoom
        # stay in the toolbar. The ranges' bounds keep zooming out within the data.
        fig = figure(height=self.height, title=self.title, x_range=self.x_range,
                     y_range=self.y_range, output_backend="webgl",
                     tools="box_zoom,pan,xpan,wheel_zoom,xwheel_zoom,reset,save",
                     active_scroll="wheel_zoom", active_drag="box_zoom",
                     x_axis_label="time (ms)", sizing_mode="stretch_width")
        fig.toolbar.logo = None
        scroll_with_page(fig)  # the wheel scrolls the page
        fig.css_classes = ["ss-raster-plot"]
        fig.ygrid.visible = False
        self._image = ColumnDataSource(dict(_EMPTY_IMAGE))
        fig.image_rgba(image="image", x="x", y="y", dw="dw", dh="dh", source=self._image)
        self._points = ColumnDataSource(dict(_EMPTY_POINTS))
        self._mapper = LinearColorMapper(palette=["#000000"], low=-0.5, high=0.5)
        dots = fig.scatter("x", "y", source=self._points, marker="square", size=3,
                           line_color=None, fill_color={"field": "pop", "transform": self._mapper})
        self._names = CustomJSHover(args={"names": []}, code="return names[value] ?? value")
        fig.add_tools(HoverTool(renderers=[dots], tooltips=_HOVER_TIPS,
                                formatters={"@pop": self._names}, point_policy="snap_to_data"))
        self._highlight = BoxAnnotation(fill_color="#ffd54f", fill_alpha=0.35, visible=False,
                                        level="underlay")
        fig.add_layout(self._highlight)
        # A line too: with thousands of rows the box is thinner than a pixel.
        self._highlight_line = Span(dimension="width", line_color="#e6a700", line_width=2,
                                    visible=False)
        fig.add_layout(self._highlight_line)
        self._spans: list[Span] = []
        cursor_line(fig)
        self._neuron_axis = fig.yaxis[0]
        self._neuron_axis.update(ticker=FixedTicker(ticks=[]), minor_tick_line_color=None)
        self._population_axis = LinearAxis(ticker=FixedTicker(ticks=[]),
                                           major_tick_line_color=None, axis_line_color=None,
                                           minor_tick_line_color=None,
                                           major_label_orientation="vertical")
        fig.add_layout(self._population_axis, "left")
        fig.on_event(RangesUpdate, self._schedule)
        fig.on_event(Tap, self._on_tap)
        for rng in (self.x_range, self.y_range):
            rng.on_change("start", self._range_changed)
            rng.on_change("end", self._range_changed)
        return fig

    @param.depends("spikes", "store", "sizes", "colors", "duration_ms", watch=True)
    def _set_data(self) -> None:
        self._run(self._apply_data)

    def _apply_data(self) -> None:
        sizes = {str(k): int(v) for k, v in (self.sizes or {}).items()}
        self._index = index = (RasterIndex(self.spikes, sizes) if self.store is None
                               else StoredRasterIndex(self.store, sizes))
        colors = population_colors(sizes, self.colors)
        self._rgb = [hex_to_rgb(c) for c in colors.values()]
        self._mapper.update(palette=list(colors.values()) or ["#000000"],
                            low=-0.5, high=max(len(colors), 1) - 0.5)
        self._names.args = {"names": list(sizes)}
        fig = self._figure
        self._quiet = True
        try:
            self._layout_rows(fig, index)
        finally:
            self._quiet = False
        self._update_highlight()
        self.refresh()

    def _layout_rows(self, fig, index: RasterIndex) -> None:
        for span in self._spans:
            span.visible = False
        for k, edge in enumerate(index.block_edges()):
            if k >= len(self._spans):
                self._spans.append(Span(dimension="width", line_color="#999999", line_width=1))
                fig.add_layout(self._spans[-1])
            self._spans[k].update(location=edge, visible=True)
        self._fit_ranges(index)

    def _fit_ranges(self, index: RasterIndex) -> None:
        self._quiet = True
        try:
            top = max(index.height, 1) - 0.5
            set_range(self.y_range, -0.5, top)
            duration = self.duration_ms
            if duration is None:
                duration = float(index.x[-1]) if len(index) else 1.0
            if self._own_x_range:
                set_range(self.x_range, 0.0, max(duration, 1e-3))
            apply_time_axis(self._figure, duration)
        finally:
            self._quiet = False

    def _label_neurons(self, window) -> None:
        """Neuron index ticks for the visible rows, population names at the middle of what
        shows of their bands (after every zoom, with the redraw)."""
        ticks = self._index.neuron_ticks(window[2], window[3],
                                         target=max(2, self.height // _TICK_PX))
        # The tickers' ticks change in place: a new ticker model per redraw was sent to the
        # browser (and laid out) even when the rows in view were the same.
        self._neuron_axis.ticker.ticks = list(ticks)
        self._neuron_axis.major_label_overrides = ticks
        centres = self._index.block_centres(window[2], window[3])
        self._population_axis.ticker.ticks = list(centres.values())
        self._population_axis.major_label_overrides = {v: k for k, v in centres.items()}

    # ------------------------------------------------------------------ events
    def _schedule(self, *_args) -> None:
        """Coalesce bursts of range changes into one re-aggregation."""
        if self._quiet:
            return
        doc = self._figure.document
        if doc is None or doc.session_context is None or not self.debounce_ms:
            self.refresh()  # notebook / static: no event loop to defer to
            return
        if not self._pending:
            self._pending = True
            doc.add_timeout_callback(self._refresh_if_moved, self.debounce_ms)

    def _refresh_if_moved(self) -> None:
        """The debounced refresh, skipped when the window is the one already aggregated for
        the same data: a range event that did not move it would only resend the same spikes
        and make the browser draw them again."""
        drawn = self._drawn
        if drawn is not None and drawn[0] is self._index and drawn[1] == self.window():
            self._pending = False
            return
        self.refresh()

    def _range_changed(self, attr, old, new) -> None:
        self._schedule()

    def _on_tap(self, event) -> None:
        self.select_at(event.y)

    def select_at(self, y: float) -> dict | None:
        """Select the neuron whose row is drawn at ``y`` (what a click does)."""
        hit = self._index.locate(y)
        if hit is not None:
            self.selected = {"population": hit[0], "neuron": int(hit[1])}
        return self.selected

    @param.depends("selected", watch=True)
    def _selection_changed(self) -> None:
        self._run(self._update_highlight)

    def _update_highlight(self) -> None:
        sel = self.selected
        if not sel or sel.get("population") not in self._index.names:
            self._highlight.visible = self._highlight_line.visible = False
            return
        neuron = int(sel["neuron"])
        y = self._index.row_y(sel["population"], neuron)
        bottom, top = self._index.row_span(sel["population"], neuron)
        self._highlight.update(bottom=bottom, top=top, visible=True)
        self._highlight_line.update(location=y, visible=True)

    def _run(self, fn: Callable[[], None]) -> None:
        run_in_session(self._figure.document, fn)

    # ------------------------------------------------------------------ view
    def _count_html(self) -> str:
        total = len(self._index)
        hint = (" · zoom in to see and hover single spikes" if self.mode == "density"
                else "")
        return (f'<div class="ss-raster-status" data-mode="{self.mode}">'
                f'<span class="ss-spike-count" data-testid="ss-spike-count" '
                f'data-count="{total}">{total}</span> spikes · '
                f'<span class="ss-visible-count" data-count="{self.visible_spikes}">'
                f'{self.visible_spikes}</span> in view ({self.mode}){hint}</div>')

    def __panel__(self):
        return self._layout


def _same_rows(held_data, points: dict) -> bool:
    """Do the columns ``held_data`` (a source's) hold the same spikes as ``points``, in any
    order?"""
    cols = ("x", "y", "pop", "neuron")
    a = {c: np.asarray(held_data.get(c, [])) for c in cols}
    b = {c: np.asarray(points[c]) for c in cols}
    if any(len(a[c]) != len(b["x"]) for c in cols):
        return False
    order_a = np.lexsort((a["neuron"], a["pop"], a["x"]))
    order_b = np.lexsort((b["neuron"], b["pop"], b["x"]))
    return all(np.array_equal(a[c][order_a], b[c][order_b]) for c in cols)
