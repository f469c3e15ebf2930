"""Parameter sweeps (engine.sweep) on both executors (engine.executor): the fields and values
a sweep accepts, equality with serial runs, cancel, and the faults of issue 20 (a killed
worker, a scheduler that goes away). Clusters are started on 127.0.0.1 only."""

from __future__ import annotations

import copy
import json
import os
import signal
import threading

import pytest

from engine import cli as engine_cli
from engine.executor import make_executor
from engine.executor.dask import DaskExecutor
from engine.executor.local import LocalPoolExecutor
from engine.project import Project
from engine.simulator import simulate
from engine.sweep import SweepSpecError, parse_sets, plan_sweep, rows_frame, run_sweep
from engine.sweep.run import RUN_COLUMNS
from engine.sweep.task import measure
from tests.dask_cluster import Cluster, wait_until
from tests.helpers import document, encoder, lif

pytest.importorskip("distributed")

def small_network(duration_ms: float = 100.0) -> dict:
    """A Poisson-driven excitatory/inhibitory pair: fast, irregular, every metric defined."""
    return document(
        [encoder("drive", "poisson", 40, rate_hz=40.0),
         lif("exc", 40, tau_m=20.0), lif("inh", 10, tau_m=10.0)],
        [{"id": "drive_exc", "source": "drive", "target": "exc", "weight": 4.0,
          "connectivity": {"rule": "fixed_probability", "p": 0.3}},
         {"id": "exc_inh", "source": "exc", "target": "inh", "weight": 3.0,
          "connectivity": {"rule": "fixed_probability", "p": 0.3}},
         {"id": "inh_exc", "source": "inh", "target": "exc", "weight": -2.0, "receptor": "inh",
          "connectivity": {"rule": "fixed_probability", "p": 0.3}}],
        duration_ms=duration_ms, seed=7)


def metrics_csv(frame) -> str:
    """The CSV text of a sweep without the columns that say where and how long it ran."""
    return frame.drop(columns=[c for c in RUN_COLUMNS if c in frame]).to_csv(index=False)


# ---------------------------------------------------------------------------- fields
def test_fields_resolve_path_and_label_forms():
    doc = small_network()
    fields = parse_sets(doc, ["network.nodes[1].params.tau_m=10,20", "inh.tau_m=5:15:3",
                              "inh_exc.weight=-1,-3", "simulation.duration_ms=50"])
    assert [f.path_text for f in fields] == [
        "network.nodes[1].params.tau_m", "network.nodes[2].params.tau_m",
        "network.projections[2].weight", "simulation.duration_ms"]
    assert fields[1].values == (5.0, 10.0, 15.0)
    assert fields[0].values == (10.0, 20.0)  # a float field gets floats


def test_bad_fields_and_values_are_listed_in_one_message_before_anything_runs(tmp_path,
                                                                              capsys):
    doc = small_network()
    with pytest.raises(SweepSpecError) as err:
        parse_sets(doc, ["exc.tau_x=1", "nobody.tau_m=1", "exc.tau_m=-5,10,oops",
                         "inh.tau_m=1:2:zero", "exc.size", "exc.tau_m=3"])
    problems = err.value.problems
    assert len(problems) == 7, problems  # -5 and "oops" are two bad values of one field
    text = str(err.value)
    for expected in ("exc.tau_x=1: network.nodes[1].params.tau_x: unknown key",
                     "nobody.tau_m: no node or projection",
                     "exc.tau_m=-5.0: network.nodes[1].params.tau_m: must be > 0",
                     'exc.tau_m="oops"', "start:stop:num", "write FIELD=",
                     "the same field is set twice"):
        assert expected in text, (expected, text)
    # The CLI prints the same one message and runs nothing.
    path = tmp_path / "p.json"
    path.write_text(json.dumps(doc))
    code = engine_cli.main(["sweep", str(path), "--set", "exc.tau_x=1", "--set",
                            "exc.tau_m=-1", "--out", str(tmp_path / "out")])
    err_text = capsys.readouterr().err
    assert code == 2
    assert "exc.tau_x=1" in err_text and "exc.tau_m=-1.0" in err_text
    assert not (tmp_path / "out").exists()


