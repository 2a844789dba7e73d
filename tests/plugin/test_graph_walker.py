"""The graph walker as a specification: every tensor and every subgraph is found wherever the model stores it, and an
attribute whose declared type disagrees with what it holds is named."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import AttributeProto, TensorProto, helper
from plugin_builders import OPSET, const, saliency_model

from pytest_tinyai.graph import all_tensors, attribute_type_problem, walk

HIDDEN = helper.make_node("Relu", ["x"], ["y"], name="hidden")


def subgraph(*nodes: onnx.NodeProto) -> onnx.GraphProto:
    return helper.make_graph(list(nodes), "inner", [], [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])


def carrying(attribute: AttributeProto) -> onnx.ModelProto:
    """The reference model whose Conv also carries `attribute`."""
    model = saliency_model()
    model.graph.node[0].attribute.append(attribute)
    return model


def with_function_default(attribute: AttributeProto) -> onnx.ModelProto:
    function = helper.make_function(
        "local", "F", ["x"], ["y"], [helper.make_node("Identity", ["x"], ["y"])], [helper.make_opsetid("", OPSET)]
    )
    function.attribute_proto.append(attribute)
    return saliency_model(functions=[function])


def sparse(prefix: str) -> onnx.SparseTensorProto:
    return helper.make_sparse_tensor(const(f"{prefix}_values", [1.0]), const(f"{prefix}_indices", [0], np.int64), [4])


def tensor_names(model: onnx.ModelProto) -> set[str]:
    return {tensor.name for tensor in all_tensors(model)}


def scopes_of(model: onnx.ModelProto, op_type: str) -> list[str]:
    return [site.scope for site in walk(model) if site.node.op_type == op_type]


def attribute(name: str, value, declared: int | None = None) -> AttributeProto:
    made = helper.make_attribute(name, value)
    if declared is not None:
        made.type = declared
    return made


# --- all_tensors ---------------------------------------------------------------------------------------------------


def test_all_tensors_yields_the_values_and_indices_of_a_sparse_initializer():
    model = saliency_model()
    model.graph.sparse_initializer.append(sparse("s"))
    assert {"s_values", "s_indices"} <= tensor_names(model)


def test_all_tensors_yields_the_values_and_indices_of_a_sparse_tensor_attribute():
    assert {"s_values", "s_indices"} <= tensor_names(carrying(attribute("sparse_value", sparse("s"))))


def test_all_tensors_yields_the_values_and_indices_of_a_sparse_tensors_attribute():
    model = carrying(attribute("many", [sparse("a"), sparse("b")]))
    assert {"a_values", "a_indices", "b_values", "b_indices"} <= tensor_names(model)


def test_all_tensors_yields_a_tensor_kept_as_a_function_attribute_default():
    assert "w" in tensor_names(with_function_default(attribute("weight", const("w", [1.0]))))


def test_all_tensors_yields_a_tensor_inside_a_subgraph_stored_under_a_mistyped_attribute():
    inner = subgraph(helper.make_node("Constant", [], ["y"], value=const("deep", [1.0])))
    assert "deep" in tensor_names(carrying(attribute("body", inner, AttributeProto.TENSOR)))


def test_all_tensors_yields_an_initializer_of_a_training_graph():
    model = saliency_model()
    model.training_info.add().initialization.initializer.append(const("trained", [1.0]))
    assert "trained" in tensor_names(model)


# --- walk ---------------------------------------------------------------------------------------------------------


def test_walk_visits_a_graph_stored_in_g_whatever_type_the_attribute_declares():
    model = carrying(attribute("body", subgraph(HIDDEN), AttributeProto.INTS))
    assert scopes_of(model, "Relu") == ["main graph > Conv 'conv'.body"]


def test_walk_visits_graphs_stored_under_a_graph_typed_attribute_with_their_index():
    carrier = AttributeProto(name="body", type=AttributeProto.GRAPH)
    carrier.graphs.extend([subgraph(), subgraph(HIDDEN)])
    assert scopes_of(carrying(carrier), "Relu") == ["main graph > Conv 'conv'.body[1]"]


def test_walk_visits_a_graph_kept_as_a_function_attribute_default():
    model = with_function_default(attribute("body", subgraph(HIDDEN)))
    assert scopes_of(model, "Relu") == ["function local.F default.body"]


def test_walk_visits_the_algorithm_of_the_training_information():
    model = saliency_model()
    model.training_info.add().algorithm.CopyFrom(subgraph(HIDDEN))
    assert scopes_of(model, "Relu") == ["training_info[0].algorithm"]


# --- attribute_type_problem ---------------------------------------------------------------------------------------


def test_an_attribute_holding_what_it_declares_has_no_type_problem():
    assert attribute_type_problem(attribute("body", subgraph())) is None


def test_an_attribute_declaring_a_tensor_but_holding_a_graph_is_named():
    problem = attribute_type_problem(attribute("body", subgraph(), AttributeProto.TENSOR))
    assert problem == "attribute declares type TENSOR but holds a graph"


def test_an_attribute_holding_its_declared_value_and_a_foreign_one_names_the_foreign_one():
    mixed = attribute("alpha", 1.0)
    mixed.graphs.append(subgraph())
    assert attribute_type_problem(mixed) == "attribute declares type FLOAT but holds graphs"


def test_a_graph_attribute_holding_no_graph_is_named():
    empty = AttributeProto(name="body", type=AttributeProto.GRAPH)
    assert attribute_type_problem(empty) == "attribute declares type GRAPH but holds no graph"


def test_a_graph_attribute_referring_to_a_function_attribute_needs_no_graph():
    reference = AttributeProto(name="body", type=AttributeProto.GRAPH, ref_attr_name="body")
    assert attribute_type_problem(reference) is None


def test_an_empty_list_attribute_has_no_type_problem():
    assert attribute_type_problem(AttributeProto(name="pads", type=AttributeProto.INTS)) is None
