"""CUBA benchmark: SpikeStudio's numba engine against Brian2 (cython runtime, cpp_standalone).

The Brette et al. (2007) CUBA network (80 % excitatory, 20 % inhibitory LIF neurons, exponential
current synapses, parameters of sample_projects/cuba_balanced.json, t_ref = 0) at N = 4000 and
40000 (and 100000 with ``--large``). The connection probability is p = 80 / N, so every neuron
receives 80 inputs on average at every size: the per-neuron input statistics, and therefore the
firing regime (~6 Hz, irregular), stay those of the classic N = 4000, p = 0.02 network while the
synapse count grows linearly with N. Synapses carry per-synapse weights (uniform within +-10 % of
the CUBA values, stored per synapse in both simulators); ``--delays`` adds per-synapse delays
(uniform 0.1-2 ms). Spikes of every neuron are recorded.

Every Brian2 configuration runs in its own subprocess (independent runs; the standalone build
directory is a fresh temporary directory, deleted afterwards). Brian2 uses one thread (its
default), like our engine. Our engine runs in this process after a warm-up run that loads the
cached numba kernels.

Reported per configuration: build time (network construction, incl. code generation and
compilation for Brian2), run time (the simulation loop; for cpp_standalone the C++ main loop as
measured by Brian2; the minimum of 3 runs of the same network everywhere, since the machine
is shared), spikes, mean rate, synaptic events per second of run time, bytes per synapse
(ours: ``compiled.synapse_bytes() / n_synapses``; Brian2: bytes of the synapse-sized arrays of
its Synapses objects), and the ratio ours / Brian2. Also measured: a fresh Python process that
imports the engine, loads sample_projects/cuba_balanced.json and runs it (JIT cache warm), from
spawn to result.

``--hetero`` adds the heterogeneous CUBA: the same network with tau_m uniform in [18, 22] ms
and v_thresh uniform in [-51, -49] mV drawn per neuron (engine.hetero), against the
homogeneous one (our engine only).

``--threads 1 2`` runs the CUBA table at each thread count: ours with ``simulation.threads``
(the neuron updates split over threads, engine.core.kernels._update_parts), Brian2
cpp_standalone with ``prefs.devices.cpp_standalone.openmp_threads``; ours/this compares
equal thread counts.

``--stdp`` adds the plasticity benchmark: CUBA with additive pair-based STDP on all excitatory
synapses, ours static vs ours STDP vs Brian2 cpp_standalone with the same rule.

Usage::

    .venv/bin/python bench/cuba.py [--large] [--delays] [--stdp] [--hetero] [--duration-ms 1000]
                                   [--sizes 4000 40000] [--threads 1 2] [--no-brian]
                                   [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

REPEATS = 3                     # run times are the minimum of this many runs (noisy machine)
K_IN = 80                       # mean number of inputs per neuron (p = K_IN / N)
DT_MS = 0.1
WE, WI = 60 * 0.27 / 10, -20 * 4.5 / 10      # 1.62 mV, -9 mV
W_SPREAD = 0.1                  # per-synapse weights uniform in (1 +- W_SPREAD) * w
DELAY_LOW, DELAY_HIGH = 0.1, 2.0  # ms, with --delays
STDP = dict(tau_plus=20.0, tau_minus=20.0, w_max=2 * WE)   # A+ = 0.01 w_max, A- = 1.05 A+
STDP["a_plus"] = 0.01 * STDP["w_max"]
STDP["a_minus"] = 1.05 * STDP["a_plus"]
NEURON = dict(tau_m=20.0, v_rest=-49.0, v_reset=-60.0, v_thresh=-50.0, t_ref=0.0,
              tau_syn_exc=5.0, tau_syn_inh=10.0, v_init=-60.0, v_init_spread=10.0)
#: With --hetero: per-neuron values drawn around the CUBA ones.
HETERO = dict(tau_m={"dist": "uniform", "low": 18.0, "high": 22.0},
              v_thresh={"dist": "uniform", "low": -51.0, "high": -49.0})


# ---------------------------------------------------------------------------- our engine
def cuba_document(n: int, duration_ms: float, delays: bool, stdp: bool, seed: int = 1,
                  hetero: bool = False) -> dict:
    """The CUBA project document in SpikeStudio's format (p = K_IN / n)."""
    n_exc = int(0.8 * n)
    p = K_IN / n
    params = NEURON | (HETERO if hetero else {})
    nodes = [{"id": pop, "kind": "population", "model": "lif", "size": size, "params": params}
             for pop, size in (("exc", n_exc), ("inh", n - n_exc))]
    projections = []
    for src in ("exc", "inh"):
        w = WE if src == "exc" else WI
        lo, hi = sorted((w * (1 - W_SPREAD), w * (1 + W_SPREAD)))
        for tgt in ("exc", "inh"):
            plastic = stdp and src == "exc"
            delay = ({"dist": "uniform", "low": DELAY_LOW, "high": DELAY_HIGH}
                     if delays and not plastic else 0.0)
            projections.append({
                "id": f"{src}_to_{tgt}", "source": src, "target": tgt,
                "connectivity": {"rule": "fixed_probability", "p": p},
                "weight": {"dist": "uniform", "low": lo, "high": hi}, "delay_ms": delay,
                "receptor": "exc" if src == "exc" else "inh",
                "plasticity": ({"rule": "stdp", "a_plus": STDP["a_plus"],
                                "a_minus": STDP["a_minus"], "tau_plus": STDP["tau_plus"],
                                "tau_minus": STDP["tau_minus"], "w_min": 0.0,
                                "w_max": STDP["w_max"]} if plastic else None)})
    return {"format": "spikestudio-project", "version": 1, "name": f"CUBA {n}",
            "network": {"nodes": nodes, "projections": projections},
            "simulation": {"duration_ms": duration_ms, "dt_ms": DT_MS, "seed": seed,
                           "count_bin_ms": 10.0, "record_spikes": "all",
                           "memory_budget_mb": 16384.0}}


