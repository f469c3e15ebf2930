"""``--to nest``: a runnable NEST 3 script (``run_nest.py``) plus ``network.npz``.

Units: NEST's neurons take currents in pA and capacitances in pF. Our LIF is
``tau_m dv/dt = (v_rest - v) + I`` with I as R*I in mV; NEST's ``iaf_psc_exp`` is
``C_m dV/dt = -(C_m / tau_m)(V - E_L) + I``. With ``C_m = tau_m`` (pF, numerically equal to
tau_m in ms) the resistance is 1 GOhm and a current or weight of x mV is x pA: the
dynamics are identical, and ``iaf_psc_exp`` integrates them exactly, like ours, with the same
refractory clamp and the same spike labels (end of the step). Izhikevich: NEST's
``izhikevich`` (``consistent_integration``, forward Euler like ours) takes its current in
the model's own units, as ours, but its synapses are delta pulses on v: a spike of weight w
onto our exponential current synapse moves v by about w * tau_syn in total, so that is the
weight the script uses (an approximation, with a warning).

What NEST cannot hold, each with a warning naming the projection or population:
delays below one step (NEST's minimum is dt; ours may be 0, which acts one step earlier),
STDP's order and timing (NEST delivers the weight after the arriving spike's depression,
and times pre-post pairs with a dendritic delay),
STDP with w_min != 0 (NEST's rules bound at 0), two plastic projections onto one population
with different tau_minus (NEST keeps tau_minus on the post neuron).
"""

from __future__ import annotations

from pathlib import Path

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

SCRIPT = "run_nest.py"
#: Our neuron models NEST has no exact counterpart for, and why (refused by name).
MISSING_MODELS = {
    "if": "NEST has no non-leaky integrate-and-fire neuron with exponential current "
          "synapses (iaf_psc_exp always leaks; a long tau_m would only approximate it)",
    "adaptive_lif": "NEST has no LIF whose threshold jumps at each spike and decays while v "
                    "is reset (amat2_psc_exp does not reset v)",
}

_EXTRA = """
NEST units: currents in pA, capacitances in pF. With C_m = tau_m (pF, the number of ms)
the membrane resistance is 1 GOhm, so a weight or current of x mV in SpikeStudio is x pA
here and the dynamics are identical. NEST labels a spike at the end of the step in which v
crossed threshold, as SpikeStudio does.
"""


def export(project: Project, out: Path) -> ExportReport:
    """Write ``out/run_nest.py`` and ``out/network.npz`` for ``project``."""
    refuse_models(project, "NEST", MISSING_MODELS)
    data = gather(project)
    warnings = list(data.warnings) + nest_warnings(data)
    npz = write_npz(data, out)
    script = out / SCRIPT
    script.write_text(_script(data))
    return ExportReport([script, npz], warnings)


def nest_warnings(data: NetworkData) -> list[str]:
    """What NEST (and PyNN on NEST) cannot hold exactly, one sentence per projection."""
    out = [f"input {s.id!r}: NEST sends no spike at t = 0; its spikes at 0 ms are sent at "
           f"{fmt(data.dt_ms)} ms" for s in data.spike_inputs
           if s.times_ms.size and s.times_ms[0] == 0.0]
    tau_minus: dict[str, float] = {}
    for c in data.connections:
        if c.delay_ms.size and c.delay_ms.min() < data.dt_ms:
            out.append(f"projection {c.id!r}: delays below one step ({fmt(data.dt_ms)} ms, "
                       "NEST's minimum) become one step: its spikes act one step later")
        if data.population(c.target).model == "izhikevich":
            out.append(f"projection {c.id!r}: NEST's izhikevich has delta synapses; the "
                       "exponential synaptic current becomes a jump of v by weight * tau_syn")
        rule = c.plasticity
        if rule is None:
            continue
        out.append(f"projection {c.id!r}: NEST's STDP delivers the weight after the arriving "
                   "spike's depression and times pairs with a dendritic delay; learning "
                   "agrees in distribution, not spike for spike")
        if rule["w_min"] != 0.0:
            out.append(f"projection {c.id!r}: NEST's STDP bounds weights at 0, not at "
                       f"w_min = {fmt(rule['w_min'])} mV")
        if tau_minus.setdefault(c.target, rule["tau_minus"]) != rule["tau_minus"]:
            out.append(f"projection {c.id!r}: NEST keeps tau_minus on the post neuron; "
                       f"population {c.target!r} uses {fmt(tau_minus[c.target])} ms")
    return out


