"""The weights side of a graph: its weighted nodes in graph order, their initializers, and the ones nobody maps.

The exporter renames weights (a folded convolution's become ``onnx::Conv_NNN``) and may route a shared
initializer through Identity nodes, so nothing here relies on names: an input is resolved through Identity
aliases to the initializer behind it, and a node is known by its position among the weighted nodes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import onnx
from onnx import numpy_helper

from pytest_tinyai.graph import walk
from pytest_tinyai.parity import ParityError

# Weighted op -> the PyTorch attribute each of its inputs after the first fills, in input order.
WEIGHT_SLOTS: dict[str, tuple[str, ...]] = {
    "Conv": ("weight", "bias"),
    "ConvTranspose": ("weight", "bias"),
    "BatchNormalization": ("weight", "bias", "running_mean", "running_var"),
}
OPTIONAL_SLOTS = frozenset({"bias"})
NON_DIFFERENTIABLE = onnx.defs.OpSchema.DifferentiationCategory.NonDifferentiable


@dataclass(frozen=True)
class WeightedNode:
    """A node of WEIGHT_SLOTS: its label and the initializer behind each slot (None for an absent bias)."""

    label: str
    op_type: str
    initializers: dict[str, str | None]


def node_label(node: onnx.NodeProto, index: int) -> str:
    return node.name or f"#{index} {node.op_type}"


def initializer_aliases(graph: onnx.GraphProto) -> dict[str, str]:
    """Every name that denotes an initializer (its own, or an Identity output of one) -> the initializer's name."""
    aliases = {tensor.name: tensor.name for tensor in graph.initializer}
    for node in graph.node:
        if node.op_type == "Identity" and node.input[0] in aliases:
            aliases[node.output[0]] = aliases[node.input[0]]
    return aliases


def weighted_nodes(graph: onnx.GraphProto) -> list[WeightedNode]:
    """The main graph's Conv, ConvTranspose and BatchNormalization nodes in graph order.

    Raises ParityError when a required weight input is not an initializer (computed weights cannot be imported).
    """
    aliases = initializer_aliases(graph)
    found = []
    for index, node in enumerate(graph.node):
        slots = WEIGHT_SLOTS.get(node.op_type)
        if slots is None:
            continue
        label = node_label(node, index)
        initializers: dict[str, str | None] = {}
        given = [*node.input[1:], *[""] * len(slots)][: len(slots)]  # trailing optional inputs may be left out
        for slot, name in zip(slots, given, strict=True):
            if not name and slot in OPTIONAL_SLOTS:
                initializers[slot] = None
            elif name in aliases:
                initializers[slot] = aliases[name]
            else:
                raise ParityError(
                    f"graph node '{label}' ({node.op_type}): its {slot} input '{name}' is not an initializer, "
                    "so it cannot be imported into the reference"
                )
        found.append(WeightedNode(label, node.op_type, initializers))
    return found


def initializer_arrays(graph: onnx.GraphProto) -> dict[str, np.ndarray]:
    return {tensor.name: numpy_helper.to_array(tensor) for tensor in graph.initializer}


def unmapped_initializers(model: onnx.ModelProto, mapped: Iterable[str]) -> list[str]:
    """Why each initializer outside ``mapped`` is a weight that nothing imported: it feeds a differentiable input
    of some node (per the op's ONNX schema, subgraphs and functions included), or no node at all.

    Initializers seen only at non-differentiable inputs (shapes, scales, axes) are structure, not weights.
    """
    aliases = initializer_aliases(model.graph)
    dims = {tensor.name: list(tensor.dims) for tensor in model.graph.initializer if tensor.name not in set(mapped)}
    used: set[str] = set()
    consumers: dict[str, list[str]] = {}
    for site in walk(model):
        node = site.node
        if node.op_type == "Identity" and site.where is None and node.input[0] in aliases:
            continue
        for position, name in enumerate(node.input):
            initializer = aliases.get(name)
            if initializer not in dims:
                continue
            used.add(initializer)
            if _is_weight_input(node, position, site.opset):
                consumers.setdefault(initializer, []).append(site.label + (f" in {site.where}" if site.where else ""))
    problems = [
        f"initializer '{name}' {dims[name]} feeds {', '.join(labels)} and no module of the reference maps onto it"
        for name, labels in consumers.items()
    ]
    return problems + [
        f"initializer '{name}' {shape} is used by no node" for name, shape in dims.items() if name not in used
    ]


def _is_weight_input(node: onnx.NodeProto, position: int, opset: int | None) -> bool:
    """True unless the op's schema marks this input non-differentiable; an op without a schema counts as weighted."""
    try:
        schema = onnx.defs.get_schema(node.op_type, opset or onnx.defs.onnx_opset_version(), node.domain)
    except onnx.defs.SchemaError:
        return True
    formal = schema.inputs[min(position, len(schema.inputs) - 1)]
    return formal.differentiation_category != NON_DIFFERENTIABLE