def run_ours(n: int, duration_ms: float, delays: bool, stdp: bool,
             hetero: bool = False, threads: int = 1) -> dict:
    """Build and run CUBA in our engine (kernels already warm)."""
    from engine.core.build import build
    from engine.project import Project
    from engine.simulator import Simulation

    project = Project.from_dict(cuba_document(n, duration_ms, delays, stdp, hetero=hetero))
    t0 = time.perf_counter()
    compiled = build(project)
    build_s = time.perf_counter() - t0
    runs = [Simulation(project, compiled=compiled, threads=threads).run(build_time_s=build_s)
            for _ in range(REPEATS)]
    result = min(runs, key=lambda r: r.wall_time_s)
    spikes = len(result.spikes)
    events = int(result.projection_counts["syn_events"].sum())
    return {"sim": "ours" + (" STDP" if stdp else "") + (" hetero" if hetero else "")
            + (f" {threads} threads" if threads > 1 else ""),
            "n": n, "threads": threads, "build_s": build_s,
            "run_s": result.wall_time_s, "run_s_all": [r.wall_time_s for r in runs],
            "spikes": spikes,
            "rate_hz": spikes / n / (duration_ms / 1000), "syn_events": events,
            "n_synapses": compiled.n_synapses,
            "bytes_per_syn": compiled.synapse_bytes() / compiled.n_synapses}


