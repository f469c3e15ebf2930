"""Two runs in one look: overlaid rate curves and a table of statistics with differences.

Plain data in (rate DataFrames of :func:`engine.spike_stats.population_rates`, the table of
:func:`engine.analysis.run_comparison.comparison_table`), Bokeh figure and HTML out; the rasters of
the two runs are two :class:`widgets.raster.RasterPlot` sharing a time axis.
"""

from __future__ import annotations

import html
import math

import numpy as np
import pandas as pd
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

#: Table columns: metric -> (title, decimals, tooltip).
METRIC_COLUMNS: dict[str, tuple[str, int, str]] = {
    "spikes": ("Spikes", 0, "Spikes of the population over the whole run."),
    "mean_rate_hz": ("Rate (Hz)", 2, "Spikes per neuron per second, over the whole run."),
    "cv_isi": ("CV ISI", 3, "std/mean of inter-spike intervals (neurons with >= 3 spikes), "
                            "averaged: 0 = regular, ~1 = Poisson."),
    "synchrony": ("Synchrony χ", 3, "Golomb-Rinzel chi of the spike counts in 5 ms bins: "
                                    "about 1/sqrt(N) for independent neurons, 1 when all "
                                    "fire together."),
}
_TABLE_CSS = """
table.ss-compare-table { border-collapse: collapse; font-size: 13px; margin: 4px 0; }
.ss-compare-table th, .ss-compare-table td { padding: 3px 8px; text-align: right;
  border-bottom: 1px solid #e3e3e3; white-space: nowrap; }
.ss-compare-table th { background: #f5f5f5; font-weight: 600; }
.ss-compare-table th.ss-group { text-align: center; border-left: 2px solid #d0d0d0; }
.ss-compare-table td.ss-pop, .ss-compare-table th.ss-pop { text-align: left; }
.ss-compare-table td.ss-first { border-left: 2px solid #d0d0d0; }
.ss-compare-table td.ss-change { font-weight: 600; }
.ss-compare-table .ss-up { color: #1a5fb4; }
.ss-compare-table .ss-down { color: #b5540f; }
.ss-compare-table .ss-na { color: #888; font-weight: normal; }
"""
_SIDES = ("pinned", "current", "change")


# ---------------------------------------------------------------------------- rates
class RateComparisonPlot(pn.viewable.Viewer):
    """Rate curves of two runs in one figure: the current run solid, the pinned one dashed.

    Parameters
    ----------
    pinned, current
        DataFrames of :func:`engine.spike_stats.population_rates` (``time_ms`` then one
        column per population), preferably with the same bin width.
    pinned_label, current_label
        How the legend names each run (e.g. ``"run 1 (pinned)"``).
    colors
        Population id -> colour (default: :mod:`widgets.palette` over the current run's
        populations, then the pinned run's): pass the rasters' colours.
    x_range
        A Bokeh ``Range1d`` shared with the rasters (keyword only).
    """

    pinned = param.DataFrame(default=None, allow_None=True)
    colors = param.Dict(default=None, allow_None=True)
    current = param.DataFrame(default=None, allow_None=True)
    pinned_label = param.String(default="pinned")
    current_label = param.String(default="current")
    height = param.Integer(default=230, bounds=(100, None))
    title = param.String(default="Population rates: pinned (dashed) and current (solid)")
    export_name = param.String(default="rates-comparison")

    def __init__(self, x_range: Range1d | None = None, **params):
        super().__init__(**params)
        self.x_range = x_range if x_range is not None else Range1d(0.0, 1.0)
        self.y_range = Range1d(0.0, 1.0)
        self._pane = pn.pane.Bokeh(sizing_mode="stretch_width")
        self._buttons = pn.Row(margin=0)
        self._layout = pn.Column(self._buttons, self._pane, sizing_mode="stretch_width")
        self._render()

    @property
    def figure(self):
        """The Bokeh figure shown (rebuilt when the data change)."""
        return self._pane.object

    @param.depends("export_name", watch=True)
    def _name_changed(self) -> None:
        set_export_name(self.figure, self.export_name)

    @param.depends("pinned", "current", "colors", "pinned_label", "current_label", "height",
                   "title", watch=True)
    def _render(self) -> None:
        frames = {"current": self.current, "pinned": self.pinned}
        names: list[str] = []
        for frame in frames.values():
            if frame is not None and "time_ms" in frame:
                names += [c for c in frame.columns if c != "time_ms" and c not in names]
        colors = population_colors(names, self.colors)
        fig = figure(height=self.height, title=self.title, x_range=self.x_range,
                     y_range=self.y_range, x_axis_label="time (ms)", y_axis_label="rate (Hz)",
                     tools="xpan,xwheel_zoom,box_zoom,reset,save", active_scroll="xwheel_zoom",
                     sizing_mode="stretch_width")
        fig.toolbar.logo = None
        scroll_with_page(fig)  # the wheel scrolls the page
        cursor_line(fig)  # the page's time cursor draws here too
        top, duration = [], 0.0
        for side in ("pinned", "current"):  # the current run is drawn over the pinned one
            frame = frames[side]
            if frame is None or "time_ms" not in frame or not len(frame):
                continue
            label = self.pinned_label if side == "pinned" else self.current_label
            duration = max(duration, float(frame["time_ms"].iloc[-1]))
            data = {"time_ms": frame["time_ms"].to_numpy()}
            columns = [c for c in frame.columns if c != "time_ms"]
            data.update({f"c{k}": frame[c].to_numpy(dtype=float) for k, c in enumerate(columns)})
            source = ColumnDataSource(data)
            for k, name in enumerate(columns):
                values = data[f"c{k}"]
                top.extend(values[np.isfinite(values)])
                renderer = fig.line(
                    "time_ms", f"c{k}", source=source, color=colors[name],
                    line_width=2 if side == "current" else 1.8,
                    line_dash="solid" if side == "current" else "dashed",
                    line_alpha=1.0 if side == "current" else 0.75,
                    legend_label=f"{name} · {label}")
                fig.add_tools(HoverTool(renderers=[renderer], tooltips=[
                    ("run", label), ("population", str(name)), ("t", "@time_ms{0.0} ms"),
                    ("rate", f"@c{k}{{0.00}} Hz")]))
        set_range(self.y_range, 0.0, value_axis_end(top))
        legend_outside(fig)
        apply_time_axis(fig, duration or None)
        set_export_name(fig, self.export_name)
        self._pane.object = fig
        self._buttons.objects = [export_buttons(fig)]

    def __panel__(self):
        return self._layout


