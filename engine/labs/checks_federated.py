"""Checks of the federated-learning lab. They run the experiment the student's project
describes (:mod:`engine.labs.federated`): the project is the client network, the lab file says how
the digits are split among clients, and the clients run as tasks of the local process pool.
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np

from engine.errors import SpikeStudioError
from engine.evaluation.datasets import digits
from engine.executor import make_executor
from engine.labs.federated import (
    Client,
    FederatedSetup,
    client_split,
    compare_training,
    score,
    train_central,
)
from engine.labs.observation import Observation, observation
from engine.labs.run_views import node_problem

N_CLASSES = 10


@contextmanager
def _executor(workers: int):
    """The local pool of ``workers`` processes (0: run in this process)."""
    if workers <= 0:
        yield None
        return
    executor = make_executor(workers=workers)
    try:
        yield executor
    finally:
        executor.close()


def _setup(project, nodes: dict, column_total: float | None) -> FederatedSetup | Observation:
    for role, models in (("input", ("dataset",)), ("output", ()), ("teacher",
                                                                     ("dataset_current",))):
        problem = node_problem(project, nodes[role], models)
        if problem is not None:
            return problem
    try:
        project.network.projection(nodes["learn"])
    except KeyError:
        return Observation(False, f"The project has no projection {nodes['learn']!r}.",
                           hint="The clients learn on that projection; open the lab's "
                                "project again.")
    return FederatedSetup(project.to_dict(), nodes["input"], nodes["output"], nodes["learn"],
                          column_total=column_total, teacher=nodes["teacher"])


def _data(split: dict) -> tuple[list[Client], Client, Client]:
    data = digits()
    return client_split(data.x, data.y, split["clients"], split["per_class"],
                        split["labelling"], split["test"], split.get("seed", 0))


@observation("central_training_learns")
def central_training_learns(project, result, *, nodes: dict, split: dict, rounds: int,
                            min_score: float, column_total: float | None = None,
                            workers: int = 0) -> Observation:
    """All clients' data trained in one place scores at least ``min_score`` on held-out
    digits (the baseline the federated clients are compared with). Needs no run."""
    setup = _setup(project, nodes, column_total)
    if isinstance(setup, Observation):
        return setup
    clients, labelling, test = _data(split)
    pooled = Client(np.concatenate([c.samples for c in clients]),
                    np.concatenate([c.labels for c in clients]))
    try:
        with _executor(workers) as executor:
            weights = train_central(setup, pooled, rounds=rounds, executor=executor,
                                    seed=split.get("seed", 0))
    except (RuntimeError, SpikeStudioError) as exc:
        return Observation(False, f"Training could not run: {exc}",
                           hint="Run the project once and read its messages.")
    accuracy = score(setup, weights, labelling, test, N_CLASSES, seed=split.get("seed", 0))
    measured = {"central_score": accuracy}
    what = (f"Trained on all {len(pooled.labels)} client digits in one place for {rounds} "
            f"rounds, the network names {accuracy:.0%} of {len(test.labels)} held-out digits")
    if accuracy >= min_score:
        return Observation(True, f"{what} (at least {min_score:.0%} needed).", measured)
    return Observation(False, f"{what}; at least {min_score:.0%} is needed.", measured,
                       hint="The rule grows a weight when the output neuron fires close to "
                            "an input spike: during learning, what makes the right output "
                            "neuron fire, and the others stay silent?")


@observation("federated_beats_isolated")
def federated_beats_isolated(project, result, *, nodes: dict, split: dict, rounds: int,
                             min_gain: float, max_gap: float,
                             column_total: float | None = None,
                             workers: int = 2) -> Observation:
    """Federated clients (FedAvg of their weight changes each round) score at least
    ``min_gain`` above the best isolated client and at most ``max_gap`` below central
    training, on the same held-out digits. Needs no run: it trains all three."""
    setup = _setup(project, nodes, column_total)
    if isinstance(setup, Observation):
        return setup
    clients, labelling, test = _data(split)
    try:
        with _executor(workers) as executor:
            scores = compare_training(setup, clients, labelling, test, N_CLASSES,
                                      rounds=rounds, executor=executor,
                                      seed=split.get("seed", 0))
    except (RuntimeError, SpikeStudioError) as exc:
        return Observation(False, f"Training could not run: {exc}",
                           hint="Run the project once and read its messages.")
    best = max(scores.isolated)
    measured = {"central_score": scores.central, "federated_score": scores.federated,
                "best_isolated_score": best,
                **{f"isolated_score_{k}": s for k, s in enumerate(scores.isolated)}}
    isolated = ", ".join(f"{s:.0%}" for s in scores.isolated)
    what = (f"On {len(test.labels)} held-out digits after {rounds} rounds: central "
            f"{scores.central:.0%}, federated {scores.federated:.0%}, isolated clients "
            f"{isolated}")
    missing = []
    if scores.federated < best + min_gain:
        missing.append(f"federated must beat the best isolated client by {min_gain:.0%}")
    if scores.federated < scores.central - max_gap:
        missing.append(f"federated may trail central training by at most {max_gap:.0%}")
    if not missing:
        return Observation(True, f"{what}.", measured)
    return Observation(False, f"{what}; " + " and ".join(missing) + ".", measured,
                       hint="First make the network learn at all (the previous step): an "
                            "average of changes that teach nothing teaches nothing.")
