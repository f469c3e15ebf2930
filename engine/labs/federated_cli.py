"""``spikestudio federated``: train a project's network federated, central and isolated on
digits split among clients, and print the held-out scores (one JSON line).

Kept apart from :mod:`engine.cli`, which only registers it (:func:`add_command`).
"""

from __future__ import annotations

import argparse
import json
import sys

from engine.errors import SpikeStudioError

DEFAULT_CLIENTS = "0,1,2;3,4,5;6,7,8,9"


def parse_clients(text: str) -> list[list[int]]:
    """``"0,1,2;3,4"`` -> ``[[0, 1, 2], [3, 4]]`` (classes of each client)."""
    try:
        mixes = [[int(c) for c in part.split(",")] for part in text.split(";")]
    except ValueError:
        raise SpikeStudioError(f"--clients: classes separated by ',' and clients by ';' "
                               f"(e.g. {DEFAULT_CLIENTS}), got {text!r}") from None
    if any(not 0 <= c <= 9 for mix in mixes for c in mix):
        raise SpikeStudioError(f"--clients: digit classes are 0..9, got {text!r}")
    return mixes


def add_command(sub) -> None:
    """Add the ``federated`` command to the subparsers action ``sub``."""
    fed = sub.add_parser("federated", help="train a project's network federated (FedAvg of "
                                           "weight changes), central and isolated on digits "
                                           "split among clients; print held-out scores")
    fed.add_argument("project", help="project JSON file: dataset encoder -> population with "
                                     "one plastic projection (and optionally a teacher)")
    fed.add_argument("--clients", default=DEFAULT_CLIENTS, metavar="CLASSES;CLASSES;...",
                     help=f"digit classes of each client (default {DEFAULT_CLIENTS})")
    fed.add_argument("--per-class", type=int, default=20, help="digits per class per client")
    fed.add_argument("--rounds", type=int, default=4, help="training rounds (default 4)")
    fed.add_argument("--labelling", type=int, default=200,
                     help="labelled digits the server labels the neurons with")
    fed.add_argument("--test", type=int, default=300, help="held-out test digits")
    fed.add_argument("--seed", type=int, default=0, help="seed of the split and the training")
    fed.add_argument("--input", default="digits", help="dataset encoder node")
    fed.add_argument("--output", default="out", help="learning population")
    fed.add_argument("--learn", default="learn", help="plastic projection input -> output")
    fed.add_argument("--teacher", default=None, help="dataset_current teacher node, if any")
    fed.add_argument("--column-total", type=float, default=None,
                     help="scale each output neuron's weights to this sum after each round")
    fed.add_argument("--workers", type=int, default=None,
                     help="worker processes (default: one per core; not with --scheduler)")
    fed.add_argument("--dask", action="store_true",
                     help="run the clients on a Dask LocalCluster instead of the local pool")
    fed.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT",
                     help="run the clients on the Dask cluster of this scheduler")
    fed.set_defaults(func=run_command)


def run_command(args: argparse.Namespace) -> int:
    """Train the three ways and print ``{"central": ..., "federated": ..., "isolated": [...]}``."""
    from engine.evaluation.datasets import digits
    from engine.executor import make_executor
    from engine.labs.federated import FederatedSetup, client_split, compare_training
    from engine.project import load_project

    project = load_project(args.project)
    for role in ("input", "output", "teacher"):
        node_id = getattr(args, role)
        if node_id is not None and node_id not in {n.id for n in project.network.nodes}:
            raise SpikeStudioError(f"--{role}: the project has no node {node_id!r}")
    if args.learn not in {p.id for p in project.network.projections}:
        raise SpikeStudioError(f"--learn: the project has no projection {args.learn!r}")
    if args.rounds < 1:
        raise SpikeStudioError(f"--rounds: must be at least 1, got {args.rounds}")
    data = digits()
    try:
        clients, labelling, test = client_split(data.x, data.y, parse_clients(args.clients),
                                                args.per_class, args.labelling, args.test,
                                                args.seed)
    except ValueError as exc:
        raise SpikeStudioError(f"--per-class: {exc}") from None
    setup = FederatedSetup(project.to_dict(), args.input, args.output, args.learn,
                           column_total=args.column_total, teacher=args.teacher)
    executor = make_executor(workers=args.workers, dask=args.dask, scheduler=args.scheduler)
    try:
        print(f"{executor.name} executor, {executor.workers} workers", file=sys.stderr)
        scores = compare_training(setup, clients, labelling, test, 10, rounds=args.rounds,
                                  executor=executor, seed=args.seed)
    except RuntimeError as exc:  # a client's run did not complete
        raise SpikeStudioError(f"training stopped: {exc}") from None
    finally:
        executor.close()
    print(json.dumps({"central": scores.central, "federated": scores.federated,
                      "isolated": list(scores.isolated), "rounds": args.rounds,
                      "test_digits": len(test.labels)}))
    return 0
