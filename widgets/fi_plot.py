"""An f-I curve: measured firing rates against the input, with the analytic curve overlaid.

Plain data in: the measured points and the analytic curve sampled finely (the ``fi_curve``
figure of ``engine.labs.checks_basic``).
"""

from __future__ import annotations

from collections.abc import Sequence

from bokeh.plotting import figure

__all__ = ["fi_figure"]


def fi_figure(amplitude_mv: Sequence[float], rate_hz: Sequence[float],
              analytic_amplitude_mv: Sequence[float], analytic_rate_hz: Sequence[float],
              title: str = "f-I curve: measured rates and the analytic LIF curve"):
    """Measured rates as dots, the analytic curve as a line, both in the legend."""
    fig = figure(title=title, height=300, sizing_mode="stretch_width",
                 x_axis_label="input R*I (mV)", y_axis_label="firing rate (Hz)",
                 tools="save", toolbar_location="above")
    fig.line(list(analytic_amplitude_mv), list(analytic_rate_hz), line_width=2,
             line_color="#6b7280", legend_label="analytic")
    fig.scatter(list(amplitude_mv), list(rate_hz), size=9, color="#2563eb",
                legend_label="measured")
    fig.legend.location = "top_left"
    return fig
