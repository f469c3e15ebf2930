"""Export a project as a NIR graph (the Neuromorphic Intermediate Representation, ``nir``).

Mapping (docs/export.md has the full table and what NIR cannot hold):

- ``lif`` population receiving spikes -> ``CubaLIF`` (exponential synaptic current); a
  ``lif`` that receives no spikes (only current inputs, or nothing) -> ``LIF``.
- spike or current encoder -> ``Input`` (NIR holds no stimulus: the encoder's definition is
  kept in SpikeStudio's metadata, and a warning says other tools get only the port).
- projection -> ``Linear`` (dense ``(n_target, n_source)`` weights, exactly the synapses a run
  draws), followed by ``Delay`` when its delay is not 0.
- recorded population -> ``Output``.

Units: time in seconds (``tau``, ``Delay.delay``), voltages and weights in the project's mV
with ``r = 1`` (weights are R*I). A spike is read as a unit pulse lasting one time step
(the discrete-time reading of snnTorch and Rockpool), so a CubaLIF's ``w_in = tau_syn / dt``
makes a spike of weight w raise the synaptic current by exactly w, as in SpikeStudio. The
graph's ``metadata`` holds ``dt`` (s), the units and these conventions in words.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from engine.errors import SpikeStudioError
from engine.export import ExportReport
from engine.models import CURRENT_ENCODERS
from engine.project import Node, Project, Projection

#: Largest dense weight matrix of one projection (entries): 64 MB as float32.
MAX_DENSE_ENTRIES = 2**24
#: Largest sum of dense weight entries over all projections (256 MB as float32).
MAX_TOTAL_DENSE_ENTRIES = 2**26
#: Key of SpikeStudio's own data in graph and node metadata (a JSON string).
META_KEY = "spikestudio"
#: Version of the metadata layout under :data:`META_KEY`.
META_VERSION = 1

CONVENTIONS = (
    "Written by SpikeStudio. Time in seconds; voltages in mV; r = 1, so input currents and "
    "weights are R*I in mV. A spike is a unit pulse lasting one time step dt (metadata 'dt', "
    "s): a CubaLIF has w_in = tau_syn / dt, so a spike of weight w raises the synaptic "
    "current I by w (SpikeStudio's rule: i += w at arrival). After a spike v is set to "
    "v_reset; SpikeStudio also holds it there for t_ref (refractoriness, kept only in "
    "SpikeStudio's metadata). A neuron spikes when v >= v_threshold at the end of a step. "
    "Delays are per projection, in seconds."
)


def _array(value: float, size: int) -> np.ndarray:
    """A parameter as an array of the population's shape (NIR's convention)."""
    return np.full(size, float(value), dtype=np.float64)


def _receives_spikes(project: Project, node: Node) -> list[Projection]:
    """Projections that bring spikes (not currents) into ``node``."""
    net = project.network
    return [p for p in net.projections if p.target == node.id
            and net.node(p.source).model not in CURRENT_ENCODERS]


def _check_exportable(project: Project) -> None:
    """Refuse projects whose NIR graph would be meaningless (the message names the node)."""
    for node in project.network.populations:
        if node.model == "izhikevich":
            raise SpikeStudioError(
                f"node {node.id!r}: NIR has no Izhikevich neuron (its quadratic membrane and "
                f"recovery variable have no NIR primitive); change the population to LIF "
                f"or leave it out to export this project")
        if node.model not in _NEURON_EXPORTS:
            raise SpikeStudioError(f"node {node.id!r}: the {node.model!r} neuron model has no "
                                   f"NIR mapping yet")
    sizes = {n.id: n.size for n in project.network.nodes if n.kind != "monitor"}
    total = 0
    for p in project.network.projections:
        entries = sizes[p.source] * sizes[p.target]
        total += entries
        if entries > MAX_DENSE_ENTRIES:
            raise SpikeStudioError(
                f"projection {p.id!r}: NIR stores a dense {sizes[p.target]:,} x "
                f"{sizes[p.source]:,} weight matrix ({entries:,} entries), more than the "
                f"{MAX_DENSE_ENTRIES:,} an export allows per projection; use smaller "
                f"populations")
    if total > MAX_TOTAL_DENSE_ENTRIES:
        raise SpikeStudioError(
            f"the dense weight matrices of all projections would hold {total:,} entries, "
            f"more than the {MAX_TOTAL_DENSE_ENTRIES:,} an export allows")


def _lif_node(project: Project, node: Node, dt_s: float, warnings: list[str]):
    import nir

    v = node.resolved_params()
    n = node.size
    common = {"v_leak": _array(v["v_rest"], n), "v_threshold": _array(v["v_thresh"], n),
              "v_reset": _array(v["v_reset"], n), "r": _array(1.0, n)}
    incoming = _receives_spikes(project, node)
    if v["t_ref"] > 0:
        warnings.append(f"node {node.id!r}: refractory period t_ref = {v['t_ref']:g} ms is "
                        f"dropped (NIR neurons have no refractoriness; kept in SpikeStudio's "
                        f"metadata)")
    if v["i_offset"] != 0:
        warnings.append(f"node {node.id!r}: bias i_offset = {v['i_offset']:g} mV is dropped "
                        f"(NIR neurons have no bias input; kept in SpikeStudio's metadata)")
    if v["v_init_spread"] > 0 or v["v_init"] != v["v_rest"]:
        warnings.append(f"node {node.id!r}: initial potential (v_init = {v['v_init']:g} mV, "
                        f"spread {v['v_init_spread']:g} mV) is not part of NIR (tools start "
                        f"at their own initial state; kept in SpikeStudio's metadata)")
    if not incoming:
        return nir.LIF(tau=_array(v["tau_m"] * 1e-3, n), **common)
    receptors = {p.receptor for p in incoming}
    tau_syn = v["tau_syn_exc"] if "exc" in receptors else v["tau_syn_inh"]
    if receptors == {"exc", "inh"} and v["tau_syn_exc"] != v["tau_syn_inh"]:
        warnings.append(f"node {node.id!r}: NIR's CubaLIF has one synaptic time constant; "
                        f"inhibitory inputs get tau_syn_exc = {v['tau_syn_exc']:g} ms instead "
                        f"of tau_syn_inh = {v['tau_syn_inh']:g} ms (kept in SpikeStudio's "
                        f"metadata)")
    tau_syn_s = tau_syn * 1e-3
    return nir.CubaLIF(tau_syn=_array(tau_syn_s, n), tau_mem=_array(v["tau_m"] * 1e-3, n),
                       w_in=_array(tau_syn_s / dt_s, n), **common)


#: Population models with a NIR mapping: model name -> function building the NIR node.
_NEURON_EXPORTS = {"lif": _lif_node}


def _node_meta(node: Node, order: int) -> dict[str, Any]:
    """SpikeStudio's own description of a node (restores what NIR cannot hold)."""
    return {META_KEY: json.dumps({"id": node.id, "kind": node.kind, "model": node.model,
                                  "size": node.size, "label": node.label,
                                  "params": node.params, "order": order})}


