"""Sweep benchmark (issue 20): spikestudio sweep on a Dask LocalCluster, a hand-started
scheduler and the local pool, against the same runs one after another in one process.

Measured (each figure with ``/proc/loadavg`` at the time: the machine is shared):

1. 16 CUBA points (sample_projects/cuba_balanced.json, N = 4000, 1 s, ``inh_to_exc.weight``
   from -10 to -8 mV) on a ``LocalCluster`` of 2 worker processes vs serially in this
   process (target: at least 1.7x faster). Cluster start-up is reported apart.
2. The same sweep through ``dask scheduler`` + 2 ``dask worker`` processes started here:
   its sweep.csv metrics (all but ``wall_s`` and ``worker``) byte-identical to (1)'s.
3. Per-task overhead for a 10 ms run of a small network: (batch wall time x workers / tasks)
   minus the mean time the task itself took inside its worker (target: under 50 ms).
4. A 1,000-point sweep of a small network on the LocalCluster (target: under 2 minutes).

Usage::

    .venv/bin/python bench/sweep.py [--skip-cuba] [--points 1000] [--no-write]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.results_section import update_section  # noqa: E402
from engine.core.warmup import warm_up  # noqa: E402
from engine.executor.dask import DaskExecutor  # noqa: E402
from engine.project import load_project  # noqa: E402
from engine.sweep import plan_sweep, run_sweep  # noqa: E402
from engine.sweep.run import RUN_COLUMNS  # noqa: E402
from engine.sweep.task import run_point  # noqa: E402
from tests.dask_cluster import Cluster, wait_until  # noqa: E402

HEADING = "## Sweeps on Dask (bench/sweep.py)"


def load() -> str:
    """The 1, 5 and 15 minute load averages."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def metrics_csv(frame) -> str:
    return frame.drop(columns=[c for c in RUN_COLUMNS if c in frame]).to_csv(index=False)


def small_network(duration_ms: float) -> dict:
    """100 LIF neurons driven by Poisson input (the tests' small network, 50 + 40 inputs)."""
    sys.path.insert(0, str(ROOT))
    from tests.test_sweep import small_network as build

    return build(duration_ms)


def timed_sweep(plan, executor) -> tuple[float, object]:
    t0 = time.perf_counter()
    outcome = run_sweep(plan, executor)
    return time.perf_counter() - t0, outcome


