"""A small histogram of per-neuron values (the inspector's view of a per-neuron parameter).

Plain data in (the values a run uses), a Bokeh pane out: no toolbar, no tools, small enough
for the inspector's column.
"""

from __future__ import annotations

import numpy as np
import panel as pn
from bokeh.models import ColumnDataSource
from bokeh.plotting import figure

#: Most bins: enough to show a distribution's shape in a 300 px wide figure.
MAX_BINS = 40


def histogram_counts(values: np.ndarray, bins: int = MAX_BINS) -> tuple[np.ndarray, np.ndarray]:
    """``(counts, edges)`` of ``values``: fewer bins for few neurons, one bin of width 1 for
    values that are all equal (numpy's default range for a constant)."""
    values = np.asarray(values, dtype=np.float64)
    n_bins = int(max(1, min(bins, np.ceil(np.sqrt(values.size)))))
    return np.histogram(values, bins=n_bins)


def value_histogram(values: np.ndarray, label: str, testid: str,
                    width: int = 280, height: int = 130) -> pn.pane.Bokeh:
    """A histogram of ``values`` with x axis ``label`` (the parameter and its unit).

    ``testid`` names the pane's element (``css_classes``) for tests and styling.
    """
    counts, edges = histogram_counts(values)
    source = ColumnDataSource({"left": edges[:-1], "right": edges[1:], "count": counts})
    fig = figure(width=width, height=height, toolbar_location=None, tools="",
                 x_axis_label=label, y_axis_label="neurons")
    fig.toolbar.logo = None
    fig.quad(left="left", right="right", bottom=0, top="count", source=source,
             fill_color="#4c78a8", line_color="white")
    fig.y_range.start = 0
    fig.axis.axis_label_text_font_size = "9pt"
    fig.axis.major_label_text_font_size = "8pt"
    classes = ["ss-per-neuron-hist", testid]
    fig.css_classes = classes  # the pane renders as the figure: its element carries these
    return pn.pane.Bokeh(fig, css_classes=classes)
