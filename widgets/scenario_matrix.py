"""Scenario-fit matrices: scenarios x criteria and scenarios x hardware profiles.

Renders what :func:`engine.evaluation.scenario_fit.fit_matrices` computed from the simulations
of a :class:`~engine.evaluation.scenario_fit.ScenarioReport`: every cell shows its measured
value, is coloured recommended / neutral / cautious, and gives its reason on hover. The
thresholds are edited in place; changing one re-rates the cells without simulating again. The
matrices export as one CSV (:func:`engine.evaluation.scenario_fit.matrices_to_csv`).

Hooks for browser tests (inside the HTML pane): each cell is a ``td`` with class
``ss-fit-cell ss-fit-<rating>`` and ``data-testid="ss-fit-<matrix>-<scenario>-<column>"``,
``data-rating``, ``data-value`` and ``data-reason`` attributes; its visible text is in a
``span.ss-fit-text``. The tables have ``data-testid="ss-fit-criteria"`` and
``"ss-fit-hardware"``; validation messages of the thresholds appear in
``[data-testid=ss-fit-error]``.
"""

from __future__ import annotations

import html
import io
import math
from dataclasses import replace
from typing import Any

import pandas as pd
import panel as pn
import param

from engine.errors import ProjectError
from engine.evaluation.scenario_fit import (
    ScenarioReport,
    Thresholds,
    fit_matrices,
    format_si,
    matrices_to_csv,
    validate_thresholds,
)
from widgets.plot_tools import SvgDocument, export_buttons

RATING_STYLE = {"recommended": ("#dcf2d9", "#17602a"), "neutral": ("#eef0f3", "#374151"),
                "cautious": ("#fde3d7", "#9a2b0c")}
_LABELS = {
    "sparsity_recommended": ("Sparsity: recommended at or above", 0.001),
    "sparsity_cautious": ("Sparsity: cautious below", 0.001),
    "latency_margin": ("Latency: recommended within x deadline", 0.05),
    "power_margin": ("Power: recommended within x budget", 0.05),
    "ratio_recommended": ("SNN/ANN: recommended at or below", 0.05),
    "ratio_cautious": ("SNN/ANN: cautious above", 0.05),
}
_CSS = """
:host { display: block; }
table.ss-fit { border-collapse: separate; border-spacing: 2px; font-size: 12.5px;
  margin: 4px 0 14px 0; }
table.ss-fit th { font-weight: 600; text-align: center; padding: 4px 6px; color: #1f2937;
  vertical-align: bottom; max-width: 120px; }
table.ss-fit th.ss-fit-rowhead { text-align: left; max-width: 220px; font-weight: 500; }
.ss-fit-tags { color: #6b7280; font-size: 11px; font-weight: 400; }
td.ss-fit-cell { position: relative; padding: 6px 8px; text-align: center; border-radius: 4px;
  min-width: 78px; cursor: help; font-variant-numeric: tabular-nums; }
td.ss-fit-cell .ss-fit-tip { display: none; position: absolute; z-index: 10; left: 50%;
  top: 100%; transform: translateX(-50%); width: 300px; padding: 6px 8px; margin-top: 4px;
  background: #111827; color: #f9fafb; font-size: 11.5px; text-align: left;
  border-radius: 4px; box-shadow: 0 2px 8px rgba(0,0,0,.25); white-space: normal; }
td.ss-fit-cell:hover .ss-fit-tip { display: block; }
td.ss-fit-cell:hover { outline: 2px solid #6b7280; }
.ss-fit-legend span { display: inline-block; padding: 2px 8px; margin-right: 6px;
  border-radius: 4px; font-size: 12px; }
.ss-fit-caption { font-size: 13px; font-weight: 600; margin-top: 6px; color: #111827; }
.ss-fit-note { font-size: 12px; color: #4b5563; }
"""
_CSS += "".join(f"td.ss-fit-{r} {{ background: {bg}; color: {fg}; }}\n"
                for r, (bg, fg) in RATING_STYLE.items())


