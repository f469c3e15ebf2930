"""Weight-evolution views of one plastic projection.

:class:`WeightEvolution` shows a :class:`~engine.core.results.WeightRecord` (plain arrays) as

- the weight matrix (pre on x, post on y) at the snapshot chosen with its own player, or with
  the page's time cursor (:meth:`WeightEvolution.show_time`, ``show_player=False``),
  coloured on a scale fixed to ``[w_min, w_max]`` so that change over time is visible as
  change of colour;
- the histogram evolution (time x weight bin) and the histogram at the snapshot shown;
- mean ± std of all weights over time;
- the trajectories of selected synapses (click matrix cells to add them) above tick rows with
  the pre and post spikes of each selected pair, on one shared time axis.

Matrices with more than ``max_cells`` cells are shown as block means (said in the header);
records without full snapshots (very large projections) show only the statistics views and
say why. Pure data helpers (:class:`MatrixLayout`, :func:`synapse_series`) have no Bokeh in
them and are tested on their own.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import panel as pn
import param
from bokeh.events import Tap
from bokeh.models import (
    BasicTicker,
    ColorBar,
    ColumnDataSource,
    HoverTool,
    LinearColorMapper,
    LogColorMapper,
    Range1d,
    Span,
)
from bokeh.palettes import Viridis256
from bokeh.plotting import figure

from widgets.palette import PALETTE
from widgets.plot_tools import (
    apply_time_axis,
    exportable,
    legend_above,
    legend_outside,
    scroll_with_page,
    set_export_name,
    set_range,
)
from widgets.session_thread import run_in_session
from widgets.time_cursor import cursor_line
from widgets.traces import decimate_minmax

if TYPE_CHECKING:  # plain data from the engine; widgets never run it
    from engine.core.results import WeightRecord

MAX_LINE_POINTS = 4000      # per trajectory sent to the browser (min/max decimated)
_TOOLS = "xpan,xwheel_zoom,box_zoom,reset,save"
_WEIGHT_PALETTE = Viridis256
# Bright = many, as in the weight matrix (empty bins stay white); the darkest end is skipped so
# one synapse in a bin is still distinguishable from the axes.
_COUNT_PALETTE = tuple(Viridis256)[24:]


# ====================================================================== pure data helpers
@dataclass(frozen=True)
class MatrixLayout:
    """How synapses map to the cells of the displayed (possibly block-averaged) matrix.

    The image has ``ny`` rows (post neurons, bottom to top) and ``nx`` columns (pre
    neurons); a cell covers ``fx`` pre and ``fy`` post neurons. ``fx = fy = 1`` means every
    cell is one (pre, post) pair.
    """

    n_pre: int
    n_post: int
    fx: int
    fy: int
    cell: np.ndarray        # (S,) flat image cell of each synapse
    counts: np.ndarray      # (ny * nx,) synapses per cell

    @property
    def nx(self) -> int:
        return -(-self.n_pre // self.fx)

    @property
    def ny(self) -> int:
        return -(-self.n_post // self.fy)

    @property
    def aggregated(self) -> bool:
        return self.fx > 1 or self.fy > 1

    @classmethod
    def build(cls, pre: np.ndarray, post: np.ndarray, n_pre: int, n_post: int,
              max_cells: int) -> MatrixLayout:
        """Choose block sizes so that the image has at most about ``max_cells`` cells.

        Blocks grow on the longer side first, so a 1000 x 1 projection keeps its single
        post row and a 5000 x 5000 one becomes square blocks.
        """
        fx = fy = 1
        while -(-n_pre // fx) * -(-n_post // fy) > max_cells:
            if -(-n_pre // fx) >= -(-n_post // fy):
                fx *= 2
            else:
                fy *= 2
        nx = -(-n_pre // fx)
        cell = (np.asarray(post, np.int64) // fy) * nx + np.asarray(pre, np.int64) // fx
        counts = np.bincount(cell, minlength=nx * -(-n_post // fy))
        return cls(n_pre, n_post, fx, fy, cell, counts)

    def image(self, weights: np.ndarray) -> np.ndarray:
        """(ny, nx) float64 image: the mean weight per cell, NaN where there is no synapse."""
        sums = np.bincount(self.cell, weights=np.asarray(weights, np.float64),
                           minlength=self.counts.size)
        with np.errstate(invalid="ignore", divide="ignore"):
            means = np.where(self.counts > 0, sums / np.maximum(self.counts, 1), np.nan)
        return means.reshape(self.ny, self.nx)

    def block_of(self, x: float, y: float) -> tuple[range, range] | None:
        """Pre and post index ranges of the cell drawn at data coordinates (x, y)."""
        i, j = math.floor(x + 0.5), math.floor(y + 0.5)
        if not (0 <= i < self.n_pre and 0 <= j < self.n_post):
            return None
        bx, by = i // self.fx, j // self.fy
        return (range(bx * self.fx, min((bx + 1) * self.fx, self.n_pre)),
                range(by * self.fy, min((by + 1) * self.fy, self.n_post)))


def find_synapse(pre: np.ndarray, post: np.ndarray, x: float, y: float,
                 block: tuple[range, range]) -> int | None:
    """Index of the synapse in ``block`` nearest to (x, y) = (pre, post), or None.

    In a block-averaged view one cell holds many synapses; the click position inside the
    cell still says which pair was meant, so take the nearest existing one.
    """
    rx, ry = block
    inside = np.flatnonzero((pre >= rx.start) & (pre < rx.stop)
                            & (post >= ry.start) & (post < ry.stop))
    if inside.size == 0:
        return None
    d2 = (pre[inside] - x) ** 2 + (post[inside] - y) ** 2
    return int(inside[np.argmin(d2)])


def synapse_series(record: WeightRecord, s: int) -> tuple[np.ndarray, np.ndarray, str] | None:
    """Weight of synapse ``s`` over time: (time_ms, weight, source).

    ``source`` is ``"recorded"`` (full time resolution: the synapse is listed in the
    projection's ``record_weights.synapses``) or ``"snapshots"`` (one value per snapshot).
    None when neither exists (no full snapshots kept).
    """
    hit = np.flatnonzero(np.asarray(record.synapse_index) == s)
    if hit.size and record.trajectories.shape[0]:
        return (np.asarray(record.trajectory_time_ms, np.float64),
                np.asarray(record.trajectories[:, hit[0]], np.float64), "recorded")
    if record.snapshots is not None and record.snapshots.shape[0]:
        return (np.asarray(record.times_ms, np.float64),
                np.asarray(record.snapshots[:, s], np.float64), "snapshots")
    return None


def neuron_spikes(spikes: pd.DataFrame | None, population: str | None, neuron: int) -> np.ndarray:
    """Spike times (ms) of one neuron, empty when unknown."""
    if spikes is None or population is None or not len(spikes):
        return np.empty(0)
    mask = (spikes["population"] == population).to_numpy() & (
        spikes["neuron"].to_numpy() == neuron)
    return spikes["time_ms"].to_numpy()[mask]


def _edges_image(times: np.ndarray) -> tuple[float, float]:
    """Left edge and width of an image whose columns are centred on regular ``times``."""
    if len(times) == 1:
        return float(times[0]) - 0.5, 1.0
    step = float(np.median(np.diff(times)))
    return float(times[0]) - step / 2, float(times[-1] - times[0]) + step


# ====================================================================== the widget
class WeightEvolution(pn.viewable.Viewer):
    """Weight matrix, histogram evolution, mean ± std and synapse trajectories.

    Parameters
    ----------
    record
        The projection's ``WeightRecord`` (``SimulationResult.weights[projection_id]``).
    spikes
        Optional spikes DataFrame of the contract (``time_ms``, ``population``, ``neuron``);
        with ``source``/``target`` it gives the pre/post spike ticks of selected pairs.
    source, target
        Population (or encoder) ids of the projection's pre and post sides.
    x_range
        A Bokeh ``Range1d`` to share the time axis with the raster (keyword only, not a
        param). Without it the views share a range of their own.

    Notes
    -----
    ``snapshot`` is the index of the snapshot on show (the player drives it). ``selected``
    is the list of selected synapse indices (into ``record.pre``/``record.post``); clicking a
    matrix cell appends one, :meth:`add_synapse` does the same from code, :meth:`clear`
    empties the list. Build one widget per session: Bokeh models are not shareable between
    documents.
    """

    record = param.Parameter(default=None, doc="WeightRecord of one projection.")
    spikes = param.DataFrame(default=None, allow_None=True, doc="Spikes DataFrame.")
    source = param.String(default=None, allow_None=True, doc="Population id of the pre side.")
    target = param.String(default=None, allow_None=True, doc="Population id of the post side.")
    snapshot = param.Integer(default=0, bounds=(0, None), doc="Snapshot index on show.")
    selected = param.List(default=[], item_type=int, doc="Selected synapse indices.")
    max_cells = param.Integer(default=40_000, bounds=(1, None),
                              doc="Above this many matrix cells, show block means.")
    max_selected = param.Integer(default=10, bounds=(1, None),
                                 doc="Oldest selections are dropped beyond this many.")
    play_interval_ms = param.Integer(default=300, bounds=(20, None),
                                     doc="Time between frames when playing.")
    show_player = param.Boolean(default=True, doc="Show the snapshot player; off when the "
                                "page's time cursor chooses the snapshot (:meth:`show_time`).")

    def __init__(self, x_range: Range1d | None = None, **params: Any):
        super().__init__(**params)
        self._own_x_range = x_range is None
        self.x_range = x_range if x_range is not None else Range1d(0.0, 1.0)
        self._layout_data: MatrixLayout | None = None
        self._header = pn.pane.HTML("", sizing_mode="stretch_width", margin=(0, 10))
        self._time_label = pn.pane.HTML("", margin=(12, 10, 0, 10))
        self._player = pn.widgets.Player(label="Snapshot", start=0, end=1, value=0,
                                         css_classes=["ss-weight-player"],
                                         visible=self.show_player,
                                         interval=self.play_interval_ms, loop_policy="once",
                                         show_loop_controls=False, width=330,
                                         visible_buttons=["first", "previous", "pause",
                                                          "play", "next", "last"])
        self._player.param.watch(self._player_moved, "value")
        self._matrix_note = pn.pane.HTML("", sizing_mode="stretch_width", visible=False)
        self._make_figures()
        self._layout = self._make_layout()
        self._set_data()

    # ------------------------------------------------------------------ public
    @property
    def matrix_figure(self):
        """The weight-matrix figure (pre on x, post on y)."""
        return self._matrix_fig

    @property
    def figures(self) -> list:
        """Every Bokeh figure: matrix, histogram over time, histogram now, mean ± std,
        selected synapses and their pre/post spikes (for reports and image exports)."""
        return [self._matrix_fig, self._evo_fig, self._hist_fig, self._stats_fig,
                self._traj_fig, self._tick_fig]

    @property
    def matrix_source(self) -> ColumnDataSource:
        """Source of the matrix image (column ``image`` holds one (ny, nx) array)."""
        return self._matrix_src

    @property
    def trajectory_source(self) -> ColumnDataSource:
        """Source of the trajectory lines (``xs``, ``ys``, ``label``, ``color``, ``dash``)."""
        return self._traj_src

    @property
    def tick_source(self) -> ColumnDataSource:
        """Source of the pre/post spike ticks (``x``, ``y``, ``color``)."""
        return self._tick_src

    @property
    def matrix_layout(self) -> MatrixLayout | None:
        """Cell layout of the matrix on show (None without full snapshots)."""
        return self._layout_data

    def show_time(self, t_ms: float) -> None:
        """Show the last snapshot taken at or before ``t_ms`` (the first one before it)."""
        times = self._times()
        if len(times):
            k = int(np.searchsorted(times, float(t_ms) + 1e-9, side="right")) - 1
            self.snapshot = min(max(k, 0), len(times) - 1)

    @param.depends("show_player", watch=True)
    def _player_shown(self) -> None:
        self._player.visible = self.show_player
        self._show_snapshot_label()

    @property
    def time_ms(self) -> float:
        """Time of the snapshot on show (NaN without snapshots)."""
        times = self._times()
        return float(times[self.snapshot]) if len(times) else math.nan

    def add_synapse(self, s: int) -> None:
        """Select synapse ``s`` (index into ``record.pre``/``post``) for the trajectories."""
        s = int(s)
        keep = [x for x in self.selected if x != s] + [s]
        self.selected = keep[-self.max_selected:]

    def select_cell(self, x: float, y: float) -> int | None:
        """Select the synapse drawn at matrix coordinates (x, y) (what a click does)."""
        rec, lay = self.record, self._layout_data
        if rec is None or lay is None:
            return None
        block = lay.block_of(x, y)
        if block is None:
            return None
        s = find_synapse(np.asarray(rec.pre), np.asarray(rec.post), x, y, block)
        if s is not None:
            self.add_synapse(s)
        return s

    def clear(self) -> None:
        """Remove every selected synapse."""
        self.selected = []

    # ------------------------------------------------------------------ figures
    def _make_figures(self) -> None:
        self._make_matrix()
        self._make_histograms()
        self._make_stats()
        self._make_trajectories()

    def _make_matrix(self) -> None:
        self._weight_mapper = LinearColorMapper(palette=_WEIGHT_PALETTE, low=0.0, high=1.0,
                                                nan_color="#f2f2f2")
        fig = figure(height=300, title="Weight matrix", tools="pan,wheel_zoom,box_zoom,reset,"
                     "save", x_axis_label="pre (source) neuron",
                     y_axis_label="post (target) neuron", sizing_mode="stretch_width",
                     x_range=Range1d(-0.5, 0.5), y_range=Range1d(-0.5, 0.5), min_width=300)
        fig.toolbar.logo = None
        fig.grid.visible = False
        self._matrix_src = ColumnDataSource({"image": [], "x": [], "y": [], "dw": [], "dh": []})
        fig.image(image="image", x="x", y="y", dw="dw", dh="dh", source=self._matrix_src,
                  color_mapper=self._weight_mapper)
        fig.add_layout(ColorBar(color_mapper=self._weight_mapper, title="w (mV)",
                                ticker=BasicTicker(desired_num_ticks=5), width=10), "right")
        fig.add_tools(HoverTool(tooltips=[("pre", "$x{0}"), ("post", "$y{0}"),
                                          ("w", "@image{0.000} mV")]))
        self._sel_src = ColumnDataSource({"x": [], "y": [], "color": []})
        fig.scatter("x", "y", source=self._sel_src, marker="square", size=9,
                    fill_color=None, line_color="color", line_width=2)
        for axis in (fig.xaxis, fig.yaxis):
            axis.ticker = BasicTicker(min_interval=1)  # neuron indices are whole numbers
        fig.on_event(Tap, self._on_tap)
        self._matrix_fig = fig

    def _make_histograms(self) -> None:
        self._count_mapper = LogColorMapper(palette=_COUNT_PALETTE, low=1, high=10,
                                            nan_color="#ffffff")
        fig = figure(height=250, title="Weight histogram over time", tools=_TOOLS,
                     x_range=self.x_range, y_range=Range1d(0.0, 1.0),
                     x_axis_label="time (ms)", y_axis_label="weight (mV)",
                     sizing_mode="stretch_width", active_scroll="xwheel_zoom")
        fig.toolbar.logo = None
        scroll_with_page(fig)  # the wheel scrolls the page
        self._evo_src = ColumnDataSource({"image": [], "x": [], "y": [], "dw": [], "dh": []})
        fig.image(image="image", x="x", y="y", dw="dw", dh="dh", source=self._evo_src,
                  color_mapper=self._count_mapper)
        fig.add_layout(ColorBar(color_mapper=self._count_mapper, title="synapses",
                                width=10), "right")
        self._evo_fig = fig
        hist = figure(height=250, width=300, title="Histogram at the snapshot shown",
                      tools="save", y_range=fig.y_range, x_axis_label="synapses",
                      y_axis_label="weight (mV)")
        hist.toolbar.logo = None
        self._hist_src = ColumnDataSource({"bottom": [], "top": [], "right": []})
        hist.quad(left=0, right="right", bottom="bottom", top="top", source=self._hist_src,
                  fill_color="#440154", fill_alpha=0.75, line_color="white")
        self._hist_first_src = ColumnDataSource({"x": [], "y": []})
        hist.step("x", "y", source=self._hist_first_src, mode="center", color="#999999",
                  line_dash="dashed", legend_label="first snapshot")
        legend_above(hist)
        hist.xaxis.ticker.desired_num_ticks = 3  # a narrow plot: counts stay readable
        self._hist_fig = hist

    def _make_stats(self) -> None:
        fig = figure(height=200, title="Mean ± std of all weights", tools=_TOOLS,
                     x_range=self.x_range, x_axis_label="time (ms)",
                     y_axis_label="weight (mV)", sizing_mode="stretch_width",
                     active_scroll="xwheel_zoom")
        fig.toolbar.logo = None
        scroll_with_page(fig)  # the wheel scrolls the page
        self._stats_src = ColumnDataSource({"t": [], "mean": [], "lo": [], "hi": []})
        fig.varea(x="t", y1="lo", y2="hi", source=self._stats_src, fill_color="#3b528b",
                  fill_alpha=0.2, legend_label="± std")
        fig.line("t", "mean", source=self._stats_src, color="#3b528b", line_width=2,
                 legend_label="mean")
        legend_above(fig)
        fig.add_tools(HoverTool(tooltips=[("t", "@t{0.0} ms"), ("mean", "@mean{0.000}"),
                                          ("std", "@hi{0.000}")], mode="vline",
                                renderers=[fig.renderers[-1]]))
        self._stats_fig = fig

    def _make_trajectories(self) -> None:
        fig = figure(height=240, title="Selected synapses (click cells of the matrix)",
                     tools=_TOOLS, x_range=self.x_range, x_axis_label="time (ms)",
                     y_axis_label="weight (mV)", sizing_mode="stretch_width",
                     active_scroll="xwheel_zoom")
        fig.toolbar.logo = None
        scroll_with_page(fig)  # the wheel scrolls the page
        self._traj_src = ColumnDataSource({"xs": [], "ys": [], "label": [], "color": [],
                                           "dash": []})
        lines = fig.multi_line("xs", "ys", source=self._traj_src, line_color="color",
                               line_width=2, line_dash="dash", legend_field="label")
        legend_outside(fig)
        fig.add_tools(HoverTool(tooltips=[("synapse", "@label")], renderers=[lines]))
        self._traj_fig = fig
        ticks = figure(height=120, title="Pre (|) and post (|) spikes of the selected pairs",
                       tools=_TOOLS, x_range=self.x_range, y_range=Range1d(-0.5, 0.5),
                       x_axis_label="time (ms)", sizing_mode="stretch_width",
                       active_scroll="xwheel_zoom")
        ticks.toolbar.logo = None
        scroll_with_page(ticks)  # the wheel scrolls the page
        ticks.ygrid.visible = False
        self._tick_src = ColumnDataSource({"x": [], "y": [], "color": []})
        ticks.scatter("x", "y", source=self._tick_src, marker="dash", angle=math.pi / 2,
                      size=12, line_color="color", line_width=1.5)
        self._tick_fig = ticks
        for span_fig in (self._evo_fig, self._stats_fig, self._traj_fig, self._tick_fig):
            span_fig.add_layout(Span(dimension="height", line_color="#d62728", line_width=1,
                                     line_dash="dotted", name="now"))
            cursor_line(span_fig)  # the page's time cursor, if it has one

    def _make_layout(self) -> pn.viewable.Viewable:
        controls = pn.Row(self._player, self._time_label,
                          pn.widgets.Button(label="Clear selection", color="light",
                                            on_click=lambda _e: self.clear(),
                                            margin=(12, 10)),
                          sizing_mode="stretch_width")
        kw = {"sizing_mode": "stretch_width"}
        # Every figure has its PNG/SVG buttons (widgets.plot_tools.export_buttons).
        self._matrix_pane = exportable(self._matrix_fig, **kw)
        return pn.Column(
            self._header, controls, self._matrix_note, self._matrix_pane,
            pn.Row(exportable(self._evo_fig, **kw), exportable(self._hist_fig)),
            exportable(self._stats_fig, **kw),
            exportable(self._traj_fig, **kw), exportable(self._tick_fig, **kw),
            **kw)

    # ------------------------------------------------------------------ data
    def _times(self) -> np.ndarray:
        rec = self.record
        return np.asarray(rec.times_ms, np.float64) if rec is not None else np.empty(0)

    @param.depends("record", "spikes", "source", "target", "max_cells", watch=True)
    def _set_data(self) -> None:
        self._run(self._apply_data)

    def _apply_data(self) -> None:
        rec = self.record
        times = self._times()
        n = len(times)
        self._layout_data = None
        if rec is not None and rec.snapshots is not None and n:
            self._layout_data = MatrixLayout.build(np.asarray(rec.pre), np.asarray(rec.post),
                                                   rec.n_pre, rec.n_post, self.max_cells)
        w_min, w_max = self._weight_bounds()
        self._weight_mapper.update(low=w_min, high=w_max)
        self._evo_fig.y_range.update(start=w_min, end=w_max)
        self._setup_matrix_axes()
        self._fill_evolution()
        self._fill_stats()
        if self._own_x_range:
            set_range(self.x_range, 0.0, self._duration())
        self._apply_time_axes()
        # end before value: a value beyond the player's old end would be clamped.
        self._player.param.update(end=max(n - 1, 1), disabled=n < 2)
        self._header.object = self._header_html()
        with param.parameterized.discard_events(self):
            self.snapshot = max(n - 1, 0)  # open on the learned state
        self._player.value = self.snapshot
        self._show_snapshot()
        self._show_selection()

    def _apply_time_axes(self) -> None:
        for fig in (self._evo_fig, self._stats_fig, self._traj_fig, self._tick_fig):
            apply_time_axis(fig, self._duration())

    def refit(self) -> None:
        """Fit ranges and the player to the data again (after being hidden during an update)."""
        def fit() -> None:
            lay, n = self._layout_data, len(self._times())
            if lay is not None:
                set_range(self._matrix_fig.x_range, -0.5, lay.n_pre - 0.5)
                set_range(self._matrix_fig.y_range, -0.5, lay.n_post - 0.5)
            if self._own_x_range:
                set_range(self.x_range, 0.0, self._duration())
            self._player.end = max(n - 1, 1)
            self._player.value = min(self.snapshot, max(n - 1, 0))

        self._run(fit)

    def set_export_name(self, stem: str) -> None:
        """Name the downloads of every figure ``<stem>-<figure>``."""
        for fig, what in ((self._matrix_fig, "matrix"), (self._evo_fig, "histograms"),
                          (self._hist_fig, "histogram"), (self._stats_fig, "mean"),
                          (self._traj_fig, "trajectories"), (self._tick_fig, "spikes")):
            set_export_name(fig, f"{stem}-{what}")

    def _weight_bounds(self) -> tuple[float, float]:
        rec = self.record
        if rec is None:
            return 0.0, 1.0
        lo, hi = float(rec.w_min), float(rec.w_max)
        return (lo, hi) if hi > lo else (lo - 0.5, lo + 0.5)

    def _duration(self) -> float:
        rec, ends = self.record, [1.0]
        if rec is not None:
            ends += [float(np.max(rec.times_ms))] if len(rec.times_ms) else []
            ends += [float(np.max(rec.trajectory_time_ms))] if len(rec.trajectory_time_ms) else []
        return max(ends)

    def _setup_matrix_axes(self) -> None:
        lay, rec = self._layout_data, self.record
        fig = self._matrix_fig
        self._matrix_pane.visible = lay is not None
        self._matrix_note.visible = rec is not None and lay is None
        self._matrix_note.object = self._missing_matrix_html()
        if lay is None:
            self._matrix_src.data = {"image": [], "x": [], "y": [], "dw": [], "dh": []}
            return
        set_range(fig.x_range, -0.5, lay.n_pre - 0.5)
        set_range(fig.y_range, -0.5, lay.n_post - 0.5)
        # A few post rows need far less height than a square matrix.
        fig.height = int(np.clip(80 + 22 * lay.ny, 140, 420))
        suffix = f" (block means of {lay.fx} × {lay.fy})" if lay.aggregated else ""
        fig.title.text = f"Weight matrix, {lay.n_pre} pre × {lay.n_post} post{suffix}"

    def _fill_evolution(self) -> None:
        rec, times = self.record, self._times()
        if rec is None or not len(times):
            self._evo_src.data = {"image": [], "x": [], "y": [], "dw": [], "dh": []}
            return
        hist = np.asarray(rec.hist, np.float64).T  # (B, M): weight bins up, time across
        image = np.where(hist > 0, hist, np.nan)   # empty bins white, not darkest colour
        edges = np.asarray(rec.hist_edges, np.float64)
        x0, width = _edges_image(times)
        self._evo_src.data = {"image": [image], "x": [x0], "y": [edges[0]], "dw": [width],
                              "dh": [edges[-1] - edges[0]]}
        self._count_mapper.update(low=1, high=max(float(np.nanmax(hist)), 2.0))
        first = np.asarray(rec.hist[0], np.float64)
        centres = (edges[:-1] + edges[1:]) / 2
        self._hist_first_src.data = {"x": first, "y": centres}
        self._hist_fig.x_range.start = 0

    def _fill_stats(self) -> None:
        rec, times = self.record, self._times()
        if rec is None or not len(times):
            self._stats_src.data = {"t": [], "mean": [], "lo": [], "hi": []}
            return
        mean, std = np.asarray(rec.mean, np.float64), np.asarray(rec.std, np.float64)
        self._stats_src.data = {"t": times, "mean": mean, "lo": mean - std, "hi": mean + std}

    # ------------------------------------------------------------------ snapshot
    def _player_moved(self, event) -> None:
        self.snapshot = int(event.new)

    @param.depends("snapshot", watch=True)
    def _snapshot_changed(self) -> None:
        if self._player.value != self.snapshot:
            self._player.value = self.snapshot
        self._run(self._show_snapshot)

    def _show_snapshot(self) -> None:
        rec, times = self.record, self._times()
        if rec is None or not len(times):
            self._time_label.object = ""
            self._hist_src.data = {"bottom": [], "top": [], "right": []}
            return
        m = min(self.snapshot, len(times) - 1)
        t = float(times[m])
        self._show_snapshot_label()
        edges = np.asarray(rec.hist_edges, np.float64)
        self._hist_src.data = {"bottom": edges[:-1], "top": edges[1:],
                               "right": np.asarray(rec.hist[m], np.float64)}
        for fig in (self._evo_fig, self._stats_fig, self._traj_fig, self._tick_fig):
            fig.select_one({"name": "now"}).location = t
        lay = self._layout_data
        if lay is not None:
            self._matrix_src.data = {"image": [lay.image(rec.snapshots[m])], "x": [-0.5],
                                     "y": [-0.5], "dw": [lay.nx * lay.fx],
                                     "dh": [lay.ny * lay.fy]}

    def _show_snapshot_label(self) -> None:
        times = self._times()
        if not len(times):
            self._time_label.object = ""
            return
        m = min(self.snapshot, len(times) - 1)
        t = float(times[m])
        how = "" if self.show_player else " (the last at or before the time cursor)"
        self._time_label.object = (f'<span class="ss-weight-time" data-time-ms="{t:g}">'
                                   f"t = {_fmt_time(t)}</span> · snapshot {m + 1} of "
                                   f"{len(times)}{how}")

    # ------------------------------------------------------------------ selection
    def _on_tap(self, event: Tap) -> None:
        if event.x is not None and event.y is not None:
            self.select_cell(event.x, event.y)

    @param.depends("selected", watch=True)
    def _selection_changed(self) -> None:
        self._run(self._show_selection)

    def _show_selection(self) -> None:
        rec = self.record
        valid = [s for s in self.selected if rec is not None and 0 <= s < len(rec.pre)]
        lines: dict[str, list] = {"xs": [], "ys": [], "label": [], "color": [], "dash": []}
        ticks: dict[str, list] = {"x": [], "y": [], "color": []}
        marks: dict[str, list] = {"x": [], "y": [], "color": []}
        labels: dict[int, str] = {}
        for k, s in enumerate(valid):
            color = PALETTE[k % len(PALETTE)]
            i, j = int(rec.pre[s]), int(rec.post[s])
            self._add_line(lines, rec, s, f"{i} → {j}", color)
            self._add_ticks(ticks, labels, k, i, j, color)
            marks["x"].append(i)
            marks["y"].append(j)
            marks["color"].append(color)
        self._traj_src.data = lines
        # Colours stay a list of CSS strings: np.asarray([]) would be an empty *float64*
        # array, which BokehJS rejects for a colour field ("invalid color array") as soon
        # as the glyph is drawn with no selection.
        self._tick_src.data = {"x": np.asarray(ticks["x"], np.float64),
                               "y": np.asarray(ticks["y"], np.float64),
                               "color": [str(c) for c in ticks["color"]]}
        self._sel_src.data = marks
        rows = max(2 * len(valid), 1)
        self._tick_fig.y_range.update(start=0.5 - rows, end=0.5)  # rows at 0, -1, -2, ...
        self._tick_fig.yaxis.ticker = list(labels)
        self._tick_fig.yaxis.major_label_overrides = labels
        self._tick_fig.height = int(np.clip(70 + 18 * rows, 110, 400))

    def _add_line(self, lines: dict, rec: WeightRecord, s: int, label: str, color: str) -> None:
        series = synapse_series(rec, s)
        if series is None:
            return
        t, w, kind = series
        if kind == "recorded":
            t, w = decimate_minmax(t, w, MAX_LINE_POINTS)
        lines["xs"].append(t)
        lines["ys"].append(w)
        lines["label"].append(f"{label} ({'recorded' if kind == 'recorded' else 'snapshots'})")
        lines["color"].append(color)
        lines["dash"].append("solid" if kind == "recorded" else "dashed")

    def _add_ticks(self, ticks: dict, labels: dict, k: int, i: int, j: int, color: str) -> None:
        # Two rows per pair, top to bottom in selection order: pre, then post.
        y_pre, y_post = -2 * k, -2 * k - 1
        pre_t = neuron_spikes(self.spikes, self.source, i)
        post_t = neuron_spikes(self.spikes, self.target, j)
        for times, y in ((pre_t, y_pre), (post_t, y_post)):
            ticks["x"].extend(times.tolist())
            ticks["y"].extend([y] * len(times))
            ticks["color"].extend([color] * len(times))
        labels[y_pre] = f"pre {i}"
        labels[y_post] = f"post {j}"

    # ------------------------------------------------------------------ text
    def _header_html(self) -> str:
        rec = self.record
        if rec is None:
            return '<div class="ss-weights-header">No weight record.</div>'
        n_syn = len(rec.pre)
        times = self._times()
        parts = [f"<b>{rec.projection}</b>: {n_syn:,} synapses "
                 f"({rec.n_pre:,} pre × {rec.n_post:,} post), {len(times)} snapshots"]
        if len(times) > 1:
            parts.append(f"every {_fmt_time(float(np.median(np.diff(times))))}")
        parts.append(f"colour scale fixed to [{rec.w_min:g}, {rec.w_max:g}] mV")
        lay = self._layout_data
        if lay is not None and lay.aggregated:
            parts.append(f"matrix shows the mean of each {lay.fx} × {lay.fy} block "
                         f"(more than {self.max_cells:,} cells); a click picks the synapse "
                         f"nearest to it")
        n_rec = len(rec.synapse_index)
        parts.append(f"{n_rec} synapse{'s' if n_rec != 1 else ''} recorded at full time "
                     "resolution; others selected are drawn from the snapshots (dashed)"
                     if rec.snapshots is not None else
                     f"{n_rec} synapse{'s' if n_rec != 1 else ''} recorded at full resolution")
        return (f'<div class="ss-weights-header" data-aggregated="'
                f'{int(bool(lay and lay.aggregated))}">' + " · ".join(parts) + "</div>")

    def _missing_matrix_html(self) -> str:
        rec = self.record
        if rec is None or rec.snapshots is not None:
            return ""
        return ('<div class="ss-weights-no-matrix" style="padding:8px 12px;'
                'background:#fff8e1;border-left:4px solid #e6a700;">'
                f"No weight matrix: <b>{rec.projection}</b> has {len(rec.pre):,} synapses, too "
                "many to keep a full copy at every snapshot, so the engine kept only the "
                "statistics below (histogram, mean and std over all synapses) and the "
                "trajectories of the synapses listed in the projection's "
                "<code>record_weights.synapses</code>. Add <code>record_weights</code> to the "
                "projection to keep full snapshots (costs 4 bytes per synapse per "
                "snapshot).</div>")

    # ------------------------------------------------------------------ plumbing
    def _run(self, fn: Callable[[], None]) -> None:
        run_in_session(self._matrix_fig.document, fn)

    def __panel__(self) -> pn.viewable.Viewable:
        return self._layout


def _fmt_time(t_ms: float) -> str:
    """``1500.0`` -> ``"1.5 s"``, ``12.5`` -> ``"12.5 ms"``."""
    return f"{t_ms / 1000:g} s" if abs(t_ms) >= 1000 else f"{t_ms:g} ms"


__all__ = ["MatrixLayout", "WeightEvolution", "find_synapse", "neuron_spikes",
           "synapse_series"]
