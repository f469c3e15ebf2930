"""A population's parameter values for a run: numbers, or one value per neuron."""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.hetero.values import resolve_values
from engine.project import Node, Project


def resolve_neuron_params(project: Project, node: Node) -> dict[str, Any]:
    """Every parameter of population ``node`` with defaults and presets filled in.

    Numeric parameters are floats when the population shares them and float64 arrays of
    length ``node.size`` when they are per neuron (a list, a distribution drawn from the
    project's seed, the node's id and the parameter's name, or an array of
    ``project.arrays``). Other values (``preset``...) are as in the project.

    Parameters
    ----------
    project
        A valid project (its per-neuron values were checked when it was built).
    node
        One of its populations.

    Returns
    -------
    dict
        Parameter name -> float, ``np.ndarray`` or the project's value.
    """
    return resolve_values(node.resolved_params(), node.spec().params, node.size,
                          project.simulation.seed, node.id, project.arrays)


def is_heterogeneous(values: dict[str, Any]) -> bool:
    """Whether resolved values hold a parameter that differs between neurons."""
    return any(isinstance(v, np.ndarray) and v.size > 1 and not np.all(v == v[0])
               for v in values.values())
