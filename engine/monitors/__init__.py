"""Monitors: what a state monitor node of a project records.

``specs`` holds the monitor models and their parameters (``MONITOR_MODELS``,
``MONITOR_SPECS``), read by validation, the inspector and the build step.
"""

__all__ = ["specs"]
