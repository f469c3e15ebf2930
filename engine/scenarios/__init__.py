"""Scenarios: the input workloads a project's network can be rated against, as data.

``defs`` holds a workload (``Scenario``, ``InputSpec``, ``Thresholds``) and its validation; it
imports nothing that runs, so the project format validates its ``scenarios`` section with it.
Running scenarios and their fit matrices is ``engine.evaluation.scenario_fit``.
"""

__all__ = ["defs"]
