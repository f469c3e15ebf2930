"""Classroom benchmark: one server, many students (the teaching-lab use case).

Measured:

1. **Sessions.** ``spikestudio serve`` is started with a fresh ``SPIKESTUDIO_HOME``; N sessions
   are opened one after another with ``bokeh.client.pull_session`` (each one builds a whole
   workbench on the server, as a browser tab does, without a browser's rendering cost). We
   report the server's resident memory (VmRSS) before and after each step and the time to open
   a session (server build plus this client's decoding of the document).
2. **Everybody presses Run at once.** In this process, N runs of a sample project are
   submitted together to the workbench's shared runner (``workbench.runner``, one worker per
   core, the same code path as the Run button). We report when the first and the last run
   finished and the median wait: what the slowest student waits for a result.

Usage::

    .venv/bin/python bench/classroom.py [--students 30] [--sample cuba_balanced.json]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
VENV_BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    return float("nan")


def sessions(n: int) -> list[tuple[int, float, float]]:
    """(session number, seconds to open it, server RSS MB after it); row 0 is the idle server."""
    port = _free_port()
    env = dict(os.environ, SPIKESTUDIO_HOME=tempfile.mkdtemp(prefix="ss-classroom-"))
    server = subprocess.Popen([str(VENV_BIN / "spikestudio"), "serve", "--port", str(port)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rows = []
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/static/js/bokeh.min.js",
                                       timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("the server did not start") from None
                time.sleep(0.2)
        import panel.models  # noqa: F401  (the client must know Panel's model types)
        from bokeh.client import pull_session

        import workbench.app  # noqa: F401  (and our graph editor's)

        rows.append((0, 0.0, _rss_mb(server.pid)))
        opened = []
        for i in range(1, n + 1):
            start = time.perf_counter()
            opened.append(pull_session(url=f"http://127.0.0.1:{port}/app"))
            rows.append((i, time.perf_counter() - start, _rss_mb(server.pid)))
        for session in opened:
            session.close()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    return rows


def simultaneous_runs(n: int, sample: str) -> dict:
    """Submit n runs of a sample at once to the shared runner; when do they finish?"""
    from engine.project import load_project
    from workbench import runner

    runner.pool().wait_ready()
    project = load_project(ROOT / "sample_projects" / sample)
    start = time.perf_counter()
    handles = [runner.submit(project) for _ in range(n)]
    finished = [0.0] * n
    while not all(finished):
        for i, handle in enumerate(handles):
            if handle.done and not finished[i]:
                finished[i] = time.perf_counter() - start
        time.sleep(0.005)
    errors = [h.error for h in handles if h.error]
    if errors:
        raise RuntimeError(errors[0])
    kernel = [h.result.wall_time_s for h in handles]
    return {"first_s": min(finished), "median_s": statistics.median(finished),
            "last_s": max(finished), "kernel_s": statistics.median(kernel),
            "spikes": len(handles[0].result.spikes), "workers": runner.pool().workers}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--sample", default="cuba_balanced.json")
    args = parser.parse_args(argv)
    print(f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}, "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    rows = sessions(args.students)
    idle = rows[0][2]
    print(f"\n{args.students} sessions on one server (spikestudio serve)")
    print(f"{'session':>8} {'open s':>7} {'server RSS MB':>14}")
    for i, seconds, rss in rows:
        if i in (0, 1, 2, 5, 10, 20, args.students):
            print(f"{i:>8} {seconds:>7.2f} {rss:>14.0f}")
    per_session = (rows[-1][2] - rows[1][2]) / max(1, len(rows) - 2)
    print(f"first session +{rows[1][2] - idle:.0f} MB (imports, first workbench); each further "
          f"session +{per_session:.1f} MB")
    runs = simultaneous_runs(args.students, args.sample)
    print(f"\n{args.students} x Run of {args.sample} at once ({runs['workers']} workers, "
          f"{runs['spikes']:,} spikes each, {runs['kernel_s']:.2f} s per run): first result "
          f"after {runs['first_s']:.2f} s, median {runs['median_s']:.2f} s, last "
          f"{runs['last_s']:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
