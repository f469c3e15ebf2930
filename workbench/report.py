"""A self-contained HTML report of one run: network, activity, statistics, traces, weights and
energy in one offline file (Bokeh's JavaScript inline, nothing fetched) for a student to hand
in or a researcher to share.

``spikestudio report PROJECT.json --out report.html`` runs the project and writes the report;
the page's "Report" download builds the same file for the run on show. Every text from the
project goes through :func:`workbench.style.text_html` / :func:`markdown_html`.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from bokeh.embed import file_html
from bokeh.layouts import column
from bokeh.models import Div, InlineStyleSheet
from bokeh.resources import INLINE

import engine.energy.model as E
from engine.core.results import SimulationResult
from engine.encoders import CURRENT_ENCODERS
from engine.energy.profiles import profiles_from_document
from engine.energy.tables import energy_table
from widgets.energy_heatmap import EnergyHeatmap
from widgets.network_diagram import network_figure
from widgets.plot_format import recorded_populations
from widgets.raster import RasterPlot
from widgets.rates import RatePlot
from widgets.traces import TracePlot, trace_items_from_frame
from widgets.weights import WeightEvolution
from workbench.style import markdown_html, text_html

#: Profile the report's energy heatmap is drawn for, and the ANN baseline it compares with.
REPORT_PROFILE, ANN_PROFILE = "loihi", "cmos45_fp32"

# Importing Panel registers its module shim with Bokeh as a script *file* (a path on a Panel
# server) that every standalone page would then try to load: a report must not need it.
# The report uses only Bokeh's own models, whose code is inline.
_SCRIPT_FILE = re.compile(r'<script[^>]*\bsrc="[^"]*"[^>]*>\s*</script>\s*')
# Likewise Panel's widget stylesheets (e.g. Tabulator's, from a CDN) once a session used them.
_STYLESHEET_FILE = re.compile(r'<link[^>]*\bhref="[^"]*"[^>]*>\s*')


_CSS = """
:host { font-family: system-ui, sans-serif; color: #222; }
h1 { margin-bottom: 4px; } h2 { border-bottom: 1px solid #ccc; padding-bottom: 4px; }
table.ss-report { border-collapse: collapse; margin: 8px 0; font-size: 13px; }
table.ss-report th, table.ss-report td { border: 1px solid #ddd; padding: 3px 8px;
       text-align: left; }
table.ss-report td.num { text-align: right; font-variant-numeric: tabular-nums; }
.ss-note { color: #555; font-size: 13px; }
"""


def report_html(document: Mapping[str, Any], result: SimulationResult, *,
                run_label: str | None = None,
                profiles: Mapping[str, E.HardwareProfile] | None = None) -> str:
    """The report of ``result`` (a run of the project ``document``) as one HTML page.

    Parameters
    ----------
    document
        The project as a dict (``Project.to_dict()``), the version that was run.
    result
        The run's result (complete or partial: its status is reported).
    run_label
        Shown under the title (default: the date and time now).
    profiles
        Hardware profiles to price the run on (default: the built-in ones plus the
        project's own).
    """
    if profiles is None:
        own = (document.get("energy") or {}).get("profiles") or {}
        profiles = {**E.load_profiles(), **profiles_from_document({"profiles": own})}
    name = str(document.get("name") or "Untitled project")
    parts: list[Any] = [_div(_header(document, result, name, run_label),
                            sizing_mode="stretch_width")]
    parts += [_section("Network", _network_tables(document, result)),
              network_figure(document)]
    parts += _activity(document, result)
    traces = _traces(result)
    if traces:
        parts += [_section("Traces", "<p class='ss-note'>Recorded by state monitors; dashed "
                                     "lines mark the neuron's spikes.</p>")] + traces
    weights = _weights(result)
    if weights:
        parts += [_section("Synaptic weights", "<p class='ss-note'>Recorded weights of "
                                               "plastic projections.</p>")] + weights
    parts += _energy(result, profiles)
    parts.append(_div(f"<p class='ss-note'>Written by SpikeStudio on "
                          f"{dt.datetime.now():%Y-%m-%d %H:%M}. Plots are interactive "
                          "(pan, zoom, save as PNG from each toolbar); this file needs no "
                          "network connection.</p>", sizing_mode="stretch_width"))
    layout = column(*parts, sizing_mode="stretch_width",
                    styles={"max-width": "1100px", "margin": "0 auto", "padding": "0 16px"})
    # The widgets' server-side callbacks (re-aggregation on zoom) do nothing in a file; Bokeh
    # logs a warning about them that is not for the reader of the report.
    log = logging.getLogger("bokeh.embed.util")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        page = file_html(layout, INLINE, title=f"{name}: SpikeStudio report")
    finally:
        log.setLevel(level)
    # Only the tags of the head: the inline scripts' own text is left alone.
    head, sep, body = page.partition("<script>")
    page = _STYLESHEET_FILE.sub("", _SCRIPT_FILE.sub("", head)) + sep + body
    return page


# ---------------------------------------------------------------- sections
def _div(text: str, **kwargs: Any) -> Div:
    """A block of (already escaped) HTML with the report's stylesheet (each Bokeh element
    lives in its own shadow root, so the sheet is given to each)."""
    return Div(text=text, stylesheets=[InlineStyleSheet(css=_CSS)], **kwargs)


def _section(title: str, body_html: str = "") -> Div:
    return _div(f"<h2>{text_html(title)}</h2>{body_html}", sizing_mode="stretch_width")


def _table(frame: pd.DataFrame, test_id: str) -> str:
    head = "".join(f"<th>{text_html(c)}</th>" for c in frame.columns)
    rows = []
    for row in frame.itertuples(index=False):
        cells = []
        for value in row:
            if isinstance(value, (float, np.floating)):
                text = "&ndash;" if not np.isfinite(value) else f"{value:,.4g}"
                cells.append(f"<td class='num'>{text}</td>")
            elif isinstance(value, (int, np.integer)) and not isinstance(value, bool):
                cells.append(f"<td class='num'>{value:,}</td>")
            else:
                cells.append(f"<td>{text_html(value)}</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return (f"<table class='ss-report' data-testid='{test_id}'><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>")


def _header(document: Mapping[str, Any], result: SimulationResult, name: str,
            run_label: str | None) -> str:
    sim = document.get("simulation", {})
    status = {"completed": "completed", "cancelled": "stopped early",
              "memory_limit": "stopped: memory budget", "time_limit": "stopped: time limit",
              "error": "stopped: error"}.get(result.status, result.status)
    facts = pd.DataFrame({
        "": ["run", "status", "model time", "time step", "seed", "spikes", "computed in"],
        "value": [run_label or f"{dt.datetime.now():%Y-%m-%d %H:%M}", status,
                  f"{result.duration_ms:g} of {result.requested_ms:g} ms",
                  f"{result.dt_ms:g} ms", str(sim.get("seed", "")), f"{result.n_spikes:,}",
                  f"{result.wall_time_s:.2f} s (build {result.build_time_s:.2f} s)"]})
    description = document.get("description") or ""
    notes = "".join(f"<li>{text_html(m)}</li>" for m in result.messages)
    return (f"<h1 data-testid='report-title'>{text_html(name)}</h1>"
            f"<div class='ss-description'>{markdown_html(description)}</div>"
            f"{_table(facts, 'report-run')}"
            + (f"<ul class='ss-note'>{notes}</ul>" if notes else ""))


def _network_tables(document: Mapping[str, Any], result: SimulationResult) -> str:
    network = document.get("network", {})
    nodes = pd.DataFrame([{"node": n["id"], "kind": n.get("kind", ""),
                           "model": n.get("model", ""), "size": n.get("size", "")}
                          for n in network.get("nodes", [])],
                         columns=["node", "kind", "model", "size"])
    synapses = {}
    info = result.network_info
    if info is not None and "projection" in info and "n_synapses" in info:
        synapses = dict(zip(info["projection"], info["n_synapses"], strict=True))
    projections = pd.DataFrame([{
        "projection": p["id"], "from": p["source"], "to": p["target"],
        "connectivity": p.get("connectivity", {}).get("rule", ""),
        "receptor": p.get("receptor", "exc"),
        "plasticity": (p.get("plasticity") or {}).get("rule", "static"),
        "synapses": int(synapses[p["id"]]) if p["id"] in synapses else ""}
        for p in network.get("projections", [])],
        columns=["projection", "from", "to", "connectivity", "receptor", "plasticity",
                 "synapses"])
    return _table(nodes, "report-nodes") + (_table(projections, "report-projections")
                                           if len(projections) else "")


def _spiking_sizes(result: SimulationResult) -> dict[str, int]:
    info = result.node_info
    current = set(info.loc[info["model"].isin(list(CURRENT_ENCODERS)), "node"])
    return {n: s for n, s in result.sizes.items() if n not in current}


def _activity(document: Mapping[str, Any], result: SimulationResult) -> list[Any]:
    sizes = _spiking_sizes(result)
    record = document.get("simulation", {}).get("record_spikes", "all")
    recorded = recorded_populations(record, result.sizes)
    shown = {n: s for n, s in sizes.items() if n in recorded}
    parts: list[Any] = [_section("Activity")]
    if result.duration_ms <= 0:
        return parts + [_div("<p class='ss-note'>The run stopped before the first step: "
                                 "no activity.</p>")]
    raster = RasterPlot(spikes=result.spikes, store=result.spike_store, sizes=shown,
                        duration_ms=max(result.duration_ms, result.dt_ms), height=360)
    rates = RatePlot(x_range=raster.x_range, height=200,
                     rates=result.population_rates(shown, max(1.0, result.duration_ms / 200)))
    summary = result.population_summary(sizes)
    summary.insert(1, "recorded", ["yes" if n in recorded else "no"
                                   for n in summary["population"]])
    for column_name in ("spikes", "mean_rate_hz", "active_fraction", "cv_isi", "fano_factor"):
        if column_name in summary:  # numbers of unrecorded populations are unknown, not 0
            summary[column_name] = summary[column_name].astype(float).where(
                summary["recorded"] == "yes")
    parts += [raster.figure, rates.figure,
              _section("Summary", _table(summary, "report-summary"))]
    return parts


def _traces(result: SimulationResult) -> list[Any]:
    if not result.traces:
        return []
    marks = {(rec.population, int(n)): result.neuron_spike_times(rec.population, int(n))
             for rec in result.traces.values() for n in rec.neurons}
    units = {v: u for rec in result.traces.values() for v, u in rec.units.items()}
    plot = TracePlot(height=260, title="Recorded traces",
                     traces=trace_items_from_frame(result.traces_frame(), marks, units))
    return plot.figures


def _weights(result: SimulationResult) -> list[Any]:
    parts: list[Any] = []
    info = result.network_info.set_index("projection")
    for pid, record in result.weights.items():
        view = WeightEvolution(record=record, spikes=result.spikes,
                               source=str(info.loc[pid, "source"]),
                               target=str(info.loc[pid, "target"]),
                               selected=[int(s) for s in record.synapse_index[:10]])
        view.snapshot = max(len(record.times_ms) - 1, 0)  # the matrix at the end of the run
        parts.append(_div(f"<h3>{text_html(pid)}</h3>", sizing_mode="stretch_width"))
        parts += view.figures
    return parts


def _energy(result: SimulationResult, profiles: Mapping[str, E.HardwareProfile]) -> list[Any]:
    if result.duration_ms <= 0 or result.counts is None or not len(result.counts):
        return []
    tables = {pid: energy_table(result.counts, profile, result.bin_ms, result.duration_ms)
              for pid, profile in profiles.items() if profile.kind != "dense"}
    rows = [{"profile": t.name, "event-driven (J)": t.totals["event_driven_j"],
             "idle neuron updates (J)": t.totals["neuron_idle_j"],
             "idle updates counted": t.idle_basis, "dynamic (J)": t.totals["dynamic_j"],
             "static (J)": t.totals["static_j"], "total (J)": t.totals["total_j"]}
            for t in tables.values()]
    body = _table(pd.DataFrame(rows), "report-energy") if rows else ""
    parts: list[Any] = [_section("Energy", "<p class='ss-note'>Operation counts of this run "
                                           "x energy per operation of each hardware profile "
                                           "(sources in the profiles).</p>" + body +
                                 "<p class='ss-note'>Event-driven energy (synaptic events, "
                                 "active neuron updates, learning, routing, weight reads) is "
                                 "zero without input. Idle neuron updates are charged per "
                                 "step of the profile's hardware clock (e.g. 1 ms on Loihi), "
                                 "per simulation step on GPU/CPU profiles, and not at all on "
                                 "event-driven chips.</p>")]
    if REPORT_PROFILE in tables:
        heatmap = EnergyHeatmap(tables={REPORT_PROFILE: tables[REPORT_PROFILE]},
                                bin_ms=result.bin_ms, duration_ms=result.duration_ms,
                                profile=REPORT_PROFILE)
        parts += list(heatmap.figures.values())
    if ANN_PROFILE in profiles:
        snn = profiles.get(REPORT_PROFILE)
        c = E.snn_vs_ann(result.counts, result.network_info, result.node_info,
                         result.duration_ms, result.dt_ms, result.bin_ms,
                         ann_profile=profiles[ANN_PROFILE], snn_profile=snn)
        table = pd.DataFrame({"": ["synaptic operations (effective ACs)", "dense ANN MACs",
                                   "activation sparsity", "SNN / ANN energy, literature style",
                                   "SNN / ANN energy, memory-inclusive"],
                              "value": [f"{c.effective_acs:,.0f}", f"{c.dense_macs:,.0f}",
                                        f"{c.activation_sparsity:.4f}",
                                        f"{c.ratio_literature:.3g}", f"{c.ratio_memory:.3g}"]})
        parts.append(_section(f"SNN on {profiles[REPORT_PROFILE].name if snn else '-'} vs "
                              f"ANN on {profiles[ANN_PROFILE].name}",
                              _table(table, "report-snn-ann")))
    return parts
