"""Live view overhead: CUBA through the worker pool with and without live spike streaming.

With ``debug["live"]`` the worker sends the spikes recorded since its last progress message
(about five times a second) next to the progress; the page redraws its raster and rates from
them. This measures what that costs the run: the engine's run time (``wall_time_s``) and the
time from submit to the result in the server, min over ``--repeats`` alternating runs of each
mode (the machine is shared). The page's redraws happen in the server process, not in the run.

Usage::

    .venv/bin/python bench/live_view.py [--sizes 4000 40000] [--duration-ms 1000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.cuba import cuba_document  # noqa: E402
from engine.limits import RunLimits  # noqa: E402
from workbench.runner import WorkerPool  # noqa: E402


def one(pool: WorkerPool, doc: dict, live: bool) -> tuple[float, float, int]:
    start = time.perf_counter()
    handle = pool.submit(doc, debug={"breakpoints": [], "live": live})
    while not handle.done:
        time.sleep(0.01)
    total = time.perf_counter() - start
    assert handle.error is None, handle.error
    streamed = sum(len(part[0]) for part in handle.live)
    return handle.result.wall_time_s, total, streamed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[4000, 40000])
    ap.add_argument("--duration-ms", type=float, default=1000.0)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    pool = WorkerPool(workers=1, limits=RunLimits(max_memory_mb=4096, max_wall_s=600))
    assert pool.wait_ready(600)
    try:
        print(f"load {os.getloadavg()[0]:.2f}; min of {args.repeats} runs each")
        for n in args.sizes:
            doc = cuba_document(n, args.duration_ms, False, False)
            one(pool, doc, False)  # warm
            best = {False: (1e9, 1e9, 0), True: (1e9, 1e9, 0)}
            for _ in range(args.repeats):
                for live in (False, True):
                    run_s, total_s, streamed = one(pool, doc, live)
                    b = best[live]
                    best[live] = (min(b[0], run_s), min(b[1], total_s), streamed)
            off, on = best[False], best[True]
            print(f"N={n}: run {off[0]:.3f} s -> {on[0]:.3f} s live "
                  f"({100 * (on[0] / off[0] - 1):+.1f} %), submit to result {off[1]:.3f} s -> "
                  f"{on[1]:.3f} s ({100 * (on[1] / off[1] - 1):+.1f} %), "
                  f"{on[2]:,} spikes streamed")
    finally:
        pool.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
