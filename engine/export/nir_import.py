"""Import a NIR graph (``nir.read``) as a SpikeStudio project.

Neuron nodes (``CubaLIF``, ``LIF``) and graph ``Input`` nodes become the project's nodes;
every path of linear nodes between two of them (``Affine``, ``Linear``, ``Scale``,
``Delay``, ``Flatten``, ``Conv1d``/``Conv2d``, ``SumPool2d``/``AvgPool2d``, the ``Input`` and
``Output`` of nested subgraphs) is composed into one weight matrix, bias and delay and
becomes one projection (two when its weights have both signs: SpikeStudio's projections are
excitatory or inhibitory). ``Output`` nodes mark the populations whose spikes are recorded.

The reading of the NIR equations (docs/export.md): time in seconds; a spike is a unit pulse
lasting one time step ``dt`` (the graph's metadata ``dt`` when it has one, else the
project's), so a spike of weight ``W`` into a ``CubaLIF`` raises ``R*I`` by
``r * w_in * W * dt / tau_syn`` mV, SpikeStudio's synaptic weight; a current input ``x`` into
a ``LIF`` drives it with ``r * W * x``. Metadata written by SpikeStudio's exporter restores
what NIR cannot hold (stimuli, refractoriness, initial potentials, monitors, layout, ids);
NIR's own values always win for what NIR holds.

A block from a population back to itself or to an earlier one is a projection like any
other: recurrent layers stay recurrent. An ``Input`` without SpikeStudio metadata becomes an
input port (a silent ``spike_times`` encoder of its size) that the user replaces with an
encoder or a dataset. Every import lists what it approximated (:mod:`engine.export.nir_notes`;
:func:`import_report`, :func:`graph_to_report`).

Bad files never give a traceback: every problem is a :class:`~engine.errors.SpikeStudioError`
naming the node and its type. Array shapes are checked in the HDF5 file before anything is
read, so a file declaring a huge matrix is refused without allocating it.
"""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from engine.encoders import CURRENT_ENCODERS
from engine.errors import ProjectError, SpikeStudioError
from engine.export import ImportReport, nir_notes
from engine.export.nir_export import META_KEY, PORT, require_nir
from engine.hetero.values import INLINE_LIMIT
from engine.project import Project
from engine.validation import MAX_VALUES

#: Node types this importer understands (anything else is refused by name).
NEURON_TYPES = ("CubaLIF", "LIF", "IF", "I", "CubaLI", "LI")
LINEAR_TYPES = ("Affine", "Linear", "Scale", "Delay", "Flatten", "Conv1d", "Conv2d",
                "SumPool2d", "AvgPool2d")
KNOWN_TYPES = NEURON_TYPES + LINEAR_TYPES + ("Input", "Output", "NIRGraph")
#: Types of the NIR standard that SpikeStudio has no model for (yet): named in the message.
UNSUPPORTED_TYPES = ("Threshold",)
#: Most array entries a NIR file may declare in all (checked before reading: 8 bytes each).
MAX_FILE_ENTRIES = 2**27
#: Most entries of one composed (dense) weight matrix while importing.
MAX_DENSE_ENTRIES = 2**24
#: Values an imported project may spend on explicit weight matrices (the project format
#: holds at most engine.validation.MAX_VALUES values in all).
MATRIX_VALUE_BUDGET = MAX_VALUES - 50_000
_ID_BAD = re.compile(r"[^A-Za-z0-9_\-]")


@dataclass
class _Path:
    """A composed chain of linear nodes from one unit: y = M x + b, delayed by delay_s."""

    matrix: np.ndarray
    bias: np.ndarray
    delay_s: float = 0.0
    names: list[str] = field(default_factory=list)


def _fail(name: str, node: Any, message: str) -> SpikeStudioError:
    return SpikeStudioError(f"NIR node {name!r} ({type(node).__name__}): {message}")


# ------------------------------------------------------------------------- reading the file
def _scan_file(path: Path) -> None:
    """Check a NIR file's structure, node types and array sizes without reading arrays."""
    require_nir()
    import h5py

    if not path.is_file():
        raise SpikeStudioError(f"{str(path)!r}: no such file")
    try:
        handle = h5py.File(path, "r")
    except Exception as exc:  # h5py raises OSError for truncated and non-HDF5 files
        raise SpikeStudioError(f"{str(path)!r} is not a readable NIR (HDF5) file: "
                               f"{exc}") from None
    with handle:
        _refuse_links(path, handle)
        if "node" not in handle or not isinstance(handle["node"], h5py.Group):
            raise SpikeStudioError(f"{str(path)!r} is an HDF5 file but holds no NIR graph "
                                   f"(no 'node' group)")
        total = 0
        stack = [("", handle["node"])]
        while stack:
            name, group = stack.pop()
            try:
                raw = group["type"][()] if "type" in group else b"NIRGraph"
            except Exception as exc:
                raise SpikeStudioError(f"NIR node {name or 'graph'!r}: unreadable type "
                                       f"({exc})") from None
            node_type = raw.decode("utf8", "replace") if isinstance(raw, bytes) else str(raw)
            label = name or "(top-level graph)"
            if node_type in UNSUPPORTED_TYPES:
                raise SpikeStudioError(
                    f"NIR node {label!r} ({node_type}): SpikeStudio has no model for "
                    f"{node_type} nodes yet (supported: {', '.join(KNOWN_TYPES)})")
            if node_type not in KNOWN_TYPES:
                raise SpikeStudioError(
                    f"NIR node {label!r} has the unknown type {node_type!r} (supported: "
                    f"{', '.join(KNOWN_TYPES)})")
            missing = [k for k in _required_fields(node_type) if k not in group]
            if missing:
                raise SpikeStudioError(f"NIR node {label!r} ({node_type}) is malformed: it "
                                       f"has no {', '.join(repr(k) for k in missing)}")
            for key, item in group.items():
                if isinstance(item, h5py.Dataset):
                    total += int(np.prod(item.shape, dtype=np.float64)) if item.shape else 1
                    if key == "weight" and node_type in ("Affine", "Linear") and (
                            len(item.shape) != 2
                            or item.shape[0] * item.shape[1] > MAX_DENSE_ENTRIES):
                        shape = " x ".join(f"{n:,}" for n in item.shape)
                        raise SpikeStudioError(
                            f"NIR node {label!r} ({node_type}): its {shape} weight matrix "
                            f"is larger than the {MAX_DENSE_ENTRIES:,} entries SpikeStudio "
                            f"imports per matrix" if len(item.shape) == 2 else
                            f"NIR node {label!r} ({node_type}): weight must be a 2-D "
                            f"matrix, got shape {shape}")
            if total > MAX_FILE_ENTRIES:
                raise SpikeStudioError(f"{str(path)!r} declares more than "
                                       f"{MAX_FILE_ENTRIES:,} array entries; refused before "
                                       f"reading")
            if node_type == "NIRGraph" and isinstance(group.get("nodes"), h5py.Group):
                for child, sub in group["nodes"].items():
                    if isinstance(sub, h5py.Group):
                        stack.append((f"{name}.{child}" if name else child, sub))


