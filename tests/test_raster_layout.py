"""Population bands of the spike raster: small populations get a visible band (issue 9)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from widgets.raster import RasterPlot
from widgets.raster_data import RasterIndex, band_layout

STDP = {"inputs": 1000, "pattern_clock": 1, "out": 1}


def spikes_of(sizes: dict[str, int], per_neuron: int = 2) -> pd.DataFrame:
    """Every neuron of every population spikes ``per_neuron`` times."""
    pops, neurons = [], []
    for name, n in sizes.items():
        pops += [name] * n * per_neuron
        neurons += list(np.tile(np.arange(n), per_neuron))
    t = np.linspace(0.0, 100.0, len(pops))
    return pd.DataFrame({"time_ms": t, "population": pd.Categorical(pops, list(sizes)),
                         "neuron": np.array(neurons, dtype=np.int32)})


def test_band_sizes_give_small_populations_a_minimum_share():
    lay = band_layout([1000, 1, 1], min_fraction=0.03)
    assert lay.heights.tolist() == [1000, 31, 31]  # ceil(0.03 * 1002)
    assert lay.height == 1062
    # Bands tile [-0.5, height - 0.5] top to bottom without gaps.
    assert lay.lows.tolist() == [61.5, 30.5, -0.5]
    assert band_layout([5, 0, 100]).heights.tolist() == [5, 0, 100]  # empty stays empty
    assert band_layout([1, 1]).heights.tolist() == [1, 1]
    with pytest.raises(ValueError, match="sizes"):
        band_layout([3, -1])


@pytest.mark.parametrize("sizes", [STDP, {"a": 3, "b": 400, "c": 7, "d": 1},
                                   {"exc": 40, "inh": 10}, {"solo": 1}])
def test_every_neuron_maps_back_from_its_row(sizes):
    index = RasterIndex(None, sizes)
    for k, (name, n) in enumerate(sizes.items()):
        ys = index.neuron_y(np.full(n, k), np.arange(n))
        assert (np.diff(ys) < 0).all()  # neuron 0 on top
        for i, y in enumerate(ys):
            bottom, top = index.row_span(name, i)
            assert bottom < y < top
            # Centre and points just inside both edges pick the same neuron.
            for probe in (y, bottom + 1e-6, top - 1e-6):
                assert index.locate(probe) == (name, i)
        c = index.block_centres()[name]
        low = index.layout.lows[k]
        assert c == pytest.approx(low + index.layout.heights[k] / 2)
    assert index.locate(-0.6) is None and index.locate(index.height - 0.5) is None


def test_small_populations_rows_fill_their_band():
    index = RasterIndex(spikes_of(STDP), STDP)
    bottom, top = index.row_span("out", 0)
    assert (bottom, top) == (-0.5, 30.5)
    assert index.row_y("out", 0) == 15.0
    assert index.block_centres() == {"inputs": 561.5, "pattern_clock": 46.0, "out": 15.0}
    assert index.block_edges() == [61.5, 30.5]


@pytest.mark.parametrize("sizes", [{"big": 4000}, {"exc": 40, "inh": 10, "x": 5},
                                   {"a": 800, "b": 200}])
def test_layout_unchanged_without_small_populations(sizes):
    spikes = spikes_of(sizes, per_neuron=1)
    index = RasterIndex(spikes, sizes)
    n = sum(sizes.values())
    assert index.height == n and index.layout.heights.tolist() == list(sizes.values())
    offsets = np.cumsum([0, *sizes.values()])[:-1]
    off = dict(zip(sizes, offsets, strict=True))
    expected = n - 1 - (spikes["population"].map(off).astype(int) + spikes["neuron"])
    # Exact equality: y = height - 1 - (offset + index), as before bands existed.
    np.testing.assert_array_equal(index.y, expected.to_numpy(dtype=float))
    for name, size in sizes.items():
        for i in (0, size - 1):
            y = n - 1 - (off[name] + i)
            assert index.row_y(name, i) == y and index.row_span(name, i) == (y - 0.5, y + 0.5)
            assert index.locate(y + 0.49) == (name, i) and index.locate(y - 0.5) == (name, i)


def test_density_fills_the_band_of_a_small_population():
    sizes = {"inputs": 1000, "out": 1}
    spikes = spikes_of(sizes)
    index = RasterIndex(spikes, sizes)
    lay = index.layout
    window = (0.0, 100.0, -0.5, index.height - 0.5)
    density = index.density(window, [(0, 0, 255), (255, 0, 0)], nx=20, ny=200)
    pixel = density.dh / density.counts.shape[0]
    centres = density.y + (np.arange(density.counts.shape[0]) + 0.5) * pixel
    in_out = (centres >= lay.lows[1]) & (centres < lay.lows[1] + lay.heights[1])
    assert in_out.sum() >= 5  # the one-neuron band spans several pixel rows...
    assert (density.counts[in_out].sum(axis=1) == 2).all()  # ...each showing both its spikes
    rgba = density.rgba.view(np.uint8).reshape(*density.rgba.shape, 4)
    filled = rgba[in_out][..., 3] > 0
    assert (rgba[in_out][filled][:, :3] == [255, 0, 0]).all()
    # The large population is pooled as before: every one of its spikes counted once.
    assert density.counts[~in_out].sum() == 2000


def test_density_rows_line_up_when_zoomed_into_a_small_band():
    sizes = {"inputs": 1000, "out": 1}
    index = RasterIndex(spikes_of(sizes), sizes)
    density = index.density((0.0, 100.0, -0.5, 40.0), [(0, 0, 0)] * 2, nx=5, ny=300)
    # Unit pixel rows: the out band [-0.5, 30.5] is 31 pixel rows, each with its 2 spikes.
    assert density.dh == 41 and density.counts.shape[0] == 41
    np.testing.assert_array_equal(density.counts[:31].sum(axis=1), 2)
    assert density.counts[31:].sum() == index.count((0.0, 100.0, 30.5, 40.0))


def test_raster_click_and_highlight_use_the_bands():
    raster = RasterPlot(spikes=spikes_of(STDP), sizes=STDP)
    assert raster.y_range.start == -0.5 and raster.y_range.end == 1061.5
    ticks = raster.population_axis.ticker.ticks
    assert ticks == [561.5, 46.0, 15.0]
    assert raster.select_at(3.0) == {"population": "out", "neuron": 0}
    assert (raster._highlight.bottom, raster._highlight.top) == (-0.5, 30.5)
    assert raster.select_at(40.0) == {"population": "pattern_clock", "neuron": 0}
    assert raster.select_at(1061.0) == {"population": "inputs", "neuron": 0}
    assert raster.select_at(62.0) == {"population": "inputs", "neuron": 999}
    pts = raster.points_source.data
    out_y = np.asarray(pts["y"])[np.asarray(pts["pop"]) == 2]
    assert len(out_y) == 2 and (out_y == 15.0).all()
