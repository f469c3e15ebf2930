"""The figures a lab check's outcome can carry, drawn under it in the Lab notes tab.

A check returns its figure as plain data (:class:`engine.labs.observation.FigureData`: a kind
and named number series); this registry maps each kind to the widget drawing it, so the
panel shows any check's figure without knowing the lab.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from engine.labs.observation import FigureData
from widgets.capacity_plot import capacity_figure
from widgets.fi_plot import fi_figure
from widgets.receptive_fields import receptive_field_figure

__all__ = ["LAB_FIGURES", "figure_of"]


def _fi_curve(series: dict[str, tuple[float, ...]]) -> Any:
    return fi_figure(series["amplitude_mv"], series["rate_hz"],
                     series["analytic_amplitude_mv"], series["analytic_rate_hz"])


def _capacity(series: dict[str, tuple[float, ...]]) -> Any:
    return capacity_figure([int(p) for p in series["n_patterns"]], series["quality"],
                           int(series["n_neurons"][0]))


def _receptive_fields(series: dict[str, tuple[float, ...]]) -> Any:
    rows, cols, n_neurons = (int(v) for v in series["shape"])
    weights = np.asarray(series["weights"], np.float64).reshape(rows * cols, n_neurons)
    return receptive_field_figure(weights, (rows, cols),
                                  labels=[int(label) for label in series["labels"]],
                                  columns=min(10, n_neurons))  # no empty tiles for a few


#: figure kind -> ``draw(series) -> Bokeh figure``.
LAB_FIGURES: dict[str, Callable[[dict[str, tuple[float, ...]]], Any]] = {
    "fi_curve": _fi_curve,
    "hopfield_capacity": _capacity,
    "receptive_fields": _receptive_fields,
}


def figure_of(data: FigureData | None) -> Any | None:
    """The Bokeh figure drawing ``data``, or None (no figure, or a kind nobody draws)."""
    if data is None or data.kind not in LAB_FIGURES:
        return None
    return LAB_FIGURES[data.kind](data.series)
