"""The federated-learning lab: FedAvg of synaptic changes (engine.labs.federated), and every step's
check on the reference solution and on a wrong run (the starting project, teacher off)."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest

import sample_projects
from engine.labs.federated import (
    Client,
    FederatedSetup,
    client_document,
    client_split,
    fedavg,
    train_round,
)
from engine.labs.observation import OBSERVATIONS
from engine.project import Project
from sample_projects.lab_solutions import check_step, project_of, solved_documents

LAB = sample_projects.directory() / "federated_digits.json"


def _document() -> dict:
    return json.loads(LAB.read_text(encoding="utf-8"))


def _setup(document: dict) -> FederatedSetup:
    return FederatedSetup(document, "digits", "out", "learn", column_total=100.0,
                          teacher="teacher")


def test_fedavg_adds_the_sample_weighted_mean_change():
    w = np.ones((2, 2))
    out = fedavg(w, [np.full((2, 2), 1.0), np.full((2, 2), 4.0)], [30, 10])
    assert out == pytest.approx(np.full((2, 2), 1.0 + (30 * 1 + 10 * 4) / 40))


def test_clients_get_their_class_mixes_and_nothing_is_shared():
    x = np.arange(300, dtype=float)[:, None].repeat(2, axis=1)
    y = np.arange(300) % 3
    clients, labelling, test = client_split(x, y, [[0], [1, 2]], 5, 20, 30, seed=1)
    assert set(clients[0].labels) == {0} and set(clients[1].labels) == {1, 2}
    assert len(clients[1].labels) == 10
    ids = [c.samples[:, 0] for c in (*clients, labelling, test)]
    flat = np.concatenate(ids)
    assert len(np.unique(flat)) == len(flat)  # no digit in two places
    with pytest.raises(ValueError, match="clients\\[0\\]"):
        client_split(x, y, [[0]], 500, 20, 30)


def test_a_scored_network_has_no_teacher_and_no_learning():
    setup = _setup(_document())
    w = setup.initial_weights(0)
    x = np.full((3, 64), 0.5)
    doc = client_document(setup, w, x, np.array([0, 1, 2]), plastic=False, seed=0)
    assert "teacher" not in {n["id"] for n in doc["network"]["nodes"]}
    learn = next(p for p in doc["network"]["projections"] if p["id"] == "learn")
    assert learn["plasticity"] is None
    assert np.asarray(learn["connectivity"]["weights"]) == pytest.approx(w)
    Project.from_dict(doc)
    taught = client_document(setup, w, x, np.array([0, 1, 2]), plastic=True, seed=0)
    teacher = next(n for n in taught["network"]["nodes"] if n["id"] == "teacher")
    assert teacher["params"]["samples"][1] == [-1, 1] + [-1] * 8


def test_a_client_sends_back_a_weight_change_only():
    document = copy.deepcopy(_document())
    for e in document["network"]["projections"]:
        if e["id"] == "teach":
            e["weight"] = 40.0
    setup = _setup(document)
    w = setup.initial_weights(0)
    data = Client(np.full((4, 64), 0.6), np.array([1, 1, 1, 1]))
    delta, = train_round(setup, [w], [data], None, seed=0)
    assert delta.shape == w.shape
    # the taught neuron's active inputs grew more than any other neuron's
    assert delta[:, 1].sum() > np.delete(delta, 1, axis=1).sum(axis=0).max()


def test_the_lab_file_loads_and_names_registered_checks():
    document = _document()
    project_of(document)
    for step in document["lab"]["steps"]:
        assert step["check"]["observation"] in OBSERVATIONS
        assert step["figures"]


@pytest.mark.slow
def test_every_step_holds_on_its_reference_solution_and_fails_on_the_start():
    document = _document()
    before = copy.deepcopy(document)
    for step, solved in solved_documents(document):
        obs, _ = check_step(solved, step)
        assert obs.holds, (step["id"], obs.message)
        wrong, _ = check_step(before if step["solution"] else document, step)
        assert not wrong.holds, (step["id"], wrong.message)
        assert wrong.hint and wrong.measured
        before = solved


def _taught_project(tmp_path) -> str:
    document = _document()
    document.pop("lab")
    for e in document["network"]["projections"]:
        if e["id"] == "teach":
            e["weight"] = 40.0
    path = tmp_path / "fed.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return str(path)


@pytest.mark.slow
def test_cli_trains_the_clients_on_the_worker_pool_and_prints_the_scores(tmp_path, capsys):
    from engine.cli import main

    code = main(["federated", _taught_project(tmp_path), "--clients", "0,1;2,3",
                 "--per-class", "5", "--rounds", "1", "--labelling", "40", "--test", "40",
                 "--teacher", "teacher", "--column-total", "100", "--workers", "1"])
    assert code == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert len(out["isolated"]) == 2 and out["test_digits"] == 40
    assert all(0.0 <= v <= 1.0 for v in (out["central"], out["federated"], *out["isolated"]))


def test_cli_names_the_bad_option(tmp_path, capsys):
    from engine.cli import main

    path = _taught_project(tmp_path)
    assert main(["federated", path, "--clients", "0,a"]) == 2
    assert "--clients" in capsys.readouterr().err
    assert main(["federated", path, "--learn", "nowhere"]) == 2
    assert "--learn: the project has no projection 'nowhere'" in capsys.readouterr().err
    assert main(["federated", path, "--per-class", "500"]) == 2
    assert "--per-class" in capsys.readouterr().err
