"""Labelled datasets for data-driven runs: scikit-learn's bundled digits, CSV and .npz files.

Every loader returns a :class:`Dataset` of finite float64 features (one row per sample,
images flattened row by row) and int64 labels, or raises a :class:`SpikeStudioError` naming
the file, column or row at fault. Files are never unpickled (``np.load(allow_pickle=False)``).
"""

from __future__ import annotations

import csv
import importlib.util
import math
import re
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.errors import SpikeStudioError

MAX_DATASET_VALUES = 50_000_000  # 400 MB of float64: refuse bigger files before parsing


@dataclass(frozen=True)
class Dataset:
    """Samples (n, features) float64 and their labels (n,) int64."""

    name: str
    x: np.ndarray
    y: np.ndarray

    @property
    def n_classes(self) -> int:
        return int(self.y.max()) + 1 if self.y.size else 0

    def subset(self, index: np.ndarray | slice) -> Dataset:
        return Dataset(self.name, self.x[index], self.y[index])


def digits() -> Dataset:
    """scikit-learn's 8x8 digits (1,797 samples, bundled: no download), scaled to [0, 1].

    Read from the file scikit-learn ships (``load_digits`` reads the same one) without
    importing scikit-learn, which takes seconds.
    """
    spec = importlib.util.find_spec("sklearn")
    if spec is None or spec.origin is None:
        raise SpikeStudioError("the digits dataset needs scikit-learn: pip install "
                               "'spikestudio[convert]'")
    table = np.loadtxt(Path(spec.origin).parent / "datasets" / "data" / "digits.csv.gz",
                       delimiter=",")
    return Dataset("digits", table[:, :-1] / 16.0, table[:, -1].astype(np.int64))


def split(data: Dataset, n_test: int, seed: int = 0) -> tuple[Dataset, Dataset]:
    """A reproducible (train, test) split: a seeded permutation, the last ``n_test`` held out."""
    if not 0 < n_test < len(data.y):
        raise SpikeStudioError(f"n_test: must be in [1, {len(data.y) - 1}], got {n_test}")
    order = np.random.default_rng(seed).permutation(len(data.y))
    return data.subset(order[:-n_test]), data.subset(order[-n_test:])


def digits_split() -> tuple[Dataset, Dataset]:
    """The split the samples and benchmarks use: 797 training and 1,000 held-out digits."""
    return split(digits(), 1000, seed=0)


def load_dataset(spec: str, *, label_column: str = "label") -> Dataset:
    """``digits`` (the held-out split), ``digits-train``, or a path to a .csv / .npz file.

    A CSV file has a header; the column ``label_column`` holds integer classes, every other
    column is a feature. An .npz file holds arrays ``x`` (n, ...) and ``y`` (n,).
    """
    if spec == "digits":
        return digits_split()[1]
    if spec == "digits-train":
        return digits_split()[0]
    path = Path(spec)
    if not path.is_file():
        raise SpikeStudioError(f"dataset: {spec!r} is neither 'digits' nor a file")
    if path.suffix.lower() == ".npz":
        return _load_npz(path)
    if path.suffix.lower() == ".csv":
        return _load_csv(path, label_column)
    raise SpikeStudioError(f"dataset: {path.name}: expected a .csv or .npz file")


def load_dataset_bytes(data: bytes, filename: str, *, label_column: str = "label") -> Dataset:
    """An uploaded .csv / .npz file (its bytes and the name it was uploaded as), read by the
    same loaders as :func:`load_dataset`; the dataset is named after the file's stem."""
    name = Path(str(filename or "")).name
    suffix = Path(name).suffix.lower()
    if suffix not in (".csv", ".npz"):
        raise SpikeStudioError(f"dataset: {name or 'the upload'}: expected a .csv or .npz file")
    if len(data) > 20 * MAX_DATASET_VALUES:
        raise SpikeStudioError(f"{name}: larger than {20 * MAX_DATASET_VALUES:,} bytes")
    # Inside our own folder, under a tame version of its name (messages name the file).
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(name).stem)[:80].strip("._") or "upload"
    with tempfile.TemporaryDirectory(prefix="spikestudio-dataset-") as tmp:
        path = Path(tmp) / f"{safe}{suffix}"
        path.write_bytes(data)
        return _load_npz(path) if suffix == ".npz" else _load_csv(path, label_column)


def _npz_headers(path: Path) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """Shape and dtype of each ``.npy`` member of an .npz, read from the headers only.

    Raises a SpikeStudioError for a member whose header declares more than
    :data:`MAX_DATASET_VALUES` values or whose size in the archive does not match its
    header (a (10^9, 10^9) array declared in a few bytes, or a zip bomb): nothing it declares
    is allocated.
    """
    out = {}
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if not info.filename.endswith(".npy"):
                    continue
                name = info.filename[:-4]
                with archive.open(info) as member:
                    read_header = (np.lib.format.read_array_header_1_0
                                   if np.lib.format.read_magic(member) == (1, 0)
                                   else np.lib.format.read_array_header_2_0)
                    shape, _, dtype = read_header(member, max_header_size=10_000)
                    header_end = member.tell()
                if dtype.hasobject:
                    raise SpikeStudioError(f"{path.name}: not a readable .npz of numbers "
                                           f"(array {name!r} holds Python objects; nothing "
                                           f"is unpickled)")
                count = math.prod(shape)
                if count > MAX_DATASET_VALUES:
                    dims = " x ".join(f"{d:,}" for d in shape)
                    raise SpikeStudioError(f"{path.name}: array {name!r} declares {dims} = "
                                           f"{count:,} values, more than "
                                           f"{MAX_DATASET_VALUES:,}")
                if info.file_size != header_end + count * dtype.itemsize:
                    raise SpikeStudioError(f"{path.name}: array {name!r} declares shape "
                                           f"{shape} ({count * dtype.itemsize:,} bytes of "
                                           f"data) but the archive holds "
                                           f"{info.file_size - header_end:,}")
                out[name] = (shape, dtype)
    except SpikeStudioError:
        raise
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
        raise SpikeStudioError(f"{path.name}: not a readable .npz of numbers ({exc})") from None
    return out


