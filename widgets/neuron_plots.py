"""The plots of one neuron: membrane, input currents, incoming spikes, ISI histogram, STA.

Plain data in (arrays and the DataFrames of :mod:`engine.analysis.neuron_probe`), Bokeh figures out.
The figures are built once; new data replaces their sources, so a new neuron is one small
patch for the browser, and what would make the browser lay a figure out again (axis labels,
tickers, titles) changes only when it must. The time plots share the raster's time range.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import panel as pn
from bokeh.models import ColumnDataSource, FixedTicker, HoverTool, Label, Range1d
from bokeh.plotting import figure

from widgets.palette import PALETTE
from widgets.plot_tools import scroll_with_page
from widgets.time_cursor import cursor_line
from widgets.traces import decimate_minmax

#: Samples of a trace line sent to the browser (min/max decimated beyond).
MAX_TRACE_POINTS = 3_000
#: Incoming spikes drawn at most (evenly thinned beyond; the tables count them all).
MAX_ARRIVALS = 20_000
#: Lines of the currents plot: variable -> (label, colour).
CURRENT_LINES = {"i_exc": ("excitatory", "#d62728"), "i_inh": ("inhibitory", "#1f77b4"),
                 "net": ("net input", "#333333")}

_EMPTY_LINE = {"t": np.empty(0), "v": np.empty(0)}


def _figure(title: str, width: int, height: int, x_range=None, **kwargs):
    ranged = {"x_range": x_range} if x_range is not None else {}
    # Canvas, not WebGL: a few thousand points each, and a page has only a few WebGL
    # contexts to give (the raster, rates and trace plots hold some already).
    # No toolbar shown: five toolbars in the panel more than doubled the cost of every page
    # layout (each tool button is an element the browser restyles at each layout: 0.8 -> 0.3 s
    # per layout at load 8). The tools stay: drag pans, a click arms the wheel zoom, and the
    # time plots follow the raster's range (its toolbar resets them).
    fig = figure(title=title, width=width, height=height, toolbar_location=None,
                 tools="xpan,xwheel_zoom,box_zoom,reset,save", active_scroll="xwheel_zoom",
                 **ranged, **kwargs)
    fig.toolbar.logo = None
    scroll_with_page(fig)  # the wheel scrolls the page
    fig.title.text_font_size = "10pt"
    if x_range is not None:  # a time plot: the page's time cursor shows in it too
        cursor_line(fig)
    return fig


class NeuronPlots(pn.viewable.Viewer):
    """Five small figures about one neuron, for the panel beside the raster.

    Parameters
    ----------
    x_range
        The raster's time range, shared by the membrane, current and incoming-spike plots.
    width
        Width of every figure (px).
    """

    def __init__(self, x_range: Range1d | None = None, width: int = 420):
        super().__init__()
        self.width = width
        self.lines = {name: ColumnDataSource(dict(_EMPTY_LINE))
                      for name in ("v", *CURRENT_LINES)}
        self.spike_marks = ColumnDataSource({"t": np.empty(0), "y": np.empty(0)})
        self.incoming_source = ColumnDataSource(self._arrival_columns(None))
        self.isi_source = ColumnDataSource({"left": [], "right": [], "count": []})
        self.sta_source = ColumnDataSource(dict(_EMPTY_LINE))
        self.membrane = self._membrane(x_range)
        self.currents = self._currents(x_range)
        self.incoming = self._incoming(x_range)
        self.isi = self._isi()
        self.sta = self._sta()
        self._layout = pn.Column(*(pn.pane.Bokeh(f) for f in self.figures), margin=0)

    @property
    def figures(self) -> list:
        return [self.membrane, self.currents, self.incoming, self.isi, self.sta]

    def __panel__(self):
        return self._layout

    # ------------------------------------------------------------------ figures
    def _membrane(self, x_range):
        fig = _figure("Membrane potential", self.width, 170, x_range,
                      y_axis_label="v (mV)")
        fig.line("t", "v", source=self.lines["v"], color="#2f6fde", line_width=1.2)
        fig.scatter("t", "y", source=self.spike_marks, marker="inverted_triangle", size=7,
                    color="#e6a700", legend_label="spikes")
        fig.add_tools(HoverTool(tooltips=[("t", "@t{0,0.0[00]} ms"), ("v", "@v{0.000} mV")],
                                renderers=[fig.renderers[0]], mode="vline"))
        fig.legend.update(location="top_left", label_text_font_size="8pt", padding=2,
                          background_fill_alpha=0.6)
        return fig

    def _currents(self, x_range):
        fig = _figure("Synaptic input currents", self.width, 170, x_range,
                      y_axis_label="current")
        for name, (label, color) in CURRENT_LINES.items():
            fig.line("t", "v", source=self.lines[name], color=color, legend_label=label,
                     line_width=1.5 if name == "net" else 1.0,
                     line_alpha=1.0 if name == "net" else 0.7)
        fig.add_tools(HoverTool(tooltips=[("t", "@t{0,0.0[00]} ms"), ("value", "@v{0.000}")],
                                mode="vline", renderers=[fig.renderers[-1]]))
        fig.legend.update(location="top_left", orientation="horizontal",
                          label_text_font_size="8pt", padding=2, background_fill_alpha=0.6)
        return fig

    def _incoming(self, x_range):
        fig = _figure("Incoming spikes (size: |weight|)", self.width, 190, x_range,
                      y_axis_label="presynaptic neuron")
        fig.y_range = Range1d(-0.5, 0.5)
        dots = fig.scatter("t", "row", source=self.incoming_source, size="size",
                           color="color", alpha=0.7, line_color=None)
        fig.add_tools(HoverTool(renderers=[dots], tooltips=[
            ("from", "@projection [@pre]"), ("weight", "@weight{0.000}"),
            ("arrived", "@t{0,0.0[00]} ms")]))
        fig.yaxis.ticker = FixedTicker(ticks=[])
        fig.yaxis.major_label_orientation = "vertical"
        fig.ygrid.visible = False
        return fig

    def _isi(self):
        fig = _figure("ISI histogram", self.width, 150, x_axis_label="interval (ms)",
                      y_axis_label="count")
        fig.quad(left="left", right="right", bottom=0, top="count", source=self.isi_source,
                 color="#2f6fde", line_color="white")
        return fig

    def _sta(self):
        fig = _figure("Spike-triggered average of the net input", self.width, 150,
                      x_axis_label="time before the spike (ms)", y_axis_label="net input")
        fig.line("t", "v", source=self.sta_source, color="#333333", line_width=1.5)
        # An annotation, not the title: changing it redraws the plot without a new layout.
        self.sta_count = Label(x=6, y=6, x_units="screen", y_units="screen", text="",
                               text_font_size="8pt", text_color="#6b7685")
        fig.add_layout(self.sta_count)
        fig.add_tools(HoverTool(tooltips=[("lag", "@t{0.0[0]} ms"), ("mean", "@v{0.000}")],
                                mode="vline"))
        return fig

    # ------------------------------------------------------------------ data
    def clear(self) -> None:
        """Empty every plot."""
        for source in self.lines.values():
            source.data = dict(_EMPTY_LINE)
        self.spike_marks.data = {"t": np.empty(0), "y": np.empty(0)}
        self.set_incoming(None)
        self.isi_source.data = {"left": [], "right": [], "count": []}
        self.sta_source.data = dict(_EMPTY_LINE)

    def set_traces(self, time_ms: np.ndarray | None, values: dict[str, np.ndarray],
                   spike_times: np.ndarray, unit: str = "") -> None:
        """The membrane and current traces (``values``: ``v``, ``i_exc``, ``i_inh``,
        ``net``; missing ones are left empty) and the neuron's spikes marked above ``v``."""
        for name, source in self.lines.items():
            if time_ms is None or name not in values:
                source.data = dict(_EMPTY_LINE)
                continue
            t, v = decimate_minmax(time_ms, values[name], MAX_TRACE_POINTS)
            source.data = {"t": t, "v": v}
        v = values.get("v") if time_ms is not None else None
        top = float(np.nanmax(v)) if v is not None and len(v) else 0.0
        spikes = np.asarray(spike_times, dtype=np.float64)
        self.spike_marks.data = {"t": spikes, "y": np.full(len(spikes), top + 1.0)}
        label = f"current ({unit})" if unit else "current"
        if self.currents.yaxis[0].axis_label != label:
            self.currents.yaxis[0].axis_label = label

    def set_incoming(self, arrivals: pd.DataFrame | None,
                     synapses: pd.DataFrame | None = None) -> None:
        """Spikes that reached the neuron (:func:`engine.analysis.neuron_probe.arrived_spikes`), one
        row per incoming synapse (``synapses``, grouped by projection), coloured by
        projection and sized by |weight|. Without ``synapses`` only the spikes are cleared."""
        self.incoming_source.data = self._arrival_columns(arrivals, synapses)
        if synapses is None:
            return
        n_rows = len(synapses)
        self.incoming.y_range.update(start=-0.5, end=max(n_rows, 1) - 0.5)
        ticks: dict[float, str] = {}
        for name, group in pd.Series(np.arange(n_rows)).groupby(
                synapses["projection"].to_numpy(), sort=False):
            ticks[float(n_rows - 1 - group.mean())] = str(name)
        axis = self.incoming.yaxis[0]
        if axis.ticker.ticks != list(ticks) or axis.major_label_overrides != ticks:
            axis.ticker.ticks = list(ticks)
            axis.major_label_overrides = ticks

    @staticmethod
    def _arrival_columns(arrivals: pd.DataFrame | None,
                         synapses: pd.DataFrame | None = None) -> dict:
        empty = {"t": np.empty(0), "row": np.empty(0), "size": np.empty(0), "color": [],
                 "projection": [], "pre": np.empty(0, np.int64), "weight": np.empty(0)}
        if arrivals is None or synapses is None or not len(arrivals):
            return empty
        if len(arrivals) > MAX_ARRIVALS:
            arrivals = arrivals.iloc[np.linspace(0, len(arrivals) - 1, MAX_ARRIVALS)
                                     .astype(np.int64)]
        # One row per synapse, first projection on top: (projection, pre) -> row.
        n_rows = len(synapses)
        key = pd.MultiIndex.from_arrays([synapses["projection"], synapses["pre"]])
        where = pd.Series(np.arange(n_rows), index=key)
        where = where[~where.index.duplicated()]  # several synapses from one pre: one row
        rows = where.reindex(pd.MultiIndex.from_arrays(
            [arrivals["projection"], arrivals["pre"]])).to_numpy(np.float64)
        weight = arrivals["weight"].to_numpy(np.float64)
        biggest = float(np.abs(synapses["weight"]).max()) or 1.0
        order = {name: k for k, name in enumerate(pd.unique(synapses["projection"]))}
        colors = [PALETTE[order[p] % len(PALETTE)] for p in arrivals["projection"]]
        return {"t": arrivals["time_ms"].to_numpy(np.float64), "row": n_rows - 1 - rows,
                "size": 3.0 + 6.0 * np.abs(weight) / biggest, "color": colors,
                "projection": arrivals["projection"].astype(str).tolist(),
                "pre": arrivals["pre"].to_numpy(np.int64), "weight": weight}

    def set_isi(self, counts: np.ndarray, edges: np.ndarray) -> None:
        """The ISI histogram (:func:`engine.analysis.neuron_stats.isi_histogram`)."""
        self.isi_source.data = {"left": edges[:-1], "right": edges[1:], "count": counts}

    def set_sta(self, lags_ms: np.ndarray, mean: np.ndarray, n: int) -> None:
        """The spike-triggered average
        (:func:`engine.analysis.neuron_stats.spike_triggered_average`) of ``n`` spikes."""
        self.sta_source.data = {"t": lags_ms, "v": mean}
        self.sta_count.text = f"{n} spikes" if n else ""
