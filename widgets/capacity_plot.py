"""A Hopfield capacity curve: recall quality against the number of stored patterns P, with the
classical limit 0.138 N marked.

Plain data in: the P values, the mean overlaps and N (``engine.labs.hopfield_runs.
CapacityCurve``, or the ``quality_p<P>`` figures of the ``hopfield_capacity`` check).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bokeh.models import ColumnDataSource, Label, Span
from bokeh.plotting import figure

from engine.labs.hopfield import CAPACITY_FRACTION

__all__ = ["capacity_figure", "curve_from_measured"]


def curve_from_measured(measured: Mapping[str, float]) -> tuple[list[int], list[float]]:
    """``(P values, qualities)`` from a check's figures (keys ``quality_p<P>``), sorted by P."""
    points = sorted((int(k[len("quality_p"):]), float(v)) for k, v in measured.items()
                    if k.startswith("quality_p") and k[len("quality_p"):].isdigit())
    return [p for p, _ in points], [q for _, q in points]


def capacity_figure(n_patterns: Sequence[int], quality: Sequence[float], n_neurons: int,
                    title: str = "Capacity: recall quality against stored patterns"):
    """Recall quality (mean overlap) against P, a dashed line at 0.138 N."""
    fig = figure(title=title, height=300, sizing_mode="stretch_width",
                 x_axis_label="stored patterns P", y_axis_label="recall quality (overlap)",
                 y_range=(-0.05, 1.05), tools="save", toolbar_location="above")
    source = ColumnDataSource({"p": list(n_patterns), "q": list(quality)})
    fig.line("p", "q", source=source, line_width=2)
    fig.scatter("p", "q", source=source, size=8)
    limit = CAPACITY_FRACTION * n_neurons
    fig.add_layout(Span(location=limit, dimension="height", line_dash="dashed",
                        line_color="#dc2626"))
    fig.add_layout(Label(x=limit, y=1.0, text=f" {CAPACITY_FRACTION} N = {limit:.1f}",
                         text_color="#dc2626", text_font_size="10px"))
    return fig
