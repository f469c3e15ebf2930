"""The dense ANN a spiking classifier stands for: its predictions, MACs and energy.

A converted network (:mod:`engine.convert.onnx_import`) keeps the source ANN's weights as
``matrix`` projections, normalised layer by layer (``W_l * lambda_{l-1} / lambda_l``,
``b_l / lambda_l``) and split by sign into exc / inh parts, with the biases as projections
from a ``constant_current`` node. Summing those parts back gives each layer's dense matrix.
Normalisation scales each layer's ReLU activations by a positive factor, so the dense network
rebuilt here predicts what the source ANN predicted (for inputs in [0, 1], where
``lambda_0 = 1``); the weights were stored with 7 significant digits, so a sample whose two
best logits tie to that precision may differ.

:func:`dense_chain` rebuilds that network from any project shaped like a conversion (a chain
of integrate-and-fire populations fed by ``matrix`` projections from a dataset encoder) and
says why not otherwise; :func:`ann_reference` scores it and prices one inference on the dense
hardware profiles. Without a chain the MAC count falls back to
:func:`engine.energy.model.ann_baseline` (a dense layer per projection, as the Energy tab counts).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from engine.energy import model as E
from engine.errors import SpikeStudioError
from engine.evaluation.classify import dataset_node
from engine.evaluation.datasets import Dataset
from engine.project import Project

#: Neuron models a converted layer may use (the conversion makes non-leaky IF neurons).
CONVERTED_MODELS = ("if",)


@dataclass(frozen=True)
class DenseLayer:
    """``out = x @ weight + bias`` for population ``population``, then ReLU if ``relu``."""

    population: str
    weight: np.ndarray  # (n_in, n_out)
    bias: np.ndarray    # (n_out,)
    relu: bool


@dataclass(frozen=True)
class DenseChain:
    """The dense ReLU network of a converted project, from its dataset encoder ``input``."""

    input: str
    layers: tuple[DenseLayer, ...]

    @property
    def macs(self) -> int:
        """Multiply-accumulates per inference: one per weight and one per bias."""
        return int(sum(layer.weight.size + layer.bias.size for layer in self.layers))

    def logits(self, x: np.ndarray) -> np.ndarray:
        """The last layer's output for samples ``x`` (n, features)."""
        a = np.asarray(x, np.float64)
        for layer in self.layers:
            a = a @ layer.weight + layer.bias
            if layer.relu:
                a = np.maximum(a, 0.0)
        return a

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Predicted class of each sample (argmax of the logits, lowest index on ties)."""
        return np.argmax(self.logits(x), axis=1)


def dense_chain(project: Project, encoder: str | None = None) -> DenseChain:
    """Rebuild the dense network of a converted project.

    Raises
    ------
    SpikeStudioError
        Naming what does not fit a conversion: a population that is not integrate-and-fire,
        a projection that is not a fixed ``matrix``, a source other than the previous layer
        or a constant current, or a population off the chain.
    """
    net = project.network
    start = dataset_node(project, encoder)
    nodes = {n.id: n for n in net.nodes}
    incoming: dict[str, list] = {}
    for p in net.projections:
        src = nodes[p.source]
        if p.connectivity.get("rule") != "matrix":
            raise SpikeStudioError(f"projection {p.id!r}: {p.connectivity.get('rule')} "
                                   f"connectivity; an ANN's layer is a weight matrix")
        if p.plasticity:
            raise SpikeStudioError(f"projection {p.id!r}: plastic weights have no fixed ANN")
        if src.kind == "encoder" and src.id != start.id and src.model != "constant_current":
            raise SpikeStudioError(f"projection {p.id!r}: input from encoder {src.id!r} "
                                   f"({src.model}) has no place in an ANN")
        incoming.setdefault(p.target, []).append(p)
    pops = [n for n in net.nodes if n.kind == "population"]
    for pop in pops:
        if pop.model not in CONVERTED_MODELS:
            raise SpikeStudioError(f"population {pop.id!r}: {pop.model} neurons; a converted "
                                   f"layer is integrate-and-fire (if)")
    layers: list[DenseLayer] = []
    previous = start
    remaining = {p.id for p in pops}
    while remaining:
        fed = [pid for pid in remaining if any(p.source == previous.id
                                               for p in incoming.get(pid, []))]
        if len(fed) != 1:
            what = "no population" if not fed else f"{len(fed)} populations ({', '.join(fed)})"
            raise SpikeStudioError(f"network: {what} fed by {previous.id!r}; an ANN is a "
                                   f"chain of layers")
        pop = nodes[fed[0]]
        weight = np.zeros((previous.size, pop.size))
        bias = np.zeros(pop.size)
        for p in incoming[pop.id]:
            src = nodes[p.source]
            matrix = np.asarray(p.connectivity["weights"], np.float64)
            # The kernel clamps weights to the receptor's sign: so must the ANN.
            matrix = np.minimum(matrix, 0.0) if p.receptor == "inh" else np.maximum(matrix, 0.0)
            if src.id == previous.id:
                weight += matrix
            elif src.kind == "encoder" and src.model == "constant_current":
                bias += float(src.resolved_params()["amplitude"]) * matrix.sum(axis=0)
            else:
                raise SpikeStudioError(f"projection {p.id!r}: from {src.id!r} into layer "
                                       f"{pop.id!r}; a layer takes input only from the one "
                                       f"before it ({previous.id!r}) and biases")
        layers.append(DenseLayer(pop.id, weight, bias, relu=True))
        remaining.discard(pop.id)
        previous = pop
    if not layers:
        raise SpikeStudioError("network: no population; nothing to compare with an ANN")
    last = layers[-1]
    layers[-1] = DenseLayer(last.population, last.weight, last.bias, relu=False)
    return DenseChain(start.id, tuple(layers))


@dataclass(frozen=True)
class AnnReference:
    """What the dense ANN scores and costs on the samples an evaluation presents.

    Attributes
    ----------
    accuracy
        Fraction of the samples it classifies right; ``None`` when its predictions cannot
        be computed (``why_no_accuracy`` says why).
    macs_per_inference
        Multiply-accumulates of one inference.
    macs_basis
        How they were counted (text for the UI).
    energy_per_inference_j
        Per dense profile: ``total`` (``MACs x (E_MAC + E_mac_memory)``), ``compute`` and
        ``memory`` (joules).
    """

    accuracy: float | None
    macs_per_inference: float
    macs_basis: str
    energy_per_inference_j: dict[str, dict[str, float]]
    why_no_accuracy: str | None = None


def ann_reference(project: Project, data: Dataset, *, n_samples: int | None = None,
                  result=None, window_ms: float | None = None,
                  profiles: Mapping[str, E.HardwareProfile] | None = None,
                  encoder: str | None = None) -> AnnReference:
    """Accuracy of the project's dense ANN on the first ``n_samples`` of ``data``, its MACs
    and its energy per inference on the dense profiles.

    Parameters
    ----------
    result, window_ms
        A run of the project and its presentation period, used to count MACs with
        :func:`engine.energy.model.ann_baseline` when the project is not a converted chain
        (without them the MACs are 0 and the basis says so).
    """
    n = len(data.y) if n_samples is None else min(int(n_samples), len(data.y))
    try:
        chain = dense_chain(project, encoder)
    except SpikeStudioError as exc:
        chain, why = None, str(exc)
    if chain is not None:
        predictions = chain.predict(data.x[:n])
        accuracy, why = float(np.mean(predictions == data.y[:n])), None
        macs = float(chain.macs)
        basis = ("dense ANN rebuilt from the matrix projections: one MAC per weight and "
                 "per bias")
    elif result is not None:
        accuracy = None
        base = E.ann_baseline(result.network_info, result.node_info, result.duration_ms,
                              result.dt_ms, window_ms=window_ms, profiles={})
        macs = base.dense_macs
        basis = "dense equivalent of the SNN's projections: one MAC per synapse"
    else:
        accuracy, macs, basis = None, 0.0, "not counted (no run to count the synapses of)"
    dense = E.dense_profiles(profiles if profiles is not None else E.load_profiles())
    table = E.ann_energies(macs, dense)
    energy = {row.profile: {"total": float(row.total_j), "compute": float(row.compute_j),
                            "memory": float(row.memory_j)}
              for row in table.itertuples(index=False)}
    return AnnReference(accuracy=accuracy, macs_per_inference=macs, macs_basis=basis,
                        energy_per_inference_j=energy, why_no_accuracy=why)