# ---------------------------------------------------------------------------- Brian2 worker
def brian_worker(cfg: dict) -> dict:
    """One Brian2 run (called in a subprocess): returns the same fields as :func:`run_ours`."""
    import brian2 as b2
    import numpy as np
    from brian2 import ms, mV

    t_start = time.perf_counter()
    n, duration_ms, target = cfg["n"], cfg["duration_ms"], cfg["target"]
    build_dir = None
    threads = cfg.get("threads", 1)
    if target == "cpp_standalone":
        build_dir = tempfile.mkdtemp(prefix="spikestudio-bench-standalone-")
        b2.set_device("cpp_standalone", directory=build_dir, build_on_run=False)
        # 0: no OpenMP (Brian2's default, one thread); n > 1: OpenMP with n threads.
        b2.prefs.devices.cpp_standalone.openmp_threads = threads if threads > 1 else 0
    else:
        b2.prefs.codegen.target = target
        if cfg.get("cache_dir"):
            b2.prefs.codegen.runtime.cython.cache_dir = cfg["cache_dir"]
    b2.defaultclock.dt = DT_MS * ms
    b2.seed(1)
    n_exc = int(0.8 * n)
    ns = {"taum": 20 * ms, "taue": 5 * ms, "taui": 10 * ms, "Vt": -50 * mV, "Vr": -60 * mV,
          "El": -49 * mV, "wmax": STDP["w_max"] * mV, "taupre": STDP["tau_plus"] * ms,
          "taupost": STDP["tau_minus"] * ms, "dApre": STDP["a_plus"] * mV,
          "dApost": -STDP["a_minus"] * mV}
    group = b2.NeuronGroup(n, """dv/dt = (ge + gi - (v - El)) / taum : volt
                                 dge/dt = -ge / taue : volt
                                 dgi/dt = -gi / taui : volt""",
                           threshold="v > Vt", reset="v = Vr", method="exact", namespace=ns)
    group.v = "Vr + rand() * (Vt - Vr)"
    p = K_IN / n
    if cfg["stdp"]:
        exc = b2.Synapses(group[:n_exc], group,
                          """w : volt
                             dApre/dt = -Apre / taupre : volt (event-driven)
                             dApost/dt = -Apost / taupost : volt (event-driven)""",
                          on_pre="""ge += w
                                    Apre += dApre
                                    w = clip(w + Apost, 0 * mV, wmax)""",
                          on_post="""Apost += dApost
                                     w = clip(w + Apre, 0 * mV, wmax)""", namespace=ns)
    else:
        exc = b2.Synapses(group[:n_exc], group, "w : volt", on_pre="ge += w")
    inh = b2.Synapses(group[n_exc:], group, "w : volt", on_pre="gi += w")
    exc.connect(p=p)
    inh.connect(p=p)
    exc.w = f"({WE} + {WE * W_SPREAD} * (2 * rand() - 1)) * mV"
    inh.w = f"({WI} + {abs(WI) * W_SPREAD} * (2 * rand() - 1)) * mV"
    if cfg["delays"]:
        for syn in (exc, inh):
            if not (cfg["stdp"] and syn is exc):
                syn.delay = f"({DELAY_LOW} + rand() * {DELAY_HIGH - DELAY_LOW}) * ms"
    monitor = b2.SpikeMonitor(group)
    net = b2.Network(group, exc, inh, monitor)
    if target == "cpp_standalone":
        net.run(duration_ms * ms)
        b2.device.build(directory=build_dir, compile=True, run=True, debug=False, clean=True)
        total = time.perf_counter() - t_start
        loops = [float(b2.device._last_run_time)]
        for _ in range(REPEATS - 1):  # rerun the compiled binary: same network, same seed
            b2.device.run(directory=build_dir, with_output=False, run_args=[])
            loops.append(float(b2.device._last_run_time))
        run_s = min(loops)
        build_s = total - loops[0]
    else:
        net.run(0 * ms)  # code generation and compilation happen here
        build_s = time.perf_counter() - t_start
        net.store()
        loops = []
        for _ in range(REPEATS):
            net.restore()
            t0 = time.perf_counter()
            net.run(duration_ms * ms)
            loops.append(time.perf_counter() - t0)
        run_s = min(loops)
    spike_i = np.asarray(monitor.i[:])
    events = 0
    syn_bytes = 0
    n_syn = 0
    for syn, offset in ((exc, 0), (inh, n_exc)):
        pre = np.asarray(syn.i[:])
        n_syn += pre.size
        outdeg = np.bincount(pre, minlength=n - offset)
        sources = spike_i[(spike_i >= offset) & (spike_i < offset + outdeg.size)] - offset
        events += int(outdeg[sources].sum())
        for name, var in syn.variables.items():
            if isinstance(var, b2.core.variables.DynamicArrayVariable) and name != "lastupdate":
                values = np.asarray(var.get_value())
                if values.shape[:1] == (pre.size,):
                    syn_bytes += values.nbytes
    if build_dir is not None:
        shutil.rmtree(build_dir, ignore_errors=True)
    spikes = int(spike_i.size)
    label = {"cython": "Brian2 cython", "cpp_standalone": "Brian2 cpp_standalone",
             "numpy": "Brian2 numpy"}[target] + (" STDP" if cfg["stdp"] else "") \
        + (f" {threads} threads" if threads > 1 else "")
    return {"sim": label, "n": n, "threads": threads, "build_s": build_s, "run_s": run_s,
            "run_s_all": loops, "spikes": spikes,
            "rate_hz": spikes / n / (duration_ms / 1000), "syn_events": events,
            "n_synapses": n_syn, "bytes_per_syn": syn_bytes / max(n_syn, 1)}