def _script(data: NetworkData) -> str:
    parts = [header(data, "NEST 3 (nest-simulator)", f"python {SCRIPT}", _EXTRA),
             "import nest\n",
             "HERE = Path(__file__).resolve().parent",
             'data = np.load(HERE / "network.npz")',
             "nest.ResetKernel()",
             "nest.verbosity = nest.VerbosityLevel.WARNING",
             f"nest.resolution = {fmt(data.dt_ms)}  # ms",
             f"DURATION = {fmt(data.duration_ms)}  # ms\n", WRITE_SPIKES]
    for p in data.populations:
        parts.append(_population(p, data))
    for s in data.spike_inputs:
        plastic = any(c.plasticity for c in data.connections if c.source == s.name)
        # A spike_generator is a device: it cannot drive plastic synapses.
        device, why = (("spike_train_injector", "a neuron-like generator (plastic synapses "
                        "need a\n# neuron as their source; a spike_generator is a device)")
                       if plastic else ("spike_generator", "one per neuron"))
        parts.append(f'''
# ---------------------------------------------------------------- input {s.id!r} ({s.model})
# The spike trains SpikeStudio generated: one {why}.
{s.name} = nest.Create("{device}", {s.size})
times, neurons = data["{s.name}__times_ms"], data["{s.name}__neurons"]
# NEST sends a spike only after time 0: spikes at t = 0 are moved to the first step.
times = np.maximum(times, {fmt(data.dt_ms)})
for i in range({s.size}):
    {s.name}[i].spike_times = times[neurons == i]''')
    for c in data.connections:
        parts.append(_connection(c, data))
    parts.append(_run(data))
    return "\n".join(parts) + "\n"


def _params(p: Population, fields: list[tuple[str, str, str]]) -> tuple[str, str]:
    """(the ``params`` entries of ``nest.Create``, a ``set`` of the per-neuron ones) for
    ``fields`` = (NEST name, our parameter, comment): a per-neuron value is set after
    creation, one value per neuron from network.npz."""
    shared, varying = [], []
    for nest_name, ours, comment in fields:
        note = f"  # {comment}" if comment else ""
        if p.varies(ours):
            varying.append(f'    "{nest_name}": {p.code(ours)},{note}')
        else:
            shared.append(f'    "{nest_name}": {p.code(ours)},{note}')
    per_neuron = ("\n# Values per neuron (network.npz).\n"
                  f"{p.name}.set({{\n" + "\n".join(varying) + "\n})") if varying else ""
    return "\n".join(shared), per_neuron


#: Our LIF as iaf_psc_exp (NEST name, our parameter, comment).
_LIF_FIELDS = [
    ("C_m", "tau_m", "pF = tau_m: R = 1 GOhm, so 1 pA = 1 mV of R*I"),
    ("tau_m", "tau_m", "ms"), ("E_L", "v_rest", "mV"), ("V_reset", "v_reset", "mV"),
    ("V_th", "v_thresh", "mV"), ("t_ref", "t_ref", "ms, v clamped to V_reset"),
    ("tau_syn_ex", "tau_syn_exc", "ms"), ("tau_syn_in", "tau_syn_inh", "ms"),
    ("I_e", "i_offset", "pA (bias)"),
]
_LI_FIELDS = [f for f in _LIF_FIELDS if f[0] not in ("V_reset", "V_th", "t_ref")]
_IZH_FIELDS = [
    ("a", "a", ""), ("b", "b", ""), ("c", "c", "mV"), ("d", "d", ""),
    ("V_th", "v_peak", "mV, spike cut-off"),
    ("I_e", "i_offset", "the model's current units (added to dv/dt)"),
]


