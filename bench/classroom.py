"""Classroom benchmark: one server, a class of real browser pages (the teaching-lab use case).

One ``spikestudio serve`` process (the real CLI, 127.0.0.1, fresh ``SPIKESTUDIO_HOME``) and one
headless Debian Chromium (Playwright) with one browser context per student:

1. **Pages.** ``--pages`` (30) pages are opened one after another; each counts as open when
   the graph editor's nodes exist in the page. We report the time to open each and the
   server's resident memory after 1, 10 and all pages.
2. **Simultaneous runs.** ``--runs`` (10) of those pages open the CUBA sample; Run is armed
   in each to fire at the same epoch time (the pages share the machine's clock, so the clicks
   land together however long Playwright takes to reach each page). In every page the clock
   runs from its own click until its status line says ``completed`` *and* its raster's data
   source (read from the page's BokehJS document) holds that many spike points with the time
   axis spanning the run, plus two animation frames for the paint: "click -> raster drawn".
3. **A fresh page during the load.** Right after the clicks, one more page is opened; we
   report the time until it is interactive.
4. **Paused runs and a runaway at the same time** (issue 18). Before the clicks, ``--paused``
   (2) more pages start a 100 s CUBA run and press Pause (each paused run is saved to a
   checkpoint and frees its worker), and ``--runaway`` (1) more page runs the 200,000-neuron
   project that fires at every step (tests/data/runaway_200k.json, published as a class
   project) until the server's memory cap stops it. The server is started with a class's
   caps (``--max-run-memory-mb 1024 --max-session-memory-mb 256 --max-run-seconds 60``).
   Reported: whether the paused pages are still paused and how the runaway ended, and the
   peak memory of the serving process alone and of its process tree (workers included).

Server memory is the RSS summed over the server's process tree (the server and any worker
processes it starts), sampled every 0.2 s. Console errors (e.g. BokehJS "reference ... isn't
known") and pages whose raster is incomplete are counted. Writes the "## Classroom"
section of bench/RESULTS.md unless ``--no-write``. Bounded: about 2-4 minutes.

Usage::

    .venv/bin/python bench/classroom.py [--pages 30] [--runs 10] [--paused 2] [--runaway 1]
                                        [--no-write]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ui import (  # noqa: E402  (after the path set-up, like bench/ui.py's users)
    CHROMIUM,
    CHROMIUM_ARGS,
    RESULTS,
    VENV_BIN,
    Guard,
    Server,
    machine_info,
    wait_http,
    wait_page,
)

SECTION = "## Classroom (bench/classroom.py)"
SAMPLE_LABEL = "Sample: CUBA balanced network"
RUNAWAY = ROOT / "tests" / "data" / "runaway_200k.json"
RUNAWAY_LABEL = "Class: Runaway 200k"
CLASS_CAPS = ("--max-run-memory-mb", "1024", "--max-session-memory-mb", "256",
              "--max-run-seconds", "60")
PAUSED_RUN_MS = 100_000.0
OPEN_TIMEOUT_S = 180  # a page that takes longer to open counts as not opened

# Arms Run to fire at epoch time ``at`` (ms) and keeps, in window.__ssRun, a promise of
# {t0, tDrawn, spikes, points, xr} once this page's own raster is complete and painted.
ARM_RUN_JS = r"""
([at, timeoutMs]) => {
  const ss = window.__ss;
  const host = ss.deep('.ss-run');
  const button = host.querySelector('button') || ss.deep('button', host.shadowRoot);
  const status = () => ss.deep("[data-testid='result-status']");
  let left = false;
  const drawn = () => {
    const rs = ss.deep("[data-testid='run-state']");
    if (rs && rs.dataset.state !== 'completed') left = true;
    const st = status();
    if (!st || !left || rs.dataset.state !== 'completed' ||
        st.dataset.status !== 'completed') {
      return false;
    }
    const r = ss.raster(), duration = Number(ss.durationMs);
    return r.nPoints === Number(st.dataset.spikes) && r.total === r.nPoints &&
           !!r.xr && r.xr[0] === 0 && r.xr[1] === duration;
  };
  window.__ssRun = new Promise((resolve) => {
    setTimeout(async () => {
      const t0 = ss.now();
      button.click();
      try {
        const r = await ss.waitFor(drawn, timeoutMs);
        const st = status(), ra = ss.raster();
        resolve({t0, tData: r.tData, tDrawn: r.tPaint, spikes: Number(st.dataset.spikes),
                 points: ra.nPoints, xr: ra.xr, ok: true});
      } catch (e) {
        const st = status(), ra = ss.raster();
        resolve({t0, tDrawn: null, spikes: st ? Number(st.dataset.spikes) : null,
                 points: ra.nPoints, xr: ra.xr, ok: false});
      }
    }, Math.max(0, at - Date.now()));
  });
}
"""


# ---------------------------------------------------------------------------- memory
def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (from /proc/*/stat parent ids)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def tree_rss_mb(pid: int, tree: bool = True) -> float:
    """Resident memory of ``pid``'s process tree (or of ``pid`` alone), MB."""
    total = 0
    for p in process_tree(pid) if tree else [pid]:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS"):
                    total += int(line.split()[1])
                    break
        except OSError:
            pass
    return total / 1024


