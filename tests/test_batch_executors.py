"""The existing batches (scenario matrix, presentation-time sweep, compression sweep) as tasks
of one executor interface (engine.executor): threads of this process by default, worker
processes (or Dask) when given one, with the same numbers either way."""

from __future__ import annotations

import threading

import pytest

from engine.compression import CompressionSettings, evaluate_settings
from engine.evaluation.datasets import digits_split, load_dataset
from engine.evaluation.presentation_sweep import sweep_presentation
from engine.evaluation.scenario_fit import run_scenarios
from engine.executor import make_executor
from engine.executor.local import LocalPoolExecutor
from engine.executor.threads import ThreadExecutor
from engine.project import load_project
from tests.test_scenarios import DENSE, SPARSE, tiny_project

DIGITS = "sample_projects/digits_mlp.json"


def test_make_executor_in_process_gives_threads():
    executor = make_executor(workers=3, in_process=True)
    assert isinstance(executor, ThreadExecutor) and executor.workers == 3


def test_thread_executor_yields_every_value():
    with ThreadExecutor(workers=2) as executor:
        got = dict(executor.map_unordered(lambda x: x * x, [1, 2, 3, 4]))
    assert got == {0: 1, 1: 4, 2: 9, 3: 16}


def test_thread_executor_stop_drops_the_queue_and_keeps_the_running_task():
    started, release = threading.Event(), threading.Event()
    asked: list[bool] = []

    def stop() -> bool:
        """Set once task 0 runs; the second look (the queue was dropped at the first) lets
        the running task finish, as a run does when it sees the request."""
        if started.is_set():
            asked.append(True)
            if len(asked) == 2:
                release.set()
        return started.is_set()

    def task(x: int) -> int:
        started.set()
        release.wait(timeout=30)
        return x

    values = list(ThreadExecutor(workers=1).map_unordered(task, [0, 1, 2], cancel=stop))
    assert values == [(0, 0)]
    assert release.is_set()


@pytest.fixture(scope="module")
def pool():
    with LocalPoolExecutor(workers=2) as executor:
        yield executor


@pytest.mark.slow
def test_scenarios_on_worker_processes_equal_threads(pool):
    here = run_scenarios(tiny_project(), [SPARSE, DENSE])
    there = run_scenarios(tiny_project(), [SPARSE, DENSE], executor=pool)
    assert [r.status for r in there.runs.values()] == ["completed", "completed"]
    assert list(there.runs) == ["sparse", "dense"]
    assert there.measurements().equals(here.measurements())
    assert there.energy().equals(here.energy())
    for sid in ("sparse", "dense"):
        assert there.runs[sid].result.spikes.equals(here.runs[sid].result.spikes)


@pytest.mark.slow
def test_presentation_sweep_on_worker_processes_equals_threads(pool):
    project, data = load_project(DIGITS), load_dataset("digits")
    here = sweep_presentation(project, data, [10, 20], n_samples=5)
    there = sweep_presentation(project, data, [10, 20], n_samples=5, executor=pool)
    assert [p.present_ms for p in there.points] == [10.0, 20.0] and not there.problems
    for a, b in zip(here.points, there.points, strict=True):
        assert a.report == b.report and a.rates_hz == b.rates_hz
    assert there.ann.accuracy == here.ann.accuracy


@pytest.mark.slow
def test_compression_sweep_on_worker_processes_equals_threads(pool):
    project, test = load_project(DIGITS), digits_split()[1]
    settings = [CompressionSettings(weight_bits=4), CompressionSettings(prune=0.5)]
    here = evaluate_settings(project, settings, test, samples=10)
    there = evaluate_settings(project, settings, test, samples=10, executor=pool)
    assert [p.to_dict() for p in there] == [p.to_dict() for p in here]
