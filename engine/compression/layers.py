"""Layers of a network and their weights as dense matrices.

A *layer* is every projection from one node to one population: the converted MLP splits
each layer into an excitatory and an inhibitory ``matrix`` projection, and both share one
quantisation scale. A projection's weights are materialised as a dense (source x target)
matrix of the weights a run holds (0: no synapse), which is how a compressed projection
is written back (the ``matrix`` connectivity rule).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.core.build import clamp_weights
from engine.errors import SpikeStudioError
from engine.project import Project, Projection
from engine.validation import MAX_VALUES

#: Rules whose synapses follow from the sizes alone (no random draw): a scalar weight on
#: them needs no per-synapse storage and survives a change of sizes.
IMPLICIT_RULES = ("all_to_all", "one_to_one")


@dataclass
class Layer:
    """The projections (positions in ``network.projections``) from ``source`` to ``target``."""

    source: str
    target: str
    projections: list[int]

    @property
    def label(self) -> str:
        return f"{self.source} -> {self.target}"


def layers_of(project: Project) -> list[Layer]:
    """Every layer, in the order of its first projection."""
    layers: dict[tuple[str, str], Layer] = {}
    for j, p in enumerate(project.network.projections):
        key = (p.source, p.target)
        layers.setdefault(key, Layer(p.source, p.target, [])).projections.append(j)
    return list(layers.values())


def rule_of(p: Projection) -> str:
    return p.connectivity.get("rule", "all_to_all")


def per_synapse_weights(p: Projection) -> bool:
    """The projection's synapses have weights of their own (a matrix or a distribution)."""
    return rule_of(p) == "matrix" or isinstance(p.weight, dict)


def synapse_count(block: dict) -> int:
    return int(block["targets"].shape[0])


def block_pairs(block: dict) -> tuple[np.ndarray, np.ndarray]:
    """(pre, post) index of every synapse of a block from ``engine.core.build.synapse_blocks``."""
    rowptr = block["rowptr"]
    pre = np.repeat(np.arange(rowptr.shape[0] - 1), np.diff(rowptr))
    return pre, block["targets"].astype(np.int64)


def dense_weights(p: Projection, block: dict, n_pre: int, n_post: int, where: str
                  ) -> np.ndarray:
    """The weights a run of ``p`` holds as a (n_pre, n_post) float64 matrix.

    A ``matrix`` projection keeps its document values (float64; the run rounds them to
    float32), sign-clamped and clipped like the build does; any other rule is read from
    its built synapses (``block``). A synapse whose weight is 0 has no place in a matrix:
    it is dropped (the caller counts it).

    Raises
    ------
    SpikeStudioError
        When the matrix would hold more values than a project may (naming ``where``).
    """
    if n_pre * n_post > MAX_VALUES:
        raise SpikeStudioError(
            f"{where}: storing the synapses of {p.id!r} as a weight matrix needs {n_pre:,} x "
            f"{n_post:,} = {n_pre * n_post:,} values; a project holds at most {MAX_VALUES:,}. "
            f"Compress a smaller network, or leave this one uncompressed")
    out = np.zeros((n_pre, n_post))
    if rule_of(p) == "matrix":
        matrix = np.asarray(p.connectivity["weights"], dtype=np.float64)
        present = matrix != 0
        out[present] = clamp_weights(p, matrix[present])
        return out
    pre, post = block_pairs(block)
    out[pre, post] = block["weights"]
    return out
