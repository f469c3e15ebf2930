"""Server-side aggregation behind :class:`widgets.raster.RasterPlot` (numpy only, no Bokeh).

Rows: neuron ``i`` of the ``k``-th population has global row ``r = offsets[k] + i`` and is
drawn at ``y = n_rows - 1 - r``, so the first population is at the top and each row spans
``[y - 0.5, y + 0.5]``. A window ``(x0, x1, y0, y1)`` holds the spikes with
``x0 <= time <= x1`` and ``y0 <= y <= y1``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine.analysis import neuron_ids, population_codes

Window = tuple[float, float, float, float]


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
    """

    def __init__(self, spikes: pd.DataFrame | None, sizes: Mapping[str, int]):
        self.names = list(sizes)
        size_arr = np.array([int(s) for s in sizes.values()], dtype=np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(size_arr)]).astype(np.int64)
        self.n_rows = int(self.offsets[-1])
        if spikes is None or len(spikes) == 0:
            self.x = np.empty(0, dtype=np.float64)
            self.y = np.empty(0, dtype=np.int32)
            self.pop = np.empty(0, dtype=np.int32)
            return
        ids, _ = neuron_ids(spikes, sizes)
        keep = ids >= 0
        x = spikes["time_ms"].to_numpy(dtype=np.float64)[keep]
        y = (self.n_rows - 1 - ids[keep]).astype(np.int32)
        pop = population_codes(spikes, self.names)[keep].astype(np.int32)
        if len(x) > 1 and np.any(x[1:] < x[:-1]):
            order = np.argsort(x, kind="stable")
            x, y, pop = x[order], y[order], pop[order]
        self.x, self.y, self.pop = x, y, pop

    def __len__(self) -> int:
        return len(self.x)

    # ------------------------------------------------------------------ queries
    def select(self, window: Window) -> np.ndarray:
        """Indices of the spikes inside ``window`` (ascending, i.e. in time order)."""
        x0, x1, y0, y1 = _normalise(window)
        lo = np.searchsorted(self.x, x0, side="left")
        hi = np.searchsorted(self.x, x1, side="right")
        idx = np.arange(lo, hi)
        if y0 > -0.5 or y1 < self.n_rows - 0.5:  # skip the mask when every row is visible
            y = self.y[lo:hi]
            idx = idx[(y >= y0) & (y <= y1)]
        return idx

    def count(self, window: Window) -> int:
        """Number of spikes inside ``window``."""
        return len(self.select(window))

    def points(self, window: Window) -> dict[str, np.ndarray]:
        """Columns ``x`` (ms), ``y`` (row coordinate), ``pop`` (population index) in ``window``."""
        idx = self.select(window)
        return {"x": self.x[idx], "y": self.y[idx], "pop": self.pop[idx]}

    def density(self, window: Window, colors: list[tuple[int, int, int]],
                nx: int = 600, ny: int = 300) -> Density:
        """Bin the spikes of ``window`` on an ``nx`` x (at most) ``ny`` grid.

        When fewer than ``ny`` rows are visible, every row gets its own pixel row so the image
        lines up with the neurons; otherwise rows are pooled. Boundary spikes fall into the
        last bin, so ``counts.sum() == count(window)``.
        """
        x0, x1, y0, y1 = _normalise(window)
        idx = self.select(window)
        x, y, pop = self.x[idx], self.y[idx], self.pop[idx]
        nx = max(1, int(nx))
        row_lo, row_hi = int(np.ceil(y0)), int(np.floor(y1))
        if row_hi - row_lo + 1 <= ny:
            ny = max(1, row_hi - row_lo + 1)
            iy = y.astype(np.int64) - row_lo
            img_y, img_dh = row_lo - 0.5, float(ny)
        else:
            iy = np.floor((y - y0) * (ny / (y1 - y0))).astype(np.int64)
            img_y, img_dh = y0, y1 - y0
        span = x1 - x0
        ix = np.floor((x - x0) * (nx / span)).astype(np.int64) if span > 0 else np.zeros(len(x),
                                                                                        np.int64)
        np.clip(ix, 0, nx - 1, out=ix)
        np.clip(iy, 0, ny - 1, out=iy)
        flat = iy * nx + ix
        counts = np.bincount(flat, minlength=nx * ny)
        rgba = _shade(flat, pop, counts, colors, nx * ny).reshape(ny, nx)
        return Density(counts.reshape(ny, nx), rgba, x0, img_y, max(span, 1e-9), img_dh)

    def locate(self, y: float) -> tuple[str, int] | None:
        """Population and local neuron index of the row drawn at ``y`` (None outside)."""
        row = self.n_rows - 1 - int(np.floor(y + 0.5))
        if not 0 <= row < self.n_rows:
            return None
        k = int(np.searchsorted(self.offsets, row, side="right") - 1)
        return self.names[k], row - int(self.offsets[k])

    def row_y(self, population: str, neuron: int) -> float:
        """y coordinate of a neuron's row (inverse of :meth:`locate`)."""
        k = self.names.index(population)
        return float(self.n_rows - 1 - (self.offsets[k] + int(neuron)))

    def block_centres(self) -> dict[str, float]:
        """y coordinate of the centre of each population's block (for axis labels)."""
        lo = self.n_rows - self.offsets[1:] - 0.5
        hi = self.n_rows - self.offsets[:-1] - 0.5
        return {name: float((a + b) / 2) for name, a, b in zip(self.names, lo, hi, strict=True)}

    def block_edges(self) -> list[float]:
        """y coordinates of the boundaries between population blocks."""
        return [float(self.n_rows - o - 0.5) for o in self.offsets[1:-1]]


def _normalise(window: Window) -> Window:
    x0, x1, y0, y1 = (float(v) for v in window)
    return min(x0, x1), max(x0, x1), min(y0, y1), max(y0, y1)


def _shade(flat: np.ndarray, pop: np.ndarray, counts: np.ndarray,
           colors: list[tuple[int, int, int]], size: int) -> np.ndarray:
    """Packed RGBA: spike-weighted mean population colour, alpha ~ log(1 + count)."""
    out = np.zeros((size, 4), dtype=np.uint8)
    filled = counts > 0
    if not filled.any():
        return out.view(np.uint32).reshape(size)
    table = np.array(colors or [(0, 0, 0)], dtype=np.float64)
    for channel in range(3):
        total = np.bincount(flat, weights=table[pop % len(table), channel], minlength=size)
        out[filled, channel] = np.round(total[filled] / counts[filled]).astype(np.uint8)
    level = np.log1p(counts[filled]) / np.log1p(counts.max())
    out[filled, 3] = np.round(255 * (0.25 + 0.75 * level)).astype(np.uint8)
    return out.view(np.uint32).reshape(size)
