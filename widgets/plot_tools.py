"""Bokeh helpers shared by the result plots: time axes, explicit ranges, legends, downloads.

The decisions (which unit, which axis end, which file name) are made by the pure functions of
:mod:`widgets.plot_format`; this module only applies them to Bokeh models.
"""

from __future__ import annotations

from typing import Any

import panel as pn
from bokeh.events import ButtonClick, MouseLeave, Tap
from bokeh.models import (
    ColumnDataSource,
    CustomJS,
    CustomJSTickFormatter,
    Legend,
    Range1d,
    SaveTool,
    Tool,
)

from widgets.plot_format import time_axis

_TIME_FORMAT = ("const v = tick / divisor;"
                "return v.toLocaleString('en-US', {maximumFractionDigits: 3});")

# Download a figure (as drawn in the browser, named after its SaveTool filename) or an SVG
# document held in a ColumnDataSource (columns "svg" and "name"; PNG drawn from it on a canvas).
_EXPORT_JS = """
const download = (blob, name) => {
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = name;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 5000);
};
if (doc != null) {
  const text = doc.data.svg.length ? doc.data.svg[0] : "";
  const stem = doc.data.name.length && doc.data.name[0] ? doc.data.name[0] : "plot";
  if (!text) { return; }
  const blob = new Blob([text], {type: "image/svg+xml"});
  if (kind === "svg") { download(blob, stem + ".svg"); return; }
  const url = URL.createObjectURL(blob);
  const img = new Image();
  img.onload = () => {
    const scale = 2;  // sharp on high-density screens and in documents
    const canvas = document.createElement("canvas");
    canvas.width = img.width * scale;
    canvas.height = img.height * scale;
    const ctx = canvas.getContext("2d");
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
    URL.revokeObjectURL(url);
    canvas.toBlob((png) => download(png, stem + ".png"), "image/png");
  };
  img.src = url;
  return;
}
const view = Bokeh.index.find_one(fig);
if (view == null) { return; }
const stem = (save != null && save.filename) ? save.filename : "plot";
view.export(kind).to_blob().then((blob) => download(blob, stem + "." + kind));
"""

def apply_time_axis(fig, duration_ms: float | None) -> None:
    """Label ``fig``'s x axis in ms or s (data stay in ms), never in scientific notation."""
    axis = time_axis(duration_ms)
    for xaxis in fig.xaxis:
        xaxis.axis_label = axis.label
        fmt = xaxis.formatter
        if isinstance(fmt, CustomJSTickFormatter) and fmt.args.get("divisor") is not None:
            fmt.args = {"divisor": axis.divisor}
        else:
            xaxis.formatter = CustomJSTickFormatter(args={"divisor": axis.divisor},
                                                    code=_TIME_FORMAT)


def scroll_with_page(fig) -> Tool | None:
    """The mouse wheel over ``fig`` scrolls the page until the plot is made active.

    The figure's wheel tool (its ``active_scroll``) is not active at first: a wheel over a
    plot zoomed it instead of scrolling a page of plots. A click in the plot activates it (so
    does its toolbar button) until the pointer leaves the plot. Returns the wheel tool (None
    when the figure has none).
    """
    tool = fig.toolbar.active_scroll
    if not isinstance(tool, Tool):
        return None
    fig.toolbar.active_scroll = None
    fig.js_on_event(Tap, CustomJS(args={"tool": tool}, code="tool.active = true"))
    fig.js_on_event(MouseLeave, CustomJS(args={"tool": tool}, code="tool.active = false"))
    return tool


def set_range(rng: Range1d, start: float, end: float) -> None:
    """Move a range and its bounds to [start, end].

    Separate assignments, bounds first: BokehJS applies a patch's attributes in order and
    clamps ``end`` to the *old* bounds, so a growing range sent in one update stays clamped
    (a weight matrix of 1000 inputs showed only the first 500).
    """
    if rng.start == start and rng.end == end and rng.bounds is not None \
            and tuple(rng.bounds) == (start, end):
        return  # unchanged: three patches (and a re-layout in the browser) for nothing
    rng.bounds = None
    rng.update(start=start, end=end)
    rng.bounds = (start, end)


def legend_outside(fig) -> None:
    """Move the figure's legend to the right of the plot area, so it never covers data."""
    for legend in list(fig.legend):
        if legend in fig.center:
            fig.center.remove(legend)
            legend.update(location="top_left", click_policy="hide", label_text_font_size="11px",
                          spacing=0, padding=4, margin=4)
            fig.add_layout(legend, "right")


