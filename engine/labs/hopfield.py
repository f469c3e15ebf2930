"""Hopfield associative memory in a spiking network: patterns -> weights and cue, and overlap.

A project stores its patterns in its ``hopfield`` section (validated by
:func:`hopfield_problems`)::

    "hopfield": {"population": "memory",            # the N neurons that hold the memory
                 "columns": 10,                      # grid width, for drawing (N = rows x columns)
                 "patterns": ["#..#...", ...],       # one string of N cells per pattern:
                                                     #   '#' = +1 (fires), '.' = -1 (silent)
                 "gain_mv": 40.0,                    # weight scale of the Hebbian matrix
                 "cue": 0,                           # the pattern the cue starts from
                 "flip_fraction": 0.2,               # share of its cells flipped in the cue
                 "cue_stop_ms": 30.0, "cue_interval_ms": 2.0,
                 "cue_node": "cue", "excitatory": "recurrent_exc", "inhibitory": "recurrent_inh"}

:func:`store_patterns` writes what the network needs from it into the project document: the
Hebbian weights ``W = gain / N * sum_mu p_mu p_mu^T`` (zero diagonal) as the explicit matrices
of the two recurrent projections (the excitatory one keeps the positive entries, the
inhibitory one the negative ones: a run sign-clamps weights by receptor), and the spike times
of the cue encoder (a ``spike_times`` node of N channels, one-to-one onto the memory): every
neuron that is +1 in the corrupted cue fires every ``cue_interval_ms`` until ``cue_stop_ms``.

Recall is read from the rates in a window after the cue: a neuron firing at more than half
the population's top rate counts as +1, and :func:`overlap` with the stored pattern is the
recall quality (1: perfect, 0: unrelated, -1: the inverse pattern).
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

__all__ = ["CAPACITY_FRACTION", "ON", "OFF", "cue_pattern", "decode", "encode",
           "hebbian_weights", "hopfield_problems", "overlap", "random_patterns",
           "recalled_state", "store_patterns"]

ON, OFF = "#", "."
#: The classical capacity of a Hopfield network of N neurons: about 0.138 N random patterns
#: (Amit, Gutfreund & Sompolinsky 1985).
CAPACITY_FRACTION = 0.138
DEFAULTS = {"gain_mv": 40.0, "cue": 0, "flip_fraction": 0.2, "cue_stop_ms": 30.0,
            "cue_interval_ms": 2.0, "cue_node": "cue", "excitatory": "recurrent_exc",
            "inhibitory": "recurrent_inh"}


def decode(pattern: str) -> np.ndarray:
    """A pattern string (``'#'`` = +1, ``'.'`` = -1) as a vector of +-1."""
    return np.where(np.frombuffer(pattern.encode("ascii"), np.uint8) == ord(ON), 1, -1)


def encode(vector: np.ndarray) -> str:
    """A +-1 vector as a pattern string."""
    return "".join(ON if x > 0 else OFF for x in np.asarray(vector))


def random_patterns(n_patterns: int, n_neurons: int, rng: np.random.Generator) -> np.ndarray:
    """``(P, N)`` random +-1 patterns with exactly half of the neurons on in each.

    Balanced patterns keep the mean input from the silent (0 rather than -1) neurons of a
    spiking network at zero, so it behaves like the classical +-1 network.
    """
    half = np.r_[np.ones(n_neurons // 2, np.int64), -np.ones(n_neurons - n_neurons // 2, np.int64)]
    return np.array([rng.permutation(half) for _ in range(n_patterns)]).reshape(
        n_patterns, n_neurons)


def hebbian_weights(patterns: np.ndarray, gain: float = 1.0) -> np.ndarray:
    """``gain / N * sum_mu p_mu p_mu^T`` with a zero diagonal, ``(N, N)`` float64."""
    p = np.asarray(patterns, dtype=np.float64)
    n = p.shape[1]
    w = gain / n * (p.T @ p)
    np.fill_diagonal(w, 0.0)
    return w


def cue_pattern(pattern: np.ndarray, flip_fraction: float, rng: np.random.Generator) -> np.ndarray:
    """``pattern`` with ``round(flip_fraction * N)`` cells, chosen by ``rng``, flipped."""
    cue = np.array(pattern, copy=True)
    flips = rng.choice(len(cue), int(round(flip_fraction * len(cue))), replace=False)
    cue[flips] *= -1
    return cue


def cue_times(cue: np.ndarray, stop_ms: float, interval_ms: float) -> list[list[float]]:
    """Spike times of the cue encoder: each +1 cell fires every ``interval_ms`` before
    ``stop_ms`` (from ``interval_ms`` on), each -1 cell never."""
    times = [round(t, 6) for t in np.arange(interval_ms, stop_ms, interval_ms)]
    return [list(times) if c > 0 else [] for c in np.asarray(cue)]


def recalled_state(rates_hz: np.ndarray) -> np.ndarray:
    """+1 for a neuron firing at more than half the top rate, -1 otherwise (all -1 if silent)."""
    rates = np.asarray(rates_hz, dtype=np.float64)
    top = rates.max() if rates.size else 0.0
    if top <= 0.0:
        return -np.ones(rates.shape, np.int64)
    return np.where(rates > top / 2.0, 1, -1)


def overlap(state: np.ndarray, pattern: np.ndarray) -> float:
    """``1/N sum_i s_i p_i`` of two +-1 vectors."""
    s, p = np.asarray(state, np.float64), np.asarray(pattern, np.float64)
    return float(s @ p / len(p))


def settings(section: dict[str, Any]) -> dict[str, Any]:
    """The ``hopfield`` section with its defaults filled in."""
    return {**DEFAULTS, **section}


def store_patterns(document: dict, seed: int | None = None) -> dict:
    """A copy of a project document whose recurrent weights and cue hold its patterns.

    Parameters
    ----------
    document
        A project document with a valid ``hopfield`` section (:func:`hopfield_problems`).
    seed
        Chooses the flipped cells of the cue; default: the project's simulation seed.
    """
    doc = copy.deepcopy(document)
    h = settings(doc["hopfield"])
    patterns = np.array([decode(p) for p in h["patterns"]])
    w = hebbian_weights(patterns, h["gain_mv"])
    rows = np.round(w, 9).tolist()
    seed = doc.get("simulation", {}).get("seed", 42) if seed is None else seed
    cue = cue_pattern(patterns[h["cue"]], h["flip_fraction"], np.random.default_rng(seed))
    for edge in doc["network"]["projections"]:
        if edge["id"] in (h["excitatory"], h["inhibitory"]):
            edge["connectivity"] = {"rule": "matrix", "weights": rows}
    for node in doc["network"]["nodes"]:
        if node["id"] == h["cue_node"]:
            node["params"] = {"times_ms": cue_times(cue, h["cue_stop_ms"], h["cue_interval_ms"])}
            node["size"] = len(cue)
    return doc


def hopfield_problems(section: Any, document: dict,
                      path: str = "hopfield") -> list[tuple[str, str]]:
    """Every problem of a ``hopfield`` section as ``(field path, message)`` pairs."""
    if not isinstance(section, dict):
        return [(path, "must be an object")]
    allowed = {"population", "columns", "patterns", *DEFAULTS}
    problems = [(f"{path}.{k}", "is not a field of the hopfield section")
                for k in sorted(set(section) - allowed)]
    nodes = {n.get("id"): n for n in document.get("network", {}).get("nodes", [])
             if isinstance(n, dict)}
    edges = {p.get("id"): p for p in document.get("network", {}).get("projections", [])
             if isinstance(p, dict)}
    h = settings(section)
    population = nodes.get(_name(h.get("population")))
    if population is None or population.get("kind") != "population" \
            or not _whole(population.get("size", 1)):
        problems.append((f"{path}.population", "must name a population of the network"))
        return problems
    n = population.get("size", 1)
    patterns = h.get("patterns")
    if not isinstance(patterns, list) or not patterns:
        problems.append((f"{path}.patterns", "must be a non-empty list of pattern strings"))
        return problems
    for i, p in enumerate(patterns):
        if not isinstance(p, str) or len(p) != n or set(p) - {ON, OFF}:
            problems.append((f"{path}.patterns[{i}]", f"must be {n} cells of '{ON}' (on) and "
                                                      f"'{OFF}' (off), one per neuron of "
                                                      f"{h['population']!r}"))
    columns = h.get("columns", n)
    if not _whole(columns) or columns < 1 or n % columns:
        problems.append((f"{path}.columns", f"must be a whole number dividing {n}"))
    cue = h["cue"]
    if not _whole(cue) or not 0 <= cue < len(patterns):
        problems.append((f"{path}.cue", f"must be a pattern index, 0 to {len(patterns) - 1}"))
    for key, low, high in (("gain_mv", 0.0, 1e4), ("flip_fraction", 0.0, 0.5),
                           ("cue_stop_ms", 0.0, 1e6), ("cue_interval_ms", 0.01, 1e6)):
        value = h[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not low <= value <= high:
            problems.append((f"{path}.{key}", f"must be a number from {low:g} to {high:g}"))
    if nodes.get(_name(h["cue_node"]), {}).get("model") != "spike_times":
        problems.append((f"{path}.cue_node", "must name a spike_times encoder (the cue)"))
    for key, receptor in (("excitatory", "exc"), ("inhibitory", "inh")):
        edge = edges.get(_name(h[key]))
        if edge is None or edge.get("receptor", "exc") != receptor or \
                edge.get("source") != h["population"] or edge.get("target") != h["population"]:
            problems.append((f"{path}.{key}", f"must name a recurrent {receptor} projection "
                                              f"of {h['population']!r}"))
    return problems


def _name(value: Any) -> str | None:
    """``value`` when it can be an id (a string), else None (never an unhashable key)."""
    return value if isinstance(value, str) else None


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
