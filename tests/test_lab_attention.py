"""The attention-gating lab: the DVS encoder, and every step's check on the reference solution
and on a wrong run (the project as it stood before the step's solution)."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest

import sample_projects
from engine.encoders import ENCODER_MODELS, dvs
from engine.energy.model import load_profiles
from engine.errors import ProjectError
from engine.labs.observation import OBSERVATIONS
from engine.project import Project
from sample_projects.lab_solutions import check_step, project_of, solved_documents

LAB = sample_projects.directory() / "attention_gating.json"


def _document() -> dict:
    return json.loads(LAB.read_text(encoding="utf-8"))


def _camera(**params) -> dict:
    return ENCODER_MODELS["dvs"].resolve(params)


def test_a_still_scene_without_noise_is_silent():
    k, n = dvs._dvs_events(_camera(speed_px_per_s=0.0, noise_hz=0.0), 1.0, 1, 500)
    assert len(k) == 0


def test_a_bright_square_arriving_makes_on_events_and_leaving_off_events():
    values = _camera(noise_hz=0.0, speed_px_per_s=40.0, direction_deg=0.0, start_x=0.0,
                     start_y=0.0, threshold=0.2)
    k, n = dvs._dvs_events(values, 1.0, 1, 100)
    assert len(k) > 0
    x = (n // 2) % values["width"]
    on, off = n % 2 == 0, n % 2 == 1
    # the square moves right: ON at its leading (right) edge, OFF at its trailing edge
    assert x[on].mean() > x[off].mean()


def test_events_are_seeded_and_bounded():
    values = _camera(noise_hz=5.0)
    a = dvs._dvs_events(values, 1.0, 7, 1000)
    b = dvs._dvs_events(values, 1.0, 7, 1000)
    c = dvs._dvs_events(values, 1.0, 8, 1000)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not (len(a[0]) == len(c[0]) and np.array_equal(a[1], c[1]))
    bounds = dvs.bounds(dvs.fixed_size(values), values, 1.0, 1000)
    assert len(a[0]) <= bounds.total
    assert np.bincount(a[0]).max() <= bounds.per_step


def test_the_square_bounces_inside_the_image():
    values = _camera(start_x=0.0, start_y=0.0, direction_deg=0.0, speed_px_per_s=24.0)
    x, y = dvs.object_track(values, np.array([0.0, 250.0, 500.0, 750.0, 1000.0]))
    assert x == pytest.approx([0.0, 6.0, 12.0, 6.0, 0.0])  # room = 16 - 4 = 12 px
    assert y == pytest.approx(np.zeros(5))
    region = dvs.pixel_regions(values, 2, 2)
    assert region.shape == (2 * 16 * 16,)
    assert region[2 * (0 * 16 + 15)] == 1 and region[2 * (15 * 16 + 0) + 1] == 2
    assert list(dvs.object_region(values, np.array([0.0, 500.0]), 2, 2)) == [0, 1]


def test_a_square_too_big_is_a_message_on_the_field():
    doc = _document()
    doc["network"]["nodes"][0]["params"]["object_size"] = 40.0
    with pytest.raises(ProjectError) as err:
        project_of(doc)
    assert "object_size" in str(err.value)


def test_the_speck_profile_prices_synaptic_ops_only_and_its_static_floor():
    speck = load_profiles()["speck_assumed"]
    assert speck.energy("static_power_w") == 0.42e-3
    assert "assumption" in speck.figures["synaptic_op"].flags


def test_the_lab_file_loads_and_names_registered_checks():
    document = _document()
    assert isinstance(project_of(document), Project)
    for step in document["lab"]["steps"]:
        assert step["check"]["observation"] in OBSERVATIONS
        assert step["figures"]


@pytest.mark.slow
def test_every_step_holds_on_its_reference_solution_and_fails_before_it():
    document = _document()
    before = copy.deepcopy(document)
    for step, solved in solved_documents(document):
        obs, _ = check_step(solved, step)
        assert obs.holds, (step["id"], obs.message)
        wrong, _ = check_step(before, step)
        assert not wrong.holds, (step["id"], wrong.message)
        assert wrong.hint and wrong.measured
        before = solved


def test_gating_saves_dynamic_power_from_the_synaptic_ops_of_the_runs():
    """The saving is computed from the two runs' counted synaptic operations, not set."""
    document = _document()
    *_, (step, solved) = solved_documents(document)
    obs, _ = check_step(solved, step)
    m = obs.measured
    assert m["synaptic_ops_gated_per_s"] < m["synaptic_ops_open_per_s"]
    ratio = m["synaptic_ops_gated_per_s"] / m["synaptic_ops_open_per_s"]
    assert m["dynamic_saving"] == pytest.approx(1 - ratio)  # one price per synaptic op
    assert m["power_open_mw"] - m["power_gated_mw"] == pytest.approx(
        (m["dynamic_open_uw"] - m["dynamic_gated_uw"]) * 1e-3)


def test_a_resized_camera_without_params_is_refused_on_its_size():
    """The size of a fixed-size encoder is checked against its defaults too: a camera node
    with no params and another size would emit spikes past its last neuron."""
    doc = _document()
    camera = doc["network"]["nodes"][0]
    camera["params"], camera["size"] = {}, 5
    doc["network"]["projections"] = [p for p in doc["network"]["projections"]
                                     if "camera" not in (p["source"], p["target"])]
    with pytest.raises(ProjectError) as err:
        project_of(doc)
    assert "network.nodes[0].size" in str(err.value) and "must be 512" in str(err.value)


@pytest.mark.parametrize("params", [
    {"speed_px_per_s": 300.0, "noise_hz": 0.0, "object_size": 6.0, "direction_deg": 20.0},
    {"speed_px_per_s": 5.0, "noise_hz": 50.0, "threshold": 0.05},
    {"width": 64, "height": 32, "object_size": 12.0, "speed_px_per_s": 80.0, "sample_ms": 0.5},
])
def test_the_memory_bound_holds_and_is_not_the_worst_case(params):
    values = _camera(**params)
    size = dvs.fixed_size(values)
    k, _ = dvs._dvs_events(values, 1.0, 3, 2000)
    bounds = dvs.bounds(size, values, 1.0, 2000)
    assert len(k) <= bounds.total and np.bincount(k).max() <= bounds.per_step
    assert bounds.total < size * 2000  # far below one event per neuron per step
