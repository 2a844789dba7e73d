"""The opset check: registry, sidecar and graph agree on one default-domain opset; every node is an ONNX op."""

from __future__ import annotations

import pytest
from onnx import helper
from plugin_builders import (
    assert_clean_failure,
    assert_only_failing,
    if_node,
    lines,
    saliency_model,
    true_cond,
    with_sidecar,
)

GRAPH_17 = "graph default-domain opset_import 17 of 'owl.onnx'"
GRAPH_18 = "graph default-domain opset_import 18 of 'owl.onnx'"


@pytest.mark.parametrize(
    ("registry_opset", "sidecar_opset", "graph_opset", "expected"),
    [
        pytest.param(18, 17, 17, [f"registry opset 18 != {GRAPH_17}"], id="registry-differs"),
        pytest.param(17, 16, 17, [f"sidecar onnx_opset 16 != {GRAPH_17}"], id="sidecar-differs"),
        pytest.param(
            17, 17, 18, [f"registry opset 17 != {GRAPH_18}", f"sidecar onnx_opset 17 != {GRAPH_18}"], id="graph-differs"
        ),
    ],
)
def test_opset_mismatch_between_registry_sidecar_and_graph_fails_naming_both_values(
    registry, run_tinyai, registry_opset, sidecar_opset, graph_opset, expected
):
    sidecar = with_sidecar("owl", onnx_opset=sidecar_opset)
    registry.add("owl", saliency_model(opset=graph_opset), sidecar=sidecar, opset=registry_opset)
    result = run_tinyai(registry)
    assert_clean_failure(result)
    assert_only_failing(result, "owl", "opset")
    result.stdout.fnmatch_lines(lines(*(f"owl: {message}" for message in expected)))


def test_registry_and_sidecar_disagreeing_is_reported_as_such(registry, run_tinyai):
    registry.add("owl", saliency_model(opset=17), sidecar=with_sidecar("owl", onnx_opset=16), opset=18)
    result = run_tinyai(registry)
    assert_clean_failure(result)
    result.stdout.fnmatch_lines(lines("owl: registry opset 18 != sidecar onnx_opset 16"))


def test_custom_domain_node_named_conv_is_refused(registry, run_tinyai):
    impostor = helper.make_node("Conv", ["features"], ["logits"], name="fast_conv", domain="com.example")
    registry.add("owl", saliency_model([impostor], extra_opsets={"com.example": 1}))
    result = run_tinyai(registry)
    assert_clean_failure(result)
    result.stdout.fnmatch_lines(lines("owl: Conv 'fast_conv' is in domain 'com.example', not the default ONNX domain"))
    assert_only_failing(result, "owl", "opset", "allowlist", "contract")


def test_custom_domain_node_is_not_allowlisted_under_the_default_domains_opset(registry, run_tinyai):
    impostor = helper.make_node("Conv", ["features"], ["logits"], name="fast_conv", domain="com.example")
    registry.add("owl", saliency_model([impostor], extra_opsets={"com.example": 1}))
    result = run_tinyai(registry, "-m", "tinyai_allowlist")
    assert_clean_failure(result)
    result.stdout.fnmatch_lines(lines("owl: Conv 'fast_conv': op 'com.example.Conv' (opset 1) is not on the allowlist"))


def test_custom_domain_node_inside_a_subgraph_is_refused_with_its_scope(registry, run_tinyai):
    impostor = helper.make_node("Relu", ["features"], ["inner"], name="fast_relu", domain="com.example")
    keep = helper.make_node("Identity", ["features"], ["same"], name="keep")
    branch = if_node("branch", [impostor], "inner", [keep], "same", "logits")
    registry.add("owl", saliency_model([branch], initializers=[true_cond()], extra_opsets={"com.example": 1}))
    result = run_tinyai(registry, "-m", "tinyai_opset")
    assert_clean_failure(result)
    result.stdout.fnmatch_lines(
        lines(
            "owl: Relu 'fast_relu' is in domain 'com.example', not the default ONNX domain "
            "(in main graph > If 'branch'.then_branch)"
        )
    )


def test_graph_without_a_default_domain_opset_import_is_refused(registry, run_tinyai):
    model = saliency_model()
    del model.opset_import[:]
    model.opset_import.append(helper.make_opsetid("com.example", 1))
    registry.add("owl", model, sidecar=with_sidecar("owl", onnx_opset=None), drop=["opset"], smoke=True)
    result = run_tinyai(registry, "-m", "tinyai_opset")
    assert_clean_failure(result)
    result.stdout.fnmatch_lines(lines("owl: the graph of 'owl.onnx' imports no default-domain (ai.onnx) opset"))