def _load_npz(path: Path) -> Dataset:
    _npz_headers(path)  # sizes checked before anything is allocated
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = [k for k in ("x", "y") if k not in archive.files]
            if missing:
                raise SpikeStudioError(f"{path.name}: has no array {missing[0]!r} (found: "
                                       f"{', '.join(archive.files) or 'none'})")
            x, y = archive["x"], archive["y"]
    except SpikeStudioError:
        raise
    except (ValueError, OSError) as exc:  # pickled objects, corrupt zip
        raise SpikeStudioError(f"{path.name}: not a readable .npz of numbers ({exc})") from None
    if x.ndim < 2 or x.shape[0] == 0:
        raise SpikeStudioError(f"{path.name}: x must have one row per sample, got shape "
                               f"{x.shape}")
    if x.size > MAX_DATASET_VALUES:
        raise SpikeStudioError(f"{path.name}: x holds {x.size:,} values, more than "
                               f"{MAX_DATASET_VALUES:,}")
    if not (np.issubdtype(x.dtype, np.number) and np.issubdtype(y.dtype, np.number)):
        raise SpikeStudioError(f"{path.name}: x and y must be numeric, got {x.dtype} and "
                               f"{y.dtype}")
    x = x.reshape(x.shape[0], -1).astype(np.float64)
    if y.shape != (x.shape[0],):
        raise SpikeStudioError(f"{path.name}: y must hold one label per row of x "
                               f"({x.shape[0]}), got shape {y.shape}")
    _check_finite(path.name, x, [f"feature {j}" for j in range(x.shape[1])])
    return Dataset(path.stem, x, _labels(path.name, "y", y.astype(np.float64)))


def _load_csv(path: Path, label_column: str) -> Dataset:
    if path.stat().st_size > 20 * MAX_DATASET_VALUES:
        raise SpikeStudioError(f"{path.name}: larger than {20 * MAX_DATASET_VALUES:,} bytes")
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    if len(rows) < 2:
        raise SpikeStudioError(f"{path.name}: needs a header row and at least one sample")
    header = [h.strip() for h in rows[0]]
    if label_column not in header:
        raise SpikeStudioError(f"{path.name}: has no column {label_column!r} (columns: "
                               f"{', '.join(header[:10])})")
    values = np.empty((len(rows) - 1, len(header)))
    for i, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise SpikeStudioError(f"{path.name}, line {i}: has {len(row)} values, the header "
                                   f"has {len(header)} columns")
        for j, item in enumerate(row):
            try:
                values[i - 2, j] = float(item)
            except ValueError:
                raise SpikeStudioError(f"{path.name}, line {i}, column {header[j]!r}: not a "
                                       f"number: {item[:20]!r}") from None
    label_at = header.index(label_column)
    features = [h for j, h in enumerate(header) if j != label_at]
    x = np.delete(values, label_at, axis=1)
    _check_finite(path.name, x, [f"column {h!r}" for h in features])
    return Dataset(path.stem, x, _labels(path.name, f"column {label_column!r}",
                                         values[:, label_at]))


def _check_finite(name: str, x: np.ndarray, columns: list[str]) -> None:
    bad = ~np.isfinite(x)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise SpikeStudioError(f"{name}: {columns[j]}, sample {i}: must be a finite number, "
                               f"got {x[i, j]}")


def _labels(name: str, where: str, y: np.ndarray) -> np.ndarray:
    bad = ~np.isfinite(y) | (y < 0) | (y != np.round(y))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise SpikeStudioError(f"{name}: {where}, sample {i}: labels must be whole numbers "
                               f">= 0, got {y[i]}")
    return y.astype(np.int64)


def check_features(data: Dataset, n_features: int, *, unit_range: bool = False) -> None:
    """Refuse a dataset whose samples do not fit an input of ``n_features`` channels (or, for
    rate coding, hold values outside [0, 1])."""
    if data.x.shape[1] != n_features:
        side = math.isqrt(data.x.shape[1])
        shape = f" ({side}x{side} images)" if side * side == data.x.shape[1] else ""
        raise SpikeStudioError(f"dataset {data.name!r}: samples have {data.x.shape[1]} "
                               f"features{shape}; the input takes {n_features}")
    if unit_range and (data.x.min() < 0 or data.x.max() > 1):
        i, j = np.argwhere((data.x < 0) | (data.x > 1))[0]
        raise SpikeStudioError(f"dataset {data.name!r}: feature {j}, sample {i}: rate coding "
                               f"needs values in [0, 1], got {data.x[i, j]:g}")
