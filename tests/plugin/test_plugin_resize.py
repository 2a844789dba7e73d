"""The Resize check: every Resize node (subgraphs too), ONNX defaults filled in, within the runtime's contract."""

from __future__ import annotations

import json

from onnx import helper
from plugin_builders import (
    FLOAT,
    assert_clean_failure,
    assert_only_failing,
    assert_usage_error,
    const,
    constant_node,
    if_node,
    lines,
    resize_middle,
    saliency_model,
    true_cond,
    with_sidecar,
)


def resize_model(opset: int = 17, **attributes):
    """input → Conv → Resize 'up' (x2, constant scales, `attributes`) → AveragePool (/2) → Sigmoid."""
    middle, initializers = resize_middle(**attributes)
    return saliency_model(middle, initializers=initializers, opset=opset)


def test_linear_resize_with_constant_scales_passes(registry, run_tinyai):
    registry.add("owl", resize_model(mode="linear"))
    run_tinyai(registry).assert_outcomes(passed=5)


def test_align_corners_is_refused(registry, run_tinyai):
    registry.add("owl", resize_model(mode="linear", coordinate_transformation_mode="align_corners"))
    result = run_tinyai(registry)
    assert_clean_failure(result)
    assert_only_failing(result, "owl", "resize")
    result.stdout.fnmatch_lines(
        lines("owl: Resize 'up' coordinate_transformation_mode='align_corners' (allowed: half_pixel, asymmetric)")
    )


def test_cubic_mode_is_refused(registry, run_tinyai):
    registry.add("owl", resize_model(mode="cubic"))
    result = run_tinyai(registry)
    assert_clean_failure(result)
    assert_only_failing(result, "owl", "resize")
    result.stdout.fnmatch_lines(lines("owl: Resize 'up' mode='cubic' (allowed: nearest, linear)"))


def test_antialias_at_opset_18_is_refused(registry, run_tinyai):
    registry.add("owl", resize_model(opset=18, mode="linear", antialias=1))
    result = run_tinyai(registry)
    assert_clean_failure(result)
    assert_only_failing(result, "owl", "resize")
    result.stdout.fnmatch_lines(lines("owl: Resize 'up' antialias=1 (allowed: 0)"))


def test_axes_attribute_is_refused(registry, run_tinyai):
    middle, initializers = resize_middle(mode="linear", axes=[2, 3])
    initializers = [const("scales", [2.0, 2.0])]
    registry.add("owl", saliency_model(middle, initializers=initializers, opset=18))
    result = run_tinyai(registry, "-m", "tinyai_resize")
    assert_clean_failure(result)
    result.stdout.fnmatch_lines(lines("owl: Resize 'up' sets 'axes', which the runtime does not support"))


def test_resize_inside_a_subgraph_is_checked_and_named_with_its_scope(registry, run_tinyai):
    middle, initializers = resize_middle(mode="cubic")
    middle[-1].output[0] = "logits_then"
    keep = helper.make_node("Identity", ["features"], ["same"], name="keep")
    branch = if_node("branch", middle, "logits_then", [keep], "same", "logits")
    registry.add("owl", saliency_model([branch], initializers=[*initializers, true_cond()]))
    result = run_tinyai(registry)
    assert_clean_failure(result)
    assert_only_failing(result, "owl", "resize")
    result.stdout.fnmatch_lines(
        lines("owl: Resize 'up' mode='cubic' (allowed: nearest, linear) (in main graph > If 'branch'.then_branch)")
    )


def test_sizes_instead_of_scales_is_refused(registry, run_tinyai):
    middle, _ = resize_middle(mode="linear", sizes="sizes")
    registry.add("owl", saliency_model(middle, initializers=[const("sizes", [1, 1, 64, 64], "int64")]))
    result = run_tinyai(registry)
    assert_clean_failure(result)
    assert_only_failing(result, "owl", "resize")
    result.stdout.fnmatch_lines(lines("owl: Resize 'up' takes 'sizes' ('sizes'); only constant 'scales' are supported"))


def test_scales_computed_from_shape_at_run_time_are_refused(registry, run_tinyai):
    middle, _ = resize_middle(mode="linear")
    computed = [
        helper.make_node("Shape", ["features"], ["shape"], name="shape"),
        helper.make_node("Cast", ["shape"], ["shape_f"], name="cast", to=FLOAT),
        helper.make_node("Div", ["shape_f", "shape_f"], ["ones"], name="ones"),
        helper.make_node("Mul", ["ones", "factors"], ["scales"], name="scales"),
    ]
    registry.add("owl", saliency_model([*computed, *middle], initializers=[const("factors", [1.0, 1.0, 2.0, 2.0])]))
    result = run_tinyai(registry)
    assert_clean_failure(result)
    assert_only_failing(result, "owl", "resize")
    result.stdout.fnmatch_lines(
        lines("owl: Resize 'up' scales 'scales' are computed at run time; they must be an initializer or Constant")
    )


def test_scales_from_a_constant_node_are_accepted(registry, run_tinyai):
    middle, _ = resize_middle(mode="nearest")
    registry.add("owl", saliency_model([constant_node("scales", [1.0, 1.0, 2.0, 2.0]), *middle]))
    run_tinyai(registry).assert_outcomes(passed=5)


def test_scales_from_a_constant_value_floats_attribute_are_accepted(registry, run_tinyai):
    middle, _ = resize_middle(mode="nearest")
    scales = helper.make_node("Constant", [], ["scales"], name="scales", value_floats=[1.0, 1.0, 2.0, 2.0])
    registry.add("owl", saliency_model([scales, *middle]))
    run_tinyai(registry).assert_outcomes(passed=5)