def _refuse_links(path: Path, handle: Any) -> None:
    """Refuse anything that makes HDF5 read outside the file or wander inside it.

    External links, external storage and virtual datasets read other files (``/etc/passwd``,
    ``/dev/zero``); soft links can dangle or loop. ``nir.write`` makes none of them, so a
    file holding one is refused before any node is opened. The walk follows hard links only.
    """
    import h5py

    found: list[str] = []

    def visit(name: str, link: Any) -> None:
        if isinstance(link, h5py.ExternalLink):
            found.append(f"an HDF5 external link at {name!r} (to {link.filename!r})")
        elif isinstance(link, h5py.SoftLink):
            found.append(f"an HDF5 soft link at {name!r} (to {link.path!r})")
        else:
            item = handle.get(name)
            if isinstance(item, h5py.Dataset) and (item.external or item.is_virtual):
                found.append(f"a dataset at {name!r} whose data is stored in external "
                             f"files")
        return True if found else None  # a true value stops the walk at the first one

    try:
        handle.visititems_links(visit)
    except Exception as exc:  # a corrupt link table
        raise SpikeStudioError(f"{str(path)!r}: unreadable HDF5 structure ({exc})") from None
    if found:
        raise SpikeStudioError(f"{str(path)!r} holds {found[0]}; links and data outside the "
                               f"file are refused (NIR files hold their arrays directly)")


def _required_fields(node_type: str) -> list[str]:
    """Fields a node of ``node_type`` must have in the file (those without a default)."""
    import dataclasses

    nir = require_nir()

    special = {"Input": ["shape"], "Output": ["shape"], "NIRGraph": ["nodes", "edges"],
               "Flatten": [], "Conv1d": ["weight", "bias"], "Conv2d": ["weight", "bias"]}
    if node_type in special:
        return special[node_type]
    return [f.name for f in dataclasses.fields(getattr(nir, node_type))
            if f.init and f.default is dataclasses.MISSING
            and f.default_factory is dataclasses.MISSING]


def read_graph(path: str | Path) -> Any:
    """Read a NIR file with ``nir.read`` after checking it (no traceback for bad files)."""
    nir = require_nir()

    path = Path(path)
    _scan_file(path)
    try:
        try:
            return nir.read(path)
        except ValueError as exc:
            if "No input nodes" not in str(exc):
                raise
            # A graph without Input nodes (a self-driven network): nothing to infer from.
            return nir.read(path, type_check=False)
    except Exception as exc:  # the nir package raises many kinds on malformed content
        raise SpikeStudioError(f"{str(path)!r}: the NIR graph is malformed: "
                               f"{type(exc).__name__}: {exc}") from None


