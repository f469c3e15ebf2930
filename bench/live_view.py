"""Live view overhead: CUBA through the worker pool with and without live spike streaming.

With ``debug["live"]`` the worker sends the spikes recorded since its last progress message
(about five times a second) next to the progress; the page redraws its raster and rates from
them every ``workbench.app.LIVE_EVERY_S``. Three modes, the same project and seed each time,
alternated within every repeat (the machine is shared):

``off``
    no streaming (what a run cost before the live view);
``stream``
    the worker streams, the server only collects the parts;
``page``
    streaming plus the page's redraws in this (the server's) process, as
    ``Workbench._show_live`` does them: ``RunHandle.live_spikes`` and
    ``ResultsView.show_live`` (raster index, rates, Bokeh data sources; no browser, so no
    websocket serialisation). On two cores the redraws compete with the worker for CPU.

Measured per mode: the engine's run time (``wall_time_s``, build excluded) and the time from
submit to the result in the server; the minimum and median over ``--repeats``.

Usage::

    .venv/bin/python bench/live_view.py [--sizes 4000 40000] [--duration-ms 1000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.cuba import cuba_document  # noqa: E402
from engine.limits import RunLimits  # noqa: E402
from workbench.app import LIVE_EVERY_S  # noqa: E402
from workbench.results_view import ResultsView  # noqa: E402
from workbench.runner import WorkerPool  # noqa: E402

MODES = ("off", "stream", "page")


def one(pool: WorkerPool, doc: dict, mode: str) -> tuple[float, float, int, int]:
    """(run s, submit-to-result s, spikes streamed, redraws) of one run in ``mode``."""
    view = ResultsView() if mode == "page" else None
    if view is not None:
        view.run_started(doc)
    start = time.perf_counter()
    handle = pool.submit(doc, debug={"breakpoints": [], "live": mode != "off"})
    shown, drawn_at, redraws = 0, 0.0, 0
    while not handle.done:
        time.sleep(0.05)  # the page's poll (workbench.app.POLL_MS)
        now = time.perf_counter()
        p = handle.progress
        if (view is not None and handle.state == "running" and len(handle.live) > shown
                and now - drawn_at >= LIVE_EVERY_S and p is not None):
            drawn_at = now
            spikes, shown = handle.live_spikes()
            view.show_live(spikes, p.t_ms)
            redraws += 1
    total = time.perf_counter() - start
    assert handle.error is None, handle.error
    streamed = sum(len(part[0]) for part in handle.live)
    return handle.result.wall_time_s, total, streamed, redraws


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[4000, 40000])
    ap.add_argument("--duration-ms", type=float, default=1000.0)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args(argv)
    pool = WorkerPool(workers=1, limits=RunLimits(max_memory_mb=4096, max_wall_s=600))
    assert pool.wait_ready(600)
    try:
        print(f"load {os.getloadavg()[0]:.2f} at start; {args.repeats} alternating repeats")
        for n in args.sizes:
            doc = cuba_document(n, args.duration_ms, False, False)
            one(pool, doc, "off")  # warm: first build of this size
            runs: dict[str, list[tuple[float, float, int, int]]] = {m: [] for m in MODES}
            for _ in range(args.repeats):
                for mode in MODES:
                    runs[mode].append(one(pool, doc, mode))
            base_run = min(r[0] for r in runs["off"])
            base_total = min(r[1] for r in runs["off"])
            for mode in MODES:
                run_s = [r[0] for r in runs[mode]]
                total_s = [r[1] for r in runs[mode]]
                print(f"N={n} {mode:6s}: run min {min(run_s):.3f} med "
                      f"{statistics.median(run_s):.3f} s ({100 * (min(run_s) / base_run - 1):+.1f}"
                      f" %), submit->result min {min(total_s):.3f} med "
                      f"{statistics.median(total_s):.3f} s "
                      f"({100 * (min(total_s) / base_total - 1):+.1f} %), "
                      f"{runs[mode][-1][2]:,} spikes streamed, {runs[mode][-1][3]} redraws")
            print("   all runs: " + "; ".join(
                f"{m} " + ", ".join(f"{r[0]:.2f}/{r[1]:.2f}" for r in runs[m]) for m in MODES))
        print(f"load {os.getloadavg()[0]:.2f} at end")
    finally:
        pool.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
