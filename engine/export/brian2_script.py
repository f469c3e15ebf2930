"""``--to brian2``: a runnable Brian2 script (``run_brian2.py``) plus ``network.npz``.

The script reproduces our engine step by step (tests/test_export_scripts.py checks it spike
for spike):

- LIF: the same linear ODEs, integrated exactly (``method="exact"``). Our refractory clamp
  holds v for round(t_ref/dt) steps *after* the spike step; Brian2 counts from its own spike
  label, one step earlier, so the script uses ``refractory = t_ref + dt``.
- Adaptive LIF: the LIF plus the threshold's rise theta (exact decay, even while v is
  held; += delta_thresh at each spike, after the comparison with v_thresh + theta).
- Leaky integrator (readout): the LIF's equations without threshold; its v is written to
  ``readout_<id>.csv`` (recorded at the end of each step).
- IF (non-leaky): the LIF's equations without the leak, exact; reset to v_reset or, with
  ``reset_mode = "subtract"``, lowered by v_thresh - v_reset.
- Izhikevich: forward Euler for v and u (as ours); the synaptic currents decay exactly
  (multiplied by exp(-dt/tau) after each step, a ``run_regularly`` operation).
- Input spikes act on the membrane from the step in which they arrive (ours): their
  generators and synapses run in the ``before_groups`` slot.
- Brian2 labels a spike at the start of the step in which v crossed threshold, we at its end:
  the script's spike times are ours minus dt (written as Brian2 reports them).
- STDP: our pair-based rule written out in ``on_pre`` / ``on_post`` (the pre spike timed at
  its arrival, post spikes without delay).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.core.per_neuron import shared_values
from engine.errors import SpikeStudioError
from engine.export import ExportReport
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

SCRIPT = "run_brian2.py"
#: Our neuron models the Brian2 script does not write yet, and why (refused by name).
MISSING_MODELS = {
}

_LIF_EQS = '''"""
    dv/dt = (v_rest - v + I_ext + I_exc + I_inh) / tau_m : volt (unless refractory)
    dI_exc/dt = -I_exc / tau_syn_exc : volt
    dI_inh/dt = -I_inh / tau_syn_inh : volt
    I_ext : volt  # bias and current inputs (R*I)
    """'''
_LI_EQS = _LIF_EQS.replace(" (unless refractory)", "")
_IF_EQS = '''"""
    v : volt  # stepped exactly by a run_regularly operation (see _if_population)
    dI_exc/dt = -I_exc / tau_syn_exc : volt
    dI_inh/dt = -I_inh / tau_syn_inh : volt
    I_ext : volt  # bias and current inputs (R*I)
    """'''
_IZH_EQS = '''"""
    dv/dt = (0.04 / mV * v**2 + 5 * v + 140 * mV - u + I_ext + I_exc + I_inh) / ms : volt
    du/dt = a * (b * v - u) / ms : volt
    I_exc : volt  # synaptic currents: decayed exactly after each step (run_regularly)
    I_inh : volt
    I_ext : volt
    """'''


def export(project: Project, out: Path) -> ExportReport:
    """Write ``out/run_brian2.py`` and ``out/network.npz`` for ``project``."""
    refuse_models(project, "Brian2", MISSING_MODELS)
    data = gather(project)
    warnings = list(data.warnings)
    for p in data.populations:
        delta = [k for k in ("tau_syn_exc", "tau_syn_inh")
                 if k in p.params and np.any(np.asarray(p.params[k]) == 0)]
        if delta:
            raise SpikeStudioError(f"population {p.id!r}: {delta[0]} = 0 (delta synapses) "
                                   f"is not written for Brian2 yet; give it a synaptic time "
                                   f"constant > 0 to export")
        if p.model in ("lif", "adaptive_lif"):
            for key in ("tau_syn_exc", "tau_syn_inh"):
                tau, tau_m = p.params[key], p.params["tau_m"]
                if np.any(np.abs(tau - tau_m) < 1e-9 * tau_m):
                    warnings.append(f"population {p.id!r}: {key} equals tau_m, which Brian2's "
                                    "exact solver cannot integrate; the script lengthens "
                                    f"{key} by 1e-6 ms")
        _script_constants(p, data.dt_ms)
    npz = write_npz(data, out)
    script = out / SCRIPT
    script.write_text(_script(data))
    return ExportReport([script, npz], warnings)


def _script(data: NetworkData) -> str:
    dt = data.dt_ms
    parts = [header(data, "Brian2 (2.9)", f"python {SCRIPT} [numpy|cython]", _EXTRA),
             "import sys\n", "import brian2 as b2",
             "from brian2 import ms, mV\n",
             "# Code generation: numpy needs no compiler (short runs); cython is faster for long",
             "# runs after a first compilation: python run_brian2.py cython",
             'b2.prefs.codegen.target = sys.argv[1] if len(sys.argv) > 1 else "numpy"',
             'HERE = Path(__file__).resolve().parent',
             'data = np.load(HERE / "network.npz")',
             f"b2.defaultclock.dt = {fmt(dt)} * ms",
             f"DURATION = {fmt(data.duration_ms)} * ms",
             "objects = []  # everything the Network will run\n", WRITE_SPIKES]
    for c in data.current_inputs:
        parts.append(_current_input(c))
    for p in data.populations:
        parts.append(_population(p, data))
    for s in data.spike_inputs:
        parts.append(f'''
# ---------------------------------------------------------------- input {s.id!r} ({s.model})
# The spike trains SpikeStudio generated. Input spikes act on the membrane from the step in
# which they arrive: the generator and its synapses run before the neurons' update.
{s.name} = b2.SpikeGeneratorGroup({s.size}, data["{s.name}__neurons"],
                                data["{s.name}__times_ms"] * ms, when="before_groups",
                                name="{s.name}")
objects.append({s.name})''')
    for c in data.connections:
        parts.append(_connection(c, data))
    parts.append(_run(data))
    return "\n".join(parts) + "\n"


_EXTRA = """
Brian2 labels a spike at the start of the time step in which v crossed threshold;
SpikeStudio (and NEST) at its end: spike times here are SpikeStudio's minus one dt.
"""


#: Brian2 unit of each neuron constant a script declares: (equation unit, unit in code).
_UNITS = {
    "tau_m": ("second", "ms"), "tau_syn_exc": ("second", "ms"),
    "tau_syn_inh": ("second", "ms"), "tau_adapt": ("second", "ms"), "t_hold": ("second", "ms"),
    "v_rest": ("volt", "mV"), "v_reset": ("volt", "mV"), "v_thresh": ("volt", "mV"),
    "delta_thresh": ("volt", "mV"), "i_offset": ("volt", "mV"), "c": ("volt", "mV"),
    "d": ("volt", "mV"), "v_peak": ("volt", "mV"),
    "a": ("1", ""), "b": ("1", ""), "decay_exc": ("1", ""), "decay_inh": ("1", ""),
    "k_ext": ("1", ""), "k_exc": ("1", ""), "k_inh": ("1", ""),
}

#: The constants each model's equations, threshold, reset and operations read.
_CONSTANTS = {
    "lif": ("tau_m", "v_rest", "v_reset", "v_thresh", "t_hold", "tau_syn_exc",
            "tau_syn_inh", "i_offset"),
    "li": ("tau_m", "v_rest", "tau_syn_exc", "tau_syn_inh", "i_offset"),
    "if": ("v_reset", "v_thresh", "t_hold", "tau_syn_exc", "tau_syn_inh", "k_ext", "k_exc",
           "k_inh", "i_offset"),
    "izhikevich": ("a", "b", "c", "d", "v_peak", "decay_exc", "decay_inh", "i_offset"),
}
_CONSTANTS["adaptive_lif"] = _CONSTANTS["lif"] + ("tau_adapt", "delta_thresh")


def _script_constants(p: Population, dt: float) -> None:
    """Add to ``p.params`` the constants the script uses that are not ours (elementwise:
    each is a number or, if a parameter it comes from varies, one value per neuron)."""
    v0, v = p.params, dict(p.params)
    if p.model in ("lif", "adaptive_lif"):
        # Brian2's exact solver cannot integrate tau_syn == tau_m: lengthen it by 1e-6 ms.
        for key in ("tau_syn_exc", "tau_syn_inh"):
            same = np.abs(v0[key] - v0["tau_m"]) < 1e-9 * v0["tau_m"]
            v[key] = np.where(same, v0[key] + 1e-6, v0[key])
    if "t_ref" in v:
        # We hold v for t_ref after the step that ends with the spike; Brian2 counts the
        # refractory period from the step's start, one dt earlier.
        v["t_hold"] = v0["t_ref"] + dt
    if p.model == "izhikevich":
        for key in ("exc", "inh"):
            v[f"decay_{key}"] = np.exp(-dt / v0[f"tau_syn_{key}"])
    if p.model == "if":
        v["k_ext"] = dt / v0["tau_m"]
        for key in ("exc", "inh"):
            tau = v0[f"tau_syn_{key}"]
            v[f"k_{key}"] = tau / v0["tau_m"] * (1.0 - np.exp(-dt / tau))
    # np.where / np.exp of numbers give numpy scalars, and a shared tau_syn next to a
    # per-neuron tau_m an array of one value: back to floats.
    p.params = shared_values({k: float(x) if isinstance(x, np.generic | np.ndarray)
                              and np.ndim(x) == 0 else x for k, x in v.items()})


def _constants(p: Population) -> tuple[str, str, str]:
    """(equation lines, namespace, assignments) of the constants of ``p``'s model: a shared
    value is a namespace constant, a per-neuron one a per-neuron variable of the group set
    from network.npz."""
    eqs, ns, code = "", [], ""
    for name in _CONSTANTS[p.model]:
        unit, scale = _UNITS[name]
        times = f" * {scale}" if scale else ""
        if p.varies(name):
            eqs += f"    {name} : {unit} (constant)  # per neuron\n"
            code += f'{p.name}.{name} = data["{p.name}__{name}"]{times}\n'
        else:
            ns.append(f"{name}={fmt(p.params[name])}{times}")
    return eqs, ",\n        ".join(ns), code


def _population(p: Population, data: NetworkData) -> str:
    eqs, ns, currents = _currents(p, data)
    const_eqs, names, assign = _constants(p)
    eqs = const_eqs + eqs
    entries = ",\n        ".join(x for x in (names, ns) if x)
    namespace = f"namespace=dict(\n        {entries}))"  # and the NeuronGroup's ")"
    head = ("\n# ---------------------------------------------------------------- "
            f"population {p.id!r}")
    init = f'{p.name}.v = data["{p.name}__v_init"] * mV\n{assign}'
    init += f"{p.name}.I_ext = {p.code('i_offset')} * mV  # i_offset\n"
    if p.model in ("lif", "adaptive_lif"):
        adaptive = p.model == "adaptive_lif"
        what = ("leaky integrate-and-fire neurons whose threshold v_thresh + theta jumps by "
                "delta_thresh at each spike and decays with tau_adapt (theta decays while v "
                "is held)" if adaptive else "leaky integrate-and-fire neurons")
        if adaptive:
            eqs = "    dtheta/dt = -theta / tau_adapt : volt\n" + eqs
        threshold = "v >= v_thresh + theta" if adaptive else "v >= v_thresh"
        reset = "v = v_reset; theta += delta_thresh" if adaptive else "v = v_reset"
        return head + f'''
# {p.size} {what} with exponential current synapses.
{p.name} = b2.NeuronGroup(
    {p.size}, {_LIF_EQS[:-3] + eqs.lstrip() + '    """'},
    threshold="{threshold}", reset="{reset}",
    # SpikeStudio holds v for t_ref after the step that ends with the spike; Brian2 counts
    # the refractory period from the step's start, one dt earlier: t_hold = t_ref + dt.
    refractory="t_hold", method="exact", name="{p.name}",
    {namespace}
{init}{currents}objects.append({p.name})'''
    if p.model == "if":
        return head + _if_population(p, eqs, namespace, init, currents)
    if p.model == "li":
        return head + f'''
