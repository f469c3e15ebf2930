"""The Evaluation tab's Compression section (issue 12, item 5): its sweep, tables and Pareto
plot, and "Open compressed project", without a browser."""

from __future__ import annotations

import json

import pytest

from engine.compression import CompressionPoint, CompressionSettings
from engine.errors import SpikeStudioError
from engine.project import load_project
from tests.test_evaluation_tab import in_process  # noqa: F401 - the runs-in-process fixture
from widgets.evaluation_plots import ParetoPlot
from workbench import evaluation_tab
from workbench.compression_data import (
    MAX_SETTINGS,
    parse_bits,
    parse_fractions,
    points_frame,
    sweep_settings,
)
from workbench.view_protocol import ViewContext

DIGITS = "sample_projects/digits_mlp.json"


def test_sweep_inputs_parse_and_combine():
    assert parse_bits("8, 4 4;2") == [8, 4, 2] and parse_bits("") == []
    assert parse_fractions("0.5, 80%") == [0.5, 0.8]
    settings = sweep_settings([4], [0.5], idle=True)
    assert len(settings) == 2 * 2 * 2 - 1  # the baseline is measured anyway
    assert CompressionSettings() not in settings
    assert CompressionSettings(weight_bits=4, prune=0.5, prune_idle=True) in settings
    assert sweep_settings([], [], idle=True) == [CompressionSettings(prune_idle=True)]


@pytest.mark.parametrize("call, words", [
    (lambda: parse_bits("4, nine"), "weight bits: 'nine' is not a whole number"),
    (lambda: parse_bits("12"), r"weight bits: 12 is not in 2\.\.8"),
    (lambda: parse_fractions("1.5"), r"prune fractions: 1.5 is not in \(0, 1\)"),
    (lambda: parse_fractions("half"), "prune fractions: 'half' is not a number"),
    (lambda: sweep_settings([], [], idle=False), "give weight bits, prune fractions"),
    (lambda: sweep_settings([2, 3, 4, 5, 6, 7, 8], [0.1, 0.2, 0.3], idle=False),
     f"at most {MAX_SETTINGS}"),
])
def test_bad_sweep_inputs_name_the_field(call, words):
    with pytest.raises(SpikeStudioError, match=words):
        call()


def _point(label_bits, accuracy, energy, size) -> CompressionPoint:
    return CompressionPoint(settings=CompressionSettings(weight_bits=label_bits),
                            accuracy=accuracy, synaptic_events_per_inference=10.0,
                            energy_per_inference_j={"loihi": energy, "truenorth": 2 * energy},
                            size_bytes=size, neurons=5, synapses=7)


def test_points_table_marks_the_front_and_the_baseline():
    points = [_point(None, 0.9, 4e-6, 1000), _point(8, 0.9, 3e-6, 300),
              _point(4, 0.8, 3.5e-6, 200), _point(2, 0.5, 1e-6, 100)]
    frame = points_frame(points, "loihi")
    assert frame["baseline"].tolist() == [True, False, False, False]
    # 4-bit is beaten by 8-bit (more accurate and cheaper); the baseline by 8-bit too.
    assert frame["on_front"].tolist() == [False, True, False, True]
    assert frame["energy_text"][0] == "4 µJ" and frame["size_text"][3] == "100 bytes"
    assert points_frame(points, "truenorth")["energy_j"][0] == 8e-6
    plot = ParetoPlot(points=frame, profile_name="Loihi", selected=1)
    source = next(r.data_source for r in plot.figure.renderers
                  if "label" in r.data_source.data)
    assert list(source.data["accuracy"]) == [90.0, 90.0, 80.0, 50.0]
    assert source.data["diameter"][0] > source.data["diameter"][3]  # bigger model, bigger dot
    assert source.selected.indices == [1]
    source.selected.indices = [2]  # a tap in the browser
    assert plot.selected == 2
    assert "Loihi" in plot.figure.xaxis[0].axis_label


def _section():
    project = load_project(DIGITS)
    with open(DIGITS) as f:
        document = json.load(f)
    opened = []
    tab = evaluation_tab.EvaluationTab(ViewContext(
        get_project=lambda: project, open_project=lambda p, name: opened.append((p, name))))
    tab.set_project(document)
    return tab, tab.compression, opened


def _wait(section) -> None:
    section.job._thread.join(timeout=300)
    section.job._poll()


def test_a_two_point_sweep_shows_before_and_after_and_opens_the_point(in_process):  # noqa: F811
    tab, section, opened = _section()
    tab.samples.value = 12
    section.bits.value, section.prune.value, section.idle.value = "4", "", False
    assert section.profile.value == "loihi"
    section.start()
    _wait(section)
    assert 'data-state="completed"' in section.status.object, section.status.object
    assert len(section.points) == 2 and section.results.visible
    assert section.choice.value == 1 and not section.open_button.disabled
    table = section.before_after.object
    assert "before (uncompressed)" in table and "after (4-bit)" in table
    assert section.points[1].size_bytes < section.points[0].size_bytes
    assert f"{section.points[1].size_bytes:,} bytes" in table
    assert section.pareto.figure is not None
    assert 'data-testid="compression-table"' in section.table.object
    section.profile.value = "truenorth"
    assert "energy per inference (truenorth)" in section.before_after.object
    section.open_selected()
    _wait(section)
    project, name = opened[-1]
    assert name == project.name == "Digits MLP (converted) (4-bit)"
    assert section.points[1].settings.weight_bits == 4
    tab.clear()
    assert not section.results.visible and not section.points


def test_bad_sweep_input_is_reported_before_anything_runs(in_process):  # noqa: F811
    _, section, _ = _section()
    section.bits.value = "4, 99"
    section.start()
    assert 'data-state="error"' in section.status.object and "99" in section.status.object
    assert section.job._thread is None


def test_every_simulation_of_a_sweep_goes_through_the_injected_runner():
    from engine.compression import evaluate_settings
    from engine.evaluation.datasets import load_dataset
    from engine.simulator import simulate

    calls = []

    def pool(project, cancel=None, progress=None):
        calls.append(project.simulation.duration_ms)
        return simulate(project, cancel=cancel, progress=progress)

    points = evaluate_settings(load_project(DIGITS), [CompressionSettings(prune_idle=True)],
                               load_dataset("digits"), samples=4, simulate=pool)
    # baseline test run; idle pruning: calibration before and after, then its test run
    assert len(points) == 2 and len(calls) == 4


def test_a_run_refused_while_queued_after_cancel_ends_the_sweep_quietly():
    import threading

    from engine.compression import evaluate_settings
    from engine.evaluation.datasets import load_dataset

    cancel = threading.Event()

    def refusing(project, cancel=None, progress=None):
        cancel.set()  # Stop pressed while the run waited for a worker
        raise SpikeStudioError("Run cancelled before it started.")

    points = evaluate_settings(load_project(DIGITS), [CompressionSettings(weight_bits=4)],
                               load_dataset("digits"), samples=4, simulate=refusing,
                               cancel=cancel)
    assert points == []
