"""Hostile ONNX, NPZ and NIR files, built at test time (nothing binary is committed).

Each builder writes one file into a folder and returns its path, with the words the refusal
must contain. ``HOSTILE_ONNX``, ``HOSTILE_NPZ`` and ``HOSTILE_NIR`` map a case name to its
builder; tests/test_hostile_imports.py feeds every case to the CLI and the importers.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

Builder = Callable[[Path], tuple[Path, str]]


# ---------------------------------------------------------------------------- ONNX
def _onnx_model(nodes, inits, in_dims=("N", 64)):
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(in_dims))],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return model


def _save_onnx(folder: Path, name: str, model) -> Path:
    path = folder / f"{name}.onnx"
    path.write_bytes(model.SerializeToString())  # onnx.save would check external data
    return path


def _gemm(inits, extra_nodes=()):
    from onnx import helper

    return _onnx_model([*extra_nodes, helper.make_node("Gemm", ["x", "W", "B"], ["y"],
                                                       name="fc")], inits)


def _weights():
    from onnx import numpy_helper

    return [numpy_helper.from_array(np.ones((64, 10), np.float32), "W"),
            numpy_helper.from_array(np.zeros(10, np.float32), "B")]


def _external_constant(location: str) -> Builder:
    def build(folder: Path) -> tuple[Path, str]:
        from onnx import TensorProto, helper

        tensor = TensorProto(name="shape", data_type=TensorProto.INT64, dims=[2])
        tensor.data_location = TensorProto.EXTERNAL
        for key, value in (("location", location), ("offset", "0"), ("length", "16")):
            entry = tensor.external_data.add()
            entry.key, entry.value = key, value
        const = helper.make_node("Constant", [], ["shape"], name="c", value=tensor)
        name = "external_" + location.strip("/").replace("/", "_").replace(".", "d")
        return _save_onnx(folder, name, _gemm(_weights(), [const])), "external"
    return build


def _external_initializer(folder: Path) -> tuple[Path, str]:
    from onnx import TensorProto

    inits = _weights()
    inits[0].ClearField("raw_data")
    inits[0].data_location = TensorProto.EXTERNAL
    entry = inits[0].external_data.add()
    entry.key, entry.value = "location", "/etc/passwd"
    return _save_onnx(folder, "external_initializer", _gemm(inits)), "external"


def _shape_mismatch(folder: Path) -> tuple[Path, str]:
    inits = _weights()
    inits[0].raw_data = inits[0].raw_data[:40]  # declares 64 x 10 floats, holds 10
    return _save_onnx(folder, "shape_mismatch", _gemm(inits)), "declares"


def _huge_declared_shape(folder: Path) -> tuple[Path, str]:
    inits = _weights()
    del inits[0].dims[:]
    inits[0].dims.extend([10**6, 10**6])  # 10^12 values declared, 2.5 kB held
    return _save_onnx(folder, "huge_declared_shape", _gemm(inits)), "parameters"


def _negative_dim(folder: Path) -> tuple[Path, str]:
    inits = _weights()
    del inits[1].dims[:]
    inits[1].dims.extend([-10])
    return _save_onnx(folder, "negative_dim", _gemm(inits)), "dimension"


def _huge_input(folder: Path) -> tuple[Path, str]:
    from onnx import helper

    model = _onnx_model([helper.make_node("Relu", ["x"], ["y"], name="r")], [],
                        in_dims=("N", 10**12))
    return _save_onnx(folder, "huge_input", model), "input"


def _constant_without_attribute(folder: Path) -> tuple[Path, str]:
    from onnx import helper

    const = helper.make_node("Constant", [], ["shape"], name="c")
    return _save_onnx(folder, "constant_no_attribute", _gemm(_weights(), [const])), "Constant"


def _string_initializer(folder: Path) -> tuple[Path, str]:
    from onnx import TensorProto, helper

    inits = _weights()
    inits[1] = helper.make_tensor("B", TensorProto.STRING, [10], vals=[b"x"] * 10)
    return _save_onnx(folder, "string_initializer", _gemm(inits)), "STRING"


def _string_constant(folder: Path) -> tuple[Path, str]:
    from onnx import TensorProto, helper

    tensor = helper.make_tensor("s", TensorProto.STRING, [1], vals=[b"/etc/passwd"])
    const = helper.make_node("Constant", [], ["s"], name="c", value=tensor)
    return _save_onnx(folder, "string_constant", _gemm(_weights(), [const])), "STRING"


HOSTILE_ONNX: dict[str, Builder] = {
    "external_etc_passwd": _external_constant("/etc/passwd"),
    "external_parent": _external_constant("../../../../etc/passwd"),
    "external_dev_zero": _external_constant("/dev/zero"),
    "external_initializer": _external_initializer,
    "shape_mismatch": _shape_mismatch,
    "huge_declared_shape": _huge_declared_shape,
    "negative_dim": _negative_dim,
    "huge_input": _huge_input,
    "constant_no_attribute": _constant_without_attribute,
    "string_initializer": _string_initializer,
    "string_constant": _string_constant,
}


# ---------------------------------------------------------------------------- NPZ
def _npz_with_header(folder: Path, name: str, header: str, data: bytes = b"") -> Path:
    """An .npz whose ``x.npy`` member carries ``header`` (a numpy .npy v1 dict) over
    ``data``: what a hostile file declares, not what it holds."""
    header_bytes = header.encode("latin1")
    pad = 64 - (10 + len(header_bytes) + 1) % 64
    header_bytes += b" " * pad + b"\n"
    npy = b"\x93NUMPY\x01\x00" + len(header_bytes).to_bytes(2, "little") + header_bytes + data
    path = folder / f"{name}.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("x.npy", npy)
        buffer = _npy(np.zeros(2, np.int64))
        archive.writestr("y.npy", buffer)
    return path


def _npy(array: np.ndarray) -> bytes:
    import io

    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def _npz_huge(folder: Path) -> tuple[Path, str]:
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000, 1000000000), }"
    return _npz_with_header(folder, "npz_huge", header), "x"


def _npz_object(folder: Path) -> tuple[Path, str]:
    header = "{'descr': '|O', 'fortran_order': False, 'shape': (2, 64), }"
    return _npz_with_header(folder, "npz_object", header, b"\x80\x04N."), "x"


def _npz_short(folder: Path) -> tuple[Path, str]:
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 64), }"
    return _npz_with_header(folder, "npz_short", header, b"\x00" * 16), "x"


HOSTILE_NPZ: dict[str, Builder] = {
    "npz_huge": _npz_huge,
    "npz_object": _npz_object,
    "npz_short": _npz_short,
}


# ---------------------------------------------------------------------------- NIR (HDF5)
def _nir_graph(folder: Path, name: str) -> Path:
    """A valid NIR file (Input -> LIF -> Output) that a hostile builder then edits."""
    import nir

    n = 3
    nodes = {"input": nir.Input(input_type={"input": np.array([n])}),
             "fc": nir.Linear(weight=np.eye(n)),
             "lif": nir.LIF(tau=np.full(n, 0.01), r=np.ones(n), v_leak=np.zeros(n),
                            v_threshold=np.ones(n)),
             "output": nir.Output(output_type={"output": np.array([n])})}
    edges = [("input", "fc"), ("fc", "lif"), ("lif", "output")]
    path = folder / f"{name}.nir"
    nir.write(path, nir.NIRGraph(nodes=nodes, edges=edges))
    return path


def _nir_external_link(folder: Path) -> tuple[Path, str]:
    import h5py

    path = _nir_graph(folder, "nir_external_link")
    with h5py.File(path, "r+") as f:
        f["node/nodes/passwd"] = h5py.ExternalLink("/etc/passwd", "/")
    return path, "external link"


def _nir_external_link_graph(folder: Path) -> tuple[Path, str]:
    """The whole graph is an external link: nothing of the file's own is read."""
    import h5py

    path = folder / "nir_external_graph.nir"
    with h5py.File(path, "w") as f:
        f["node"] = h5py.ExternalLink("/etc/passwd", "/node")
    return path, "external link"


def _nir_soft_link(folder: Path) -> tuple[Path, str]:
    import h5py

    path = _nir_graph(folder, "nir_soft_link")
    with h5py.File(path, "r+") as f:
        del f["node/nodes/fc/weight"]
        f["node/nodes/fc/weight"] = h5py.SoftLink("/somewhere/else")
    return path, "soft link"


def _nir_external_storage(folder: Path) -> tuple[Path, str]:
    """A dataset whose bytes live in another file (HDF5 external storage)."""
    import h5py

    path = _nir_graph(folder, "nir_external_storage")
    with h5py.File(path, "r+") as f:
        del f["node/nodes/fc/weight"]
        f.create_dataset("node/nodes/fc/weight", shape=(3, 3), dtype="<f8",
                         external=[("/etc/passwd", 0, 72)])
    return path, "external"


HOSTILE_NIR: dict[str, Builder] = {
    "nir_external_link": _nir_external_link,
    "nir_external_graph": _nir_external_link_graph,
    "nir_soft_link": _nir_soft_link,
    "nir_external_storage": _nir_external_storage,
}
