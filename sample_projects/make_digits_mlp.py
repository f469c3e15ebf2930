"""Train the digits MLP, write it as ONNX and convert it: sample_projects/digits_mlp.*.

    python -m sample_projects.make_digits_mlp

A 64-100-10 ReLU MLP (scikit-learn's MLPClassifier, fixed seed) is trained on the 797
training digits of :func:`engine.evaluation.datasets.digits_split`, written with ``onnx.helper``
(Gemm, Relu, Gemm, Softmax; no skl2onnx), converted to IF layers by
:mod:`engine.convert.onnx_import`, evaluated on the 1,000 held-out digits, and the measured
figures go into the project's lab notes. Reruns give the same files.
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
ONNX_PATH = HERE / "digits_mlp.onnx"
PROJECT_PATH = HERE / "digits_mlp.json"
PRESENT_MS = 100.0


def dense_onnx(layers: list[tuple[np.ndarray, np.ndarray]], path: Path, *,
               softmax: bool = True, name: str = "mlp") -> None:
    """Write a ReLU MLP as ONNX: ``Gemm`` per layer (weights (in, out)), ``Relu`` between,
    ``Softmax`` at the end."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes, inits = [], []
    current = "x"
    for i, (w, b) in enumerate(layers):
        inits += [numpy_helper.from_array(w.astype(np.float32), f"W{i}"),
                  numpy_helper.from_array(b.astype(np.float32), f"B{i}")]
        # Named as the converter names their populations (layer1, ..., output): the layer
        # name becomes the node's label, so the graph, "Record spikes of", the raster and
        # the CLI's --readout all use one name.
        layer = "output" if i == len(layers) - 1 else f"layer{i + 1}"
        nodes.append(helper.make_node("Gemm", [current, f"W{i}", f"B{i}"], [f"h{i}"],
                                      name=layer))
        current = f"h{i}"
        if i < len(layers) - 1:
            nodes.append(helper.make_node("Relu", [current], [f"r{i}"], name=f"relu{i}"))
            current = f"r{i}"
    if softmax:
        nodes.append(helper.make_node("Softmax", [current], ["probs"], name="softmax"))
        current = "probs"
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", layers[0][0].shape[0]])],
        [helper.make_tensor_value_info(current, TensorProto.FLOAT,
                                       ["N", layers[-1][0].shape[1]])],
        inits)
    model = helper.make_model(graph, producer_name="spikestudio",
                              opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def train() -> list[tuple[np.ndarray, np.ndarray]]:
    """The trained MLP's (weights (in, out), bias) per layer."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    from engine.evaluation.datasets import digits_split
    train_set, _ = digits_split()
    mlp = MLPClassifier(hidden_layer_sizes=(100,), activation="relu", alpha=1e-3,
                        max_iter=400, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp.fit(train_set.x, train_set.y)
    return [(w.astype(np.float32).astype(np.float64), b.astype(np.float32).astype(np.float64))
            for w, b in zip(mlp.coefs_, mlp.intercepts_, strict=True)]


LAB = """# ANN-to-SNN conversion: a digits MLP as integrate-and-fire layers

A 64-100-10 ReLU network trained on scikit-learn's 8x8 digits (797 training images; script
`sample_projects/make_digits_mlp.py`, exported as `digits_mlp.onnx`) converted with
`spikestudio convert digits_mlp.onnx --dataset digits --out digits_mlp.json`.

**How it works** (Rueckauer et al. 2017). Each ReLU layer becomes a population of
non-leaky IF neurons (threshold 1, *reset by subtraction*, so no charge is lost); a unit's
firing rate approximates its ReLU activation. The weights are normalised with data: each
layer is divided by the largest activation it reached on the training images, so no neuron
needs to fire faster than once per step. Biases are constant currents (the *bias* node).
Pixels (0..1) are Poisson spike trains with p = pixel per 1 ms step; every image is shown
for {present:g} ms, then the network is reset and the next image comes.

## 1. The converted network classifies digits
**Measured** on the 1,000 held-out digits ({when}):

| | accuracy |
|---|---|
| ANN (numpy, same weights) | {ann:.1%} |
| SNN, {present:g} ms per image | {snn:.1%} |
| predictions that agree | {agree:.1%} |

The SNN fires {spikes:.0f} spikes and {events:.0f} synaptic events per image; the readout
is the output neuron with most spikes (ties: higher membrane). Evaluating all 1,000 images
is one simulation of {duration:g} s of model time.

