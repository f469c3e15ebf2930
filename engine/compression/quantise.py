"""Symmetric per-layer weight quantisation, and recognising weights that lie on such a grid.

K bits hold the integers ``q`` in ``[-(2**(K-1) - 1), 2**(K-1) - 1]`` (the symmetric range:
-2**(K-1) is left out so that +w and -w are both representable); a weight is ``q * scale``
with one scale per layer, so the layer holds at most ``2**K - 1`` distinct values, 0 (no
synapse) included. The ``max`` scale ``max|w| / (2**(K-1) - 1)`` keeps the largest weight
exactly; the ``mse`` scale trades clipping of the largest weights for finer steps (at 2
bits, the max scale rounds every weight below half the largest to 0).
"""

from __future__ import annotations

import numpy as np

from engine.compression.settings import WEIGHT_BITS

#: How far from an integer ``w / scale`` may be and still count as on the grid: float32
#: weights (a run's) carry a relative error of 6e-8, so q <= 127 is off by at most 2e-5,
#: while weights not on a grid miss integers by ~0.25 on average.
GRID_TOLERANCE = 1e-4


def q_max(bits: int) -> int:
    """Largest integer of a symmetric ``bits``-bit code."""
    return 2 ** (bits - 1) - 1


#: Candidate ``mse`` scales, as fractions of the ``max`` scale.
MSE_FRACTIONS = np.linspace(0.05, 1.0, 96)


def layer_scale(arrays: list[np.ndarray], bits: int, method: str = "max") -> float:
    """The layer's step (0: an empty layer).

    ``max``: the largest magnitude over the largest code. ``mse``: of the
    :data:`MSE_FRACTIONS` of that, the one whose quantisation of the layer's synapses (its
    non-zero weights) has the least squared error (the largest fraction on a tie).
    """
    weights = np.concatenate([np.ravel(a) for a in arrays] + [np.empty(0)])
    weights = weights[weights != 0]
    if not weights.size:
        return 0.0
    top = float(np.max(np.abs(weights))) / q_max(bits)
    if method == "max":
        return top
    errors = [float(np.sum((quantise(weights, f * top, bits) - weights) ** 2))
              for f in MSE_FRACTIONS]
    best = min(range(len(errors)), key=lambda i: (errors[i], -i))
    return float(MSE_FRACTIONS[best] * top)


def quantise(values: np.ndarray, scale: float, bits: int) -> np.ndarray:
    """``values`` rounded to the nearest ``q * scale`` (q clipped to the symmetric range)."""
    if scale <= 0:
        return np.zeros_like(values)
    top = q_max(bits)
    return np.clip(np.rint(values / scale), -top, top) * scale


def grid_bits(weights: np.ndarray) -> int | None:
    """The fewest bits (2..8) of a symmetric grid holding every non-zero weight exactly.

    The grid's scale is the largest magnitude over ``2**(K-1) - 1``, as :func:`quantise`
    sets it. None when no such grid exists (unquantised weights) or there is no weight.
    """
    w = np.abs(np.asarray(weights, np.float64))
    w = w[w > 0]
    if not w.size:
        return None
    ratio = w / w.max()
    for bits in WEIGHT_BITS:
        q = ratio * q_max(bits)
        if np.max(np.abs(q - np.rint(q))) <= GRID_TOLERANCE:
            return bits
    return None
