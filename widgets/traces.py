"""Membrane potential / current traces of a few recorded neurons, with spikes marked."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import panel as pn
import param
from bokeh.models import ColumnDataSource, HoverTool, Range1d
from bokeh.plotting import figure

from widgets.palette import PALETTE
from widgets.plot_format import group_traces
from widgets.plot_tools import (
    apply_time_axis,
    exportable,
    legend_outside,
    scroll_with_page,
    set_export_name,
)
from widgets.time_cursor import cursor_line


@dataclass
class TraceItem:
    """One recorded variable of one neuron.

    Parameters
    ----------
    population, neuron
        Node id and local neuron index.
    variable
        State variable name (``v``, ``i_exc``, ...).
    time_ms, values
        Equal-length 1-D arrays.
    unit
        Unit of ``values`` (``mV``).
    spike_times
        Optional spike times (ms) of this neuron, drawn as vertical ticks.
    """

    population: str
    neuron: int
    variable: str
    time_ms: np.ndarray
    values: np.ndarray
    unit: str = ""
    spike_times: np.ndarray = field(default_factory=lambda: np.empty(0))

    @classmethod
    def coerce(cls, item: TraceItem | Mapping) -> TraceItem:
        """Accept a :class:`TraceItem` or a dict with the same keys."""
        if isinstance(item, TraceItem):
            return item
        return cls(**dict(item))

    @property
    def label(self) -> str:
        return f"{self.population}[{self.neuron}] {self.variable}"


def decimate_minmax(t: np.ndarray, v: np.ndarray, max_points: int) -> tuple[np.ndarray, np.ndarray]:
    """Shrink a trace to about ``max_points`` keeping each bucket's min and max.

    Plain striding would drop spike peaks; min/max pairs keep the envelope a line plot shows.
    """
    t, v = np.asarray(t, dtype=np.float64), np.asarray(v, dtype=np.float64)
    n = len(t)
    if n <= max_points or max_points < 4:
        return t, v
    per = int(np.ceil(n / (max_points // 2)))
    m = n // per * per
    tb, vb = t[:m].reshape(-1, per), v[:m].reshape(-1, per)
    rows = np.arange(len(vb))
    i_lo, i_hi = vb.argmin(axis=1), vb.argmax(axis=1)
    first, second = np.minimum(i_lo, i_hi), np.maximum(i_lo, i_hi)  # keep time order
    flat = first == second  # constant bucket: its ends, not one sample twice
    first[flat], second[flat] = 0, per - 1
    tt = np.column_stack([tb[rows, first], tb[rows, second]]).ravel()
    vv = np.column_stack([vb[rows, first], vb[rows, second]]).ravel()
    return np.concatenate([tt, t[m:]]), np.concatenate([vv, v[m:]])


class TracePlot(pn.viewable.Viewer):
    """Line plot of recorded traces with a legend and optional shared time axis.

    Parameters
    ----------
    traces
        List of :class:`TraceItem` (or dicts with its fields).
    x_range
        Bokeh ``Range1d`` to share with the raster/rate plots (keyword only).
    """

    traces = param.List(default=[], doc="TraceItems or dicts with the same fields.")
    max_points = param.Integer(default=20_000, bounds=(4, None),
                               doc="Per-trace points sent to the browser (min/max decimated).")
    height = param.Integer(default=260, bounds=(100, None))
    title = param.String(default="Traces")
    export_name = param.String(default="traces", doc="File name (no extension) of downloads.")

    def __init__(self, x_range: Range1d | None = None, **params):
        super().__init__(**params)
        self.x_range = x_range
        self._figures: list = []
        self._pane = pn.Column(sizing_mode="stretch_width")
        self._render()

    @property
    def figure(self):
        """The first Bokeh figure (figures are rebuilt when ``traces`` change)."""
        return self._figures[0] if self._figures else None

    @property
    def figures(self) -> list:
        """One figure per kind of variable: membrane potential, currents, others."""
        return list(self._figures)

    def refit(self) -> None:
        """Nothing to refit: value axes auto-range on their own (shown) data."""

    @param.depends("export_name", watch=True)
    def _name_changed(self) -> None:
        for k, fig in enumerate(self._figures):
            set_export_name(fig, f"{self.export_name}-{k + 1}")

    @param.depends("traces", "max_points", "height", "title", watch=True)
    def _render(self) -> None:
        items = [TraceItem.coerce(i) for i in self.traces]
        groups = group_traces([i.variable for i in items]) or {"": []}
        ends = [float(i.time_ms[-1]) for i in items if len(i.time_ms)]
        self._figures = [self._group_figure(name, [(k, items[k]) for k in idx], len(groups),
                                            max(ends) if ends else None)
                         for name, idx in groups.items()]
        self._name_changed()
        self._pane.objects = [exportable(f, sizing_mode="stretch_width")
                              for f in self._figures]

    def _group_figure(self, name: str, items: list[tuple[int, TraceItem]], n_groups: int,
                      duration: float | None):
        units = sorted({i.unit for _, i in items if i.unit})
        kwargs = {"x_range": self.x_range} if self.x_range is not None else {}
        title = f"{self.title}: {name}" if name and n_groups > 1 else self.title
        label = f"{name} ({', '.join(units)})" if name and units else (", ".join(units)
                                                                     or name or "value")
        # Room for every legend entry (one per trace), so none is cut off.
        height = max(self.height if n_groups == 1 else int(self.height * 0.8),
                     70 + 22 * len(items))
        fig = figure(height=height, title=title, output_backend="webgl",
                     x_axis_label="time (ms)", y_axis_label=label,
                     tools="xpan,xwheel_zoom,box_zoom,reset,save", active_scroll="xwheel_zoom",
                     sizing_mode="stretch_width", **kwargs)
        fig.toolbar.logo = None
        scroll_with_page(fig)  # the wheel scrolls the page
        cursor_line(fig)
        for k, item in items:
            color = PALETTE[k % len(PALETTE)]
            t, v = decimate_minmax(item.time_ms, item.values, self.max_points)
            src = ColumnDataSource({"t": t, "v": v})
            fig.line("t", "v", source=src, color=color, line_width=1.5, legend_label=item.label)
            spikes = np.asarray(item.spike_times, dtype=np.float64)
            if len(spikes) and len(v):
                lo, hi = float(np.nanmin(v)), float(np.nanmax(v))
                fig.segment(x0=spikes, x1=spikes, y0=np.full(len(spikes), lo),
                            y1=np.full(len(spikes), hi), color=color, alpha=0.35,
                            line_dash="dashed", legend_label=item.label)
        fig.add_tools(HoverTool(tooltips=[("t", "@t{0.00} ms"), ("value", "@v{0.000}")]))
        if items:
            legend_outside(fig)
        apply_time_axis(fig, duration)
        return fig

    def __panel__(self):
        return self._pane


SpikeMarks = Mapping[tuple[str, int], Sequence[float]]


def trace_items_from_frame(frame, spike_times: SpikeMarks | None = None,
                           units: Mapping[str, str] | None = None) -> list[TraceItem]:
    """Turn the contract's long ``traces_frame()`` into :class:`TraceItem` s.

    Parameters
    ----------
    frame
        DataFrame with ``time_ms, population, neuron, variable, value``.
    spike_times
        Optional ``(population, neuron) -> times`` to mark.
    units
        Optional ``variable -> unit``.
    """
    items = []
    spike_times, units = spike_times or {}, units or {}
    for (pop, neuron, var), grp in frame.groupby(["population", "neuron", "variable"],
                                                 observed=True, sort=False):
        grp = grp.sort_values("time_ms")
        items.append(TraceItem(str(pop), int(neuron), str(var), grp["time_ms"].to_numpy(),
                               grp["value"].to_numpy(), units.get(str(var), ""),
                               np.asarray(spike_times.get((str(pop), int(neuron)), []), float)))
    return items
