"""Walking an ONNX model: every node with its scope, nesting depth, opset in force and visible constants."""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

import numpy as np
import onnx
from onnx import numpy_helper

DEFAULT_DOMAINS = ("", "ai.onnx")
MAIN_GRAPH = "main graph"


@dataclass(frozen=True)
class NodeSite:
    """A node and where it lives: 'main graph', a subgraph path, or a model-local function."""

    node: onnx.NodeProto
    scope: str
    depth: int
    opset: int | None
    function: str | None
    constants: Mapping[str, onnx.TensorProto]
    imports: Mapping[str, int] = field(default_factory=dict)

    @property
    def node_opset(self) -> int | None:
        """The opset version in force for the node's own domain (the default domain's is `opset`)."""
        if self.node.domain in DEFAULT_DOMAINS:
            return self.opset
        return self.imports.get(self.node.domain)

    @property
    def where(self) -> str | None:
        """The scope for a message, or None in the main graph where it goes without saying."""
        return None if self.scope == MAIN_GRAPH else self.scope

    @property
    def label(self) -> str:
        return f"{self.node.op_type} '{self.node.name or '<unnamed>'}'"

    def constant(self, name: str) -> np.ndarray | None:
        """The value of an input if it is an initializer or Constant output visible here, else None."""
        tensor = self.constants.get(name)
        return None if tensor is None else numpy_helper.to_array(tensor)


def default_opset(opset_import: list[onnx.OperatorSetIdProto]) -> int | None:
    for entry in opset_import:
        if entry.domain in DEFAULT_DOMAINS:
            return entry.version
    return None


def opset_imports(opset_import: list[onnx.OperatorSetIdProto]) -> dict[str, int]:
    """Domain → version; the default domain under ''."""
    return {"" if entry.domain in DEFAULT_DOMAINS else entry.domain: entry.version for entry in opset_import}


def walk(model: onnx.ModelProto) -> Iterator[NodeSite]:
    """Every node of the main graph, its training graphs, their subgraphs at any depth, and the model-local functions.

    A subgraph is visited wherever an attribute stores it (`g`, `graphs`), whatever type the attribute declares,
    and so are the graphs a function keeps as attribute defaults.
    """
    imports = opset_imports(model.opset_import)
    for scope, graph in top_graphs(model):
        yield from _walk_graph(graph, scope, 0, imports, None, ChainMap())
    for function in model.functions:
        function_imports = {**imports, **opset_imports(function.opset_import)}
        name = f"function {function.domain}.{function.name}"
        yield from _walk_nodes(function.node, name, 0, function_imports, name, ChainMap())
        for attr in function.attribute_proto:
            yield from _walk_subgraphs(attr, f"{name} default", 1, function_imports, name, ChainMap())


def graph_io(proto: onnx.ModelProto) -> tuple[dict[str, onnx.ValueInfoProto], dict[str, onnx.ValueInfoProto]]:
    """The graph's inputs (initializers excluded) and outputs by name, in graph order."""
    initializers = {tensor.name for tensor in proto.graph.initializer}
    inputs = {value.name: value for value in proto.graph.input if value.name not in initializers}
    return inputs, {value.name: value for value in proto.graph.output}


def top_graphs(model: onnx.ModelProto) -> list[tuple[str, onnx.GraphProto]]:
    """The main graph, then the graphs of its training information (initialization, algorithm), with their scopes."""
    training = [
        (f"training_info[{index}].{part}", getattr(info, part))
        for index, info in enumerate(model.training_info)
        for part in ("initialization", "algorithm")
    ]
    return [(MAIN_GRAPH, model.graph), *training]


def _walk_graph(
    graph: onnx.GraphProto, scope: str, depth: int, imports: dict[str, int], function: str | None, outer: ChainMap
) -> Iterator[NodeSite]:
    # An initializer that is also a graph input is only a default: the caller may feed another value at run time.
    overridable = {value.name for value in graph.input}
    constants = outer.new_child({t.name: t for t in graph.initializer if t.name not in overridable})
    yield from _walk_nodes(graph.node, scope, depth, imports, function, constants)


def _walk_nodes(
    nodes: list[onnx.NodeProto], scope: str, depth: int, imports: dict[str, int], function: str | None, constants
) -> Iterator[NodeSite]:
    opset = imports.get("")
    for node in nodes:
        if node.op_type == "Constant" and node.domain in DEFAULT_DOMAINS and node.output:
            value = constant_value(node)
            if value is not None:
                constants[node.output[0]] = value
        yield NodeSite(node, scope, depth, opset, function, constants, imports)
        owner = f"{scope} > {node.op_type} '{node.name or '<unnamed>'}'"
        for attr in node.attribute:
            yield from _walk_subgraphs(attr, owner, depth + 1, imports, function, constants)


def _walk_subgraphs(
    attr: onnx.AttributeProto, owner: str, depth: int, imports: dict[str, int], function: str | None, constants
) -> Iterator[NodeSite]:
    for suffix, subgraph in stored_graphs(attr):
        yield from _walk_graph(subgraph, f"{owner}.{attr.name}{suffix}", depth, imports, function, constants)


