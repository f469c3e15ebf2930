"""Hostile ONNX, NPZ and NIR files: one clear message and exit code 2, never a traceback.

The files are built at test time by tests/hostile_files.py (external data pointing at
/etc/passwd, ../.. and /dev/zero, declared shapes the data does not fill, a 10^12 input, HDF5
external links and external storage...). External data is refused before any tensor or array
is read: the tests make reading fail loudly to prove it.
"""

from __future__ import annotations

import pytest

pytest.importorskip("onnx")
pytest.importorskip("nir")

from engine.cli import main  # noqa: E402
from engine.errors import SpikeStudioError  # noqa: E402
from engine.evaluation.datasets import load_dataset_bytes  # noqa: E402
from tests.hostile_files import HOSTILE_NIR, HOSTILE_NPZ, HOSTILE_ONNX  # noqa: E402
from workbench.export_menu import import_nir_bytes  # noqa: E402


def _cli(argv: list[str], capsys) -> tuple[int, str]:
    code = main(argv)
    err = capsys.readouterr().err
    return code, err


def _one_clear_error(code: int, err: str, file_name: str, word: str) -> None:
    assert code == 2, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert file_name in lines[0] and word in lines[0], err


@pytest.mark.parametrize("case", sorted(HOSTILE_ONNX))
def test_convert_refuses_a_hostile_onnx_file_with_one_message(case, tmp_path, capsys,
                                                              monkeypatch):
    from onnx import numpy_helper

    path, word = HOSTILE_ONNX[case](tmp_path)

    def no_read(*args, **kwargs):
        raise AssertionError("a tensor was read from a hostile model")

    monkeypatch.setattr(numpy_helper, "to_array", no_read)
    code, err = _cli(["convert", str(path), "--out", str(tmp_path / "p.json")], capsys)
    _one_clear_error(code, err, path.name, word)
    assert not (tmp_path / "p.json").exists()


@pytest.mark.parametrize("command", ["import", "convert"])
@pytest.mark.parametrize("case", sorted(HOSTILE_NIR))
def test_a_nir_file_with_links_out_of_it_is_refused_before_it_is_read(case, command, tmp_path,
                                                                     capsys, monkeypatch):
    import nir

    path, word = HOSTILE_NIR[case](tmp_path)

    def no_read(*args, **kwargs):
        raise AssertionError("nir.read was called on a hostile file")

    monkeypatch.setattr(nir, "read", no_read)
    code, err = _cli([command, str(path), "--out", str(tmp_path / "p.json")], capsys)
    _one_clear_error(code, err, path.name, word)
    assert "refused" in err
    assert not (tmp_path / "p.json").exists()


def test_the_page_upload_of_a_hostile_nir_file_gives_the_same_message(tmp_path):
    path, word = HOSTILE_NIR["nir_external_link"](tmp_path)
    with pytest.raises(SpikeStudioError, match=f"{word} at 'node/nodes/passwd'.*refused"):
        import_nir_bytes(path.read_bytes())


@pytest.mark.parametrize("case", sorted(HOSTILE_NPZ))
def test_evaluate_refuses_a_hostile_npz_dataset_before_allocating(case, tmp_path, capsys):
    path, word = HOSTILE_NPZ[case](tmp_path)
    code, err = _cli(["evaluate", "sample_projects/digits_mlp.json", "--dataset", str(path),
                      "--out", str(tmp_path / "eval")], capsys)
    _one_clear_error(code, err, path.name, f"{word!r}")


@pytest.mark.parametrize("case", sorted(HOSTILE_NPZ))
def test_the_page_upload_of_a_hostile_npz_gives_the_same_message(case, tmp_path, capsys):
    path, _ = HOSTILE_NPZ[case](tmp_path)
    _, err = _cli(["evaluate", "sample_projects/digits_mlp.json", "--dataset", str(path),
                   "--out", str(tmp_path / "eval")], capsys)
    with pytest.raises(SpikeStudioError) as refused:
        load_dataset_bytes(path.read_bytes(), path.name)
    assert err.strip() == f"error: {refused.value}"


def test_a_huge_declared_npz_is_named_with_its_shape(tmp_path):
    path, _ = HOSTILE_NPZ["npz_huge"](tmp_path)
    with pytest.raises(SpikeStudioError, match=r"'x' declares 1,000,000,000 x 1,000,000,000"):
        load_dataset_bytes(path.read_bytes(), path.name)