def test_plan_grid_sample_and_seeds():
    doc = small_network()
    plan = plan_sweep(doc, ["exc.tau_m=10,20,30", "inh.tau_m=5,10"], seeds=2)
    assert plan.size == 12
    assert [i for i, _ in plan.points] == list(range(6))
    tasks = plan.tasks()
    assert [t["seed"] for t in tasks[:2]] == [7, 8]
    assert tasks[3]["document"]["network"]["nodes"][1]["params"]["tau_m"] == 10.0
    assert tasks[3]["document"]["network"]["nodes"][2]["params"]["tau_m"] == 10.0
    sampled = plan_sweep(doc, ["exc.tau_m=1:30:30"], sample=4)
    again = plan_sweep(doc, ["exc.tau_m=1:30:30"], sample=4)
    assert sampled.points == again.points and len(sampled.points) == 4
    with pytest.raises(Exception, match="--sample"):
        plan_sweep(doc, ["exc.tau_m=1,2"], sample=3)


# ---------------------------------------------------------------------------- equivalence
def serial_rows(doc: dict, tau_values, seeds: int) -> str:
    """The same points run one after another in this process, built by hand."""
    rows = []
    for point, tau in enumerate(tau_values):
        for k in range(seeds):
            d = copy.deepcopy(doc)
            d["network"]["nodes"][1]["params"]["tau_m"] = tau
            d["simulation"]["seed"] = doc["simulation"]["seed"] + k
            project = Project.from_dict(d)
            result = simulate(project)
            rows.append({"point": point, "seed": d["simulation"]["seed"], "exc.tau_m": tau,
                         "status": result.status, "error": "", **measure(result, project)})
    return metrics_csv(rows_frame(rows))


@pytest.fixture(scope="module")
def expected():
    doc = Project.from_dict(small_network()).to_dict()
    return serial_rows(doc, [10.0, 20.0, 30.0], 2)


def sweep_plan():
    return plan_sweep(small_network(), ["exc.tau_m=10:30:3"], seeds=2)


@pytest.mark.slow
def test_local_pool_sweep_equals_serial_runs(tmp_path, expected):
    with LocalPoolExecutor(workers=2) as executor:
        outcome = run_sweep(sweep_plan(), executor, tmp_path)
    assert outcome.complete
    assert metrics_csv(outcome.rows) == expected
    written = (tmp_path / "sweep.csv").read_text()
    assert written == outcome.rows.to_csv(index=False)
    assert (tmp_path / "sweep.parquet").exists()
    assert set(outcome.rows["status"]) == {"completed"}


@pytest.mark.slow
def test_dask_local_cluster_sweep_equals_serial_runs(tmp_path, expected):
    seen = []
    with make_executor(workers=2, dask=True) as executor:
        assert isinstance(executor, DaskExecutor)
        assert executor.dashboard_link.startswith("http://127.0.0.1:")
        outcome = run_sweep(sweep_plan(), executor, tmp_path,
                            on_row=lambda row, done, total: seen.append((done, total)))
    assert outcome.complete
    assert metrics_csv(outcome.rows) == expected
    assert seen[-1] == (6, 6)


@pytest.mark.slow
def test_cancel_keeps_finished_rows(tmp_path):
    stop = threading.Event()
    plan = plan_sweep(small_network(), ["exc.tau_m=5:40:12"])
    with LocalPoolExecutor(workers=1) as executor:
        outcome = run_sweep(plan, executor, tmp_path, cancel=stop,
                            on_row=lambda row, done, total: stop.set())
    assert outcome.cancelled and not outcome.complete
    assert 1 <= len(outcome.rows) < plan.size
    assert len((tmp_path / "sweep.csv").read_text().splitlines()) == len(outcome.rows) + 1


