"""WeightEvolution: data helpers and the widget built from hand-made weight records."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from bokeh.events import Tap

from engine.core.results import WeightRecord
from widgets.weights import MatrixLayout, WeightEvolution, find_synapse, synapse_series

N_PRE, N_POST, M, B = 6, 4, 5, 8


def make_record(snapshots: bool = True, n_pre: int = N_PRE, n_post: int = N_POST,
                density: float = 0.75) -> WeightRecord:
    """A record whose synapse s has weight (s + m) / 100 at snapshot m."""
    rng = np.random.default_rng(0)
    mask = rng.random((n_pre, n_post)) < density
    pre, post = (a.astype(np.int32) for a in np.nonzero(mask))
    s = len(pre)
    snaps = (np.arange(s)[None, :] + np.arange(M)[:, None]).astype(np.float32) / 100
    edges = np.linspace(0.0, 1.0, B + 1)
    hist = np.stack([np.histogram(row, edges)[0] for row in snaps])
    return WeightRecord(
        projection="ff", pre=pre, post=post, n_pre=n_pre, n_post=n_post, w_min=0.0,
        w_max=1.0, times_ms=np.arange(M) * 100.0, mean=snaps.mean(1), std=snaps.std(1),
        hist_edges=edges, hist=hist, snapshots=snaps if snapshots else None,
        synapse_index=np.array([1]), trajectory_time_ms=np.arange(401) * 1.0,
        trajectories=np.linspace(0.2, 0.8, 401, dtype=np.float32)[:, None])


@pytest.fixture()
def spikes() -> pd.DataFrame:
    return pd.DataFrame({
        "time_ms": [10.0, 20.0, 30.0, 40.0, 50.0],
        "population": pd.Categorical(["inp", "out", "inp", "inp", "out"]),
        "neuron": np.array([0, 1, 0, 2, 1], np.int32),
    })


# ---------------------------------------------------------------------- helpers
def test_matrix_layout_places_every_synapse_in_its_cell():
    rec = make_record()
    lay = MatrixLayout.build(rec.pre, rec.post, N_PRE, N_POST, max_cells=10_000)
    image = lay.image(rec.snapshots[2])
    dense = np.full((N_POST, N_PRE), np.nan)
    dense[rec.post, rec.pre] = rec.snapshots[2]
    np.testing.assert_allclose(image, dense)  # rows = post, columns = pre
    assert not lay.aggregated


def test_block_means_when_too_many_cells():
    rec = make_record(n_pre=300, n_post=200, density=0.3)
    lay = MatrixLayout.build(rec.pre, rec.post, 300, 200, max_cells=2_000)
    assert lay.aggregated and lay.nx * lay.ny <= 2_000
    image = lay.image(rec.snapshots[0])
    # The first block's mean by brute force.
    inside = (rec.pre < lay.fx) & (rec.post < lay.fy)
    assert image[0, 0] == pytest.approx(rec.snapshots[0][inside].mean())
    assert np.isfinite(image).sum() == (lay.counts > 0).sum()


def test_a_long_thin_projection_keeps_its_single_post_row():
    pre = np.arange(1000, dtype=np.int32)
    lay = MatrixLayout.build(pre, np.zeros(1000, np.int32), 1000, 1, max_cells=40_000)
    assert (lay.nx, lay.ny, lay.fx, lay.fy) == (1000, 1, 1, 1)


def test_find_synapse_takes_the_nearest_pair_inside_the_block():
    pre, post = np.array([0, 3, 3]), np.array([0, 1, 3])
    assert find_synapse(pre, post, 2.8, 1.2, (range(0, 4), range(0, 4))) == 1
    assert find_synapse(pre, post, 1.0, 1.0, (range(1, 2), range(1, 2))) is None


def test_series_prefers_recorded_trajectories_then_snapshots():
    rec = make_record()
    t, w, kind = synapse_series(rec, 1)
    assert kind == "recorded" and len(t) == 401 and w[-1] == pytest.approx(0.8)
    t, w, kind = synapse_series(rec, 0)
    assert kind == "snapshots" and t.tolist() == rec.times_ms.tolist()
    np.testing.assert_allclose(w, rec.snapshots[:, 0])
    assert synapse_series(make_record(snapshots=False), 0) is None


# ---------------------------------------------------------------------- widget
def test_widget_builds_and_opens_on_the_last_snapshot():
    rec = make_record()
    view = WeightEvolution(record=rec)
    view.__panel__()
    assert view.snapshot == M - 1
    image = view.matrix_source.data["image"][0]
    np.testing.assert_allclose(image[rec.post, rec.pre], rec.snapshots[-1], rtol=1e-6)
    # Colour scale fixed to the rule's bounds, whatever the data range.
    assert (view._weight_mapper.low, view._weight_mapper.high) == (0.0, 1.0)
    assert view.matrix_figure.visible and view._matrix_pane.visible
    assert view.x_range.end == pytest.approx(400.0)


def test_slider_changes_the_matrix_image():
    rec = make_record()
    view = WeightEvolution(record=rec)
    view._player.value = 1  # what the browser's player does
    assert view.snapshot == 1
    image = view.matrix_source.data["image"][0]
    np.testing.assert_allclose(image[rec.post, rec.pre], rec.snapshots[1], rtol=1e-6)
    np.testing.assert_array_equal(view._hist_src.data["right"], rec.hist[1])
    assert "t = 100 ms" in view._time_label.object
    view.snapshot = 3
    assert view._player.value == 3
    np.testing.assert_allclose(view.matrix_source.data["image"][0][rec.post, rec.pre],
                               rec.snapshots[3], rtol=1e-6)


def test_tap_adds_a_trajectory_and_spike_ticks(spikes):
    rec = make_record()
    view = WeightEvolution(record=rec, spikes=spikes, source="inp", target="out")
    assert view.trajectory_source.data["xs"] == []
    s = 0
    i, j = int(rec.pre[s]), int(rec.post[s])
    view._on_tap(Tap(view.matrix_figure, x=i + 0.2, y=j - 0.3))
    assert view.selected == [s]
    data = view.trajectory_source.data
    assert len(data["xs"]) == 1 and data["dash"] == ["dashed"]  # from snapshots
    np.testing.assert_allclose(data["ys"][0], rec.snapshots[:, s])
    ticks = view.tick_source.data
    expected_pre = spikes[(spikes.population == "inp") & (spikes.neuron == i)].time_ms
    expected_post = spikes[(spikes.population == "out") & (spikes.neuron == j)].time_ms
    assert sorted(ticks["x"]) == sorted([*expected_pre, *expected_post])
    # A recorded synapse comes at full resolution and stacks below the first one.
    view.select_cell(float(rec.pre[1]), float(rec.post[1]))
    assert view.selected == [0, 1]
    assert len(view.trajectory_source.data["xs"][1]) == 401
    assert view.trajectory_source.data["dash"][1] == "solid"
    view.clear()
    assert view.trajectory_source.data["xs"] == []


def test_tap_on_an_empty_cell_or_outside_selects_nothing():
    rec = make_record()
    missing = np.argwhere(np.isnan(rec.matrix(0)))
    view = WeightEvolution(record=rec)
    if len(missing):
        view.select_cell(float(missing[0][0]), float(missing[0][1]))
    view.select_cell(-5.0, 100.0)
    assert view.selected == []


def test_without_snapshots_the_statistics_remain_and_the_reason_is_shown():
    rec = make_record(snapshots=False)
    view = WeightEvolution(record=rec)
    view.__panel__()
    assert not view._matrix_pane.visible and view._matrix_note.visible
    assert "record_weights" in view._matrix_note.object
    assert view.matrix_layout is None and view.matrix_source.data["image"] == []
    assert len(view._stats_src.data["t"]) == M
    assert view._evo_src.data["image"][0].shape == (B, M)
    view.snapshot = 2
    np.testing.assert_array_equal(view._hist_src.data["right"], rec.hist[2])
    view.add_synapse(1)  # recorded: still has its trajectory
    assert len(view.trajectory_source.data["xs"]) == 1
    view.add_synapse(0)  # neither recorded nor in snapshots: no line, no error
    assert len(view.trajectory_source.data["xs"]) == 1


def test_external_x_range_is_shared_and_left_alone():
    from bokeh.models import Range1d

    shared = Range1d(0.0, 1234.0)
    view = WeightEvolution(record=make_record(), x_range=shared)
    for fig in (view._evo_fig, view._stats_fig, view._traj_fig, view._tick_fig):
        assert fig.x_range is shared
    assert shared.end == 1234.0


def test_large_projection_header_says_the_matrix_is_aggregated():
    rec = make_record(n_pre=400, n_post=300, density=0.2)
    view = WeightEvolution(record=rec, max_cells=5_000)
    assert view.matrix_layout.aggregated
    assert 'data-aggregated="1"' in view._header.object and "block" in view._header.object
    view.select_cell(200.0, 150.0)
    (s,) = view.selected
    assert abs(rec.pre[s] - 200) < view.matrix_layout.fx
    assert abs(rec.post[s] - 150) < view.matrix_layout.fy


def test_new_record_replaces_the_data():
    view = WeightEvolution(record=make_record())
    view.record = make_record(n_pre=3, n_post=2, density=1.0)
    assert view.matrix_source.data["image"][0].shape == (2, 3)
    assert view.matrix_figure.x_range.end == pytest.approx(2.5)


def _colour_columns_are_css_strings(view: WeightEvolution) -> None:
    """Every colour field of every glyph reads a column of CSS strings.

    BokehJS throws "invalid color array" for a numeric 1-D colour column, and an empty one
    built with ``np.asarray([])`` is float64, so this must hold with no selection too.
    """
    from bokeh.core.property.vectorization import Field
    from bokeh.models import GlyphRenderer

    figs = (view._matrix_fig, view._evo_fig, view._hist_fig, view._stats_fig,
            view._traj_fig, view._tick_fig)
    checked = 0
    for fig in figs:
        for r in fig.select({"type": GlyphRenderer}):
            for glyph in (r.glyph, r.selection_glyph, r.nonselection_glyph, r.hover_glyph,
                          r.muted_glyph):
                if glyph is None or glyph == "auto":
                    continue
                for name, value in glyph.properties_with_values(include_defaults=True).items():
                    if not name.endswith("color") or not isinstance(value, Field):
                        continue
                    column = r.data_source.data[value.field]
                    assert not (isinstance(column, np.ndarray) and column.dtype.kind in "biufcm"), (
                        f"{name} of {glyph} reads numeric column {value.field!r}: "
                        f"{column.dtype}")
                    assert all(isinstance(c, str) for c in column), (name, value.field)
                    checked += 1
    assert checked  # the tick, selection and trajectory colours are fields


def test_colour_columns_stay_strings_with_and_without_a_selection(spikes):
    view = WeightEvolution()  # built empty, as in the workbench, then given data
    _colour_columns_are_css_strings(view)
    view.param.update(record=make_record(), spikes=spikes, source="inp", target="out",
                      selected=[])
    _colour_columns_are_css_strings(view)
    view.add_synapse(0)
    assert len(view.tick_source.data["color"]) > 0
    _colour_columns_are_css_strings(view)
    view.clear()  # back to empty columns after non-empty ones: the case BokehJS choked on
    _colour_columns_are_css_strings(view)
    view.param.update(spikes=None, selected=[1])  # a pair without any spikes
    _colour_columns_are_css_strings(view)
