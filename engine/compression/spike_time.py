"""Spike-time quantisation of latency codes: 2**K spike times per window.

A ``latency`` encoder fires value x at ``t = t_max * (1 - x)`` in each window of
``t_max_ms`` (repeated every ``period_ms``). Quantising to L = 2**K levels rounds t to the
nearest of ``0, t_max / (L - 1), ..., t_max`` -- i.e. x to a multiple of 1 / (L - 1) -- so a
window holds at most L distinct spike times (fewer when the time step merges levels).
A value that fired keeps firing: when rounding would take it below ``x_min``, it goes to
the next level up instead.
"""

from __future__ import annotations

import numpy as np

from engine.encoders.base import time_index
from engine.project import Node, Project


def latency_encoders(project: Project) -> list[Node]:
    return [n for n in project.network.encoders if n.model == "latency"]


def quantise_values(values: np.ndarray, x_min: float, levels: int) -> np.ndarray:
    """Latency-code values rounded to ``levels`` spike times (silent values untouched)."""
    x = np.asarray(values, np.float64)
    step = 1.0 / (levels - 1)
    q = 1.0 - np.rint((1.0 - x) / step) * step
    q = np.where(q < x_min, q + step, q)  # still at or above x_min: it keeps its spike
    return np.where(x >= x_min, np.clip(q, 0.0, 1.0), x)


def distinct_times(values: dict, dt_ms: float) -> int:
    """Distinct spike times (time indices) of one window of a latency encoder."""
    x = np.asarray(values["values"], np.float64)
    active = x[x >= values["x_min"]]
    return int(np.unique(time_index(values["t_max_ms"] * (1.0 - active), dt_ms)).size)


def quantise_latency_nodes(doc: dict, project: Project, bits: int) -> list[dict]:
    """Quantise every latency encoder of ``doc`` (the document of ``project``) in place.

    Returns one row per encoder: ``encoder``, ``levels``, ``window_ms`` and the distinct
    spike times per window before and after.
    """
    levels = 2 ** bits
    dt = project.simulation.dt_ms
    rows = []
    for node in latency_encoders(project):
        values = node.resolved_params()
        raw = next(r for r in doc["network"]["nodes"] if r["id"] == node.id)
        quantised = quantise_values(values["values"], values["x_min"], levels)
        raw.setdefault("params", {})["values"] = quantised.tolist()
        rows.append({"encoder": node.id, "levels": levels, "window_ms": values["t_max_ms"],
                     "distinct_times_before": distinct_times(values, dt),
                     "distinct_times_after": distinct_times({**values, "values": quantised},
                                                            dt)})
    return rows
