"""The network as the script exporters need it: what our engine builds, as plain arrays.

The Brian2, NEST and PyNN exporters (``engine/export/{brian2,nest,pynn}_script.py``) all
start from :func:`gather`, which builds the project with :func:`engine.core.build.build` (so the
drawn connectivity, weights, delays and initial potentials are exactly the ones our engine
simulates) and reads every input train from the built encoders (Poisson trains become fixed
spike lists, so another simulator sees the same input spikes). :func:`write_npz` writes it
as ``network.npz``, the one data file every exported script loads.

Units stay ours here (ms, mV, weights as R*I in mV); each exporter converts them for its
target and says how in the script it writes.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.core.build import build
from engine.core.per_neuron import resolve_neuron_params, shared_values
from engine.errors import SpikeStudioError
from engine.plasticity import PLASTICITY_RULES
from engine.plasticity import bounds as plasticity_bounds
from engine.project import Project, model_spec

#: The data file every exported script reads (next to the script).
DATA_FILE = "network.npz"


@dataclass
class Population:
    """A population of neurons: model parameters (ours, resolved) and initial state.

    ``params`` holds a float for a value the neurons share and a float64 array of length
    ``size`` for a per-neuron one (as our build resolved it: lists, drawn distributions and
    companion arrays alike). Every array in ``params`` except the initial state (in
    ``v_init``) is written to ``network.npz`` as ``<name>__<parameter>``; an exporter may add
    its own derived per-neuron constants to ``params`` before :func:`write_npz`.
    """

    id: str
    name: str                      # a Python identifier for the script
    model: str                     # a model the exporter accepts (see refuse_models)
    size: int
    params: dict
    v_init: np.ndarray             # mV, one per neuron (as drawn by our build)
    record: bool

    def varies(self, key: str) -> bool:
        """Whether parameter ``key`` has a value per neuron."""
        return isinstance(self.params.get(key), np.ndarray)

    def code(self, key: str) -> str:
        """Script code for parameter ``key``: a literal for a shared value, the array of
        ``network.npz`` (``data["<name>__<key>"]``) for a per-neuron one. The script reads
        values as data: no project text becomes code."""
        return f'data["{self.name}__{key}"]' if self.varies(key) else fmt(self.params[key])


@dataclass
class SpikeInput:
    """A spike encoder, as the explicit spike trains our engine generated for this run."""

    id: str
    name: str
    model: str
    size: int
    times_ms: np.ndarray           # float64, on the dt grid, sorted
    neurons: np.ndarray            # int64, the neuron of each spike


@dataclass
class CurrentInput:
    """A current encoder: a piecewise-constant amplitude and a gain per target neuron."""

    id: str
    name: str
    model: str
    times_ms: np.ndarray           # amplitude[j] holds from times_ms[j] on (times_ms[0] == 0)
    amplitudes: np.ndarray         # mV (R*I)
    gains: dict[str, np.ndarray] = field(default_factory=dict)  # population name -> gain


@dataclass
class Connection:
    """A projection between spiking nodes, synapse by synapse."""

    id: str
    name: str
    source: str                    # node name
    target: str                    # population name
    receptor: str                  # "exc" | "inh"
    pre: np.ndarray                # int64
    post: np.ndarray               # int64
    weight: np.ndarray             # float64 mV (our float32 values, exactly)
    delay_ms: np.ndarray           # float64, on the dt grid
    plasticity: dict | None        # resolved rule parameters (with "rule") or None

    @property
    def uniform_delay(self) -> float | None:
        """The delay shared by every synapse, or None when they differ."""
        if self.delay_ms.size == 0:
            return 0.0
        first = float(self.delay_ms[0])
        return first if np.all(self.delay_ms == first) else None


@dataclass
class NetworkData:
    """Everything an exported script needs, in our units."""

    project_name: str
    dt_ms: float
    duration_ms: float
    seed: int
    populations: list[Population]
    spike_inputs: list[SpikeInput]
    current_inputs: list[CurrentInput]
    connections: list[Connection]
    warnings: list[str] = field(default_factory=list)

    def population(self, name: str) -> Population:
        return next(p for p in self.populations if p.name == name)

    def is_spike_input(self, name: str) -> bool:
        return any(s.name == name for s in self.spike_inputs)

    def incoming(self, population: str) -> list[Connection]:
        return [c for c in self.connections if c.target == population]


def script_names(ids: list[str]) -> dict[str, str]:
    """A distinct Python identifier for each node / projection id (for scripts and npz keys)."""
    names: dict[str, str] = {}
    taken: set[str] = set()
    for node_id in ids:
        base = re.sub(r"\W", "_", node_id.encode("ascii", "replace").decode()) or "node"
        if base[0].isdigit() or keyword.iskeyword(base):
            base = f"n_{base}"
        name, i = base, 2
        while name in taken:
            name, i = f"{base}_{i}", i + 1
        taken.add(name)
        names[node_id] = name
    return names


def refuse_models(project: Project, target: str, missing: dict[str, str]) -> None:
    """Refuse a project with a population whose model the ``target`` script cannot run.

    Parameters
    ----------
    project
        The project to export.
    target
        The tool, for the message ("NEST").
    missing
        Model name -> why the script has no such neuron (said in the message).

    Raises
    ------
    SpikeStudioError
        Naming the first such population, its model and the reason.
    """
    for node in project.network.populations:
        if node.model in missing:
            title = model_spec("population", node.model).title
            raise SpikeStudioError(f"population {node.id!r}: the {target} script has no "
                                   f"{title} neuron: {missing[node.model]}")


#: The initial state: every script sets each neuron's v from ``<name>__v_init``.
INITIAL_STATE = frozenset({"v_init", "v_init_spread"})


def on_grid(t_ref: float | np.ndarray, dt: float) -> float | np.ndarray:
    """The refractory period our engine applies: ``round(t_ref / dt)`` whole steps (a
    value off the grid, as a distribution draws, would be floored or rounded otherwise by
    the other tools)."""
    steps = np.round(np.asarray(t_ref) / dt)
    snapped = np.where(np.isclose(t_ref, steps * dt, rtol=0, atol=1e-9 * dt), t_ref,
                       steps * dt)
    return snapped if isinstance(t_ref, np.ndarray) else float(snapped)


def gather(project: Project) -> NetworkData:
    """Build ``project`` with our engine and collect populations, inputs and synapses.

    Warnings for what no script carries (state monitors, the teaching rule) are collected in
    :attr:`NetworkData.warnings`; each exporter adds its target's own.
    """
    net, sim = project.network, project.simulation
    compiled = build(project)
    dt = sim.dt_ms
    names = script_names([n.id for n in net.nodes] + [p.id for p in net.projections])
    warnings = [f"state monitor {m.id!r} is not exported: the scripts record spikes only"
                for m in net.monitors]
    starts = compiled.node_start
    index = {node_id: i for i, node_id in enumerate(compiled.node_ids)}
    pops, spikes, currents = [], [], []
    for node in net.nodes:
        if node.kind == "monitor":
            continue
        i = index[node.id]
        lo, hi = int(starts[i]), int(starts[i + 1])
        if node.kind == "population":
            values = shared_values(resolve_neuron_params(project, node))
            if "t_ref" in values:
                values["t_ref"] = on_grid(values["t_ref"], dt)
            pops.append(Population(node.id, names[node.id], node.model, node.size,
                                   values, compiled.initial_v[lo:hi].copy(),
                                   bool(compiled.node_record[i])))
        elif i in compiled.spike_sources:
            k, neuron = compiled.spike_sources[i].events(0, compiled.n_steps + 1)
            spikes.append(SpikeInput(node.id, names[node.id], node.model, node.size,
                                     k.astype(np.float64) * dt, neuron.astype(np.int64)))
        else:
            schedule = compiled.current_sources[i]
            row = compiled.current_nodes.index(i)
            gains = {}
            for p in net.projections:
                if p.source == node.id and names[p.target] not in gains:
                    t = index[p.target]
                    gains[names[p.target]] = compiled.current_gain[
                        row, starts[t]:starts[t + 1]].copy()
            currents.append(CurrentInput(node.id, names[node.id], node.model,
                                         schedule.change_k.astype(np.float64) * dt,
                                         schedule.amplitude.copy(), gains))
    conns = []
    for b, pid in enumerate(compiled.proj_ids):
        p = net.projection(pid)
        n_pre = net.node(p.source).size
        row0 = compiled.proj_row_off[b]
        rowptr = compiled.rowptr[row0:row0 + n_pre + 1] - compiled.rowptr[row0]
        lo, hi = compiled.proj_syn_off[b], compiled.proj_syn_off[b + 1]
        if compiled.proj_delay[b] >= 0:
            delay = np.full(hi - lo, compiled.proj_delay[b] * dt)
        else:
            d0 = compiled.proj_dsyn_off[b]
            delay = compiled.syn_delay[d0:d0 + hi - lo].astype(np.float64) * dt
        plasticity = None
        if p.plasticity:
            spec = PLASTICITY_RULES[p.plasticity["rule"]]
            plasticity = {"rule": spec.name,
                          **spec.resolve({k: v for k, v in p.plasticity.items()
                                          if k != "rule"})}
            plasticity["w_min"], plasticity["w_max"] = plasticity_bounds(p.plasticity)
            if spec.name == "teaching":
                warnings.append(f"projection {pid!r}: the teaching rule is not exported "
                                "(no other simulator has it); its synapses are static")
                plasticity = None
        conns.append(Connection(
            pid, names[pid], names[p.source], names[p.target], p.receptor,
            np.repeat(np.arange(n_pre, dtype=np.int64), np.diff(rowptr)),
            compiled.syn_post[lo:hi].astype(np.int64),
            compiled.syn_weight[lo:hi].astype(np.float64), delay, plasticity))
    return NetworkData(project.name, dt, sim.duration_ms, sim.seed, pops, spikes, currents,
                       conns, warnings)


def npz_arrays(data: NetworkData) -> dict[str, np.ndarray]:
    """The arrays of ``network.npz``, keyed ``<name>__<field>`` (see the scripts' headers)."""
    out: dict[str, np.ndarray] = {}
    for p in data.populations:
        out[f"{p.name}__v_init"] = p.v_init
        for key, value in p.params.items():
            if isinstance(value, np.ndarray) and key not in INITIAL_STATE:
                out[f"{p.name}__{key}"] = value
    for s in data.spike_inputs:
        out[f"{s.name}__times_ms"] = s.times_ms
        out[f"{s.name}__neurons"] = s.neurons
    for c in data.current_inputs:
        out[f"{c.name}__times_ms"] = c.times_ms
        out[f"{c.name}__amplitudes"] = c.amplitudes
        for target, gain in c.gains.items():
            out[f"{c.name}__gain__{target}"] = gain
    for c in data.connections:
        out[f"{c.name}__pre"] = c.pre
        out[f"{c.name}__post"] = c.post
        out[f"{c.name}__weight"] = c.weight
        out[f"{c.name}__delay_ms"] = c.delay_ms
    return out


def write_npz(data: NetworkData, out_dir: Path) -> Path:
    """Write ``network.npz`` into ``out_dir`` (created if needed); returns its path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / DATA_FILE
    np.savez_compressed(path, **npz_arrays(data))
    return path


def fmt(value: float) -> str:
    """A float as the shortest literal that reads back exactly (``repr``)."""
    return repr(float(value))


#: Shared end of every script: spikes.csv next to the script, sorted by time.
WRITE_SPIKES = '''
def write_spikes(rows):
    """Write spikes.csv (time_ms,population,neuron) next to this script, sorted by time."""
    times = np.concatenate([np.asarray(t, float) for t, _, _ in rows] + [np.zeros(0)])
    neurons = np.concatenate([np.asarray(i, int) for _, _, i in rows] + [np.zeros(0, int)])
    labels = np.concatenate([np.full(len(t), name, dtype=object) for t, name, _ in rows]
                            + [np.zeros(0, object)])
    order = np.lexsort((neurons, times))
    with open(HERE / "spikes.csv", "w") as f:
        f.write("time_ms,population,neuron\\n")
        for j in order:
            f.write(f"{times[j]:.6g},{labels[j]},{neurons[j]}\\n")
'''


def header(data: NetworkData, tool: str, run: str, extra: str) -> str:
    """The docstring and imports shared by every script."""
    return f'''"""{data.project_name}: exported from SpikeStudio to run in {tool}.

Run:  {run}
Writes spikes.csv (time_ms,population,neuron) next to this script.

The network is the one SpikeStudio built: every synapse with its weight and delay, the
initial membrane potentials, the parameters that differ between neurons and every input
spike train are read from network.npz (Poisson inputs are the trains SpikeStudio drew for
seed {data.seed}), so both runs see the same network and the same input. Arrays in
network.npz are named <node>__<field>.

SpikeStudio's units: times in ms, voltages in mV; input currents and synaptic weights are
given as R*I in mV (the depolarisation they would hold at steady state), i.e. with a
membrane resistance R = 1.
{extra}"""

from pathlib import Path

import numpy as np
'''
