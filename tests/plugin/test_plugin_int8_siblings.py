"""int8 siblings are models too: when quant_mode makes the runtime load `<stem>.int8.onnx` instead of the ONNX, the
sibling is trusted like the ONNX (confined, capped, hashed, parsed) and gets the static checks and the nominal run,
with findings that name its file; it is screened by the allowlist before it is ever run."""

from __future__ import annotations

import onnx
import pytest
from onnx import helper
from plugin_builders import (
    CHECKS,
    assert_clean_failure,
    assert_only_failing,
    item_outcomes,
    lines,
    resize_middle,
    saliency_model,
    sha256_bytes,
)

SIBLING = "owl.int8.onnx"


def add_quantised(registry, sibling: onnx.ModelProto | bytes | None, **entry) -> str:
    """A healthy fp32 model `owl` with quant_mode dynamic and `sibling` as its int8 file (None: no file)."""
    data = sibling if isinstance(sibling, bytes | type(None)) else sibling.SerializeToString()
    if data is not None:
        (registry.folder / SIBLING).write_bytes(data)
    entry.setdefault("int8_sha256", sha256_bytes(data if data is not None else b"the int8 model"))
    registry.add("owl", quant_mode="dynamic", **entry)
    return entry["int8_sha256"]


def failure_text(result, item: str) -> str:
    """The failure lines of one item of an in-process run."""
    reports = result.reprec.getreports("pytest_runtest_logreport")
    return next(str(report.longrepr) for report in reports if report.nodeid.endswith(f"::{item}") and report.failed)


def dynamic_quantised() -> onnx.ModelProto:
    """The saliency model with its 1x1 conv as the dynamic PTQ graph: DynamicQuantizeLinear → ConvInteger."""
    nodes = [
        helper.make_node("DynamicQuantizeLinear", ["input"], ["q", "q_scale", "q_zero"], name="input_quant"),
        helper.make_node("ConvInteger", ["q", "w_q", "q_zero"], ["acc"], name="conv_quant"),
        helper.make_node("Cast", ["acc"], ["acc_f"], name="cast", to=onnx.TensorProto.FLOAT),
        helper.make_node("Mul", ["acc_f", "q_scale"], ["logits"], name="rescale"),
        helper.make_node("Sigmoid", ["logits"], ["saliency_map"], name="sigmoid"),
    ]
    model = saliency_model(tail=nodes)
    del model.graph.node[0]  # the float Conv
    model.graph.initializer.append(helper.make_tensor("w_q", onnx.TensorProto.UINT8, [1, 3, 1, 1], [20, 30, 50]))
    return model


def test_a_healthy_sibling_passes_every_static_check_and_its_nominal_run(registry, run_tinyai):
    add_quantised(registry, saliency_model())
    run_tinyai(registry).assert_outcomes(passed=5)


def test_a_sibling_with_an_op_off_the_allowlist_is_found_and_never_run(registry, run_tinyai):
    add_quantised(registry, dynamic_quantised())
    result = run_tinyai(registry)
    assert_clean_failure(result)
    assert_only_failing(result, "owl", "allowlist", "contract")
    result.stdout.fnmatch_lines(
        lines(
            f"owl: {SIBLING}: DynamicQuantizeLinear 'input_quant': op 'DynamicQuantizeLinear' is not on the allowlist",
            f"owl: {SIBLING}: ConvInteger 'conv_quant': op 'ConvInteger' is not on the allowlist",
        )
    )
    # the fp32 graph passed its own screening and ran; the sibling was refused by its screening, in one line
    result.stdout.fnmatch_lines(
        lines(f"owl: {SIBLING}: not run: allowlist failed: DynamicQuantizeLinear 'input_quant': op 'Dynamic")
    )
    assert failure_text(result, "contract[owl]") == (
        f"owl: {SIBLING}: not run: allowlist failed: DynamicQuantizeLinear 'input_quant': op 'DynamicQuantizeLinear' "
        "is not on the allowlist (allowlist.config) (and 1 more, see the allowlist check)"
    )


