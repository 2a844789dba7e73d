"""Walking an ONNX model: every node with its scope, nesting depth, opset in force and visible constants."""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

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


def walk(model: onnx.ModelProto) -> Iterator[NodeSite]:
    """Every node of the main graph, its subgraphs at any depth, and the model-local functions."""
    opset = default_opset(model.opset_import)
    yield from _walk_graph(model.graph, MAIN_GRAPH, 0, opset, None, ChainMap())
    for function in model.functions:
        function_opset = default_opset(function.opset_import) or opset
        name = f"function {function.domain}.{function.name}"
        yield from _walk_nodes(function.node, name, 0, function_opset, name, ChainMap())


def _walk_graph(
    graph: onnx.GraphProto, scope: str, depth: int, opset: int | None, function: str | None, outer: ChainMap
) -> Iterator[NodeSite]:
    constants = outer.new_child({tensor.name: tensor for tensor in graph.initializer})
    yield from _walk_nodes(graph.node, scope, depth, opset, function, constants)


def _walk_nodes(
    nodes: list[onnx.NodeProto], scope: str, depth: int, opset: int | None, function: str | None, constants: ChainMap
) -> Iterator[NodeSite]:
    for node in nodes:
        if node.op_type == "Constant" and node.domain in DEFAULT_DOMAINS:
            value = next((attr.t for attr in node.attribute if attr.name == "value" and attr.HasField("t")), None)
            if value is not None and node.output:
                constants[node.output[0]] = value
        yield NodeSite(node, scope, depth, opset, function, constants)
        for attr in node.attribute:
            subgraphs = [attr.g] if attr.type == onnx.AttributeProto.GRAPH else list(attr.graphs)
            for index, subgraph in enumerate(subgraphs):
                suffix = f"[{index}]" if attr.type == onnx.AttributeProto.GRAPHS else ""
                inner = f"{scope} > {node.op_type} '{node.name or '<unnamed>'}'.{attr.name}{suffix}"
                yield from _walk_graph(subgraph, inner, depth + 1, opset, function, constants)


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
