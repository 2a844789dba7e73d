"""The contract check: graph I/O against the sidecar's names and tensor contract, the ONNX checker, one ORT run."""

from __future__ import annotations

import pytest
from onnx import helper
from plugin_builders import (
    FLOAT16,
    assert_clean_failure,
    assert_only_failing,
    const,
    lines,
    saliency_model,
    saliency_sidecar,
    with_sidecar,
)


def sigmoid_then(*nodes):
    """A tail: logits → Sigmoid 'sigmoid' → 'probability' → `nodes` → saliency_map."""
    return [helper.make_node("Sigmoid", ["logits"], ["probability"], name="sigmoid"), *nodes]


def test_renamed_input_is_reported_against_sidecar_names_and_contract(registry, run_tinyai):
    registry.add("owl", saliency_model(input_name="image"))
    result = run_tinyai(registry)
    assert_clean_failure(result)
    assert_only_failing(result, "owl", "contract")
    result.stdout.fnmatch_lines(
        lines(
            "owl: sidecar input names ['input'] != graph inputs ['image']",
            "owl: graph inputs ['image'] are not in the contract",
            "owl: contract input 'input' is not a graph input (graph has ['image'])",
        )
    )


def test_fixed_256_where_the_contract_declares_h_dynamic_is_refused(registry, run_tinyai):
    registry.add("owl", saliency_model(input_shape=(1, 3, 256, "W")))
    result = run_tinyai(registry)
    assert_clean_failure(result)
    assert_only_failing(result, "owl", "contract")
    result.stdout.fnmatch_lines(lines("owl: 'input' axis 2 is fixed to 256, the contract declares dynamic H"))


def test_a_normalisation_that_does_not_fit_the_channels_is_refused(registry, run_tinyai):
    sidecar = with_sidecar("owl")
    sidecar["tinyai"]["contract"]["inputs"][0]["normalisation"] = {"mean": [0.5, 0.5], "std": [0.5, 0.5]}
    registry.add("owl", sidecar=sidecar)
    result = run_tinyai(registry)
    assert_clean_failure(result)
    assert_only_failing(result, "owl", "contract")
    result.stdout.fnmatch_lines(lines("owl: 'input' normalisation mean has 2 values for 3 channels"))


def test_dynamic_channels_where_the_contract_declares_3_are_refused(registry, run_tinyai):
    registry.add("owl", saliency_model(input_shape=(1, "C", "H", "W")))
    result = run_tinyai(registry, "-m", "tinyai_contract")
    assert_clean_failure(result)
    result.stdout.fnmatch_lines(lines("owl: 'input' axis 1 is dynamic 'C', the contract declares 3"))


def test_wrong_rank_is_refused(registry, run_tinyai):
    sidecar = saliency_sidecar("owl")
    sidecar["tinyai"]["contract"]["inputs"][0]["shape"] = [3, "H", "W"]
    registry.add("owl", sidecar=sidecar)
    result = run_tinyai(registry, "-m", "tinyai_contract")
    assert_clean_failure(result)
    result.stdout.fnmatch_lines(lines("owl: 'input' has rank 4, the contract declares [3, 'H', 'W']"))


def test_float16_output_where_float32_is_declared_is_refused(registry, run_tinyai):
    to_half = helper.make_node("Cast", ["probability"], ["saliency_map"], name="to_half", to=FLOAT16)
    registry.add("owl", saliency_model(tail=sigmoid_then(to_half), output_dtype=FLOAT16))
    result = run_tinyai(registry)
    assert_clean_failure(result)
    assert_only_failing(result, "owl", "contract")
    result.stdout.fnmatch_lines(lines("owl: 'saliency_map' element type is float16, the contract declares float32"))


@pytest.mark.parametrize(
    ("tail", "initializers"),
    [
        pytest.param([helper.make_node("Identity", ["logits"], ["saliency_map"])], [], id="no-sigmoid"),
        pytest.param(
            sigmoid_then(helper.make_node("Add", ["probability", "two"], ["saliency_map"], name="shift")),
            [const("two", 2.0)],
            id="sigmoid-plus-2",
        ),
    ],
)
def test_output_outside_the_declared_range_is_refused(registry, run_tinyai, tail, initializers):
    registry.add("owl", saliency_model(tail=tail, initializers=initializers))
    result = run_tinyai(registry)
    assert_clean_failure(result)
    assert_only_failing(result, "owl", "contract")
    result.stdout.fnmatch_lines(["*owl: 'saliency_map' values span [[]*], outside the declared range [[]0.0, 1.0]*"])