def _dense(block: dict, n_pre: int, n_post: int) -> np.ndarray:
    """The (n_post, n_pre) weight matrix of a synapse block; parallel synapses add up."""
    weight = np.zeros((n_post, n_pre), dtype=np.float32)
    pre = np.repeat(np.arange(n_pre), np.diff(block["rowptr"]))
    np.add.at(weight, (block["targets"], pre), block["weights"].astype(np.float32))
    return weight


def _delay_steps(block: dict, p: Projection, warnings: list[str], dt_ms: float) -> int:
    """The projection's delay in steps; per-synapse delays become their mean (a warning)."""
    if "delay" not in block:  # current input: acts without delay
        return 0
    if block["delay"] >= 0:
        return int(block["delay"])
    steps = block["delay_steps"]
    mean = int(round(float(steps.mean()))) if steps.size else 0
    warnings.append(f"projection {p.id!r}: per-synapse delays ({p.delay_ms}) become one delay "
                    f"of {mean * dt_ms:g} ms, their mean (NIR's Delay is per projection "
                    f"channel, not per synapse)")
    return mean


def to_nir(project: Project) -> tuple[Any, list[str]]:
    """The NIR graph of ``project`` and the warnings about what it could not hold.

    Raises
    ------
    SpikeStudioError
        For projects NIR cannot represent meaningfully (the message names the node), or
        whose dense weights would exceed :data:`MAX_DENSE_ENTRIES`.
    """
    import nir

    from engine.build import check_memory, synapse_blocks

    _check_exportable(project)
    check_memory(project)
    net, sim = project.network, project.simulation
    dt_s = sim.dt_ms * 1e-3
    warnings: list[str] = []
    nodes: dict[str, Any] = {}
    edges: list[tuple[str, str]] = []
    order = {n.id: i for i, n in enumerate(net.nodes)}
    for node in net.nodes:
        if node.kind == "encoder":
            kind = "current" if node.model in CURRENT_ENCODERS else "spike"
            warnings.append(f"node {node.id!r}: NIR holds no input signal; other tools get an "
                            f"Input port of {node.size} channel(s) (the {node.model} {kind} "
                            f"input is kept in SpikeStudio's metadata)")
            nodes[node.id] = nir.Input(input_type={"input": np.array([node.size])},
                                       metadata=_node_meta(node, order[node.id]))
        elif node.kind == "population":
            nir_node = _NEURON_EXPORTS[node.model](project, node, dt_s, warnings)
            nir_node.metadata = _node_meta(node, order[node.id])
            nodes[node.id] = nir_node
    taken = set(nodes)

    def fresh(name: str) -> str:
        candidate, i = name, 1
        while candidate in taken:
            candidate, i = f"{name}_{i}", i + 1
        taken.add(candidate)
        return candidate

    blocks = synapse_blocks(project)
    for j, p in enumerate(net.projections):
        src, tgt = net.node(p.source), net.node(p.target)
        block = blocks[p.id]
        if p.plasticity:
            warnings.append(f"projection {p.id!r}: {p.plasticity['rule']} plasticity is "
                            f"dropped (NIR has no learning rules); the exported weights are "
                            f"the initial ones")
        target_kind = type(nodes[tgt.id]).__name__
        if src.model in CURRENT_ENCODERS and target_kind == "CubaLIF":
            warnings.append(f"projection {p.id!r}: the current input {src.id!r} enters "
                            f"{tgt.id!r} directly in SpikeStudio, but NIR's CubaLIF filters "
                            f"every input through its synapse (tau_syn)")
        meta = {META_KEY: json.dumps({"id": p.id, "label": p.label, "order": j,
                                      "receptor": p.receptor})}
        linear = fresh(p.id)
        nodes[linear] = nir.Linear(weight=_dense(block, src.size, tgt.size), metadata=meta)
        edges.append((src.id, linear))
        steps = _delay_steps(block, p, warnings, sim.dt_ms)
        if steps:
            delay = fresh(f"{p.id}_delay")
            nodes[delay] = nir.Delay(delay=_array(steps * dt_s, tgt.size))
            edges += [(linear, delay), (delay, tgt.id)]
        else:
            edges.append((linear, tgt.id))
    recorded = sim.record_spikes
    for node in net.populations:
        if recorded == "all" or node.id in recorded:
            out = fresh(f"{node.id}_out")
            nodes[out] = nir.Output(output_type={"output": np.array([node.size])})
            edges.append((node.id, out))
    for node in net.monitors:
        warnings.append(f"node {node.id!r}: state monitors are not part of NIR (kept in "
                        f"SpikeStudio's metadata)")
    document = project.to_dict()
    extra = {"version": META_VERSION, "name": project.name,
             "description": project.description, "simulation": document["simulation"],
             "monitors": [n for n in document["network"]["nodes"] if n["kind"] == "monitor"],
             "layout": document["layout"], "lab": project.lab}
    metadata = {"source": "SpikeStudio", "time_unit": "s", "voltage_unit": "mV",
                "dt": dt_s, "conventions": CONVENTIONS, META_KEY: json.dumps(extra)}
    try:
        # Type inference starts at Input nodes; a network without inputs (self-driven,
        # recurrent) has none, and every node's shape is explicit anyway.
        graph = nir.NIRGraph(nodes=nodes, edges=edges, metadata=metadata,
                             type_check=any(n.kind == "encoder" for n in net.nodes))
    except (ValueError, AssertionError) as exc:  # a shape the nir package rejects
        raise SpikeStudioError(f"the NIR graph could not be built: {exc}") from None
    return graph, warnings


def export(project: Project, out: Path) -> ExportReport:
    """Write ``project`` as a NIR file (HDF5, ``nir.write``) at ``out``.

    Returns
    -------
    ExportReport
        The file written and one warning per feature NIR cannot hold.
    """
    import nir

    graph, warnings = to_nir(project)
    out = Path(out)
    if out.parent and not out.parent.exists():
        raise SpikeStudioError(f"--out: folder {str(out.parent)!r} does not exist")
    tmp = out.with_name(out.name + ".tmp")
    try:
        nir.write(tmp, graph)
        tmp.replace(out)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise SpikeStudioError(f"--out: cannot write {str(out)!r}: {exc}") from None
    return ExportReport(files=[out], warnings=warnings)

