"""A sweep from start to files: the grid (or a sample of it) times the seeds, run as tasks
of an executor, collected into ``sweep.csv`` / ``sweep.parquet`` (one row per point and seed).

Rows are written sorted by ``(point, seed)`` whatever order the tasks finished in, so the same
sweep gives the same file on any executor; a sweep that is cancelled or loses its workers
writes the rows finished so far.
"""

from __future__ import annotations

import copy
import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from engine.core.limits import RunLimits
from engine.errors import SpikeStudioError
from engine.executor import Cancel, Executor, ExecutorLost, is_cancelled
from engine.project import Project
from engine.sweep.fields import SweepField, parse_sets, set_field
from engine.sweep.task import HEAD_COLUMNS, run_points

#: Most tasks (points x seeds) in one sweep.
MAX_TASKS = 1_000_000
#: Columns that say where and how long a task ran: they differ between two equal sweeps.
RUN_COLUMNS = ("wall_s", "worker")
#: Most points in one executor task. Each task costs about 20-25 ms outside the run
#: (scheduling, pickling, the result's trip back: bench/RESULTS.md, sweep section), as much
#: as a small network's whole run; 16 points per task make that about 1.5 ms per point.
MAX_CHUNK = 16
#: Fewest tasks per worker before points are grouped: several per worker keep the workers
#: busy to the end (points differ in run time) and the page's plot filling as rows arrive.
CHUNKS_PER_WORKER = 8


