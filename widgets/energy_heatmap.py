"""Per-layer energy heatmap: populations x time bins, coloured by energy, on a chosen profile.

The widget takes plain data: per profile an :class:`engine.energy.tables.EnergyTable` (the
run priced by the engine: breakdown per layer and bin with its operation counts, per-layer and
run totals, unpriced operations). It draws, for one hardware profile or two side by side:

- a heatmap of layers x time bins coloured by an energy component (log scale optional), whose
  hover gives the bin's operation counts and its breakdown (synaptic, weight reads, neuron
  updates, learning, routing, static);
- a stacked bar per layer with the run's totals by component;
- the totals in joules, per inference and per second of input (mean power), with the
  operations the profile has no figure for ("not counted": totals are then lower bounds).

The heatmap's time axis can be a Range1d shared with the raster (``x_range``). Totals are
rendered in elements with ``data-testid="ss-energy-totals"`` whose ``data-*`` attributes hold
the plain numbers, so browser tests can read them. Everything is served from Bokeh's and
Panel's own bundles (no CDN).
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import panel as pn
import param
from bokeh.models import (
    BasicTicker,
    ColorBar,
    ColumnDataSource,
    FactorRange,
    HoverTool,
    LinearColorMapper,
    LogColorMapper,
    LogTicker,
    Range1d,
)
from bokeh.palettes import Viridis256
from bokeh.plotting import figure

from engine.evaluation.scenario_fit import format_si
from widgets.plot_tools import (
    apply_time_axis,
    exportable,
    scroll_with_page,
    set_export_name,
    set_range,
)
from widgets.session_thread import run_in_session
from widgets.time_cursor import cursor_line

#: Components a cell can be coloured by (label -> breakdown column).
COMPONENTS: dict[str, str] = {
    "Total": "total_j", "Dynamic (all but static)": "dynamic_j",
    "Event-driven": "event_driven_j", "Synaptic events": "synaptic_j",
    "Weight reads": "memory_j", "Neuron updates": "neuron_j", "Learning": "learning_j",
    "Spike routing": "routing_j", "Static": "static_j",
}
#: Stack order and colours of the per-layer bars (the breakdown of the issue, plus the
#: memory and routing terms the model also prices).
STACK: dict[str, tuple[str, str]] = {
    "synaptic_j": ("synaptic", "#1f77b4"), "memory_j": ("weight reads", "#aec7e8"),
    "neuron_j": ("neuron updates", "#ff7f0e"), "learning_j": ("learning", "#2ca02c"),
    "routing_j": ("routing", "#9467bd"), "static_j": ("static", "#7f7f7f"),
}
_COUNT_COLS = ("spikes", "neuron_updates", "active_updates", "syn_events", "plasticity_updates")
_ZERO_COLOR = "#eeeeee"


def layer_cells(breakdown: pd.DataFrame, layers: list[str], bin_ms: float, max_bins: int,
                duration_ms: float | None = None) -> pd.DataFrame:
    """Cells of the heatmap: the breakdown of ``layers`` merged into at most ``max_bins`` bins.

    ``breakdown`` is an ``EnergyTable.breakdown`` (energy and operation counts per layer and
    bin). Returns one row per (layer, merged bin) with ``layer, t0, t1``, the summed counts
    and energy columns.
    """
    frame = breakdown[breakdown["layer"].isin(layers)].copy()
    n_bins = int(np.rint(frame["bin_start_ms"].max() / bin_ms)) + 1 if len(frame) else 0
    factor = max(1, math.ceil(n_bins / max(max_bins, 1)))
    frame["group"] = np.rint(frame["bin_start_ms"].to_numpy(float) / bin_ms).astype(int) // factor
    cols = [*_COUNT_COLS, *(c for c in frame.columns if c.endswith("_j"))]
    cells = frame.groupby(["layer", "group"], sort=False)[cols].sum().reset_index()
    cells["t0"] = cells["group"] * factor * bin_ms
    end = cells["t0"] + factor * bin_ms
    cells["t1"] = np.minimum(end, duration_ms) if duration_ms else end
    return cells.drop(columns="group")


class EnergyHeatmap(pn.viewable.Viewer):
    """Layers x time energy heatmap, per-layer bars and totals, for one or two profiles.

    Parameters
    ----------
    tables
        Profile id -> :class:`engine.energy.tables.EnergyTable` of the run. A profile chosen
        without a table shows a placeholder until its table is given (watch ``profile`` and
        ``compare_profile``; :meth:`missing` lists the tables needed).
    bin_ms, duration_ms
        ``SimulationResult.bin_ms`` / ``duration_ms``.
    profile_names
        Profile id -> name of every profile offered (default: those of ``tables``).
    profile, compare_profile
        Profile shown, and a second one shown beside it (``""`` = none).
    window_ms
        One inference, for the per-inference total (default: the whole run).
    x_range
        A Bokeh ``Range1d`` shared with the raster (keyword only, not a param).

    Notes
    -----
    Both heatmaps of a comparison share one colour scale, so equal colours mean equal
    energy. Build one widget per session: Bokeh models cannot be shared between documents.
    """

    tables = param.Dict(default={}, doc="Profile id -> EnergyTable of the run.")
    bin_ms = param.Number(default=1.0, bounds=(0, None), inclusive_bounds=(False, True))
    duration_ms = param.Number(default=None, allow_None=True, bounds=(0, None))
    profile_names = param.Dict(default={}, doc="Profile id -> name of the profiles offered.")
    # check_on_set=False: the choices are only known once ``profiles`` is set.
    profile = param.Selector(default=None, objects=[], allow_None=True, check_on_set=False,
                             doc="Profile shown.")
    compare_profile = param.Selector(default="", objects=[""], check_on_set=False,
                                     doc="Second profile ('' = none).")
    component = param.Selector(default="total_j", objects=COMPONENTS,
                               doc="Energy component that colours the cells.")
    log_scale = param.Boolean(default=True, doc="Logarithmic colour scale.")
    window_ms = param.Number(default=None, allow_None=True, bounds=(0, None),
                             inclusive_bounds=(False, True), doc="One inference (ms).")
    include_encoders = param.Boolean(default=False, doc="Show input encoders as rows too.")
    max_bins = param.Integer(default=300, bounds=(1, None), doc="Most time columns drawn.")
    height = param.Integer(default=240, bounds=(120, None))
    export_name = param.String(default="energy", doc="File name stem of downloads.")

    def __init__(self, x_range: Range1d | None = None, **params: Any):
        super().__init__(**params)
        self.x_range = x_range if x_range is not None else Range1d(0.0, 1.0)
        self._own_x_range = x_range is None
        self._ready = False  # no drawing while __init__ sets things up
        self._figures: dict[str, Any] = {}
        self._sources: dict[str, ColumnDataSource] = {}
        self._controls = pn.Row(
            pn.widgets.Select.from_param(self.param.profile, label="Profile", width=220),
            pn.widgets.Select.from_param(self.param.compare_profile, label="Compare with",
                                         width=220),
            pn.widgets.Select.from_param(self.param.component, label="Colour by", width=200),
            pn.widgets.Checkbox.from_param(self.param.log_scale, label="Log scale",
                                           align="end"),
            css_classes=["ss-energy-controls"])
        self._body = pn.Row(sizing_mode="stretch_width")
        self._layout = pn.Column(self._controls, self._body, sizing_mode="stretch_width",
                                 css_classes=["ss-energy-heatmap"])
        self._sync_profiles()
        self._ready = True
        self._render()

    # ------------------------------------------------------------------ data
    def _names(self) -> dict[str, str]:
        return self.profile_names or {pid: t.name for pid, t in self.tables.items()}

    @param.depends("profile_names", "tables", watch=True)
    def _sync_profiles(self) -> None:
        """Offer the available profiles; keep the current choice when it still exists."""
        names = self._names()
        ids = list(names)
        labels = {self._profile_name(pid): pid for pid in ids}
        self.param.profile.objects = labels
        self.param.compare_profile.objects = {"(none)": "", **labels}
        if self.profile not in ids:
            self.profile = "loihi" if "loihi" in ids else (ids[0] if ids else None)
        if self.compare_profile not in ("", *ids):
            self.compare_profile = ""

    def _profile_name(self, pid: str) -> str:
        name = self._names().get(pid)
        return f"{name} ({pid})" if name is not None and name != pid else pid

    def missing(self) -> list[str]:
        """Profiles shown that have no table yet (the owner prices them)."""
        return [p for p in (self.profile, self.compare_profile) if p and p not in self.tables]

    def breakdown(self, pid: str) -> pd.DataFrame:
        """The energy breakdown (with operation counts) on profile ``pid``."""
        return self.tables[pid].breakdown

    def layers(self) -> list[str]:
        """Row ids in network order: populations (and encoders when asked for)."""
        table = next(iter(self.tables.values()), None)
        if table is None:
            return []
        nodes = table.layers
        keep = nodes["kind"].eq("population") | (self.include_encoders
                                                 & nodes["kind"].eq("encoder"))
        return [str(n) for n in nodes.index[keep]]

    def _duration(self) -> float:
        if self.duration_ms:
            return float(self.duration_ms)
        table = next(iter(self.tables.values()), None)
        frame = table.breakdown if table is not None else None
        return float(frame["bin_start_ms"].max() + self.bin_ms) if frame is not None and \
            len(frame) else 0.0

    def cells(self, pid: str | None = None) -> pd.DataFrame:
        """The plotted cells of profile ``pid`` (default: ``profile``), with ``value``."""
        pid = pid or self.profile
        cells = layer_cells(self.breakdown(pid), self.layers(), self.bin_ms, self.max_bins,
                            self.duration_ms)
        cells["value"] = cells[self.component]
        return cells

    def layer_totals(self, pid: str, layers: list[str]) -> pd.DataFrame:
        """Per layer (in ``layers`` order): the run's energy by component and in total."""
        return self.tables[pid].layers.reindex(layers).fillna(0.0)

    def totals(self, pid: str | None = None) -> dict[str, Any]:
        """Run totals of profile ``pid``: J, J per inference, W (J per second of input)."""
        table = self.tables[pid or self.profile]
        seconds = self._duration() * 1e-3
        window = self.window_ms or self._duration()
        n_inf = self._duration() / window if window else math.nan
        total = table.totals["total_j"]
        return {"profile": table.profile, **table.totals,
                "per_inference_j": total / n_inf if n_inf else math.nan,
                "power_w": total / seconds if seconds else math.nan,
                "window_ms": window, "n_inferences": n_inf, "unpriced": table.unpriced,
                "idle_basis": table.idle_basis}

    # ------------------------------------------------------------------ public views
    @property
    def heatmap_source(self) -> ColumnDataSource | None:
        """Source of the main profile's heatmap cells (``value`` is what colours them)."""
        return self._sources.get("a")

    @property
    def compare_source(self) -> ColumnDataSource | None:
        """Source of the comparison heatmap, or None without a comparison."""
        return self._sources.get("b")

    @property
    def figures(self) -> dict[str, Any]:
        """The current Bokeh figures by name (``heatmap_a``, ``bars_a``, ...)."""
        return dict(self._figures)

    # ------------------------------------------------------------------ render
    @param.depends("profile", "compare_profile", "component", "log_scale", "window_ms",
                   "include_encoders", "max_bins", "height", "tables", "bin_ms",
                   "duration_ms", "profile_names", watch=True)
    def _render(self) -> None:
        if self._ready:
            self._run(self._draw)

    def refit(self) -> None:
        """Draw again for the current data (after being hidden while data arrived)."""
        self._render()

    def _draw(self) -> None:
        self._sources, self._figures = {}, {}
        pids = [p for p in (self.profile, self.compare_profile) if p]
        if not pids or not self.tables:
            self._body.objects = [pn.pane.HTML('<div class="ss-energy-empty">No run to show '
                                               'yet: simulate the network first.</div>')]
            return
        if self.missing():
            self._body.objects = [pn.pane.HTML('<div class="ss-energy-empty">Pricing the run '
                                               'on this profile...</div>')]
            return
        layers = self.layers()
        cells = {pid: self.cells(pid) for pid in pids}
        mapper = self._mapper(pd.concat(list(cells.values()))["value"].to_numpy(float))
        y_range = FactorRange(factors=list(reversed(layers)))
        bar_max = max(self.layer_totals(p, layers)["total_j"].max() for p in pids)
        if self._own_x_range:
            set_range(self.x_range, 0.0, max(self._duration(), 1e-3))
        columns = []
        for key, pid in zip("ab", pids, strict=False):
            columns.append(self._profile_column(key, pid, cells[pid], layers, mapper, y_range,
                                                bar_max, pids))
        self._body.objects = columns

    def _mapper(self, values: np.ndarray) -> LinearColorMapper | LogColorMapper:
        positive = values[values > 0]
        if self.log_scale and len(positive):
            low, high = float(positive.min()), float(positive.max())
            return LogColorMapper(palette=Viridis256, low=low, high=max(high, low * 10),
                                  low_color=_ZERO_COLOR)
        high = float(values.max()) if len(values) else 1.0
        return LinearColorMapper(palette=Viridis256, low=0.0, high=high if high > 0 else 1.0)

    def _profile_column(self, key: str, pid: str, cells: pd.DataFrame, layers: list[str],
                        mapper: Any, y_range: FactorRange, bar_max: float,
                        pids: list[str]) -> pn.Column:
        heat = self._heatmap(key, pid, cells, mapper, y_range)
        bars = self._bars(key, pid, layers, y_range, bar_max)
        totals = pn.pane.HTML(self._totals_html(pid, pids), sizing_mode="stretch_width",
                              margin=(0, 10))
        return pn.Column(totals, pn.Row(exportable(heat, sizing_mode="stretch_width"),
                                        exportable(bars), sizing_mode="stretch_width"),
                         sizing_mode="stretch_width", css_classes=[f"ss-energy-panel-{key}"])

    def _heatmap(self, key: str, pid: str, cells: pd.DataFrame, mapper: Any,
                 y_range: FactorRange) -> Any:
        label = _component_label(self.component)
        fig = figure(height=self.height + 60, title=f"{label} energy per layer and bin ({pid})",
                     x_range=self.x_range, y_range=y_range, toolbar_location="above",
                     x_axis_label="time (ms)", tools="xpan,xwheel_zoom,box_zoom,reset,save",
                     active_scroll="xwheel_zoom", sizing_mode="stretch_width",
                     min_width=320)
        fig.toolbar.logo = None
        scroll_with_page(fig)  # the wheel scrolls the page
        fig.grid.visible = False
        apply_time_axis(fig, self._duration())
        set_export_name(fig, f"{self.export_name}-{pid}")
        source = ColumnDataSource(_cell_data(cells))
        self._sources[key] = source
        fig.rect(x="mid", y="layer", width="width", height=0.9, source=source,
                 fill_color={"field": "value", "transform": mapper}, line_color=None)
        fig.add_tools(HoverTool(tooltips=_CELL_TOOLTIPS))
        cursor_line(fig)
        ticker = LogTicker() if isinstance(mapper, LogColorMapper) else BasicTicker()
        bar = ColorBar(color_mapper=mapper, ticker=ticker, width=10, title="J",
                       formatter=_si_tick_formatter())
        fig.add_layout(bar, "right")
        self._figures[f"heatmap_{key}"] = fig
        return fig

    def _bars(self, key: str, pid: str, layers: list[str], y_range: FactorRange,
              bar_max: float) -> Any:
        totals = self.layer_totals(pid, layers)
        data: dict[str, Any] = {"layer": layers}
        for col in STACK:
            data[col] = totals[col].to_numpy(float)
            data[f"{col}_text"] = [format_si(v, "J") for v in data[col]]
        data["total_text"] = [format_si(v, "J") for v in totals["total_j"]]
        fig = figure(height=self.height + 60, width=320, y_range=y_range, title="Per-layer total",
                     x_range=Range1d(0.0, bar_max * 1.05 if bar_max > 0 else 1.0),
                     x_axis_label="energy (J)", tools="save", toolbar_location=None)
        fig.grid.visible = False
        set_export_name(fig, f"{self.export_name}-{pid}-layers")
        fig.xaxis.formatter = _si_tick_formatter()
        fig.xaxis.major_label_orientation = 0.6
        renderers = fig.hbar_stack(list(STACK), y="layer", height=0.7,
                                   color=[c for _, c in STACK.values()],
                                   source=ColumnDataSource(data),
                                   legend_label=[name for name, _ in STACK.values()])
        fig.add_tools(HoverTool(renderers=renderers, tooltips=[
            ("layer", "@layer"), ("total", "@total_text"),
            *[(name, f"@{col}_text") for col, (name, _) in STACK.items()]]))
        legend = fig.legend[0]
        legend.update(ncols=3, label_text_font_size="8pt", spacing=2, padding=2, margin=2,
                      glyph_width=12, glyph_height=12, border_line_color=None)
        fig.center.remove(legend)
        fig.add_layout(legend, "below")  # inside, it would hide the bars
        self._figures[f"bars_{key}"] = fig
        return fig

    def _totals_html(self, pid: str, pids: list[str]) -> str:
        t = self.totals(pid)
        ratio = ""
        if len(pids) == 2 and pid == pids[1]:
            base = self.totals(pids[0])["total_j"]
            value = t["total_j"] / base if base > 0 else math.nan
            ratio = (f' · <span class="ss-energy-ratio" data-ratio="{value:.6g}">'
                     f'{value:.3g}x the {html.escape(pids[0])} total</span>')
        missing = ""
        if t["unpriced"]:
            names = ", ".join(f"{k} ({v:,} ops)" for k, v in t["unpriced"].items())
            missing = (f'<div class="ss-energy-unpriced" style="color:#b45309">Not counted '
                       f'(no figure on this profile): {html.escape(names)}. Totals are lower '
                       f'bounds.</div>')
        return (
            f'<div class="ss-energy-totals" data-testid="ss-energy-totals" '
            f'data-profile="{html.escape(pid)}" data-total-j="{t["total_j"]:.6g}" '
            f'data-per-inference-j="{t["per_inference_j"]:.6g}" '
            f'data-power-w="{t["power_w"]:.6g}" style="font-size:13px;line-height:1.5">'
            f'<b>{html.escape(self._profile_name(pid))}</b><br>'
            f'Total <b>{format_si(t["total_j"], "J")}</b> · '
            f'per inference ({t["window_ms"]:g} ms) <b>{format_si(t["per_inference_j"], "J")}'
            f'</b> · per second of input <b>{format_si(t["power_w"], "W")}</b>'
            f'<br><span style="color:#555">event-driven (zero without input) '
            f'{format_si(t["event_driven_j"], "J")} · {self._idle_text(t)} · static '
            f'{format_si(t["static_j"], "J")}</span>{ratio}{missing}</div>')

    @staticmethod
    def _idle_text(t: dict[str, Any]) -> str:
        """The idle neuron updates and what they are counted per (per hardware step, ...)."""
        basis = f", {html.escape(t['idle_basis'])}" if t.get("idle_basis") else ""
        return (f'<span class="ss-energy-idle" data-idle-basis="'
                f'{html.escape(t.get("idle_basis", ""))}">idle neuron updates '
                f'{format_si(t.get("neuron_idle_j", 0.0), "J")}{basis}</span>')

    @param.depends("export_name", watch=True)
    def _name_figures(self) -> None:
        """Rename the drawn figures' downloads (the run changed, the figures stay)."""
        for key, fig in self._figures.items():
            kind, panel = key.split("_")
            pid = self.profile if panel == "a" else self.compare_profile
            set_export_name(fig, f"{self.export_name}-{pid}"
                                 f"{'-layers' if kind == 'bars' else ''}")

    def _run(self, fn: Callable[[], None]) -> None:
        fig = next(iter(self._figures.values()), None)
        run_in_session(fig.document if fig is not None else None, fn)

    def __panel__(self) -> pn.viewable.Viewable:
        return self._layout