# ------------------------------------------------------------------------- flattening
def _flatten(graph: Any, prefix: str = "") -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Inline nested subgraphs: their Input and Output nodes become pass-through nodes."""
    nir = require_nir()

    nodes: dict[str, Any] = {}
    edges: list[tuple[str, str]] = []
    entry: dict[str, str] = {}
    exit_: dict[str, str] = {}
    for name, node in graph.nodes.items():
        full = f"{prefix}{name}"
        if isinstance(node, nir.NIRGraph):
            sub_nodes, sub_edges = _flatten(node, f"{full}.")
            inputs = [f"{full}.{k}" for k, v in node.nodes.items() if isinstance(v, nir.Input)]
            outputs = [f"{full}.{k}" for k, v in node.nodes.items()
                       if isinstance(v, nir.Output)]
            if len(inputs) != 1 or len(outputs) != 1:
                raise _fail(full, node, f"a nested graph needs exactly one Input and one "
                                        f"Output node, it has {len(inputs)} and {len(outputs)}")
            for key in (inputs[0], outputs[0]):
                sub_nodes[key] = _PassThrough(sub_nodes[key])
            nodes.update(sub_nodes)
            edges += sub_edges
            entry[full], exit_[full] = inputs[0], outputs[0]
        else:
            nodes[full] = node
    for a, b in graph.edges:
        a, b = f"{prefix}{a}", f"{prefix}{b}"
        edges.append((exit_.get(a, a), entry.get(b, b)))
    return nodes, edges


class _PassThrough:
    """The Input or Output node of a nested graph: passes its signal on unchanged."""

    def __init__(self, node: Any):
        self.node = node


# ------------------------------------------------------------------------- linear algebra
def _shape_of(node: Any, key: str) -> tuple[int, ...] | None:
    types = getattr(node, f"{key}_type", None) or {}
    value = types.get(key)
    return None if value is None else tuple(int(v) for v in np.asarray(value).ravel())


def _conv_matrix(name: str, node: Any, in_shape: tuple[int, ...]) -> np.ndarray:
    """A Conv1d / Conv2d node unrolled to a dense (n_out, n_in) matrix (C order)."""
    from nir.ir.utils import calculate_conv_output

    weight = np.asarray(node.weight, dtype=np.float64)
    two_d = weight.ndim == 4
    if not two_d:  # Conv1d: treat as 2-D with height 1
        weight = weight[:, :, None, :]
        in_shape = (in_shape[0], 1, in_shape[-1])
    c_out, c_in_g, kh, kw = weight.shape
    c_in, h, w = in_shape
    groups = int(np.asarray(node.groups))

    if isinstance(node.padding, (str, bytes)):
        raise _fail(name, node, "string padding ('same'/'valid') is not supported; give it as "
                                "numbers")

    def pair(value: Any, height_1d: int) -> tuple[int, int]:
        """(height, width) of a 2-D setting; Conv1d's height is 1 (stride/dilation 1, pad 0)."""
        v = np.asarray(value).ravel()
        return (int(v[0]), int(v[-1])) if two_d else (height_1d, int(v[0]))

    stride, dilation, padding = (pair(node.stride, 1), pair(node.dilation, 1),
                                 pair(node.padding, 0))
    out_h = int(calculate_conv_output(h, padding[0], dilation[0], kh, stride[0])[0])
    out_w = int(calculate_conv_output(w, padding[1], dilation[1], kw, stride[1])[0])
    n_in, n_out = c_in * h * w, c_out * out_h * out_w
    _check_dense(name, node, n_out, n_in)
    matrix = np.zeros((n_out, n_in))
    oy, ox = np.meshgrid(np.arange(out_h), np.arange(out_w), indexing="ij")
    per_group = c_out // groups
    for co in range(c_out):
        g = co // per_group
        for ci_local in range(c_in_g):
            ci = g * c_in_g + ci_local
            for ky in range(kh):
                for kx in range(kw):
                    iy = oy * stride[0] - padding[0] + ky * dilation[0]
                    ix = ox * stride[1] - padding[1] + kx * dilation[1]
                    ok = (iy >= 0) & (iy < h) & (ix >= 0) & (ix < w)
                    rows = (co * out_h + oy[ok]) * out_w + ox[ok]
                    cols = (ci * h + iy[ok]) * w + ix[ok]
                    matrix[rows, cols] += weight[co, ci_local, ky, kx]
    return matrix


def _pool_matrix(name: str, node: Any, in_shape: tuple[int, ...]) -> np.ndarray:
    """A SumPool2d / AvgPool2d node unrolled to a dense (n_out, n_in) matrix."""
    if len(in_shape) != 3:
        raise _fail(name, node, f"needs a (channels, height, width) input, got {in_shape}")
    c, h, w = in_shape
    k = [int(v) for v in np.broadcast_to(np.asarray(node.kernel_size).ravel(), 2)]
    s = [int(v) for v in np.broadcast_to(np.asarray(node.stride).ravel(), 2)]
    p = [int(v) for v in np.broadcast_to(np.asarray(node.padding).ravel(), 2)]
    out_h, out_w = (h + 2 * p[0] - k[0]) // s[0] + 1, (w + 2 * p[1] - k[1]) // s[1] + 1
    n_out, n_in = c * out_h * out_w, c * h * w
    _check_dense(name, node, n_out, n_in)
    value = 1.0 / (k[0] * k[1]) if type(node).__name__ == "AvgPool2d" else 1.0
    matrix = np.zeros((n_out, n_in))
    for ch in range(c):
        for y in range(out_h):
            for x in range(out_w):
                for dy in range(k[0]):
                    for dx in range(k[1]):
                        iy, ix = y * s[0] - p[0] + dy, x * s[1] - p[1] + dx
                        if 0 <= iy < h and 0 <= ix < w:
                            matrix[(ch * out_h + y) * out_w + x, (ch * h + iy) * w + ix] = value
    return matrix


def _check_dense(name: str, node: Any, rows: int, cols: int) -> None:
    if rows * cols > MAX_DENSE_ENTRIES:
        raise _fail(name, node, f"unrolled to explicit synapses it is a {rows:,} x {cols:,} "
                                f"matrix, more than the {MAX_DENSE_ENTRIES:,} entries SpikeStudio "
                                f"imports")


def _apply(name: str, node: Any, path: _Path, in_shape: tuple[int, ...]) -> _Path:
    """Compose ``node`` after ``path`` (whose output has ``in_shape``)."""
    kind = type(node).__name__
    n = path.matrix.shape[0]
    if isinstance(node, _PassThrough) or kind == "Flatten":
        return path
    if kind == "Delay":
        delay = np.asarray(node.delay, dtype=np.float64).ravel()
        if delay.size and not np.all(delay == delay[0]):
            raise _fail(name, node, "its delays differ between channels; SpikeStudio has one "
                                    "delay per projection")
        if delay.size and (delay[0] < 0 or not math.isfinite(delay[0])):
            raise _fail(name, node, f"delay must be a finite time >= 0 s, got {delay[0]:g}")
        return _Path(path.matrix, path.bias, path.delay_s + float(delay[0] if delay.size else 0),
                     path.names + [name])
    if kind == "Scale":
        scale = np.asarray(node.scale, dtype=np.float64).ravel()
        if scale.size not in (1, n):
            raise _fail(name, node, f"scales {scale.size} channels, its input has {n}")
        return _Path(scale[:, None] * path.matrix, scale * path.bias, path.delay_s,
                     path.names + [name])
    if kind in ("Affine", "Linear"):
        weight = np.asarray(node.weight, dtype=np.float64)
        if weight.ndim != 2 or weight.shape[1] != n:
            raise _fail(name, node, f"weight of shape {weight.shape} does not take the "
                                    f"{n} channels its input has")
        _check_dense(name, node, weight.shape[0], path.matrix.shape[1])
        bias = weight @ path.bias
        if kind == "Affine":
            extra = np.asarray(node.bias, dtype=np.float64).ravel()
            if extra.size not in (1, weight.shape[0]):
                raise _fail(name, node, f"bias has {extra.size} values for "
                                        f"{weight.shape[0]} outputs")
            bias = bias + extra
        return _Path(weight @ path.matrix, bias, path.delay_s, path.names + [name])
    if kind in ("Conv1d", "Conv2d"):
        unrolled = _conv_matrix(name, node, in_shape)
        if unrolled.shape[1] != n:
            raise _fail(name, node, f"expects {unrolled.shape[1]} inputs, gets {n}")
        c_out = node.weight.shape[0]
        per = unrolled.shape[0] // c_out
        bias = unrolled @ path.bias + np.repeat(np.asarray(node.bias, np.float64).ravel(), per)
        return _Path(unrolled @ path.matrix, bias, path.delay_s, path.names + [name])
    if kind in ("SumPool2d", "AvgPool2d"):
        unrolled = _pool_matrix(name, node, in_shape)
        if unrolled.shape[1] != n:
            raise _fail(name, node, f"expects {unrolled.shape[1]} inputs, gets {n}")
        return _Path(unrolled @ path.matrix, unrolled @ path.bias, path.delay_s,
                     path.names + [name])
    raise _fail(name, node, "is not a linear node")  # unreachable: units are handled apart