# ---------------------------------------------------------------------------- table
def format_stat(value: float, decimals: int, signed: bool = False) -> str:
    """``1,234`` / ``12.35`` / ``+0.041``; an undefined value is an empty string."""
    if value is None or not math.isfinite(value):
        return ""
    text = f"{value:+,.{decimals}f}" if signed else f"{value:,.{decimals}f}"
    return text.replace("-", "−")  # a real minus sign: reads better next to "+"


def relative_change(before: float, after: float) -> str:
    """`` (+12 %)`` when both are defined and ``before`` is not 0, else ``""``."""
    if not (math.isfinite(before) and math.isfinite(after)) or before == 0:
        return ""
    return f" ({format_stat(100.0 * (after - before) / abs(before), 0, signed=True)} %)"


def comparison_table_html(table: pd.DataFrame, pinned_label: str, current_label: str,
                          metrics: dict[str, tuple[str, int, str]] | None = None) -> str:
    """The comparison table as HTML (every text escaped; values also in ``data-value``).

    Parameters
    ----------
    table
        :func:`engine.analysis.run_comparison.comparison_table`.
    pinned_label, current_label
        Column titles of the two runs (e.g. ``"run 1 (pinned)"``).
    metrics
        Metric -> (title, decimals, tooltip); default :data:`METRIC_COLUMNS`.
    """
    metrics = metrics or METRIC_COLUMNS
    esc = html.escape
    labels = {"pinned": pinned_label, "current": current_label, "change": "change"}
    head1 = ['<th class="ss-pop" rowspan="2">Population</th>']
    head2 = []
    for title, _, tip in metrics.values():
        head1.append(f'<th class="ss-group" colspan="3" title="{esc(tip)}">{esc(title)}</th>')
        head2 += [f'<th>{esc(labels[side])}</th>' for side in _SIDES]
    rows = []
    for row in table.to_dict("records"):
        pop = str(row["population"])
        cells = [f'<td class="ss-pop">{esc(pop)}</td>']
        for metric, (_, decimals, _) in metrics.items():
            before, after = row[f"{metric}_pinned"], row[f"{metric}_current"]
            for k, side in enumerate(_SIDES):
                value = float(row[f"{metric}_{side}"])
                text = format_stat(value, decimals, signed=side == "change")
                classes = ["ss-first"] if k == 0 else []
                if side == "change":
                    classes.append("ss-change")
                    if math.isfinite(value) and value != 0:
                        classes.append("ss-up" if value > 0 else "ss-down")
                    if metric in ("spikes", "mean_rate_hz"):
                        text += relative_change(float(before), float(after))
                if not text:
                    classes.append("ss-na")
                    text = "—"
                attr = "" if not math.isfinite(value) else f"{value:.17g}"
                cells.append(f'<td class="{" ".join(classes)}" data-metric="{metric}" '
                             f'data-side="{side}" data-value="{attr}">{esc(text)}</td>')
        rows.append(f'<tr data-population="{esc(pop)}">{"".join(cells)}</tr>')
    return (f'<table class="ss-compare-table" data-testid="compare-table">'
            f'<thead><tr>{"".join(head1)}</tr><tr>{"".join(head2)}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')


class ComparisonTable(pn.viewable.Viewer):
    """Per-population statistics of two runs and their change (an HTML table).

    ``table`` is :func:`engine.analysis.run_comparison.comparison_table` (None: a hint is shown).
    Each cell carries ``data-metric``, ``data-side`` (``pinned``/``current``/``change``) and the
    unrounded ``data-value``; each row ``data-population``.
    """

    table = param.DataFrame(default=None, allow_None=True)
    pinned_label = param.String(default="pinned")
    current_label = param.String(default="current")

    def __init__(self, **params):
        super().__init__(**params)
        self._pane = pn.pane.HTML("", stylesheets=[_TABLE_CSS], sizing_mode="stretch_width")
        self._render()

    @param.depends("table", "pinned_label", "current_label", watch=True)
    def _render(self) -> None:
        if self.table is None:
            self._pane.object = ('<em class="ss-compare-empty">No comparison yet: pin a run, '
                                 'then run again.</em>')
            return
        self._pane.object = comparison_table_html(self.table, self.pinned_label,
                                                  self.current_label)

    def __panel__(self):
        return self._pane
