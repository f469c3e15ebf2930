"""What every result view of the workbench shares (every tab of the results).

A result view is a Panel ``Viewer`` with a tab ``title`` that the :class:`~workbench.
results_view.ResultsView` drives through five calls: :meth:`ResultView.set_result` (a run's
result, only when its tab is opened if ``lazy``), :meth:`ResultView.set_project` (the project
document changed), :meth:`ResultView.clear` (the project was replaced),
:meth:`ResultView.set_export_name` (file names of the run's downloads) and
:meth:`ResultView.shown` (its tab was opened). The list of views is ``workbench.views.VIEWS``,
in tab order: adding a view is one module plus one entry there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import panel as pn


@dataclass
class ViewContext:
    """What a view may use from its session.

    Attributes
    ----------
    x_range
        The raster's time axis (a Bokeh ``Range1d``), shared by views with a time axis.
    apply
        ``apply(edit_function, *args)``: an undoable edit of the project (``workbench.edits``).
    get_project
        Returns the validated ``engine.project.Project`` (raises ``ProjectError``).
    shown_run
        Returns ``(result, stamp, document)`` of the run the result tabs show (its
        ``SimulationResult``, ``ResultStamp`` and the project document that was run), or None.
    open_project
        ``open_project(project, name)``: make a ``Project`` the view built (a compressed
        copy, say) the session's project, as an uploaded file named ``name`` is opened:
        unsaved, after asking before unsaved changes are discarded.
    cursor
        The run's ``widgets.time_cursor.TimeCursor``: its ``value`` is the time the user
        looks at (plots get its line from ``widgets.time_cursor.cursor_line``).
    lifetimes
        The session's ``workbench.lifetimes.Lifetimes``: a note about a state (a run, the
        project) is held in it, and goes when that state ends.
    activity
        The ``workbench.builtin_views.ActivityDisplay`` the results view draws a run into
        (raster, rates, neuron panel): what the Activity tab shows.
    """

    x_range: Any = None
    apply: Callable[..., Any] | None = None
    get_project: Callable[[], Any] | None = None
    shown_run: Callable[[], tuple[Any, Any, dict] | None] | None = None
    open_project: Callable[[Any, str], None] | None = None
    cursor: Any = None
    lifetimes: Any = None
    activity: Any = None


class ResultView(pn.viewable.Viewer):
    """Base of the result views: every call has a do-nothing default."""

    #: Tab title.
    title: ClassVar[str] = ""
    #: Short name (``Workbench.views[key]``).
    key: ClassVar[str] = ""
    #: True: the result is handed over only when the tab is opened (analyses nobody looks at
    #: are not paid for after each run).
    lazy: ClassVar[bool] = False

    def __init__(self, context: ViewContext | None = None, **params: Any):
        super().__init__(**params)
        self.context = context or ViewContext()

    def header_tools(self) -> Any:
        """Controls shown beside the results' header line whatever tab is open (None: none)."""
        return None

    def set_result(self, result: Any) -> None:
        """Show a run's ``SimulationResult``."""

    def set_project(self, document: dict) -> None:
        """The project document changed (an edit, Open, New, upload)."""

    def clear(self) -> None:
        """Forget the shown result: the project was replaced."""

    def set_export_name(self, name: Callable[[str], str]) -> None:
        """``name(what)`` is the file stem of the current run's downloads of ``what``."""

    def shown(self) -> None:
        """Its tab was opened (after a lazy view got the result): e.g. refit hidden plots."""

    def close(self) -> None:
        """The browser session ended: stop any background work."""