def legend_above(fig) -> None:
    """Move the figure's legend above the plot area, in one row (for narrow figures)."""
    for legend in list(fig.legend):
        if legend in fig.center:
            fig.center.remove(legend)
            legend.update(orientation="horizontal", location="top_left", spacing=6,
                          padding=2, margin=2, label_text_font_size="8pt")
            fig.add_layout(legend, "above")


def new_legend(fig) -> Legend:
    """An empty legend placed right of the plot area."""
    legend = Legend(items=[], location="top_left", click_policy="hide",
                    label_text_font_size="11px", spacing=0, padding=4, margin=4)
    fig.add_layout(legend, "right")
    return legend


def set_export_name(fig, stem: str | None) -> None:
    """Name the files the figure's save tool (and export buttons) download."""
    if fig is None:
        return
    for tool in fig.toolbar.tools:
        if isinstance(tool, SaveTool):
            tool.filename = stem or "plot"


def export_buttons(fig=None, css_class: str = "ss-export", document=None) -> pn.Row:
    """"PNG" and "SVG" buttons that download a plot: the one helper every result view uses.

    Parameters
    ----------
    fig
        A Bokeh figure, downloaded as drawn in the browser and named after its SaveTool's
        ``filename`` (see :func:`set_export_name`).
    css_class
        Class of both buttons (each also gets ``<css_class>-png`` / ``-svg``).
    document
        Instead of ``fig``: an :class:`SvgDocument` (plots that are not Bokeh figures, such as
        HTML tables, draw themselves as SVG); PNG is rasterised from it in the browser.
    """
    save = None
    if fig is not None:
        save = next((t for t in fig.toolbar.tools if isinstance(t, SaveTool)), None)
        if save is None:
            save = SaveTool(filename="plot")
            fig.add_tools(save)
    source = document.source if document is not None else None
    buttons = [DownloadButton(args={"fig": fig, "kind": kind, "save": save, "doc": source},
                              label=kind.upper(), width=54, height=28, margin=(0, 4),
                              color="light", description=f"Download as {kind.upper()}",
                              css_classes=[css_class, f"{css_class}-{kind}"])
               for kind in ("png", "svg")]
    return pn.Row(*buttons, margin=0, css_classes=["ss-export-bar"])


class DownloadButton(pn.widgets.Button):
    """A button whose click runs :data:`_EXPORT_JS` in the browser with ``args``.

    Not ``Button.js_on_click``: Panel keeps those callbacks in a process-wide registry keyed
    weakly by the button, and ours reach the button again through the figure's Python event
    callbacks (figure -> view -> page -> button), so every page's buttons, figures and whole
    session stayed in the server's memory after the page closed (about 7.5 MB per page). The
    callback here lives on the button's Bokeh model and goes with its document.
    """

    def __init__(self, args: dict[str, Any], **params: Any) -> None:
        super().__init__(**params)
        self._download_args = args

    def _get_model(self, doc, root=None, parent=None, comm=None):
        model = super()._get_model(doc, root, parent, comm)
        model.js_on_event(ButtonClick, CustomJS(args=self._download_args, code=_EXPORT_JS))
        return model


def exportable(fig, **pane_params) -> pn.Column:
    """``fig`` in a Bokeh pane with its PNG/SVG buttons above it (see :func:`export_buttons`)."""
    return pn.Column(export_buttons(fig), pn.pane.Bokeh(fig, **pane_params),
                     sizing_mode=pane_params.get("sizing_mode"), margin=0)


class SvgDocument:
    """An SVG drawing of a view that is not a Bokeh figure, for :func:`export_buttons`.

    ``update(svg, name)`` replaces the drawing and its file name stem; the browser reads both
    when a button is clicked (they travel in a ColumnDataSource, like any plot data).
    """

    def __init__(self, name: str = "plot") -> None:
        self.source = ColumnDataSource(data={"svg": [""], "name": [name]})

    def update(self, svg: str | None = None, name: str | None = None) -> None:
        data = dict(self.source.data)
        self.source.data = {"svg": [data["svg"][0] if svg is None else svg],
                            "name": [data["name"][0] if name is None else name]}

    @property
    def svg(self) -> str:
        return self.source.data["svg"][0]

    @property
    def name(self) -> str:
        return self.source.data["name"][0]


__all__ = ["DownloadButton", "SvgDocument", "apply_time_axis", "export_buttons", "exportable",
           "legend_outside", "new_legend", "set_export_name", "set_range"]
