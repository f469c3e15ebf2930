"""The prefetch hint of the kernel's scattered reads changes nothing but timing."""

from __future__ import annotations

import numba
import numpy as np
import pytest

from engine.core import kernels, memory_hints
from engine.plasticity import base


@numba.njit
def _sum_with_hints(values, order, ahead):
    total = 0.0
    for e in range(order.shape[0]):
        if e + ahead < order.shape[0]:
            memory_hints.prefetch(values, order[e + ahead])
        total += values[order[e]]
    return total


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.uint8])
def test_prefetch_reads_change_no_value(dtype):
    rng = np.random.default_rng(3)
    values = rng.integers(0, 100, 10_000).astype(dtype)
    order = rng.permutation(values.shape[0]).astype(np.int64)
    before = values.copy()
    assert _sum_with_hints(values, order, 8) == pytest.approx(float(values.sum()))
    np.testing.assert_array_equal(values, before)


def test_prefetch_of_a_strided_view_and_int32_indices():
    values = np.arange(1000, dtype=np.float64)
    view = values[::3]  # not contiguous: the element's address uses the stride
    order = np.arange(view.shape[0], dtype=np.int32)[::-1].copy()
    assert _sum_with_hints(view, order, 4) == pytest.approx(float(view.sum()))


def test_plain_python_rules_see_a_no_op_and_the_kernel_the_intrinsic():
    # Rule files stay plain Python (they import without numba); the kernel swaps the hint in.
    assert base.prefetch(np.zeros(3), 1) is None
    assert base.prefetch.kernel_overload is True
    assert kernels._OVERLOADS["prefetch"] is memory_hints.prefetch


def test_the_kernel_cache_key_covers_the_hints_file(monkeypatch, tmp_path):
    hints = tmp_path / "memory_hints.py"
    hints.write_text("# another version\n")
    before = kernels.inlined_sources_digest()
    monkeypatch.setattr(memory_hints, "__file__", str(hints))
    assert kernels.inlined_sources_digest() != before
