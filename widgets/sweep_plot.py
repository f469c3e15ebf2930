"""A sweep's metric against one swept parameter (mean with error bars over seeds) or two
(a heatmap of the mean). Plain data in: the frame of ``engine.sweep.summary.over_seeds``."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import panel as pn
from bokeh.models import ColorBar, ColumnDataSource, LinearColorMapper, TapTool, Whisker
from bokeh.palettes import Viridis256
from bokeh.plotting import figure


class SweepPlot:
    """One Bokeh figure, rebuilt when the fields change and refilled as rows arrive.

    Parameters
    ----------
    on_pick
        Called with the picked point's ``{field: value}`` when a point or cell is clicked.
    """

    def __init__(self, on_pick: Callable[[dict], None] | None = None):
        self.on_pick = on_pick
        self.source = ColumnDataSource({})
        self.fields: tuple[str, ...] = ()
        self.figure = None
        self.pane = pn.pane.Bokeh(None, sizing_mode="stretch_width", height=360,
                                  css_classes=["ss-sweep-plot"])
        self.source.selected.on_change("indices", self._picked)

    def show(self, summary: pd.DataFrame, fields: Sequence[str], metric: str) -> None:
        """Draw ``summary`` (columns ``*fields, mean, std, n``) of ``metric``."""
        fields = tuple(fields)
        if fields != self.fields or self.figure is None or self.figure.yaxis[0].axis_label \
                != (metric if len(fields) == 1 else fields[1]):
            self.fields = fields
            self.source = ColumnDataSource(self._data(summary))
            self.source.selected.on_change("indices", self._picked)
            self.figure = self._figure(fields, metric)
            self.pane.object = self.figure
        else:
            self.source.data = self._data(summary)
        if len(fields) == 2 and len(summary):
            mapper = self.figure.select_one(LinearColorMapper)
            mapper.low, mapper.high = float(summary["mean"].min()), float(summary["mean"].max())

    def _data(self, summary: pd.DataFrame) -> dict:
        data = {f"f{i}": summary[f].to_numpy(dtype=float) for i, f in enumerate(self.fields)}
        mean, std = summary["mean"].to_numpy(float), summary["std"].to_numpy(float)
        data.update(mean=mean, lower=mean - std, upper=mean + std,
                    n=summary["n"].to_numpy(int))
        if len(self.fields) == 2:
            data.update(width=np.full(len(mean), _step(data["f0"])),
                        height=np.full(len(mean), _step(data["f1"])))
        return data

    def _figure(self, fields: tuple[str, ...], metric: str):
        fig = figure(height=360, sizing_mode="stretch_width", tools="pan,wheel_zoom,reset,save",
                     toolbar_location="above", x_axis_label=fields[0])
        fig.add_tools(TapTool())
        if len(fields) == 1:
            fig.yaxis.axis_label = metric
            fig.line("f0", "mean", source=self.source, line_width=2)
            fig.scatter("f0", "mean", source=self.source, size=8)
            fig.add_layout(Whisker(base="f0", lower="lower", upper="upper", source=self.source))
        else:
            fig.yaxis.axis_label = fields[1]
            mapper = LinearColorMapper(palette=Viridis256)
            fig.rect("f0", "f1", "width", "height", source=self.source,
                     fill_color={"field": "mean", "transform": mapper}, line_color=None)
            fig.add_layout(ColorBar(color_mapper=mapper, title=metric), "right")
        return fig

    def _picked(self, attr: str, old: list, new: list) -> None:
        if new and self.on_pick is not None:
            row = new[0]
            self.on_pick({f: float(self.source.data[f"f{i}"][row])
                          for i, f in enumerate(self.fields)})


def _step(values: np.ndarray) -> float:
    """The spacing of a grid axis (1 for a single value)."""
    distinct = np.unique(values)
    return float(np.min(np.diff(distinct))) if len(distinct) > 1 else 1.0
