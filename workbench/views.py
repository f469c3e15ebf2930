"""The workbench's result views: every tab of the results, in tab order.

Each entry is a :class:`workbench.view_protocol.ResultView` subclass built with the session's
:class:`~workbench.view_protocol.ViewContext`; ``docs/architecture.md`` ("Result view") says
how to add one.
"""

from __future__ import annotations

from collections.abc import Sequence

from workbench.analysis_tabs import EnergyTab, ScenariosTab, WeightsTab
from workbench.builtin_views import ActivityTab, SummaryTab, TracesTab
from workbench.compare_view import CompareTab
from workbench.evaluation_tab import EvaluationTab
from workbench.lab_notes_tab import LabNotesTab
from workbench.sweep_tab import SweepTab
from workbench.view_protocol import ResultView, ViewContext

VIEWS: list[type[ResultView]] = [ActivityTab, TracesTab, SummaryTab, CompareTab, WeightsTab,
                                 EnergyTab, ScenariosTab, EvaluationTab, SweepTab, LabNotesTab]


def build_views(context: ViewContext, views: Sequence[type[ResultView]] | None = None
                ) -> list[ResultView]:
    """One instance of every view of ``views`` (default: :data:`VIEWS`) for a session."""
    return [view(context) for view in (VIEWS if views is None else views)]
