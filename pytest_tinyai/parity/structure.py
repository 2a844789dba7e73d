"""Weights imported by graph structure, never by name: layers and weighted nodes paired by position and kind.

The tensor-owning layers of the reference, in execution order, are paired one by one with the graph's weighted
nodes, in graph order. A BatchNorm layer pairs with a BatchNormalization node when the graph kept one at that
point; otherwise the exporter folded it, so it is folded into the convolution whose output it reads. Every pair
must agree in kind and in the shape of every weight and bias; every parameter of the reference must be filled
and every weight initializer of the graph used. Anything else raises ParityError saying what did not map.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import onnx
import torch
from torch import nn

from pytest_tinyai.parity import ParityError
from pytest_tinyai.parity.batchnorm import BATCH_NORMS, CONVOLUTIONS, TRANSPOSED_CONVOLUTIONS, fold_batchnorm
from pytest_tinyai.parity.graph_weights import (
    WEIGHT_SLOTS,
    WeightedNode,
    initializer_arrays,
    unmapped_initializers,
    weighted_nodes,
)
from pytest_tinyai.parity.trace import Layer, trace_layers

MODULE_KINDS: dict[str, tuple[type[nn.Module], ...]] = {
    "Conv": CONVOLUTIONS,
    "ConvTranspose": TRANSPOSED_CONVOLUTIONS,
    "BatchNormalization": BATCH_NORMS,
}


@dataclass(frozen=True)
class Plan:
    """Which module fills which node's initializers, and which (convolution, BatchNorm) pairs to fold first."""

    pairs: list[tuple[str, WeightedNode]]
    folds: list[tuple[str, str]]

    @property
    def mapped_initializers(self) -> set[str]:
        return {name for _, node in self.pairs for name in node.initializers.values() if name is not None}


def import_weights(root: nn.Module, proto: onnx.ModelProto, probe: Sequence[torch.Tensor]) -> None:
    """Fold ``root`` into the graph's form and fill every parameter and weight buffer from its initializers.

    ``probe`` is one valid input set, used for a traced forward pass that orders the layers.
    """
    plan = align(trace_layers(root, probe), weighted_nodes(proto.graph))
    for conv_name, bn_name in plan.folds:
        fold_batchnorm(root, conv_name, bn_name)
    state = structural_state(root, plan, initializer_arrays(proto.graph))
    unfilled = [f"'{name}' {list(value.shape)}" for name, value in root.named_parameters() if name not in state]
    if unfilled:
        raise ParityError(f"parameters of the reference that no graph weight fills: {', '.join(unfilled)}")
    unmapped = unmapped_initializers(proto, plan.mapped_initializers)
    if unmapped:
        raise ParityError(*(f"graph weight not imported: {problem}" for problem in unmapped))
    root.load_state_dict(root.state_dict() | state, strict=True)


def kind_of(module: nn.Module) -> str | None:
    return next((op for op, classes in MODULE_KINDS.items() if isinstance(module, classes)), None)


def align(layers: Sequence[Layer], nodes: Sequence[WeightedNode]) -> Plan:
    """Pair layers (execution order) with weighted nodes (graph order); a BatchNorm without its node is folded."""
    pairs: list[tuple[str, WeightedNode]] = []
    folds: list[tuple[str, str]] = []
    for layer in layers:
        kind, module = kind_of(layer.module), module_text(layer.name, layer.module)
        node = nodes[len(pairs)] if len(pairs) < len(nodes) else None
        here = f"next weighted graph node: '{node.label}' ({node.op_type})" if node else "no weighted graph node left"
        if kind is None:
            owned = [name for name, _ in layer.module.named_parameters(recurse=False)]
            owned += [name for name, _ in layer.module.named_buffers(recurse=False)]
            raise ParityError(
                f"{module} owns {owned}, and only {sorted(MODULE_KINDS)} layers map onto graph weights ({here})"
            )
        if kind == "BatchNormalization" and (node is None or node.op_type != kind):
            if layer.source is None:
                raise ParityError(
                    f"BatchNorm '{layer.name}' cannot be folded: its input is not the output of a convolution, "
                    f"and the graph has no BatchNormalization node for it ({here})"
                )
            folds.append((layer.source, layer.name))
            continue
        if node is None:
            raise ParityError(
                f"{module} has no graph node: all {len(nodes)} weighted nodes are paired with earlier modules"
            )
        if node.op_type != kind:
            raise ParityError(
                f"weighted node {len(pairs) + 1} of {len(nodes)}, '{node.label}' ({node.op_type}), meets "
                f"{module} in execution order: the kinds differ"
            )
        pairs.append((layer.name, node))
    if len(pairs) < len(nodes):
        left = [f"'{node.label}' ({node.op_type})" for node in nodes[len(pairs) :]]
        raise ParityError(f"graph nodes with no module in the reference: {', '.join(left)}")
    return Plan(pairs, folds)


def structural_state(root: nn.Module, plan: Plan, arrays: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    """The state-dict entries each pair fills; raises ParityError listing every slot whose shapes differ."""
    state: dict[str, torch.Tensor] = {}
    problems = []
    for module_name, node in plan.pairs:
        module = root.get_submodule(module_name)
        for slot in WEIGHT_SLOTS[node.op_type]:
            initializer = node.initializers[slot]
            current = getattr(module, slot, None)
            in_graph = _shape_text(None if initializer is None else arrays[initializer].shape)
            in_module = _shape_text(None if current is None else current.shape)
            if in_graph != in_module:
                problems.append(
                    f"weight shapes do not map: graph node '{node.label}' ({node.op_type}) -> "
                    f"{module_text(module_name, module)}: {slot} is {in_graph} in the graph, {in_module} in the module"
                )
            elif initializer is not None:
                state[f"{module_name}.{slot}".lstrip(".")] = torch.tensor(arrays[initializer])
    if problems:
        raise ParityError(*problems)
    return state


def module_text(name: str, module: nn.Module) -> str:
    """How messages name a module: by its qualified name, or as the reference itself for the root."""
    return f"module '{name}' ({type(module).__name__})" if name else f"the reference itself ({type(module).__name__})"


def _shape_text(shape: Sequence[int] | None) -> str:
    return "absent" if shape is None else str(list(shape))
