"""Labs with steps: the lab format's validation, solutions, the basic checks, the CLI."""

from __future__ import annotations

import copy
import json

import pytest

from engine.errors import ProjectError
from engine.labs import Observation
from engine.labs.authoring import lab_from_notes
from engine.labs.catalogue import find_lab, labs_in
from engine.labs.lab_file import (
    apply_solution,
    check_lab,
    evaluate_step,
    lab_of,
    lab_problems,
    parse_lab,
    solution_project,
)
from engine.project import Project, load_project
from engine.simulator import simulate
from sample_projects import directory
from workbench.cli import main as cli_main

LIF = directory() / "lif_single_neuron.json"


def lif_document() -> dict:
    return json.loads(LIF.read_text())


def problems_of(lab) -> list[str]:
    return [str(p) for p in lab_problems(lab, lif_document())]


# ---------------------------------------------------------------------- format
def test_notes_only_lab_is_still_accepted():
    doc = lif_document()
    doc["lab"] = "# Notes\n\nJust text."
    project = Project.from_dict(doc)
    assert project.lab == "# Notes\n\nJust text."
    assert lab_of(project) is None


def test_lab_object_round_trips_through_the_project():
    project = load_project(LIF)
    lab = lab_of(project)
    assert lab is not None and lab.id == "lif"
    assert [s.id for s in lab.steps][:3] == ["below-threshold", "rheobase", "above-rheobase"]
    again = Project.from_dict(project.to_dict())
    assert again.lab == project.lab


@pytest.mark.parametrize("mutate, expected", [
    (lambda lab: lab["steps"][2]["check"].update(observation="foo"),
     "lab.steps[2].check.observation: no check called 'foo'"),
    (lambda lab: lab["steps"][0]["check"]["params"].pop("population"),
     "lab.steps[0].check.params.population: is required by check 'no_spikes'"),
    (lambda lab: lab["steps"][0]["check"]["params"].update(colour="red"),
     "lab.steps[0].check.params.colour: check 'no_spikes' has no parameter 'colour'"),
    (lambda lab: lab["steps"][1].update(id=lab["steps"][0]["id"]),
     "lab.steps[1].id: 'below-threshold' is already the id of an earlier step"),
    (lambda lab: lab.update(id="Not An Id"),
     "lab.id: must be 1 to 64 characters of a-z, 0-9 and '-'"),
    (lambda lab: lab["steps"][1]["solution"][0].update(node="nowhere"),
     "lab.steps[1].solution[0].node: no node called 'nowhere' in the project"),
    (lambda lab: lab["steps"][1]["solution"].append({"edge": "drive", "node": "input",
                                                     "param": "x", "value": 1}),
     "lab.steps[1].solution[1]: must name exactly one of node, edge or simulation"),
    (lambda lab: lab["steps"][3]["solution"][0].update(simulation="colour"),
     "lab.steps[3].solution[0].simulation: must be one of"),
    (lambda lab: lab["steps"][0].pop("text"), "lab.steps[0].text: is required"),
    (lambda lab: lab["steps"][0].update(title="two\nlines"), "lab.steps[0].title: must be one"),
    (lambda lab: lab["steps"][0]["check"].update(run="yes"),
     "lab.steps[0].check.run: must be true or false"),
    (lambda lab: lab.update(steps=[]), "lab.steps: must be a non-empty list of steps"),
    (lambda lab: lab.update(extra=1), "lab.extra: unknown key"),
])
def test_problems_name_the_field(mutate, expected):
    lab = lif_document()["lab"]
    mutate(lab)
    found = problems_of(lab)
    assert any(p.startswith(expected) for p in found), found


def test_a_bad_lab_makes_the_project_invalid_with_its_path():
    doc = lif_document()
    doc["lab"]["steps"][2]["check"]["observation"] = "foo"
    with pytest.raises(ProjectError) as err:
        Project.from_dict(doc)
    assert "lab.steps[2].check.observation: no check called 'foo'" in str(err.value)


def test_parse_lab_raises_with_every_problem():
    lab = lif_document()["lab"]
    lab["steps"][0]["check"]["observation"] = "foo"
    lab["steps"][1]["title"] = 3
    with pytest.raises(ProjectError) as err:
        parse_lab(lab)
    paths = {p.path for p in err.value.problems}
    assert {"lab.steps[0].check.observation", "lab.steps[1].title"} <= paths


