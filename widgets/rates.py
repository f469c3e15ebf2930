"""Population rate curves (the output of :func:`engine.spike_stats.population_rates`)."""

from __future__ import annotations

import numpy as np
import panel as pn
import param
from bokeh.models import ColumnDataSource, HoverTool, Range1d
from bokeh.plotting import figure

from widgets.palette import population_colors
from widgets.plot_format import value_axis_end
from widgets.plot_tools import (
    apply_time_axis,
    export_buttons,
    legend_outside,
    scroll_with_page,
    set_export_name,
    set_range,
)
from widgets.time_cursor import cursor_line


class RatePlot(pn.viewable.Viewer):
    """One line per population, in Hz per neuron over time.

    Parameters
    ----------
    rates
        DataFrame with ``time_ms`` and one column per population.
    colors
        Optional population id -> colour overrides.
    x_range
        Bokeh ``Range1d`` to share with the raster/trace plots (keyword only).

    Notes
    -----
    The rate axis starts at 0 and ends just above the highest rate (at least 1 Hz, so a
    silent network gets 0..1 Hz); the legend sits right of the plot, never over the data.
    """

    rates = param.DataFrame(default=None, allow_None=True)
    colors = param.Dict(default=None, allow_None=True)
    height = param.Integer(default=220, bounds=(100, None))
    title = param.String(default="Population rates")
    export_name = param.String(default="rates", doc="File name (no extension) of downloads.")

    def __init__(self, x_range: Range1d | None = None, **params):
        super().__init__(**params)
        self.x_range = x_range
        self.y_range = Range1d(0.0, 1.0)
        self._pane = pn.pane.Bokeh(sizing_mode="stretch_width")
        self._buttons = pn.Row(margin=0)  # PNG/SVG of the current figure
        self._layout = pn.Column(self._buttons, self._pane, sizing_mode="stretch_width")
        self._source: ColumnDataSource | None = None
        self._drawn: tuple | None = None  # (populations, colours, height, title) drawn
        self._render()

    @property
    def figure(self):
        """The current Bokeh figure (rebuilt when ``rates`` change)."""
        return self._pane.object

    def refit(self) -> None:
        """Fit the rate axis to the data again (after being hidden while data arrived)."""
        set_range(self.y_range, 0.0, self._top())

    def _top(self) -> float:
        frame = self.rates
        if frame is None or "time_ms" not in frame:
            return 1.0
        values = frame.drop(columns=["time_ms"]).to_numpy(dtype=float).ravel()
        return value_axis_end(values[np.isfinite(values)] if len(values) else [])

    @param.depends("export_name", watch=True)
    def _name_changed(self) -> None:
        set_export_name(self.figure, self.export_name)

    @param.depends("rates", "colors", "height", "title", watch=True)
    def _render(self) -> None:
        frame = self.rates
        names = ([c for c in frame.columns if c != "time_ms"]
                 if frame is not None and "time_ms" in frame else [])
        times = frame["time_ms"].to_numpy() if names else []
        duration = float(times[-1]) if len(times) else None
        key = (tuple(names), repr(self.colors), self.height, self.title)
        if names and key == self._drawn and self._source is not None:
            # Same populations (a re-run): new data in the existing figure. A new figure per
            # run cost the server ~0.1 s and the browser a full re-layout of the plot.
            self._source.data = _columns(frame, names)
            set_range(self.y_range, 0.0, self._top())
            apply_time_axis(self.figure, duration)
            return
        self._drawn = key
        kwargs = {"x_range": self.x_range} if self.x_range is not None else {}
        set_range(self.y_range, 0.0, self._top())
        fig = figure(height=self.height, title=self.title, x_axis_label="time (ms)",
                     y_axis_label="rate (Hz)", tools="xpan,xwheel_zoom,box_zoom,reset,save",
                     active_scroll="xwheel_zoom", sizing_mode="stretch_width",
                     y_range=self.y_range, **kwargs)
        fig.toolbar.logo = None
        scroll_with_page(fig)  # the wheel scrolls the page
        cursor_line(fig)
        self._source = None
        if frame is not None and "time_ms" in frame:
            self._source = src = ColumnDataSource(_columns(frame, names))
            for k, (name, color) in enumerate(population_colors(names, self.colors).items()):
                renderer = fig.line("time_ms", f"c{k}", source=src, color=color, line_width=2,
                                    legend_label=str(name))
                fig.add_tools(HoverTool(renderers=[renderer], tooltips=[
                    ("population", str(name)), ("t", "@time_ms{0.0} ms"),
                    ("rate", f"@c{k}{{0.00}} Hz")]))
            legend_outside(fig)
        apply_time_axis(fig, duration)
        set_export_name(fig, self.export_name)
        self._pane.object = fig
        self._buttons.objects = [export_buttons(fig)]

    def __panel__(self):
        return self._layout


def _columns(frame, names: list[str]) -> dict:
    """The source's columns; plain field names avoid Bokeh's column-spec parsing of ids with
    spaces or dots."""
    data = {"time_ms": frame["time_ms"].to_numpy()}
    data.update({f"c{k}": frame[n].to_numpy() for k, n in enumerate(names)})
    return data
