"""Walking an ONNX model: every node with its scope, nesting depth, opset in force and visible constants."""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Iterator, Mapping
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
    """Every node of the main graph, its subgraphs at any depth, and the model-local functions."""
    imports = opset_imports(model.opset_import)
    yield from _walk_graph(model.graph, MAIN_GRAPH, 0, imports, None, ChainMap())
    for function in model.functions:
        function_imports = {**imports, **opset_imports(function.opset_import)}
        name = f"function {function.domain}.{function.name}"
        yield from _walk_nodes(function.node, name, 0, function_imports, name, ChainMap())


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
        for attr in node.attribute:
            subgraphs = [attr.g] if attr.type == onnx.AttributeProto.GRAPH else list(attr.graphs)
            for index, subgraph in enumerate(subgraphs):
                suffix = f"[{index}]" if attr.type == onnx.AttributeProto.GRAPHS else ""
                inner = f"{scope} > {node.op_type} '{node.name or '<unnamed>'}'.{attr.name}{suffix}"
                yield from _walk_graph(subgraph, inner, depth + 1, imports, function, constants)


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
    """Every TensorProto of the model: initializers and tensor attributes, subgraphs and functions included."""
    graphs = [model.graph]
    nodes = [node for function in model.functions for node in function.node]
    while graphs or nodes:
        if graphs:
            graph = graphs.pop()
            yield from graph.initializer
            nodes.extend(graph.node)
            continue
        for attr in nodes.pop().attribute:
            if attr.HasField("t"):
                yield attr.t
            yield from attr.tensors
            if attr.HasField("g"):
                graphs.append(attr.g)
            graphs.extend(attr.graphs)