def test_solutions_apply_cumulatively_through_the_project_api():
    project = load_project(LIF)
    lab = lab_of(project)
    after = solution_project(project, lab, 3)  # rheobase, 15 mV, 2000 ms
    assert after.network.node("input").params["amplitude"] == 15.0
    assert after.simulation.duration_ms == 2000.0
    assert project.network.node("input").params["amplitude"] == 2.0  # unchanged


def test_a_solution_with_a_bad_value_is_refused_naming_the_field():
    project = load_project(LIF)
    from engine.labs.lab_file import Edit
    with pytest.raises(ProjectError) as err:
        apply_solution(project, [Edit("node", "neuron", "tau_m", -5.0)])
    assert "tau_m" in str(err.value)


def test_authoring_keeps_every_section():
    notes = "# T\n\nIntro.\n\n## A\nText a.\n\n## B\nText b.\n"
    check = {"observation": "no_spikes", "params": {"population": "x"}}
    lab = lab_from_notes(notes, "t", [{"id": "a", "sections": ["A", "B"], "check": check}])
    assert lab["title"] == "T" and lab["intro"] == "Intro."
    assert lab["steps"][0]["text"] == "Text a.\n\n### B\nText b."
    with pytest.raises(ValueError, match="unused \\['B'\\]"):
        lab_from_notes(notes, "t", [{"id": "a", "sections": ["A"], "check": check}])


def test_a_check_that_cannot_be_evaluated_says_so_as_text():
    project = load_project(LIF)
    step = lab_of(project).steps[0]
    no_run = evaluate_step(step, project, None)
    assert not no_run.holds and "Run the project" in no_run.hint
    renamed = apply_solution(project, [])
    doc = renamed.to_dict()
    doc["network"]["nodes"][1]["id"] = "cell"
    doc["network"]["projections"][0]["target"] = "cell"
    doc["network"]["nodes"][2]["target"] = "cell"
    doc["lab"] = "notes"
    moved = Project.from_dict(doc)
    outcome = evaluate_step(step, moved, simulate(moved))
    assert not outcome.holds and "'neuron'" in outcome.message


# ---------------------------------------------------------------------- checks
#: For each step of the sample labs: edits that make a wrong run (applied instead of the
#: step's solution, after the previous steps' solutions). The check must fail on it.
WRONG = {
    ("lif", "below-threshold"): [("node", "input", "amplitude", 15.0)],
    ("lif", "rheobase"): [],                                  # still 2 mV: silent
    ("lif", "above-rheobase"): [],                            # still 10.5 mV: 25 Hz
    ("lif", "fi-curve"): [],                                  # 200 ms runs: 11 % off
    ("lif", "refractoriness"): [("node", "input", "amplitude", 40.0)],
    ("cuba", "asynchronous-irregular"): [("edge", "inh_to_exc", "weight", -4.5)],
    ("cuba", "break-balance"): [],
    ("energy", "sparse-idle"): [("node", "events", "rate_hz", 150.0)],
    ("energy", "dense-events"): [],
    ("digits", "accuracy"): [("node", "input", "present_ms", 3.0)],
    ("digits", "short-presentations"): [],
    ("digits", "compression"): [],                            # still 5 ms per digit
    ("digits", "energy-vs-ann"): [],                          # 100 ms per digit: costly
    ("song-abbott", "bimodal"): [("edge", "ff", "plasticity.bounds", "multiplicative")],
    ("song-abbott", "rate-settles"): [("simulation", "", "duration_ms", 2000.0)],
    ("song-abbott", "soft-bounds"): [],
    ("stdp-pattern", "detect"): [("simulation", "", "duration_ms", 20000.0)],
}
SLOW_LABS = {"song-abbott", "stdp-pattern", "cuba", "digits"}


def _cases():
    for (lab_id, step_id) in WRONG:
        marks = [pytest.mark.slow] if lab_id in SLOW_LABS else []
        yield pytest.param(lab_id, step_id, marks=marks, id=f"{lab_id}-{step_id}")


@pytest.mark.parametrize("lab_id, step_id", list(_cases()))
def test_each_check_holds_on_the_reference_and_fails_on_a_wrong_run(lab_id, step_id):
    from engine.labs.lab_file import Edit

    entry = find_lab(lab_id)
    lab = entry.lab
    index = [s.id for s in lab.steps].index(step_id)
    step = lab.steps[index]
    before = entry.project()
    if index:
        before = solution_project(before, lab, index - 1)
    reference = apply_solution(before, step.solution)
    wrong = apply_solution(before, [Edit(*e) for e in WRONG[(lab_id, step_id)]])
    outcomes = []
    for project in (reference, wrong):
        result = simulate(project) if step.check.run else None
        outcomes.append(evaluate_step(step, project, result))
    good, bad = outcomes
    assert good.holds, good.message
    assert not bad.holds, bad.message
    assert bad.hint and bad.message and bad.measured


