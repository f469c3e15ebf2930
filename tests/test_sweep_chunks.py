"""Sweep chunks (engine.sweep.run.chunk_size): many small points travel several per executor
task, and the rows stay those of one point per task."""

from __future__ import annotations

import pytest

from engine.sweep import plan_sweep, rows_frame, run_sweep
from engine.sweep.run import MAX_CHUNK, chunk_size
from engine.sweep.task import run_point
from tests.test_sweep import metrics_csv, small_network


class InProcess:
    """An executor running each task here, in order, remembering the task sizes."""

    name = "in-process"
    dashboard_link = None

    def __init__(self, workers: int):
        self.workers = workers
        self.sizes: list[int] = []

    def map_unordered(self, fn, items, *, cancel=None):
        for i, item in enumerate(items):
            self.sizes.append(len(item))
            yield i, fn(item)


def test_chunk_size_groups_only_many_points():
    assert chunk_size(16, 2) == 1  # a few large runs: one per task, both workers busy
    assert chunk_size(100, 2) == 6
    assert chunk_size(1000, 2) == MAX_CHUNK
    assert chunk_size(1, 4) == 1
    assert chunk_size(0, 2) == 1


@pytest.mark.slow
def test_chunked_sweep_rows_equal_one_point_per_task(monkeypatch):
    # The points run in this process: the heap trim a worker does after each task would walk
    # every object the whole test session holds (210 s in one full-suite run, 5 s alone).
    monkeypatch.setattr("engine.sweep.task.trim_heap", lambda: None)
    plan = plan_sweep(small_network(10.0), ["exc.tau_m=10:30:20"])
    executor = InProcess(workers=1)
    seen = []
    outcome = run_sweep(plan, executor, on_row=lambda row, done, total: seen.append(done))
    assert executor.sizes == [2] * 10  # 20 points // (1 worker x 8) = 2 per task
    assert outcome.complete and seen == list(range(1, 21))
    single = rows_frame([run_point(t) for t in plan.tasks()], plan.fields)
    assert metrics_csv(outcome.rows) == metrics_csv(single)
