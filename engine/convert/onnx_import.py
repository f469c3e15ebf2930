"""ANN-to-SNN conversion: a feed-forward ONNX classifier -> a project of IF layers.

Reads the model with the ``onnx`` package (no onnxruntime). Supported ops: ``Gemm``,
``MatMul`` + ``Add``, ``Relu``, ``Flatten``, ``Reshape``, ``Conv``, ``AveragePool``,
``BatchNormalization`` (folded into the layer before it) and ``Softmax`` as the last node
(dropped: it does not change the argmax). Every linear op is an affine map of the flattened
activations; consecutive linear ops are composed, and each ``Relu`` closes a layer, so the
network becomes a chain of dense layers ``a_l = relu(a_{l-1} W_l + b_l)`` (the last one
without relu). Anything else is refused naming the op and the node.

The spiking network (Rueckauer et al. 2017, "Conversion of continuous-valued deep networks
to efficient event-driven networks for image classification"): one population of
non-leaky IF neurons per layer (threshold 1, reset by subtraction, delta synapses, no
refractoriness), tau_m = dt so a constant input of b mV adds b per step; weights are
normalised with data: ``W_l <- W_l * lambda_{l-1} / lambda_l``, ``b_l <- b_l / lambda_l``,
where ``lambda_l`` is the maximum (``max``) or the 99.9th percentile (``percentile``) of
layer l's ANN activations on a calibration set and ``lambda_0`` the input's maximum (1).
Biases are constant currents: a ``constant_current`` node of 1 mV with a 1 x n matrix
projection to each layer. Each layer's weights are two ``matrix`` projections (positive:
exc, negative: inh). The input is a ``dataset`` encoder (rate
coding, p = x per step) or a ``dataset_current`` encoder (x as a current). The output layer
is read out by spike count, ties split by the membrane at the window's end (a monitor
samples it there): with subtractive reset both together are the integrated input.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.errors import SpikeStudioError
from engine.evaluation.datasets import Dataset, check_features
from engine.project import Project
from engine.validation import MAX_VALUES

MAX_FILE_BYTES = 64 * 2**20     # refuse bigger files before parsing them
MAX_PARAMETERS = MAX_VALUES     # a project holds at most this many values
SUPPORTED = ("Gemm", "MatMul", "Add", "Relu", "Flatten", "Reshape", "Conv", "AveragePool",
             "BatchNormalization", "Softmax")


@dataclass
class Layer:
    """A dense layer: ``out = x @ weight + bias``, then relu unless it is the output."""

    name: str
    weight: np.ndarray  # (n_in, n_out)
    bias: np.ndarray    # (n_out,)
    relu: bool = True


@dataclass
class AnnModel:
    """An ONNX model as a chain of dense layers over the flattened input."""

    input_name: str
    input_shape: tuple[int, ...]   # without the batch dimension
    layers: list[Layer] = field(default_factory=list)

    @property
    def n_inputs(self) -> int:
        return int(np.prod(self.input_shape))

    def activations(self, x: np.ndarray) -> list[np.ndarray]:
        """Each layer's output for inputs x (n, n_inputs); the last is the logits."""
        out = []
        for layer in self.layers:
            x = x @ layer.weight + layer.bias
            if layer.relu:
                x = np.maximum(x, 0.0)
            out.append(x)
        return out

    def predict(self, x: np.ndarray) -> np.ndarray:
        return np.argmax(self.activations(x)[-1], axis=1)