def run_brian(n: int, duration_ms: float, delays: bool, stdp: bool, target: str,
              cache_dir: str | None, timeout: float = 3600, threads: int = 1) -> dict | None:
    """Run :func:`brian_worker` in a fresh subprocess; None (with a message) on failure."""
    cfg = {"n": n, "duration_ms": duration_ms, "delays": delays, "stdp": stdp,
           "target": target, "cache_dir": cache_dir, "threads": threads}
    proc = subprocess.run([sys.executable, __file__, "--brian-worker", json.dumps(cfg)],
                          capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    print(f"  Brian2 {target} N={n} failed (exit {proc.returncode}):\n"
          + "\n".join(proc.stderr.splitlines()[-8:]), file=sys.stderr)
    return None


# ---------------------------------------------------------------------------- fresh process
FRESH_SCRIPT = """
import sys, time
start = float(sys.argv[1])
from engine.project import load_project
from engine.simulator import simulate
imported = time.time() - start
project = load_project(sys.argv[2])
t0 = time.time()
r = simulate(project)
print("READY", time.time() - start, imported, time.time() - t0, len(r.spikes))
"""


def fresh_process(repeats: int = 3) -> list[list[float]]:
    """[total, imports, simulate] seconds from spawning a new interpreter to the result."""
    sample = str(ROOT / "sample_projects" / "cuba_balanced.json")
    times = []
    for _ in range(repeats + 1):  # the first run (re)warms the on-disk JIT cache
        start = time.time()
        proc = subprocess.run([sys.executable, "-c", FRESH_SCRIPT, repr(start), sample],
                              capture_output=True, text=True, cwd=ROOT, check=True)
        ready = [line for line in proc.stdout.splitlines() if line.startswith("READY")]
        times.append([float(x) for x in ready[0].split()[1:4]])
    return times[1:]


# ---------------------------------------------------------------------------- reporting
def machine() -> dict:
    """nproc, CPU model, load average, date, versions."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import brian2
    import numba
    import numpy

    return {"nproc": os.cpu_count(), "cpu": cpu, "load": os.getloadavg(),
            "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "python": platform.python_version(),
            "numpy": numpy.__version__, "numba": numba.__version__,
            "brian2": brian2.__version__, "compiler": shutil.which("g++") is not None}


def print_table(rows: list[dict], reference: dict[tuple[int, int], dict]) -> None:
    """One line per run; ours/this against ``reference[(N, threads)]`` (ours, same count)."""
    head = (f"{'simulator':<26}{'N':>8}{'synapses':>11}{'build s':>9}{'run s':>9}"
            f"{'spikes':>10}{'rate Hz':>9}{'events/s':>11}{'B/syn':>7}{'ours/this':>10}")
    print(head)
    print("-" * len(head))
    for r in rows:
        ours = reference.get((r["n"], r.get("threads", 1)))
        ratio = ours["run_s"] / r["run_s"] if ours and r["run_s"] > 0 else float("nan")
        print(f"{r['sim']:<26}{r['n']:>8}{r['n_synapses']:>11,}{r['build_s']:>9.2f}"
              f"{r['run_s']:>9.2f}{r['spikes']:>10,}{r['rate_hz']:>9.2f}"
              f"{r['syn_events'] / r['run_s']:>11.3g}{r['bytes_per_syn']:>7.1f}"
              f"{ratio:>10.2f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--large", action="store_true", help="also N = 100000")
    parser.add_argument("--sizes", type=int, nargs="*", default=None)
    parser.add_argument("--delays", action="store_true", help="per-synapse delays")
    parser.add_argument("--stdp", action="store_true", help="also the STDP benchmark")
    parser.add_argument("--stdp-sizes", type=int, nargs="*", default=[4000, 40000])
    parser.add_argument("--hetero", action="store_true",
                        help="also CUBA with tau_m and v_thresh drawn per neuron")
    parser.add_argument("--duration-ms", type=float, default=1000.0)
    parser.add_argument("--threads", type=int, nargs="*", default=[1],
                        help="thread counts of the CUBA table, e.g. 1 2: ours with "
                             "simulation.threads, Brian2 standalone with OpenMP threads")
    parser.add_argument("--no-brian", action="store_true")
    parser.add_argument("--no-cython", action="store_true")
    parser.add_argument("--no-fresh", action="store_true",
                        help="skip the fresh-process measurement")
    parser.add_argument("--json", type=Path, default=None, help="write all results here")
    parser.add_argument("--brian-worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.brian_worker:
        print("RESULT " + json.dumps(brian_worker(json.loads(args.brian_worker))))
        return 0

    sizes = args.sizes or ([4000, 40000] + ([100000] if args.large else []))
    info = machine()
    print(f"machine: {info['nproc']} cores, {info['cpu']}, load {info['load']}, {info['date']}")
    print(f"CUBA, p = {K_IN}/N, {args.duration_ms:g} ms, dt {DT_MS} ms, per-synapse weights, "
          f"{'per-synapse delays' if args.delays else 'no delays'}, all spikes recorded\n")
    from engine.core.warmup import warm_up

    warm_up()
    cache = str(Path(tempfile.gettempdir()) / "spikestudio-bench-cython")
    targets = ([] if args.no_brian else
               (["cython"] if not args.no_cython else [])
               + (["cpp_standalone"] if info["compiler"] else []))
    out: dict = {"machine": info, "args": vars(args) | {"json": str(args.json)}}
    rows, reference = [], {}
    for n in sizes:
        for threads in args.threads:
            ours = run_ours(n, args.duration_ms, args.delays, False, threads=threads)
            reference[(n, threads)] = ours
            rows.append(ours)
            print(f"  {ours['sim']} N={n}: run {ours['run_s']:.2f} s", file=sys.stderr)
            for target in targets:
                if threads > 1 and target != "cpp_standalone":
                    continue  # Brian2's runtime targets run one thread
                result = run_brian(n, args.duration_ms, args.delays, False, target, cache,
                                   threads=threads)
                if result:
                    rows.append(result)
                    print(f"  {result['sim']} N={n}: run {result['run_s']:.2f} s",
                          file=sys.stderr)
    print_table(rows, reference)
    out["cuba"] = rows

    if args.hetero:
        print("\nCUBA with tau_m and v_thresh per neuron (ours/this: homogeneous / hetero)")
        hetero_rows = []
        for n in sizes:
            hetero = run_ours(n, args.duration_ms, args.delays, False, hetero=True)
            hetero_rows += [reference[(n, 1)], hetero]
            print(f"  ours hetero N={n}: run {hetero['run_s']:.2f} s", file=sys.stderr)
        print_table(hetero_rows, reference)
        out["hetero"] = hetero_rows

    fresh = [] if args.no_fresh else fresh_process()
    out["fresh_process_s"] = fresh
    if fresh:
        print("\nfresh process to first result (sample CUBA N=4000, 1 s, JIT cache warm):")
    for total, imports, sim in fresh:
        print(f"  total {total:.2f} s (interpreter start + imports {imports:.2f} s, "
              f"build + run {sim:.2f} s)")

    if args.stdp:
        print("\nCUBA with STDP on the excitatory synapses")
        stdp_rows, stdp_ref = [], {}
        for n in args.stdp_sizes:
            static = run_ours(n, args.duration_ms, False, False)
            plastic = run_ours(n, args.duration_ms, False, True)
            stdp_ref[(n, 1)] = plastic
            stdp_rows += [static, plastic]
            if info["compiler"] and not args.no_brian:
                result = run_brian(n, args.duration_ms, False, True, "cpp_standalone", cache)
                if result:
                    stdp_rows.append(result)
        print_table(stdp_rows, stdp_ref)
        out["stdp"] = stdp_rows
    if args.json:
        args.json.write_text(json.dumps(out, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
