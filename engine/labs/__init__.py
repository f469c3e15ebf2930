"""Teaching labs: a project with ordered steps, each with an observation the workbench checks.

A step's observation is a real computation on the student's own run (or on the experiment
their project describes), never a comparison with a stored answer. Observations are plain
functions registered by name in :mod:`engine.labs.observation`; a lab file names them with
their parameters (format: ``docs/labs.md``).
"""

from engine.labs.observation import OBSERVATIONS, Observation, observation

__all__ = ["OBSERVATIONS", "Observation", "observation"]
