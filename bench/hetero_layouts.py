"""Micro-benchmark: where per-neuron constants cost time in the integration pass (issue 22).

The LIF integration pass (arrivals, exact membrane update, refractory count, synaptic decay) in
five forms, each timed alone on the same state arrays:

- ``homogeneous``: the seven packed constants are numbers (held in registers);
- ``rows``: every constant is a per-neuron row of a (constant, neuron) block, as the kernel
  reads a heterogeneous node today (``per_neuron(par[P], j)``);
- ``2d``: the same block indexed ``par[P, j]`` inside the loop;
- ``varying only``: only the three propagators a varying tau_m changes are per-neuron rows,
  the others stay numbers (what compiling each constant by its own type would give);
- ``neuron-major``: a (neuron, constant) block, one cache line per neuron.

Usage: ``.venv/bin/python bench/hetero_layouts.py [--sizes 4000 40000]``. Prints ns per neuron
and step (minimum over repeats) and the ratio to the homogeneous pass.
"""

from __future__ import annotations

import argparse
import time

import numba
import numpy as np


@numba.njit(inline="always")
def _neuron(vv, ee, hh, be, bi, rr, j, p_mm, p_me, p_mi, p_ee, p_ii, v_rest):
    a, c = be[j], bi[j]
    be[j] = 0.0
    bi[j] = 0.0
    e, h = ee[j] + a, hh[j] + c
    r = rr[j]
    vj = v_rest + (vv[j] - v_rest) * p_mm + e * p_me + h * p_mi
    vv[j] = vj if r <= 0 else vv[j]
    rr[j] = r - 1 if r > 0 else 0
    ee[j] = e * p_ee
    hh[j] = h * p_ii
    return (a != 0.0) | (c != 0.0)


@numba.njit
def homogeneous(vv, ee, hh, be, bi, rr, par, _):
    active = 0
    for j in range(vv.shape[0]):
        active += _neuron(vv, ee, hh, be, bi, rr, j, par[0], par[1], par[2], par[3], par[4],
                          par[5])
    return active


@numba.njit
def rows(vv, ee, hh, be, bi, rr, par, _):
    p0, p1, p2, p3, p4, p5 = par[0], par[1], par[2], par[3], par[4], par[5]
    active = 0
    for j in range(vv.shape[0]):
        active += _neuron(vv, ee, hh, be, bi, rr, j, p0[j], p1[j], p2[j], p3[j], p4[j], p5[j])
    return active


@numba.njit
def two_d(vv, ee, hh, be, bi, rr, par, _):
    active = 0
    for j in range(vv.shape[0]):
        active += _neuron(vv, ee, hh, be, bi, rr, j, par[0, j], par[1, j], par[2, j],
                          par[3, j], par[4, j], par[5, j])
    return active


@numba.njit
def varying_only(vv, ee, hh, be, bi, rr, par, shared):
    p0, p1, p2 = par[0], par[1], par[2]
    active = 0
    for j in range(vv.shape[0]):
        active += _neuron(vv, ee, hh, be, bi, rr, j, p0[j], p1[j], p2[j], shared[3],
                          shared[4], shared[5])
    return active


@numba.njit
def neuron_major(vv, ee, hh, be, bi, rr, par_t, _):
    active = 0
    for j in range(vv.shape[0]):
        q = par_t[j]
        active += _neuron(vv, ee, hh, be, bi, rr, j, q[0], q[1], q[2], q[3], q[4], q[5])
    return active


def time_pass(fn, args, n: int, repeats: int) -> float:
    fn(*args)
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(repeats):
            fn(*args)
        best = min(best, (time.perf_counter() - t0) / repeats)
    return best / n * 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[4000, 40000])
    args = parser.parse_args()
    shared = np.array([0.995, 0.1, 0.1, 0.9, 0.9, -49.0])
    for n in args.sizes:
        rng = np.random.default_rng(0)
        state = [rng.random(n) for _ in range(5)] + [np.zeros(n)]
        block = shared[:, None] * (1 + 0.01 * rng.random((shared.size, n)))
        forms = {"homogeneous": (homogeneous, shared), "rows": (rows, block),
                 "2d": (two_d, block), "varying only": (varying_only, block),
                 "neuron-major": (neuron_major, np.ascontiguousarray(block.T))}
        repeats = max(1, 40_000_000 // (n * 10))
        base = None
        for name, (fn, par) in forms.items():
            ns = time_pass(fn, (*state, par, shared), n, repeats)
            base = base or ns
            print(f"N={n:>6}  {name:<13} {ns:5.2f} ns/neuron/step  {ns / base:4.2f}x")


if __name__ == "__main__":
    main()