# ---------------------------------------------------------------- reading ONNX
def read_onnx(path: str | Path) -> AnnModel:
    """Parse an ONNX file into an :class:`AnnModel` (dense layers).

    Raises
    ------
    SpikeStudioError
        Unreadable or malformed file, unsupported op (naming op and node), unknown input
        shape, or more than :data:`MAX_PARAMETERS` parameters (counted from the declared
        shapes, before any tensor is read).
    """
    try:
        import onnx
        from onnx import numpy_helper
    except ImportError:
        raise SpikeStudioError("conversion needs the onnx package: pip install "
                               "'spikestudio[convert]'") from None
    path = Path(path)
    if not path.is_file():
        raise SpikeStudioError(f"{path}: no such file")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise SpikeStudioError(f"{path.name}: {path.stat().st_size:,} bytes, more than "
                               f"{MAX_FILE_BYTES:,}: too big to convert")
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # protobuf's DecodeError and friends
        raise SpikeStudioError(f"{path.name}: not a valid ONNX model ({type(exc).__name__}: "
                               f"{str(exc)[:200]})") from None
    graph = model.graph
    if not graph.node:
        raise SpikeStudioError(f"{path.name}: not a valid ONNX model (the graph has no nodes)")
    # Every tensor is checked (external data, type, declared size against the data it
    # holds) before any is converted: a hostile file is refused without reading a byte
    # outside it or allocating what it declares.
    constants = {node.output[0] if node.output else "": _constant_tensor(path.name, node)
                 for node in graph.node if node.op_type == "Constant"}
    tensors = [(f"initializer {t.name!r}", t) for t in graph.initializer]
    tensors += [(f"Constant {name!r}", t) for name, t in constants.items()
                if not isinstance(t, np.ndarray)]
    total = 0
    for where, tensor in tensors:
        total += _check_tensor(path.name, where, tensor)
        if total > MAX_PARAMETERS:
            raise SpikeStudioError(f"{path.name}: more than {MAX_PARAMETERS:,} parameters; "
                                   f"a project holds at most {MAX_PARAMETERS:,} values")
    try:
        params = {t.name: numpy_helper.to_array(t).astype(np.float64)
                  for t in graph.initializer}
        params.update((name, t if isinstance(t, np.ndarray)
                       else numpy_helper.to_array(t).astype(np.float64))
                      for name, t in constants.items())
    except (ValueError, TypeError) as exc:  # a tensor the checks above let through
        raise SpikeStudioError(f"{path.name}: unreadable tensor ({exc})") from None
    inputs = [i for i in graph.input if i.name not in params]
    if len(inputs) != 1:
        raise SpikeStudioError(f"{path.name}: expected one input, found {len(inputs)}")
    dims = [d.dim_value if d.HasField("dim_value") else None
            for d in inputs[0].type.tensor_type.shape.dim]
    if len(dims) < 2 or any(d is None or d < 1 for d in dims[1:]):
        raise SpikeStudioError(f"{path.name}: input {inputs[0].name!r} must have a known "
                               f"shape after the batch dimension, got {dims}")
    if math.prod(dims[1:]) > MAX_PARAMETERS:
        raise SpikeStudioError(f"{path.name}: input {inputs[0].name!r} has "
                               f"{math.prod(dims[1:]):,} values per sample; a project holds "
                               f"at most {MAX_PARAMETERS:,} values")
    try:
        return _Tracer(path.name, inputs[0].name, tuple(dims[1:]), params).run(graph)
    except (ValueError, TypeError, KeyError, IndexError, ArithmeticError) as exc:
        # A node whose attributes or inputs the checks of each op did not foresee.
        raise SpikeStudioError(f"{path.name}: malformed model ({type(exc).__name__}: "
                               f"{str(exc)[:200]})") from None


#: Tensor types read as numbers, with the ``TensorProto`` field that holds them when the
#: data is not ``raw_data`` and their size in bytes.
_NUMERIC = {"FLOAT": ("float_data", 4), "DOUBLE": ("double_data", 8),
            "FLOAT16": ("int32_data", 2), "INT8": ("int32_data", 1),
            "INT16": ("int32_data", 2), "INT32": ("int32_data", 4),
            "INT64": ("int64_data", 8), "UINT8": ("int32_data", 1),
            "UINT16": ("int32_data", 2), "UINT32": ("uint64_data", 4),
            "UINT64": ("uint64_data", 8), "BOOL": ("int32_data", 1)}