def cuba(figures: dict) -> None:
    doc = load_project(ROOT / "sample_projects" / "cuba_balanced.json").to_dict()
    plan = plan_sweep(doc, ["inh_to_exc.weight=-10:-8:16"])
    tasks = plan.tasks()
    warm_up()
    figures["cuba_load_serial"] = load()
    t0 = time.perf_counter()
    serial = [run_point(t) for t in tasks]
    figures["cuba_serial_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    with DaskExecutor(workers=2) as executor:
        figures["cuba_cluster_start_s"] = time.perf_counter() - t0
        figures["cuba_load_dask"] = load()
        figures["cuba_dask_s"], local = timed_sweep(plan, executor)
    figures["cuba_speedup"] = figures["cuba_serial_s"] / figures["cuba_dask_s"]
    from engine.sweep import rows_frame

    figures["cuba_dask_equals_serial"] = (metrics_csv(local.rows)
                                          == metrics_csv(rows_frame(serial, plan.fields)))
    with Cluster(workers=2) as cluster:
        with DaskExecutor(scheduler=cluster.address) as executor:
            wait_until(lambda: len(executor.client.scheduler_info()["workers"]) == 2,
                       "2 workers")
            figures["cuba_load_scheduler"] = load()
            figures["cuba_scheduler_s"], remote = timed_sweep(plan, executor)
    figures["cuba_scheduler_equals_local_cluster"] = (metrics_csv(remote.rows)
                                                      == metrics_csv(local.rows))
    figures["cuba_rows"] = len(local.rows)
    figures["cuba_completed"] = int((local.rows["status"] == "completed").sum())


def overhead(figures: dict, points: int) -> None:
    doc = small_network(10.0)
    plan = plan_sweep(doc, ["exc.tau_m=10:30:64"])
    with DaskExecutor(workers=2) as executor:
        timed_sweep(plan, executor)  # the workers' first tasks load what they import
        figures["overhead_load"] = load()
        wall, outcome = timed_sweep(plan, executor)
        inside = float(outcome.rows["wall_s"].mean())
        figures["overhead_task_inside_ms"] = inside * 1e3
        figures["overhead_per_task_ms"] = (wall * executor.workers / plan.size - inside) * 1e3
        big = plan_sweep(small_network(100.0), [f"exc.tau_m=5:40:{points}"])
        figures["thousand_load_before"] = load()
        figures["thousand_s"], outcome = timed_sweep(big, executor)
        figures["thousand_load_after"] = load()
        figures["thousand_points"] = big.size
        figures["thousand_completed"] = int((outcome.rows["status"] == "completed").sum())
        figures["thousand_task_inside_ms"] = float(outcome.rows["wall_s"].mean()) * 1e3


def section(f: dict) -> str:
    now = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    lines = [HEADING, "", f"Run {now} on this shared 2-core machine; load averages "
             f"(1/5/15 min) are given with each figure.", ""]
    if "cuba_serial_s" in f:
        lines += [
            "| figure | value | target | load |", "|---|---|---|---|",
            f"| 16 CUBA points (N = 4000, 1 s), serially in one process | "
            f"{f['cuba_serial_s']:.1f} s | | {f['cuba_load_serial']} |",
            f"| same on a LocalCluster of 2 workers (start-up {f['cuba_cluster_start_s']:.1f} s "
            f"not included) | {f['cuba_dask_s']:.1f} s | | {f['cuba_load_dask']} |",
            f"| speed-up | {f['cuba_speedup']:.2f}x | >= 1.7x | |",
            f"| same through dask scheduler + 2 dask workers | {f['cuba_scheduler_s']:.1f} s | "
            f"| {f['cuba_load_scheduler']} |",
            f"| scheduler+workers sweep.csv metrics == LocalCluster's | "
            f"{f['cuba_scheduler_equals_local_cluster']} | byte-identical | |",
            f"| LocalCluster metrics == serial runs' | {f['cuba_dask_equals_serial']} | "
            f"byte-identical | |",
        ]
    if "overhead_per_task_ms" in f:
        if "cuba_serial_s" not in f:
            lines += ["| figure | value | target | load |", "|---|---|---|---|"]
        lines += [
            f"| per-task overhead, 10 ms run (64 tasks, LocalCluster of 2; the task itself "
            f"{f['overhead_task_inside_ms']:.0f} ms) | {f['overhead_per_task_ms']:.0f} ms | "
            f"< 50 ms | {f['overhead_load']} |",
            f"| {f['thousand_points']:,}-point sweep of a small network (100 LIF, 100 ms; "
            f"{f['thousand_task_inside_ms']:.0f} ms per task inside its worker; "
            f"{f['thousand_completed']:,} completed) | {f['thousand_s']:.0f} s | < 120 s | "
            f"{f['thousand_load_before']} -> {f['thousand_load_after']} |",
        ]
    lines += ["", "A task's time inside its worker includes pricing the run on all hardware "
              "profiles and the population statistics. Compare the load averages "
              "before quoting a figure: on a loaded machine they say little about an idle one.",
              ""]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-cuba", action="store_true")
    parser.add_argument("--points", type=int, default=1000)
    parser.add_argument("--no-write", action="store_true", help="print, do not write RESULTS")
    parser.add_argument("--json", default=None, help="also write the figures here")
    args = parser.parse_args()
    figures: dict = {}
    if not args.skip_cuba:
        cuba(figures)
        print(json.dumps(figures, indent=1), flush=True)
    overhead(figures, args.points)
    print(json.dumps(figures, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1))
    text = section(figures)
    print(text)
    if not args.no_write:
        update_section(ROOT / "bench" / "RESULTS.md", HEADING, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
