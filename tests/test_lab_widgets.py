"""The labs' widgets: receptive-field tiles and the Hopfield pattern editor."""

from __future__ import annotations

import numpy as np
import pytest

from widgets.pattern_grid import PatternGrid
from widgets.receptive_fields import receptive_field_figure, tile_fields


def test_tile_fields_places_each_neurons_field_scaled_to_its_maximum():
    w = np.zeros((4, 3))
    w[0, 0], w[3, 1], w[1, 2] = 2.0, 5.0, 1.0  # 2x2 fields
    image = tile_fields(w, (2, 2), columns=2)
    assert image.shape == (5, 5)  # 2 rows of tiles, 1-pixel gaps
    assert image[0, 0] == 1.0 and image[1, 4] == 1.0 and image[3, 1] == 1.0
    assert np.isnan(image[2]).all() and np.isnan(image[:, 2]).all()
    with pytest.raises(ValueError, match="inputs"):
        tile_fields(np.zeros((5, 2)), (2, 2))


def test_receptive_field_figure_labels_every_neuron():
    fig = receptive_field_figure(np.random.default_rng(0).random((64, 12)), (8, 8),
                                 labels=[3] * 11 + [-1], columns=6)
    texts = [r.data_source.data["text"] for r in fig.renderers if "text" in r.data_source.data]
    assert texts and list(texts[0]) == ["3"] * 11 + ["-"]


def test_pattern_grid_toggles_cells_and_reports_the_pattern():
    seen = []
    grid = PatternGrid("#...", columns=2, on_change=seen.append)
    grid.toggle(3)
    grid.toggle(0)
    assert grid.pattern == "...#" and seen == ["#..#", "...#"]
    grid.source.selected.indices = [1]  # a click in the browser
    assert grid.pattern == ".#.#" and grid.source.selected.indices == []
    with pytest.raises(ValueError):
        PatternGrid("#x", columns=2)


def test_capacity_figure_marks_the_classical_limit():
    from bokeh.models import Span

    from widgets.capacity_plot import capacity_figure, curve_from_measured

    p, q = curve_from_measured({"quality_p11": 0.5, "quality_p2": 1.0, "capacity_fraction": 0.08})
    assert p == [2, 11] and q == [1.0, 0.5]
    fig = capacity_figure(p, q, n_neurons=100)
    spans = [r for r in fig.center if isinstance(r, Span)]
    assert spans and spans[0].location == pytest.approx(13.8)
