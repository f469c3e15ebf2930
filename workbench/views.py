"""The workbench's result views, in tab order (after Activity, Traces and Summary).

Each entry is a :class:`workbench.view_protocol.ResultView` subclass built with the session's
:class:`~workbench.view_protocol.ViewContext`; ``docs/architecture.md`` ("Result view") says
how to add one.
"""

from __future__ import annotations

from workbench.analysis_tabs import EnergyTab, ScenariosTab, WeightsTab
from workbench.compare_view import CompareTab
from workbench.evaluation_tab import EvaluationTab
from workbench.sweep_tab import SweepTab
from workbench.view_protocol import ResultView, ViewContext

VIEWS: list[type[ResultView]] = [CompareTab, WeightsTab, EnergyTab, ScenariosTab,
                                 EvaluationTab, SweepTab]


def build_views(context: ViewContext) -> list[ResultView]:
    """One instance of every view of :data:`VIEWS` for a session."""
    return [view(context) for view in VIEWS]
