"""Learned receptive fields as images: each neuron's input weights drawn as its input grid.

Plain data in: a ``(n_inputs, n_neurons)`` weight matrix (e.g. the ``weights`` of
``engine.labs.self_organisation.Score``), the input image shape and optional neuron labels.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from bokeh.models import ColumnDataSource, LinearColorMapper
from bokeh.palettes import Greys256
from bokeh.plotting import figure

__all__ = ["receptive_field_figure", "tile_fields"]


def tile_fields(weights: np.ndarray, shape: tuple[int, int], columns: int = 10,
                gap: int = 1) -> np.ndarray:
    """Each neuron's field as a ``shape`` image, tiled ``columns`` to a row, row 0 on top.

    Every field is scaled to its own maximum (what matters is its shape), and tiles are
    separated by ``gap`` NaN pixels (drawn transparent).
    """
    w = np.asarray(weights, dtype=np.float64)
    h, wd = shape
    if w.shape[0] != h * wd:
        raise ValueError(f"weights: {w.shape[0]} inputs do not make a {h} x {wd} image")
    n = w.shape[1]
    rows = max(1, -(-n // columns))
    out = np.full((rows * (h + gap) - gap, columns * (wd + gap) - gap), np.nan)
    for j in range(n):
        field = w[:, j].reshape(h, wd)
        top = field.max()
        r, c = divmod(j, columns)
        out[r * (h + gap):r * (h + gap) + h, c * (wd + gap):c * (wd + gap) + wd] = \
            field / top if top > 0 else field
    return out


def receptive_field_figure(weights: np.ndarray, shape: tuple[int, int],
                           labels: Sequence[int] | None = None, columns: int = 10,
                           title: str = "Learned receptive fields", pixel_px: int = 7):
    """A Bokeh figure of every neuron's receptive field (``pixel_px`` screen pixels per
    input pixel), with its class label when given."""
    h, wd = shape
    image = tile_fields(weights, shape, columns)
    fig = figure(title=title, height=max(160, pixel_px * image.shape[0] + 40),
                 width=max(240, pixel_px * image.shape[1]),
                 x_range=(0, image.shape[1]), y_range=(0, image.shape[0]),
                 tools="save", toolbar_location="above", match_aspect=True)
    fig.axis.visible = False
    fig.grid.visible = False
    mapper = LinearColorMapper(palette=Greys256[::-1], low=0.0, high=1.0, nan_color=(0, 0, 0, 0))
    # image rows run bottom-up in Bokeh: flip so neuron 0 is top left
    fig.image(image=[image[::-1]], x=0, y=0, dw=image.shape[1], dh=image.shape[0],
              color_mapper=mapper)
    if labels is not None:
        n = np.asarray(weights).shape[1]
        cols = [j % columns for j in range(n)]
        rows = [j // columns for j in range(n)]
        source = ColumnDataSource({
            "x": [c * (wd + 1) + 0.2 for c in cols],
            "y": [image.shape[0] - r * (h + 1) - 0.2 for r in rows],
            "text": [str(int(lab)) if lab >= 0 else "-" for lab in labels]})
        fig.text("x", "y", "text", source=source, text_color="#dc2626", text_font_size="9px",
                 text_baseline="top")
    return fig
