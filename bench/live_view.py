"""Live view overhead: CUBA through the worker pool with and without live spike streaming.

With ``debug["live"]`` the worker sends the spikes recorded since its last progress message
(about five times a second) next to the progress; the page redraws its raster and rates from
them every ``workbench.run_bar.LIVE_EVERY_S``. Three modes, the same project and seed each time,
alternated within every repeat (the machine is shared):

``off``
    no streaming (what a run cost before the live view);
``stream``
    the worker streams, the server only collects the parts;
``page``
    streaming plus the page's redraws in this (the server's) process, as
    ``RunBar._show_live`` does them: ``RunHandle.live_spikes`` and
    ``ResultsView.show_live`` (raster index, rates, Bokeh data sources; no browser, so no
    websocket serialisation). On two cores the redraws compete with the worker for CPU.

Measured per mode: the engine's run time (``wall_time_s``, build excluded) and the time from
submit to the result in the server; the minimum and median over ``--repeats``. Writes the
"## Live view overhead" section of bench/RESULTS.md (``--no-write`` to skip).

Usage::

    .venv/bin/python bench/live_view.py [--sizes 4000 40000] [--duration-ms 1000] [--repeats 5]
                                        [--no-write]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.cuba import cuba_document  # noqa: E402
from bench.results_section import update_section  # noqa: E402
from engine.core.limits import RunLimits  # noqa: E402
from workbench.results_view import ResultsView  # noqa: E402
from workbench.run_bar import LIVE_EVERY_S  # noqa: E402
from workbench.runner import WorkerPool  # noqa: E402

MODES = ("off", "stream", "page")
RESULTS = Path(__file__).with_name("RESULTS.md")
HEADING = "## Live view overhead (bench/live_view.py)"


def one(pool: WorkerPool, doc: dict, mode: str) -> tuple[float, float, int, int]:
    """(run s, submit-to-result s, spikes streamed, redraws) of one run in ``mode``."""
    view = ResultsView() if mode == "page" else None
    if view is not None:
        view.run_started(doc)
    start = time.perf_counter()
    handle = pool.submit(doc, debug={"breakpoints": [], "live": mode != "off"})
    shown, drawn_at, redraws = 0, 0.0, 0
    while not handle.done:
        time.sleep(0.05)  # the page's poll (workbench.run_bar.POLL_MS)
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


def measure(pool: WorkerPool, n: int, duration_ms: float, repeats: int) -> dict:
    """Alternating runs of every mode at size ``n``: per mode, lists of (run s, total s) and
    the spikes streamed / redraws of its last run."""
    doc = cuba_document(n, duration_ms, False, False)
    one(pool, doc, "off")  # warm: first build of this size
    runs: dict[str, list[tuple[float, float, int, int]]] = {m: [] for m in MODES}
    for _ in range(repeats):
        for mode in MODES:
            runs[mode].append(one(pool, doc, mode))
    return runs


def summary_rows(n: int, runs: dict) -> list[str]:
    """Table rows (markdown) of one size: min and median per mode, overhead of the minimum."""
    base_run = min(r[0] for r in runs["off"])
    base_total = min(r[1] for r in runs["off"])
    rows = []
    for mode in MODES:
        run_s = [r[0] for r in runs[mode]]
        total_s = [r[1] for r in runs[mode]]
        rows.append(
            f"| {n:,} | {mode} | {min(run_s):.3f} / {statistics.median(run_s):.3f} | "
            f"{100 * (min(run_s) / base_run - 1):+.1f} % | {min(total_s):.3f} / "
            f"{statistics.median(total_s):.3f} | {100 * (min(total_s) / base_total - 1):+.1f} % "
            f"| {runs[mode][-1][2]:,} | {runs[mode][-1][3]} |")
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[4000, 40000])
    ap.add_argument("--duration-ms", type=float, default=1000.0)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--no-write", action="store_true", help="do not update bench/RESULTS.md")
    args = ap.parse_args(argv)
    pool = WorkerPool(workers=1, limits=RunLimits(max_memory_mb=4096, max_wall_s=600))
    assert pool.wait_ready(600)
    started = datetime.now(UTC)
    load_start = os.getloadavg()[0]
    rows, raw = [], []
    try:
        for n in args.sizes:
            runs = measure(pool, n, args.duration_ms, args.repeats)
            rows += summary_rows(n, runs)
            raw.append(f"- N = {n:,}: " + "; ".join(
                f"{m} " + ", ".join(f"{r[0]:.2f}/{r[1]:.2f}" for r in runs[m]) for m in MODES))
            print("\n".join(rows[-len(MODES):]), flush=True)
    finally:
        pool.close()
    load_end = os.getloadavg()[0]
    text = "\n".join([
        HEADING, "",
        f"`bench/live_view.py --repeats {args.repeats}`, {started:%Y-%m-%d %H:%M} UTC, "
        f"CUBA {args.duration_ms:g} ms (seed 1, the same network every run), one worker; "
        f"1-minute load {load_start:.1f} at the start, {load_end:.1f} at the end (2 cores). "
        f"The modes alternate within each repeat. Times in s, min / median; the overhead "
        f"compares minima with `off`. Target: at most 10 % overhead.", "",
        "| N | mode | engine run (s) | overhead | submit -> result (s) | overhead "
        "| spikes streamed | redraws |",
        "|---|---|---|---|---|---|---|---|", *rows, "",
        "Every run (engine s / submit-to-result s):", "", *raw, ""])
    print(text)
    if not args.no_write:
        update_section(RESULTS, HEADING, text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
