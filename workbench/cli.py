"""The ``spikestudio`` console script: the engine's commands plus the workbench's.

``run``, ``validate``, ``warm``, ``export``, ``import`` and ``lab`` are :mod:`engine.cli`'s;
this module adds ``serve`` (become the Panel server of ``workbench/app.py`` under the
administrator's caps), ``publish`` (copy a project into the class folder), ``report`` (run a
project and write a self-contained HTML report, which needs the widgets) and ``class
progress`` (the lecturer's table of lab steps). engine/ never imports the workbench, so these
live here.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path
from typing import Any

from engine import cli as engine_cli
from engine.core.limits import RunLimits
from engine.errors import SpikeStudioError


def _serve_limits(args: argparse.Namespace) -> tuple[int, RunLimits]:
    """Workers and per-run caps of ``serve``: the options, else defaults for this machine."""
    for name in ("workers", "max_run_memory_mb", "max_run_seconds", "max_session_memory_mb",
                 "max_run_threads"):
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
        max_wall_s=args.max_run_seconds or defaults.max_wall_s,
        max_threads=int(args.max_run_threads or defaults.max_threads))


def _serve(args: argparse.Namespace) -> int:
    from workbench.lab_progress import ENV_LECTURERS
    from workbench.runner import ENV_MAX_SESSION_MEMORY_MB, default_session_memory_mb

    app = Path(__file__).resolve().parent / "app.py"  # its folder holds login.html
    workers, limits = _serve_limits(args)
    # The server's runner reads its caps from the environment; no page can change them.
    os.environ["SPIKESTUDIO_WORKERS"] = str(workers)
    os.environ["SPIKESTUDIO_MAX_RUN_MEMORY_MB"] = f"{limits.max_memory_mb:g}"
    os.environ["SPIKESTUDIO_MAX_RUN_SECONDS"] = f"{limits.max_wall_s:g}"
    os.environ["SPIKESTUDIO_MAX_RUN_THREADS"] = str(limits.max_threads)
    session_mb = args.max_session_memory_mb or default_session_memory_mb()
    os.environ[ENV_MAX_SESSION_MEMORY_MB] = f"{session_mb:g}"
    if args.max_sweep_workers is not None:
        if args.max_sweep_workers < 1:
            raise SpikeStudioError(f"--max-sweep-workers: must be at least 1, got "
                                   f"{args.max_sweep_workers}")
        # Read by workbench.sweep_tab: the worker processes one person's sweep may use.
        os.environ["SPIKESTUDIO_MAX_SWEEP_WORKERS"] = str(args.max_sweep_workers)
    print(f"spikestudio: {workers} simulation workers; per run at most "
          f"{limits.max_memory_mb:,.0f} MB, {limits.max_wall_s:g} s and "
          f"{limits.max_threads} thread{'s' if limits.max_threads != 1 else ''}; per page "
          f"{session_mb:,.0f} MB of the server")
    # Serving on all interfaces (a class) accepts any origin; locally only this host's.
    origins = ["*"] if args.address == "0.0.0.0" else [f"{args.address}:{args.port}",
                                                        f"localhost:{args.port}"]
    # workbench.server, not ``panel serve``: it sets the workspace cookie from the server.
    command = [sys.executable, "-m", "workbench.server", "--port", str(args.port),
               "--address", args.address]
    for origin in origins:
        command += ["--allow-websocket-origin", origin]
    if args.show:
        command.append("--show")
    env = dict(os.environ)
    if args.autosave_days is not None:
        if not args.autosave_days > 0:
            raise SpikeStudioError(f"--autosave-days: must be > 0, got {args.autosave_days:g}")
        env["SPIKESTUDIO_AUTOSAVE_DAYS"] = str(args.autosave_days)
    # Authentication is Panel's own; each person then gets the workspace of their user name.
    # Secrets go through the environment, so they do not show in the server's command line.
    if args.basic_auth or args.oauth_provider:
        secret = args.cookie_secret or os.environ.get("PANEL_COOKIE_SECRET")
        if not secret:
            raise SpikeStudioError("--cookie-secret: required with --basic-auth or "
                                   "--oauth-provider (any long random string)")
        env["PANEL_COOKIE_SECRET"] = secret
    if args.lecturers is not None:
        names = [n.strip() for n in args.lecturers.split(",") if n.strip()]
        if not names or not (args.basic_auth or args.oauth_provider):
            raise SpikeStudioError("--lecturers: give user names (alice,bob) and log people in "
                                   "with --basic-auth or --oauth-provider")
        env[ENV_LECTURERS] = ",".join(names)  # read by workbench.lab_progress
    else:
        env.pop(ENV_LECTURERS, None)
    if args.basic_auth:
        # Not PANEL_BASIC_AUTH: Panel lower-cases that variable (and so the password).
        command += ["--basic-auth", args.basic_auth,
                    # Panel's own login page loads its logo from a CDN: ours is offline.
                    "--basic-login-template", str(app.parent / "login.html")]
    if args.oauth_provider:
        command += ["--oauth-provider", args.oauth_provider]
        for flag, var in (("oauth_key", "PANEL_OAUTH_KEY"), ("oauth_secret", "PANEL_OAUTH_SECRET")):
            if getattr(args, flag):
                env[var] = getattr(args, flag)
    # Become the server (no child left running when a supervisor stops this process).
    sys.stdout.flush()
    os.execve(sys.executable, command, env)
    return 0  # pragma: no cover - execv does not return


def _publish(args: argparse.Namespace) -> int:
    from workbench.storage import publish  # only for this command: no Panel needed

    target = publish(args.project, replace=args.replace)
    print(f"published {args.project} for the class as {target}")
    return 0


def _report(args: argparse.Namespace) -> int:
    from engine.files import atomic_write_text
    from engine.project import load_project
    from engine.simulator import simulate
    from workbench.report import report_html

    project = load_project(args.project)
    result = simulate(project, limits=engine_cli.limits_from_args(args))
    atomic_write_text(Path(args.out), report_html(project.to_dict(), result))
    print(f"{project.name}: {result.status}, {len(result.spikes):,} spikes in "
          f"{result.duration_ms:g} ms; wrote {args.out}")
    return 0


def _class_progress(args: argparse.Namespace) -> int:
    from engine.files import atomic_write_text
    from workbench.lab_progress import class_progress

    table = class_progress(Path(args.workspaces) if args.workspaces else None)
    if not table.users:
        print("no lab progress recorded yet")
    else:
        print(table.text())
    if args.csv:
        atomic_write_text(Path(args.csv), table.csv())
    return 0


def add_commands(sub: Any) -> None:
    """Add ``serve``, ``publish`` and ``report`` to the subparsers action ``sub`` of
    engine.cli's parser."""
    serve = sub.add_parser("serve", help="start the browser workbench")
    serve.add_argument("--port", type=int, default=5006)
    serve.add_argument("--address", default="127.0.0.1")
    serve.add_argument("--show", action="store_true", help="open a browser")
    serve.add_argument("--basic-auth", default=None, metavar="FILE_OR_PASSWORD",
                       help="log people in (Panel basic auth): a JSON file of user: password, "
                            "or one shared password (then any user name is accepted, so use a "
                            "file for private workspaces); each user gets their own workspace")
    serve.add_argument("--cookie-secret", default=None,
                       help="secret that signs login cookies (needed with authentication)")
    serve.add_argument("--oauth-provider", default=None, help="Panel OAuth provider, e.g. github")
    serve.add_argument("--oauth-key", default=None, help="OAuth client id")
    serve.add_argument("--oauth-secret", default=None, help="OAuth client secret")
    serve.add_argument("--autosave-days", type=float, default=None,
                       help="delete autosaves untouched this long at start (default 30)")
    serve.add_argument("--workers", type=int, default=None,
                       help="simulation worker processes (default: one per core)")
    serve.add_argument("--max-run-memory-mb", type=float, default=None,
                       help="memory cap of one run; a project can only lower it (default: "
                            "half the machine's memory shared by the workers)")
    serve.add_argument("--max-run-seconds", type=float, default=None,
                       help="wall-time cap of one run (default: 300)")
    serve.add_argument("--max-run-threads", type=int, default=None,
                       help="threads one run may use; a project's simulation.threads is "
                            "lowered to it (default: 1, the workers share the cores)")
    serve.add_argument("--max-session-memory-mb", type=float, default=None,
                       help="memory the server keeps for one page's results; a run's spikes "
                            "beyond a quarter of it stay in files on disk and are read in "
                            "chunks (default: 1/16 of the machine's memory)")
    serve.add_argument("--max-sweep-workers", type=int, default=None,
                       help="worker processes one sweep of the Sweep tab may use (default 1, "
                            "so one person's sweep cannot take a class server's cores)")
    serve.add_argument("--lecturers", default=None, metavar="NAMES",
                       help="users who see the class's lab progress on the page (comma-"
                            "separated, e.g. alice,bob; needs --basic-auth or OAuth)")
    serve.set_defaults(func=_serve)
    pub = sub.add_parser("publish", help="publish a project read-only to every student")
    pub.add_argument("project", help="project JSON file (validated first)")
    pub.add_argument("--replace", action="store_true",
                     help="update the class project of the same name")
    pub.set_defaults(func=_publish)
    rep = sub.add_parser("report", help="run a project and write a self-contained HTML report")
    rep.add_argument("project", help="project JSON file")
    rep.add_argument("--out", required=True, help="HTML file to write")
    engine_cli.add_limit_flags(rep)
    rep.set_defaults(func=_report)
    cls = sub.add_parser("class", help="a lecturer's view of the class")
    cls_sub = cls.add_subparsers(dest="class_command", required=True)
    prog = cls_sub.add_parser("progress", help="print every user's lab steps checked: "
                                               "held/tried per step")
    prog.add_argument("--csv", default=None, metavar="FILE", help="also write the table as CSV")
    prog.add_argument("--workspaces", default=None, metavar="DIR",
                      help="the workspaces folder (default: the server's, under "
                           "$SPIKESTUDIO_HOME)")
    prog.set_defaults(func=_class_progress)


def build_parser() -> argparse.ArgumentParser:
    """Every command of ``spikestudio``."""
    return engine_cli.build_parser(add_commands)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``spikestudio`` console script."""
    return engine_cli.main(argv, parser=build_parser())


if __name__ == "__main__":
    sys.exit(main())
