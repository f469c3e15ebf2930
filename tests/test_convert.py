"""ANN-to-SNN conversion of ONNX models (engine/convert/onnx_import.py) and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from engine.cli import main  # noqa: E402
from engine.convert.onnx_import import import_file, normalise, read_onnx  # noqa: E402
from engine.errors import SpikeStudioError  # noqa: E402
from engine.evaluation.classify import readout, with_dataset  # noqa: E402
from engine.evaluation.datasets import Dataset, digits_split  # noqa: E402
from engine.simulator import simulate  # noqa: E402
from sample_projects.make_digits_mlp import dense_onnx  # noqa: E402

SAMPLE_ONNX = Path(__file__).parent.parent / "sample_projects" / "digits_mlp.onnx"


def _save(nodes, inits, path: Path, in_shape=("N", 64), out="y") -> Path:
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(in_shape))],
        [helper.make_tensor_value_info(out, TensorProto.FLOAT, None)], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def _init(name: str, array: np.ndarray):
    return numpy_helper.from_array(np.asarray(array, np.float32), name)


def _snn_predictions(project, data: Dataset, present_ms: float) -> np.ndarray:
    full = with_dataset(project, data, present_ms=present_ms)
    result = simulate(full)
    assert result.status == "completed"
    return readout(result, full, "output").predictions


def test_sample_mlp_snn_agrees_with_the_ann_on_98_percent_of_held_out_digits():
    _, test = digits_split()
    model = read_onnx(SAMPLE_ONNX)
    # the ANN computed independently with numpy from the ONNX weights
    weights = {t.name: numpy_helper.to_array(t).astype(np.float64)
               for t in onnx.load(str(SAMPLE_ONNX)).graph.initializer}
    hidden = np.maximum(test.x @ weights["W0"] + weights["B0"], 0.0)
    ann = np.argmax(hidden @ weights["W1"] + weights["B1"], axis=1)
    assert np.array_equal(model.predict(test.x), ann)
    assert np.mean(ann == test.y) > 0.95
    project = import_file(SAMPLE_ONNX, dataset="digits", samples=None)
    snn = _snn_predictions(project, test, present_ms=100.0)
    assert np.mean(snn == ann) >= 0.98
    assert np.mean(snn == test.y) >= np.mean(ann == test.y) - 0.01


def test_converted_layers_are_if_with_subtractive_reset_and_matrix_projections():
    project = import_file(SAMPLE_ONNX, dataset="digits", samples=10)
    pops = [n for n in project.network.nodes if n.kind == "population"]
    assert [(n.id, n.size, n.model) for n in pops] == [("layer1", 100, "if"),
                                                        ("output", 10, "if")]
    assert all(n.params["reset_mode"] == "subtract" for n in pops)
    rules = {p.connectivity["rule"] for p in project.network.projections}
    assert rules == {"matrix"}
    receptors = {(p.source, p.target, p.receptor) for p in project.network.projections}
    assert ("input", "layer1", "exc") in receptors and ("bias", "output", "inh") in receptors
    assert set(project.layout["positions"]) >= {"input", "layer1", "output", "bias"}


def test_max_normalisation_scales_each_layer_to_its_largest_activation():
    model = read_onnx(SAMPLE_ONNX)
    train, _ = digits_split()
    layers = normalise(model, train.x, "max")
    scaled = model.__class__(model.input_name, model.input_shape, layers)
    acts = scaled.activations(train.x)
    assert max(a.max() for a in acts) == pytest.approx(1.0)
    for a in acts:
        assert a.max() == pytest.approx(1.0)
    assert np.array_equal(scaled.predict(train.x), model.predict(train.x))
    pct = normalise(model, train.x, "percentile")
    assert pct[0].weight.max() > layers[0].weight.max()  # 99.9th percentile < max


def _conv_reference(x, w, b, pad):
    """Direct 2-D convolution (N, C, H, W) -> (N, M, H', W'), stride 1."""
    n, c, h, wd = x.shape
    m, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.zeros((n, m, h + 2 * pad - kh + 1, wd + 2 * pad - kw + 1))
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            out[:, :, i, j] = np.einsum("nchw,mchw->nm", xp[:, :, i:i + kh, j:j + kw], w)
    return out + b[None, :, None, None]


def test_conv_batchnorm_pool_network_matches_a_direct_numpy_reference(tmp_path):
    rng = np.random.default_rng(3)
    w = rng.normal(0, 0.5, (4, 1, 3, 3))
    b = rng.normal(0, 0.1, 4)
    scale, shift = rng.uniform(0.5, 1.5, 4), rng.normal(0, 0.1, 4)
    mean, var = rng.normal(0, 0.1, 4), rng.uniform(0.5, 1.5, 4)
    dense = rng.normal(0, 0.5, (64, 10))
    nodes = [
        helper.make_node("Reshape", ["x", "shape"], ["img"], name="to_image"),
        helper.make_node("Conv", ["img", "cw", "cb"], ["c"], name="conv", pads=[1, 1, 1, 1]),
        helper.make_node("BatchNormalization", ["c", "s", "t", "m", "v"], ["bn"], name="bn"),
        helper.make_node("Relu", ["bn"], ["r"], name="relu"),
        helper.make_node("AveragePool", ["r"], ["p"], name="pool", kernel_shape=[2, 2],
                         strides=[2, 2]),
        helper.make_node("Flatten", ["p"], ["f"], name="flat"),
        helper.make_node("MatMul", ["f", "dw"], ["mm"], name="dense"),
        helper.make_node("Add", ["mm", "db"], ["logits"], name="bias"),
        helper.make_node("Softmax", ["logits"], ["y"], name="softmax"),
    ]
    inits = [numpy_helper.from_array(np.array([-1, 1, 8, 8], np.int64), "shape"),
             _init("cw", w), _init("cb", b), _init("s", scale), _init("t", shift),
             _init("m", mean), _init("v", var), _init("dw", dense), _init("db", np.zeros(10))]
    path = _save(nodes, inits, tmp_path / "conv.onnx")
    model = read_onnx(path)
    assert [layer.weight.shape for layer in model.layers] == [(64, 256), (256, 10)]
    _, test = digits_split()
    x = test.x[:50]
    f32 = lambda a: np.asarray(a, np.float32).astype(np.float64)  # noqa: E731
    conv = _conv_reference(x.reshape(-1, 1, 8, 8), f32(w), f32(b), pad=1)
    s = f32(scale) / np.sqrt(f32(var) + 1e-5)
    bn = (conv - f32(mean)[None, :, None, None]) * s[None, :, None, None] \
        + f32(shift)[None, :, None, None]
    relu = np.maximum(bn, 0.0)
    pooled = relu.reshape(50, 4, 4, 2, 4, 2).mean(axis=(3, 5))
    logits = pooled.reshape(50, -1) @ f32(dense)
    np.testing.assert_allclose(model.activations(x)[-1], logits, rtol=1e-9, atol=1e-9)
    # and the spiking version follows it (current input)
    project = import_file(path, dataset="digits", input_coding="current", samples=None)
    snn = _snn_predictions(project, test.subset(slice(0, 300)), present_ms=100.0)
    assert np.mean(snn == model.predict(test.x[:300])) >= 0.95


def _mlp_file(tmp_path: Path, n_in=64) -> Path:
    rng = np.random.default_rng(0)
    path = tmp_path / "mlp.onnx"
    dense_onnx([(rng.normal(size=(n_in, 8)), np.zeros(8)), (rng.normal(size=(8, 3)),
                                                             np.zeros(3))], path)
    return path


def test_bad_models_are_refused_with_the_op_node_or_size(tmp_path):
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"\x08\x07garbage\xff\xff\xff" * 10)
    with pytest.raises(SpikeStudioError, match="junk.onnx: not a valid ONNX model"):
        read_onnx(junk)
    sig = _save([helper.make_node("Gemm", ["x", "w"], ["h"], name="fc"),
                 helper.make_node("Sigmoid", ["h"], ["y"], name="squash")],
                [_init("w", np.ones((64, 3)))], tmp_path / "sig.onnx")
    with pytest.raises(SpikeStudioError, match="node 'squash' \\(Sigmoid\\): unsupported op"):
        read_onnx(sig)
    soft = _save([helper.make_node("Softmax", ["x"], ["s"], name="early"),
                  helper.make_node("Gemm", ["s", "w"], ["y"], name="fc")],
                 [_init("w", np.ones((64, 3)))], tmp_path / "soft.onnx")
    with pytest.raises(SpikeStudioError, match="'early' \\(Softmax\\): .*only as the last"):
        read_onnx(soft)
    shape = _save([helper.make_node("Gemm", ["x", "w"], ["y"], name="fc")],
                  [_init("w", np.ones((10, 3)))], tmp_path / "shape.onnx")
    with pytest.raises(SpikeStudioError, match="'fc' \\(Gemm\\): weight shape \\(10, 3\\)"):
        read_onnx(shape)
    with pytest.raises(SpikeStudioError,
                       match="input 'x' takes 784 values; dataset 'digits' has 64 features"):
        import_file(_mlp_file(tmp_path, n_in=784), dataset="digits")


def test_a_billion_parameter_model_is_refused_before_reading_its_weights(tmp_path):
    huge = TensorProto(name="w", data_type=TensorProto.FLOAT,
                       dims=[31_623, 31_623])  # declared shape only: 10^9 parameters
    path = _save([helper.make_node("Gemm", ["x", "w"], ["y"], name="fc")], [huge],
                 tmp_path / "huge.onnx", in_shape=("N", 31_623))
    assert path.stat().st_size < 10_000
    with pytest.raises(SpikeStudioError, match="1,000,014,129 parameters"):
        read_onnx(path)


def test_cli_convert_and_evaluate(tmp_path, capsys):
    out = tmp_path / "p.json"
    assert main(["convert", str(SAMPLE_ONNX), "--out", str(out), "--samples", "20"]) == 0
    assert "layer1 (100) -> output (10)" in capsys.readouterr().out
    assert main(["evaluate", str(out), "--dataset", "digits", "--samples", "50",
                 "--out", str(tmp_path / "ev")]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["samples"] == 50 and report["accuracy"] > 0.8
    assert np.sum(report["confusion"]) == 50
    assert {"loihi", "truenorth"} <= set(report["energy_per_inference_j"])
    assert report["synaptic_events_per_inference"] > 0
    assert (tmp_path / "ev" / "predictions.csv").read_text().count("\n") == 51
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not onnx")
    assert main(["convert", str(bad), "--out", str(tmp_path / "x.json")]) == 2
    assert "not a valid ONNX model" in capsys.readouterr().err
    nan = tmp_path / "nan.csv"
    nan.write_text("a,label\nnan,0\n")
    assert main(["evaluate", str(out), "--dataset", str(nan)]) == 2
    assert "column 'a', sample 0" in capsys.readouterr().err


def test_cli_current_input_percentile_and_the_projects_own_samples(tmp_path, capsys):
    out = tmp_path / "c.json"
    assert main(["convert", str(SAMPLE_ONNX), "--out", str(out), "--samples", "30",
                 "--input", "current", "--normalize", "percentile",
                 "--present-ms", "20"]) == 0
    capsys.readouterr()
    assert main(["evaluate", str(out)]) == 0  # the 30 samples the project holds
    report = json.loads(capsys.readouterr().out)
    assert report["samples"] == 30 and report["presentation_ms"] == 20.0
    assert report["input_spikes_per_inference"] == 0  # currents carry no spikes
    assert report["accuracy"] > 0.85
    imported = tmp_path / "i.json"
    assert main(["import", str(SAMPLE_ONNX), "--format", "onnx", "--out", str(imported)]) == 0
    assert json.loads(imported.read_text())["network"]["nodes"][0]["model"] == "dataset"


def _nir_chain(path: Path, layers, last=None) -> Path:
    nir = pytest.importorskip("nir")
    nodes = {"input": nir.Input(input_type={"input": np.array([layers[0][0].shape[0]])})}
    edges, prev = [], "input"
    for i, (w, b) in enumerate(layers):
        n = w.shape[1]
        nodes[f"fc{i}"] = nir.Affine(weight=w.T.astype(np.float32), bias=b.astype(np.float32))
        neuron = (last if last is not None and i == len(layers) - 1
                  else nir.IF(r=np.full(n, 2.0), v_threshold=np.full(n, 2.0)))
        nodes[f"if{i}"] = neuron
        edges += [(prev, f"fc{i}"), (f"fc{i}", f"if{i}")]
        prev = f"if{i}"
    nodes["output"] = nir.Output(output_type={"output": np.array([layers[-1][0].shape[1]])})
    edges.append((prev, "output"))
    nir.write(str(path), nir.NIRGraph(nodes=nodes, edges=edges))
    return path


def test_a_nir_chain_of_affine_and_if_layers_converts_like_the_onnx_model(tmp_path):
    weights = {t.name: numpy_helper.to_array(t).astype(np.float64)
               for t in onnx.load(str(SAMPLE_ONNX)).graph.initializer}
    layers = [(weights["W0"], weights["B0"]), (weights["W1"], weights["B1"])]
    path = _nir_chain(tmp_path / "mlp.nir", layers)
    from_nir = import_file(path, dataset="digits", samples=5).to_dict()
    from_onnx = import_file(SAMPLE_ONNX, dataset="digits", samples=5).to_dict()
    assert from_nir["network"]["projections"] == from_onnx["network"]["projections"]
    nir = pytest.importorskip("nir")
    lif = nir.LIF(tau=np.full(10, 0.01), r=np.ones(10), v_leak=np.zeros(10),
                  v_threshold=np.ones(10))
    bad = _nir_chain(tmp_path / "lif.nir", layers, last=lif)
    with pytest.raises(SpikeStudioError, match="NIR node 'if1' \\(LIF\\): only Affine"):
        import_file(bad, dataset="digits")
