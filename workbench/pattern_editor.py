"""The Hopfield lab's pattern editor: one clickable grid per stored pattern.

A click changes one cell of pattern ``i``: the project's ``hopfield.patterns[i]`` is replaced
and its weights and cue recomputed (:func:`engine.labs.hopfield.store_patterns`) in ONE edit
through the session's edit path, so a single Undo takes both back.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import panel as pn

from engine.labs.hopfield import hopfield_problems, store_patterns
from widgets.pattern_grid import PatternGrid
from workbench.style import html_pane, text_html

__all__ = ["PatternEditor", "set_hopfield_pattern"]


def set_hopfield_pattern(document: dict, index: int, pattern: str) -> dict:
    """Edit: ``hopfield.patterns[index] = pattern``, weights and cue stored anew (a new copy)."""
    doc = copy.deepcopy(document)
    doc["hopfield"]["patterns"][index] = pattern
    return store_patterns(doc)


class PatternEditor:
    """The grids of a project's Hopfield patterns (nothing for a project without them).

    Parameters
    ----------
    apply
        ``apply(edit_function, *args)``: the session's undoable edit (``ViewContext.apply``).
    """

    def __init__(self, apply: Callable[..., Any] | None):
        self.apply = apply
        self.grids: list[PatternGrid] = []
        self._shape: tuple[int, int] | None = None  # (patterns, columns) the grids were built for
        self.view = pn.Column(sizing_mode="stretch_width", visible=False,
                              css_classes=["ss-pattern-editor"])

    def __panel__(self):
        return self.view

    def set_document(self, document: dict) -> None:
        """Show the patterns of ``document``: rebuilt when their number or width changed, else
        updated in place (after a click, an Undo)."""
        section = document.get("hopfield")
        if not isinstance(section, dict) or hopfield_problems(section, document):
            self.grids, self._shape, self.view.objects = [], None, []
            self.view.visible = False
            return
        patterns = list(section["patterns"])
        columns = int(section.get("columns", len(patterns[0])))  # default: one row
        if self._shape == (len(patterns), columns):
            for grid, pattern in zip(self.grids, patterns, strict=True):
                if grid.pattern != pattern:
                    grid.set_pattern(pattern)
            return
        self._shape = (len(patterns), columns)
        self.grids = [PatternGrid(p, columns, on_change=self._changed(i))
                      for i, p in enumerate(patterns)]
        cue = section.get("cue", 0)
        cells = [pn.Column(html_pane(f'<div class="ss-hint">{text_html(self._label(i, cue))}'
                                     f'</div>'), grid.pane)
                 for i, grid in enumerate(self.grids)]
        intro = html_pane('<div class="ss-lab-notes" data-testid="pattern-editor"><h2>Stored '
                          'patterns</h2><p class="ss-hint">Click a cell to switch it: the '
                          'weights and the cue are stored again (Undo takes it back).</p></div>')
        self.view.objects = [intro, pn.FlexBox(*cells)]
        self.view.visible = True

    @staticmethod
    def _label(index: int, cue: int) -> str:
        return f"Pattern {index + 1}" + (" (the cue)" if index == cue else "")

    def _changed(self, index: int) -> Callable[[str], None]:
        def changed(pattern: str) -> None:
            if self.apply is not None:
                self.apply(set_hopfield_pattern, index, pattern)
        return changed
