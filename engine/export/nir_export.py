"""Export a project as a NIR graph (the Neuromorphic Intermediate Representation, ``nir``).

Mapping (docs/export.md has the full table and what NIR cannot hold):

- ``lif`` population receiving spikes -> ``CubaLIF`` (exponential synaptic current); a
  ``lif`` that receives no spikes (only current inputs, or nothing) -> ``LIF``.
- spike or current encoder -> ``Input`` (NIR holds no stimulus: the encoder's definition is
  kept in SpikeStudio's metadata, and a warning says other tools get only the port).
- projection -> ``Linear`` (dense ``(n_target, n_source)`` weights, exactly the synapses a run
  draws), followed by ``Delay`` when its delay is not 0.
- a population's ``i_offset`` -> the ``bias`` of an ``Affine`` (in place of the ``Linear``)
  on its first undelayed incoming projection, as trained graphs hold biases; a population
  no projection reaches gets an ``Affine`` of zero weights from the first input (or port).
- per-neuron parameters -> NIR's per-neuron arrays (weights scaled per target neuron).
- recorded population -> ``Output`` (every population when none is recorded).
- a network without encoders (self-driven) gets an ``Input`` port of one channel joined to
  its first population by zero weights: ``nir.read`` at its defaults needs an ``Input``.

Units: time in seconds (``tau``, ``Delay.delay``), voltages and weights in the project's mV
with ``r = 1`` (weights are R*I). A spike is read as a unit pulse lasting one time step
(the discrete-time reading of snnTorch and Rockpool), so a CubaLIF's ``w_in = tau_syn / dt``
makes a spike of weight w raise the synaptic current by exactly w, as in SpikeStudio. The
graph's ``metadata`` holds ``dt`` (s), the units and these conventions in words.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from engine.encoders import CURRENT_ENCODERS
from engine.errors import SpikeStudioError
from engine.export import ExportReport
from engine.project import Node, Project, Projection

#: Largest dense weight matrix of one projection (entries): 64 MB as float32.
MAX_DENSE_ENTRIES = 2**24
#: Largest sum of dense weight entries over all projections (256 MB as float32).
MAX_TOTAL_DENSE_ENTRIES = 2**26
#: Key of SpikeStudio's own data in graph and node metadata (a JSON string).
META_KEY = "spikestudio"
#: Version of the metadata layout under :data:`META_KEY`.
META_VERSION = 1
#: Metadata ``kind`` of the input port (and its zero Linear) a self-driven network gets.
PORT = "self_driven_port"

CONVENTIONS = (
    "Written by SpikeStudio. Time in seconds; voltages in mV; r = 1, so input currents and "
    "weights are R*I in mV. A spike is a unit pulse lasting one time step dt (metadata 'dt', "
    "s): a CubaLIF has w_in = tau_syn / dt, so a spike of weight w raises the synaptic "
    "current I by w (SpikeStudio's rule: i += w at arrival). Neurons without a synapse "
    "(LIF, IF, LI: SpikeStudio's delta synapses, v += w) get weights w * tau / dt (LIF, LI) "
    "or w / (r * dt) (IF, r = 1 / tau_m), the pulse that raises v by w. Current inputs "
    "into CubaLIF / CubaLI are scaled by dt / tau_syn. After a spike v is set to "
    "v_reset; SpikeStudio also holds it there for t_ref (refractoriness, kept only in "
    "SpikeStudio's metadata). A neuron spikes when v >= v_threshold at the end of a step. "
    "Delays are per projection, in seconds. A population's bias (i_offset, R*I in mV) is the "
    "bias of an Affine into it (scaled by dt / tau_syn into a CubaLIF / CubaLI)."
)


def require_nir() -> Any:
    """The ``nir`` package, or a clear message naming the extra that installs it."""
    try:
        import h5py  # noqa: F401 - nir.write / nir.read and the importer's checks need it
        import nir
    except ImportError as exc:
        raise SpikeStudioError(f"NIR export and import need the packages 'nir' and 'h5py' "
                               f"(pip install 'spikestudio[nir]'): {exc}") from None
    return nir


def _array(value: float | np.ndarray, size: int) -> np.ndarray:
    """A parameter (a number, or one value per neuron) as an array of the population's
    shape (NIR's convention)."""
    return np.broadcast_to(np.asarray(value, dtype=np.float64), (size,)).copy()


def _span(value: float | np.ndarray) -> str:
    """A value for a message: ``x`` or ``a .. b (per neuron)``."""
    values = np.asarray(value, dtype=np.float64)
    lo, hi = float(values.min()), float(values.max())
    return f"{lo:g}" if lo == hi else f"{lo:g} .. {hi:g} (per neuron)"


def _neuron_values(project: Project, node: Node) -> dict[str, Any]:
    """A population's parameters: floats, or float64 arrays when they vary per neuron."""
    from engine.core.per_neuron import resolve_neuron_params

    return resolve_neuron_params(project, node)


def _receives_spikes(project: Project, node: Node) -> list[Projection]:
    """Projections that bring spikes (not currents) into ``node``."""
    net = project.network
    return [p for p in net.projections if p.target == node.id
            and net.node(p.source).model not in CURRENT_ENCODERS]


def _check_exportable(project: Project) -> None:
    """Refuse projects whose NIR graph would be meaningless (the message names the node)."""
    for node in project.network.populations:
        if node.model in ("izhikevich", "adaptive_lif"):
            title = {"izhikevich": "Izhikevich", "adaptive_lif": "adaptive LIF"}[node.model]
            raise SpikeStudioError(
                f"node {node.id!r}: NIR has no {title} neuron (its recovery / adaptation "
                f"variable has no NIR primitive); change the population to LIF or leave it "
                f"out to export this project")
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


def _parameter_warnings(node: Node, v: dict, warnings: list[str]) -> None:
    """One warning per parameter NIR's neurons cannot hold (kept in the metadata).

    The bias i_offset is not one: it travels as the bias of an ``Affine`` into the node.
    """
    if np.any(np.asarray(v.get("t_ref", 0)) > 0):
        warnings.append(f"node {node.id!r}: refractory period t_ref = {_span(v['t_ref'])} ms "
                        f"is dropped (NIR neurons have no refractoriness; kept in "
                        f"SpikeStudio's metadata)")
    rest = v.get("v_rest", v.get("v_reset"))
    if np.any(np.asarray(v["v_init_spread"]) > 0) or np.any(np.asarray(v["v_init"]) != rest):
        warnings.append(f"node {node.id!r}: initial potential (v_init = {_span(v['v_init'])} "
                        f"mV, spread {_span(v['v_init_spread'])} mV) is not part of NIR (tools "
                        f"start at their own initial state; kept in SpikeStudio's metadata)")


def _synapse_tau(project: Project, node: Node, v: dict,
                 warnings: list[str]) -> np.ndarray | None:
    """The synaptic time constants (ms, per neuron) NIR gets: None without spike inputs or
    with delta synapses (tau_syn = 0)."""
    receptors = sorted({p.receptor for p in _receives_spikes(project, node)})
    if not receptors:
        return None
    taus = {r: _array(v[f"tau_syn_{r}"], node.size) for r in receptors}
    delta = [bool(np.any(t == 0)) for t in taus.values()]
    if any(delta) and not all(bool(np.all(t == 0)) for t in taus.values()):
        raise SpikeStudioError(
            f"node {node.id!r}: mixes a delta synapse (tau_syn = 0) with an exponential one "
            f"({', '.join(f'tau_syn_{r} = {_span(t)} ms' for r, t in taus.items())}); a NIR "
            f"neuron has one input filter, so give both the same kind to export")
    if all(delta):
        return None
    if len(taus) > 1 and not np.array_equal(taus["exc"], taus["inh"]):
        warnings.append(f"node {node.id!r}: NIR's neurons have one synaptic time constant; "
                        f"inhibitory inputs get tau_syn_exc = {_span(v['tau_syn_exc'])} ms "
                        f"instead of tau_syn_inh = {_span(v['tau_syn_inh'])} ms (kept in "
                        f"SpikeStudio's metadata)")
    return taus.get("exc", taus.get("inh"))


@dataclass
class _Mapped:
    """A population's NIR node and the factors turning SpikeStudio weights into NIR ones."""

    node: Any
    # Per target neuron (a number when all share it), Linear weight per mV of synaptic
    # weight (spike inputs) and per mV of current gain (current inputs, and the Affine bias
    # per mV of i_offset: a bias is a constant current).
    spike_scale: float | np.ndarray = 1.0
    current_scale: float | np.ndarray = 1.0


def _lif_node(project: Project, node: Node, dt_s: float, warnings: list[str]) -> _Mapped:
    nir = require_nir()

    v = _neuron_values(project, node)
    n = node.size
    _parameter_warnings(node, v, warnings)
    common = {"v_leak": _array(v["v_rest"], n), "v_threshold": _array(v["v_thresh"], n),
              "v_reset": _array(v["v_reset"], n), "r": _array(1.0, n)}
    tau_m_s = v["tau_m"] * 1e-3
    tau_syn = _synapse_tau(project, node, v, warnings)
    if tau_syn is None:  # no spike inputs, or delta synapses: a spike is a pulse of one dt
        return _Mapped(nir.LIF(tau=_array(tau_m_s, n), **common), spike_scale=tau_m_s / dt_s)
    tau_syn_s = tau_syn * 1e-3
    return _Mapped(nir.CubaLIF(tau_syn=_array(tau_syn_s, n), tau_mem=_array(tau_m_s, n),
                               w_in=_array(tau_syn_s / dt_s, n), **common),
                   current_scale=dt_s / tau_syn_s)


def _if_node(project: Project, node: Node, dt_s: float, warnings: list[str]) -> _Mapped:
    nir = require_nir()

    v = _neuron_values(project, node)
    n = node.size
    _parameter_warnings(node, v, warnings)
    if v["reset_mode"] == "subtract":
        warnings.append(f"node {node.id!r}: reset by subtraction becomes NIR's reset to "
                        f"v_reset (NIR's IF has no subtractive reset; kept in SpikeStudio's "
                        f"metadata)")
    if _synapse_tau(project, node, v, warnings) is not None:
        raise SpikeStudioError(
            f"node {node.id!r}: an integrate-and-fire neuron with exponential synapses has no "
            f"NIR node (NIR's IF takes its input directly); set tau_syn_exc / tau_syn_inh to "
            f"0 (delta synapses) to export it")
    tau_m_s = v["tau_m"] * 1e-3  # tau_m dv/dt = I  <=>  dv/dt = R I with R = 1 / tau_m
    return _Mapped(nir.IF(r=_array(1.0 / tau_m_s, n), v_threshold=_array(v["v_thresh"], n),
                          v_reset=_array(v["v_reset"], n)), spike_scale=tau_m_s / dt_s)


def _li_node(project: Project, node: Node, dt_s: float, warnings: list[str]) -> _Mapped:
    nir = require_nir()

    v = _neuron_values(project, node)
    n = node.size
    _parameter_warnings(node, v, warnings)
    tau_m_s = v["tau_m"] * 1e-3
    common = {"r": _array(1.0, n), "v_leak": _array(v["v_rest"], n)}
    tau_syn = _synapse_tau(project, node, v, warnings)
    if tau_syn is None:
        return _Mapped(nir.LI(tau=_array(tau_m_s, n), **common), spike_scale=tau_m_s / dt_s)
    tau_syn_s = tau_syn * 1e-3
    return _Mapped(nir.CubaLI(tau_syn=_array(tau_syn_s, n), tau_mem=_array(tau_m_s, n),
                              w_in=_array(tau_syn_s / dt_s, n), **common),
                   current_scale=dt_s / tau_syn_s)


#: Population models with a NIR mapping: model name -> function building the NIR node.
_NEURON_EXPORTS = {"lif": _lif_node, "if": _if_node, "li": _li_node}


def _node_meta(project: Project, node: Node, order: int) -> dict[str, Any]:
    """SpikeStudio's own description of a node (restores what NIR cannot hold).

    Populations keep their resolved parameters: a default left out of the project (t_ref)
    must come back as the value the export ran with, not the importer's default; per-neuron
    values as lists (a companion array cannot travel in the metadata by reference).
    """
    params = node.params
    if node.kind == "population":
        params = {k: v.tolist() if isinstance(v, np.ndarray) else v
                  for k, v in _neuron_values(project, node).items()}
    return {META_KEY: json.dumps({"id": node.id, "kind": node.kind, "model": node.model,
                                  "size": node.size, "label": node.label,
                                  "params": params, "order": order})}


def _dense(block: dict, n_pre: int, n_post: int, scale: float | np.ndarray) -> np.ndarray:
    """The (n_post, n_pre) weight matrix of a synapse block times ``scale`` (a number, or
    one per target neuron); parallel synapses add up. float32 (the engine's weights) when
    unscaled, else float64."""
    scale = np.asarray(scale, dtype=np.float64)
    unscaled = scale.ndim == 0 and float(scale) == 1.0
    dtype = np.float32 if unscaled else np.float64
    weight = np.zeros((n_post, n_pre), dtype=dtype)
    pre = np.repeat(np.arange(n_pre), np.diff(block["rowptr"]))
    values = block["weights"].astype(dtype)
    if not unscaled:
        values = values * (scale if scale.ndim == 0 else scale[block["targets"]])
    np.add.at(weight, (block["targets"], pre), values)
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


def _add_bias(nodes: dict[str, Any], edges: list[tuple[str, str]], fresh: Any, source: str,
              node: Node, bias: np.ndarray) -> None:
    """Carry the bias of a population no projection reaches: an ``Affine`` of zero weights
    from the graph's first input (or port), so other tools drive it as SpikeStudio does.

    The importer reads it back as the population's i_offset (a path of zero weights makes
    no projection); from the self-driven port it is dropped with the port and the i_offset
    comes back from SpikeStudio's metadata.
    """
    nir = require_nir()

    width = int(np.prod(nodes[source].input_type["input"]))
    name = fresh(f"{node.id}_bias")
    nodes[name] = nir.Affine(weight=np.zeros((node.size, width), dtype=np.float32),
                             bias=bias, metadata={META_KEY: json.dumps({"kind": "bias"})})
    edges += [(source, name), (name, node.id)]


def _bias_carriers(project: Project) -> dict[str, str]:
    """Population id -> the projection whose NIR block carries its i_offset as a bias.

    NIR neurons have no bias; a constant input does the same, and trained graphs hold it as
    the bias of an ``Affine`` into the layer. The carrier is the first projection into the
    population without a delay (else the first); populations with i_offset = 0 or without
    an incoming projection have none.
    """
    carriers: dict[str, str] = {}
    for node in project.network.populations:
        if not np.any(np.asarray(_neuron_values(project, node).get("i_offset", 0.0)) != 0):
            continue
        incoming = [p for p in project.network.projections if p.target == node.id]
        undelayed = [p for p in incoming if p.delay_ms == 0]
        if incoming:
            carriers[node.id] = (undelayed or incoming)[0].id
    return carriers


def _add_port(nodes: dict[str, Any], edges: list[tuple[str, str]], fresh: Any,
              first: Node, bias: np.ndarray | None = None) -> str:
    """Give a self-driven network (no encoder) an input port of one channel.

    ``nir.read`` at its defaults (as Norse, snnTorch and Lava call it) infers types from the
    graph's ``Input`` nodes and refuses a graph without one. The port reaches the first
    population through a ``Linear`` of zero weights, so it changes nothing; both carry
    :data:`PORT` in their metadata and the importer drops them (SpikeStudio's metadata
    restores the population's i_offset). With ``bias`` (the first population's i_offset
    when no projection carries it) the ``Linear`` is an ``Affine`` with that bias, so other
    tools drive the population as SpikeStudio does. Returns the port's name.
    """
    nir = require_nir()

    meta = {META_KEY: json.dumps({"kind": PORT})}
    port, linear = fresh("input"), fresh(f"input_to_{first.id}")
    nodes[port] = nir.Input(input_type={"input": np.array([1])}, metadata=meta)
    weight = np.zeros((first.size, 1), dtype=np.float32)
    nodes[linear] = (nir.Linear(weight=weight, metadata=dict(meta)) if bias is None else
                     nir.Affine(weight=weight, bias=bias, metadata=dict(meta)))
    edges += [(port, linear), (linear, first.id)]
    return port


def to_nir(project: Project) -> tuple[Any, list[str]]:
    """The NIR graph of ``project`` and the warnings about what it could not hold.

    Raises
    ------
    SpikeStudioError
        For projects NIR cannot represent meaningfully (the message names the node), or
        whose dense weights would exceed :data:`MAX_DENSE_ENTRIES`.
    """
    nir = require_nir()

    from engine.core.build import check_memory, synapse_blocks

    _check_exportable(project)
    check_memory(project)
    net, sim = project.network, project.simulation
    dt_s = sim.dt_ms * 1e-3
    warnings: list[str] = []
    nodes: dict[str, Any] = {}
    edges: list[tuple[str, str]] = []
    order = {n.id: i for i, n in enumerate(net.nodes)}
    carriers = _bias_carriers(project)
    mapped: dict[str, _Mapped] = {}
    for node in net.nodes:
        if node.kind == "encoder":
            kind = "current" if node.model in CURRENT_ENCODERS else "spike"
            warnings.append(f"node {node.id!r}: NIR holds no input signal; other tools get an "
                            f"Input port of {node.size} channel(s) (the {node.model} {kind} "
                            f"input is kept in SpikeStudio's metadata)")
            nodes[node.id] = nir.Input(input_type={"input": np.array([node.size])},
                                       metadata=_node_meta(project, node, order[node.id]))
        elif node.kind == "population":
            mapped[node.id] = _NEURON_EXPORTS[node.model](project, node, dt_s, warnings)
            mapped[node.id].node.metadata = _node_meta(project, node, order[node.id])
            nodes[node.id] = mapped[node.id].node
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
        if src.model in CURRENT_ENCODERS and target_kind in ("CubaLIF", "CubaLI"):
            warnings.append(f"projection {p.id!r}: the current input {src.id!r} enters "
                            f"{tgt.id!r} directly in SpikeStudio, but NIR's CubaLIF filters "
                            f"every input through its synapse (tau_syn)")
        meta = {META_KEY: json.dumps({"id": p.id, "label": p.label, "order": j,
                                      "receptor": p.receptor})}
        linear = fresh(p.id)
        scale = (mapped[tgt.id].current_scale if src.model in CURRENT_ENCODERS
                 else mapped[tgt.id].spike_scale)
        weight = _dense(block, src.size, tgt.size, scale)
        if carriers.get(tgt.id) == p.id:  # the population's i_offset, as a constant input
            bias = _array(_neuron_values(project, tgt)["i_offset"], tgt.size) * \
                np.asarray(mapped[tgt.id].current_scale, dtype=np.float64)
            nodes[linear] = nir.Affine(weight=weight, bias=bias, metadata=meta)
        else:
            nodes[linear] = nir.Linear(weight=weight, metadata=meta)
        edges.append((src.id, linear))
        steps = _delay_steps(block, p, warnings, sim.dt_ms)
        if steps:
            delay = fresh(f"{p.id}_delay")
            nodes[delay] = nir.Delay(delay=_array(steps * dt_s, tgt.size))
            edges += [(linear, delay), (delay, tgt.id)]
        else:
            edges.append((linear, tgt.id))
    # Biases no projection carries come from the first input (or the port).
    unreached = {}
    for node in net.populations:
        bias = _array(_neuron_values(project, node)["i_offset"], node.size)
        if node.id not in carriers and np.any(bias != 0):
            unreached[node.id] = bias * np.asarray(mapped[node.id].current_scale, np.float64)
    port = net.encoders[0].id if net.encoders else None
    if not net.encoders and net.populations:
        first = net.populations[0]
        port = _add_port(nodes, edges, fresh, first, unreached.pop(first.id, None))
    for node in net.populations:
        if node.id in unreached and port is not None:
            _add_bias(nodes, edges, fresh, port, node, unreached[node.id])
    recorded = sim.record_spikes
    outputs = [n for n in net.populations if recorded == "all" or n.id in recorded]
    for node in outputs or net.populations:  # nothing recorded: NIR still needs an exit
        out = fresh(f"{node.id}_out")
        nodes[out] = nir.Output(output_type={"output": np.array([node.size])})
        edges.append((node.id, out))
    for node in net.monitors:
        warnings.append(f"node {node.id!r}: state monitors are not part of NIR (kept in "
                        f"SpikeStudio's metadata)")
    document = project.to_dict(inline_arrays=True)
    # "document" is the whole project: an import whose graph equals the export of this
    # document (nothing edited in another tool) restores it exactly, with what NIR cannot
    # hold (plasticity, per-synapse delays, connectivity rules); the other keys restore the
    # rest when the graph was edited.
    extra = {"version": META_VERSION, "name": project.name,
             "description": project.description, "simulation": document["simulation"],
             "monitors": [n for n in document["network"]["nodes"] if n["kind"] == "monitor"],
             "layout": document["layout"], "lab": project.lab, "document": document}
    metadata = {"source": "SpikeStudio", "time_unit": "s", "voltage_unit": "mV",
                "dt": dt_s, "conventions": CONVENTIONS, META_KEY: json.dumps(extra)}
    try:
        # Type checked as nir.read checks it at its defaults: every graph has an Input.
        graph = nir.NIRGraph(nodes=nodes, edges=edges, metadata=metadata)
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
    nir = require_nir()

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

