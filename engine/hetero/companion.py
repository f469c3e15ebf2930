"""The companion file of a project: its per-neuron arrays in ``<stem>.arrays.npz``.

A project ``net.json`` keeps arrays longer than :data:`~engine.hetero.values.INLINE_LIMIT`
values in ``net.arrays.npz`` beside it; its parameters refer to them as ``{"array": KEY}``.
The file is read with ``allow_pickle=False``: an array of Python objects (a pickle) is
refused with a message, never unpickled.

In the workbench a project document holds every per-neuron list inline (its undo history
and autosave are plain JSON): :func:`inline_document` puts the companion's arrays into the
document on opening, :func:`split_document` takes long lists out again on saving.
"""

from __future__ import annotations

import copy
import os
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from engine.errors import Problem, ProjectError
from engine.files import atomic_writer
from engine.hetero.values import INLINE_LIMIT

#: What the companion file of ``net.json`` is called: ``net`` + this.
SUFFIX = ".arrays.npz"


def companion_path(project_path: str | os.PathLike[str]) -> Path:
    """The companion file of a project file (``dir/net.json`` -> ``dir/net.arrays.npz``)."""
    path = Path(project_path)
    return path.with_name(path.stem + SUFFIX)


#: Most values one companion array may hold (the most neurons a project may have).
MAX_ARRAY_VALUES = 100_000_000
#: Most arrays a companion file may hold.
MAX_ARRAYS = 10_000


def _declared_shape(archive: Any, key: str) -> tuple[tuple[int, ...], np.dtype]:
    """The shape and dtype an array of the archive declares, read before its data (so a
    file cannot make us allocate more than it is allowed to hold)."""
    with archive.zip.open(key + ".npy") as member:
        version = np.lib.format.read_magic(member)
        read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                       else np.lib.format.read_array_header_2_0)
        shape, _, dtype = read_header(member)
    return shape, dtype


def read_companion(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """Every array of a companion file (pickles refused).

    Each array's declared shape and dtype are checked before its data is read: an array of
    Python objects (a pickle) or of more than :data:`MAX_ARRAY_VALUES` values is refused.

    Raises
    ------
    ProjectError
        When the file is not a readable npz archive or holds a refused array.
    """
    name = Path(path).name

    def refuse(message: str) -> ProjectError:
        return ProjectError([Problem("", f"{name}: {message}")])

    try:
        with np.load(path, allow_pickle=False) as archive:
            if len(archive.files) > MAX_ARRAYS:
                raise refuse(f"holds {len(archive.files):,} arrays; at most {MAX_ARRAYS:,}")
            arrays = {}
            for key in archive.files:
                shape, dtype = _declared_shape(archive, key)
                if dtype.hasobject:
                    raise refuse(f"array {key!r} holds Python objects; pickled data is "
                                 f"refused")
                if int(np.prod(shape, dtype=np.float64)) > MAX_ARRAY_VALUES:
                    raise refuse(f"array {key!r} has shape {shape}, more than "
                                 f"{MAX_ARRAY_VALUES:,} values")
                arrays[key] = archive[key]
            return arrays
    except ProjectError:
        raise
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as exc:
        raise ProjectError([Problem("", f"{name} is not a readable .npz archive of arrays: "
                                        f"{exc}")]) from None


def write_companion(path: str | os.PathLike[str], arrays: Mapping[str, np.ndarray]) -> None:
    """Write ``arrays`` atomically to ``path`` (temp file in the same folder, fsync, rename)."""
    with atomic_writer(Path(path)) as handle:
        np.savez(handle, **{k: np.asarray(v, dtype=np.float64) for k, v in arrays.items()})


def _population_params(document: Mapping[str, Any]):
    """(node id, params dict) of every population of a document."""
    network = document.get("network") if isinstance(document, Mapping) else None
    nodes = network.get("nodes", []) if isinstance(network, Mapping) else []
    for node in nodes if isinstance(nodes, list) else []:
        if isinstance(node, dict) and node.get("kind") == "population" \
                and isinstance(node.get("params"), dict):
            yield node.get("id"), node["params"]


def referenced_keys(document: Mapping[str, Any]) -> set[str]:
    """The companion arrays a document's parameters refer to."""
    return {value["array"] for _, params in _population_params(document)
            for value in params.values()
            if isinstance(value, dict) and isinstance(value.get("array"), str)}


def split_document(document: dict[str, Any], arrays: Mapping[str, np.ndarray] | None = None,
                   limit: int = INLINE_LIMIT) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """A copy of ``document`` whose inline lists longer than ``limit`` refer to arrays, and the
    arrays its file's companion must hold (those of ``arrays`` it refers to, and the moved
    lists, named ``<node id>.<parameter>``)."""
    document = copy.deepcopy(document)
    out: dict[str, np.ndarray] = {}
    for node_id, params in _population_params(document):
        for name, value in params.items():
            if isinstance(value, list) and len(value) > limit:
                key = f"{node_id}.{name}"
                out[key] = np.asarray(value, dtype=np.float64)
                params[name] = {"array": key}
    for key in referenced_keys(document) - set(out):
        if arrays is not None and key in arrays:
            out[key] = np.asarray(arrays[key], dtype=np.float64)
    return document, out


def inline_document(document: dict[str, Any],
                    arrays: Mapping[str, np.ndarray]) -> dict[str, Any]:
    """A copy of ``document`` with every ``{"array": KEY}`` of ``arrays`` replaced by its list
    of values (a self-contained JSON document)."""
    document = copy.deepcopy(document)
    for _, params in _population_params(document):
        for name, value in params.items():
            if isinstance(value, dict) and value.get("array") in arrays and len(value) == 1:
                params[name] = np.asarray(arrays[value["array"]], dtype=np.float64).tolist()
    return document