def _check_tensor(file: str, where: str, tensor) -> int:
    """Refuse external data, non-numeric types and a declared shape the data does not fill;
    return the number of values. Nothing is read or allocated."""
    from onnx import TensorProto

    if tensor.data_location == TensorProto.EXTERNAL or len(tensor.external_data):
        raise SpikeStudioError(f"{file}: {where} keeps its data in an external file; "
                               f"external data is refused (save the model with its weights "
                               f"inside)")
    type_name = TensorProto.DataType.Name(tensor.data_type) if (
        tensor.data_type in TensorProto.DataType.values()) else str(tensor.data_type)
    if type_name not in _NUMERIC:
        raise SpikeStudioError(f"{file}: {where} holds {type_name} values; only numbers "
                               f"({', '.join(_NUMERIC)}) can be converted")
    if any(d < 0 for d in tensor.dims):
        raise SpikeStudioError(f"{file}: {where} has a negative dimension in its shape "
                               f"{list(tensor.dims)}")
    count = math.prod(tensor.dims)
    if count > MAX_PARAMETERS:
        raise SpikeStudioError(f"{file}: {where} declares {count:,} parameters; a project holds "
                               f"at most {MAX_PARAMETERS:,}")
    field_name, itemsize = _NUMERIC[type_name]
    held = (len(tensor.raw_data) / itemsize if tensor.HasField("raw_data")
            else len(getattr(tensor, field_name)))
    if held != count:
        raise SpikeStudioError(f"{file}: {where} declares shape {list(tensor.dims)} "
                               f"({count:,} values) but holds {held:g} values")
    return count


def _constant_tensor(file: str, node):
    """The tensor (``value``) or the numbers (``value_float(s)``, ``value_int(s)``) of a
    Constant node; anything else is refused."""
    import onnx

    attrs = {a.name: a for a in node.attribute}
    where = f"Constant node {node.name or '(unnamed)'!r}"
    if len(attrs) != 1 or len(node.output) != 1:
        raise SpikeStudioError(f"{file}: {where} must have one output and one value "
                               f"attribute, got {len(node.output)} and "
                               f"{', '.join(attrs) or 'no attribute'}")
    (name, attr), = attrs.items()
    if name == "value" and attr.type == onnx.AttributeProto.TENSOR:
        return attr.t
    if name in ("value_float", "value_floats", "value_int", "value_ints"):
        return np.asarray(onnx.helper.get_attribute_value(attr), np.float64)
    raise SpikeStudioError(f"{file}: {where}: its {name!r} attribute is not supported "
                           f"(a tensor 'value' or numbers are)")