# {p.size} leaky integrators (a readout: no threshold, never spikes) with exponential current
# synapses; their v is written to readout_{p.id}.csv.
{p.name} = b2.NeuronGroup(
    {p.size}, {_LI_EQS[:-3] + eqs.lstrip() + '    """'}, method="exact", name="{p.name}",
    {namespace}
{init}{currents}objects.append({p.name})'''
    return head + f'''
# {p.size} Izhikevich neurons (time in ms, forward Euler as in Izhikevich 2003).
{p.name} = b2.NeuronGroup(
    {p.size}, {_IZH_EQS[:-3] + eqs.lstrip() + '    """'},
    threshold="v >= v_peak", reset="v = c; u += d", method="euler", name="{p.name}",
    {namespace}
{init}{p.name}.u = {p.code("b")} * {p.name}.v[:]
# Exponential decay of the synaptic currents, exact, after the Euler step:
# decay = exp(-dt / tau_syn).
objects.append({p.name}.run_regularly(
    "I_exc *= decay_exc; I_inh *= decay_inh", when="after_groups"))
{currents}objects.append({p.name})'''


def _if_population(p: Population, eqs: str, namespace: str, init: str, currents: str) -> str:
    """Non-leaky integrate-and-fire neurons: the LIF's equations without the leak.

    Brian2's exact solver refuses this system (its matrix is singular), so v is stepped by
    its exact one-step integral, as ours: before the state update (which decays the
    currents exactly), v += k_ext I_ext + k_exc I_exc + k_inh I_inh with k_ext = dt / tau_m
    and k = tau_syn (1 - exp(-dt / tau_syn)) / tau_m, unless refractory.
    """
    if p.params["reset_mode"] == "subtract":
        reset = "v = v - (v_thresh - v_reset)"
        how = "lowered by v_thresh - v_reset (the overshoot is kept)"
    else:
        reset, how = "v = v_reset", "reset to v_reset"
    return f'''
# {p.size} non-leaky integrate-and-fire neurons with exponential current synapses; after a
# spike v is {how}.
{p.name} = b2.NeuronGroup(
    {p.size}, {_IF_EQS[:-3] + eqs.lstrip() + '    """'},
    threshold="v >= v_thresh", reset="{reset}",
    # SpikeStudio holds v for t_ref after the step that ends with the spike; Brian2 counts
    # the refractory period from the step's start, one dt earlier: t_hold = t_ref + dt.
    refractory="t_hold", method="exact", name="{p.name}",
    {namespace}
{init}# The exact step of v with the currents at the step's start (before they decay); held while
# refractory (the state updater's own test, which runs after this).
objects.append({p.name}.run_regularly(
    "v += int(timestep(t - lastspike, dt) >= timestep(t_hold, dt)) * ("
    "I_ext * k_ext + I_exc * k_exc + I_inh * k_inh)", when="groups", order=-1))
{currents}objects.append({p.name})'''


def _current_input(c) -> str:
    return f'''
# ---------------------------------------------------------------- input {c.id!r} ({c.model})
# A piecewise-constant current (R*I, mV): one value per time step, held over the step; each
# target neuron gets it times its summed weight (a gain, set with the population).
steps = np.arange(int(round(DURATION / b2.defaultclock.dt)) + 1)
change = np.rint(data["{c.name}__times_ms"] / (b2.defaultclock.dt / ms)).astype(int)
amplitude = data["{c.name}__amplitudes"][np.searchsorted(change, steps, side="right") - 1]
{c.name} = b2.TimedArray(amplitude * mV, dt=b2.defaultclock.dt)'''


def _currents(p: Population, data: NetworkData) -> tuple[str, str, str]:
    """(equation lines, namespace entries, statements) of the current inputs onto ``p``."""
    inputs = [c for c in data.current_inputs if p.name in c.gains]
    if not inputs:
        return "", "", ""
    eqs = "".join(f"    gain_{c.name} : 1  # summed weight from {c.id!r}\n" for c in inputs)
    ns = ",\n        ".join(f"{c.name}={c.name}" for c in inputs)
    total = " + ".join(f"gain_{c.name} * {c.name}(t)" for c in inputs)
    code = "".join(f'{p.name}.gain_{c.name} = data["{c.name}__gain__{p.name}"]\n'
                   for c in inputs)
    code += (f"# The external input at the start of each step: bias + current inputs.\n"
             f"objects.append({p.name}.run_regularly(\n"
             f'    "I_ext = i_offset + {total}", when="start"))\n')
    return eqs, ns, code


def _connection(c: Connection, data: NetworkData) -> str:
    var = "I_exc" if c.receptor == "exc" else "I_inh"
    from_input = data.is_spike_input(c.source)
    # Input spikes act in their arrival step: the pathway runs before the neurons' update,
    # after the generator (order 1).
    when = (f'\n{c.name}.pre.when, {c.name}.pre.order = "before_groups", 1'
            if from_input else "")
    head = f'''
# ---------------------------------------------------------------- projection {c.id!r}
# {c.source} -> {c.target}: {c.pre.size} synapses onto {var} (weights R*I in mV).'''
    tail = f'''
{c.name}.connect(i=data["{c.name}__pre"], j=data["{c.name}__post"])
{c.name}.w = data["{c.name}__weight"] * mV
{c.name}.delay = data["{c.name}__delay_ms"] * ms{when}
objects.append({c.name})'''
    rule = c.plasticity
    if rule is None:
        return head + f'''
{c.name} = b2.Synapses({c.source}, {c.target}, "w : volt", on_pre="{var}_post += w",
                     name="{c.name}")''' + tail
    soft = rule["bounds"] == "multiplicative"
    span = fmt(max(rule["w_max"] - rule["w_min"], 1e-300) if rule["w_max"] > rule["w_min"]
               else 1.0)
    dep = "a_minus * y * (w - w_min) / span" if soft else "a_minus * y"
    pot = "a_plus * x * (w_max - w) / span" if soft else "a_plus * x"
    bump = "= 1" if rule["pairing"] == "nearest" else "+= 1"
    post_delay = (f"\n{c.name}.post.delay = b2.defaultclock.dt  # post spikes at our label "
                  "(Brian2's + dt)") if from_input else ""
    return head + f'''
# Pair-based STDP ({rule["pairing"]} pairing, {rule["bounds"]} bounds): x is the pre trace
# (timed at the spike's arrival), y the post trace. The arriving spike delivers the weight
# it finds, then depresses it; a post spike potentiates.
{c.name} = b2.Synapses(
    {c.source}, {c.target}, """
    w : volt
    dx/dt = -x / tau_plus : 1 (event-driven)
    dy/dt = -y / tau_minus : 1 (event-driven)
    """,
    on_pre="""
    {var}_post += w
    w = clip(w - {dep}, w_min, w_max)
    x {bump}
    """,
    on_post="""
    w = clip(w + {pot}, w_min, w_max)
    y {bump}
    """,
    namespace=dict(a_plus={fmt(rule["a_plus"])} * mV, a_minus={fmt(rule["a_minus"])} * mV,
                   tau_plus={fmt(rule["tau_plus"])} * ms, tau_minus={fmt(rule["tau_minus"])} * ms,
                   w_min={fmt(rule["w_min"])} * mV, w_max={fmt(rule["w_max"])} * mV,
                   span={span} * mV),
    name="{c.name}")''' + tail + post_delay


def _run(data: NetworkData) -> str:
    pops = [p for p in data.populations if p.record and p.model != "li"]
    readouts = [p for p in data.populations if p.model == "li"]
    plastic = [c for c in data.connections if c.plasticity]
    lines = ["\n# ---------------------------------------------------------------- run"]
    for p in pops:
        lines.append(f"spikes_{p.name} = b2.SpikeMonitor({p.name})")
        lines.append(f"objects.append(spikes_{p.name})")
    for p in readouts:  # recorded at the end of each step, as SpikeStudio's monitors
        lines.append(f'v_{p.name} = b2.StateMonitor({p.name}, "v", record=True, '
                     f'when="end")')
        lines.append(f"objects.append(v_{p.name})")
    lines.append("b2.Network(*objects).run(DURATION)")
    for p in readouts:
        lines.append(f"# v of the readout {p.id!r}: one row per step, one column per neuron")
        lines.append(f'with open(HERE / "readout_{p.id}.csv", "w") as f:')
        lines.append(f'    f.write("time_ms," + ",".join(f"v{{i}}" for i in range({p.size})) '
                     f'+ "\\n")')
        lines.append(f"    for t, row in zip(v_{p.name}.t / ms, v_{p.name}.v.T / mV):")
        lines.append('        f.write(f"{t:.6g}," + ",".join(f"{x:.9g}" for x in row) + "\\n")')
    rows = ", ".join(f'(spikes_{p.name}.t / ms, "{p.id}", spikes_{p.name}.i)' for p in pops)
    lines.append(f"write_spikes([{rows}])")
    if plastic:
        lines.append("# Final weights of the plastic projections (mV).")
        lines.append('with open(HERE / "final_weights.csv", "w") as f:')
        lines.append('    f.write("projection,pre,post,weight_mV\\n")')
        for c in plastic:
            lines.append(f"    for i, j, w in zip({c.name}.i[:], {c.name}.j[:], "
                         f"{c.name}.w[:] / mV):")
            lines.append(f'        f.write(f"{c.id},{{i}},{{j}},{{w:.9g}}\\n")')
    return "\n".join(lines)
