"""The engine's commands: run projects headless, validate them, warm the numba cache,
export, import and convert models, evaluate and compress classifiers.

``python -m engine.cli run|validate|warm|export|import|evaluate|convert|compress|sweep``. The
``spikestudio`` console script is :mod:`workbench.cli`, which adds the workbench's ``serve``
and ``publish`` to these; engine/ imports nothing of the workbench.
"""

from __future__ import annotations

import argparse
import math
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.core.limits import RunLimits
from engine.errors import SimulationError, SpikeStudioError
from engine.labs import federated_cli
from engine.labs.cli import add_lab_command
from engine.project import Project, load_project

if TYPE_CHECKING:
    from engine.core.results import SimulationResult

#: Exit codes of ``spikestudio run`` besides 0 (completed) and 2 (bad input / refused).
EXIT_SIMULATION_ERROR, EXIT_LIMIT, EXIT_INTERRUPTED = 3, 4, 130
#: Wall-time limit of a CLI run when --max-seconds is not given (headless batch runs are
#: longer than the server's interactive ones).
CLI_MAX_SECONDS = 3600.0


def limits_from_args(args: argparse.Namespace) -> RunLimits:
    """The run limits from --max-memory-mb / --max-seconds (0 seconds: no time limit)."""
    memory = args.max_memory_mb
    if memory is not None and not (math.isfinite(memory) and memory > 0):
        raise SpikeStudioError(f"--max-memory-mb: must be a number > 0 MB, got {memory:g}")
    seconds = args.max_seconds
    if not (math.isfinite(seconds) and seconds >= 0):
        raise SpikeStudioError(f"--max-seconds: must be a number >= 0 (0: no limit), "
                               f"got {seconds:g}")
    # The command line's own run may use every core (--threads).
    return RunLimits.for_server(1, max_memory_mb=memory, max_wall_s=seconds or None,
                                max_threads=None)


