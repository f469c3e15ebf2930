"""Bytes the autosave writes per edit of a project with a large per-neuron list.

A session edits a project holding a population of ``--size`` neurons whose ``tau_m`` is an
inline list (one value per neuron), ``--edits`` times (alternately moving a node and renaming
the project: edits that leave the list unchanged), then once changes the list itself. Bytes
are the process's ``wchar`` (every byte passed to write(): the autosave file and anything
beside it) around each edit, so the figure does not depend on how the autosave is laid out.

    python bench/autosave.py --size 100000 --edits 60
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

import numpy as np


def written() -> int:
    """Bytes this process has passed to write() so far (Linux)."""
    with open("/proc/self/io") as handle:
        return next(int(line.split()[1]) for line in handle if line.startswith("wchar"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--edits", type=int, default=60)
    args = parser.parse_args()
    os.environ["SPIKESTUDIO_HOME"] = tempfile.mkdtemp(prefix="ss-autosave-bench-")

    from workbench import edits, storage
    from workbench.session import ProjectSession

    session = ProjectSession(storage.Workspace.local().issue_session_id())
    session.new()
    session.apply(edits.add_node, "population", "lif", 100.0, 100.0)
    node = session.document["network"]["nodes"][-1]["id"]
    session.apply(edits.set_node_field, node, "size", args.size)
    taus = np.random.default_rng(0).uniform(15.0, 25.0, args.size).round(6).tolist()
    session.apply(edits.set_node_param, node, "tau_m", taus)

    per_edit, seconds = [], []
    for i in range(args.edits):
        before, start = written(), time.perf_counter()
        if i % 2:
            session.apply(edits.rename_project, f"bench {i}")
        else:
            session.apply(edits.move_node, node, 100.0 + i, 100.0)
        seconds.append(time.perf_counter() - start)
        per_edit.append(written() - before)
    before = written()
    session.apply(edits.set_node_param, node, "tau_m", [t + 1.0 for t in taus])
    list_edit = written() - before
    on_disk = sum(p.stat().st_size for folder in ("autosave", "autosave_shared")
                  for p in (session.workspace.root / folder).rglob("*") if p.is_file())
    print(f"size {args.size:,}, {args.edits} edits leaving the list unchanged "
          f"(history {len(session.history._undo)} steps)")
    print(f"  bytes per edit: median {statistics.median(per_edit) / 1e6:.3f} MB, "
          f"last {per_edit[-1] / 1e6:.3f} MB, max {max(per_edit) / 1e6:.3f} MB")
    print(f"  seconds per edit (apply + validate + autosave): median "
          f"{statistics.median(seconds):.3f}")
    print(f"  an edit of the list itself: {list_edit / 1e6:.3f} MB")
    print(f"  autosave folder on disk: {on_disk / 1e6:.3f} MB")
    restored = ProjectSession(session.session_id, session.workspace)
    assert restored.restore_or_open_default()
    assert restored.document == session.document
    assert restored.undo() and restored.document["network"]["nodes"][-1]["params"]["tau_m"] \
        == taus
    print("  restore after a crash and undo: ok")


if __name__ == "__main__":
    main()
