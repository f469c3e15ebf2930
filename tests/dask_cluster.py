"""A Dask cluster started by hand on 127.0.0.1 (``dask scheduler --port 0`` + ``dask worker``
processes), for tests/test_sweep.py and bench/sweep.py; :meth:`Cluster.close` stops it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

#: Upper bound of any wait on a cluster (a loaded CI machine); never a fixed sleep.
DEADLINE_S = 180.0


def wait_until(condition: Callable[[], bool], what: str, deadline_s: float = DEADLINE_S) -> None:
    """Poll ``condition`` until it holds; AssertionError naming ``what`` after the deadline."""
    deadline = time.monotonic() + deadline_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


class Cluster:
    """``dask scheduler --port 0`` and ``dask worker`` processes on 127.0.0.1 (cleaned up)."""

    def __init__(self, workers: int = 2):
        fd, name = tempfile.mkstemp(prefix="dask-scheduler-", suffix=".log")
        os.close(fd)
        self.log = Path(name)
        self.processes: list[subprocess.Popen] = []
        bin_dir = Path(sys.executable).parent
        # The workers import this checkout's engine, like the process that starts them.
        root = str(Path(__file__).resolve().parent.parent)
        env = {**os.environ, "PYTHONPATH": root}
        with open(self.log, "w") as log:
            self.scheduler = subprocess.Popen(
                [str(bin_dir / "dask"), "scheduler", "--host", "127.0.0.1", "--port", "0",
                 "--dashboard-address", "127.0.0.1:0"], stdout=log, stderr=log, env=env)
        self.processes.append(self.scheduler)
        try:
            wait_until(lambda: self._address() is not None or self.scheduler.poll() is not None,
                       "the scheduler's address")
        except AssertionError:
            self.close()
            raise
        address = self._address()
        if address is None:
            self.close()
            raise RuntimeError("dask scheduler did not start")
        self.address = address
        for _ in range(workers):
            self.processes.append(subprocess.Popen(
                [str(bin_dir / "dask"), "worker", self.address, "--host", "127.0.0.1",
                 "--nthreads", "1", "--nworkers", "1", "--no-dashboard"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env))

    def _address(self) -> str | None:
        match = re.search(r"Scheduler at:\s+(tcp://127\.0\.0\.1:\d+)", self.log.read_text())
        return match.group(1) if match else None

    def close(self) -> None:
        """Stop every process started (workers first), then remove the log."""
        for p in reversed(self.processes):
            if p.poll() is None:
                p.terminate()
        for p in self.processes:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.log.unlink(missing_ok=True)

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
