"""Decoders: estimate the signal an encoder coded from the spikes it emitted.

One decoder per code of :mod:`engine.encoders`, each the inverse of its encoder:

- rate (``dataset``, ``poisson``): the population's mean rate in each window, in Hz;
- latency (``latency``): ``x = 1 - t / t_max`` from each neuron's first spike;
- delta (``delta``): the running sum of ON minus OFF events times the threshold.

They take spike times and neuron indices as numpy arrays (one node's spikes) and return numpy
arrays, so the neural-coding lab, a notebook or a test can compare codes on the same signal
(:func:`window_means` gives the truth on the same windows).
"""

from __future__ import annotations

import numpy as np

__all__ = ["decode_delta", "decode_latency", "decode_rate", "rms_error", "window_edges",
           "window_means"]


def window_edges(duration_ms: float, window_ms: float) -> np.ndarray:
    """Edges ``0, w, 2w, ...`` of the whole windows that fit in ``duration_ms``."""
    if window_ms <= 0:
        raise ValueError(f"window_ms must be positive, got {window_ms:g}")
    n = int(np.floor(duration_ms / window_ms + 1e-9))
    return np.arange(n + 1, dtype=np.float64) * window_ms


def window_means(table: list | np.ndarray, edges_ms: np.ndarray) -> np.ndarray:
    """Mean of a piecewise-constant ``[time_ms, value]`` table over each window.

    The table holds its value from each row's time to the next row (before the first row:
    the first row's value, as the delta encoder reads it).
    """
    rows = np.asarray(table, dtype=np.float64).reshape(-1, 2)
    if len(rows) == 0:
        raise ValueError("the signal table has no rows")
    # Integrate exactly: the integral of a step function is piecewise linear between the
    # breakpoints, so evaluating it at the edges needs no sampling grid.
    t = np.concatenate([[min(edges_ms[0], rows[0, 0])], rows[1:, 0], [max(edges_ms[-1],
                                                                          rows[-1, 0])]])
    v = rows[:, 1]
    integral = np.concatenate([[0.0], np.cumsum(v * np.diff(t))])
    at_edges = np.interp(edges_ms, t, integral)
    return np.diff(at_edges) / np.diff(edges_ms)


def decode_rate(times_ms: np.ndarray, size: int, starts_ms: np.ndarray,
                width_ms: float) -> np.ndarray:
    """Mean firing rate (Hz) of a population of ``size`` neurons in each window
    ``[start, start + width]`` (a spike on a window's end still counts: the dataset encoder's
    spikes fall strictly inside its windows)."""
    times = np.asarray(times_ms, dtype=np.float64)
    starts = np.asarray(starts_ms, dtype=np.float64)
    window = np.searchsorted(starts, times, side="right") - 1
    inside = window >= 0
    inside[inside] &= times[inside] <= starts[window[inside]] + width_ms
    counts = np.bincount(window[inside], minlength=len(starts))[:len(starts)]
    return counts / (size * width_ms * 1e-3)


def decode_latency(times_ms: np.ndarray, neurons: np.ndarray, size: int,
                   t_max_ms: float) -> np.ndarray:
    """Values coded by first-spike latency: ``x = 1 - t / t_max`` of each neuron.

    Only the first spike of each neuron (in the first ``t_max_ms``) counts; a silent neuron
    decodes as 0 (the encoder keeps values below ``x_min`` silent).
    """
    times = np.asarray(times_ms, dtype=np.float64)
    neurons = np.asarray(neurons, dtype=np.int64)
    first = np.full(size, np.inf)
    inside = times <= t_max_ms + 1e-9
    np.minimum.at(first, neurons[inside], times[inside])
    return np.where(np.isfinite(first), np.clip(1.0 - first / t_max_ms, 0.0, 1.0), 0.0)


def decode_delta(times_ms: np.ndarray, neurons: np.ndarray, threshold: float,
                 initial: float, edges_ms: np.ndarray) -> np.ndarray:
    """Mean over each window of the signal rebuilt from ON (neuron 0) / OFF (neuron 1) events.

    The estimate starts at ``initial`` (the signal's value at time 0, the encoder's first
    reference) and steps by ``+threshold`` at each ON event, ``-threshold`` at each OFF event.
    """
    times = np.asarray(times_ms, dtype=np.float64)
    order = np.argsort(times, kind="stable")
    times = times[order]
    steps = np.where(np.asarray(neurons)[order] == 0, threshold, -threshold)
    table = np.column_stack([np.concatenate([[0.0], times]),
                             initial + np.concatenate([[0.0], np.cumsum(steps)])])
    return window_means(table, edges_ms)


def rms_error(estimate: np.ndarray, truth: np.ndarray) -> float:
    """Root-mean-square difference of two equally long arrays."""
    estimate, truth = np.asarray(estimate, np.float64), np.asarray(truth, np.float64)
    if estimate.shape != truth.shape:
        raise ValueError(f"estimate has shape {estimate.shape}, truth {truth.shape}")
    return float(np.sqrt(np.mean((estimate - truth) ** 2))) if truth.size else 0.0