def _population(p: Population, data: NetworkData) -> str:
    if p.model == "lif":
        shared, per_neuron = _params(p, _LIF_FIELDS)
        body = f'''# {p.size} leaky integrate-and-fire neurons with exponential current synapses.
{p.name} = nest.Create("iaf_psc_exp", {p.size}, params={{
{shared}
}}){per_neuron}
{p.name}.V_m = data["{p.name}__v_init"]'''
    elif p.model == "li":
        shared, per_neuron = _params(p, _LI_FIELDS)
        body = f'''# {p.size} leaky integrators (a readout: it never spikes): iaf_psc_exp with a
# threshold out of reach; their v is written to readout_{p.id}.csv.
{p.name} = nest.Create("iaf_psc_exp", {p.size}, params={{
{shared}
    "V_th": 1e30,  # never reached
}}){per_neuron}
{p.name}.V_m = data["{p.name}__v_init"]'''
    else:
        shared, per_neuron = _params(p, _IZH_FIELDS)
        body = f'''# {p.size} Izhikevich neurons (forward Euler, time in ms, as in Izhikevich 2003).
{p.name} = nest.Create("izhikevich", {p.size}, params={{
{shared}
    "consistent_integration": True,  # plain forward Euler
}}){per_neuron}
{p.name}.V_m = data["{p.name}__v_init"]
{p.name}.U_m = {p.code("b")} * data["{p.name}__v_init"]'''
    plastic = [c for c in data.connections if c.plasticity and c.target == p.name]
    if plastic:
        body += (f"\n{p.name}.tau_minus = {fmt(plastic[0].plasticity['tau_minus'])}"
                 "  # ms, STDP's post trace lives on the neuron in NEST")
    return (f"\n# ---------------------------------------------------------------- "
            f"population {p.id!r}\n" + body)


def stdp_nest_params(rule: dict) -> dict[str, float]:
    """Our STDP parameters as NEST's stdp_synapse ones (weights in pA = mV).

    NEST: potentiation ``w/Wmax += lambda (1 - w/Wmax)^mu_plus K+``, depression
    ``w/Wmax -= alpha lambda (w/Wmax)^mu_minus K-``; mu = 0 is additive, 1 multiplicative
    (ours with w_min = 0). Hence lambda = a_plus / w_max and alpha = a_minus / a_plus.
    """
    mu = 1.0 if rule["bounds"] == "multiplicative" else 0.0
    return {"tau_plus": rule["tau_plus"], "lambda": rule["a_plus"] / rule["w_max"],
            "alpha": rule["a_minus"] / rule["a_plus"] if rule["a_plus"] else 0.0,
            "mu_plus": mu, "mu_minus": mu, "Wmax": rule["w_max"]}


def tau_syn_code(target: Population, c: Connection) -> str:
    """Code for the synaptic time constant of each synapse of ``c`` (its post neuron's)."""
    key = "tau_syn_exc" if c.receptor == "exc" else "tau_syn_inh"
    code = target.code(key)
    return f'{code}[data["{c.name}__post"]]' if target.varies(key) else code


def _connection(c: Connection, data: NetworkData) -> str:
    target = data.population(c.target)
    weight = f'data["{c.name}__weight"]'
    note = "pA = mV of R*I; negative weights go to the inhibitory synapse"
    if target.model == "izhikevich":
        weight += " * " + tau_syn_code(target, c)
        note = "delta synapse: weight * tau_syn (ms), the charge of our current"
    lines = [f'''
# ---------------------------------------------------------------- projection {c.id!r}
# {c.source} -> {c.target}: {c.pre.size} synapses, given one by one.''']
    model = "static_synapse"
    if c.plasticity:
        rule = c.plasticity
        model = f"stdp_{c.name}"
        base = "stdp_nn_symm_synapse" if rule["pairing"] == "nearest" else "stdp_synapse"
        params = ", ".join(f'"{k}": {fmt(x)}' for k, x in stdp_nest_params(rule).items())
        lines.append(f'''# Pair-based STDP ({rule["pairing"]} pairing, {rule["bounds"]} bounds).
# Two differences from SpikeStudio's rule (docs/export.md): NEST treats the delay as
# dendritic (pre spike timed at emission, post spike timed delay later, so every pre-post
# lag is 2 * delay longer than SpikeStudio's, which times the pre spike at its arrival), and
# it delivers the weight after the depression of the arriving spike (SpikeStudio delivers,
# then depresses). Learning agrees in distribution, not spike for spike.
# lambda = a_plus / w_max, alpha = a_minus / a_plus, mu = 0 additive / 1 multiplicative.
nest.CopyModel("{base}", "{model}", {{{params}}})''')
    lines.append(f'''# Node ids are consecutive from the population's first: pass arrays of ids.
nest.Connect({c.source}[0].global_id + data["{c.name}__pre"],
             {c.target}[0].global_id + data["{c.name}__post"],
             "one_to_one", syn_spec={{
                 "synapse_model": "{model}",
                 "weight": {weight},  # {note}
                 # ms; NEST's minimum delay is one step
                 "delay": np.maximum(data["{c.name}__delay_ms"], {fmt(data.dt_ms)}),
             }})''')
    return "\n".join(lines)


