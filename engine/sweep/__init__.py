"""Parameter sweeps: many runs of one project with some fields varied, on an executor.

:func:`plan_sweep` checks the request (fields, values, seeds, sample) and fixes the tasks,
:func:`run_sweep` runs them on an :mod:`engine.executor` and writes ``sweep.csv``.
"""

from engine.sweep.fields import SweepField, SweepSpecError, parse_sets, resolve_field
from engine.sweep.run import SweepOutcome, SweepPlan, plan_sweep, rows_frame, run_sweep, write_rows
from engine.sweep.task import run_point

__all__ = ["SweepField", "SweepOutcome", "SweepPlan", "SweepSpecError", "parse_sets",
           "plan_sweep", "resolve_field", "rows_frame", "run_point", "run_sweep", "write_rows"]
