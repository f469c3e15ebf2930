"""Pages that come and go: does the server give a closed page's memory back?

A class opens and closes pages all day (a reload, a new tab, a student who leaves). This
serves the workbench in this process (as ``spikestudio serve`` does, with Bokeh's session
check shortened to 1 s / 3 s so a run takes minutes, not hours), then ``--cycles`` times:
opens ``--pages`` pages in headless Debian Chromium (one browser context each), presses Run
in each (the default sample) and waits ``--run-wait`` seconds, closes them all, waits for
their sessions to end and collects garbage. After each cycle it writes the process's
resident memory, how many ``Workbench`` objects (one per page) are still alive, and how long
one full garbage collection takes (Bokeh collects garbage at every session's end, on the
server's event loop, so that time is a pause every page of the class feels).

Usage: ``python bench/page_churn.py [--pages 10] [--cycles 4] [--no-write]``.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.classroom import tree_rss_mb  # noqa: E402
from bench.results_section import update_section  # noqa: E402
from bench.ui import CHROMIUM, free_port  # noqa: E402

HEADING = "## Pages that come and go (bench/page_churn.py)"


def rss_mb() -> float:
    """This process's resident memory (MB): the server runs in it."""
    return tree_rss_mb(os.getpid(), tree=False)


def timed_gc_ms() -> float:
    """One full collection (ms). A collection already running in another thread (Bokeh's,
    at a session's end) makes ``gc.collect`` return at once: the median of 3 is taken."""
    started = time.perf_counter()
    gc.collect()
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=10)
    parser.add_argument("--cycles", type=int, default=4)
    parser.add_argument("--run-wait", type=float, default=8.0,
                        help="seconds between pressing Run and closing the pages")
    parser.add_argument("--no-write", action="store_true", help="print, do not write RESULTS")
    args = parser.parse_args()

    os.environ["SPIKESTUDIO_HOME"] = tempfile.mkdtemp(prefix="page-churn-")
    import panel as pn
    from playwright.sync_api import sync_playwright

    from workbench.app import Workbench, create_app
    from workbench.server import TORNADO_SETTINGS

    port = free_port()
    server = pn.serve({"app": create_app}, port=port, address="127.0.0.1", threaded=True,
                      show=False, start=True, websocket_origin=[f"127.0.0.1:{port}"],
                      check_unused_sessions_milliseconds=1000,
                      unused_session_lifetime_milliseconds=3000, **TORNADO_SETTINGS)
    time.sleep(2)
    rows = []
    start_rss = rss_mb()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        for cycle in range(1, args.cycles + 1):
            contexts = []
            for _ in range(args.pages):
                context = browser.new_context()
                page = context.new_page()
                page.goto(f"http://127.0.0.1:{port}/app")
                page.get_by_test_id("project-name").wait_for(timeout=120_000)
                contexts.append((context, page))
            for _, page in contexts:
                page.locator(".ss-run button").click()
            time.sleep(args.run_wait)
            for context, _ in contexts:
                context.close()
            time.sleep(15)  # sessions end 3 s after their page, checked every second
            gc_ms = sorted(timed_gc_ms() for _ in range(3))[1]
            alive = sum(1 for o in gc.get_objects() if isinstance(o, Workbench))
            rows.append((cycle, cycle * args.pages, rss_mb(), alive, gc_ms))
            print(f"cycle {cycle}: {cycle * args.pages} pages closed, RSS {rows[-1][2]:.0f} MB, "
                  f"Workbench alive {alive}, gc {gc_ms:.0f} ms", flush=True)
        browser.close()
    server.stop()

    load = os.getloadavg()[0]
    table = "\n".join(f"| {c} | {n} | {r:.0f} | {a} | {g:.0f} |" for c, n, r, a, g in rows)
    text = f"""{HEADING}

Produced by `bench/page_churn.py --pages {args.pages} --cycles {args.cycles}` (its docstring
says what is measured): the workbench served in-process, headless Debian Chromium, each page
presses Run on the default sample and closes {args.run_wait:g} s later. **Date:**
{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {os.cpu_count()} cores, Python
{platform.python_version()}, Panel {pn.__version__}; 1-minute load {load:.1f} at the end.
Server RSS {start_rss:.0f} MB before the first page.

| cycle | pages closed | server RSS (MB) | `Workbench`s alive | full gc, median of 3 (ms) |
|---:|---:|---:|---:|---:|
{table}
"""
    if args.no_write:
        print(text)
    else:
        update_section(ROOT / "bench" / "RESULTS.md", HEADING, text)
        print(f"wrote {HEADING!r} in bench/RESULTS.md")


if __name__ == "__main__":
    main()
