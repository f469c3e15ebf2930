"""Server-side aggregation behind :class:`widgets.raster.RasterPlot` (numpy only, no Bokeh).

Rows: populations are stacked top to bottom in bands (:func:`band_layout`). A population
as large as its band (the normal case) has neuron ``i`` of the ``k``-th population at global row
``r = offsets[k] + i``, drawn at ``y = height - 1 - r`` with the row spanning
``[y - 0.5, y + 0.5]``. A population much smaller than the others gets a taller band so it
stays visible, its neurons spread evenly inside it (each row ``band / size`` units tall). A
window ``(x0, x1, y0, y1)`` holds the spikes with ``x0 <= time <= x1`` and ``y0 <= y <= y1``
(``y`` is the row centre).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine.core.spike_store import SpikeStore
from engine.spike_stats import neuron_ids, population_codes

Window = tuple[float, float, float, float]

#: Smallest band of a population, as a fraction of all neuron rows (issue 9: a one-neuron
#: population next to 1000 inputs was a hairline).
MIN_BAND_FRACTION = 0.03


@dataclass(frozen=True)
class BandLayout:
    """Vertical bands of the populations, top to bottom.

    Attributes
    ----------
    sizes
        int64 neurons per population.
    heights
        int64 band height (y units) per population, ``>= sizes``.
    lows
        float64 ``y`` of each band's bottom edge; band ``k`` spans
        ``[lows[k], lows[k] + heights[k]]``. The first band is at the top, the last band's
        bottom is ``-0.5``.
    """

    sizes: np.ndarray
    heights: np.ndarray
    lows: np.ndarray

    @property
    def height(self) -> int:
        """Total height of all bands (y units)."""
        return int(self.heights.sum())

    @property
    def row_heights(self) -> np.ndarray:
        """float64 height of one neuron row per population (1.0 for a full-size band)."""
        return self.heights / np.maximum(self.sizes, 1)


def band_layout(sizes: list[int] | np.ndarray,
                min_fraction: float = MIN_BAND_FRACTION) -> BandLayout:
    """Stack populations in bands, giving each at least ``min_fraction`` of the rows.

    Parameters
    ----------
    sizes
        Neurons per population, top to bottom.
    min_fraction
        A non-empty population gets a band of at least ``ceil(min_fraction * sum(sizes))``
        rows; larger populations keep one row per neuron, so without small populations the
        layout is exactly ``y = height - 1 - (offset + index)``.

    Returns
    -------
    BandLayout
    """
    size_arr = np.asarray(sizes, dtype=np.int64).reshape(-1)
    if (size_arr < 0).any():
        raise ValueError(f"population sizes must be >= 0, got {size_arr.tolist()}")
    min_rows = int(np.ceil(max(float(min_fraction), 0.0) * int(size_arr.sum())))
    heights = np.where(size_arr > 0, np.maximum(size_arr, min_rows), 0).astype(np.int64)
    tops = heights.sum() - np.concatenate([[0], np.cumsum(heights)[:-1]]) - 0.5
    return BandLayout(size_arr, heights, (tops - heights).astype(np.float64))


@dataclass
class Density:
    """A binned view of one window.

    Attributes
    ----------
    counts
        int64 ``(ny, nx)`` spike counts; row 0 is the lowest ``y``.
    rgba
        uint32 ``(ny, nx)`` packed RGBA for Bokeh's ``image_rgba`` (colour = spike-weighted
        mix of the population colours, opacity grows with log density).
    x, y, dw, dh
        Placement of the image in data coordinates.
    """

    counts: np.ndarray
    rgba: np.ndarray
    x: float
    y: float
    dw: float
    dh: float


class RasterIndex:
    """Spikes laid out as raster rows, with fast window queries.

    Parameters
    ----------
    spikes
        Spikes DataFrame of the contract (sorted by time; re-sorted if not).
    sizes
        Population id -> size, top to bottom.
    min_fraction
        Smallest band per population as a fraction of all rows (see :func:`band_layout`).
    """

    def __init__(self, spikes: pd.DataFrame | None, sizes: Mapping[str, int],
                 min_fraction: float = MIN_BAND_FRACTION):
        self.names = list(sizes)
        size_arr = np.array([int(s) for s in sizes.values()], dtype=np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(size_arr)]).astype(np.int64)
        self.n_rows = int(self.offsets[-1])
        self.layout = band_layout(size_arr, min_fraction)
        self.height = self.layout.height
        if spikes is None or len(spikes) == 0:
            self.x = np.empty(0, dtype=np.float64)
            self.y = np.empty(0, dtype=np.float64)
            self.pop = np.empty(0, dtype=np.int32)
            self.neuron = np.empty(0, dtype=np.int32)
            return
        ids, _ = neuron_ids(spikes, sizes)
        keep = ids >= 0
        x = spikes["time_ms"].to_numpy(dtype=np.float64)[keep]
        pop = population_codes(spikes, self.names)[keep].astype(np.int32)
        neuron = (ids[keep] - self.offsets[pop]).astype(np.int32)
        y = self.neuron_y(pop, neuron)
        if len(x) > 1 and np.any(x[1:] < x[:-1]):
            order = np.argsort(x, kind="stable")
            x, y, pop, neuron = x[order], y[order], pop[order], neuron[order]
        self.x, self.y, self.pop, self.neuron = x, y, pop, neuron

    def __len__(self) -> int:
        return len(self.x)

    def extended(self, more: RasterIndex) -> RasterIndex:
        """A new index holding the spikes of this one and of ``more`` (same populations), in
        time order; this one is left as it is.

        For spikes that arrive while a run goes on: only ``more`` is laid out, and a re-sort
        happens only when ``more`` starts before this index ends.
        """
        if more.names != self.names or more.height != self.height:
            raise ValueError("extended() needs an index of the same populations and sizes")
        out = copy.copy(self)
        x, y, pop, neuron = (np.concatenate([a, b]) for a, b in
                             ((self.x, more.x), (self.y, more.y), (self.pop, more.pop),
                              (self.neuron, more.neuron)))
        if len(self) and len(more) and more.x[0] < self.x[-1]:
            order = np.argsort(x, kind="stable")
            x, y, pop, neuron = x[order], y[order], pop[order], neuron[order]
        out.x, out.y, out.pop, out.neuron = x, y, pop, neuron
        return out

    # ------------------------------------------------------------------ queries
    def select(self, window: Window) -> np.ndarray:
        """Indices of the spikes inside ``window`` (ascending, i.e. in time order)."""
        x0, x1, y0, y1 = _normalise(window)
        lo = np.searchsorted(self.x, x0, side="left")
        hi = np.searchsorted(self.x, x1, side="right")
        idx = np.arange(lo, hi)
        if y0 > -0.5 or y1 < self.height - 0.5:  # skip the mask when every row is visible
            y = self.y[lo:hi]
            idx = idx[(y >= y0) & (y <= y1)]
        return idx

    def count(self, window: Window) -> int:
        """Number of spikes inside ``window``."""
        return len(self.select(window))

    def points(self, window: Window) -> dict[str, np.ndarray]:
        """Columns ``x`` (ms), ``y`` (row centre), ``pop`` (population index) and ``neuron``
        (local index) of the spikes in ``window``."""
        idx = self.select(window)
        return {"x": self.x[idx], "y": self.y[idx], "pop": self.pop[idx],
                "neuron": self.neuron[idx]}

    def density(self, window: Window, colors: list[tuple[int, int, int]],
                nx: int = 600, ny: int = 300) -> Density:
        """Bin the spikes of ``window`` on an ``nx`` x (at most) ``ny`` grid.

        When fewer than ``ny`` y units are visible, every unit gets its own pixel row so the
        image lines up with the neurons; otherwise units are pooled. A spike of a row taller
        than a pixel row fills every pixel row whose centre its row covers (a stretched small
        population is a band, not a line); otherwise it falls into the pixel row holding its
        centre, boundary spikes into the last bin. Without rows taller than a pixel,
        ``counts.sum() == count(window)``.
        """
        idx = self.select(window)
        return self._density_of([(self.x[idx], self.y[idx], self.pop[idx])], window, colors,
                                nx, ny)

    def _density_of(self, parts, window: Window, colors: list[tuple[int, int, int]],
                    nx: int, ny: int) -> Density:
        """The density image of the spikes ``parts`` (an iterable of ``(x, y, pop)`` arrays,
        all inside ``window``), binned part by part so memory stays that of one part."""
        x0, x1, y0, y1 = _normalise(window)
        nx = max(1, int(nx))
        row_lo, row_hi = int(np.ceil(y0)), int(np.floor(y1))
        if row_hi - row_lo + 1 <= ny:
            ny = max(1, row_hi - row_lo + 1)
            img_y, img_dh = row_lo - 0.5, float(ny)
        else:
            img_y, img_dh = y0, y1 - y0
        span = x1 - x0
        size = nx * ny
        counts = np.zeros(size, dtype=np.int64)
        totals = np.zeros((3, size), dtype=np.float64)
        table = np.array(colors or [(0, 0, 0)], dtype=np.float64)
        for x, y, pop in parts:
            flat, pop = self._bin(x, y, pop, x0, span, img_y, img_dh / ny, nx, ny)
            counts += np.bincount(flat, minlength=size)
            for channel in range(3):
                totals[channel] += np.bincount(flat, weights=table[pop % len(table), channel],
                                               minlength=size)
        rgba = _shade(totals, counts).reshape(ny, nx)
        return Density(counts.reshape(ny, nx), rgba, x0, img_y, max(span, 1e-9), img_dh)

    def _bin(self, x: np.ndarray, y: np.ndarray, pop: np.ndarray, x0: float, span: float,
             img_y: float, pixel: float, nx: int, ny: int) -> tuple[np.ndarray, np.ndarray]:
        """Flat pixel index and population of each spike (a tall row's spike once per pixel
        row it covers, see :meth:`density`)."""
        iy = np.floor((y - img_y) / pixel).astype(np.int64)
        np.clip(iy, 0, ny - 1, out=iy)
        ix = np.floor((x - x0) * (nx / span)).astype(np.int64) if span > 0 else np.zeros(len(x),
                                                                                        np.int64)
        np.clip(ix, 0, nx - 1, out=ix)
        half = self.layout.row_heights[pop] / 2
        tall = 2 * half > pixel
        if tall.any():
            # Pixel rows whose centre lies in [y - half, y + half).
            lo = np.ceil((y[tall] - half[tall] - img_y) / pixel - 0.5).astype(np.int64)
            hi = np.ceil((y[tall] + half[tall] - img_y) / pixel - 0.5).astype(np.int64) - 1
            lo = np.clip(lo, 0, ny - 1)
            hi = np.clip(hi, lo, ny - 1)
            reps = hi - lo + 1
            starts = np.repeat(lo, reps)
            steps = np.arange(reps.sum()) - np.repeat(np.cumsum(reps) - reps, reps)
            iy = np.concatenate([iy[~tall], starts + steps])
            ix = np.concatenate([ix[~tall], np.repeat(ix[tall], reps)])
            pop = np.concatenate([pop[~tall], np.repeat(pop[tall], reps)])
        return iy * nx + ix, pop

    # ------------------------------------------------------------------ layout
    def neuron_y(self, pop: np.ndarray | int, neuron: np.ndarray | int) -> np.ndarray:
        """Row centre of local neuron ``neuron`` of population index ``pop`` (vectorised).

        Neuron 0 is at the top of its band; a full-size band gives ``height - 1 - r``
        exactly (``r`` the global neuron index).
        """
        pop = np.asarray(pop, dtype=np.int64)
        neuron = np.asarray(neuron, dtype=np.int64)
        lay = self.layout
        full = lay.heights[pop] == lay.sizes[pop]
        top = lay.lows[pop] + lay.heights[pop]
        stretched = top - (neuron + 0.5) * lay.row_heights[pop]
        exact = top - 0.5 - neuron  # same value, without rounding, for the normal case
        return np.where(full, exact, stretched).astype(np.float64)

    def locate(self, y: float) -> tuple[str, int] | None:
        """Population and local neuron index of the row drawn at ``y`` (None outside).

        A row owns ``[centre - h/2, centre + h/2)``, so a boundary belongs to the row above.
        """
        y = float(y)
        lay = self.layout
        k = self._band_at(y)
        if k < 0:
            return None
        n, h, low = int(lay.sizes[k]), int(lay.heights[k]), float(lay.lows[k])
        if n == h:
            up = int(np.floor(y - low))  # integers: exact, as before small bands existed
        else:
            up = int(np.floor((y - low) * n / h))
        return self.names[k], n - 1 - min(max(up, 0), n - 1)

    def _band_at(self, y: float) -> int:
        """Index of the non-empty band with ``low <= y < low + height`` (-1 if none)."""
        lay = self.layout
        inside = np.flatnonzero((lay.sizes > 0) & (lay.lows <= y) & (y < lay.lows + lay.heights))
        return int(inside[0]) if len(inside) else -1

    def row_y(self, population: str, neuron: int) -> float:
        """y coordinate of a neuron's row centre (inverse of :meth:`locate`)."""
        return float(self.neuron_y(self.names.index(population), int(neuron)))

    def row_span(self, population: str, neuron: int) -> tuple[float, float]:
        """``(bottom, top)`` of a neuron's row."""
        k = self.names.index(population)
        y, half = self.row_y(population, neuron), float(self.layout.row_heights[k]) / 2
        return y - half, y + half

    def block_centres(self, y0: float | None = None,
                      y1: float | None = None) -> dict[str, float]:
        """y coordinate of the centre of each population's band (for axis labels); with a
        window ``[y0, y1]``, of the visible part of each band that shows."""
        lay = self.layout
        low, top = lay.lows, lay.lows + lay.heights
        if y0 is not None and y1 is not None:
            low, top = np.maximum(low, min(y0, y1)), np.minimum(top, max(y0, y1))
        centres = (low + top) / 2
        return {name: float(c) for name, c, lo, hi in zip(self.names, centres, low, top,
                                                          strict=True) if hi > lo}

    def neuron_ticks(self, y0: float, y1: float, target: int = 8) -> dict[float, str]:
        """Axis ticks at round neuron indices of the rows visible in ``[y0, y1]``.

        Each visible population gets ticks in proportion to its visible height, at multiples
        of 1, 2 or 5 times a power of ten of its own (local) indices, so labels read as
        neuron indices within the population whatever the zoom.

        Returns
        -------
        dict
            ``y`` of the row centre -> label (the local index), about ``target`` of them.
        """
        y0, y1 = min(y0, y1), max(y0, y1)
        lay = self.layout
        span = max(y1 - y0, 1e-9)
        ticks: dict[float, str] = {}
        for k in np.flatnonzero(lay.sizes > 0):
            low, top = float(lay.lows[k]), float(lay.lows[k] + lay.heights[k])
            seen = min(top, y1) - max(low, y0)
            if seen <= 0:
                continue
            size, row = int(lay.sizes[k]), float(lay.row_heights[k])
            # Rows whose centre top - (n + 0.5) * row lies in the window.
            first = max(0, int(np.ceil((top - y1) / row - 0.5)))
            last = min(size - 1, int(np.floor((top - y0) / row - 0.5)))
            if first > last:
                continue
            budget = max(1, int(round(target * seen / span)))
            step = _nice_step((last - first) / budget)
            for n in range(-(-first // step) * step, last + 1, step):
                ticks[float(self.neuron_y(int(k), n))] = str(n)
        return ticks

    def block_edges(self) -> list[float]:
        """y coordinates of the boundaries between population bands."""
        return [float(v) for v in self.layout.lows[:-1]]


class StoredRasterIndex(RasterIndex):
    """A :class:`RasterIndex` over spikes kept on disk
    (:class:`engine.core.spike_store.SpikeStore`).

    Window queries read the store in chunks of the window's time range, so memory is that of
    one chunk plus what is drawn (at most ``max_points`` spikes, or one density image),
    however many spikes the run recorded. Results equal those of a ``RasterIndex`` built from
    the same spikes in memory.

    Parameters
    ----------
    store
        The run's spike store.
    sizes, min_fraction
        As for :class:`RasterIndex`.
    """

    def __init__(self, store: SpikeStore, sizes: Mapping[str, int],
                 min_fraction: float = MIN_BAND_FRACTION):
        super().__init__(None, sizes, min_fraction)
        self.store = store
        # Store node code -> raster population index (-1: not drawn).
        self._lookup = np.array([self.names.index(n) if n in self.names else -1
                                 for n in store.node_ids] + [-1], dtype=np.int64)
        self._n = sum(int(store.counts.get(n, 0)) for n in self.names)

    def __len__(self) -> int:
        return self._n

    def select(self, window: Window) -> np.ndarray:
        raise TypeError("a stored raster index has no rows in memory: use points() or "
                        "density() for a window")

    def _parts(self, window: Window):
        """(x, y, pop, neuron) of the spikes inside ``window``, chunk by chunk."""
        x0, x1, y0, y1 = _normalise(window)
        for t, node, neuron in self.store.chunks(x0, x1):
            pop = self._lookup[np.where(node >= 0, node, len(self._lookup) - 1)]
            keep = pop >= 0
            keep[keep] = neuron[keep] < self.layout.sizes[pop[keep]]
            t, pop, neuron = t[keep], pop[keep], neuron[keep]
            y = self.neuron_y(pop, neuron)
            inside = (y >= y0) & (y <= y1)
            yield t[inside], y[inside], pop[inside].astype(np.int32), \
                neuron[inside].astype(np.int32)

    def count(self, window: Window) -> int:
        x0, x1, y0, y1 = _normalise(window)
        every_row = y0 <= -0.5 and y1 >= self.height - 0.5
        if every_row and self._n == self.store.n_spikes:  # every stored spike is drawn
            lo, hi = self.store.row_range(x0, x1)
            return hi - lo
        return sum(len(part[0]) for part in self._parts(window))

    def points(self, window: Window) -> dict[str, np.ndarray]:
        parts = list(self._parts(window))
        if not parts:
            return {"x": np.empty(0), "y": np.empty(0), "pop": np.empty(0, np.int32),
                    "neuron": np.empty(0, np.int32)}
        return {key: np.concatenate([p[i] for p in parts])
                for i, key in enumerate(("x", "y", "pop", "neuron"))}

    def density(self, window: Window, colors: list[tuple[int, int, int]],
                nx: int = 600, ny: int = 300) -> Density:
        return self._density_of((p[:3] for p in self._parts(window)), window, colors, nx, ny)


def _nice_step(raw: float) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50, ... at least ``raw`` (and at least 1)."""
    if raw <= 1:
        return 1
    power = 10 ** int(np.floor(np.log10(raw)))
    return int(next(m * power for m in (1, 2, 5, 10) if m * power >= raw))


def _normalise(window: Window) -> Window:
    x0, x1, y0, y1 = (float(v) for v in window)
    return min(x0, x1), max(x0, x1), min(y0, y1), max(y0, y1)


def _shade(totals: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Packed RGBA from per-pixel colour ``totals`` (3, size) and spike ``counts``:
    spike-weighted mean population colour, alpha ~ log(1 + count)."""
    size = len(counts)
    out = np.zeros((size, 4), dtype=np.uint8)
    filled = counts > 0
    if not filled.any():
        return out.view(np.uint32).reshape(size)
    for channel in range(3):
        out[filled, channel] = np.round(totals[channel][filled] / counts[filled]).astype(np.uint8)
    level = np.log1p(counts[filled]) / np.log1p(counts.max())
    out[filled, 3] = np.round(255 * (0.25 + 0.75 * level)).astype(np.uint8)
    return out.view(np.uint32).reshape(size)
