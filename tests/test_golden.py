"""Golden hashes: a refactor must not change a single spike.

For every sample project (shortened to at most ``MAX_MS`` of model time, same seed) the test
hashes the spikes (time index on the dt grid as int64, population, neuron), and the traces and
weight records where the sample records them (rounded to 1e-9, so that only real changes
count); for a fixed set of fuzz networks (the generator of tests/test_engine_fuzz.py, with
fixed seeds) it hashes ``SimulationResult.summary()`` and the spikes. The hashes live in
tests/data/golden.json.

A deliberate change of behaviour regenerates them (then review the diff of golden.json)::

    PYTHONPATH=. python -m tests.test_golden --regen
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from engine.core.results import SimulationResult
from engine.project import Project, load_project
from engine.simulator import simulate

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = sorted((ROOT / "sample_projects").glob("*.json"))
GOLDEN = Path(__file__).resolve().parent / "data" / "golden.json"
MAX_MS = 2000.0
N_FUZZ = 20
FUZZ_MS = 200.0
DECIMALS = 9

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def _update(h: hashlib._Hash, label: str, array: np.ndarray) -> None:
    """Feed a labelled array (its dtype, shape and bytes) into the hash."""
    array = np.ascontiguousarray(array)
    h.update(f"{label}|{array.dtype.str}|{array.shape}|".encode())
    h.update(array.tobytes())


def _floats(values: np.ndarray | None) -> np.ndarray:
    if values is None:
        return np.empty(0)
    return np.round(np.asarray(values, dtype=np.float64), DECIMALS) + 0.0  # -0.0 -> 0.0


def spikes_hash(result: SimulationResult) -> str:
    """sha256 of the spikes, sorted by (step, population, neuron)."""
    spikes = result.spikes
    steps = np.rint(spikes["time_ms"].to_numpy(float) / result.dt_ms).astype(np.int64)
    names = sorted(result.sizes)
    code = {name: i for i, name in enumerate(names)}
    pops = np.array([code[str(p)] for p in spikes["population"]], dtype=np.int64)
    neurons = spikes["neuron"].to_numpy().astype(np.int64)
    order = np.lexsort((neurons, pops, steps))
    h = hashlib.sha256(json.dumps(names).encode())
    for label, array in (("step", steps), ("population", pops), ("neuron", neurons)):
        _update(h, label, array[order])
    return h.hexdigest()


def traces_hash(result: SimulationResult) -> str | None:
    """sha256 of every trace record (times, neurons, values), or None without traces."""
    if not result.traces:
        return None
    h = hashlib.sha256()
    for name in sorted(result.traces):
        rec = result.traces[name]
        h.update(f"{name}|{rec.population}".encode())
        _update(h, "neurons", np.asarray(rec.neurons, dtype=np.int64))
        _update(h, "time", _floats(rec.time_ms))
        for var in sorted(rec.values):
            _update(h, var, _floats(rec.values[var]))
    return h.hexdigest()


def weights_hash(result: SimulationResult) -> str | None:
    """sha256 of every weight record (synapses, statistics, snapshots, trajectories)."""
    if not result.weights:
        return None
    h = hashlib.sha256()
    for name in sorted(result.weights):
        rec = result.weights[name]
        h.update(f"{name}|{rec.n_pre}|{rec.n_post}|{rec.w_min!r}|{rec.w_max!r}".encode())
        for label in ("pre", "post", "hist", "synapse_index"):
            _update(h, label, np.asarray(getattr(rec, label), dtype=np.int64))
        for label in ("times_ms", "mean", "std", "hist_edges", "snapshots",
                      "trajectory_time_ms", "trajectories"):
            _update(h, label, _floats(getattr(rec, label)))
    return h.hexdigest()


def summary_hash(result: SimulationResult) -> str:
    """sha256 of ``result.summary()`` (node, kind, model, size, spikes, rate)."""
    summary = result.summary()
    rows = [[str(row.node), str(row.kind), str(row.model), int(row.size), int(row.spikes),
             round(float(row.rate_hz), 6)] for row in summary.itertuples()]
    return hashlib.sha256(json.dumps(rows).encode()).hexdigest()


def sample_hashes(path: Path) -> dict[str, str | None]:
    """The hashes of one sample project's (shortened) run."""
    project = load_project(path)
    duration = min(project.simulation.duration_ms, MAX_MS)
    result = simulate(project, duration_ms=duration)
    assert result.status == "completed", (path.name, result.status, result.messages)
    return {"duration_ms": duration, "spikes": spikes_hash(result),
            "n_spikes": int(len(result.spikes)), "traces": traces_hash(result),
            "weights": weights_hash(result)}


