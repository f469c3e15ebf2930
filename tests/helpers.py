"""Small builders of project documents shared by the engine tests."""

from __future__ import annotations

from typing import Any

from engine.project import Project


def document(nodes: list[dict], projections: list[dict] | None = None,
             duration_ms: float = 100.0, dt_ms: float = 0.1, seed: int = 1,
             **simulation: Any) -> dict:
    """A project document with the given nodes and projections."""
    return {
        "format": "spikestudio-project", "version": 1, "name": "test",
        "network": {"nodes": nodes, "projections": projections or []},
        "simulation": {"duration_ms": duration_ms, "dt_ms": dt_ms, "seed": seed, **simulation},
    }


def project(*args: Any, **kwargs: Any) -> Project:
    """A validated Project built from :func:`document`'s arguments."""
    return Project.from_dict(document(*args, **kwargs))


def lif(node_id: str, size: int = 1, **params: Any) -> dict:
    return {"id": node_id, "kind": "population", "model": "lif", "size": size,
            "params": params}


def encoder(node_id: str, model: str, size: int = 1, **params: Any) -> dict:
    return {"id": node_id, "kind": "encoder", "model": model, "size": size, "params": params}


def monitor(node_id: str, target: str, variables=("v",), neurons=(0,),
            interval_ms: float = 0.1) -> dict:
    return {"id": node_id, "kind": "monitor", "model": "state", "target": target,
            "params": {"variables": list(variables), "neurons": list(neurons),
                       "interval_ms": interval_ms}}


def connection(pid: str, source: str, target: str, weight: Any = 1.0, rule: str = "all_to_all",
               delay_ms: Any = 0.0, receptor: str = "exc", **extra: Any) -> dict:
    conn = {"rule": rule}
    conn.update(extra.pop("connectivity", {}))
    return {"id": pid, "source": source, "target": target, "connectivity": conn,
            "weight": weight, "delay_ms": delay_ms, "receptor": receptor, **extra}
