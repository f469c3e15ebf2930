"""Every run calls the kernel with the argument types `spikestudio warm` compiled it for.

numba compiles a kernel once per signature (the types of its arguments): a run whose arrays
differ in one dtype (an integer "rate above 50 Hz" made an int64 array) pays a second compile
of the whole kernel, about a minute and a half, in the middle of a class. The warm-up also
has to reach the kernel of several threads, which runs only where a step's update is split.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numba
import pytest

from engine.core import kernels, warmup
from engine.project import Project
from engine.simulator import Simulation

SAMPLES = sorted((Path(__file__).resolve().parents[1] / "sample_projects").glob("*.json"))


@pytest.fixture
def signatures(monkeypatch):
    """Record the argument types of every kernel call: {kernel name: [signature, ...]}."""
    seen: dict[str, list] = {"run_chunk": [], "run_chunk_threaded": []}
    for name in seen:
        original = getattr(kernels, name)

        def recording(*args, _original=original, _name=name):
            seen[_name].append(tuple(numba.typeof(a) for a in args))
            return _original(*args)

        monkeypatch.setattr(kernels, name, recording)
    return seen


def _short(document: dict, ms: float = 5.0) -> Project:
    document = copy.deepcopy(document)
    document["simulation"]["duration_ms"] = ms
    return Project.from_dict(document)


def _warm_signature(signatures) -> tuple:
    Simulation(Project.from_dict(warmup._WARM_DOC)).run()
    (warm,) = set(signatures["run_chunk"])
    return warm


@pytest.mark.slow
@pytest.mark.parametrize("path", SAMPLES, ids=[p.stem for p in SAMPLES])
def test_each_sample_runs_on_the_warmed_signature(path, signatures):
    warm = _warm_signature(signatures)
    Simulation(_short(json.loads(path.read_text()))).run()
    assert set(signatures["run_chunk"]) == {warm}, path.name


def test_breakpoints_with_whole_numbers_keep_the_signature(signatures):
    warm = _warm_signature(signatures)
    sim = Simulation(_short(warmup._WARM_DOC))
    sim.set_breakpoints([
        {"kind": "rate_above", "population": "a", "rate_hz": 5000, "window_ms": 1},
        {"kind": "rate_below", "population": "b", "rate_hz": 0, "window_ms": 1},
        {"kind": "weight_range", "projection": "in_a", "w_min": 0, "w_max": 4},
        {"kind": "spike", "population": "a", "neuron": 0},
    ])
    sim.run()
    assert set(signatures["run_chunk"]) == {warm}


def test_the_warm_up_reaches_the_kernel_of_several_threads(signatures):
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("numba may use one thread here: there is no kernel of several threads")
    warmup.warm_up()
    assert len(set(signatures["run_chunk_threaded"])) == 1
    assert set(signatures["run_chunk_threaded"]) == set(signatures["run_chunk"])
    calls = len(signatures["run_chunk_threaded"])
    warmup.warm_up(several_threads=False)  # a worker that runs one thread: not that kernel
    assert len(signatures["run_chunk_threaded"]) == calls
