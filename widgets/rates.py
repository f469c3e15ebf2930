"""Population rate curves (the output of :func:`engine.analysis.population_rates`)."""

from __future__ import annotations

import panel as pn
import param
from bokeh.models import ColumnDataSource, HoverTool, Range1d
from bokeh.plotting import figure

from widgets.palette import population_colors


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
    """

    rates = param.DataFrame(default=None, allow_None=True)
    colors = param.Dict(default=None, allow_None=True)
    height = param.Integer(default=220, bounds=(100, None))
    title = param.String(default="Population rates")

    def __init__(self, x_range: Range1d | None = None, **params):
        super().__init__(**params)
        self.x_range = x_range
        self._pane = pn.pane.Bokeh(sizing_mode="stretch_width")
        self._source: ColumnDataSource | None = None
        self._drawn: tuple | None = None  # (populations, colours, height, title) drawn
        self._render()

    @property
    def figure(self):
        """The current Bokeh figure (rebuilt when ``rates`` change)."""
        return self._pane.object

    @param.depends("rates", "colors", "height", "title", watch=True)
    def _render(self) -> None:
        frame = self.rates
        names = ([c for c in frame.columns if c != "time_ms"]
                 if frame is not None and "time_ms" in frame else [])
        key = (tuple(names), repr(self.colors), self.height, self.title)
        if names and key == self._drawn and self._source is not None:
            # Same populations (a re-run): new data in the existing figure. A new figure per
            # run cost the server ~0.1 s and the browser a full re-layout of the plot.
            self._source.data = _columns(frame, names)
            return
        self._drawn = key
        kwargs = {"x_range": self.x_range} if self.x_range is not None else {}
        fig = figure(height=self.height, title=self.title, x_axis_label="time (ms)",
                     y_axis_label="rate (Hz)", tools="xpan,xwheel_zoom,box_zoom,reset,save",
                     active_scroll="xwheel_zoom", sizing_mode="stretch_width", **kwargs)
        fig.toolbar.logo = None
        self._source = None
        if frame is not None and "time_ms" in frame:
            self._source = src = ColumnDataSource(_columns(frame, names))
            for k, (name, color) in enumerate(population_colors(names, self.colors).items()):
                renderer = fig.line("time_ms", f"c{k}", source=src, color=color, line_width=2,
                                    legend_label=str(name))
                fig.add_tools(HoverTool(renderers=[renderer], tooltips=[
                    ("population", str(name)), ("t", "@time_ms{0.0} ms"),
                    ("rate", f"@c{k}{{0.00}} Hz")]))
            if names:
                fig.legend.click_policy = "hide"
        self._pane.object = fig

    def __panel__(self):
        return self._pane


def _columns(frame, names: list[str]) -> dict:
    """The source's columns; plain field names avoid Bokeh's column-spec parsing of ids with
    spaces or dots."""
    data = {"time_ms": frame["time_ms"].to_numpy()}
    data.update({f"c{k}": frame[n].to_numpy() for k, n in enumerate(names)})
    return data