class ScenarioMatrix(pn.viewable.Viewer):
    """The two fit matrices of a scenario report, with editable thresholds and CSV export.

    Parameters
    ----------
    report
        A :class:`~engine.evaluation.scenario_fit.ScenarioReport` (``None`` shows a placeholder).
    thresholds
        The rating rules; the threshold widgets edit this param (the app may watch it or
        save it with the project via ``Thresholds.to_dict``).

    Attributes
    ----------
    criteria, hardware
        The current long-format matrices (read-only params; see
        :func:`engine.evaluation.scenario_fit.fit_matrices`).
    """

    report = param.ClassSelector(class_=ScenarioReport, default=None, allow_None=True)
    thresholds = param.ClassSelector(class_=Thresholds, default=Thresholds())
    criteria = param.DataFrame(default=None, allow_None=True, constant=True)
    hardware = param.DataFrame(default=None, allow_None=True, constant=True)
    error = param.String(default="", constant=True, doc="Why the last threshold edit failed.")
    export_name = param.String(default="scenarios", doc="File name stem of the PNG/SVG.")

    def __init__(self, **params: Any):
        super().__init__(**params)
        # Wide enough for the longest label: narrower inputs let their labels overlap.
        self._inputs = {name: pn.widgets.FloatInput(label=label, step=step, width=270,
                                                    value=getattr(self.thresholds, name),
                                                    margin=(5, 12))
                        for name, (label, step) in _LABELS.items()}
        self._snn = pn.widgets.Select(label="SNN reference profile", width=270, margin=(5, 12),
                                      css_classes=["ss-fit-snn"])
        self._ann = pn.widgets.Select(label="ANN baseline (dense) profile", width=270,
                                      margin=(5, 12), css_classes=["ss-fit-ann"])
        for widget in [*self._inputs.values(), self._snn, self._ann]:
            widget.param.watch(self._edited, "value")
        self._download = pn.widgets.FileDownload(
            callback=self._csv, filename="scenario_fit.csv", label="Export CSV",
            color="primary", embed=False, width=160, css_classes=["ss-fit-download"])
        self._tables = pn.pane.HTML("", stylesheets=[_CSS], sizing_mode="stretch_width",
                                    css_classes=["ss-fit-matrices"])
        thresholds_box = pn.Card(
            pn.FlexBox(*self._inputs.values(), self._snn, self._ann, flex_wrap="wrap"),
            title="Thresholds (edit to re-rate without re-simulating)", collapsed=False,
            sizing_mode="stretch_width", css_classes=["ss-fit-thresholds"])
        # PNG/SVG of the matrices as drawn by matrices_svg (the one export helper).
        self.drawing = SvgDocument(self.export_name)
        self._layout = pn.Column(thresholds_box,
                                 pn.Row(self._download, export_buttons(document=self.drawing)),
                                 self._tables,
                                 sizing_mode="stretch_width", css_classes=["ss-scenario-matrix"])
        self._syncing = False
        self._report_changed()

    # ------------------------------------------------------------------ updates
    @param.depends("report", watch=True)
    def _report_changed(self) -> None:
        # Before any run the built-in profiles are offered, so the choices are never empty.
        profiles = self.report.profiles if self.report is not None else _builtin_profiles()
        self._syncing = True
        try:
            self._snn.options = {f"{p.name} ({pid})": pid for pid, p in profiles.items()}
            self._ann.options = {f"{p.name} ({pid})": pid for pid, p in profiles.items()
                                 if p.kind == "dense"}
        finally:
            self._syncing = False
        self._thresholds_changed()

    @param.depends("thresholds", watch=True)
    def _thresholds_changed(self) -> None:
        self._syncing = True
        try:
            for name, widget in self._inputs.items():
                widget.value = getattr(self.thresholds, name)
            for widget, name in ((self._snn, "snn_profile"), (self._ann, "ann_profile")):
                value = getattr(self.thresholds, name)
                if value in widget.values:
                    widget.value = value
        finally:
            self._syncing = False
        self.refresh()

    def _edited(self, _event: Any) -> None:
        """A threshold widget changed: validate, then re-rate (no simulation)."""
        if self._syncing:
            return
        values = {name: w.value for name, w in self._inputs.items()}
        values.update(snn_profile=self._snn.value or self.thresholds.snn_profile,
                      ann_profile=self._ann.value or self.thresholds.ann_profile)
        if any(v is None for v in values.values()):
            return self._set_error("every threshold needs a value")
        candidate = replace(self.thresholds, **values)
        problems = validate_thresholds(candidate)
        if problems:
            return self._set_error("; ".join(str(p) for p in problems))
        self.thresholds = candidate

    def refresh(self) -> None:
        """Recompute the ratings from the report and the thresholds and redraw."""
        if self.report is None:
            self._publish(None, None, "")
            self.drawing.update(svg="")
            self._tables.object = ('<div class="ss-fit-note">No scenario run yet: run the '
                                   'scenarios to fill the matrices.</div>')
            return
        try:
            criteria, hardware = fit_matrices(self.report, self.thresholds)
        except ProjectError as exc:
            self._set_error(str(exc))
            return
        self._publish(criteria, hardware, "")
        self._tables.object = self._html()
        self.drawing.update(svg=matrices_svg(criteria, hardware, _row_names(self.report)))

    @param.depends("export_name", watch=True)
    def _name_changed(self) -> None:
        self.drawing.update(name=self.export_name)

    def _publish(self, criteria: pd.DataFrame | None, hardware: pd.DataFrame | None,
                 error: str) -> None:
        with param.edit_constant(self):
            self.param.update(criteria=criteria, hardware=hardware, error=error)

    def _set_error(self, message: str) -> None:
        with param.edit_constant(self):
            self.error = message
        if self.report is not None:
            self._tables.object = self._html()

    def _csv(self) -> io.StringIO:
        if self.criteria is None:
            return io.StringIO("")
        return io.StringIO(matrices_to_csv(self.criteria, self.hardware, self.thresholds))

    # ------------------------------------------------------------------ html
    def _html(self) -> str:
        parts = [_legend()]
        if self.error:
            parts.append(f'<div class="ss-fit-error" data-testid="ss-fit-error" '
                         f'style="color:#b42318">Thresholds not applied: '
                         f'{html.escape(self.error)}</div>')
        if self.criteria is not None:
            parts.append('<div class="ss-fit-caption">Scenarios x criteria</div>')
            parts.append(_table(self.criteria, "criteria", self.report))
            parts.append(f'<div class="ss-fit-caption">Scenarios x hardware profiles '
                         f'(SNN energy per inference; rated by the power budget and by the '
                         f'SNN / ANN ratio against {html.escape(self.thresholds.ann_profile)} '
                         f'or the dense profile itself)</div>')
            parts.append(_table(self.hardware, "hardware", self.report))
        parts.append(_not_completed(self.report))
        return "\n".join(parts)

    @property
    def download(self) -> pn.widgets.FileDownload:
        """The CSV download button."""
        return self._download

    @property
    def threshold_widgets(self) -> dict[str, pn.widgets.Widget]:
        """Threshold field name -> its input widget."""
        return {**self._inputs, "snn_profile": self._snn, "ann_profile": self._ann}

    def __panel__(self) -> pn.viewable.Viewable:
        return self._layout