def _current_segments(data: NetworkData) -> str:
    """The run loop: NEST's I_e holds the bias plus current inputs, changed between runs."""
    if not data.current_inputs:
        return "nest.Simulate(DURATION)"
    lines = ['''# Current inputs are piecewise constant: the run is cut where they change and each
# target's I_e (pA = mV) is set to bias + amplitude * gain for the next piece. (NEST's
# step_current_generator would act one minimum delay later.)
changes = sorted({0.0, DURATION} | {float(t) for name in CURRENT_INPUTS
                                     for t in data[name + "__times_ms"] if t < DURATION})
for start, stop in zip(changes[:-1], changes[1:]):''']
    for p in data.populations:
        inputs = [c for c in data.current_inputs if p.name in c.gains]
        if not inputs:
            continue
        terms = " + ".join(f'level("{c.name}", start) * data["{c.name}__gain__{p.name}"]'
                           for c in inputs)
        lines.append(f"    {p.name}.I_e = {p.code('i_offset')} + {terms}")
    lines.append("    nest.Simulate(stop - start)")
    names = ", ".join(f'"{c.name}"' for c in data.current_inputs)
    return f'''CURRENT_INPUTS = [{names}]


def level(name, t):
    """Amplitude (mV = pA) of current input ``name`` from time t on."""
    times, amplitudes = data[name + "__times_ms"], data[name + "__amplitudes"]
    return amplitudes[np.searchsorted(times, t + 1e-9, side="right") - 1]


''' + "\n".join(lines)


def _run(data: NetworkData) -> str:
    pops = [p for p in data.populations if p.record]
    plastic = [c for c in data.connections if c.plasticity]
    lines = ["\n# ---------------------------------------------------------------- run"]
    readouts = [p for p in data.populations if p.model == "li"]
    for p in pops:
        lines.append(f'recorder_{p.name} = nest.Create("spike_recorder")')
        lines.append(f"nest.Connect({p.name}, recorder_{p.name})")
    for p in readouts:  # v after each step, labelled with the step's end (as ours)
        lines.append(f'meter_{p.name} = nest.Create("multimeter", params={{"record_from": '
                     f'["V_m"], "interval": {fmt(data.dt_ms)}}})')
        lines.append(f"nest.Connect(meter_{p.name}, {p.name})")
    lines.append(_current_segments(data))
    for p in readouts:
        ev = f"meter_{p.name}.events"
        lines.append(f"# v of the readout {p.id!r}: one row per step, one column per neuron")
        lines.append(f'times = np.unique({ev}["times"])')
        lines.append(f"v = np.full((times.size, {p.size}), np.nan)")
        lines.append(f'v[np.searchsorted(times, {ev}["times"]), '
                     f'{ev}["senders"] - {p.name}[0].global_id] = {ev}["V_m"]')
        lines.append(f'with open(HERE / "readout_{p.id}.csv", "w") as f:')
        lines.append(f'    f.write("time_ms," + ",".join(f"v{{i}}" for i in range({p.size})) '
                     f'+ "\\n")')
        lines.append("    for t, row in zip(times, v):")
        lines.append('        f.write(f"{t:.6g}," + ",".join(f"{x:.9g}" for x in row) + "\\n")')
    rows = []
    for p in pops:
        ev = f"recorder_{p.name}.events"
        rows.append(f'({ev}["times"], "{p.id}", {ev}["senders"] - {p.name}[0].global_id)')
    lines.append(f"write_spikes([{', '.join(rows)}])")
    if plastic:
        lines.append("# Final weights of the plastic projections (pA = mV).")
        lines.append('with open(HERE / "final_weights.csv", "w") as f:')
        lines.append('    f.write("projection,pre,post,weight_mV\\n")')
        for c in plastic:
            lines.append(f'    conns = nest.GetConnections({c.source}, {c.target}, '
                         f'synapse_model="stdp_{c.name}").get(["source", "target", "weight"])')
            lines.append(f'    for i, j, w in zip(np.asarray(conns["source"]) - '
                         f'{c.source}[0].global_id, np.asarray(conns["target"]) - '
                         f'{c.target}[0].global_id, conns["weight"]):')
            lines.append(f'        f.write(f"{c.id},{{i}},{{j}},{{w:.9g}}\\n")')
    return "\n".join(lines)

