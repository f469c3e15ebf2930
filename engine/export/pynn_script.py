"""``--to pynn``: a runnable PyNN 0.13 script (``run_pynn.py``) plus ``network.npz``.

The script runs on ``pyNN.nest`` or ``pyNN.brian2`` (``python run_pynn.py nest|brian2``).
Units: PyNN takes currents and current-based weights in nA and capacitances in nF. With
``cm = tau_m`` (nF, the number of ms) the membrane resistance is 1 MOhm and x mV of R*I is
x nA: ``IF_curr_exp`` then has our LIF's dynamics. PyNN's ``Izhikevich`` takes its current in
nA for a 1 pF membrane (x of our units is x / 1000 nA) and, like NEST's, has delta synapses
(weight * tau_syn / 1000 nA, an approximation with a warning); its threshold is fixed at
30 mV. Current inputs are piecewise constant: the run is cut where they change and
``i_offset`` is set for the next piece (on NEST one step early: pyNN.nest runs NEST one
min_delay ahead of the time it reports). On NEST the spikes are ours. On
``pyNN.brian2`` input trains are sent one step early (Brian2 lets an input spike act one
step after its time) and the refractory period is one dt longer (Brian2 counts it from the
start of the spike's step): every spike is then ours minus one dt, Brian2's label.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.export import ExportReport
from engine.export.nest_script import nest_warnings, tau_syn_code
from engine.export.network_data import (
    WRITE_SPIKES,
    Connection,
    NetworkData,
    Population,
    fmt,
    gather,
    header,
    refuse_models,
    write_npz,
)
from engine.project import Project

SCRIPT = "run_pynn.py"
#: Our neuron models PyNN's standard cells have no exact counterpart for, and why.
MISSING_MODELS = {
    "if": "PyNN has no non-leaky integrate-and-fire cell (IF_curr_exp always leaks)",
    "adaptive_lif": "PyNN's standard cells have no LIF whose threshold jumps at each spike "
                    "and decays while v is reset",
}

#: Parameters pyNN.brian2 keeps one value of per population, and why: a script with such a
#: parameter per neuron stops on brian2 with :func:`brian2_refusal` (and the export warns).
PYNN_BRIAN2_SHARED = {
    "t_ref": "it has one refractory period per population",
    "c": "its Izhikevich cell resets every neuron to the first neuron's c",
    "d": "its Izhikevich cell adds the first neuron's d to u at every spike",
}


def brian2_refusal(population: str, parameter: str) -> str:
    """The message for a per-neuron ``parameter`` pyNN.brian2 cannot hold."""
    return (f"population {population!r}: parameter {parameter!r} has a value per neuron, "
            f"which pyNN.brian2 cannot hold ({PYNN_BRIAN2_SHARED[parameter]}); run the "
            f"script with nest, or give {parameter} one value")


_EXTRA = """
PyNN units: currents and current-based weights in nA, capacitances in nF. With cm = tau_m
(nF, the number of ms) the membrane resistance is 1 MOhm, so x mV of R*I is x nA.
NEST labels spikes as SpikeStudio does; Brian2 one dt earlier.
"""


def export(project: Project, out: Path) -> ExportReport:
    """Write ``out/run_pynn.py`` and ``out/network.npz`` for ``project``."""
    refuse_models(project, "PyNN", MISSING_MODELS)
    data = gather(project)
    warnings = list(data.warnings) + nest_warnings(data)
    for p in data.populations:
        if p.model == "izhikevich" and np.any(np.asarray(p.params["v_peak"]) != 30.0):
            peak = ("per neuron" if p.varies("v_peak")
                    else f"= {fmt(p.params['v_peak'])} mV")
            warnings.append(f"population {p.id!r}: PyNN's Izhikevich fires at 30 mV, not at "
                            f"v_peak {peak}")
    warnings += [brian2_refusal(p.id, name) for p in data.populations
                 for name in PYNN_BRIAN2_SHARED if p.varies(name)]
    for s in data.spike_inputs:
        if s.times_ms.size and s.times_ms[0] < 2 * data.dt_ms:
            warnings.append(f"input {s.id!r}: pyNN.nest sends no spike before two steps "
                            f"(earlier spikes are sent at {fmt(2 * data.dt_ms)} ms); on "
                            "pyNN.brian2 spikes at 0 ms act one step late")
    for c in data.connections:
        if c.plasticity and c.plasticity["pairing"] == "nearest":
            warnings.append(f"projection {c.id!r}: PyNN's SpikePairRule pairs all spikes; "
                            "nearest pairing is not exported")
    npz = write_npz(data, out)
    script = out / SCRIPT
    script.write_text(_script(data))
    return ExportReport([script, npz], warnings)


def _script(data: NetworkData) -> str:
    parts = [header(data, "PyNN 0.13 (pyNN.nest or pyNN.brian2)",
                    f"python {SCRIPT} [nest|brian2]", _EXTRA),
             "import importlib", "import sys\n",
             "HERE = Path(__file__).resolve().parent",
             'data = np.load(HERE / "network.npz")',
             'BACKEND = sys.argv[1] if len(sys.argv) > 1 else "nest"',
             'sim = importlib.import_module(f"pyNN.{BACKEND}")',
             f"DT = {fmt(data.dt_ms)}  # ms",
             f"DURATION = {fmt(data.duration_ms)}  # ms",
             "if BACKEND == \"nest\":  # spikes on the time grid, as SpikeStudio",
             "    sim.setup(timestep=DT, min_delay=DT, spike_precision=\"on_grid\")",
             "else:  # numpy code generation: no compiler needed",
             "    import brian2",
             "    brian2.prefs.codegen.target = \"numpy\"",
             "    sim.setup(timestep=DT, min_delay=DT)",
             "# SpikeStudio clamps v for t_ref after the step that ends with the spike; Brian2",
             "# counts from the step's start (one dt earlier), NEST as SpikeStudio.",
             'T_REF_EXTRA = DT if BACKEND == "brian2" else 0.0\n', WRITE_SPIKES]
    for p in data.populations:
        parts.append(_population(p))
    for s in data.spike_inputs:
        parts.append(f'''
# ---------------------------------------------------------------- input {s.id!r} ({s.model})
# The spike trains SpikeStudio generated. pyNN.nest relays them through parrot neurons
# (one step), so its earliest spike is at 2 DT; earlier ones are moved there. Brian2 lets
# an input spike act one step after its time (SpikeStudio: in its step), so on brian2 the
# trains are sent one step early (a spike at 0 ms cannot be, and acts one step late).
times = data["{s.name}__times_ms"]
times = np.maximum(times, 2 * DT) if BACKEND == "nest" else np.maximum(times - DT, 0.0)
neurons = data["{s.name}__neurons"]
{s.name} = sim.Population({s.size}, sim.SpikeSourceArray(
    spike_times=[sim.Sequence(times[neurons == i]) for i in range({s.size})]),
    label="{s.id}")''')
    for c in data.connections:
        parts.append(_connection(c, data))
    parts.append(_run(data))
    return "\n".join(parts) + "\n"


def _population(p: Population) -> str:
    # A per-neuron value is an array from network.npz (PyNN takes one value per cell).
    if p.model == "lif":
        cell = f'''sim.IF_curr_exp(
    cm={p.code("tau_m")},              # nF = tau_m: R = 1 MOhm, so 1 nA = 1 mV of R*I
    tau_m={p.code("tau_m")},           # ms
    v_rest={p.code("v_rest")},         # mV
    v_reset={p.code("v_reset")},       # mV
    v_thresh={p.code("v_thresh")},     # mV
    tau_refrac={p.code("t_ref")} + T_REF_EXTRA,  # ms
    tau_syn_E={p.code("tau_syn_exc")},  # ms
    tau_syn_I={p.code("tau_syn_inh")},  # ms
    i_offset={p.code("i_offset")},     # nA (bias)
)'''
        init = ""
    elif p.model == "li":
        cell = f'''sim.IF_curr_exp(  # a leaky integrator: a threshold out of reach, never spikes
    cm={p.code("tau_m")},              # nF = tau_m: R = 1 MOhm, so 1 nA = 1 mV of R*I
    tau_m={p.code("tau_m")},           # ms
    v_rest={p.code("v_rest")},         # mV
    v_reset={p.code("v_rest")},        # mV (never used)
    v_thresh=1e30,                     # never reached
    tau_syn_E={p.code("tau_syn_exc")},  # ms
    tau_syn_I={p.code("tau_syn_inh")},  # ms
    i_offset={p.code("i_offset")},     # nA (bias)
)'''
        init = ""
    else:
        cell = f'''sim.Izhikevich(
    a={p.code("a")}, b={p.code("b")}, c={p.code("c")}, d={p.code("d")},
    i_offset={p.code("i_offset")} / 1000,  # nA into 1 pF: our current units / 1000
)'''
        init = f', u={p.code("b")} * data["{p.name}__v_init"]'
    refuse = "".join(f'''
if BACKEND == "brian2":  # {why}
    sys.exit({brian2_refusal(p.id, name)!r})''' for name, why in PYNN_BRIAN2_SHARED.items()
                     if p.varies(name))
    return f'''
# ---------------------------------------------------------------- population {p.id!r}{refuse}
{p.name} = sim.Population({p.size}, {cell}, label="{p.id}")
{p.name}.initialize(v=data["{p.name}__v_init"]{init})'''


def _connection(c: Connection, data: NetworkData) -> str:
    target = data.population(c.target)
    receptor = "excitatory" if c.receptor == "exc" else "inhibitory"
    weight = f'data["{c.name}__weight"]'
    note = "nA = mV of R*I (negative: inhibitory)"
    if target.model == "izhikevich":
        weight += f" * {tau_syn_code(target, c)} / 1000"
        note = "delta synapse: weight * tau_syn (ms) / 1000 nA"
    lines = [f'''
# ---------------------------------------------------------------- projection {c.id!r}
# {c.source} -> {c.target}: {c.pre.size} synapses as a list (pre, post, weight, delay).
connections = np.column_stack([
    data["{c.name}__pre"], data["{c.name}__post"],
    {weight},  # {note}
    np.maximum(data["{c.name}__delay_ms"], DT),  # ms; the minimum delay is one step
])''']
    synapse = "sim.StaticSynapse()"
    if c.plasticity:
        r = c.plasticity
        dependence = ("MultiplicativeWeightDependence" if r["bounds"] == "multiplicative"
                      else "AdditiveWeightDependence")
        lines.append(f'''# Pair-based STDP; PyNN's amplitudes are fractions of w_max.
stdp_{c.name} = sim.STDPMechanism(
    timing_dependence=sim.SpikePairRule(
        tau_plus={fmt(r["tau_plus"])}, tau_minus={fmt(r["tau_minus"])},
        A_plus={fmt(r["a_plus"] / r["w_max"])}, A_minus={fmt(r["a_minus"] / r["w_max"])}),
    weight_dependence=sim.{dependence}(w_min={fmt(r["w_min"])}, w_max={fmt(r["w_max"])}),
    weight={fmt(r["w_min"])}, delay=DT)''')
        synapse = f"stdp_{c.name}"
    lines.append(f'''{c.name} = sim.Projection({c.source}, {c.target},
                        sim.FromListConnector(connections, column_names=["weight", "delay"]),
                        synapse_type={synapse}, receptor_type="{receptor}",
                        label="{c.id}")''')
    return "\n".join(lines)


def _run(data: NetworkData) -> str:
    pops = [p for p in data.populations if p.record]
    plastic = [c for c in data.connections if c.plasticity]
    lines = ["\n# ---------------------------------------------------------------- run"]
    readouts = [p for p in data.populations if p.model == "li"]
    lines += [f'{p.name}.record("spikes")' for p in pops]
    lines += [f'{p.name}.record("v", sampling_interval=DT)' for p in readouts]
    if data.current_inputs:
        lines.append('''# Current inputs are piecewise constant: the run is cut where they change
# and each target's i_offset (nA = mV; Izhikevich / 1000) is set for the next piece.
# pyNN.nest keeps NEST one min_delay (DT) ahead of the time it reports, so a value set
# after run_until(t) would act from t + DT: on NEST each piece stops one step early.
AHEAD = DT if BACKEND == "nest" else 0.0


def level(name, t):
    """Amplitude of current input ``name`` from time t on."""
    times, amplitudes = data[name + "__times_ms"], data[name + "__amplitudes"]
    return amplitudes[np.searchsorted(times, t + 1e-9, side="right") - 1]


changes = sorted({0.0, DURATION} | {float(t) for name in %r
                                     for t in data[name + "__times_ms"] if t < DURATION})
for start, stop in zip(changes[:-1], changes[1:]):''' % [c.name for c in data.current_inputs])
        for p in data.populations:
            inputs = [c for c in data.current_inputs if p.name in c.gains]
            if inputs:
                scale = " / 1000" if p.model == "izhikevich" else ""
                terms = " + ".join(f'level("{c.name}", start) * data["{c.name}__gain__{p.name}"]'
                                   for c in inputs)
                lines.append(f"    {p.name}.set(i_offset=({p.code('i_offset')} + "
                             f"{terms}){scale})")
        lines.append("    sim.run_until(stop - AHEAD if stop < DURATION else DURATION)")
    else:
        lines.append("sim.run(DURATION)")
    rows = []
    for p in pops:
        lines.append(f"trains_{p.name} = {p.name}.get_data().segments[0].spiketrains")
        rows.append(f'(np.concatenate([np.asarray(s.magnitude) for s in trains_{p.name}]), '
                    f'"{p.id}", np.concatenate([np.full(len(s), s.annotations["source_index"]) '
                    f'for s in trains_{p.name}]))')
    lines.append(f"write_spikes([{', '.join(rows)}])")
    for p in readouts:
        lines.append(f"# v of the readout {p.id!r}: one row per sample, one column per neuron")
        lines.append(f"signal = {p.name}.get_data().segments[0].filter(name='v')[0]")
        lines.append(f'with open(HERE / "readout_{p.id}.csv", "w") as f:')
        lines.append(f'    f.write("time_ms," + ",".join(f"v{{i}}" for i in range({p.size})) '
                     f'+ "\\n")')
        lines.append("    for t, row in zip(signal.times.rescale('ms').magnitude, "
                     "signal.magnitude):")
        lines.append('        f.write(f"{t:.6g}," + ",".join(f"{x:.9g}" for x in row) + "\\n")')
    if plastic:
        lines.append('with open(HERE / "final_weights.csv", "w") as f:  # nA = mV')
        lines.append('    f.write("projection,pre,post,weight_mV\\n")')
        for c in plastic:
            lines.append(f'    for i, j, w in {c.name}.get("weight", format="list"):')
            lines.append(f'        f.write(f"{c.id},{{int(i)}},{{int(j)}},{{w:.9g}}\\n")')
    lines.append("sim.end()")
    return "\n".join(lines)