class RssSampler(threading.Thread):
    """Samples the server tree's RSS every 0.2 s: (epoch s, MB, processes)."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.samples: list[tuple[float, float, int]] = []
        self.own: list[tuple[float, float]] = []
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.samples.append((time.time(), tree_rss_mb(self.pid),
                                 len(process_tree(self.pid))))
            self.own.append((time.time(), tree_rss_mb(self.pid, tree=False)))
            self._stop_event.wait(0.2)

    def own_peak(self, t0: float, t1: float) -> float:
        """Peak RSS of the serving process alone (no workers) in ``[t0, t1]``, MB."""
        return max((mb for t, mb in self.own if t0 <= t <= t1), default=float("nan"))

    def stop(self) -> None:
        self._stop_event.set()
        self.join(5)

    def peak(self, t0: float, t1: float) -> tuple[float, int]:
        inside = [(mb, n) for t, mb, n in self.samples if t0 <= t <= t1] or [(float("nan"), 0)]
        return max(inside)


# ---------------------------------------------------------------------------- steps
def open_page(browser: Any, guard: Guard, url: str) -> tuple[Any, float]:
    """A new context's page on ``url``; seconds until the graph editor's nodes exist."""
    page = guard.attach(browser)
    page.goto("about:blank")
    t0 = time.time()
    page.goto(url, timeout=OPEN_TIMEOUT_S * 1000)
    r = wait_page(page, "!!window.__ss.deep('[data-node-id]')", OPEN_TIMEOUT_S * 1000)
    return page, r["tData"] / 1000 - t0


def open_page_during_load(browser: Any, guard: Guard, url: str) -> float:
    """Seconds to open a page while the class runs; inf when it did not open in time."""
    try:
        return open_page(browser, guard, url)[1]
    except Exception:  # noqa: BLE001 - Playwright's timeout: reported as not opened
        return float("inf")


def open_sample(page: Any) -> None:
    page.locator("[data-testid='project-name']").wait_for()
    page.locator(".ss-open-select select").select_option(label=SAMPLE_LABEL)
    page.locator(".ss-open button").click()
    page.locator("[data-testid='project-name']").filter(has_text="CUBA").wait_for()


def run_state(page: Any) -> str | None:
    return page.evaluate("() => { const e = window.__ss.deep(\"[data-testid='run-state']\");"
                         " return e ? e.dataset.state : null; }")


def result_status(page: Any) -> str | None:
    return page.evaluate("() => { const e = window.__ss.deep(\"[data-testid='result-status']\");"
                         " return e ? e.dataset.status : null; }")


def start_paused(page: Any) -> None:
    """Open CUBA, run it for PAUSED_RUN_MS and press Pause once it runs; wait until paused."""
    open_sample(page)
    field = page.locator(".ss-runbar .param-duration_ms input").first
    field.fill(f"{PAUSED_RUN_MS:g}")
    field.press("Tab")
    page.wait_for_timeout(300)  # the edit reaches the server before the click (in order)
    page.locator(".ss-run button").click()
    wait_page(page, "(() => { const e = window.__ss.deep(\"[data-testid='run-state']\");"
                    " return e && e.dataset.state === 'running'; })()", 120_000)
    page.locator(".ss-pause button").click()
    wait_page(page, "(() => { const e = window.__ss.deep(\"[data-testid='run-state']\");"
                    " return e && e.dataset.state === 'paused'; })()", 120_000)


def start_runaway(page: Any) -> None:
    page.locator(".ss-open-select select").select_option(label=RUNAWAY_LABEL)
    page.locator(".ss-open button").click()
    page.locator("[data-testid='project-name']").filter(has_text="Runaway").wait_for()
    page.locator(".ss-run button").click()


def measure(pages_n: int, runs_n: int, duration_ms: float, paused_n: int = 0,
            runaway_n: int = 0) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    out: dict[str, Any] = {"open_s": [], "rss_after": {}}
    guard = Guard()
    assert runs_n + paused_n + runaway_n <= pages_n, "more roles than pages"
    server = Server(serve_args=CLASS_CAPS, publish=(RUNAWAY,) if runaway_n else ())
    sampler = None
    try:
        wait_http(server.port, 60, server.proc)
        sampler = RssSampler(server.proc.pid)
        sampler.start()
        time.sleep(0.5)
        out["rss_idle"] = tree_rss_mb(server.proc.pid)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                         headless=True)
            out["chromium"] = browser.version
            try:
                pages = []
                for k in range(pages_n):
                    page, seconds = open_page(browser, guard, server.url)
                    pages.append(page)
                    out["open_s"].append(seconds)
                    if k + 1 in (1, 10, pages_n):
                        out["rss_after"][k + 1] = tree_rss_mb(server.proc.pid)
                runners = pages[:runs_n]
                paused = pages[runs_n:runs_n + paused_n]
                runaways = pages[runs_n + paused_n:runs_n + paused_n + runaway_n]
                t_extra = time.time()
                for page in paused:
                    start_paused(page)
                for page in runaways:
                    start_runaway(page)
                for page in runners:
                    open_sample(page)
                    page.evaluate(f"window.__ss.durationMs = {duration_ms!r}")
                time.sleep(1.0)
                out["rss_before_runs"] = tree_rss_mb(server.proc.pid)
                out["load1"] = os.getloadavg()[0]
                at = time.time() * 1000 + 2000 + 300 * runs_n
                for page in runners:
                    page.evaluate(ARM_RUN_JS, [at, 120_000])
                time.sleep(max(0.0, at / 1000 - time.time()) + 0.2)
                t_runs = time.time()
                out["fresh_open_s"] = open_page_during_load(browser, guard, server.url)
                results = [page.evaluate("window.__ssRun") for page in runners]
                t_done = time.time()
                out["runs"] = results
                out["rss_peak_runs"], out["procs_peak"] = sampler.peak(t_runs - 0.5, t_done)
                out["own_peak_runs"] = sampler.own_peak(t_runs - 0.5, t_done)
                out["paused_states"] = [run_state(page) for page in paused]
                deadline = time.time() + 180
                while runaways and time.time() < deadline and any(
                        run_state(page) not in ("completed", "failed", "stopped", None)
                        and result_status(page) in (None, "running") for page in runaways):
                    time.sleep(1.0)
                out["runaway_status"] = [result_status(page) for page in runaways]
                out["rss_peak_all"], _ = sampler.peak(t_extra, time.time())
                out["own_peak_all"] = sampler.own_peak(t_extra, time.time())
                out["paused_n"], out["runaway_n"] = paused_n, runaway_n
                time.sleep(1.0)
                out["rss_after_runs"] = tree_rss_mb(server.proc.pid)
            finally:
                browser.close()
    finally:
        if sampler is not None:
            sampler.stop()
        server.stop()
    out["console_errors"] = list(guard.console_errors)
    out["off_host"] = list(guard.off_host)
    return out


# ---------------------------------------------------------------------------- report
def render(fig: dict, info: dict, when: str, pages_n: int, runs_n: int) -> tuple[str, str]:
    runs = fig["runs"]
    drawn = [(r["tDrawn"] - r["t0"]) / 1000 for r in runs if r["ok"]]
    data = [(r["tData"] - r["t0"]) / 1000 for r in runs if r["ok"]]
    bad = [r for r in runs if not r["ok"]]
    unknown = sum("isn't known" in e for e in fig["console_errors"])
    clicks = [r["t0"] for r in runs]
    opens = fig["open_s"]
    rows = [
        ("server RSS, idle (process tree)", f"{fig['rss_idle']:.0f} MB"),
        *[(f"server RSS after {k} page(s)", f"{mb:.0f} MB")
          for k, mb in sorted(fig["rss_after"].items())],
        (f"time to open a page (1st / median / last of {pages_n})",
         f"{opens[0]:.2f} / {statistics.median(opens):.2f} / {opens[-1]:.2f} s"),
        (f"{runs_n} simultaneous Runs: click -> raster drawn, min / median / max",
         (f"{min(drawn):.2f} / {statistics.median(drawn):.2f} / {max(drawn):.2f} s"
          if drawn else "none drawn")),
        ("  of which: result and raster data in the page, median",
         f"{statistics.median(data):.2f} s" if data else "-"),
        ("pages whose raster was incomplete", f"{len(bad)} of {runs_n}"),
        ("spread of the clicks", f"{(max(clicks) - min(clicks)) / 1000:.2f} s"),
        ("server RSS peak during the runs",
         f"{fig['rss_peak_runs']:.0f} MB ({fig['procs_peak']} processes)"),
        ("server RSS after the runs", f"{fig['rss_after_runs']:.0f} MB"),
        *([(f"{fig['paused_n']} paused pages: run state after the runs",
            ", ".join(str(s) for s in fig["paused_states"]))] if fig.get("paused_n") else []),
        *([(f"{fig['runaway_n']} runaway page(s): how the run ended",
            ", ".join(str(s) for s in fig["runaway_status"]))] if fig.get("runaway_n") else []),
        *([("peak RSS with paused and runaway runs: serving process alone / process tree",
            f"{fig['own_peak_all']:.0f} / {fig['rss_peak_all']:.0f} MB")]
          if fig.get("paused_n") or fig.get("runaway_n") else []),
        ("fresh page opened during the runs -> interactive",
         f"{fig['fresh_open_s']:.2f} s" if fig["fresh_open_s"] != float("inf")
         else f"not within {OPEN_TIMEOUT_S} s"),
        ("browser console errors (of them 'isn't known')",
         f"{len(fig['console_errors'])} ({unknown})"),
        ("off-host requests attempted", f"{len(fig['off_host'])}"),
    ]
    width = max(len(n) for n, _ in rows)
    plain = "\n".join(f"{n:<{width}}  {v}" for n, v in rows)
    per_page = ", ".join(f"{s:.2f}" for s in sorted(drawn))
    md = [SECTION, "",
          f"Produced by `bench/classroom.py` (its docstring says exactly what is measured): "
          f"one `spikestudio serve` process on 127.0.0.1, headless Debian Chromium "
          f"{fig['chromium']} with {pages_n} browser contexts (one page each), Run of "
          f"`cuba_balanced.json` (4000 LIF neurons, 1 s of model time) clicked together in "
          f"{runs_n} of them, while {fig.get('paused_n', 0)} other pages held a paused run "
          f"and {fig.get('runaway_n', 0)} ran the 200,000-neuron runaway; server started "
          f"with `{' '.join(CLASS_CAPS)}`.", "",
          f"**Machine:** {info['nproc']} cores, CPU \"{info['cpu']}\", Python {info['python']}, "
          f"Panel {info['panel']}, Bokeh {info['bokeh']}. **Date:** {when}; 1-minute load "
          f"{fig['load1']:.1f} before the runs (the 2 cores are shared with other work, and "
          f"the browser's {pages_n + 1} pages run on the same cores as the server).", "",
          "| measurement | value |", "|---|---|"]
    md += [f"| {n} | {v} |" for n, v in rows]
    md += ["", f"Click -> raster drawn per page (s, sorted): {per_page}.", ""]
    return plain, "\n".join(md)


def write_results(section: str) -> None:
    """Replace (or append) our section, re-reading the file just before writing."""
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    pattern = re.compile(r"^## Classroom[^\n]*\n.*?(?=^#{1,2} |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _m: section + "\n", text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    RESULTS.write_text(text.rstrip("\n") + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=30, help="browser pages (default 30)")
    parser.add_argument("--runs", type=int, default=10, help="simultaneous Runs (default 10)")
    parser.add_argument("--paused", type=int, default=2,
                        help="more pages with a paused run (default 2)")
    parser.add_argument("--runaway", type=int, default=1,
                        help="more pages running the 200k-neuron runaway (default 1)")
    parser.add_argument("--no-write", action="store_true", help="do not update RESULTS.md")
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} not found", file=sys.stderr)
        return 2
    runs_n = min(args.runs, args.pages)
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    info = machine_info()
    print(f"machine: {info}; load {os.getloadavg()}")
    t0 = time.time()
    subprocess.run([str(VENV_BIN / "spikestudio"), "warm"], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    fig = measure(args.pages, runs_n, 1000.0, args.paused, args.runaway)
    plain, md = render(fig, info, when, args.pages, runs_n)
    print(plain)
    print(f"total bench time {time.time() - t0:.0f} s")
    if not args.no_write:
        write_results(md)
        print(f"updated {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