class _Interrupt:
    """Ctrl-C while running: the first press asks the run to stop (it keeps the partial
    results), a second press aborts at once."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self._previous = None

    def _handle(self, signum, frame) -> None:
        if self.event.is_set():
            raise KeyboardInterrupt
        self.event.set()
        print("\nstopping (Ctrl-C again to abort without output) ...", file=sys.stderr)

    def __enter__(self) -> _Interrupt:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


def _run(args: argparse.Namespace) -> int:
    from engine.simulator import Progress, simulate

    project = load_project(args.project)
    if args.duration_ms is not None:
        if not args.duration_ms > 0:
            raise SpikeStudioError(f"--duration-ms: must be > 0 ms, got {args.duration_ms:g}")
        project.simulation.duration_ms = args.duration_ms
    if args.seed is not None:
        project.simulation.seed = args.seed
    project.simulation.threads = _threads(args.threads)
    limits = limits_from_args(args)

    last = [time.monotonic()]

    def report(p: Progress) -> None:
        now = time.monotonic()
        if not args.quiet and now - last[0] > 1.0:
            last[0] = now
            print(f"  {p.t_ms:10.1f} / {p.duration_ms:g} ms  ({p.fraction:4.0%})",
                  file=sys.stderr)

    with _Interrupt() as interrupt:
        try:
            result = simulate(project, limits=limits, progress=report, cancel=interrupt.event,
                              writing=bool(args.out))
        except SimulationError as exc:
            print(f"error: {exc}", file=sys.stderr)
            partial = getattr(exc, "partial_result", None)
            if partial is not None and args.out:
                partial.write(args.out, parquet=args.parquet)
            if partial is not None and args.neo:
                _write_neo(partial, project, args.neo)
            return EXIT_SIMULATION_ERROR
        if result.status == "cancelled" and interrupt.event.is_set():
            result.messages.append(
                f"Interrupted (Ctrl-C) at {result.duration_ms:g} of {result.requested_ms:g} ms: "
                f"the output holds the partial run.")
    print(f"{project.name}: simulated {result.duration_ms:g} ms in {result.wall_time_s:.2f} s "
          f"(build {result.build_time_s:.2f} s), status {result.status}")
    summary = result.summary()
    width = max([len(str(n)) for n in summary["node"]] + [10])
    print(f"{'population':<{width}}  {'kind':<10} {'size':>8} {'spikes':>10} {'rate (Hz)':>10}")
    for row in summary.itertuples():
        print(f"{row.node:<{width}}  {row.kind:<10} {row.size:>8} {row.spikes:>10} "
              f"{row.rate_hz:>10.2f}")
    for message in result.messages:
        print(f"note: {message}")
    if args.out:
        for path in result.write(args.out, parquet=args.parquet):
            print(f"wrote {path}")
    if args.neo:
        print(f"wrote {_write_neo(result, project, args.neo)}")
    if result.status == "cancelled":
        return EXIT_INTERRUPTED
    return EXIT_LIMIT if result.status in ("memory_limit", "time_limit") else 0


def _write_neo(result: SimulationResult, project: Project, path: str) -> Path:
    """Write ``result`` as a Neo block (NixIO) with the nodes the project records."""
    from engine.core.neo_export import write_nix

    record = project.simulation.record_spikes
    block = result.to_neo(recorded=None if record == "all" else record, name=project.name)
    return write_nix(block, path)


def _validate(args: argparse.Namespace) -> int:
    project = load_project(args.project)
    from engine.core.build import estimate_memory

    est = estimate_memory(project, limits_from_args(args))
    print(f"{args.project}: valid ({len(project.network.nodes)} nodes, "
          f"{len(project.network.projections)} projections, about "
          f"{est.total / 2**20:,.1f} MB of {est.budget_source})")
    if est.total > est.budget_mb * 2**20:
        # The file is valid; running it would be refused before anything is allocated.
        print(f"warning: `run` would refuse this network: it needs more than "
              f"{est.budget_source}. Largest items: {est.describe()}.", file=sys.stderr)
    return 0


def _threads(value: str) -> int:
    """``--threads``: a whole number >= 1, or "all" (the cores numba may use)."""
    import numba

    if value == "all":
        return int(numba.config.NUMBA_NUM_THREADS)
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        raise SpikeStudioError(f"--threads: must be a whole number >= 1 or \"all\", "
                               f"got {value!r}")
    return n


def add_limit_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--max-memory-mb", type=float, default=None,
                        help="most memory the run may use (default: half this machine's); "
                             "the project's memory_budget_mb can only lower it")
    parser.add_argument("--max-seconds", type=float, default=CLI_MAX_SECONDS,
                        help=f"most wall seconds the run may take (default "
                             f"{CLI_MAX_SECONDS:g}; 0: no limit)")


def _warm(args: argparse.Namespace) -> int:
    from engine.core.warmup import warm_up

    seconds = warm_up()
    print(f"numba kernels compiled and cached in {seconds:.1f} s")
    return 0


def _export(args: argparse.Namespace) -> int:
    from engine.export import export_project

    project = load_project(args.project)
    report = export_project(project, args.to, args.out)
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for path in report.files:
        print(f"wrote {path}")
    return 0


def _import(args: argparse.Namespace) -> int:
    from engine.export import import_model
    from engine.project import save_project

    options = {"dt_ms": args.dt_ms} if args.dt_ms is not None else {}
    report = import_model(args.model, args.format, **options)
    project = report.project
    # What the import approximated goes to stderr, as an export's warnings do.
    for note in report.approximations:
        print(f"approximated: {note}", file=sys.stderr)
    save_project(project, args.out)
    print(f"wrote {args.out} ({len(project.network.nodes)} nodes, "
          f"{len(project.network.projections)} projections)")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from engine.evaluation.classify import (
        evaluate,
        output_population,
        project_samples,
        readout,
        with_dataset,
    )
    from engine.evaluation.datasets import load_dataset
    from engine.simulator import simulate

    project = load_project(args.project)
    if args.samples is not None and args.samples < 1:
        raise SpikeStudioError(f"--samples: must be at least 1, got {args.samples}")
    if args.dataset is not None or args.samples is not None or args.present_ms is not None:
        data = (load_dataset(args.dataset) if args.dataset is not None
                else project_samples(project))
        project = with_dataset(project, data, n_samples=args.samples,
                               present_ms=args.present_ms)
    output = args.output or output_population(project)
    t0 = time.perf_counter()
    with _Interrupt() as interrupt:
        result = simulate(project, limits=limits_from_args(args), cancel=interrupt.event)
    out = readout(result, project, output, mode=args.readout)
    report = evaluate(result, project, out)
    report.update(project=project.name, output=output, status=result.status,
                  wall_time_s=round(time.perf_counter() - t0, 3))
    print(json.dumps(report))
    if args.out:
        folder = Path(args.out)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "evaluation.json").write_text(json.dumps(report, indent=1) + "\n")
        rows = ["sample,label,prediction,latency_ms"] + [
            f"{i},{lab},{pred},{lat:g}" for i, (lab, pred, lat) in
            enumerate(zip(out.labels, out.predictions, out.latency_ms, strict=True))]
        (folder / "predictions.csv").write_text("\n".join(rows) + "\n")
        print(f"wrote {folder / 'evaluation.json'}, {folder / 'predictions.csv'}",
              file=sys.stderr)
    if result.status != "completed":
        return EXIT_INTERRUPTED if result.status == "cancelled" else EXIT_LIMIT
    return 0


def _compress(args: argparse.Namespace) -> int:
    import json

    from engine.compression import CompressionSettings, compress, measure
    from engine.core.limits import RunStopped
    from engine.evaluation.classify import project_samples
    from engine.evaluation.datasets import load_dataset
    from engine.project import save_project

    project = load_project(args.project)
    settings = CompressionSettings(weight_bits=args.weight_bits,
                                   weight_scale=args.weight_scale, prune=args.prune,
                                   prune_idle=args.prune_idle,
                                   spike_time_bits=args.spike_time_bits)
    calibration = load_dataset(args.calibration) if args.calibration else None
    test = None
    if args.evaluate:
        test = load_dataset(args.dataset) if args.dataset else project_samples(project)
    limits = limits_from_args(args)
    t0 = time.perf_counter()
    with _Interrupt() as interrupt:
        try:
            compressed, report = compress(project, settings, calibration=calibration,
                                          samples=args.samples, limits=limits,
                                          cancel=interrupt.event)
            save_project(compressed, args.out)
            line = {"project": project.name, "out": args.out, **report.to_dict()}
            if test is not None:
                for key, model, done in (("before", project, None),
                                         ("after", compressed, report)):
                    point = measure(model, settings, test, samples=args.samples,
                                    output=args.output, limits=limits, cancel=interrupt.event,
                                    report=done).to_dict()
                    point.pop("report")
                    line[key] = point
        except RunStopped as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_INTERRUPTED if exc.status == "cancelled" else EXIT_LIMIT
    line["wall_time_s"] = round(time.perf_counter() - t0, 3)
    print(json.dumps(line))
    for message in report.messages:
        print(f"note: {message}", file=sys.stderr)
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


def _convert(args: argparse.Namespace) -> int:
    from engine.convert.onnx_import import import_file
    from engine.project import save_project

    t0 = time.perf_counter()
    project = import_file(args.model, dataset=args.dataset, normalize=args.normalize,
                          input_coding=args.input, present_ms=args.present_ms,
                          samples=args.samples)
    save_project(project, args.out)
    pops = [f"{n.id} ({n.size})" for n in project.network.nodes if n.kind == "population"]
    print(f"converted {args.model} in {time.perf_counter() - t0:.2f} s: "
          f"{' -> '.join(pops)}; wrote {args.out}")
    return 0


def _sweep(args: argparse.Namespace) -> int:
    from engine.executor import make_executor
    from engine.sweep import plan_sweep, run_sweep

    document = load_project(args.project).to_dict()
    # Each task gets the same caps as a `spikestudio run` (its OS memory limit included).
    plan = plan_sweep(document, args.set, seeds=args.seeds, sample=args.sample,
                      limits=limits_from_args(args))
    names = ", ".join(f"{f.name} ({len(f.values)})" for f in plan.fields)
    print(f"sweep of {names}: {len(plan.points):,} points x {plan.seeds} seeds = "
          f"{plan.size:,} tasks", file=sys.stderr)
    executor = make_executor(workers=args.workers, dask=args.dask, scheduler=args.scheduler)
    try:
        print(f"{executor.name} executor, {executor.workers} workers"
              + (f"; dashboard: {executor.dashboard_link}" if executor.dashboard_link else ""),
              file=sys.stderr)
        bar = _progress_bar(plan.size, args.quiet)
        with _Interrupt() as interrupt:
            outcome = run_sweep(plan, executor, args.out, cancel=interrupt.event,
                                on_row=lambda row, done, total: bar(1))
        bar(0, close=True)
    finally:
        executor.close()
    failed = int((outcome.rows["status"] != "completed").sum()) if len(outcome.rows) else 0
    print(f"{len(outcome.rows):,} of {outcome.total:,} rows ({failed} not completed); wrote "
          f"{', '.join(str(p) for p in outcome.paths)}")
    if outcome.error:
        print(f"error: the sweep stopped: {outcome.error}", file=sys.stderr)
        return EXIT_SIMULATION_ERROR
    return EXIT_INTERRUPTED if outcome.cancelled else 0


def _progress_bar(total: int, quiet: bool) -> Callable[..., None]:
    """``bar(n)`` advances a tqdm bar (a line per 10 % without tqdm); ``close=True`` ends it."""
    if quiet:
        return lambda n, close=False: None
    try:
        from tqdm import tqdm
    except ImportError:
        tqdm = None
    if tqdm is not None:
        bar = tqdm(total=total, unit="run", file=sys.stderr)
        return lambda n, close=False: bar.close() if close else bar.update(n)
    done = [0]

    def advance(n: int, close: bool = False) -> None:
        done[0] += n
        if n and done[0] * 10 // total != (done[0] - n) * 10 // total:
            print(f"  {done[0]:,} / {total:,} runs", file=sys.stderr)
    return advance


def build_parser(*extensions: Callable[[Any], None]) -> argparse.ArgumentParser:
    """The parser of the engine's commands (run, validate, warm, export, import, sweep, ...).

    Each of ``extensions`` is called with the subparsers action to add more commands: the
    workbench adds ``serve`` and ``publish`` (:mod:`workbench.cli`, the console script).
    """
    parser = argparse.ArgumentParser(prog="spikestudio",
                                     description="SpikeStudio: spiking neural network workbench")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="simulate a project headless")
    run.add_argument("project", help="project JSON file")
    run.add_argument("--duration-ms", type=float, default=None, help="override the duration")
    run.add_argument("--seed", type=int, default=None, help="override the seed")
    run.add_argument("--threads", default="all", metavar="N",
                     help="threads that update the neurons: a number or \"all\" (default: "
                          "all cores; spikes are the same for any number)")
    run.add_argument("--out", default=None, help="write spikes.csv, counts.csv, summary.json")
    run.add_argument("--parquet", action="store_true", help="write spikes as Parquet")
    run.add_argument("--neo", default=None, metavar="OUT.nix",
                     help="write spikes and traces as a Neo block (NixIO, for Elephant)")
    run.add_argument("--quiet", action="store_true", help="no progress output")
    add_limit_flags(run)
    run.set_defaults(func=_run)
    val = sub.add_parser("validate", help="check a project file")
    val.add_argument("project")
    add_limit_flags(val)
    val.set_defaults(func=_validate)
    warm = sub.add_parser("warm", help="compile and cache the numba kernels")
    warm.set_defaults(func=_warm)
    from engine.export import IMPORTERS, TARGETS

    exp = sub.add_parser("export", help="write the model for another tool (NIR, scripts)")
    exp.add_argument("project", help="project JSON file")
    exp.add_argument("--to", required=True, choices=sorted(TARGETS) or None,
                     help="target: " + "; ".join(f"{t.name}: {t.title}"
                                                 for t in TARGETS.values()))
    exp.add_argument("--out", required=True, help="file or folder to write (see --to)")
    exp.set_defaults(func=_export)
    imp = sub.add_parser("import", help="read a model file (e.g. NIR) into a project")
    imp.add_argument("model", help="model file")
    imp.add_argument("--format", default="nir", choices=sorted(IMPORTERS) or None)
    imp.add_argument("--out", required=True, help="project JSON file to write")
    imp.add_argument("--dt-ms", type=float, default=None, help="time step of the project")
    imp.set_defaults(func=_import)
    ev = sub.add_parser("evaluate", help="classify a dataset with a project: accuracy, "
                                         "confusion, activity and energy per inference")
    ev.add_argument("project", help="project JSON file with a dataset encoder")
    ev.add_argument("--dataset", default=None,
                    help="digits (held-out split), digits-train, or a .csv / .npz file "
                         "(default: the project's own samples)")
    ev.add_argument("--samples", type=int, default=None, help="use the first N samples")
    ev.add_argument("--present-ms", type=float, default=None,
                    help="override the presentation time per sample")
    ev.add_argument("--output", default=None, help="output population (default: 'output')")
    ev.add_argument("--readout", default="count", choices=("count", "membrane"))
    ev.add_argument("--out", default=None, help="folder for evaluation.json, predictions.csv")
    add_limit_flags(ev)
    ev.set_defaults(func=_evaluate)
    conv = sub.add_parser("convert", help="convert an ONNX classifier (ANN), or a NIR chain "
                                          "of Affine + IF layers, to IF layers")
    conv.add_argument("model", help=".onnx or .nir file")
    conv.add_argument("--out", required=True, help="project JSON file to write")
    conv.add_argument("--dataset", default="digits",
                      help="calibration and presented samples: digits or a .csv / .npz file")
    conv.add_argument("--normalize", default="max", choices=("max", "percentile"))
    conv.add_argument("--input", default="rate", choices=("rate", "current"))
    conv.add_argument("--present-ms", type=float, default=50.0,
                      help="presentation time per sample")
    conv.add_argument("--samples", type=int, default=200,
                      help="samples the project presents")
    conv.set_defaults(func=_convert)
    comp = sub.add_parser("compress", help="quantise and prune a project's weights, remove "
                                           "idle neurons, quantise latency codes")
    comp.add_argument("project", help="project JSON file")
    comp.add_argument("--out", required=True, help="compressed project JSON file to write")
    comp.add_argument("--weight-bits", type=int, default=None,
                      help="per-layer symmetric weight quantisation to K bits (2..8)")
    comp.add_argument("--weight-scale", default="max",
                      help="scale of a quantised layer: max (the largest weight kept exactly) "
                           "or mse (least squared rounding error; clips the largest)")
    comp.add_argument("--prune", type=float, default=0.0,
                      help="fraction in [0, 1) of each projection's synapses to remove, "
                           "smallest |w| first")
    comp.add_argument("--prune-idle", action="store_true",
                      help="remove hidden neurons that never spike on the calibration set")
    comp.add_argument("--spike-time-bits", type=int, default=None,
                      help="quantise latency encoders to 2**K spike times per window (1..8)")
    comp.add_argument("--calibration", default=None,
                      help="calibration set of --prune-idle: digits-train, digits or a .csv / "
                           ".npz file (default: the digits training split for a digits "
                           "project, else the project's own samples)")
    comp.add_argument("--evaluate", action="store_true",
                      help="also classify --dataset before and after: accuracy, events, "
                           "energy per inference")
    comp.add_argument("--dataset", default=None,
                      help="test set of --evaluate: digits (held-out split), digits-train or "
                           "a .csv / .npz file (default: the project's own samples)")
    comp.add_argument("--samples", type=int, default=None,
                      help="use the first N calibration and test samples")
    comp.add_argument("--output", default=None, help="output population (default: 'output')")
    add_limit_flags(comp)
    comp.set_defaults(func=_compress)
    sw = sub.add_parser("sweep", help="run a project over a grid of parameter values "
                                      "(local worker processes or Dask): sweep.csv")
    sw.add_argument("project", help="project JSON file")
    sw.add_argument("--set", action="append", default=[], metavar="FIELD=VALUES",
                    help="a field and its values: FIELD=v1,v2,... or FIELD=start:stop:num; "
                         "FIELD as the validator prints it (network.nodes[1].params.tau_m) "
                         "or NODE.PARAM (exc.tau_m); repeat for a grid")
    sw.add_argument("--seeds", type=int, default=1,
                    help="runs per point, seeds simulation.seed + 0 .. N-1 (default 1)")
    sw.add_argument("--sample", type=int, default=None,
                    help="run K grid points drawn at random (seeded) instead of all")
    sw.add_argument("--out", required=True, help="folder for sweep.csv and sweep.parquet")
    sw.add_argument("--workers", type=int, default=None,
                    help="worker processes (default: one per core; not with --scheduler)")
    sw.add_argument("--dask", action="store_true",
                    help="run on a Dask LocalCluster instead of the local worker pool")
    sw.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT",
                    help="run on the Dask cluster of this scheduler")
    sw.add_argument("--quiet", action="store_true", help="no progress bar")
    add_limit_flags(sw)
    sw.set_defaults(func=_sweep)
    add_lab_command(sub)
    federated_cli.add_command(sub)
    for extend in extensions:
        extend(sub)
    return parser


def main(argv: list[str] | None = None, parser: argparse.ArgumentParser | None = None) -> int:
    """Run one command (``python -m engine.cli``: the engine's commands only).

    The ``spikestudio`` console script is :func:`workbench.cli.main`, which passes a
    ``parser`` that also knows the workbench's commands.
    """
    args = (parser or build_parser()).parse_args(argv)
    try:
        return args.func(args)
    except SpikeStudioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: no output written", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
