"""Connectivity rules -> CSR synapse lists (row pointer per source neuron, target indices).

Random rules use numba's generator seeded per projection, so a project's seed fixes every
synapse. Targets within a row are sorted, which keeps the spike propagation's writes local.
"""

from __future__ import annotations

import math

import numba
import numpy as np


def expected_synapses(rule: str, params: dict, n_pre: int, n_post: int, same: bool) -> float:
    """Number of synapses a rule will create (expected value for random rules)."""
    autapses = params.get("allow_autapses", True) or not same
    if rule == "all_to_all":
        return n_pre * n_post - (0 if autapses else min(n_pre, n_post))
    if rule == "one_to_one":
        return float(n_pre)
    if rule == "fixed_probability":
        pairs = n_pre * n_post - (0 if autapses else min(n_pre, n_post))
        return pairs * params.get("p", 0.1)
    if rule == "fixed_indegree":
        return float(params.get("k", 10)) * n_post
    if rule == "matrix":
        return float(np.count_nonzero(np.asarray(params["weights"], dtype=np.float64)))
    raise KeyError(rule)


def connect(rule: str, params: dict, n_pre: int, n_post: int, same: bool,
            seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Build the synapses of one projection.

    Returns
    -------
    rowptr : int64 array (n_pre + 1,)
        Synapses of source neuron i are ``targets[rowptr[i]:rowptr[i + 1]]``.
    targets : int32 array
        Target neuron index (within the target node) of each synapse.
    weights : float array or None
        Per-synapse weights for the ``matrix`` rule, else None.
    """
    autapses = bool(params.get("allow_autapses", True)) or not same
    if rule == "all_to_all":
        rowptr, targets = _all_to_all(n_pre, n_post, autapses)
        return rowptr, targets, None
    if rule == "one_to_one":
        return np.arange(n_pre + 1, dtype=np.int64), np.arange(n_pre, dtype=np.int32), None
    if rule == "fixed_probability":
        rowptr, targets = _fixed_probability(n_pre, n_post, float(params.get("p", 0.1)),
                                             autapses, seed)
        return rowptr, targets, None
    if rule == "fixed_indegree":
        rowptr, targets = _fixed_indegree(n_pre, n_post, int(params.get("k", 10)), autapses,
                                          seed)
        return rowptr, targets, None
    if rule == "matrix":
        matrix = np.asarray(params["weights"], dtype=np.float64)
        pre, post = np.nonzero(matrix)
        rowptr = np.zeros(n_pre + 1, dtype=np.int64)
        np.cumsum(np.bincount(pre, minlength=n_pre), out=rowptr[1:])
        return rowptr, post.astype(np.int32), matrix[pre, post]
    raise KeyError(rule)


def _all_to_all(n_pre: int, n_post: int, autapses: bool) -> tuple[np.ndarray, np.ndarray]:
    if autapses:
        rowptr = np.arange(n_pre + 1, dtype=np.int64) * n_post
        targets = np.tile(np.arange(n_post, dtype=np.int32), n_pre)
        return rowptr, targets
    full = np.tile(np.arange(n_post, dtype=np.int32), (n_pre, 1))
    mask = np.ones((n_pre, n_post), dtype=bool)
    diag = np.arange(min(n_pre, n_post))
    mask[diag, diag] = False
    rowptr = np.zeros(n_pre + 1, dtype=np.int64)
    np.cumsum(mask.sum(axis=1), out=rowptr[1:])
    return rowptr, full[mask]


@numba.njit(cache=True)
def _geometric(p):  # pragma: no cover - compiled
    """Trials up to the first success (>= 1), like ``np.random.geometric`` (same stream).

    For p < 1e-9, ``1 - p`` rounds to 1 and numpy's inversion divides by log(1) = 0; there
    the inversion uses log1p and the result is capped (far beyond any row length).
    """
    if p >= 1e-9:
        return np.random.geometric(p)
    trials = math.floor(math.log(1.0 - np.random.random()) / math.log1p(-p)) + 1.0
    return int(min(trials, 2.0**62))


@numba.njit(cache=True)
def _fixed_probability(n_pre, n_post, p, autapses, seed):  # pragma: no cover - compiled
    """Each pair independently with probability p, by geometric skipping (O(synapses))."""
    np.random.seed(seed)
    rowptr = np.zeros(n_pre + 1, np.int64)
    expected = n_pre * n_post * p
    cap = int(expected + 6.0 * np.sqrt(expected + 1.0)) + 16
    targets = np.empty(cap, np.int32)
    count = 0
    if p > 0.0:
        for i in range(n_pre):
            j = _geometric(p) - 1 if p < 1.0 else 0
            while j < n_post:
                if autapses or j != i:
                    if count == cap:
                        cap = cap * 2
                        grown = np.empty(cap, np.int32)
                        grown[:count] = targets[:count]
                        targets = grown
                    targets[count] = j
                    count += 1
                j += _geometric(p) if p < 1.0 else 1
            rowptr[i + 1] = count
    return rowptr, targets[:count].copy()


@numba.njit(cache=True)
def _fixed_indegree(n_pre, n_post, k, autapses, seed):  # pragma: no cover - compiled
    """Each target draws k distinct sources (Floyd's algorithm), then transpose to CSR."""
    np.random.seed(seed)
    sources = np.empty(n_post * k, np.int32)
    chosen = np.zeros(n_pre, np.bool_)
    pool = n_pre
    for j in range(n_post):
        excluded = (not autapses) and j < n_pre
        m = pool - 1 if excluded else pool
        picked = np.empty(k, np.int32)
        for t in range(k):  # Floyd: a uniform k-subset of range(m)
            r = np.random.randint(0, m - k + t + 1)
            if chosen[r]:
                r = m - k + t
            chosen[r] = True
            picked[t] = r
        for t in range(k):
            chosen[picked[t]] = False
            src = picked[t]
            if excluded and src >= j:  # skip index j by shifting the upper part
                src += 1
            sources[j * k + t] = src
    counts = np.zeros(n_pre + 1, np.int64)
    for s in range(n_post * k):
        counts[sources[s] + 1] += 1
    rowptr = np.cumsum(counts)
    fill = rowptr[:-1].copy()
    targets = np.empty(n_post * k, np.int32)
    for j in range(n_post):  # ascending j keeps each row sorted
        for t in range(k):
            src = sources[j * k + t]
            targets[fill[src]] = j
            fill[src] += 1
    return rowptr, targets