def test_every_step_of_the_converted_samples_has_a_wrong_run_in_this_test():
    # The labs converted from the original samples; the new labs test their own checks.
    converted = {lab for lab, _ in WRONG}
    steps = {(e.lab.id, s.id) for e in labs_in() if e.lab.id in converted
             for s in e.lab.steps}
    assert converted == {"lif", "cuba", "energy", "digits", "song-abbott", "stdp-pattern"}
    assert steps == set(WRONG)


def test_lab_check_yields_one_outcome_per_step_on_the_reference():
    outcomes = list(check_lab(load_project(LIF)))
    assert [o.step for o in outcomes] == [s.id for s in lab_of(load_project(LIF)).steps]
    assert all(isinstance(o.observation, Observation) and o.observation.holds
               for o in outcomes), [o.as_json() for o in outcomes]


# ---------------------------------------------------------------------- CLI
def test_cli_lab_list(capsys):
    assert cli_main(["lab", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    ids = [line.split("\t")[0] for line in lines]
    assert {"lif", "cuba", "song-abbott", "stdp-pattern", "energy", "digits"} <= set(ids)
    assert "lif\tLab 1: a single leaky integrate-and-fire neuron" in lines


def test_cli_lab_check_prints_one_json_line_per_step(capsys):
    assert cli_main(["lab", "check", "lif"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["step"] for line in lines] == [s.id for s in find_lab("lif").lab.steps]
    assert all(line["lab"] == "lif" and line["holds"] is True for line in lines)
    assert lines[2]["measured"]["rate_hz"] == pytest.approx(60.0)


def test_cli_lab_check_exits_1_when_a_step_fails(tmp_path, capsys):
    doc = lif_document()
    lab = copy.deepcopy(doc["lab"])
    lab["id"] = "lif-broken"
    lab["steps"] = lab["steps"][:3]
    lab["steps"][2]["solution"][0]["value"] = 40.0  # far above the 55-70 Hz asked for
    doc["lab"] = lab
    (tmp_path / "broken.json").write_text(json.dumps(doc))
    assert cli_main(["lab", "check", "lif-broken", "--labs", str(tmp_path)]) == 1
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["holds"] for line in lines] == [True, True, False]
    assert "above the expected 55-70 Hz" in lines[2]["message"]


def test_cli_lab_check_unknown_id_is_a_clear_error(capsys):
    assert cli_main(["lab", "check", "nope"]) == 2
    assert "no lab called 'nope' (labs: " in capsys.readouterr().err


@pytest.mark.slow
def test_cli_lab_check_all(capsys):
    """Every lab's reference solutions make every observation hold (labs-a/b's too)."""
    code = cli_main(["lab", "check", "--all"])
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    failed = [line for line in lines if not line["holds"]]
    assert code == 0 and not failed, failed
    assert {line["lab"] for line in lines} == {e.lab.id for e in labs_in()}


# ---------------------------------------------------------------------- docs
def test_docs_list_every_check_with_its_parameters():
    """docs/labs.md holds the generated reference of every registered check."""
    from pathlib import Path

    from engine.labs import OBSERVATIONS
    from engine.labs.reference import BEGIN, END, checks_markdown

    text = (Path(__file__).resolve().parents[1] / "docs" / "labs.md").read_text()
    generated = text.split(BEGIN, 1)[1].split(END, 1)[0].strip()
    assert generated == checks_markdown().strip(), (
        "docs/labs.md is out of date: run python -m engine.labs.reference docs/labs.md")
    for name in OBSERVATIONS:
        assert f"### `{name}`" in generated


def test_a_lif_check_says_it_needs_one_value_of_a_per_neuron_parameter():
    """The analytic LIF checks read one neuron's parameters: a per-neuron tau_m is named
    (not silently replaced by the default)."""
    import re

    from engine.labs.checks_basic import fires_near_rheobase, refractory_bound
    from tests.helpers import document, lif

    project = Project.from_dict(document([lif("pop", 3, tau_m=[10.0, 12.0, 14.0])]))
    expected = ("population 'pop': parameter 'tau_m' has a value per neuron; this check "
                "needs one value for the whole population")
    with pytest.raises(ValueError, match=re.escape(expected)):
        refractory_bound(project, None, population="pop", min_fraction=0.8)
    with pytest.raises(ValueError, match=re.escape(expected)):
        fires_near_rheobase(project, None, population="pop", input="x", margin_mv=1.0)