def fuzz_spec(seed: int) -> dict:
    """A network spec in the domain of tests/test_engine_fuzz.py's NETWORK strategy."""
    from engine.encoders import ENCODER_MODELS

    rng = np.random.default_rng(seed)
    # The neuron models and encoders the hashes were made with: a model added to a registry
    # must not change which networks these seeds draw.
    neurons = ["izhikevich", "lif"]
    encoders = sorted(set(ENCODER_MODELS) - {"dataset", "dataset_current", "dvs"})
    weights = [None, {"dist": "uniform", "low": 0.5, "high": 5.0},
               {"dist": "normal", "mean": 2.0, "std": 1.0}]
    plasticity = [None, {"rule": "stdp", "w_max": 10.0},
                  {"rule": "stdp", "pairing": "nearest", "bounds": "multiplicative",
                   "w_max": 10.0},
                  {"rule": "teaching", "w_max": 10.0}]

    def projection() -> dict:
        weight = weights[int(rng.integers(len(weights)))]
        return {
            "source": int(rng.integers(0, 21)), "target": int(rng.integers(0, 21)),
            "rule": str(rng.choice(["all_to_all", "one_to_one", "fixed_probability",
                                    "fixed_indegree"])),
            "p": float(rng.uniform(0.0, 1.0)), "k": int(rng.integers(1, 6)),
            "weight": float(rng.uniform(0.1, 30.0)) if weight is None else dict(weight),
            "delay_steps": int(rng.choice([0, 1, 10, 25])),
            "delay_spread": bool(rng.integers(2)),
            "inhibitory": bool(rng.integers(2)),
            "plasticity": plasticity[int(rng.integers(len(plasticity)))],
        }

    return {
        "populations": [(str(rng.choice(neurons)), int(rng.integers(1, 13)))
                        for _ in range(int(rng.integers(1, 4)))],
        "encoders": [(str(rng.choice(encoders)), int(rng.integers(1, 13)))
                     for _ in range(int(rng.integers(0, 4)))],
        "projections": [projection() for _ in range(int(rng.integers(1, 7)))],
        "dt_ms": float(rng.choice([0.1, 0.05, 0.25])),
        "seed": int(rng.integers(0, 2**31 - 1)),
    }


def fuzz_hash(seed: int) -> str:
    """The hash of fuzz network ``seed``'s summary and spikes over ``FUZZ_MS``.

    The network is built by the fuzz test's own builder; ``FUZZ_MS`` (longer than the fuzz
    test's 20 ms) gives the spiking networks enough spikes to notice a change.
    """
    from tests.test_engine_fuzz import _document

    project = Project.from_dict(_document(fuzz_spec(seed)))
    result = simulate(project, duration_ms=FUZZ_MS)
    assert result.status == "completed", (seed, result.status, result.messages)
    return f"{summary_hash(result)[:32]}{spikes_hash(result)[:32]}"


def compute_all() -> dict:
    return {
        "max_ms": MAX_MS,
        "samples": {path.name: sample_hashes(path) for path in SAMPLES},
        "fuzz": {str(seed): fuzz_hash(seed) for seed in range(N_FUZZ)},
    }


def _golden() -> dict:
    return json.loads(GOLDEN.read_text())


def test_golden_covers_every_sample_project():
    assert sorted(_golden()["samples"]) == [p.name for p in SAMPLES], (
        "a sample project was added or removed: regenerate with "
        "`python -m tests.test_golden --regen`")


@pytest.mark.parametrize("path", SAMPLES, ids=[p.stem for p in SAMPLES])
def test_sample_project_run_is_unchanged(path):
    expected = _golden()["samples"].get(path.name)
    assert expected is not None, f"{path.name} has no golden hashes"
    assert sample_hashes(path) == expected


def test_fuzz_network_summaries_are_unchanged():
    expected = _golden()["fuzz"]
    got = {str(seed): fuzz_hash(seed) for seed in range(N_FUZZ)}
    changed = sorted((k for k in expected if got.get(k) != expected[k]), key=int)
    assert not changed, f"fuzz networks with a changed summary (seeds): {changed}"
    assert got == expected


if __name__ == "__main__":
    if sys.argv[1:] != ["--regen"]:
        sys.exit("usage: python -m tests.test_golden --regen  (rewrites tests/data/golden.json)")
    GOLDEN.write_text(json.dumps(compute_all(), indent=2, sort_keys=True) + "\n")
    print(f"wrote {GOLDEN}")