def _out_shape(name: str, node: Any, path: _Path, in_shape: tuple[int, ...]):
    """Shape of ``node``'s output (for the convolutions and pools that follow it)."""
    shape = _shape_of(node, "output")
    if shape is not None and int(np.prod(shape)) == path.matrix.shape[0]:
        return shape
    return (path.matrix.shape[0],) if type(node).__name__ == "Flatten" else in_shape


# ------------------------------------------------------------------------- the project
def _meta(node: Any) -> dict[str, Any]:
    raw = (getattr(node, "metadata", None) or {}).get(META_KEY)
    if isinstance(raw, bytes):
        raw = raw.decode("utf8", "replace")
    try:
        value = json.loads(raw) if isinstance(raw, str) else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _values(name: str, node: Any, attr: str, size: int) -> np.ndarray:
    """A neuron parameter of the NIR node, one finite value per neuron."""
    values = np.asarray(getattr(node, attr), dtype=np.float64).ravel()
    if values.size not in (1, size):
        raise _fail(name, node, f"{attr} has {values.size} values for {size} neurons")
    if not np.all(np.isfinite(values)):
        raise _fail(name, node, f"{attr} holds a value that is not finite")
    return np.broadcast_to(values, (size,)).copy()


def _compact(doc_nodes: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    """Write the populations' per-neuron parameters in the project's forms.

    A parameter the same for every neuron becomes a number; one that differs an inline list
    (at most :data:`~engine.hetero.values.INLINE_LIMIT` values) or ``{"array": KEY}`` of the
    companion file. Returns the companion arrays by key (``<node id>.<param>``).
    """
    arrays: dict[str, np.ndarray] = {}
    for node in doc_nodes:
        params = node.get("params", {})
        for key, value in list(params.items()):
            if not isinstance(value, np.ndarray):
                continue
            if np.all(value == value[0]):
                params[key] = float(value[0])
            elif value.size <= INLINE_LIMIT:
                params[key] = value.tolist()
            else:
                arrays[f"{node['id']}.{key}"] = value
                params[key] = {"array": f"{node['id']}.{key}"}
    return arrays


def _per_neuron(node: Any, attr: str, size: int) -> np.ndarray:
    return np.broadcast_to(np.asarray(getattr(node, attr), np.float64).ravel(), (size,))


@dataclass
class _Unit:
    """A NIR node that becomes a SpikeStudio node."""

    name: str
    node: Any
    size: int
    id: str = ""
    document: dict[str, Any] = field(default_factory=dict)
    recorded: bool = False
    spikes_in: bool = False  # receives spikes (not only currents)
    bias: np.ndarray | None = None  # summed Affine biases arriving, as R*I in mV


def _unit_size(name: str, node: Any) -> int:
    shape = _shape_of(node, "output") or _shape_of(node, "input")
    if shape is None:
        raise _fail(name, node, "has no shape")
    size = int(np.prod(shape))
    if size < 1:
        raise _fail(name, node, f"has an empty shape {shape}")
    return size


def _population(unit: _Unit, notes: list[str]) -> None:
    """The project node of a neuron unit: parameters NIR holds, then (from SpikeStudio's
    metadata) those it cannot hold."""
    name, node, n = unit.name, unit.node, unit.size
    kind = type(node).__name__
    meta = _meta(node)
    model = _MODEL_OF[kind]
    extra = meta.get("params", {}) if meta.get("model") == model else {}
    params: dict[str, Any] = {}
    # Parameters are per-neuron arrays here; _compact writes them as numbers or lists.
    if kind in ("CubaLIF", "LIF", "CubaLI", "LI"):
        params["v_rest"] = _values(name, node, "v_leak", n)
        params["tau_m"] = _values(name, node, "tau_mem" if kind.startswith("Cuba")
                                  else "tau", n) * 1e3
    if kind in ("CubaLIF", "LIF", "IF"):
        params["v_thresh"] = _values(name, node, "v_threshold", n)
        params["v_reset"] = _values(name, node, "v_reset", n)
        bad = np.flatnonzero(params["v_reset"] >= params["v_thresh"])
        if bad.size:
            i = int(bad[0])
            raise _fail(name, node, f"v_reset ({params['v_reset'][i]:g}) must be below "
                                    f"v_threshold ({params['v_thresh'][i]:g}) (neuron {i})")
    if kind in ("IF", "I"):
        r = _values(name, node, "r", n)
        if not np.all(r > 0):
            raise _fail(name, node, f"r must be > 0 (an integrator that integrates), got "
                                    f"{float(r.min()):g}")
        params["tau_m"] = 1e3 / r  # dv/dt = R I  <=>  tau_m dv/dt = I with tau_m = 1 / R
    if kind == "I":  # a non-spiking integrator: an IF whose threshold is out of reach
        params.update(v_thresh=100.0, v_reset=0.0, v_init=0.0)
        notes.append(nir_notes.integrator_note(name))
    # NIR holds the synapse only in CubaLIF / CubaLI; the others take spikes directly.
    tau_syn = (_values(name, node, "tau_syn", n) * 1e3 if kind.startswith("Cuba")
               else 0.0)
    params.update(tau_syn_exc=tau_syn, tau_syn_inh=tau_syn)
    keep = ("t_ref", "i_offset", "v_init", "v_init_spread", "reset_mode")  # NIR has none
    keep += ("tau_syn_inh",) if kind.startswith("Cuba") else ()
    for key in keep:
        if key in extra:
            params[key] = extra[key]
    if not kind.startswith("Cuba") and unit.spikes_in is False:  # synapses unused
        for key in ("tau_syn_exc", "tau_syn_inh"):
            if key in extra:
                params[key] = extra[key]
    if model != "li":
        params.setdefault("t_ref", 0.0)
    params.setdefault("v_init", params.get("v_rest", 0.0))
    unit.document = {"id": unit.id, "kind": "population", "model": model, "size": n,
                     "params": params}


#: NIR neuron type -> SpikeStudio model.
_MODEL_OF = {"CubaLIF": "lif", "LIF": "lif", "IF": "if", "I": "if", "CubaLI": "li",
             "LI": "li"}


def _encoder(unit: _Unit, notes: list[str]) -> None:
    meta = _meta(unit.node)
    if meta.get("kind") == "encoder" and meta.get("size") == unit.size:
        unit.document = {"id": unit.id, "kind": "encoder", "model": meta.get("model"),
                         "size": unit.size, "params": meta.get("params", {})}
        return
    # The graph's input port: a silent spike-times input of the Input's size, the neutral
    # kind (it changes nothing until the user picks an encoder or a dataset in its place).
    notes.append(nir_notes.input_note(unit.name, unit.size, unit.id))
    unit.document = {"id": unit.id, "kind": "encoder", "model": "spike_times",
                     "size": unit.size, "label": f"NIR input {unit.name}: choose its model"[:200],
                     "params": {"times_ms": [[] for _ in range(unit.size)]}}


def _unique_ids(units: list[_Unit]) -> None:
    taken: set[str] = set()
    for unit in units:
        wanted = _meta(unit.node).get("id")
        base = wanted if isinstance(wanted, str) and wanted else unit.name
        base = _ID_BAD.sub("_", base)[:60]
        if not re.match(r"[A-Za-z_]", base):
            base = f"n_{base}"[:60]
        candidate, i = base, 1
        while candidate in taken:
            candidate, i = f"{base}_{i}", i + 1
        taken.add(candidate)
        unit.id = candidate


def _connectivity(weights: np.ndarray) -> tuple[dict[str, Any], float, int]:
    """The smallest connectivity rule holding ``weights`` (n_post, n_pre) exactly.

    Returns (connectivity, weight, values spent in the document).
    """
    n_post, n_pre = weights.shape
    nonzero = weights[weights != 0]
    if nonzero.size == weights.size and np.all(nonzero == nonzero[0]):
        return {"rule": "all_to_all"}, float(nonzero[0]), 1
    if n_pre == n_post and np.count_nonzero(weights - np.diag(np.diag(weights))) == 0:
        diag = np.diag(weights)
        if np.all(diag == diag[0]) and diag[0] != 0:
            return {"rule": "one_to_one"}, float(diag[0]), 1
    return ({"rule": "matrix", "weights": weights.T.astype(np.float64).tolist()},
            0.0, weights.size)


def _layout(doc_nodes: list[dict], projections: list[dict]) -> dict[str, list[float]]:
    """Layered left-to-right positions: column = graph depth from the inputs."""
    ids = [n["id"] for n in doc_nodes if n["kind"] != "monitor"]
    succ: dict[str, list[str]] = defaultdict(list)
    has_in: set[str] = set()
    for p in projections:
        succ[p["source"]].append(p["target"])
        if p["source"] != p["target"]:
            has_in.add(p["target"])
    depth = {i: 0 for i in ids if i not in has_in}
    queue = deque(depth)
    while queue:
        node = queue.popleft()
        for nxt in succ[node]:
            if nxt not in depth:
                depth[nxt] = depth[node] + 1
                queue.append(nxt)
    for i in ids:  # nodes only reachable through cycles
        depth.setdefault(i, max(depth.values(), default=-1) + 1)
    rows: dict[int, int] = defaultdict(int)
    positions: dict[str, list[float]] = {}
    for i in ids:
        d = depth[i]
        positions[i] = [80.0 + 260.0 * d, 80.0 + 160.0 * rows[d]]
        rows[d] += 1
    for n in doc_nodes:
        if n["kind"] == "monitor" and n.get("target") in positions:
            x, y = positions[n["target"]]
            positions[n["id"]] = [x + 130.0, y + 70.0]
    return positions


def graph_to_project(graph: Any, dt_ms: float | None = None, name: str = "Imported") -> Project:
    """Build a validated project from a NIR graph (see the module docstring)."""
    return graph_to_report(graph, dt_ms, name).project


def graph_to_report(graph: Any, dt_ms: float | None = None,
                    name: str = "Imported") -> ImportReport:
    """Build a validated project from a NIR graph, with the list of what was approximated.

    Parameters
    ----------
    graph
        A ``nir.NIRGraph``.
    dt_ms
        Time step of the project; ``None``: the one a SpikeStudio export recorded, else 0.1.
    name
        The project's name when the graph's metadata holds none.

    Returns
    -------
    ImportReport
        The project and one sentence per approximation (:mod:`engine.export.nir_notes`).
    """
    nir = require_nir()

    extra_raw = (graph.metadata or {}).get(META_KEY)
    try:
        extra = json.loads(extra_raw) if isinstance(extra_raw, str) else {}
    except ValueError:
        extra = {}
    extra = extra if isinstance(extra, dict) else {}
    file_dt = (graph.metadata or {}).get("dt")
    dt_source = "given with the import"
    if dt_ms is None:
        recorded_dt = extra.get("simulation", {}).get("dt_ms") if extra else None
        dt_ms = float(recorded_dt) if recorded_dt is not None else 0.1
        dt_source = ("the time step SpikeStudio's export recorded" if recorded_dt is not None
                     else "SpikeStudio's default; the graph states none")
    if not (isinstance(dt_ms, (int, float)) and 0.001 <= dt_ms <= 10.0):
        raise SpikeStudioError(f"--dt-ms: must be in [0.001, 10] ms, got {dt_ms}")
    # The width of a spike pulse: the dt the file was written with, else the project's.
    from_file = isinstance(file_dt, (int, float, np.floating)) and float(file_dt) > 0
    pulse_s = float(file_dt) if from_file else dt_ms * 1e-3
    pulse_source = ("the graph's metadata 'dt'" if from_file
                    else "the project's dt; the graph states no 'dt'")

    unedited = _unedited_original(graph, extra, dt_ms)
    if unedited is not None:
        return ImportReport(unedited, nir_notes.restored_note(dt_ms), exact=True)
    nodes, edges = _flatten(graph)
    port = {k for k, n in nodes.items() if _meta(n).get("kind") == PORT}
    nodes = {k: n for k, n in nodes.items() if k not in port}
    edges = [(a, b) for a, b in edges if a not in port and b not in port]
    linear_meta = {k: _meta(n) for k, n in nodes.items()
                   if type(n).__name__ in ("Linear", "Affine")}
    succ: dict[str, list[str]] = defaultdict(list)
    for a, b in edges:
        succ[a].append(b)
    units: dict[str, _Unit] = {}
    outputs: set[str] = set()
    for key, node in nodes.items():
        if isinstance(node, nir.Input) or type(node).__name__ in NEURON_TYPES:
            units[key] = _Unit(key, node, _unit_size(key, node))
        elif isinstance(node, nir.Output):
            outputs.add(key)
        elif type(node).__name__ in UNSUPPORTED_TYPES:
            raise _fail(key, node, "SpikeStudio has no model for this node type yet")
        elif not (isinstance(node, _PassThrough) or type(node).__name__ in LINEAR_TYPES):
            raise _fail(key, node, "is not a node type SpikeStudio imports")
    names = list(nodes)  # HDF5 lists a graph's nodes by name: put inputs first
    ordered = sorted(units.values(), key=lambda u: (_meta(u.node).get("order", math.inf),
                                                    not isinstance(u.node, nir.Input),
                                                    names.index(u.name)))
    _unique_ids(ordered)
    notes = nir_notes.general_notes(dt_ms, dt_source, pulse_s, pulse_source)
    for unit in ordered:  # first: whether each source carries spikes or a current
        if isinstance(unit.node, nir.Input):
            _encoder(unit, notes)

    # Compose every path of linear nodes leaving each unit.
    arrivals: dict[tuple[str, str, float], _Path] = {}
    for unit in ordered:
        start = _Path(np.eye(unit.size), np.zeros(unit.size))
        shape = _shape_of(unit.node, "output") or (unit.size,)
        stack = [(b, start, shape) for b in succ[unit.name]]
        steps = 0
        while stack:
            key, path, shape = stack.pop()
            steps += 1
            if steps > 100_000:
                raise _fail(unit.name, unit.node, "its outgoing linear nodes form a cycle")
            if key in outputs:
                if len(path.names) == 0:
                    unit.recorded = True
                continue
            if key in units:
                group = (unit.name, key, path.delay_s)
                if group in arrivals:
                    previous = arrivals[group]
                    path = _Path(previous.matrix + path.matrix, previous.bias + path.bias,
                                 path.delay_s, previous.names + path.names)
                arrivals[group] = path
                continue
            node = nodes[key]
            if isinstance(node, nir.Input):  # cannot happen: Inputs are units
                continue
            new = _apply(key, node, path, shape)
            stack += [(b, new, _out_shape(key, node, new, shape)) for b in succ[key]]

    by_name = {u.name: u for u in ordered}
    for (src_name, tgt_name, _), path in arrivals.items():
        if np.any(path.matrix) and by_name[src_name].document.get("model") not in \
                CURRENT_ENCODERS:
            by_name[tgt_name].spikes_in = True
    for unit in ordered:
        if not isinstance(unit.node, nir.Input):
            _population(unit, notes)
            notes.append(_dynamics_note(unit, dt_ms))
    doc_nodes = [u.document for u in ordered]
    projections: list[dict[str, Any]] = []
    values_left = MATRIX_VALUE_BUDGET
    for (src_name, tgt_name, delay_s), path in arrivals.items():
        src, tgt = by_name[src_name], by_name[tgt_name]
        if isinstance(tgt.node, nir.Input):
            raise _fail(tgt.name, tgt.node, "an Input node cannot receive connections")
        projections_here, values_left = _projections(src, tgt, path, delay_s, dt_ms,
                                                     pulse_s, values_left, linear_meta)
        projections += projections_here
    _apply_bias(ordered, notes)
    projections.sort(key=lambda p: p.pop("_order"))
    taken = {n["id"] for n in doc_nodes}
    for p in projections:  # parallel paths with different delays share a base id
        base, i = p["id"][:60], 2
        while p["id"] in taken:
            p["id"], i = f"{base}_{i}", i + 1
        taken.add(p["id"])

    record: Any = [u.id for u in ordered if u.recorded] or "all"
    simulation: dict[str, Any] = {"dt_ms": dt_ms, "record_spikes": record}
    document: dict[str, Any] = {"format": "spikestudio-project", "version": 1, "name": name,
                                "description": ""}
    if extra:
        restored = dict(extra.get("simulation") or {})
        simulation = {**restored, "dt_ms": dt_ms}
        if "duration_ms" in restored:
            simulation["duration_ms"] = restored["duration_ms"]
        ids = {n["id"] for n in doc_nodes}
        for monitor in extra.get("monitors") or []:
            if isinstance(monitor, dict) and monitor.get("target") in ids:
                doc_nodes.append(monitor)
        document.update(name=extra.get("name", name), description=extra.get("description", ""),
                        lab=extra.get("lab", ""))
    arrays = _compact(doc_nodes)
    positions = _layout(doc_nodes, projections)
    saved = (extra.get("layout") or {}).get("positions", {}) if extra else {}
    if saved and set(positions) <= set(saved):
        positions = {k: saved[k] for k in positions}
    # The project keeps the list too (the description holds at most 10,000 characters).
    document["description"] = (document["description"] + "\n\nImport notes:\n"
                               + "\n".join(f"- {n}" for n in notes)).strip()[:10_000]
    document["network"] = {"nodes": doc_nodes, "projections": projections}
    document["simulation"] = simulation
    document["layout"] = {"positions": positions}
    try:
        return ImportReport(Project.from_dict(document, arrays), notes)
    except ProjectError as exc:
        if not _lab_only(exc) or not isinstance(document.get("lab"), dict):
            raise SpikeStudioError(f"the imported model does not fit a SpikeStudio project:\n"
                                   f"{exc}") from None
    # A lab's steps name nodes and projections of the exported project; the mapped graph may
    # not hold them all (a teaching current, say): its notes stay, its steps do not.
    lab = document["lab"]
    document["lab"] = "\n\n".join(
        [str(lab.get("intro", ""))] + [f"## {step.get('title', '')}\n\n{step.get('text', '')}"
                                       for step in lab.get("steps", []) if isinstance(step, dict)])
    dropped = ("The lab's steps were left out: they name parts of the project the graph does "
               "not hold.")
    notes.append(dropped)
    document["description"] = (document["description"] + f"\n- {dropped}").strip()[:10_000]
    try:
        return ImportReport(Project.from_dict(document, arrays), notes)
    except ProjectError as exc:
        raise SpikeStudioError(f"the imported model does not fit a SpikeStudio project:\n"
                               f"{exc}") from None


def _lab_only(exc: ProjectError) -> bool:
    """Are all of ``exc``'s problems in the project's lab?"""
    return all(str(p.path).startswith("lab") for p in exc.problems)


def _unedited_original(graph: Any, extra: dict[str, Any], dt_ms: float) -> Project | None:
    """The project a SpikeStudio export was written from, when the graph is unedited.

    The export keeps the whole project in the graph's metadata. When exporting that project
    again gives exactly this graph (node types, shapes, parameter arrays, edges), nothing
    NIR holds was changed in another tool, and the project itself is the exact import: it
    keeps what NIR cannot hold (plasticity, per-synapse delays, connectivity rules, sizes
    beyond a project file's explicit matrices). Otherwise ``None``: the graph is mapped.
    """
    from engine.export.nir_export import to_nir

    document = extra.get("document")
    if not isinstance(document, dict):
        return None
    try:
        original = Project.from_dict(document)
        if original.simulation.dt_ms != dt_ms:
            return None
        again, _ = to_nir(original)
    except (ProjectError, SpikeStudioError):
        return None
    return original if _same_graph(graph, again) else None


def _same_graph(a: Any, b: Any) -> bool:
    """Whether two NIR graphs have the same nodes (types and values, metadata aside)."""
    if sorted(a.nodes) != sorted(b.nodes) or sorted(map(tuple, a.edges)) != sorted(
            map(tuple, b.edges)):
        return False
    return all(_same_value(_node_values(a.nodes[k]), _node_values(b.nodes[k]))
               for k in a.nodes)


def _node_values(node: Any) -> Any:
    nir = require_nir()

    if isinstance(node, nir.NIRGraph):
        return {"type": "NIRGraph", "nodes": {k: _node_values(v) for k, v in node.nodes.items()},
                "edges": sorted(map(tuple, node.edges))}
    values = {k: v for k, v in vars(node).items() if k != "metadata"}
    values["type"] = type(node).__name__
    return values


def _same_value(x: Any, y: Any) -> bool:
    if isinstance(x, dict) and isinstance(y, dict):
        return sorted(x) == sorted(y) and all(_same_value(x[k], y[k]) for k in x)
    if isinstance(x, (list, tuple)) and isinstance(y, (list, tuple)):
        return len(x) == len(y) and all(_same_value(i, j) for i, j in zip(x, y, strict=True))
    if isinstance(x, str) or isinstance(y, str) or x is None or y is None:
        return x == y
    try:
        ax, ay = np.asarray(x), np.asarray(y)
        return ax.shape == ay.shape and bool(np.array_equal(ax, ay))
    except (TypeError, ValueError):
        return x == y


def _weight_factor(src: _Unit, tgt: _Unit, pulse_s: float) -> tuple[np.ndarray, bool]:
    """Per-target-neuron factor from NIR weights to SpikeStudio's mV, and whether the source
    is a current (else spikes: unit pulses lasting ``pulse_s``)."""
    node, n = tgt.node, tgt.size
    kind = type(node).__name__
    current = src.document.get("model") in CURRENT_ENCODERS
    r = _per_neuron(node, "r", n)
    if kind.startswith("Cuba"):  # the input charges the synaptic current: w_in S / tau_syn
        w_in = _per_neuron(node, "w_in", n)
        return (r * w_in if current else r * w_in * pulse_s / _per_neuron(node, "tau_syn", n),
                current)
    if kind in ("IF", "I"):  # dv/dt = R I: a pulse raises v by R W dt
        return (np.ones(n) if current else r * pulse_s), current
    tau = _per_neuron(node, "tau", n)  # LIF, LI: tau dv/dt = ... + R I
    return (r if current else r * pulse_s / tau), current


def _bias_factor(tgt: _Unit) -> np.ndarray:
    """Per-neuron factor from a NIR bias (a constant input) to SpikeStudio's i_offset (mV).

    A constant input ``b`` is a current: ``r * b`` on a leaky membrane (``tau dv/dt = ...
    + r b``), ``r * w_in * b`` through the synapse of a ``CubaLIF`` / ``CubaLI`` (steady
    state), and ``b`` for an ``IF`` / ``I``, whose ``r`` is already SpikeStudio's
    ``1 / tau_m`` (``tau_m dv/dt = i_offset``, as a current input's gain).
    """
    node, n = tgt.node, tgt.size
    kind = type(node).__name__
    if kind in ("IF", "I"):
        return np.ones(n)
    factor = _per_neuron(node, "r", n)
    return factor * _per_neuron(node, "w_in", n) if kind.startswith("Cuba") else factor


def _dynamics_note(unit: _Unit, dt_ms: float) -> str:
    """The approximation note of one neuron node: its time constants against dt."""
    node, kind = unit.node, type(unit.node).__name__
    fields = {"CubaLIF": ("tau_mem", "tau_syn"), "CubaLI": ("tau_mem", "tau_syn"),
              "LIF": ("tau",), "LI": ("tau",)}.get(kind, ())
    taus = {f: _per_neuron(node, f, unit.size) for f in fields}
    return nir_notes.node_note(unit.name, kind, unit.size, taus, dt_ms, unit.id,
                               unit.document["model"])


def _projections(src: _Unit, tgt: _Unit, path: _Path, delay_s: float, dt_ms: float,
                 pulse_s: float, values_left: int,
                 linear_meta: dict[str, dict]) -> tuple[list[dict], int]:
    """The projection(s) of one composed path: an excitatory and/or an inhibitory one."""
    if np.any(path.matrix):
        factor, current = _weight_factor(src, tgt, pulse_s)
        weights = path.matrix * factor[:, None]
    else:  # only a bias arrives (an Affine with zero weights)
        weights, current = path.matrix, False
    tgt.bias = (0.0 if tgt.bias is None else tgt.bias) + path.bias * _bias_factor(tgt)
    delay_ms = round(delay_s * 1e3 / dt_ms) * dt_ms
    if abs(delay_ms - delay_s * 1e3) > 1e-6 * max(1.0, delay_s * 1e3):
        raise SpikeStudioError(f"NIR node {path.names[-1] if path.names else src.name!r}: "
                               f"delay {delay_s * 1e3:g} ms is not a multiple of dt "
                               f"({dt_ms:g} ms); import with a --dt-ms that divides it")
    if current and delay_ms:
        raise SpikeStudioError(f"NIR path {src.name!r} -> {tgt.name!r}: a current input "
                               f"cannot be delayed in SpikeStudio")
    metas = [linear_meta[n] for n in path.names if n in linear_meta]
    meta = metas[0] if len(metas) == 1 else {}
    out = []
    for receptor, part in (("exc", np.maximum(weights, 0.0)), ("inh", np.minimum(weights, 0.0))):
        if not np.any(part):
            continue
        connectivity, weight, spent = _connectivity(part)
        if connectivity["rule"] == "matrix":  # the weight is ignored; its sign is checked
            weight = 1.0 if receptor == "exc" else -1.0
        values_left -= spent
        if values_left < 0:
            raise SpikeStudioError(
                f"NIR path {src.name!r} -> {tgt.name!r}: its {part.shape[0]:,} x "
                f"{part.shape[1]:,} weights (with the others) exceed the "
                f"{MATRIX_VALUE_BUDGET:,} values a SpikeStudio project file holds as explicit "
                f"synapses")
        pid = meta.get("id") if meta.get("receptor") == receptor else None
        pid = pid or f"{src.id}_to_{tgt.id}_{receptor}"
        out.append({"id": _ID_BAD.sub("_", pid)[:64], "source": src.id, "target": tgt.id,
                    "connectivity": connectivity, "weight": weight, "delay_ms": delay_ms,
                    "receptor": receptor, "plasticity": None,
                    "_order": (meta.get("order", math.inf), pid)})
    return out, values_left


def _apply_bias(units: list[_Unit], notes: list[str]) -> None:
    """Affine biases become the target's i_offset, per neuron.

    NIR's value wins: an i_offset from SpikeStudio's metadata (which NIR did not hold when
    the population had no input to carry it) is replaced, not added to.
    """
    for unit in units:
        bias = unit.bias
        if bias is None or not np.any(bias):
            continue
        params = unit.document["params"]
        params["i_offset"] = np.broadcast_to(bias, (unit.size,)).astype(np.float64)
        kind = type(unit.node).__name__
        tau_syn = (float(np.max(_per_neuron(unit.node, "tau_syn", unit.size)))
                   if kind.startswith("Cuba") else None)
        notes.append(nir_notes.bias_note(unit.name, unit.id,
                                          params["i_offset"], tau_syn))


def import_report(path: str | Path, dt_ms: float | None = None) -> ImportReport:
    """Read a NIR file into a validated project, with the list of what was approximated.

    Parameters and errors as :func:`import_file`.
    """
    graph = read_graph(path)
    return graph_to_report(graph, dt_ms, name=Path(path).stem[:200] or "Imported")


def import_file(path: str | Path, dt_ms: float | None = None) -> Project:
    """Read a NIR file into a validated project.

    Parameters
    ----------
    path
        A ``.nir`` (HDF5) file as written by ``nir.write``.
    dt_ms
        Time step of the project; ``None``: the one a SpikeStudio export recorded, else 0.1.

    Raises
    ------
    SpikeStudioError
        For unreadable or malformed files and unsupported nodes (naming the node and type),
        and for graphs that do not fit a project.
    """
    return import_report(path, dt_ms).project
