"""Project files from a hostile student never crash anything (issue 8).

The corpus in tests/data/hostile/ (regenerate with ``python tests/data/hostile/generate.py``)
holds ~200 small hostile files; the big ones (megabytes, a 1.3M-node network, deep nesting)
are built at test time. Each must either load or raise ProjectError naming a field path: no
other exception, no traceback from the CLI, bounded time and memory, and whatever loads must
save again (``json.dumps(..., allow_nan=False)``).
"""

from __future__ import annotations

import copy
import json
import math
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import cli
from engine.errors import ProjectError
from engine.project import (
    Project,
    dumps_project,
    load_project,
    loads_project,
    validate_document,
)
from engine.validation import MAX_DEPTH
from tests.data.hostile import generate

CORPUS = Path(__file__).parent / "data" / "hostile"
EXPECTED: dict[str, dict] = json.loads((CORPUS / "expected.json").read_text())
ROOT = Path(__file__).resolve().parent.parent


def _load(data: bytes) -> tuple[Project | None, ProjectError | None]:
    """Load, allowing only success or ProjectError (anything else fails the test)."""
    try:
        return loads_project(data), None
    except ProjectError as exc:
        return None, exc


def _check_outcome(name: str, data: bytes, outcome: str, path: str | None) -> None:
    project, error = _load(data)
    if outcome == "error":
        assert error is not None, f"{name}: loaded but must be refused"
    if outcome == "ok":
        assert error is None, f"{name}: refused: {error}"
    if error is not None:
        assert error.problems, name
        for problem in error.problems:
            assert problem.message.strip(), name
            assert "Traceback" not in str(problem), name
            assert len(str(problem)) < 1000, f"{name}: a huge message: {str(problem)[:200]}"
            assert "\n" not in str(problem), f"{name}: a message over lines: {problem}"
        if path:
            paths = [p.path for p in error.problems]
            assert any(p.startswith(path) for p in paths), f"{name}: {path!r} not in {paths}"
    else:
        # What validation accepts must save and load again unchanged.
        text = json.dumps(project.to_dict(), allow_nan=False)
        assert loads_project(text).to_dict() == project.to_dict()
        assert loads_project(dumps_project(project)).to_dict() == project.to_dict()


def test_corpus_is_complete():
    files = sorted(p.name for p in CORPUS.iterdir() if p.suffix in (".json", ".bin")
                   and p.name != "expected.json")
    assert sorted(EXPECTED) == files
    assert len(files) >= 100
    assert all(p.stat().st_size < 200_000 for p in CORPUS.iterdir())
    # The committed files are what the generator writes.
    small = generate.small_cases()
    assert sorted(small) == files
    for name, (content, _, _) in small.items():
        assert generate.to_bytes(content) == (CORPUS / name).read_bytes(), name


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_hostile_file_loads_or_names_the_problem(name):
    expected = EXPECTED[name]
    _check_outcome(name, (CORPUS / name).read_bytes(), expected["outcome"], expected["path"])


def test_documents_that_skip_the_parser_are_validated_safely():
    """The workbench validates documents it holds in memory (autosaves, edits): parsed by
    plain ``json.loads`` (NaN and 1e309 become floats), they still only yield problems."""
    checked = 0
    for name in sorted(EXPECTED):
        try:
            doc = json.loads((CORPUS / name).read_bytes())
        except (ValueError, RecursionError):
            continue
        checked += 1
        problems = validate_document(doc)
        try:
            project = Project.from_dict(doc)
        except ProjectError as exc:
            assert exc.problems, name
        else:
            assert not problems, name
            json.dumps(project.to_dict(), allow_nan=False)
    assert checked > 150


def test_cli_validate_never_shows_a_traceback(capsys):
    """``spikestudio validate FILE`` exits 0 or 2 with a plain message for every file."""
    for name in sorted(EXPECTED):
        rc = cli.main(["validate", str(CORPUS / name)])
        out, err = capsys.readouterr()
        assert rc in (0, 2), (name, rc, err)
        assert "Traceback" not in err + out, name
        if EXPECTED[name]["outcome"] == "error":
            assert rc == 2 and err.startswith("error: "), (name, err)
        if EXPECTED[name]["outcome"] == "ok":
            assert rc == 0 and "valid" in out, (name, err)