def _row_names(report: ScenarioReport | None) -> dict[str, str]:
    runs = report.runs if report is not None else {}
    return {sid: run.scenario.name for sid, run in runs.items()}


_CELL_W, _CELL_H, _HEAD_W, _HEAD_H, _GAP = 104, 26, 200, 44, 2


def matrices_svg(criteria: pd.DataFrame | None, hardware: pd.DataFrame | None,
                 names: dict[str, str] | None = None) -> str:
    """The two fit matrices drawn as one SVG document (for the PNG/SVG downloads).

    Each matrix is a grid of scenarios (rows, labelled with ``names``) x columns, each cell
    coloured by its rating and showing its text, as in the page's tables.
    """
    names = names or {}
    parts: list[str] = []
    y, width = 8, 0
    for title, matrix in (("Scenarios x criteria", criteria),
                          ("Scenarios x hardware profiles (SNN energy per inference)", hardware)):
        if matrix is None or not len(matrix):
            continue
        columns = list(dict.fromkeys(matrix["column"]))
        labels = dict(zip(matrix["column"], matrix["column_label"], strict=False))
        parts.append(f'<text x="8" y="{y + 14}" font-weight="bold" font-size="13">'
                     f'{html.escape(title)}</text>')
        y += 22
        for k, column in enumerate(columns):
            x = 8 + _HEAD_W + k * (_CELL_W + _GAP) + _CELL_W / 2
            parts.append(f'<text x="{x:g}" y="{y + _HEAD_H - 8}" font-size="11" '
                         f'text-anchor="middle">{html.escape(_clip(str(labels[column])))}</text>')
        y += _HEAD_H
        for sid, group in matrix.groupby("scenario", sort=False):
            parts.append(f'<text x="8" y="{y + 17}" font-size="12">'
                         f'{html.escape(_clip(names.get(sid, str(sid)), 30))}</text>')
            cells = {row.column: row for row in group.itertuples()}
            for k, column in enumerate(columns):
                row = cells.get(column)
                if row is None:
                    continue
                bg, fg = RATING_STYLE.get(row.rating, ("#ffffff", "#111827"))
                x = 8 + _HEAD_W + k * (_CELL_W + _GAP)
                parts.append(f'<rect x="{x}" y="{y}" width="{_CELL_W}" height="{_CELL_H}" '
                             f'rx="4" fill="{bg}"/><text x="{x + _CELL_W / 2:g}" '
                             f'y="{y + 17}" font-size="12" text-anchor="middle" fill="{fg}">'
                             f'{html.escape(_clip(str(row.text)))}</text>')
            y += _CELL_H + _GAP
        width = max(width, 16 + _HEAD_W + len(columns) * (_CELL_W + _GAP))
        y += 16
    if not parts:
        return ""
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{y}" '
            f'viewBox="0 0 {width} {y}" font-family="Helvetica, Arial, sans-serif">'
            f'<rect width="100%" height="100%" fill="#ffffff"/>{"".join(parts)}</svg>')


