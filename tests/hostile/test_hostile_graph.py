"""Hostile graphs: tensors and subgraphs stored where a walker that trusts declared types would not look.

External data on a sparse tensor, a Constant's sparse_value, an If branch or a function's attribute default is
confined and capped like any other; an op in a subgraph is checked whatever type its attribute declares, and the
mistyped attribute is itself a finding.
"""

from __future__ import annotations

import numpy as np
import onnx
from hostile_builders import assert_contained, external, run_hostile
from onnx import AttributeProto, TensorProto, helper
from plugin_builders import OPSET, const, if_node, loop_node, resize_middle, saliency_model, true_cond

IDENTITY = helper.make_node("Identity", ["features"], ["logits"], name="pass")
CUSTOM_OP = helper.make_node("Run", ["features"], ["hidden"], name="payload", domain="evil")
DISALLOWED_OP = helper.make_node("Einsum", ["features"], ["hidden"], name="payload", equation="ij->ij")
# A 0.001 MiB (1,048-byte) cap: the healthy model is smaller, a 4 KiB external file is over it.
SMALL_CAP = ("--tinyai-max-onnx-mib", "0.001")


def sparse(values: TensorProto, indices: TensorProto | None = None) -> onnx.SparseTensorProto:
    return helper.make_sparse_tensor(values, indices or const("indices", [0], np.int64), [4])


def with_sparse_initializer(tensor: onnx.SparseTensorProto) -> onnx.ModelProto:
    model = saliency_model()
    model.graph.sparse_initializer.append(tensor)
    return model


def hiding_if(op: onnx.NodeProto) -> onnx.NodeProto:
    """If 'branch': the then branch passes 'features' through, the else branch runs `op` ('features' → 'hidden')."""
    keep = helper.make_node("Identity", ["features"], ["kept"], name="keep")
    return if_node("branch", [keep], "kept", [op], "hidden", "logits")


def declared_as(node: onnx.NodeProto, attribute: str, declared: int) -> onnx.NodeProto:
    """The node with `attribute`'s declared type changed and its value left where it is."""
    next(attr for attr in node.attribute if attr.name == attribute).type = declared
    return node


def model_with(node: onnx.NodeProto, opsets: dict[str, int] | None = None) -> onnx.ModelProto:
    return saliency_model([node], initializers=[true_cond()], extra_opsets=opsets)


def with_function(attribute: AttributeProto) -> onnx.ModelProto:
    """A model calling the local function 'local.Pass' (an Identity) that keeps `attribute` as a default."""
    function = helper.make_function(
        "local",
        "Pass",
        ["x"],
        ["y"],
        [helper.make_node("Identity", ["x"], ["y"])],
        [helper.make_opsetid("", OPSET)],
        attribute_protos=[attribute],
    )
    call = helper.make_node("Pass", ["features"], ["logits"], name="call", domain="local")
    return saliency_model([call], functions=[function], extra_opsets={"local": 1})


# --- tensors: external data wherever a tensor can sit -------------------------------------------------------------


def test_sparse_initializer_values_in_external_data_escaping_the_folder_are_refused(pytester, hostile):
    hostile.add("bad", with_sparse_initializer(sparse(external(const("values", [1.0]), "../secret.bin"))))
    run = run_hostile(pytester, hostile)
    assert_contained(run, "bad", "external data path '../secret.bin' escapes the registry folder")


def test_sparse_initializer_indices_in_external_data_escaping_the_folder_are_refused(pytester, hostile):
    indices = external(const("indices", [0], np.int64), "../indices.bin")
    hostile.add("bad", with_sparse_initializer(sparse(const("values", [1.0]), indices)))
    run = run_hostile(pytester, hostile)
    assert_contained(run, "bad", "external data path '../indices.bin' escapes the registry folder")


def test_sparse_initializer_external_data_over_the_size_cap_is_refused(pytester, hostile):
    (hostile.folder / "bad.bin").write_bytes(bytes(4096))
    hostile.add("bad", with_sparse_initializer(sparse(external(const("values", [1.0]), "bad.bin"))))
    run = run_hostile(pytester, hostile, *SMALL_CAP)
    assert_contained(run, "bad", "external data 'bad.bin' is 4,096 bytes")


def test_a_constants_sparse_value_with_escaping_external_data_is_refused(pytester, hostile):
    value = sparse(external(const("values", [1.0]), "../constant.bin"))
    constant = helper.make_node("Constant", [], ["unused"], name="sparse_const", sparse_value=value)
    hostile.add("bad", saliency_model([constant, IDENTITY]))
    run = run_hostile(pytester, hostile)
    assert_contained(run, "bad", "external data path '../constant.bin' escapes the registry folder")


def test_external_data_on_a_tensor_inside_an_if_branch_escaping_the_folder_is_refused(pytester, hostile):
    weight = helper.make_node("Constant", [], ["hidden"], name="w", value=external(const("w", [1.0]), "../if.bin"))
    hostile.add("bad", model_with(hiding_if(weight)))
    run = run_hostile(pytester, hostile)
    assert_contained(run, "bad", "external data path '../if.bin' escapes the registry folder")