@pytest.mark.parametrize("name", sorted(generate.BIG_CASES))
def test_big_hostile_file_is_refused_quickly_with_little_memory(name):
    build, outcome, path = generate.BIG_CASES[name]
    data = generate.to_bytes(build())
    start = time.perf_counter()
    _check_outcome(name, data, outcome, path)
    elapsed = time.perf_counter() - start
    assert elapsed < 1.0, f"{name}: {elapsed:.2f} s"
    tracemalloc.start()
    try:
        _load(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # At most a few copies of the text itself (decoding), never the parsed millions of objects.
    assert peak < 3 * len(data) + 64 * 2**20, f"{name}: peak {peak / 2**20:.0f} MB"


def test_the_issue_cases_name_their_field():
    def problems(name):
        with pytest.raises(ProjectError) as info:
            load_project(CORPUS / name)
        return {p.path: p.message for p in info.value.problems}

    found = problems("issue_viewport_inf.json")
    assert "overflows to infinity" in found["layout.viewport.x"]
    found = problems("issue_normal_std_1e308.json")
    assert "at most 1e+06 mV" in found["network.projections[0].weight.std"]
    for name in ("issue_nesting_490.json", "issue_nesting_999.json",
                 "issue_nesting_objects_700.json"):
        assert any("nested too deeply" in m for m in problems(name).values()), name


def test_a_value_validation_accepted_never_breaks_a_save():
    """The workbench's document (not parsed from text) with inf/nan/huge values anywhere."""
    places = {"layout.viewport.x": ["layout", "viewport", "x"],
              "layout.positions.pop": ["layout", "positions", "pop", 0],
              "lab": ["lab"],
              "network.nodes[1].params.tau_m": ["network", "nodes", 1, "params", "tau_m"],
              "simulation.duration_ms": ["simulation", "duration_ms"]}
    for bad in (math.inf, -math.inf, math.nan, 1e300, 10**400):
        for path, place in places.items():
            doc = copy.deepcopy(generate.BASE)
            target = doc
            for key in place[:-1]:
                target = target[key]
            target[place[-1]] = bad
            problems = validate_document(doc)
            assert any(p.path.startswith(path) for p in problems), (bad, path, problems)
            with pytest.raises(ProjectError):
                Project.from_dict(doc)


@pytest.mark.parametrize("bad", [10**400, math.inf, math.nan, 10**20])
def test_energy_and_scenarios_in_memory_with_absurd_numbers(bad):
    """engine.energy.model / engine.evaluation.scenario_fit never see numbers that overflow a
    float."""
    profile = {"name": "Mine", "kind": "digital", "synaptic_op": {"value": bad}}
    doc = copy.deepcopy(generate.BASE)
    doc["energy"] = {"profiles": {"mine": profile}}
    doc["scenarios"] = [{"id": "s", "name": "S", "duration_ms": bad,
                         "input": {"rate_hz": bad}}]
    paths = [p.path for p in validate_document(doc)]
    assert any(p.startswith("energy.profiles.mine.synaptic_op") for p in paths), paths
    assert "scenarios[0].duration_ms" in paths and "scenarios[0].input.rate_hz" in paths
    with pytest.raises(ProjectError):
        Project.from_dict(doc)


def test_deep_document_in_memory_is_refused_without_recursion():
    """A session document (no JSON parsing) nested 5000 deep: a problem, no RecursionError."""
    deep: object = 1
    for _ in range(5000):
        deep = [deep]
    doc = copy.deepcopy(generate.BASE)
    doc["layout"]["viewport"] = deep
    problems = validate_document(doc)
    assert [p.path for p in problems] == ["layout.viewport" + "[0]" * (MAX_DEPTH - 2)]
    with pytest.raises(ProjectError, match="nested too deeply"):
        Project.from_dict(doc)


_json_leaf = st.one_of(
    st.none(), st.booleans(), st.text(max_size=20),
    st.integers(min_value=-(10**30), max_value=10**30), st.sampled_from([10**400, -(10**309)]),
    st.floats(allow_nan=True, allow_infinity=True))
_json_value = st.recursive(
    _json_leaf, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                        st.dictionaries(st.text(max_size=8), inner,
                                                        max_size=4)),
    max_leaves=12)
_PLACES = (
    ("layout", "viewport"), ("layout", "viewport", "k"), ("layout", "positions", "pop"),
    ("simulation", "duration_ms"), ("simulation", "dt_ms"), ("simulation", "seed"),
    ("network", "nodes", 0, "params", "rate_hz"), ("network", "nodes", 1, "params"),
    ("network", "nodes", 1, "size"), ("network", "nodes", 2, "params", "neurons"),
    ("network", "projections", 0, "weight"), ("network", "projections", 0, "delay_ms"),
    ("network", "projections", 0, "connectivity"), ("network", "projections", 0, "plasticity"),
    ("network", "projections", 0, "record_weights"), ("energy",), ("scenarios",), ("lab",),
    ("name",),
)


@pytest.mark.slow  # the longest of make test-fast; make test runs it
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(place=st.sampled_from(_PLACES), value=_json_value)
def test_validated_documents_always_serialise(place, value):
    doc = copy.deepcopy(generate.BASE)
    target = doc
    for key in place[:-1]:
        target = target[key]
    target[place[-1]] = value
    try:
        problems = validate_document(doc)
    except ProjectError:  # engine.evaluation.scenario_fit / engine.energy.model may raise their own
        return
    if not problems:
        project = Project.from_dict(doc)
        json.dumps(doc, allow_nan=False)
        json.dumps(project.to_dict(), allow_nan=False)


@pytest.mark.parametrize("name", ["issue_viewport_inf.json", "issue_nesting_999.json",
                                  "issue_normal_std_1e308.json", "not_utf8.bin"])
def test_cli_subprocess_exits_2_without_traceback(name):
    proc = subprocess.run([sys.executable, "-m", "engine.cli", "validate", str(CORPUS / name)],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("error: ") and "Traceback" not in proc.stderr


def test_cli_subprocess_refuses_a_1_3M_node_file_quickly(tmp_path):
    path = tmp_path / "huge.json"
    path.write_bytes(generate.to_bytes(generate.BIG_CASES["big_1_3M_nodes.json"][0]()))
    code = ("import sys, time; from engine import cli; t = time.perf_counter(); "
            "rc = cli.main(['validate', sys.argv[1]]); "
            "print(f'{time.perf_counter() - t:.3f}', file=sys.stderr); sys.exit(rc)")
    proc = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True,
                          text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert "larger than 20 MB" in proc.stderr
    assert float(proc.stderr.strip().splitlines()[-1]) < 1.0