def test_non_finite_output_is_refused(registry, run_tinyai):
    blow_up = helper.make_node("Div", ["probability", "zero"], ["saliency_map"], name="blow_up")
    registry.add("owl", saliency_model(tail=sigmoid_then(blow_up), initializers=[const("zero", 0.0)]))
    result = run_tinyai(registry, "-m", "tinyai_contract")
    assert_clean_failure(result)
    result.stdout.fnmatch_lines(lines("owl: 'saliency_map' has 1024 non-finite values at nominal"))


def test_model_onnxruntime_cannot_run_at_the_nominal_shape_is_refused(registry, run_tinyai):
    reshape = helper.make_node("Reshape", ["features", "fixed"], ["logits"], name="fixed_reshape")
    registry.add("owl", saliency_model([reshape], initializers=[const("fixed", [1, 1, 16, 16], "int64")]))
    result = run_tinyai(registry)
    assert_clean_failure(result)
    assert_only_failing(result, "owl", "contract")
    result.stdout.fnmatch_lines(lines("owl: onnxruntime fails at the nominal shape {'H': 32, 'W': 32}: "))


def test_output_shape_differing_from_the_contract_at_nominal_is_refused(registry, run_tinyai):
    pool = helper.make_node("AveragePool", ["features"], ["logits"], name="pool", kernel_shape=[2, 2], strides=[2, 2])
    registry.add("owl", saliency_model([pool]))
    result = run_tinyai(registry)
    assert_clean_failure(result)
    assert_only_failing(result, "owl", "contract")
    result.stdout.fnmatch_lines(
        lines("owl: 'saliency_map' has shape [1, 1, 16, 16] at nominal, the contract says [1, 1, 32, 32]")
    )


def test_nominal_shape_breaking_the_declared_dims_is_refused(registry, run_tinyai):
    sidecar = saliency_sidecar("owl")
    sidecar["tinyai"]["contract"]["nominal"] = {"H": 1000, "W": 32}
    registry.add("owl", sidecar=sidecar)
    result = run_tinyai(registry, "-m", "tinyai_contract")
    assert_clean_failure(result)
    result.stdout.fnmatch_lines(
        lines("owl: nominal shape {'H': 1000, 'W': 32} breaks the contract: H=1000 is outside [1, 512]")
    )


def test_contract_without_a_nominal_shape_is_refused(registry, run_tinyai):
    sidecar = saliency_sidecar("owl")
    del sidecar["tinyai"]["contract"]["nominal"]
    registry.add("owl", sidecar=sidecar)
    result = run_tinyai(registry, "-m", "tinyai_contract")
    assert_clean_failure(result)
    result.stdout.fnmatch_lines(lines("owl: the contract declares no nominal shape for the runtime check"))


def test_model_failing_the_onnx_checker_is_refused(registry, run_tinyai):
    model = saliency_model()
    weight = next(tensor for tensor in model.graph.initializer if tensor.name == "conv_w")
    weight.CopyFrom(const("conv_w", [0.2, 0.3, 0.5]))  # rank 1: no Conv weight
    registry.add("owl", model)
    result = run_tinyai(registry, "-m", "tinyai_contract")
    assert_clean_failure(result)
    result.stdout.fnmatch_lines(lines("owl: onnx.checker (full_check) fails: "))


def test_upstream_sidecar_with_only_tensor_names_checks_the_names(registry, run_tinyai):
    upstream = {"name": "owl", "input_name": "input", "output_name": "saliency", "onnx_opset": 17}
    registry.add("owl", sidecar=upstream)
    result = run_tinyai(registry)
    assert_clean_failure(result)
    assert_only_failing(result, "owl", "contract")
    result.stdout.fnmatch_lines(lines("owl: sidecar output names ['saliency'] != graph outputs ['saliency_map']"))


def test_upstream_sidecar_with_matching_tensor_names_passes(registry, run_tinyai):
    upstream = with_sidecar("owl", contract=None, input_name=None, input_names=["input"])
    registry.add("owl", sidecar=upstream)
    run_tinyai(registry).assert_outcomes(passed=5)
