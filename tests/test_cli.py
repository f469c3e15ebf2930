"""The spikestudio command line."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from engine.cli import main
from engine.project import load_project
from engine.simulator import simulate

SAMPLES = Path(__file__).parent.parent / "sample_projects"


def test_run_writes_spikes_and_summary(tmp_path, capsys):
    code = main(["run", str(SAMPLES / "cuba_balanced.json"), "--duration-ms", "200",
                 "--out", str(tmp_path), "--quiet"])
    assert code == 0
    out = capsys.readouterr().out
    spikes = pd.read_csv(tmp_path / "spikes.csv")
    assert list(spikes.columns) == ["time_ms", "population", "neuron"]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["duration_ms"] == pytest.approx(200.0)
    assert summary["total_spikes"] == len(spikes) > 0
    # The printed per-population counts are the engine's counts for the same project.
    project = load_project(SAMPLES / "cuba_balanced.json")
    project.simulation.duration_ms = 200.0
    expected = simulate(project).spike_counts()
    for pop in ("exc", "inh"):
        row = next(line for line in out.splitlines() if line.startswith(pop + " "))
        assert int(row.split()[3]) == expected[pop]
        assert (spikes["population"] == pop).sum() == expected[pop]


def test_run_parquet(tmp_path):
    pytest.importorskip("pyarrow")
    assert main(["run", str(SAMPLES / "lif_single_neuron.json"), "--out", str(tmp_path),
                 "--parquet", "--quiet"]) == 0
    frame = pd.read_parquet(tmp_path / "spikes.parquet")
    assert list(frame.columns) == ["time_ms", "population", "neuron"]


def test_invalid_project_gives_message_not_traceback(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    doc = json.loads((SAMPLES / "lif_single_neuron.json").read_text())
    doc["network"]["nodes"][1]["params"]["tau_m"] = -5
    bad.write_text(json.dumps(doc))
    assert main(["run", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "network.nodes[1].params.tau_m: must be > 0 ms, got -5 ms" in err
    assert "Traceback" not in err


def test_validate_and_missing_file(capsys, tmp_path):
    assert main(["validate", str(SAMPLES / "cuba_balanced.json")]) == 0
    assert "valid" in capsys.readouterr().out
    assert main(["run", str(tmp_path / "nope.json")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_console_script_has_every_command_engine_cli_only_the_engines(capsys):
    """`spikestudio` (workbench.cli) = engine.cli's run/validate/warm + serve/publish."""
    from workbench.cli import main as spikestudio

    assert spikestudio(["validate", str(SAMPLES / "cuba_balanced.json")]) == 0
    assert "valid" in capsys.readouterr().out
    for command in ("serve", "publish"):
        with pytest.raises(SystemExit):  # argparse: invalid choice
            main([command, "--help"])
        capsys.readouterr()
        with pytest.raises(SystemExit) as exit_:
            spikestudio([command, "--help"])
        assert exit_.value.code == 0 and command in capsys.readouterr().out


def test_serve_is_the_server_process_and_stops_with_it(tmp_path):
    """`spikestudio serve` becomes the server: stopping it leaves nothing listening."""
    import os
    import signal
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = dict(os.environ, SPIKESTUDIO_HOME=str(tmp_path))
    proc = subprocess.Popen([sys.executable, "-m", "workbench.cli", "serve", "--port", str(port)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/static/extensions/panel/css/loading.css"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except OSError:
                assert proc.poll() is None, "server exited"
                assert time.monotonic() < deadline, "server did not answer"
                time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0, "a server is still listening"
