"""One sweep task: run a project document in a worker process and measure it.

:func:`run_point` is what the executor ships to a worker: it gets a plain dict (the project
document with the point's values and seed already set, the run caps, the point's labels) and
returns one row of ``sweep.csv`` as a dict. Errors become the row's ``status`` and ``error``,
never an exception, so one bad point does not end the sweep.
"""

from __future__ import annotations

import math
import os
import socket
import time
import traceback
from typing import Any

from engine.executor.caps import memory_limit, memory_limit_message, trim_heap

#: Columns every row starts with (the swept fields follow ``seed``).
HEAD_COLUMNS = ("point", "seed")
#: Columns every row has after the swept fields.
STATUS_COLUMNS = ("status", "error", "spikes", "syn_events")
#: Per population, in this order: ``<population>.<metric>``.
POPULATION_METRICS = ("rate_hz", "cv_isi", "fano", "spikes")
#: Columns every row ends with.
TAIL_COLUMNS = ("wall_s", "worker")


def worker_name() -> str:
    """Where a task ran: ``host:pid`` (a Dask worker's or a local pool worker's process)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def run_point(task: dict) -> dict[str, Any]:
    """Simulate ``task["document"]`` under ``task["limits"]`` and return its metrics row.

    Parameters
    ----------
    task
        ``document`` (project dict), ``limits`` (``max_memory_mb``, ``max_wall_s``: the run
        caps, None for none), ``point`` (grid index), ``seed``, ``params`` (swept field
        name -> value, in column order).

    Returns
    -------
    dict
        The row: ``point, seed``, the params, ``status`` (a run status, or ``invalid`` /
        ``error``), ``error`` (message or empty), ``spikes``, ``syn_events``, per population
        ``rate_hz, cv_isi, fano, spikes``, ``energy_j.<profile>`` (whole run),
        ``accuracy`` (projects with a dataset encoder), ``wall_s`` and ``worker``.
    """
    from engine.core.limits import RunLimits, effective_memory_mb
    from engine.errors import SpikeStudioError
    from engine.project import Project
    from engine.simulator import simulate

    t0 = time.perf_counter()
    row: dict[str, Any] = {"point": task["point"], "seed": task["seed"], **task["params"],
                           "status": "error", "error": ""}
    limits = RunLimits(**task["limits"])
    try:
        project = Project.from_dict(task["document"])
        cap_mb = effective_memory_mb(project.simulation.memory_budget_mb, limits)
        try:
            with memory_limit(cap_mb):
                result = simulate(project, limits=limits)
        except MemoryError:
            row["error"] = memory_limit_message(cap_mb)
            result = None
        if result is not None:
            row["status"] = result.status
            row["error"] = " ".join(result.messages) if result.status != "completed" else ""
            row.update(measure(result, project))
    except SpikeStudioError as exc:
        row["status"], row["error"] = "invalid", str(exc)
    except Exception as exc:  # noqa: BLE001 - the row says what went wrong, the sweep goes on
        row["error"] = f"internal error: {type(exc).__name__}: {exc}"
        traceback.print_exc()
    finally:
        trim_heap()
    row["wall_s"] = time.perf_counter() - t0
    row["worker"] = worker_name()
    return row


def run_points(tasks: list[dict]) -> list[dict[str, Any]]:
    """:func:`run_point` for each task of a chunk, in order (one executor task for several
    points: see :func:`engine.sweep.run.chunk_size`)."""
    return [run_point(task) for task in tasks]


def measure(result: Any, project: Any) -> dict[str, Any]:
    """The metrics of one finished run (see :func:`run_point`)."""
    from engine.energy.model import run_energy_totals
    from engine.evaluation.presentation_sweep import project_profiles
    from engine.spike_stats import population_summary

    pops = [n.id for n in project.network.populations]
    sizes = {k: v for k, v in result.sizes.items() if k in pops}
    stats = population_summary(result.spikes, sizes, result.duration_ms).set_index("population")
    metrics: dict[str, Any] = {
        "spikes": int(stats["spikes"].sum()),
        "syn_events": int(result.projection_counts["syn_events"].sum())
        if len(result.projection_counts) else 0,
    }
    for pop in pops:
        s = stats.loc[pop]
        metrics.update({f"{pop}.rate_hz": float(s["mean_rate_hz"]),
                        f"{pop}.cv_isi": float(s["cv_isi"]), f"{pop}.fano": float(s["fano_factor"]),
                        f"{pop}.spikes": int(s["spikes"])})
    totals = run_energy_totals(result.counts, project_profiles(project), result.duration_ms)
    for pid, joules in totals.items():
        metrics[f"energy_j.{pid}"] = joules
    accuracy = _accuracy(result, project)
    if accuracy is not None:
        metrics["accuracy"] = accuracy
    return metrics


def _accuracy(result: Any, project: Any) -> float | None:
    """Classification accuracy when the project presents a labelled dataset, else None."""
    from engine.errors import SpikeStudioError
    from engine.evaluation.classify import dataset_node, output_population, readout

    try:
        dataset_node(project)
    except SpikeStudioError:
        return None  # no dataset encoder: nothing to classify
    try:
        out = readout(result, project, output_population(project))
    except SpikeStudioError:
        return math.nan
    if len(out.labels) == 0 or (out.labels < 0).any():
        return math.nan
    return float((out.predictions == out.labels).mean())