def test_external_data_in_a_function_attribute_default_escaping_the_folder_is_refused(pytester, hostile):
    default = helper.make_attribute("weight", external(const("w", [1.0]), "../function.bin"))
    hostile.add("bad", with_function(default))
    run = run_hostile(pytester, hostile)
    assert_contained(run, "bad", "external data path '../function.bin' escapes the registry folder")


def test_external_data_of_a_training_graph_initializer_escaping_the_folder_is_refused(pytester, hostile):
    model = saliency_model()
    training = model.training_info.add()
    training.initialization.initializer.append(external(const("w", [1.0]), "../training.bin"))
    hostile.add("bad", model)
    run = run_hostile(pytester, hostile)
    assert_contained(run, "bad", "external data path '../training.bin' escapes the registry folder")


# --- subgraphs: found wherever they are stored --------------------------------------------------------------------


def test_a_custom_domain_op_in_a_branch_declared_as_a_tensor_is_found(pytester, hostile):
    node = declared_as(hiding_if(CUSTOM_OP), "else_branch", AttributeProto.TENSOR)
    hostile.add("bad", model_with(node, {"evil": 1}))
    run = run_hostile(pytester, hostile)
    assert_contained(run, "bad", "Run 'payload': op 'evil.Run' (opset 1) is not on the allowlist")


def test_a_disallowed_op_in_a_branch_declared_as_ints_is_found(pytester, hostile):
    hostile.add("bad", model_with(declared_as(hiding_if(DISALLOWED_OP), "else_branch", AttributeProto.INTS)))
    run = run_hostile(pytester, hostile)
    assert_contained(run, "bad", "Einsum 'payload': op 'Einsum' is not on the allowlist")


def test_a_disallowed_op_in_the_graphs_of_a_graph_typed_attribute_is_found(pytester, hostile):
    node = hiding_if(DISALLOWED_OP)
    branch = next(attr for attr in node.attribute if attr.name == "else_branch")
    branch.graphs.append(branch.g)
    branch.ClearField("g")
    hostile.add("bad", model_with(node))
    run = run_hostile(pytester, hostile)
    assert_contained(run, "bad", "Einsum 'payload': op 'Einsum' is not on the allowlist")


def test_a_disallowed_op_in_a_graphs_attribute_is_found(pytester, hostile):
    graphs = [
        helper.make_graph(
            [DISALLOWED_OP], "inner", [], [helper.make_tensor_value_info("hidden", TensorProto.FLOAT, None)]
        )
    ]
    carrier = helper.make_node("Identity", ["features"], ["logits"], name="carrier", bodies=graphs)
    hostile.add("bad", saliency_model([carrier]))
    run = run_hostile(pytester, hostile)
    assert_contained(run, "bad", "Einsum 'payload': op 'Einsum' is not on the allowlist")


def test_a_loop_body_under_a_mistyped_attribute_is_a_finding_naming_node_and_attribute(pytester, hostile):
    loop = loop_node("l", "trips", "features", [helper.make_node("Relu", ["l_x"], ["l_y"])], "logits")
    hostile.add(
        "bad",
        saliency_model([declared_as(loop, "body", AttributeProto.TENSOR)], initializers=[const("trips", 2, np.int64)]),
    )
    run = run_hostile(pytester, hostile)
    assert_contained(run, "bad", "Loop 'l'.body: attribute declares type TENSOR but holds a graph")


def test_a_graph_attribute_holding_no_graph_is_a_finding(pytester, hostile):
    node = hiding_if(IDENTITY)
    next(attr for attr in node.attribute if attr.name == "else_branch").ClearField("g")
    hostile.add("bad", model_with(node))
    run = run_hostile(pytester, hostile)
    assert_contained(run, "bad", "If 'branch'.else_branch: attribute declares type GRAPH but holds no graph")


def test_a_disallowed_op_in_a_function_attribute_default_graph_is_found(pytester, hostile):
    graph = helper.make_graph(
        [DISALLOWED_OP], "default", [], [helper.make_tensor_value_info("hidden", TensorProto.FLOAT, None)]
    )
    hostile.add("bad", with_function(helper.make_attribute("body", graph)))
    run = run_hostile(pytester, hostile)
    assert_contained(run, "bad", "Einsum 'payload': op 'Einsum' is not on the allowlist")


def test_a_resize_in_a_mistyped_branch_is_held_to_the_resize_contract(pytester, hostile):
    nodes, scales = resize_middle(coordinate_transformation_mode="align_corners")
    branch = if_node("branch", nodes, "logits", [helper.make_node("Identity", ["features"], ["kept"])], "kept", "out")
    tail = [helper.make_node("Sigmoid", ["out"], ["saliency_map"], name="sigmoid")]
    model = saliency_model([declared_as(branch, "then_branch", AttributeProto.STRING)], tail=tail)
    model.graph.initializer.extend([true_cond(), *scales])
    hostile.add("bad", model)
    run = run_hostile(pytester, hostile)
    assert_contained(run, "bad", "Resize 'up' coordinate_transformation_mode='align_corners'")
