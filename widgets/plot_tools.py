"""Bokeh helpers shared by the result plots: time axes, explicit ranges, legends, downloads.

The decisions (which unit, which axis end, which file name) are made by the pure functions of
:mod:`widgets.plot_format`; this module only applies them to Bokeh models.
"""

from __future__ import annotations

import panel as pn
from bokeh.models import CustomJSTickFormatter, Legend, Range1d, SaveTool

from widgets.plot_format import time_axis

_TIME_FORMAT = ("const v = tick / divisor;"
                "return v.toLocaleString('en-US', {maximumFractionDigits: 3});")

# Export a figure as PNG or SVG in the browser, named after the figure's SaveTool filename.
_EXPORT_JS = """
const view = Bokeh.index.find_one(fig);
if (view == null) { return; }
const stem = (save != null && save.filename) ? save.filename : "plot";
view.export(kind).to_blob().then((blob) => {
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = stem + "." + kind;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 5000);
});
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


def set_range(rng: Range1d, start: float, end: float) -> None:
    """Move a range and its bounds to [start, end].

    Separate assignments, bounds first: BokehJS applies a patch's attributes in order and
    clamps ``end`` to the *old* bounds, so a growing range sent in one update stays clamped
    (a weight matrix of 1000 inputs showed only the first 500).
    """
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


def export_buttons(fig, css_class: str = "ss-export") -> pn.Row:
    """"PNG" and "SVG" buttons that download ``fig`` as drawn in the browser.

    The file is named after the figure's SaveTool ``filename`` (see :func:`set_export_name`).
    """
    save = next((t for t in fig.toolbar.tools if isinstance(t, SaveTool)), None)
    if save is None:
        save = SaveTool(filename="plot")
        fig.add_tools(save)
    buttons = []
    for kind in ("png", "svg"):
        button = pn.widgets.Button(label=kind.upper(), width=54, height=28, margin=(0, 4),
                                   color="light",
                                   css_classes=[css_class, f"{css_class}-{kind}"])
        button.js_on_click(args={"fig": fig, "kind": kind, "save": save}, code=_EXPORT_JS)
        buttons.append(button)
    return pn.Row(*buttons, margin=0)


__all__ = ["apply_time_axis", "export_buttons", "legend_outside", "new_legend",
           "set_export_name", "set_range"]