def test_scales_initializer_that_is_also_a_graph_input_is_refused(registry, run_tinyai):
    middle, initializers = resize_middle(mode="linear")
    overridable = helper.make_tensor_value_info("scales", FLOAT, [4])
    registry.add("owl", saliency_model(middle, initializers=initializers, extra_inputs=[overridable]))
    result = run_tinyai(registry, "-m", "tinyai_resize")
    assert_clean_failure(result)
    result.stdout.fnmatch_lines(lines("owl: Resize 'up' scales 'scales' are computed at run time"))


def test_sidecar_resize_attributes_differing_from_the_graph_are_reported(registry, run_tinyai):
    declared = {"mode": "nearest", "coordinate_transformation_mode": "half_pixel"}
    sidecar = with_sidecar("owl", training={"resize_attributes": declared})
    registry.add("owl", resize_model(mode="linear"), sidecar=sidecar)
    result = run_tinyai(registry)
    assert_clean_failure(result)
    assert_only_failing(result, "owl", "resize")
    result.stdout.fnmatch_lines(lines("owl: Resize 'up' mode='linear' but the sidecar declares 'nearest'"))
    assert "coordinate_transformation_mode='half_pixel' but" not in result.stdout.str()


def test_sidecar_resize_attributes_matching_the_graph_after_defaults_pass(registry, run_tinyai):
    declared = {"mode": "linear", "coordinate_transformation_mode": "half_pixel", "antialias": 0}
    sidecar = with_sidecar("owl", training={"resize_attributes": declared})
    registry.add("owl", resize_model(mode="linear"), sidecar=sidecar)
    run_tinyai(registry).assert_outcomes(passed=5)


def test_sidecar_declaring_antialias_1_before_opset_18_is_refused(registry, run_tinyai):
    sidecar = with_sidecar("owl", training={"resize_attributes": {"mode": "linear", "antialias": 1}})
    registry.add("owl", resize_model(mode="linear"), sidecar=sidecar)
    result = run_tinyai(registry, "-m", "tinyai_resize")
    assert_clean_failure(result)
    result.stdout.fnmatch_lines(lines("owl: Resize 'up' antialias=0 but the sidecar declares 1"))


def test_sidecar_declaring_an_attribute_resize_never_has_is_refused(registry, run_tinyai):
    sidecar = with_sidecar("owl", training={"resize_attributes": {"mode": "linear", "sharpness": 2}})
    registry.add("owl", resize_model(mode="linear"), sidecar=sidecar)
    result = run_tinyai(registry, "-m", "tinyai_resize")
    assert_clean_failure(result)
    result.stdout.fnmatch_lines(
        lines("owl: Resize 'up' has no attribute 'sharpness' at opset 17, but the sidecar declares 2")
    )


def test_resize_contract_option_replaces_the_default_contract(pytester, registry, run_tinyai):
    contract = pytester.path / "cubic_ok.json"
    contract.write_text(json.dumps({"allowed": {"mode": ["nearest", "linear", "cubic"]}}))
    registry.add("owl", resize_model(mode="cubic", coordinate_transformation_mode="align_corners"))
    run_tinyai(registry, "--tinyai-resize-contract", str(contract)).assert_outcomes(passed=5)


def test_resize_contract_option_can_be_stricter_than_the_default(pytester, registry, run_tinyai):
    contract = pytester.path / "nearest_only.json"
    contract.write_text(json.dumps({"allowed": {"mode": ["nearest"]}}))
    registry.add("owl", resize_model(mode="linear"))
    result = run_tinyai(registry, "--tinyai-resize-contract", str(contract), "-m", "tinyai_resize")
    assert_clean_failure(result)
    result.stdout.fnmatch_lines(lines("owl: Resize 'up' mode='linear' (allowed: nearest)"))


def test_a_malformed_resize_contract_is_a_usage_error(pytester, registry, run_tinyai):
    contract = pytester.path / "broken.json"
    contract.write_text('{"allowed": ["mode"]}')
    registry.add("owl")
    result = run_tinyai(registry, "--tinyai-resize-contract", str(contract))
    assert_usage_error(result, f"pytest-tinyai: *resize contract {contract}: *")


def test_resize_node_at_an_opset_before_resize_existed_is_a_finding_not_a_crash(registry, run_tinyai):
    registry.add("owl", resize_model(opset=9, mode="linear"))
    result = run_tinyai(registry, "-m", "tinyai_resize")
    assert_clean_failure(result)
    result.stdout.fnmatch_lines(lines("owl: Resize 'up' does not exist at opset 9 (ONNX added Resize in opset 10)"))


def test_opset_10_resize_behaves_as_asymmetric_which_a_half_pixel_sidecar_contradicts(registry, run_tinyai):
    middle, initializers = resize_middle(mode="linear")
    del middle[0].input[1]  # Resize-10 takes (X, scales)
    sidecar = with_sidecar("owl", 10, training={"resize_attributes": {"coordinate_transformation_mode": "half_pixel"}})
    registry.add("owl", saliency_model(middle, initializers=initializers, opset=10), sidecar=sidecar)
    result = run_tinyai(registry)
    assert_clean_failure(result)
    assert_only_failing(result, "owl", "resize")
    result.stdout.fnmatch_lines(
        lines("owl: Resize 'up' coordinate_transformation_mode='asymmetric' but the sidecar declares 'half_pixel'")
    )


def test_a_resize_contract_with_a_mistyped_key_is_refused_not_silently_ignored(pytester, registry, run_tinyai):
    contract = pytester.path / "typo.json"
    contract.write_text(json.dumps({"allowed": {"mode": ["nearest"]}, "forbiden_attributes": ["axes"]}))
    registry.add("owl")
    result = run_tinyai(registry, "--tinyai-resize-contract", str(contract))
    assert_usage_error(result, "pytest-tinyai: *unknown keys ?'forbiden_attributes'?*")
