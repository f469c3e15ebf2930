"""engine.files: a write either replaces the file whole or leaves the old one."""

from __future__ import annotations

import numpy as np
import pytest

from engine.files import atomic_write_text, atomic_writer


def test_a_block_that_raises_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "arrays.npz"
    with atomic_writer(path) as handle:
        np.savez(handle, a=np.arange(3.0))
    with pytest.raises(RuntimeError), atomic_writer(path) as handle:
        handle.write(b"half a file")
        raise RuntimeError("the writer failed")
    assert np.load(path)["a"].tolist() == [0.0, 1.0, 2.0]
    assert [p.name for p in tmp_path.iterdir()] == ["arrays.npz"]


def test_text_is_written_as_utf8_into_a_new_folder(tmp_path):
    path = tmp_path / "new" / "notes.txt"
    atomic_write_text(path, "τ_m = 20 ms")
    assert path.read_bytes() == "τ_m = 20 ms".encode()