def chunk_size(n_tasks: int, workers: int) -> int:
    """Points per executor task for a sweep of ``n_tasks`` on ``workers`` workers: 1 for a
    few (large) runs, up to :data:`MAX_CHUNK` for thousands of small ones."""
    return max(1, min(MAX_CHUNK, n_tasks // (max(workers, 1) * CHUNKS_PER_WORKER)))


@dataclass(frozen=True)
class SweepPlan:
    """Everything a sweep runs, decided before the first task starts.

    Attributes
    ----------
    document
        The base project document (valid).
    fields
        The swept fields, in column order.
    points
        ``(grid index, values)`` of the points to run (all of the grid, or a sample).
    seeds
        How many seeds per point: the point's ``simulation.seed`` + 0, 1, ...
    limits
        The run caps of every task.
    """

    document: dict
    fields: tuple[SweepField, ...]
    points: tuple[tuple[int, tuple[Any, ...]], ...]
    seeds: int
    limits: RunLimits

    @property
    def size(self) -> int:
        """Number of tasks."""
        return len(self.points) * self.seeds

    def tasks(self) -> list[dict]:
        """The tasks for :func:`engine.sweep.task.run_point`, by point then seed."""
        out = []
        # One thread per task: a sweep runs its points side by side on the workers' cores.
        limits = {"max_memory_mb": self.limits.max_memory_mb,
                  "max_wall_s": self.limits.max_wall_s, "max_threads": 1}
        for index, values in self.points:
            document = copy.deepcopy(self.document)
            for f, value in zip(self.fields, values, strict=True):
                set_field(document, f.path, value)
            base_seed = int(document["simulation"].get("seed", 42))
            params = {f.name: v for f, v in zip(self.fields, values, strict=True)}
            for k in range(self.seeds):
                seeded = copy.deepcopy(document)
                seeded["simulation"]["seed"] = base_seed + k
                out.append({"document": seeded, "limits": limits, "point": index,
                            "seed": base_seed + k, "params": params})
        return out


def plan_sweep(document: dict, sets: Sequence[str], *, seeds: int = 1,
               sample: int | None = None, limits: RunLimits | None = None) -> SweepPlan:
    """Check a sweep request and fix its tasks.

    Parameters
    ----------
    document
        The project document (it is validated here).
    sets
        ``FIELD=v1,v2,...`` or ``FIELD=start:stop:num`` specs (see :mod:`engine.sweep.fields`).
    seeds
        Runs per point with seeds ``simulation.seed + 0 .. seeds - 1``.
    sample
        Run ``sample`` grid points drawn without replacement (reproducibly: the draw is
        seeded by the project's seed) instead of the whole grid.
    limits
        Memory and wall-time caps of each run.

    Raises
    ------
    SpikeStudioError
        The project is invalid, or a field, value, ``seeds`` or ``sample`` is bad (all bad
        fields and values in one message).
    """
    document = Project.from_dict(document).to_dict()  # validated, migrated, complete
    fields = tuple(parse_sets(document, list(sets)))
    if not 1 <= seeds <= 10_000:
        raise SpikeStudioError(f"--seeds: must be 1 to 10,000, got {seeds}")
    grid = math.prod(len(f.values) for f in fields)
    if sample is not None and not 1 <= sample <= grid:
        raise SpikeStudioError(f"--sample: must be 1 to the grid's {grid:,} points, got {sample}")
    n_points = sample if sample is not None else grid
    if n_points * seeds > MAX_TASKS:
        raise SpikeStudioError(f"the sweep has {n_points * seeds:,} tasks (points x seeds); "
                               f"at most {MAX_TASKS:,}: use --sample")
    if sample is None:
        chosen = range(grid)
    else:
        rng = np.random.default_rng(int(document["simulation"]["seed"]))
        chosen = sorted(int(i) for i in rng.choice(grid, size=sample, replace=False))
    shape = [len(f.values) for f in fields]
    points = tuple((int(i), tuple(f.values[j] for f, j in
                                  zip(fields, np.unravel_index(i, shape), strict=True)))
                   for i in chosen)
    return SweepPlan(document=document, fields=fields, points=points, seeds=seeds,
                     limits=limits or RunLimits())


@dataclass
class SweepOutcome:
    """What a sweep produced: its rows, how it ended, the files written."""

    rows: pd.DataFrame
    total: int
    cancelled: bool = False
    error: str | None = None
    paths: list[Path] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return len(self.rows) == self.total and self.error is None and not self.cancelled


def rows_frame(rows: Sequence[dict], fields: Sequence[SweepField] = ()) -> pd.DataFrame:
    """The rows as a frame sorted by ``(point, seed)``; columns in a fixed order (the
    head, the fields, then each metric where it first appears)."""
    ordered = sorted(rows, key=lambda r: (r["point"], r["seed"]))
    columns = list(dict.fromkeys([*HEAD_COLUMNS, *(f.name for f in fields),
                                  *itertools.chain.from_iterable(ordered)]))
    tail = [c for c in RUN_COLUMNS if c in columns]
    columns = [c for c in columns if c not in RUN_COLUMNS] + tail
    return pd.DataFrame(ordered, columns=columns)


def write_rows(frame: pd.DataFrame, out_dir: str | Path) -> list[Path]:
    """Write ``sweep.csv`` and (when pyarrow is installed) ``sweep.parquet``."""
    from engine.files import atomic_write_text

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    csv = out / "sweep.csv"
    atomic_write_text(csv, frame.to_csv(index=False))
    paths = [csv]
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return paths
    parquet = out / "sweep.parquet"
    # The parameter columns can mix types (10, "abc"); Parquet wants one type per column.
    frame.astype({c: str for c in frame.columns if frame[c].dtype == object}).to_parquet(
        parquet, index=False)
    return [*paths, parquet]


def run_sweep(plan: SweepPlan, executor: Executor, out_dir: str | Path | None = None, *,
              cancel: Cancel = None,
              on_row: Callable[[dict, int, int], None] | None = None) -> SweepOutcome:
    """Run every task of ``plan`` on ``executor``; write the rows when ``out_dir`` is given.

    Many small tasks travel in chunks of up to :data:`MAX_CHUNK` points per executor task
    (:func:`chunk_size`); the rows are the same either way.

    Parameters
    ----------
    on_row
        Called with ``(row, rows done, total)`` as each task finishes.
    cancel
        Stops the sweep: queued tasks are dropped, finished rows are kept and written.

    Returns
    -------
    SweepOutcome
        With ``error`` set (and the finished rows written) when the executor was lost.
    """
    tasks = plan.tasks()
    size = chunk_size(len(tasks), executor.workers)
    chunks = [tasks[i:i + size] for i in range(0, len(tasks), size)]
    rows: list[dict] = []
    error = None
    try:
        for _, chunk_rows in executor.map_unordered(run_points, chunks, cancel=cancel):
            for row in chunk_rows:
                rows.append(row)
                if on_row is not None:
                    on_row(row, len(rows), len(tasks))
    except ExecutorLost as exc:
        error = str(exc)
    finally:
        outcome = SweepOutcome(rows=rows_frame(rows, plan.fields), total=len(tasks),
                               cancelled=is_cancelled(cancel), error=error)
        if out_dir is not None:
            outcome.paths = write_rows(outcome.rows, out_dir)
    return outcome
