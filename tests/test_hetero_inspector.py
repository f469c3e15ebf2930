"""The inspector's per-neuron parameters: the histogram of the values a run uses, making a
shared number per neuron and back, and how the page names a distribution's fields."""

from __future__ import annotations

import numpy as np
import panel as pn
import pytest

from engine.core.per_neuron import document_values, resolve_neuron_params
from engine.field_labels import field_label
from engine.hetero.values import DISTS, centred_distribution, per_neuron_spec, value_problems
from engine.neurons import NEURON_MODELS
from engine.project import Project, validate_document
from tests.helpers import document, lif
from widgets.param_form import ParamForm
from widgets.value_histogram import histogram_counts
from workbench import edits
from workbench.inspector import node_inspector


def node_doc(size: int = 200, seed: int = 3, **params) -> dict:
    node = {"id": "pop", "kind": "population", "model": "lif", "size": size, "params": params}
    return document([lif("a"), node], seed=seed)


def inspect(doc: dict):
    """The inspector of node ``pop`` and the edits it applies, applied to ``doc`` in turn."""
    applied: list = []

    def apply(fn, *args):
        applied.append((fn, args))

    parts = node_inspector(doc, doc["network"]["nodes"][1], [], apply)
    return parts, applied


def histogram_of(parts, name: str):
    panes = [p for p in parts if isinstance(p, pn.pane.Bokeh)
             and f"ss-hist-{name}" in p.css_classes]
    assert len(panes) == 1
    fig = panes[0].object
    assert fig.toolbar_location is None
    return fig.renderers[0].data_source.data


def summary_of(parts, name: str) -> str:
    return next(p.object for p in parts if isinstance(p, pn.pane.HTML)
                and f'data-testid="per-neuron-{name}"' in p.object)


def test_the_histogram_counts_the_values_the_simulator_uses():
    dist = {"dist": "normal", "mean": 12.0, "std": 1.5}
    doc = node_doc(tau_m=dist)
    project = Project.from_dict(doc)
    used = resolve_neuron_params(project, project.network.node("pop"))["tau_m"]
    np.testing.assert_array_equal(document_values(doc, "pop", "tau_m"), used)
    parts, _ = inspect(doc)
    data = histogram_of(parts, "tau_m")
    counts, edges = histogram_counts(used)
    np.testing.assert_array_equal(data["count"], counts)
    np.testing.assert_array_equal(data["left"], edges[:-1])
    assert sum(data["count"]) == 200
    summary = summary_of(parts, "tau_m")
    assert "per neuron: normal, mean 12, std 1.5 ms" in summary
    assert f"drawn: mean {used.mean():.6g} / min {used.min():.6g}" in summary


def test_the_histogram_follows_the_distribution_and_the_seed():
    parts, _ = inspect(node_doc(tau_m={"dist": "uniform", "low": 8.0, "high": 9.0}))
    narrow = histogram_of(parts, "tau_m")
    parts, _ = inspect(node_doc(tau_m={"dist": "uniform", "low": 8.0, "high": 20.0}))
    wide = histogram_of(parts, "tau_m")
    assert max(narrow["right"]) <= 9.0 < max(wide["right"])
    assert document_values(node_doc(seed=1, tau_m={"dist": "normal", "mean": 10, "std": 1}),
                           "pop", "tau_m")[0] != document_values(
        node_doc(seed=2, tau_m={"dist": "normal", "mean": 10, "std": 1}), "pop", "tau_m")[0]


def test_an_invalid_distribution_shows_no_histogram_and_its_field_is_named_as_on_the_page():
    doc = node_doc(tau_m={"dist": "normal", "mean": 10.0, "std": 3.0})
    assert document_values(doc, "pop", "tau_m") is None
    parts, _ = inspect(doc)
    assert not [p for p in parts if isinstance(p, pn.pane.Bokeh)]
    [problem] = [p for p in validate_document(doc) if ".tau_m" in p.path]
    assert problem.path == "network.nodes[1].params.tau_m.std"
    label = field_label(doc, problem.path)
    assert label.endswith("tau m (ms), std (ms)")
    lognormal = node_doc(tau_m={"dist": "lognormal", "mu": 2.0, "sigma": 9.0})
    assert field_label(lognormal, "network.nodes[1].params.tau_m.sigma").endswith(
        "tau m (ms), sigma")


@pytest.mark.parametrize("dist", list(DISTS))
def test_a_number_becomes_a_distribution_centred_on_it_in_one_edit(dist):
    parts, applied = inspect(node_doc(tau_m=20.0))
    kind = next(p for p in parts if isinstance(p, pn.Row)
                for w in p if "ss-vary-dist" in w.css_classes)[0]
    choose = next(p for p in parts if isinstance(p, pn.Row))[1]
    kind.value = dist
    assert applied == []
    choose.value = "tau_m"
    assert applied == [(edits.vary_per_neuron, ("pop", "tau_m", dist))]
    new = edits.vary_per_neuron(node_doc(tau_m=20.0), "pop", "tau_m", dist)
    assert new["network"]["nodes"][1]["params"]["tau_m"]["dist"] == dist
    assert validate_document(new) == []
    drawn = document_values(new, "pop", "tau_m")
    assert 17.0 < np.median(drawn) < 23.0 and drawn.std() > 0


def test_a_lognormal_of_a_negative_value_is_refused_with_the_reason():
    with pytest.raises(edits.EditError, match="v_thresh of 'pop' is -50: a lognormal"):
        edits.vary_per_neuron(node_doc(v_thresh=-50.0), "pop", "v_thresh", "lognormal")
    with pytest.raises(edits.EditError, match="not one number"):
        edits.vary_per_neuron(node_doc(v_thresh=[-50.0] * 200), "pop", "v_thresh", "normal")


def test_back_to_one_value_is_the_mean():
    for value, mean in (({"dist": "normal", "mean": 20.0, "std": 2.0}, 20.0),
                        ({"dist": "uniform", "low": 18.0, "high": 24.0}, 21.0),
                        ([10.0, 20.0] * 100, 15.0)):
        parts, applied = inspect(node_doc(tau_m=value))
        mode = next(p for p in parts if isinstance(p, pn.widgets.Select)
                    and p.name == "tau_m per neuron")
        mode.value = "constant"
        assert applied[-1] == (edits.set_node_param, ("pop", "tau_m", mean))


def test_a_per_neuron_parameter_is_not_offered_again():
    parts, _ = inspect(node_doc(tau_m={"dist": "normal", "mean": 20.0, "std": 2.0}))
    choose = next(p for p in parts if isinstance(p, pn.Row))[1]
    assert "tau_m" not in choose.options and "v_thresh" in choose.options
    forms = [p for p in parts if isinstance(p, ParamForm)]
    assert [s.name for s in forms[-1].specs] == ["mean", "std"]


@pytest.mark.parametrize("model", sorted(NEURON_MODELS))
def test_centred_distributions_of_every_default_are_valid(model):
    for spec in NEURON_MODELS[model].params:
        if not per_neuron_spec(spec) or not isinstance(spec.default, (int, float)):
            continue
        for dist in DISTS:
            if dist == "lognormal" and spec.default <= 0:
                continue  # no lognormal of a value <= 0 (validation says so)
            value = centred_distribution(spec.default, dist, spec)
            assert value_problems(value, spec, 10, None) == [], (model, spec.name, dist)
