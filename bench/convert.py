"""ANN-to-SNN conversion benchmark (issue 12): accuracy vs presentation time, and timings.

The sample MLP (sample_projects/digits_mlp.onnx, 64-100-10, trained by
sample_projects/make_digits_mlp.py) is converted and evaluated on the 1,000 held-out digits
of :func:`engine.evaluation.datasets.digits_split`:

1. **The curve**: SNN accuracy and agreement with the ANN (numpy, same ONNX weights) for
   presentation times of 5-200 ms, for rate input with max and 99.9th-percentile
   normalisation and for current input; the shortest time within 1 point of the ANN. Each
   point is one simulation presenting the 1,000 images in sequence (dt = 1 ms).
2. **1,000 images converted and evaluated**: reading + converting the ONNX file into a
   project presenting all 1,000 images, simulating, reading out and scoring (energy on every
   hardware profile), in this process after one warm-up (numba kernels loaded from the
   cache); minimum and median of 3. Also a fresh process running the two CLI commands.
3. **Conversion of the sample** (``spikestudio convert``'s work: read, calibrate on the 797
   training digits, write the project of 200 images): minimum and median of 5.

Everything runs on one core (numba's kernels are single-threaded; BLAS is limited to one
thread below). Usage::

    .venv/bin/python bench/convert.py [--results bench/RESULTS.md]
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.results_section import update_section  # noqa: E402
from engine.convert.onnx_import import import_file, read_onnx  # noqa: E402
from engine.evaluation.classify import evaluate, readout, with_dataset  # noqa: E402
from engine.evaluation.datasets import digits_split  # noqa: E402
from engine.simulator import simulate  # noqa: E402

ONNX = ROOT / "sample_projects" / "digits_mlp.onnx"
TIMES_MS = (5, 10, 15, 20, 25, 30, 40, 50, 75, 100, 150, 200)
CONFIGS = (("rate", "max"), ("rate", "percentile"), ("current", "max"))
MARK = "## ANN-to-SNN conversion (bench/convert.py)"


def curve(test, ann) -> dict:
    out = {}
    for coding, norm in CONFIGS:
        project = import_file(ONNX, dataset="digits", normalize=norm, input_coding=coding,
                              samples=None)
        rows = []
        for present in TIMES_MS:
            full = with_dataset(project, test, present_ms=present)
            result = simulate(full)
            pred = readout(result, full, "output").predictions
            rows.append((present, float(np.mean(pred == test.y)), float(np.mean(pred == ann))))
            print(f"  {coding:7s} {norm:10s} {present:4d} ms: accuracy {rows[-1][1]:.3f}, "
                  f"agreement {rows[-1][2]:.3f}", flush=True)
        out[(coding, norm)] = rows
    return out


def end_to_end(test, present_ms: float) -> tuple[list[float], dict]:
    times, report = [], {}
    for _ in range(3):
        t0 = time.perf_counter()
        project = import_file(ONNX, dataset="digits", present_ms=present_ms, samples=None)
        result = simulate(project)
        report = evaluate(result, project, readout(result, project, "output"))
        times.append(time.perf_counter() - t0)
    return times, report


def fresh_cli(present_ms: float) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "p.json"
        t0 = time.perf_counter()
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        for argv in (["convert", str(ONNX), "--out", str(project), "--samples", "1000",
                      "--present-ms", str(present_ms)],
                     ["evaluate", str(project)]):
            subprocess.run([sys.executable, "-m", "engine.cli", *argv], check=True, env=env,
                           stdout=subprocess.DEVNULL)
        return time.perf_counter() - t0


def conversion_times() -> list[float]:
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        import_file(ONNX, dataset="digits", samples=200)
        times.append(time.perf_counter() - t0)
    return times


def markdown(ann_acc, curves, e2e, report, fresh, conv, present, load) -> str:
    lines = [MARK, "",
             f"`bench/convert.py`, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
             f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores shared "
             f"with other engineers (1-minute load average at the start: {load:.1f}), one "
             f"core used. Sample MLP 64-100-10 on the 1,000 held-out digits; ANN accuracy "
             f"(numpy, same ONNX weights): **{ann_acc:.1%}**. dt = 1 ms, IF neurons with "
             f"reset by subtraction; readout: most output spikes, ties by membrane.", "",
             "Accuracy of the SNN (agreement with the ANN) vs presentation time per image:", "",
             "| ms per image | " + " | ".join(f"{c} input, {n}" for c, n in CONFIGS) + " |",
             "|---:|" + "---:|" * len(CONFIGS)]
    for i, ms in enumerate(TIMES_MS):
        cells = [f"{curves[k][i][1]:.1%} ({curves[k][i][2]:.1%})" for k in CONFIGS]
        lines.append(f"| {ms} | " + " | ".join(cells) + " |")
    lines += ["", "Shortest presentation within 1 point of the ANN (first reached; and the "
                  "time from which every longer one stays within, as the curve is noisy):"]
    for key in CONFIGS:
        ok = [acc >= ann_acc - 0.01 for _, acc, _ in curves[key]]
        first = TIMES_MS[ok.index(True)] if any(ok) else None
        stays = next((TIMES_MS[i] for i in range(len(ok)) if all(ok[i:])), None)
        lines.append(f"- {key[0]} input, {key[1]} normalisation: "
                     + (f"**{first} ms**, stays within from **{stays} ms**" if first
                        else "not reached up to 200 ms"))
    lines += [
        "", "| measurement | seconds | target | met |", "|---|---:|---:|---|",
        f"| 1,000 images converted + evaluated ({present:g} ms each, rate input; min of 3, "
        f"median {statistics.median(e2e):.2f}) | {min(e2e):.2f} | < 5 | "
        f"{'yes' if min(e2e) < 5 else '**no**'} |",
        f"| the same as two fresh CLI processes (`convert` + `evaluate`, incl. imports and "
        f"the numba cache load) | {fresh:.2f} | | |",
        f"| conversion of the sample (`spikestudio convert`'s work; min of 5, median "
        f"{statistics.median(conv):.2f}) | {min(conv):.2f} | < 2 | "
        f"{'yes' if min(conv) < 2 else '**no**'} |",
        "",
        f"At {present:g} ms: accuracy {report['accuracy']:.1%}, "
        f"{report['spikes_per_inference']:.0f} spikes, "
        f"{report['synaptic_events_per_inference']:.0f} synaptic events per image, decision "
        f"after {report['latency_ms']['mean']:.1f} ms on average; energy per inference "
        + ", ".join(f"{pid} {v['total'] * 1e6:.3g} uJ"
                    for pid, v in report["energy_per_inference_j"].items()) + ".", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", default=None, help="RESULTS.md to update (its section)")
    parser.add_argument("--present-ms", type=float, default=100.0,
                        help="presentation time of the end-to-end measurement")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    _, test = digits_split()
    ann = read_onnx(ONNX).predict(test.x)
    ann_acc = float(np.mean(ann == test.y))
    simulate(with_dataset(import_file(ONNX, samples=5), test, n_samples=5))  # warm-up
    print(f"ANN accuracy {ann_acc:.3f}")
    conv = conversion_times()
    print(f"conversion: {min(conv):.2f} s")
    e2e, report = end_to_end(test, args.present_ms)
    print(f"1,000 images converted + evaluated: {min(e2e):.2f} s")
    fresh = fresh_cli(args.present_ms)
    print(f"fresh CLI convert + evaluate: {fresh:.2f} s")
    curves = curve(test, ann)
    text = markdown(ann_acc, curves, e2e, report, fresh, conv, args.present_ms, load)
    print(text)
    if args.results:
        update_section(Path(args.results), MARK, text)
        print(f"updated {args.results}")


if __name__ == "__main__":
    main()
