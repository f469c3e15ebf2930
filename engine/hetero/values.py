"""The forms of a per-neuron parameter value: checking them and drawing them.

A population's numeric parameter (``params.tau_m``, ``params.v_init``...) is one of

- a number (the whole population shares it);
- ``{"dist": "uniform", "low", "high"}``, ``{"dist": "normal", "mean", "std"}`` or
  ``{"dist": "lognormal", "mu", "sigma"}`` (``mu`` and ``sigma`` of the underlying normal, the
  numpy/NEST convention), drawn once per neuron from the project's seed, the node's id and
  the parameter's name, so a node's values do not change when other nodes change;
- a list of ``size`` finite numbers (a file holds at most :data:`INLINE_LIMIT` inline; saving
  moves longer lists to the companion file);
- ``{"array": KEY}``: the array ``KEY`` of the companion file, of shape ``(size,)``.

Every value must respect the parameter's limits. A normal or lognormal distribution is
refused when a draw within :data:`TAIL_SIGMAS` standard deviations of its centre would break
them (for example ``tau_m`` normal with mean 10 and std 3: mean - 5 std = -5 ms); the rare
draw beyond that (probability below 6e-7 per neuron) is clipped to the limits.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping
from typing import Any

import numpy as np

from engine.params import ParamSpec
from engine.validation import is_number, short_repr

#: Most values an inline list may hold in a saved file (longer ones go to the companion file).
INLINE_LIMIT = 10_000
#: Distribution name -> its parameters.
DISTS: dict[str, tuple[str, str]] = {"uniform": ("low", "high"), "normal": ("mean", "std"),
                                     "lognormal": ("mu", "sigma")}
#: Normal and lognormal distributions must respect the limits this many std from the centre.
TAIL_SIGMAS = 5.0


def is_per_neuron(value: Any) -> bool:
    """Whether ``value`` is one of the per-neuron forms (not a plain number)."""
    return isinstance(value, (list, dict, np.ndarray))


def per_neuron_spec(spec: ParamSpec) -> bool:
    """Whether a parameter may take per-neuron values (the numeric ones)."""
    return spec.kind == "float"


# ---------------------------------------------------------------------- checking
def value_problems(value: Any, spec: ParamSpec, size: int | None,
                   arrays: Mapping[str, np.ndarray] | None) -> list[tuple[str, str]]:
    """Problems of a per-neuron ``value`` of ``spec``, as (path suffix, message) pairs.

    The suffix is appended to the parameter's path: ``""``, ``"[17]"``, ``".std"``...
    ``size`` is the population's size (None when it is itself invalid: lengths are not
    checked). ``arrays`` are the companion file's arrays (None: no companion file).
    """
    if isinstance(value, list):
        return _list_problems(value, spec, size)
    if not isinstance(value, dict):
        return [("", f"must be a number, a list of per-neuron values, a distribution "
                     f"{{\"dist\": ...}} or {{\"array\": KEY}}, got {short_repr(value)}")]
    if "array" in value:
        return _array_ref_problems(value, spec, size, arrays)
    return _dist_problems(value, spec)


def _list_problems(value: list, spec: ParamSpec, size: int | None) -> list[tuple[str, str]]:
    if size is not None and len(value) != size:
        return [("", f"must hold one value per neuron ({size}), got {len(value):,}")]
    for i, item in enumerate(value):
        if not is_number(item):
            return [(f"[{i}]", f"must be a finite number, got {short_repr(item)}")]
    return _bound_problems(np.asarray(value, dtype=np.float64), spec)


def _bound_problems(values: np.ndarray, spec: ParamSpec) -> list[tuple[str, str]]:
    """The first value (by index) breaking the limits of ``spec``, if any."""
    bad = ~np.isfinite(values)
    if spec.minimum is not None:
        bad |= values <= spec.minimum if spec.exclusive_minimum else values < spec.minimum
    if spec.maximum is not None:
        bad |= values >= spec.maximum if spec.exclusive_maximum else values > spec.maximum
    indices = np.flatnonzero(bad)
    if indices.size == 0:
        if spec.maximum is None:  # the magnitude limit of unbounded parameters
            for i in np.flatnonzero(np.abs(values) > 1e10):
                message = spec.check(float(values[i]))
                if message:
                    return [(f"[{i}]", message)]
        return []
    i = int(indices[0])
    message = spec.check(float(values[i])) or "is out of range"
    more = f" ({indices.size - 1:,} more values are out of range too)" if indices.size > 1 else ""
    return [(f"[{i}]", message + more)]


def _array_ref_problems(value: dict, spec: ParamSpec, size: int | None,
                        arrays: Mapping[str, np.ndarray] | None) -> list[tuple[str, str]]:
    if set(value) != {"array"}:
        extra = ", ".join(sorted(str(k) for k in set(value) - {"array"}))
        return [("", f"an array reference has only the key \"array\"; unknown: {extra}")]
    key = value["array"]
    if not isinstance(key, str) or not key or len(key) > 200:
        return [(".array", f"must be the name of an array of the companion file, got "
                           f"{short_repr(key)}")]
    if arrays is None or key not in arrays:
        where = "there is no companion file (<project>.arrays.npz)" if arrays is None else \
            "the companion file has no such array"
        return [(".array", f"{short_repr(key)}: {where}")]
    return array_problems(arrays[key], spec, size, f"array {short_repr(key)}")


def array_problems(data: np.ndarray, spec: ParamSpec, size: int | None,
                   what: str) -> list[tuple[str, str]]:
    """Problems of a per-neuron numpy array: shape ``(size,)``, real numbers, finite, in range."""
    if data.dtype.kind not in "fiu":
        return [("", f"{what} must hold real numbers (float or int), got dtype {data.dtype}")]
    if size is not None and data.shape != (size,):
        return [("", f"{what} must have shape ({size},), one value per neuron, got "
                     f"{data.shape}")]
    return _bound_problems(data.astype(np.float64), spec)


def _dist_problems(value: dict, spec: ParamSpec) -> list[tuple[str, str]]:
    dist = value.get("dist")
    if not isinstance(dist, str) or dist not in DISTS:
        return [(".dist", f"must be one of {', '.join(DISTS)}, got {short_repr(dist)}")]
    keys = DISTS[dist]
    problems = [(f".{k}", "unknown key (allowed: dist, " + ", ".join(keys) + ")")
                for k in sorted(str(k) for k in value) if k not in (*keys, "dist")]
    problems += [(f".{k}", "is required") for k in keys if k not in value]
    problems += [(f".{k}", f"must be a finite number, got {short_repr(value[k])}")
                 for k in keys if k in value and not is_number(value[k])]
    if problems:
        return problems
    a, b = float(value[keys[0]]), float(value[keys[1]])
    if dist == "uniform":
        if b < a:
            return [(".high", f"must be >= low ({a:g}), got {b:g}")]
        return [(f".{k}", m) for k, x in (("low", a), ("high", b)) if (m := spec.check(x))]
    if b < 0:
        return [(f".{keys[1]}", f"must be >= 0, got {b:g}")]
    if dist == "normal":
        reach = (a - TAIL_SIGMAS * b, a + TAIL_SIGMAS * b)
    else:
        if abs(a) + TAIL_SIGMAS * b > 700:  # exp() would overflow
            return [(".sigma", f"mu + {TAIL_SIGMAS:g} sigma must be at most 700, got "
                               f"{a + TAIL_SIGMAS * b:g}")]
        reach = (math.exp(a - TAIL_SIGMAS * b), math.exp(a + TAIL_SIGMAS * b))
    if (m := spec.check(a if dist == "normal" else math.exp(a))):
        return [(f".{keys[0]}", m if dist == "normal" else f"exp(mu) {m}")]
    for x in reach:
        m = spec.check(x)
        if m:
            return [(f".{keys[1]}", f"the distribution reaches {x:g} within {TAIL_SIGMAS:g} "
                                    f"{keys[1]} of its centre, and a value {m}: narrow it or "
                                    f"use a uniform distribution")]
    return []


# ---------------------------------------------------------------------- resolving
def node_rng(seed: int, node_id: str, name: str) -> np.random.Generator:
    """The generator of a node's parameter ``name``: the same for the same project seed, node
    id and parameter, whatever else the project holds."""
    return np.random.default_rng([int(seed), zlib.crc32(node_id.encode()),
                                  zlib.crc32(name.encode())])


def draw(value: dict, spec: ParamSpec, size: int, rng: np.random.Generator) -> np.ndarray:
    """``size`` draws of a (valid) distribution, clipped to the limits of ``spec``."""
    dist = value["dist"]
    if dist == "uniform":
        out = rng.uniform(value["low"], value["high"], size)
    elif dist == "normal":
        out = rng.normal(value["mean"], value["std"], size)
    else:
        out = rng.lognormal(value["mu"], value["sigma"], size)
    return _clip(out, spec)


def _clip(values: np.ndarray, spec: ParamSpec) -> np.ndarray:
    lo = -np.inf if spec.minimum is None else float(spec.minimum)
    hi = np.inf if spec.maximum is None else float(spec.maximum)
    if spec.exclusive_minimum:
        lo = np.nextafter(lo, np.inf)
    if spec.exclusive_maximum:
        hi = np.nextafter(hi, -np.inf)
    return np.clip(values, lo, hi)


def resolve_value(value: Any, spec: ParamSpec, size: int, seed: int, node_id: str,
                  arrays: Mapping[str, np.ndarray] | None) -> float | np.ndarray:
    """A (valid) parameter value as a float, or as float64 array of length ``size``."""
    if not is_per_neuron(value):
        return float(value)
    if isinstance(value, (list, np.ndarray)):
        return np.array(value, dtype=np.float64)
    if "array" in value:
        if arrays is None or value["array"] not in arrays:
            raise KeyError(f"no array {value['array']!r} in the companion file")
        return np.array(arrays[value["array"]], dtype=np.float64)
    return draw(value, spec, size, node_rng(seed, node_id, spec.name))


def resolve_values(values: Mapping[str, Any], specs: tuple[ParamSpec, ...], size: int,
                   seed: int, node_id: str,
                   arrays: Mapping[str, np.ndarray] | None) -> dict[str, Any]:
    """``values`` (a population's resolved params) with every numeric parameter resolved:
    floats for shared values, float64 arrays of length ``size`` for per-neuron ones."""
    out = dict(values)
    for spec in specs:
        if per_neuron_spec(spec) and spec.name in out:
            out[spec.name] = resolve_value(out[spec.name], spec, size, seed, node_id, arrays)
    return out


def varying(values: Mapping[str, Any]) -> list[str]:
    """Names of the resolved values that differ between neurons (arrays with two values)."""
    return [name for name, v in values.items()
            if isinstance(v, np.ndarray) and v.size > 1 and not np.all(v == v[0])]


# ---------------------------------------------------------------------------- describing
def summary_text(value: Any, unit: str = "") -> str:
    """One line describing a per-neuron value for people (plain text, never HTML):
    ``per neuron: mean 10.2 / min 8 / max 12 ms (5 values)`` or
    ``per neuron: normal, mean 10, std 1 ms``."""
    unit = f" {unit}" if unit else ""
    if isinstance(value, dict) and value.get("dist") in DISTS:
        keys = DISTS[value["dist"]]
        parts = ", ".join(f"{k} {value.get(k, '?'):g}" if is_number(value.get(k))
                          else f"{k} ?" for k in keys)
        suffix = "" if value["dist"] == "lognormal" else unit
        return f"per neuron: {value['dist']}, {parts}{suffix}"
    if isinstance(value, dict) and "array" in value:
        return f"per neuron: array {short_repr(value['array'])} of the companion file"
    if isinstance(value, (list, np.ndarray)):
        numbers = np.array([v for v in value if is_number(v)], dtype=np.float64)
        if numbers.size == 0:
            return f"per neuron: no valid values ({len(value):,} items)"
        return (f"per neuron: mean {numbers.mean():.6g} / min {numbers.min():.6g} / max "
                f"{numbers.max():.6g}{unit} ({len(value):,} values)")
    return f"{short_repr(value)}{unit}"


def fitted_distribution(value: Any, dist: str) -> dict[str, Any]:
    """A distribution ``dist`` with the range or moments of a per-neuron ``value`` (a list),
    the starting point when a list is turned into a distribution."""
    numbers = np.array([v for v in value if is_number(v)] if isinstance(value, list) else [],
                       dtype=np.float64)
    if numbers.size == 0:
        numbers = np.zeros(1)
    if dist == "uniform":
        return {"dist": "uniform", "low": float(numbers.min()), "high": float(numbers.max())}
    if dist == "normal":
        return {"dist": "normal", "mean": float(numbers.mean()), "std": float(numbers.std())}
    positive = numbers[numbers > 0]
    logs = np.log(positive) if positive.size else np.zeros(1)
    return {"dist": "lognormal", "mu": float(logs.mean()), "sigma": float(logs.std())}


# ------------------------------------------------------------------------------- editing
#: What each distribution field means (the inspector's help text).
DIST_FIELD_DOCS = {"low": "Lowest value.", "high": "Highest value.", "mean": "Mean value.",
                   "std": "Standard deviation.", "mu": "Mean of log(value).",
                   "sigma": "Standard deviation of log(value)."}


def dist_specs(spec: ParamSpec, dist: str) -> tuple[ParamSpec, ...]:
    """The fields of a distribution ``dist`` of parameter ``spec``, as forms show them
    (``std`` in the parameter's unit; ``mu`` and ``sigma`` of a lognormal without one)."""
    unit = "" if dist == "lognormal" else spec.unit
    return tuple(ParamSpec(key, unit, 0.0, DIST_FIELD_DOCS[key],
                           minimum=0.0 if key in ("std", "sigma") else None)
                 for key in DISTS[dist])


#: Relative spread of a distribution made from one value (10 % of it).
DEFAULT_SPREAD = 0.1


def centred_distribution(value: float, dist: str, spec: ParamSpec) -> dict[str, Any]:
    """A distribution ``dist`` centred on a shared ``value`` of ``spec``: the starting point
    when a parameter is made per neuron.

    Its spread is :data:`DEFAULT_SPREAD` of the value (of 1 for a value of 0), narrowed so
    that it stays within the parameter's limits (a normal within :data:`TAIL_SIGMAS` std).
    A lognormal's median is the value; a value <= 0 has no lognormal (``mu`` is then that of
    1, and validation says why). The mean of the result is ``value`` for uniform and normal.
    """
    x = float(value)
    spread = DEFAULT_SPREAD * abs(x) if x != 0 else 1.0
    room = [abs(x - float(limit)) for limit in (spec.minimum, spec.maximum)
            if limit is not None]
    if dist == "uniform":
        half = min([spread, *(r * 0.999 for r in room)])
        return {"dist": "uniform", "low": x - half, "high": x + half}
    if dist == "normal":
        std = min([spread, *(r / (TAIL_SIGMAS * 1.001) for r in room)])
        return {"dist": "normal", "mean": x, "std": std}
    mu = math.log(x) if x > 0 else 0.0
    sigma = DEFAULT_SPREAD
    if x > 0:  # exp(mu +- TAIL_SIGMAS sigma) must stay within the limits
        for limit in (spec.minimum, spec.maximum):
            if limit is not None and float(limit) > 0 and float(limit) != x:
                sigma = min(sigma, abs(math.log(float(limit) / x)) / (TAIL_SIGMAS * 1.001))
    return {"dist": "lognormal", "mu": mu, "sigma": sigma}


def mean_value(value: Any) -> float | None:
    """The mean of a per-neuron ``value``: of a distribution (``exp(mu + sigma²/2)`` for a
    lognormal) or of a list's numbers; None when it has none (an array reference, no
    numbers). What "one value (the mean)" makes of a per-neuron parameter."""
    if isinstance(value, dict) and value.get("dist") in DISTS:
        a, b = (value.get(k) for k in DISTS[value["dist"]])
        if not (is_number(a) and is_number(b)):
            return None
        a, b = float(a), float(b)
        if value["dist"] == "uniform":
            return (a + b) / 2
        if value["dist"] == "normal":
            return a
        return math.exp(min(a + b * b / 2, 700.0))
    if isinstance(value, (list, np.ndarray)):
        numbers = [float(v) for v in value if is_number(v)]
        return float(np.mean(numbers)) if numbers else None
    return None