_CELL_TOOLTIPS = [
    ("layer", "@layer"), ("time", "@t0{0.[00]}–@t1{0.[00]} ms"), ("energy", "@value_text"),
    ("spikes", "@spikes"), ("synaptic events", "@syn_events"),
    ("neuron updates (active)", "@neuron_updates (@active_updates)"),
    ("plasticity updates", "@plasticity_updates"),
    ("synaptic", "@synaptic_text"), ("weight reads", "@memory_text"),
    ("neuron", "@neuron_text"), ("learning", "@learning_text"), ("routing", "@routing_text"),
    ("static", "@static_text"),
]


def _cell_data(cells: pd.DataFrame) -> dict[str, Any]:
    data: dict[str, Any] = {c: cells[c].to_numpy() for c in
                            ("t0", "t1", "value", *_COUNT_COLS)}
    data["layer"] = cells["layer"].tolist()
    data["mid"] = (data["t0"] + data["t1"]) / 2.0
    data["width"] = data["t1"] - data["t0"]
    data["value_text"] = [format_si(v, "J") for v in cells["value"]]
    for col, name in (("synaptic_j", "synaptic"), ("memory_j", "memory"),
                      ("neuron_j", "neuron"), ("learning_j", "learning"),
                      ("routing_j", "routing"), ("static_j", "static")):
        data[f"{name}_text"] = [format_si(v, "J") for v in cells[col]]
    return data


def _component_label(column: str) -> str:
    return next((k for k, v in COMPONENTS.items() if v == column), column)


def _si_tick_formatter() -> Any:
    # Engineering prefixes (pJ, nJ, µJ) read better than 1e-9 on an energy axis.
    from bokeh.models import CustomJSTickFormatter

    return CustomJSTickFormatter(code="""
        if (tick === 0) return '0';
        const p = [[1e3,'k'],[1,''],[1e-3,'m'],[1e-6,'µ'],[1e-9,'n'],[1e-12,'p'],[1e-15,'f']];
        for (const [s, n] of p) { if (Math.abs(tick) >= s * 0.9995)
            { let v = (tick / s).toPrecision(3);
              if (v.includes('.')) v = v.replace(/0+$/, '').replace(/\\.$/, '');
              return v + ' ' + n; } }
        return tick.toExponential(1);""")


def profile_options(profiles: Mapping[str, Any]) -> dict[str, str]:
    """``{"Name (id)": id}`` for selects elsewhere in the app."""
    return {f"{p.name} ({pid})": pid for pid, p in profiles.items()}