## 2. Shorter presentations
**Try**: `spikestudio evaluate digits_mlp.json --dataset digits` prints accuracy, confusion
matrix and energy per inference; lower `present_ms` of *input* and watch accuracy fall
(fewer spikes to estimate each rate); change the input to `dataset_current`
(`--input current`) and compare.
"""

#: The steps of the lab (engine.labs.authoring.lab_from_notes); the figures are those of
#: the reference solution on the project's own 200 digits (``spikestudio lab check digits``).
STEPS = [
    {"id": "accuracy", "sections": ["1. The converted network classifies digits"],
     "text": "Run the project: it shows the 200 test digits it carries, one every 100 ms. "
             "The check reads the output spikes of every presentation and scores them.",
     "check": {"observation": "accuracy", "params": {"output": "output", "low": 0.95}},
     "figures": "Reference run: 98.0 % of the project's 200 digits (the check asks for at "
                "least 95 %)."},
    {"id": "short-presentations", "sections": ["2. Shorter presentations"],
     "text": "Show each digit for only 5 ms (`present_ms` of *input*) and run again.",
     "question": "Why do a few spikes per neuron make a poor estimate of a ReLU activation?",
     "check": {"observation": "accuracy",
               "params": {"output": "output", "low": 0.5, "high": 0.9}},
     "solution": [{"node": "input", "param": "present_ms", "value": 5.0}],
     "figures": "Reference run at 5 ms: 74.5 % (the check asks for 50-90 %); 13 % at 2 or "
                "3 ms."},
    {"id": "compression", "title": "3. Compression: 4-bit weights and pruning",
     "text": "Show each digit for 100 ms again. The Evaluation tab compresses the network "
             "(weights quantised to a few bits, the smallest synapses pruned, neurons that "
             "never fire removed) and plots accuracy against model size and energy: the "
             "Pareto front. The check compresses your network with 4-bit weights, half of "
             "the synapses pruned and idle neurons removed, and classifies your digits "
             "with both networks.",
     "question": "Which setting of the Pareto front would you ship on a chip with 4 kB of "
                 "weight memory?",
     "check": {"observation": "compression_keeps_accuracy", "run": False,
               "params": {"weight_bits": 4, "prune": 0.5, "prune_idle": True,
                          "min_accuracy": 0.9, "max_drop": 0.03}},
     "solution": [{"node": "input", "param": "present_ms", "value": 100.0}],
     "figures": "Reference: 98.0 % -> 96.5 % with the model shrinking from 30,120 to 3,514 "
                "bytes (the check asks for at least 90 % and at most 3 points lost); with "
                "5 ms presentations 74.5 % -> 42.0 %."},
    {
        "id": "energy-vs-ann", "title": "4. Energy against the dense ANN",
        "text": "Per digit, how does the SNN's energy compare with the same network run as a dense "
                "ANN? Counted the way papers often do (every synaptic event one accumulate, E_AC, "
                "against one multiply-accumulate, E_MAC, per ANN weight), the SNN is cheaper only "
                "when a digit takes few spikes. Shorten the presentations (`present_ms` of "
                "*input*, and the run's duration to match: 200 digits) until the "
                "literature-style ratio is 0.6 or less while at least 90 % of the digits are "
                "still classified correctly. "
                "The check also prints the memory-inclusive ratio (the whole dynamic energy of "
                "Loihi against MACs with their memory traffic on a 45 nm processor).",
        "question": "Why does the memory-inclusive comparison still favour the ANN when the "
                    "literature-style one favours the SNN?",
        "check": {"observation": "snn_vs_ann_energy",
                  "params": {"output": "output", "snn_profile": "loihi",
                             "ann_profile": "cmos45_fp32", "max_ratio": 0.6,
                             "min_accuracy": 0.9}},
        "solution": [{"node": "input", "param": "present_ms", "value": 10.0},
                     {"simulation": "duration_ms", "value": 2000.0}],
        "figures": "Reference at 10 ms per digit (2 s): 96.0 %, literature-style ratio 0.49, "
                   "memory-inclusive 4.9. At 100 ms: ratio 5.5 (53.9 memory-inclusive); at 15 ms "
                   "0.77; at 5 ms 0.21 but 74.5 % correct."},
]


def main() -> None:
    from engine.convert.onnx_import import import_file, read_onnx
    from engine.evaluation.classify import evaluate, readout, with_dataset
    from engine.evaluation.datasets import digits_split
    from engine.project import save_project
    from engine.simulator import simulate

    dense_onnx(train(), ONNX_PATH, name="digits_mlp")
    _, test = digits_split()
    ann = read_onnx(ONNX_PATH).predict(test.x)
    t0 = time.perf_counter()
    project = import_file(ONNX_PATH, dataset="digits", present_ms=PRESENT_MS, samples=200,
                          name="Digits MLP (converted)")
    print(f"conversion: {time.perf_counter() - t0:.2f} s")
    full = with_dataset(project, test)
    result = simulate(full)
    out = readout(result, full, "output")
    report = evaluate(result, full, out)
    lab = LAB.format(present=PRESENT_MS, when="measured by make_digits_mlp.py",
                     ann=float(np.mean(ann == test.y)), snn=report["accuracy"],
                     agree=float(np.mean(ann == out.predictions)),
                     spikes=report["spikes_per_inference"],
                     events=report["synaptic_events_per_inference"],
                     duration=result.duration_ms / 1000)
    doc = project.to_dict()
    from engine.labs.authoring import lab_from_notes
    doc["lab"] = lab_from_notes(lab, "digits", STEPS)
    from engine.project import Project
    save_project(Project.from_dict(doc), PROJECT_PATH)
    print(lab)


if __name__ == "__main__":
    main()