@pytest.mark.slow
def test_local_pool_reruns_the_tasks_of_a_killed_worker(tmp_path, expected):
    killed = []

    def kill_once(row, done, total):
        if not killed:
            pid = int(row["worker"].rsplit(":", 1)[1])
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    with LocalPoolExecutor(workers=2) as executor:
        outcome = run_sweep(sweep_plan(), executor, tmp_path, on_row=kill_once)
    assert killed and outcome.complete
    assert metrics_csv(outcome.rows) == expected


# ---------------------------------------------------------------------------- a scheduler
@pytest.fixture
def cluster():
    c = Cluster(workers=2)
    yield c
    c.close()


def connect(address: str) -> DaskExecutor:
    executor = make_executor(scheduler=address)
    wait_until(lambda: len(executor.client.scheduler_info()["workers"]) == 2, "2 workers")
    return executor


@pytest.mark.slow
def test_scheduler_address_sweep_equals_serial_runs(tmp_path, expected, cluster):
    with connect(cluster.address) as executor:
        outcome = run_sweep(sweep_plan(), executor, tmp_path)
        cluster_pids = set(executor.client.run(os.getpid).values())
    assert outcome.complete
    assert metrics_csv(outcome.rows) == expected
    # Every task ran on the hand-started workers (how the scheduler spreads them over the
    # two is its own business: on a busy machine one worker may take them all).
    used = {int(worker.rsplit(":", 1)[1]) for worker in outcome.rows["worker"]}
    assert used and used <= cluster_pids


@pytest.mark.slow
def test_dask_reruns_the_tasks_of_a_killed_worker(tmp_path, expected, cluster):
    killed = []

    def kill_once(row, done, total):
        if not killed:
            pid = int(row["worker"].rsplit(":", 1)[1])
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    with connect(cluster.address) as executor:
        outcome = run_sweep(sweep_plan(), executor, tmp_path, on_row=kill_once)
    assert killed and outcome.complete, outcome.error
    assert metrics_csv(outcome.rows) == expected


@pytest.mark.slow
def test_a_scheduler_that_goes_away_ends_the_sweep_with_the_rows_written(tmp_path, cluster):
    def stop_scheduler(row, done, total):
        if cluster.scheduler.poll() is None:
            cluster.scheduler.kill()
            cluster.scheduler.wait()

    plan = plan_sweep(small_network(), ["exc.tau_m=5:40:20"])
    with connect(cluster.address) as executor:
        outcome = run_sweep(plan, executor, tmp_path, on_row=stop_scheduler)
    assert outcome.error and "scheduler" in outcome.error and "went away" in outcome.error
    assert 1 <= len(outcome.rows) < plan.size
    lines = (tmp_path / "sweep.csv").read_text().splitlines()
    assert len(lines) == len(outcome.rows) + 1


# ---------------------------------------------------------------------------- the command
@pytest.mark.slow
def test_sweep_command_writes_the_rows(tmp_path, capsys):
    path = tmp_path / "p.json"
    path.write_text(json.dumps(small_network(50.0)))
    code = engine_cli.main(["sweep", str(path), "--set", "exc.tau_m=10,20", "--seeds", "2",
                            "--workers", "1", "--quiet", "--out", str(tmp_path / "out")])
    assert code == 0, capsys.readouterr().err
    lines = (tmp_path / "out" / "sweep.csv").read_text().splitlines()
    assert lines[0].startswith("point,seed,exc.tau_m,status,error,spikes,syn_events,")
    assert len(lines) == 5
    assert "4 of 4 rows (0 not completed)" in capsys.readouterr().out


def test_unreachable_scheduler_is_a_clear_error(tmp_path, capsys):
    path = tmp_path / "p.json"
    path.write_text(json.dumps(small_network(50.0)))
    code = engine_cli.main(["sweep", str(path), "--set", "exc.tau_m=10,20", "--quiet",
                            "--scheduler", "tcp://127.0.0.1:9", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in err
    assert "Traceback" not in err
