"""What the labs' checks read from a project and its run: one node's spikes, its parameters.

Checks report a missing node, a wrong model or a missing run as a plain :class:`Observation`
that does not hold (with a hint), never as a traceback: :func:`node_problem` and
:func:`no_run` build those.
"""

from __future__ import annotations

import numpy as np

from engine.labs.observation import Observation

__all__ = ["no_run", "node_problem", "node_spikes"]


def no_run(what: str) -> Observation:
    """The observation of a check that needs a run when there is none."""
    return Observation(False, f"There is no run to check: {what} is measured on the run.",
                       hint="Run the project, then check again.")


def node_problem(project, node_id: str, models: tuple[str, ...] = ()) -> Observation | None:
    """An observation naming what is wrong when node ``node_id`` is missing or has another
    model than one of ``models`` (any model when empty); None when the node is fine."""
    try:
        node = project.network.node(node_id)
    except KeyError:
        return Observation(False, f"The project has no node {node_id!r}.",
                           hint=f"This step measures node {node_id!r}; open the lab's project "
                                "again if it was deleted or renamed.")
    if models and node.model not in models:
        return Observation(False, f"Node {node_id!r} is a {node.model!r} node, this step "
                                  f"measures a {' or '.join(repr(m) for m in models)} node.",
                           hint=f"Keep the model of {node_id!r} as the lab set it.")
    return None


def node_spikes(result, node_id: str) -> tuple[np.ndarray, np.ndarray]:
    """Spike times (ms) and neuron indices of one node in a run, sorted by time."""
    spikes = result.all_spikes()  # read back from disk when a busy server spilled them
    mine = spikes[spikes["population"].astype(str) == node_id]
    return (mine["time_ms"].to_numpy(np.float64), mine["neuron"].to_numpy(np.int64))
