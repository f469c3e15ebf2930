"""The numba generator of Poisson events (kept apart so encoder specs load without numba)."""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True)
def bernoulli_block(size, p, p_max, seed):  # pragma: no cover - compiled
    """Bernoulli events with per-step probability p (<= p_max) by geometric skipping + thinning."""
    np.random.seed(seed)
    n_steps = p.shape[0]
    cap = int(size * n_steps * p_max * 1.2) + 64
    out_k = np.empty(cap, np.int64)
    out_n = np.empty(cap, np.int32)
    count = 0
    for i in range(size):
        pos = np.random.geometric(p_max) - 1
        while pos < n_steps:
            if p[pos] >= p_max or np.random.random() * p_max < p[pos]:
                if count == cap:
                    cap *= 2
                    grown_k = np.empty(cap, np.int64)
                    grown_n = np.empty(cap, np.int32)
                    grown_k[:count] = out_k[:count]
                    grown_n[:count] = out_n[:count]
                    out_k, out_n = grown_k, grown_n
                out_k[count] = pos
                out_n[count] = i
                count += 1
            pos += np.random.geometric(p_max)
    return out_k[:count], out_n[:count]
