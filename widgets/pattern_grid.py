"""A small pattern editor: a grid of cells that a click switches on or off.

Plain data in and out: the pattern is a string of ``'#'`` (on) and ``'.'`` (off), row by row,
as in a project's ``hopfield`` section (``engine.labs.hopfield``). The editor knows nothing of
projects: its owner stores the pattern and recomputes the weights
(``engine.labs.hopfield.store_patterns``) when ``on_change`` reports a new one.
"""

from __future__ import annotations

from collections.abc import Callable

import panel as pn
from bokeh.models import ColumnDataSource, TapTool
from bokeh.plotting import figure

__all__ = ["OFF", "ON", "PatternGrid"]

ON, OFF = "#", "."
_COLOURS = {ON: "#1f2937", OFF: "#f3f4f6"}


class PatternGrid:
    """Draw one pattern on a ``rows`` x ``columns`` grid.

    Parameters
    ----------
    pattern
        ``rows * columns`` cells of ``'#'`` and ``'.'``.
    columns
        Cells per row.
    on_change
        Called with the new pattern string after each click.
    """

    def __init__(self, pattern: str, columns: int,
                 on_change: Callable[[str], None] | None = None, cell_px: int = 22):
        if columns < 1 or len(pattern) % columns or set(pattern) - {ON, OFF}:
            raise ValueError(f"pattern: must be rows of {columns} cells of '{ON}' and '{OFF}'")
        self.columns = columns
        self.rows = len(pattern) // columns
        self.on_change = on_change
        self._cells = list(pattern)
        self.source = ColumnDataSource(self._data())
        fig = figure(width=columns * cell_px + 20, height=self.rows * cell_px + 20,
                     x_range=(0, columns), y_range=(self.rows, 0), tools="",
                     toolbar_location=None)
        fig.axis.visible = False
        fig.grid.visible = False
        fig.rect("x", "y", 0.94, 0.94, source=self.source, fill_color="colour",
                 line_color="#9ca3af")
        fig.add_tools(TapTool())
        self.source.selected.on_change("indices", self._tapped)
        self.figure = fig
        self.pane = pn.pane.Bokeh(fig)

    @property
    def pattern(self) -> str:
        """The pattern as it stands."""
        return "".join(self._cells)

    def set_pattern(self, pattern: str) -> None:
        """Show another pattern of the same size (no ``on_change``)."""
        if len(pattern) != len(self._cells) or set(pattern) - {ON, OFF}:
            raise ValueError(f"pattern: must be {len(self._cells)} cells of '{ON}' and '{OFF}'")
        self._cells = list(pattern)
        self.source.data = self._data()

    def toggle(self, index: int) -> None:
        """Switch cell ``index`` (row-major) and report the new pattern."""
        self._cells[index] = OFF if self._cells[index] == ON else ON
        self.source.data = self._data()
        if self.on_change is not None:
            self.on_change(self.pattern)

    def _data(self) -> dict:
        n = len(self._cells)
        return {"x": [i % self.columns + 0.5 for i in range(n)],
                "y": [i // self.columns + 0.5 for i in range(n)],
                "colour": [_COLOURS[c] for c in self._cells]}

    def _tapped(self, attr: str, old: list, new: list) -> None:
        if new:
            self.source.selected.indices = []  # a second click on the same cell counts too
            self.toggle(new[0])
