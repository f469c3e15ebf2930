"""A population's parameter values for a run: numbers, or one value per neuron."""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.hetero.values import per_neuron_spec, resolve_value, resolve_values, value_problems
from engine.project import MAX_SIZE, Node, Project, model_spec
from engine.validation import is_number


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


def document_values(document: dict, node_id: str, name: str) -> np.ndarray | None:
    """The values of parameter ``name`` of population ``node_id`` of a project document, one
    per neuron, as a run of that document resolves them (:func:`resolve_neuron_params`: a
    distribution drawn from the project's seed, the node's id and the parameter's name).

    For views of a document being edited: the rest of the document need not be valid.

    Returns
    -------
    numpy.ndarray or None
        float64, one value per neuron (all equal for a shared value); None when the node,
        its model, size or seed, or the value itself is invalid, or the value is a
        reference to a companion array (a document being edited holds its arrays inline).
    """
    network = document.get("network") if isinstance(document, dict) else None
    nodes = network.get("nodes") if isinstance(network, dict) else None
    node = next((n for n in nodes or [] if isinstance(n, dict) and n.get("id") == node_id),
                None)
    if node is None or node.get("kind") != "population":
        return None
    try:
        spec = next(p for p in model_spec("population", str(node.get("model"))).params
                    if p.name == name and per_neuron_spec(p))
        value = model_spec("population", str(node["model"])).resolve(
            node.get("params") or {})[name]
    except (KeyError, StopIteration, TypeError, ValueError):
        return None
    size = node.get("size")
    seed = (document.get("simulation") or {}).get("seed", 42)
    if not (isinstance(size, int) and 1 <= size <= MAX_SIZE and isinstance(seed, int)
            and 0 <= seed < 2**32):
        return None
    if not isinstance(value, (list, dict)):
        if not is_number(value) or spec.check(float(value)):
            return None
    elif value_problems(value, spec, size, None):
        return None
    resolved = resolve_value(value, spec, size, seed, str(node_id), None)
    return np.full(size, resolved) if isinstance(resolved, float) else resolved


def is_heterogeneous(values: dict[str, Any]) -> bool:
    """Whether resolved values hold a parameter that differs between neurons."""
    return any(isinstance(v, np.ndarray) and v.size > 1 and not np.all(v == v[0])
               for v in values.values())


#: Parameters the simulator applies per neuron outside the models' packed constants (the
#: initial state, and i_offset, which is the per-neuron bias array of every run).
OUTSIDE_PACK = frozenset({"v_init", "v_init_spread", "i_offset"})


def shared_values(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` with every array whose neurons all share one value made that number."""
    return {name: float(v[0]) if isinstance(v, np.ndarray) and v.size and np.all(v == v[0])
            else v for name, v in values.items()}


def pack_node(model: Any, values: dict[str, Any], size: int,
              dt: float) -> tuple[np.ndarray, np.ndarray | None]:
    """A population's packed constants: (the node's row, per-neuron rows or None).

    The per-neuron rows ``(size, N_NODE_PARAMS)`` (the build stores them transposed) exist
    only when a packed parameter differs between neurons; the kernel then reads them instead
    of the node's row. Each distinct combination of the varying parameters is packed by the
    model's own ``pack`` (numbers in, as for a homogeneous node), so a neuron's constants
    are bit for bit those of a homogeneous population with its values.
    """
    values = shared_values(values)
    varying = [name for name, v in values.items()
               if isinstance(v, np.ndarray) and name not in OUTSIDE_PACK]
    scalars = {name: (float(v[0]) if isinstance(v, np.ndarray) else v)
               for name, v in values.items()}
    row = model.pack(scalars, dt)
    if not varying:
        return row, None
    table = np.column_stack([values[name] for name in varying])
    combos, inverse = np.unique(table, axis=0, return_inverse=True)
    packed = np.empty((len(combos), row.size))
    for c, combo in enumerate(combos):
        packed[c] = model.pack({**scalars, **dict(zip(varying, combo.tolist(), strict=True))}, dt)
    return row, packed[inverse.reshape(-1)]
