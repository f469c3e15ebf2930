"""The ``spikestudio`` command: run projects headless, validate them, start the workbench."""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

from engine.errors import SimulationError, SpikeStudioError
from engine.limits import RunLimits
from engine.project import load_project

SAMPLES = Path(__file__).resolve().parent.parent / "sample_projects"


def _run(args: argparse.Namespace) -> int:
    from engine.simulator import Progress, simulate

    project = load_project(args.project)
    if args.duration_ms is not None:
        if not args.duration_ms > 0:
            raise SpikeStudioError(f"--duration-ms: must be > 0 ms, got {args.duration_ms:g}")
        project.simulation.duration_ms = args.duration_ms
    if args.seed is not None:
        project.simulation.seed = args.seed

    last = [time.monotonic()]

    def report(p: Progress) -> None:
        now = time.monotonic()
        if not args.quiet and now - last[0] > 1.0:
            last[0] = now
            print(f"  {p.t_ms:10.1f} / {p.duration_ms:g} ms  ({p.fraction:4.0%})",
                  file=sys.stderr)

    try:
        result = simulate(project, progress=report)
    except SimulationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        partial = getattr(exc, "partial_result", None)
        if partial is not None and args.out:
            partial.write(args.out, parquet=args.parquet)
        return 3
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
    return 0


def _validate(args: argparse.Namespace) -> int:
    project = load_project(args.project)
    from engine.build import estimate_memory

    est = estimate_memory(project)
    print(f"{args.project}: valid ({len(project.network.nodes)} nodes, "
          f"{len(project.network.projections)} projections, about "
          f"{est.total / 2**20:,.1f} MB)")
    return 0


def _serve_limits(args: argparse.Namespace) -> tuple[int, RunLimits]:
    """Workers and per-run caps of ``serve``: the options, else defaults for this machine."""
    for name in ("workers", "max_run_memory_mb", "max_run_seconds"):
        value = getattr(args, name)
        if value is not None and not (value > 0 and math.isfinite(value)):
            raise SpikeStudioError(f"--{name.replace('_', '-')}: must be a positive number, "
                                   f"got {value:g}")
    if args.workers:
        workers = args.workers
    elif hasattr(os, "sched_getaffinity"):  # the cores this process may use
        workers = len(os.sched_getaffinity(0))
    else:
        workers = os.cpu_count() or 1
    defaults = RunLimits.for_server(workers)
    return workers, RunLimits(
        max_memory_mb=args.max_run_memory_mb or defaults.max_memory_mb,
        max_wall_s=args.max_run_seconds or defaults.max_wall_s)


def _serve(args: argparse.Namespace) -> int:
    app = Path(__file__).resolve().parent.parent / "workbench" / "app.py"
    workers, limits = _serve_limits(args)
    # The server's runner reads its caps from the environment; no page can change them.
    os.environ["SPIKESTUDIO_WORKERS"] = str(workers)
    os.environ["SPIKESTUDIO_MAX_RUN_MEMORY_MB"] = f"{limits.max_memory_mb:g}"
    os.environ["SPIKESTUDIO_MAX_RUN_SECONDS"] = f"{limits.max_wall_s:g}"
    print(f"spikestudio: {workers} simulation workers; per run at most "
          f"{limits.max_memory_mb:,.0f} MB and {limits.max_wall_s:g} s")
    # Serving on all interfaces (a class) accepts any origin; locally only this host's.
    origins = ["*"] if args.address == "0.0.0.0" else [f"{args.address}:{args.port}",
                                                        f"localhost:{args.port}"]
    command = [sys.executable, "-m", "panel", "serve", str(app), "--port", str(args.port),
               "--address", args.address]
    for origin in origins:
        command += ["--allow-websocket-origin", origin]
    if args.show:
        command.append("--show")
    # Become the server (no child left running when a supervisor stops this process).
    sys.stdout.flush()
    os.execv(sys.executable, command)
    return 0  # pragma: no cover - execv does not return


def _warm(args: argparse.Namespace) -> int:
    from engine.warmup import warm_up

    seconds = warm_up()
    print(f"numba kernels compiled and cached in {seconds:.1f} s")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="spikestudio",
                                     description="SpikeStudio: spiking neural network workbench")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="simulate a project headless")
    run.add_argument("project", help="project JSON file")
    run.add_argument("--duration-ms", type=float, default=None, help="override the duration")
    run.add_argument("--seed", type=int, default=None, help="override the seed")
    run.add_argument("--out", default=None, help="write spikes.csv, counts.csv, summary.json")
    run.add_argument("--parquet", action="store_true", help="write spikes as Parquet")
    run.add_argument("--quiet", action="store_true", help="no progress output")
    run.set_defaults(func=_run)
    val = sub.add_parser("validate", help="check a project file")
    val.add_argument("project")
    val.set_defaults(func=_validate)
    serve = sub.add_parser("serve", help="start the browser workbench")
    serve.add_argument("--port", type=int, default=5006)
    serve.add_argument("--address", default="127.0.0.1")
    serve.add_argument("--show", action="store_true", help="open a browser")
    serve.add_argument("--workers", type=int, default=None,
                       help="simulation worker processes (default: one per core)")
    serve.add_argument("--max-run-memory-mb", type=float, default=None,
                       help="memory cap of one run; a project can only lower it (default: "
                            "half the machine's memory shared by the workers)")
    serve.add_argument("--max-run-seconds", type=float, default=None,
                       help="wall-time cap of one run (default: 300)")
    serve.set_defaults(func=_serve)
    warm = sub.add_parser("warm", help="compile and cache the numba kernels")
    warm.set_defaults(func=_warm)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``spikestudio`` console script."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except SpikeStudioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
