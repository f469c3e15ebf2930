"""How many bytes a deployment stores for a model: the storage model behind "model size".

Counted per layer (every projection from one node to one population):

- **Weights** at ``b`` bits: 32 (float32, what a run holds) unless the layer's weights lie
  exactly on a symmetric K-bit grid (:func:`~engine.compression.quantise.grid_bits`, as
  :func:`~engine.compression.compress` leaves them), or ``weight_bits`` asks "what if they
  were quantised to K bits". A quantised layer also stores its scale (32 bits), and is
  only counted as quantised when that is cheaper than float32.
- **Structure**: of the two standard layouts, the cheaper one --
  *dense*: a (source x target) array of weights, 0 marking a missing synapse (no index
  cost; one array per overlapping projection when exc and inh synapses share a pair);
  *sparse* (CSR): per synapse its weight and a target index of ceil(log2 targets) bits,
  plus a row pointer of ceil(log2(synapses + 1)) bits per source neuron and one more.
  Dense wins for the converted MLP's full layers; sparse from about 1 - b / (b + index)
  of the synapses pruned (e.g. 64 % at 4 bits and 7-bit indices).
- A layer whose projections all have one scalar weight stores that weight (32 bits per
  projection); its synapses cost nothing more when the rule implies them (all-to-all,
  one-to-one), else their structure (a bit mask or the sparse indices, the cheaper).

Plus each population's parameters (one set per population: neurons of a population share
them), 32 bits per parameter. Encoders are the input, not the model, and are not counted;
the weights of their projections (e.g. the biases of a converted network) are.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from engine.compression.layers import (
    IMPLICIT_RULES,
    Layer,
    block_pairs,
    layers_of,
    per_synapse_weights,
    rule_of,
)
from engine.compression.quantise import grid_bits
from engine.core.build import synapse_blocks
from engine.hetero.values import is_per_neuron
from engine.project import Project

FLOAT_BITS = 32   # an unquantised weight, a scale, a neuron parameter


@dataclass
class LayerSize:
    """Storage of one layer: ``bits`` per weight (None: shared scalar weights), the layout
    (``dense``, ``sparse``, ``rule``: implied by the connectivity rule, ``mask``: a bit
    mask of the synapses with shared weights) and the bytes it takes."""

    layer: str
    synapses: int
    bits: int | None
    layout: str
    bits_total: int

    @property
    def bytes(self) -> float:
        return self.bits_total / 8


def _index_bits(count: int) -> int:
    """Bits to tell ``count`` things apart (at least 1)."""
    return max(1, math.ceil(math.log2(max(count, 2))))


def _overlap(pairs: list[tuple[np.ndarray, np.ndarray]], n_post: int) -> int:
    """Most synapses of the layer between one (pre, post) pair (1: a single matrix holds all)."""
    keys = np.concatenate([pre * n_post + post for pre, post in pairs] + [np.empty(0, int)])
    return int(np.unique(keys, return_counts=True)[1].max()) if keys.size else 1


def layer_size(project: Project, layer: Layer, blocks: dict[str, dict],
               weight_bits: int | None = None) -> LayerSize:
    """The bytes one layer takes under the storage model of this module."""
    net = project.network
    projections = [net.projections[j] for j in layer.projections]
    n_pre, n_post = net.node(layer.source).size, net.node(layer.target).size
    own = [blocks[p.id] for p in projections]
    synapses = sum(int(b["targets"].shape[0]) for b in own)
    pairs = [block_pairs(b) for b in own]
    overlap = _overlap(pairs, n_post)
    structure = synapses * _index_bits(n_post) + (n_pre + 1) * _index_bits(synapses + 1)
    if not any(per_synapse_weights(p) for p in projections):
        weights = FLOAT_BITS * len(projections)
        if all(rule_of(p) in IMPLICIT_RULES for p in projections):
            return LayerSize(layer.label, synapses, None, "rule", weights)
        mask = overlap * n_pre * n_post
        layout, bits = ("mask", mask) if mask <= structure else ("sparse", structure)
        return LayerSize(layer.label, synapses, None, layout, weights + bits)
    options = [(FLOAT_BITS, 0)]
    values = np.concatenate([b["weights"] for b in own] + [np.empty(0)])
    bits = weight_bits if weight_bits is not None else grid_bits(values)
    if bits is not None:
        options.append((bits, FLOAT_BITS))  # K-bit codes and the layer's scale
    best = None
    for b, extra in options:
        dense = overlap * n_pre * n_post * b
        sparse = synapses * b + structure
        total = min(dense, sparse) + extra
        if best is None or total < best.bits_total:
            best = LayerSize(layer.label, synapses, b, "dense" if dense <= sparse else "sparse",
                             total)
    return best


def size_breakdown(project: Project, weight_bits: int | None = None, *,
                   blocks: dict[str, dict] | None = None) -> list[LayerSize]:
    """Per layer, then one row ``neuron parameters`` for the populations."""
    blocks = synapse_blocks(project) if blocks is None else blocks
    rows = [layer_size(project, layer, blocks, weight_bits) for layer in layers_of(project)]
    # One value per parameter of a population, one per neuron for a per-neuron parameter.
    params = sum(n.size if is_per_neuron(v) else 1 for n in project.network.populations
                 for v in n.resolved_params().values())
    rows.append(LayerSize("neuron parameters", 0, FLOAT_BITS,
                          "per population (per neuron where a value varies)",
                          FLOAT_BITS * params))
    return rows


def model_size_bytes(project: Project, weight_bits: int | None = None, *,
                     blocks: dict[str, dict] | None = None) -> int:
    """Bytes a deployment stores for ``project``'s model (see this module for the model).

    Parameters
    ----------
    project
        Any valid project; the weights of a compressed one are recognised on their grid.
    weight_bits
        Count every layer with per-synapse weights at this many bits (plus its scale), as
        if quantised; None counts the weights as they are.
    blocks
        ``engine.core.build.synapse_blocks(project)`` when the caller has them already.
    """
    bits = sum(row.bits_total for row in size_breakdown(project, weight_bits, blocks=blocks))
    return math.ceil(bits / 8)