def _clip(text: str, limit: int = 16) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _builtin_profiles() -> dict:
    from engine.energy.model import load_profiles

    return load_profiles()


def _legend() -> str:
    items = "".join(f'<span class="ss-fit-{r}" style="background:{bg};color:{fg}">{r}</span>'
                    for r, (bg, fg) in RATING_STYLE.items())
    return (f'<div class="ss-fit-legend">{items}<span style="color:#6b7280">hover a cell for '
            f'the measured reason</span></div>')


def _table(matrix: pd.DataFrame, name: str, report: ScenarioReport | None) -> str:
    columns = list(dict.fromkeys(matrix["column"]))
    labels = dict(zip(matrix["column"], matrix["column_label"], strict=False))
    head = "".join(f'<th data-column="{html.escape(c)}">{html.escape(labels[c])}</th>'
                   for c in columns)
    rows = []
    for sid, group in matrix.groupby("scenario", sort=False):
        cells = {row.column: row for row in group.itertuples()}
        tds = "".join(_td(name, sid, cells[c]) if c in cells else "<td></td>" for c in columns)
        rows.append(f'<tr data-scenario="{html.escape(str(sid))}">{_row_head(sid, report)}'
                    f'{tds}</tr>')
    return (f'<table class="ss-fit ss-fit-{name}" data-testid="ss-fit-{name}"><thead><tr>'
            f'<th class="ss-fit-rowhead">Scenario</th>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')


def _row_head(sid: str, report: ScenarioReport | None) -> str:
    run = report.runs.get(sid) if report is not None else None
    if run is None:
        return f'<th class="ss-fit-rowhead">{html.escape(sid)}</th>'
    sc = run.scenario
    tags = " · ".join(sc.tags.values())
    limits = (f"deadline {sc.deadline_ms:g} ms · budget {_watts(sc.power_budget_w)} · "
              f"window {sc.window_ms:g} ms")
    return (f'<th class="ss-fit-rowhead" title="{html.escape(sc.description)}">'
            f'{html.escape(sc.name)}<br><span class="ss-fit-tags">{html.escape(tags)}'
            f'<br>{limits}</span></th>')


def _td(matrix: str, sid: str, row: Any) -> str:
    value = "" if row.value is None or not math.isfinite(row.value) else f"{row.value:.6g}"
    reason = html.escape(str(row.reason), quote=True)
    return (f'<td class="ss-fit-cell ss-fit-{row.rating}" '
            f'data-testid="ss-fit-{matrix}-{html.escape(str(sid))}-{html.escape(row.column)}" '
            f'data-rating="{row.rating}" data-value="{value}" data-reason="{reason}" '
            f'aria-label="{html.escape(str(row.text))}: {row.rating}. {reason}">'
            f'<span class="ss-fit-text">{html.escape(str(row.text))}</span>'
            f'<span class="ss-fit-tip"><b>{row.rating}</b>: {reason}</span></td>')


def _not_completed(report: ScenarioReport | None) -> str:
    if report is None:
        return ""
    items = [f'<li data-scenario="{html.escape(r.scenario.id)}" data-status="{r.status}">'
             f'{html.escape(r.scenario.name)}: {r.status}'
             f'{(" — " + html.escape(r.error)) if r.error else ""}</li>'
             for r in report.runs.values() if r.status != "completed"]
    if not items:
        return ""
    return (f'<div class="ss-fit-note" data-testid="ss-fit-incomplete">Not in the matrices '
            f'(not simulated to the end):<ul>{"".join(items)}</ul></div>')


def _watts(value: float) -> str:
    return format_si(value, "W")


__all__ = ["RATING_STYLE", "ScenarioMatrix", "matrices_svg"]