def test_a_sibling_with_another_opset_is_found(registry, run_tinyai):
    add_quantised(registry, saliency_model(opset=18))
    result = run_tinyai(registry)
    assert_only_failing(result, "owl", "opset")
    result.stdout.fnmatch_lines(
        lines(
            f"owl: {SIBLING}: registry opset 17 != graph default-domain opset_import 18",
            f"owl: {SIBLING}: sidecar onnx_opset 17 != graph default-domain opset_import 18",
        )
    )


def test_a_sibling_with_a_resize_outside_the_contract_is_found(registry, run_tinyai):
    middle, initializers = resize_middle(mode="cubic")
    add_quantised(registry, saliency_model(middle, initializers=initializers))
    result = run_tinyai(registry)
    assert_only_failing(result, "owl", "resize")
    result.stdout.fnmatch_lines(lines(f"owl: {SIBLING}: Resize 'up' mode='cubic' (allowed: nearest, linear)"))


def test_the_sibling_runs_at_the_nominal_shape_against_the_contract(registry, run_tinyai):
    """A sibling whose output leaves the declared range: only a run at the nominal shape can show it."""
    tail = [
        helper.make_node("Relu", ["logits"], ["shifted"], name="relu"),
        helper.make_node("Add", ["shifted", "two"], ["saliency_map"], name="plus_two"),
    ]
    add_quantised(registry, saliency_model(tail=tail, initializers=[helper.make_tensor("two", 1, [], [2.0])]))
    result = run_tinyai(registry)
    assert_only_failing(result, "owl", "contract")
    text = failure_text(result, "contract[owl]")
    assert text.startswith(f"owl: {SIBLING}: 'saliency_map' values span [2, "), text
    assert text.endswith("outside the declared range [0.0, 1.0]"), text


def test_a_sibling_whose_outputs_differ_from_the_sidecar_names_is_found(registry, run_tinyai):
    sibling = saliency_model()
    sibling.graph.output[0].name = "mask"
    sibling.graph.node[-1].output[0] = "mask"
    add_quantised(registry, sibling)
    result = run_tinyai(registry)
    assert_only_failing(result, "owl", "contract")
    result.stdout.fnmatch_lines(
        lines(f"owl: {SIBLING}: sidecar output names ['saliency_map'] != graph outputs ['mask']")
    )


@pytest.mark.parametrize(
    ("sibling", "declared", "problem"),
    [
        (None, None, f"int8 sibling '{SIBLING}' does not exist"),
        (b"an int8 model", "0" * 64, f"int8_sha256 mismatch for '{SIBLING}': registry says {'0' * 64}, file is "),
        (b"not protobuf at all", None, f"int8 sibling '{SIBLING}' is not a valid ONNX model: "),
    ],
    ids=["missing", "digest-mismatch", "not-onnx"],
)
def test_a_sibling_that_cannot_be_trusted_gates_everything(registry, run_tinyai, sibling, declared, problem):
    add_quantised(registry, sibling, **({"int8_sha256": declared} if declared else {}))
    result = run_tinyai(registry)
    assert_clean_failure(result)
    assert_only_failing(result, "owl", *CHECKS)
    result.stdout.fnmatch_lines(lines(f"owl: {problem}"))
    result.stdout.fnmatch_lines(lines(f"owl: not checked: registry trust failed: {problem}"))


def test_the_sibling_external_data_is_confined_like_the_models(registry, run_tinyai):
    sibling = saliency_model()
    weight = sibling.graph.initializer[0]
    weight.ClearField("raw_data")
    del weight.float_data[:]
    weight.data_location = onnx.TensorProto.EXTERNAL
    weight.external_data.add(key="location", value="../outside.data")
    add_quantised(registry, sibling)
    result = run_tinyai(registry)
    assert_only_failing(result, "owl", *CHECKS)
    result.stdout.fnmatch_lines(
        lines(f"owl: int8 sibling '{SIBLING}': external data path '../outside.data' escapes the registry folder")
    )


def test_an_fp32_entry_has_no_sibling_to_check(registry, run_tinyai):
    """quant_mode fp32 ships the ONNX as it is: a stray `.int8.onnx` beside it is not the model."""
    (registry.folder / SIBLING).write_bytes(dynamic_quantised().SerializeToString())
    registry.add("owl", quant_mode="fp32")
    run_tinyai(registry).assert_outcomes(passed=5)
    assert item_outcomes(run_tinyai(registry))["allowlist[owl]"] == "passed"
