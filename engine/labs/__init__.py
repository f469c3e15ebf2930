"""Teaching labs: a project with ordered steps, each with an observation the workbench checks.

A step's observation is a real computation on the student's own run (or on the experiment
their project describes), never a comparison with a stored answer. Observations are plain
functions registered by name in :mod:`engine.labs.observation`; a lab file names them with
their parameters (format: ``docs/labs.md``; loader: :mod:`engine.labs.lab_file`).

Every ``engine/labs/checks_*.py`` module is imported here, so a new module of checks
registers itself without editing a shared file.
"""

import importlib
import pkgutil

from engine.labs.observation import OBSERVATIONS, FigureData, Observation, observation

__all__ = ["OBSERVATIONS", "FigureData", "Observation", "observation"]

for _module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
    if _module.startswith("checks_"):
        importlib.import_module(f"{__name__}.{_module}")