def stored_graphs(attr: onnx.AttributeProto) -> list[tuple[str, onnx.GraphProto]]:
    """Every graph the attribute stores, with its scope suffix ('' for `g`, '[i]' for `graphs`), whatever its type."""
    single = [("", attr.g)] if attr.HasField("g") else []
    return single + [(f"[{index}]", graph) for index, graph in enumerate(attr.graphs)]


_A = onnx.AttributeProto
# What each value field of an AttributeProto holds: the attribute type it belongs to, and how a message names it.
_VALUE_FIELDS = {
    "f": (_A.FLOAT, "a float"),
    "i": (_A.INT, "an int"),
    "s": (_A.STRING, "a string"),
    "t": (_A.TENSOR, "a tensor"),
    "g": (_A.GRAPH, "a graph"),
    "sparse_tensor": (_A.SPARSE_TENSOR, "a sparse tensor"),
    "tp": (_A.TYPE_PROTO, "a type"),
    "floats": (_A.FLOATS, "floats"),
    "ints": (_A.INTS, "ints"),
    "strings": (_A.STRINGS, "strings"),
    "tensors": (_A.TENSORS, "tensors"),
    "graphs": (_A.GRAPHS, "graphs"),
    "sparse_tensors": (_A.SPARSE_TENSORS, "sparse tensors"),
    "type_protos": (_A.TYPE_PROTOS, "types"),
}
_TYPE_NAMES = {number: name for name, number in _A.AttributeType.items()}


def attribute_type_problem(attr: onnx.AttributeProto) -> str | None:
    """Why the attribute's declared type disagrees with what it holds, or None when they agree.

    A GRAPH or GRAPHS attribute must hold a graph unless it refers to a function's attribute.
    """
    declared = _TYPE_NAMES.get(attr.type, str(attr.type))
    held = (_VALUE_FIELDS.get(descriptor.name) for descriptor, _ in attr.ListFields())
    foreign = [words for kind, words in filter(None, held) if kind != attr.type]
    if foreign:
        return f"attribute declares type {declared} but holds {' and '.join(foreign)}"
    if attr.type in (_A.GRAPH, _A.GRAPHS) and not attr.ref_attr_name and not stored_graphs(attr):
        return f"attribute declares type {declared} but holds no graph"
    return None


def mistyped(attributes: Iterable[onnx.AttributeProto]) -> Iterator[tuple[onnx.AttributeProto, str]]:
    """Each attribute whose declared type disagrees with what it holds, with why."""
    for attr in attributes:
        problem = attribute_type_problem(attr)
        if problem is not None:
            yield attr, problem


_CONSTANT_FORMS = {"value_float": np.float32, "value_floats": np.float32, "value_int": np.int64, "value_ints": np.int64}


def constant_value(node: onnx.NodeProto) -> onnx.TensorProto | None:
    """The tensor a Constant node produces: its `value` tensor, or a scalar/list attribute (opset 12+) as a tensor.

    None for forms not evaluated here (sparse_value, strings, a function's attribute reference).
    """
    for attr in node.attribute:
        if attr.ref_attr_name:
            return None
        if attr.name == "value" and attr.HasField("t"):
            return attr.t
        if attr.name in _CONSTANT_FORMS:
            value = np.asarray(onnx.helper.get_attribute_value(attr), dtype=_CONSTANT_FORMS[attr.name])
            return numpy_helper.from_array(value, node.output[0])
    return None


def all_tensors(model: onnx.ModelProto) -> Iterator[onnx.TensorProto]:
    """Every TensorProto of the model, wherever one can sit.

    Initializers, sparse initializers' values and indices, tensor and sparse tensor attributes (whatever type the
    attribute declares), in the main and training graphs, their subgraphs at any depth, in functions and in
    functions' attribute defaults.
    """
    graphs = [graph for _, graph in top_graphs(model)]
    attributes = [attr for function in model.functions for attr in _function_attributes(function)]
    while graphs or attributes:
        if graphs:
            graph = graphs.pop()
            yield from graph.initializer
            for sparse in graph.sparse_initializer:
                yield from (sparse.values, sparse.indices)
            attributes.extend(attr for node in graph.node for attr in node.attribute)
            continue
        attr = attributes.pop()
        yield from _attribute_tensors(attr)
        graphs.extend(graph for _, graph in stored_graphs(attr))


def _function_attributes(function: onnx.FunctionProto) -> Iterator[onnx.AttributeProto]:
    yield from function.attribute_proto
    for node in function.node:
        yield from node.attribute


def _attribute_tensors(attr: onnx.AttributeProto) -> Iterator[onnx.TensorProto]:
    if attr.HasField("t"):
        yield attr.t
    yield from attr.tensors
    sparse = [attr.sparse_tensor] if attr.HasField("sparse_tensor") else []
    for tensor in [*sparse, *attr.sparse_tensors]:
        yield from (tensor.values, tensor.indices)