class _Tracer:
    """Walks the nodes in order, composing linear ops into the pending affine map."""

    def __init__(self, file: str, input_name: str, shape: tuple[int, ...], params: dict):
        self.file = file
        self.params = params
        self.model = AnnModel(input_name, shape)
        self.current = input_name   # the tensor the chain has reached
        self.shape = shape          # its shape (without batch)
        self.weight: np.ndarray | None = None  # pending affine map (None: identity)
        self.bias = np.zeros(int(np.prod(shape)))
        self.names: list[str] = []

    def fail(self, node, message: str) -> SpikeStudioError:
        return SpikeStudioError(f"{self.file}: node {node.name or '(unnamed)'!r} "
                                f"({node.op_type}): {message}")

    def run(self, graph) -> AnnModel:
        nodes = [n for n in graph.node if n.op_type != "Constant"]
        for i, node in enumerate(nodes):
            if node.op_type not in SUPPORTED:
                raise self.fail(node, f"unsupported op; supported: {', '.join(SUPPORTED)}")
            data_in = [x for x in node.input if x and x not in self.params]
            if data_in != [self.current]:
                raise self.fail(node, "only a chain of layers is supported (this node does "
                                      "not take the previous node's output)")
            if node.op_type == "Softmax":
                if i != len(nodes) - 1:
                    raise self.fail(node, "Softmax is supported only as the last node")
                continue
            getattr(self, f"_{node.op_type.lower()}")(node)
            self.names.append(node.name or node.op_type)
            self.current = node.output[0]
        self._close(relu=False)
        if not self.model.layers:
            raise SpikeStudioError(f"{self.file}: the model has no layer with weights")
        return self.model

    # -- helpers
    def _param(self, node, index: int) -> np.ndarray:
        name = node.input[index] if len(node.input) > index else ""
        if name not in self.params:
            raise self.fail(node, f"input {index} must be a constant (an initializer)")
        return self.params[name]

    def _affine(self, matrix: np.ndarray, bias: np.ndarray, shape: tuple[int, ...]) -> None:
        """Compose the pending map with x -> x @ matrix + bias (output shape ``shape``)."""
        self.weight = matrix if self.weight is None else self.weight @ matrix
        self.bias = self.bias @ matrix + bias
        self.shape = shape

    def _close(self, relu: bool) -> None:
        n = int(np.prod(self.shape))
        weight = self.weight if self.weight is not None else np.eye(len(self.bias))
        name = self.names[-1] if self.names else "layer"
        self.model.layers.append(Layer(name, weight, self.bias.copy(), relu))
        self.weight, self.bias = None, np.zeros(n)

    def _attrs(self, node) -> dict:
        import onnx
        return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}

    # -- ops
    def _gemm(self, node) -> None:
        a = self._attrs(node)
        if a.get("transA", 0):
            raise self.fail(node, "transA = 1 is not supported")
        w = self._param(node, 1)
        w = w.T if a.get("transB", 0) else w
        n_in = int(np.prod(self.shape))
        if w.ndim != 2 or w.shape[0] != n_in:
            raise self.fail(node, f"weight shape {w.shape} does not take {n_in} inputs")
        c = self._param(node, 2) if len(node.input) > 2 and node.input[2] else np.zeros(1)
        bias = np.broadcast_to(a.get("beta", 1.0) * c.reshape(-1), (w.shape[1],))
        self._affine(a.get("alpha", 1.0) * w, bias, (w.shape[1],))

    def _matmul(self, node) -> None:
        if node.input[0] != self.current:
            raise self.fail(node, "the weight must be the second input")
        w = self._param(node, 1)
        n_in = int(np.prod(self.shape))
        if w.ndim != 2 or w.shape[0] != n_in:
            raise self.fail(node, f"weight shape {w.shape} does not take {n_in} inputs")
        self._affine(w, np.zeros(w.shape[1]), (w.shape[1],))

    def _add(self, node) -> None:
        other = [x for x in node.input if x != self.current]
        c = self._param(node, list(node.input).index(other[0])) if other else None
        n = int(np.prod(self.shape))
        if c is None or c.size not in (1, n) and c.size != self.shape[0]:
            raise self.fail(node, f"only a constant bias of size {n} can be added")
        if c.size == n or c.size == 1:
            bias = np.broadcast_to(c.reshape(-1), (n,))
        else:  # per channel
            bias = np.repeat(c.reshape(-1), n // self.shape[0])
        self.bias = self.bias + bias

    def _relu(self, node) -> None:
        self._close(relu=True)

    def _flatten(self, node) -> None:
        axis = self._attrs(node).get("axis", 1)
        if axis != 1:
            raise self.fail(node, f"only axis 1 is supported, got {axis}")
        self.shape = (int(np.prod(self.shape)),)

    def _reshape(self, node) -> None:
        target = [int(d) for d in self._param(node, 1).reshape(-1)]
        n = int(np.prod(self.shape))
        rest = target[1:]
        if -1 in rest:
            known = int(np.prod([d for d in rest if d != -1]))
            if known < 1:
                raise self.fail(node, f"cannot reshape {n} values to {target}")
            rest = [n // known if d == -1 else d for d in rest]
        if int(np.prod(rest)) != n or any(d < 1 for d in rest):
            raise self.fail(node, f"cannot reshape {n} values to {target}")
        self.shape = tuple(rest)  # row-major order is kept: the flat vector is unchanged

    def _batchnormalization(self, node) -> None:
        scale, shift, mean, var = (self._param(node, i).reshape(-1) for i in range(1, 5))
        s = scale / np.sqrt(var + self._attrs(node).get("epsilon", 1e-5))
        per = int(np.prod(self.shape[1:])) if len(self.shape) > 1 else 1
        s_flat = np.repeat(s, per)
        t_flat = np.repeat(shift - mean * s, per)
        if s_flat.shape[0] != int(np.prod(self.shape)):
            raise self.fail(node, f"{len(s)} channels do not match the shape {self.shape}")
        self.weight = (np.diag(s_flat) if self.weight is None else self.weight * s_flat)
        self.bias = self.bias * s_flat + t_flat

    def _conv(self, node) -> None:
        a = self._attrs(node)
        w = self._param(node, 1)
        if len(self.shape) != 3 or w.ndim != 4:
            raise self.fail(node, f"needs a (channels, height, width) input, got {self.shape}")
        group = a.get("group", 1)
        if a.get("auto_pad", b"NOTSET") not in (b"NOTSET", b"VALID", "NOTSET", "VALID"):
            raise self.fail(node, "auto_pad SAME_* is not supported; give pads")
        if any(d != 1 for d in a.get("dilations", [1, 1])):
            raise self.fail(node, "dilations other than 1 are not supported")
        bias = self._param(node, 2) if len(node.input) > 2 and node.input[2] else None
        matrix, out_shape = _window_matrix(self.shape, w, group, a.get("strides", [1, 1]),
                                           a.get("pads", [0, 0, 0, 0]), count_pad=True)
        b = np.repeat(bias if bias is not None else np.zeros(w.shape[0]),
                      out_shape[1] * out_shape[2])
        self._check_size(node, matrix)
        self._affine(matrix, b, out_shape)

    def _averagepool(self, node) -> None:
        a = self._attrs(node)
        if len(self.shape) != 3:
            raise self.fail(node, f"needs a (channels, height, width) input, got {self.shape}")
        kh, kw = a["kernel_shape"]
        c = self.shape[0]
        w = np.ones((c, 1, kh, kw)) / (kh * kw)
        matrix, out_shape = _window_matrix(self.shape, w, c, a.get("strides", [kh, kw]),
                                           a.get("pads", [0, 0, 0, 0]),
                                           count_pad=bool(a.get("count_include_pad", 0)))
        self._check_size(node, matrix)
        self._affine(matrix, np.zeros(matrix.shape[1]), out_shape)

    def _check_size(self, node, matrix: np.ndarray) -> None:
        if matrix.size > MAX_PARAMETERS:
            raise self.fail(node, f"as a dense layer it has {matrix.size:,} weights; a project "
                                  f"holds at most {MAX_PARAMETERS:,}")


def _window_matrix(shape, w, group, strides, pads, count_pad: bool):
    """The dense (in, out) matrix of a 2-D convolution / average pool over a (C, H, W)
    input with kernels ``w`` (M, C / group, kh, kw), row-major flattening on both sides."""
    c, h, wd = shape
    m, cg, kh, kw = w.shape
    sh, sw = strides
    pt, pl, pb, pr = pads
    ho = (h + pt + pb - kh) // sh + 1
    wo = (wd + pl + pr - kw) // sw + 1
    if ho < 1 or wo < 1 or c != cg * group or m % group:
        raise SpikeStudioError(f"kernel {w.shape} with group {group} does not fit input {shape}")
    n_in, n_out = c * h * wd, m * ho * wo
    if n_in * n_out > MAX_PARAMETERS:
        raise SpikeStudioError(f"as a dense layer it has {n_in * n_out:,} weights; a project "
                               f"holds at most {MAX_PARAMETERS:,}")
    matrix = np.zeros((n_in, n_out))
    oy, ox = np.meshgrid(np.arange(ho), np.arange(wo), indexing="ij")
    per_group = m // group
    for out_c in range(m):
        g = out_c // per_group
        valid_count = np.zeros((ho, wo))
        for dy in range(kh):
            for dx in range(kw):
                iy, ix = oy * sh - pt + dy, ox * sw - pl + dx
                ok = (iy >= 0) & (iy < h) & (ix >= 0) & (ix < wd)
                valid_count += ok
                for ci in range(cg):
                    in_c = g * cg + ci
                    rows = (in_c * h + iy[ok]) * wd + ix[ok]
                    cols = (out_c * ho + oy[ok]) * wo + ox[ok]
                    matrix[rows, cols] += w[out_c, ci, dy, dx]
        if not count_pad:  # average over the valid positions only
            cols = out_c * ho * wo + np.arange(ho * wo)
            matrix[:, cols] *= (kh * kw) / np.maximum(valid_count.reshape(-1), 1)
    return matrix, (m, ho, wo)


# ---------------------------------------------------------------- reading NIR
def read_nir(path: str | Path) -> AnnModel:
    """A NIR chain ``Input -> (Affine | Linear -> IF)+ -> Output`` as an :class:`AnnModel`.

    The IF layers are read in discrete time (``v += r * (W s + b)`` per step, a spike at
    ``v_threshold``), so a layer's rate in spikes per step approximates
    ``relu(r (W a + b)) / v_threshold``: the dense layer gets ``W * r / v_threshold`` and
    ``b * r / v_threshold``, and is then converted as an ONNX layer is (normalisation,
    subtractive reset). Anything else is refused naming the node.
    """
    from engine.export.nir_export import require_nir
    from engine.export.nir_import import _fail, _flatten, read_graph

    nir = require_nir()
    graph = read_graph(path)
    nodes, edges = _flatten(graph)
    succ: dict[str, list[str]] = {}
    for a, b in edges:
        succ.setdefault(a, []).append(b)
    inputs = [k for k, v in nodes.items() if isinstance(v, nir.Input)]
    if len(inputs) != 1:
        raise SpikeStudioError(f"{Path(path).name}: expected one Input node, found "
                               f"{len(inputs)}")
    shape = tuple(int(d) for d in np.asarray(nodes[inputs[0]].input_type["input"]).ravel())
    model = AnnModel(inputs[0], shape)
    name, pending = inputs[0], None
    while True:
        nxt = succ.get(name, [])
        if len(nxt) != 1:
            raise _fail(name, nodes[name], f"only a chain is converted; this node feeds "
                                           f"{len(nxt)} nodes")
        name = nxt[0]
        node = nodes[name]
        if isinstance(node, nir.Output):
            break
        if isinstance(node, (nir.Affine, nir.Linear)) and pending is None:
            weight = np.asarray(node.weight, np.float64)
            n_in = model.layers[-1].weight.shape[1] if model.layers else model.n_inputs
            if weight.ndim != 2 or weight.shape[1] != n_in:
                raise _fail(name, node, f"weight shape {weight.shape} does not take {n_in} "
                                        f"inputs")
            bias = (np.asarray(node.bias, np.float64).reshape(-1)
                    if isinstance(node, nir.Affine) else np.zeros(weight.shape[0]))
            pending = (name, weight.T, np.broadcast_to(bias, (weight.shape[0],)))
        elif isinstance(node, nir.IF) and pending is not None:
            gain = (np.asarray(node.r, np.float64).reshape(-1)
                    / np.asarray(node.v_threshold, np.float64).reshape(-1))
            if not np.all(np.isfinite(gain) & (gain > 0)):
                raise _fail(name, node, "r / v_threshold must be finite and > 0")
            layer_name, weight, bias = pending
            model.layers.append(Layer(layer_name, weight * gain, bias * gain))
            pending = None
        else:
            raise _fail(name, node, "only Affine / Linear followed by IF layers are converted")
    if pending is not None or not model.layers:
        raise SpikeStudioError(f"{Path(path).name}: the chain must end with an IF layer")
    model.layers[-1].relu = False  # the output: its integrated input is read out
    return model


# ---------------------------------------------------------------- normalisation
def normalise(model: AnnModel, calibration: np.ndarray, method: str = "max",
              percentile: float = 99.9) -> list[Layer]:
    """Layers with data-based weight normalisation (Rueckauer et al. 2017).

    ``lambda_l`` is the maximum (``max``) or the ``percentile``-th percentile
    (``percentile``) of the positive activations of layer l over the calibration set;
    ``lambda_0`` is the input's maximum (at least 1).
    """
    if method not in ("max", "percentile"):
        raise SpikeStudioError(f"normalize: must be max or percentile, got {method!r}")
    acts = model.activations(calibration)
    prev = max(1.0, float(np.max(calibration))) if calibration.size else 1.0
    out = []
    for layer, a in zip(model.layers, acts, strict=True):
        positive = a[a > 0]
        lam = (float(np.max(positive)) if method == "max"
               else float(np.percentile(positive, percentile))) if positive.size else 1.0
        lam = lam if lam > 0 else 1.0
        out.append(Layer(layer.name, layer.weight * prev / lam, layer.bias / lam, layer.relu))
        prev = lam
    return out


# ---------------------------------------------------------------- the project
def to_project(model: AnnModel, layers: list[Layer], *, name: str, samples: Dataset,
               input_coding: str = "rate", present_ms: float = 50.0, dt_ms: float = 1.0,
               lab: str = "") -> Project:
    """The converted network as a validated project presenting ``samples``."""
    if input_coding not in ("rate", "current"):
        raise SpikeStudioError(f"input: must be rate or current, got {input_coding!r}")
    check_features(samples, model.n_inputs, unit_range=input_coding == "rate")
    neuron = {"tau_m": dt_ms, "v_thresh": 1.0, "v_reset": 0.0, "reset_mode": "subtract",
              "t_ref": 0.0, "tau_syn_exc": 0.0, "tau_syn_inh": 0.0, "v_init": 0.0,
              "v_init_spread": 0.0}
    encoder = {"samples": samples.x.tolist(), "labels": samples.y.tolist(),
               "present_ms": present_ms, "pause_ms": 0.0, "reset": True}
    if input_coding == "rate":
        encoder.update(coding="poisson", max_rate_hz=1000.0 / dt_ms)
    nodes = [{"id": "input", "kind": "encoder", "size": model.n_inputs,
              "model": "dataset" if input_coding == "rate" else "dataset_current",
              "label": f"Input {model.input_name} {'x'.join(map(str, model.input_shape))}",
              "params": encoder}]
    nodes.append({"id": "bias", "kind": "encoder", "model": "constant_current", "size": 1,
                  "label": "Biases (1 mV x weight)", "params": {"amplitude": 1.0}})
    projections: list[dict] = []
    source = "input"
    for i, layer in enumerate(layers):
        pid = "output" if i == len(layers) - 1 else f"layer{i + 1}"
        nodes.append({"id": pid, "kind": "population", "model": "if",
                      "size": int(layer.weight.shape[1]), "label": layer.name,
                      "params": dict(neuron)})
        projections += _signed_projections(source, pid, layer.weight)
        projections += _signed_projections("bias", pid, layer.bias[None, :])
        source = pid
    nodes.append({"id": "readout", "kind": "monitor", "model": "state", "target": "output",
                  "label": "Output membrane at each window's end",
                  "params": {"variables": ["v"], "neurons": list(range(nodes[-1]["size"])),
                             "interval_ms": present_ms}})
    positions = {"input": [80.0, 120.0], "bias": [80.0, 300.0]}
    for i, node in enumerate(nodes[2:-1], start=1):
        positions[node["id"]] = [80.0 + 260.0 * i, 120.0]
    positions["readout"] = [positions["output"][0] + 130.0, 190.0]
    doc = {
        "format": "spikestudio-project", "version": 1, "name": name,
        "description": f"Converted from ONNX: {len(layers)} IF layers, input as "
                       f"{input_coding}.",
        "lab": lab,
        "network": {"nodes": nodes, "projections": projections},
        "simulation": {"duration_ms": present_ms * len(samples.y), "dt_ms": dt_ms,
                       "seed": 1, "count_bin_ms": present_ms, "record_spikes": ["output"]},
        "layout": {"positions": positions},
    }
    return Project.from_dict(doc)


def _signed_projections(source: str, target: str, matrix: np.ndarray) -> list[dict]:
    """A signed weight matrix as matrix projections: positive part exc, negative part inh
    (weights are sign-clamped by receptor); an all-zero part is left out. Values keep 7
    significant digits: the kernel holds synaptic weights as float32 anyway."""
    out = []
    for receptor, part in (("exc", np.maximum(matrix, 0.0)), ("inh", np.minimum(matrix, 0.0))):
        if np.any(part):
            rows = [[float(f"{v:.7g}") for v in row] for row in part.tolist()]
            out.append({"id": f"{source}_{target}_{receptor}", "source": source,
                        "target": target, "receptor": receptor, "weight": 0.0,
                        "connectivity": {"rule": "matrix", "weights": rows}})
    return out


def import_file(path: Path, *, dataset: str = "digits", normalize: str = "max",
                input_coding: str = "rate", present_ms: float = 50.0, dt_ms: float = 1.0,
                samples: int | None = 200, calibration: int = 1000, name: str | None = None,
                lab: str = "") -> Project:
    """Convert an ONNX classifier (or a NIR chain of Affine + IF layers, a ``.nir`` file:
    :func:`read_nir`) into a project (the ``onnx`` importer).

    Parameters
    ----------
    path
        The .onnx (or .nir) file.
    dataset
        ``digits`` (calibrate on the training split, present the held-out split) or a .csv
        / .npz file (calibrate on and present its samples); see :mod:`engine.evaluation.datasets`.
    normalize
        ``max`` or ``percentile`` (99.9th) data-based weight normalisation.
    input_coding
        ``rate`` (a Poisson ``dataset`` encoder) or ``current`` (``dataset_current``).
    present_ms, dt_ms
        Presentation time per sample and the time step (tau_m = dt).
    samples
        How many samples the project presents (None: all).
    calibration
        How many calibration samples set the normalisation.
    """
    from engine.evaluation.datasets import load_dataset

    model = read_nir(path) if Path(path).suffix.lower() == ".nir" else read_onnx(path)
    shown = load_dataset(dataset)
    calib = load_dataset("digits-train") if dataset == "digits" else shown
    if calib.x.shape[1] != model.n_inputs:
        shape = (f" ({'x'.join(map(str, model.input_shape))})"
                 if len(model.input_shape) > 1 else "")
        raise SpikeStudioError(
            f"{Path(path).name}: input {model.input_name!r} takes {model.n_inputs} "
            f"values{shape}; dataset {calib.name!r} has {calib.x.shape[1]} features")
    layers = normalise(model, calib.x[:calibration], normalize)
    if samples is not None:
        shown = shown.subset(slice(0, samples))
    return to_project(model, layers, name=name or Path(path).stem, samples=shown,
                      input_coding=input_coding, present_ms=present_ms, dt_ms=dt_ms, lab=lab)
