"""Plots of a classification evaluation: accuracy against presentation time, the confusion
matrix, firing rate per population, energy per inference (SNN against ANN), and the Pareto
plot of a compression sweep (accuracy against energy, marker size = model size).

Each widget takes plain data (a DataFrame or a matrix, built by
:mod:`workbench.evaluation_data` from an
:class:`engine.evaluation.presentation_sweep.PresentationSweep`) and draws a Bokeh figure with
PNG/SVG buttons; with no data it shows nothing (the tab says
what to do instead). The figure is rebuilt on each update: these are small plots, drawn once
per evaluation.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import panel as pn
import param
from bokeh.models import (
    BasicTicker,
    ColorBar,
    ColumnDataSource,
    CustomJSTickFormatter,
    FixedTicker,
    HoverTool,
    LinearColorMapper,
    Range1d,
)
from bokeh.palettes import Blues256
from bokeh.plotting import figure

from widgets.palette import PALETTE, population_colors
from widgets.plot_format import value_axis_end
from widgets.plot_tools import export_buttons, legend_outside, set_export_name, set_range

SNN_COLOR, ANN_COLOR = PALETTE[0], PALETTE[1]
# Joules on a log axis as "4.3 µJ" (three significant digits), never "4.300e-6".
_JOULES = """
const units = [[1, "J"], [1e-3, "mJ"], [1e-6, "µJ"], [1e-9, "nJ"], [1e-12, "pJ"],
               [1e-15, "fJ"]];
for (const [scale, unit] of units) {
  if (tick >= scale * 0.9995) { return Number((tick / scale).toPrecision(3)) + " " + unit; }
}
return tick.toExponential(1) + " J";
"""


def _log_range(values: np.ndarray, below: float, above: float) -> tuple[float, float]:
    """Whole decades around the positive ``values``, with ``below`` / ``above`` decades of
    room (a log axis from 1e-7 to 1e-5, say)."""
    positive = values[values > 0]
    return (10.0 ** np.floor(np.log10(positive.min()) - below),
            10.0 ** np.ceil(np.log10(positive.max()) + above))


def _joule_axis(fig) -> None:
    for axis in fig.xaxis:
        axis.formatter = CustomJSTickFormatter(code=_JOULES)


class _Plot(pn.viewable.Viewer):
    """A figure with its PNG/SVG buttons, rebuilt by :meth:`_draw` when the data change."""

    export_name = param.String(default="evaluation", doc="File name stem of the downloads.")
    height = param.Integer(default=300, bounds=(120, None))

    def __init__(self, **params: Any):
        super().__init__(**params)
        self._pane = pn.pane.Bokeh(sizing_mode="stretch_width", visible=False)
        self._buttons = pn.Row(margin=0)
        self._layout = pn.Column(self._buttons, self._pane, sizing_mode="stretch_width")
        # What the current figure was built for: new data of the same shape (another
        # presentation time, a re-run) go into its sources. A new figure per update cost the
        # server a quarter of a second and the browser a full layout of the plot.
        self._shape: tuple | None = None
        self._sources: dict[str, ColumnDataSource] = {}

    def _reuse(self, shape: tuple) -> bool:
        """True when the figure on show was built for data of this ``shape``."""
        return self.figure is not None and shape == self._shape

    @property
    def figure(self):
        """The current Bokeh figure (None without data)."""
        return self._pane.object

    def _show(self, fig, shape: tuple | None = None) -> None:
        self._shape = shape if fig is not None else None
        if fig is not None:
            fig.toolbar.logo = None
            set_export_name(fig, self.export_name)
        self._pane.object = fig
        self._pane.visible = fig is not None
        self._buttons.objects = [export_buttons(fig)] if fig is not None else []

    @param.depends("export_name", watch=True)
    def _name_changed(self) -> None:
        set_export_name(self.figure, self.export_name)

    def __panel__(self):
        return self._layout


class AccuracyCurve(_Plot):
    """Accuracy (%) against presentation time (ms, log axis), with the ANN's as a line.

    Parameters
    ----------
    curve
        ``present_ms, accuracy`` (0..1), optionally ``undecided`` and
        ``synaptic_events_per_inference`` (shown on hover).
    ann_accuracy
        The ANN's accuracy on the same samples (None: no reference line).
    selected
        The presentation time whose point is ringed (the one the other plots show).
    """

    curve = param.DataFrame(default=None, allow_None=True)
    ann_accuracy = param.Number(default=None, allow_None=True)
    selected = param.Number(default=None, allow_None=True)

    def __init__(self, **params: Any):
        super().__init__(**params)
        self._draw()

    @param.depends("curve", "ann_accuracy", "selected", "height", watch=True)
    def _draw(self) -> None:
        frame = self.curve
        if frame is None or frame.empty:
            return self._show(None)
        t = frame["present_ms"].to_numpy(float)
        acc = 100.0 * frame["accuracy"].to_numpy(float)
        ann = None if self.ann_accuracy is None else 100.0 * self.ann_accuracy
        y0 = max(0.0, 10.0 * np.floor(min([*acc, *([ann] if ann is not None else [])])
                                      / 10.0) - 5.0)
        x0, x1 = float(t.min()) / 1.4, float(t.max()) * 1.4
        hit = np.isclose(t, self.selected) if self.selected is not None else t < 0
        data = {
            "points": {"present_ms": t, "accuracy": acc,
                       "undecided": frame.get("undecided",
                                              pd.Series(np.zeros(len(t)))).to_numpy(),
                       "events": frame.get("synaptic_events_per_inference",
                                           pd.Series(np.full(len(t), np.nan))).to_numpy(float)},
            "ring": {"x": t[hit], "y": acc[hit]},
            "ann": {"x": [x0, x1], "y": [ann, ann] if ann is not None else [np.nan] * 2}}
        shape = (tuple(t.tolist()), ann is not None, self.height)
        if self._reuse(shape):
            for name, columns in data.items():
                self._sources[name].data = columns
            set_range(self.figure.y_range, y0, 101.0)
            return
        fig = figure(height=self.height, title="Accuracy against presentation time",
                     x_axis_type="log", x_axis_label="presentation time per sample (ms)",
                     y_axis_label="accuracy (%)", x_range=Range1d(x0, x1),
                     y_range=Range1d(y0, 101.0), tools="save,reset",
                     sizing_mode="stretch_width")
        fig.xaxis.ticker = FixedTicker(ticks=sorted(set(t.tolist())))
        fig.xaxis.major_label_overrides = {float(v): f"{v:g}" for v in t}
        self._sources = {name: ColumnDataSource(columns) for name, columns in data.items()}
        points = self._sources["points"]
        fig.line("present_ms", "accuracy", source=points, color=SNN_COLOR, line_width=2,
                 legend_label="SNN")
        dots = fig.scatter("present_ms", "accuracy", source=points, color=SNN_COLOR, size=8,
                           legend_label="SNN")
        fig.add_tools(HoverTool(renderers=[dots], tooltips=[
            ("presentation", "@present_ms{0.[0]} ms"), ("accuracy", "@accuracy{0.0} %"),
            ("no output spike", "@undecided samples"),
            ("synaptic events / inference", "@events{0,0}")]))
        fig.scatter("x", "y", source=self._sources["ring"], size=16, fill_alpha=0.0,
                    line_color="#111827", line_width=2)
        if ann is not None:
            fig.line("x", "y", source=self._sources["ann"], color=ANN_COLOR, line_width=2,
                     line_dash="dashed", legend_label="ANN (same samples)")
        legend_outside(fig)
        self._show(fig, shape)


class ConfusionMatrix(_Plot):
    """Counts of (true label, predicted class) as a heatmap with the counts written in.

    Parameters
    ----------
    matrix
        Square list of lists (rows: label, columns: prediction).
    title
        The figure's title.
    """

    matrix = param.List(default=None, allow_None=True)
    title = param.String(default="Confusion matrix")

    def __init__(self, **params: Any):
        super().__init__(**params)
        self._draw()

    @param.depends("matrix", "title", "height", watch=True)
    def _draw(self) -> None:
        if not self.matrix:
            return self._show(None)
        m = np.asarray(self.matrix, np.int64)
        n = m.shape[0]
        labels, preds = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
        row_total = np.maximum(m.sum(axis=1, keepdims=True), 1)
        share = m / row_total
        names = [str(k) for k in range(n)]
        data = {"label": [names[i] for i in labels.ravel()],
                "predicted": [names[j] for j in preds.ravel()],
                "count": m.ravel(), "share": 100.0 * share.ravel(),
                "text": [str(v) if v else "" for v in m.ravel()],
                "text_color": ["#ffffff" if s > 0.5 else "#111827" for s in share.ravel()]}
        shape = (n, self.height)
        if self._reuse(shape):
            self._sources["cells"].data = data
            self.figure.title.text = self.title
            return
        self._sources = {"cells": ColumnDataSource(data)}
        source = self._sources["cells"]
        mapper = LinearColorMapper(palette=list(reversed(Blues256)), low=0.0, high=100.0)
        fig = figure(height=self.height, width=self.height + 60, title=self.title,
                     x_range=names, y_range=list(reversed(names)), x_axis_label="predicted",
                     y_axis_label="true label", tools="save", toolbar_location="above")
        cells = fig.rect("predicted", "label", width=1, height=1, source=source,
                         fill_color={"field": "share", "transform": mapper}, line_color="#ffffff")
        fig.text("predicted", "label", text="text", source=source, text_align="center",
                 text_baseline="middle", text_font_size="10px", text_color="text_color")
        fig.add_tools(HoverTool(renderers=[cells], tooltips=[
            ("true label", "@label"), ("predicted", "@predicted"), ("samples", "@count"),
            ("share of the label", "@share{0.0} %")]))
        fig.add_layout(ColorBar(color_mapper=mapper, ticker=BasicTicker(desired_num_ticks=5),
                                title="% of label", width=10), "right")
        fig.grid.visible = False
        fig.axis.major_tick_line_color = None
        self._show(fig, shape)


class LayerRates(_Plot):
    """Mean firing rate per neuron of each population (Hz), one bar each.

    Parameters
    ----------
    rates
        ``population, rate_hz`` in network order.
    """

    rates = param.DataFrame(default=None, allow_None=True)
    title = param.String(default="Firing rate per population")

    def __init__(self, **params: Any):
        super().__init__(**params)
        self._draw()

    @param.depends("rates", "title", "height", watch=True)
    def _draw(self) -> None:
        frame = self.rates
        if frame is None or frame.empty:
            return self._show(None)
        names = [str(p) for p in frame["population"]]
        colors = population_colors(names)
        rates = frame["rate_hz"].to_numpy(float)
        data = {"population": names, "rate_hz": rates, "color": [colors[p] for p in names]}
        shape = (tuple(names), self.height)
        if self._reuse(shape):
            self._sources["bars"].data = data
            set_range(self.figure.y_range, 0.0, value_axis_end(rates))
            self.figure.title.text = self.title
            return
        self._sources = {"bars": ColumnDataSource(data)}
        source = self._sources["bars"]
        fig = figure(height=self.height, title=self.title, x_range=names,
                     y_range=Range1d(0.0, value_axis_end(rates)),
                     y_axis_label="mean rate per neuron (Hz)", x_axis_label="population",
                     tools="save", toolbar_location="above", sizing_mode="stretch_width")
        bars = fig.vbar("population", top="rate_hz", width=0.6, source=source, color="color")
        fig.add_tools(HoverTool(renderers=[bars], tooltips=[
            ("population", "@population"), ("rate", "@rate_hz{0.0} Hz")]))
        fig.xgrid.visible = False
        self._show(fig, shape)


class EnergyBars(_Plot):
    """Energy per inference (J, log axis), one bar per hardware profile, SNN and ANN.

    Parameters
    ----------
    energy
        ``label, side`` (``SNN`` / ``ANN``), ``total_j``, ``part_j`` (SNN: its event-driven
        part, marked on the bar; ANN: the compute part), ``total_text``, ``part_text`` and
        ``basis`` (how idle updates or MACs are counted, on hover).
    """

    energy = param.DataFrame(default=None, allow_None=True)
    title = param.String(default="Energy per inference")

    def __init__(self, **params: Any):
        super().__init__(**params)
        self._draw()

    @param.depends("energy", "title", "height", watch=True)
    def _draw(self) -> None:
        frame = self.energy
        if frame is None or frame.empty:
            return self._show(None)
        frame = frame[frame["total_j"] > 0]
        if frame.empty:
            return self._show(None)
        labels = [str(v) for v in frame["label"]]
        totals = frame["total_j"].to_numpy(float)
        parts = frame["part_j"].to_numpy(float)
        lo, hi = _log_range(np.concatenate([totals, parts]), 0.3, 0.1)
        data = {"label": labels, "total_j": totals,
                "part_j": np.where(parts > 0, parts, np.nan),
                "left": np.full(len(labels), lo), "side": [str(s) for s in frame["side"]],
                "color": [SNN_COLOR if s == "SNN" else ANN_COLOR for s in frame["side"]],
                "total_text": list(frame["total_text"]),
                "part_text": list(frame["part_text"]), "basis": list(frame["basis"])}
        shape = (tuple(labels), self.height)
        if self._reuse(shape):
            self._sources["bars"].data = data
            set_range(self.figure.x_range, lo, hi)
            self.figure.title.text = self.title
            return
        self._sources = {"bars": ColumnDataSource(data)}
        source = self._sources["bars"]
        fig = figure(height=max(self.height, 26 * len(labels) + 90), title=self.title,
                     x_axis_type="log", x_range=Range1d(lo, hi),
                     y_range=list(reversed(labels)), x_axis_label="energy per inference",
                     tools="save", toolbar_location="above", sizing_mode="stretch_width")
        bars = fig.hbar(y="label", left="left", right="total_j", height=0.7, source=source,
                        color="color", alpha=0.85)
        marks = fig.scatter("part_j", "label", source=source, marker="diamond", size=11,
                            color="#111827")
        tips = [("", "@side on @label"), ("per inference", "@total_text"),
                ("part", "@part_text"), ("counted", "@basis")]
        fig.add_tools(HoverTool(renderers=[bars, marks], tooltips=tips))
        fig.ygrid.visible = False
        _joule_axis(fig)
        self._show(fig, shape)


class ParetoPlot(_Plot):
    """Accuracy (%) against energy per inference (J, log axis) of compression settings.

    Marker area grows with the model size; the Pareto front (no other point is both more
    accurate and cheaper) is drawn as a line through its points, the uncompressed baseline
    as a square. Tapping a point sets ``selected`` (its row index in ``points``).

    Parameters
    ----------
    points
        ``label, accuracy`` (0..1), ``energy_j``, ``size_bytes``, ``synaptic_events``,
        ``on_front`` (bool), ``baseline`` (bool), and ``energy_text``, ``size_text`` for
        the hover.
    profile_name
        The hardware profile the energy is priced on (axis label).
    selected
        Index of the highlighted point (None: none).
    """

    points = param.DataFrame(default=None, allow_None=True)
    profile_name = param.String(default="")
    selected = param.Integer(default=None, allow_None=True)
    title = param.String(default="Compression: accuracy against energy per inference")

    def __init__(self, **params: Any):
        super().__init__(**params)
        self._source: ColumnDataSource | None = None
        self._draw()

    @param.depends("points", "profile_name", "title", "height", watch=True)
    def _draw(self) -> None:
        frame = self.points
        if frame is None or frame.empty or not (frame["energy_j"] > 0).any():
            self._source = None
            return self._show(None)
        energy = frame["energy_j"].to_numpy(float)
        acc = 100.0 * frame["accuracy"].to_numpy(float)
        size = frame["size_bytes"].to_numpy(float)
        lo, hi = _log_range(energy, 0.15, 0.05)
        # Area proportional to bytes: the largest model 30 px across, none under 7 px.
        diameter = 7.0 + 23.0 * np.sqrt(size / max(size.max(), 1.0))
        self._source = source = ColumnDataSource({
            "energy_j": energy, "accuracy": acc, "diameter": diameter,
            "label": [str(v) for v in frame["label"]],
            "energy_text": list(frame["energy_text"]), "size_text": list(frame["size_text"]),
            "events": frame["synaptic_events"].to_numpy(float),
            "color": [ANN_COLOR if f else SNN_COLOR for f in frame["on_front"]],
            "marker": ["square" if b else "circle" for b in frame["baseline"]]})
        low = max(0.0, 10.0 * np.floor(acc.min() / 10.0) - 5.0)
        fig = figure(height=self.height, title=self.title, x_axis_type="log",
                     x_range=Range1d(lo, hi), y_range=Range1d(low, 101.0),
                     x_axis_label=f"energy per inference on {self.profile_name}",
                     y_axis_label="accuracy (%)", tools="tap,save,reset",
                     toolbar_location="above", sizing_mode="stretch_width")
        on_front = frame["on_front"].to_numpy(bool)
        order = np.argsort(energy[on_front])
        fig.step(energy[on_front][order], acc[on_front][order], mode="after",
                 color=ANN_COLOR, line_width=2, line_alpha=0.7, legend_label="Pareto front")
        dots = fig.scatter("energy_j", "accuracy", source=source, size="diameter",
                           marker="marker", fill_color="color", fill_alpha=0.55,
                           line_color="color", legend_label="settings (size = bytes)")
        dots.selection_glyph = dots.glyph.clone(fill_alpha=0.95, line_color="#111827",
                                                line_width=2)
        dots.nonselection_glyph = dots.glyph.clone(fill_alpha=0.35, line_alpha=0.5)
        fig.add_tools(HoverTool(renderers=[dots], tooltips=[
            ("settings", "@label"), ("accuracy", "@accuracy{0.0} %"),
            ("energy / inference", "@energy_text"), ("model size", "@size_text"),
            ("synaptic events / inference", "@events{0,0}")]))
        if self.selected is not None and 0 <= self.selected < len(frame):
            source.selected.indices = [self.selected]
        source.selected.on_change("indices", self._tapped)
        _joule_axis(fig)
        legend_outside(fig)
        self._show(fig)

    def _tapped(self, attr, old, new) -> None:
        if new:
            self.selected = int(new[-1])

    @param.depends("selected", watch=True)
    def _select(self) -> None:
        if self._source is not None:
            want = [] if self.selected is None else [self.selected]
            if list(self._source.selected.indices) != want:
                self._source.selected.indices = want


__all__ = ["ANN_COLOR", "SNN_COLOR", "AccuracyCurve", "ConfusionMatrix", "EnergyBars",
           "LayerRates", "ParetoPlot"]
