"""The tensor contract of a model whose sidecar declares none, derived from its graph and its owner's fields.

What a derived contract holds is only what the graph and the owner say: each input's and output's name, element
type and dims (a fixed size, or a symbol), the owner's `input_shape`/`output_shape` binding a symbolic dim the graph
leaves open, and a nominal value for each symbolic batch dim (axis 0 of an input: it runs at 1). It invents nothing:
no layout, normalisation or value range, no dim rules (so nothing to fuzz), and an output dim the graph names with a
symbol no input carries is left open (any size). A symbolic dim that is not a batch dim and that no owner field binds
has no value: the model is not run at a shape until `tinyai.contract.nominal` gives it one (a contract block may
declare its nominal values alone), and it says so.

The model kind is derived too: two inputs and a score per item out (rank 0, [N] or [N, 1]) is FR_PAIR, unless the
owner's `kind` says the model is not a full-reference one; any other model has no kind (it feeds no fold).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import onnx

from pytest_tinyai.tensor_contract import Contract, TensorSpec

FR_PAIR = "fr_pair"
FULL_REFERENCE_OWNER_KINDS = (None, "fr")  # the owner's `kind` values that admit a two-input model as FR_PAIR
DECLARE_NOMINAL = "declare tinyai.contract.nominal"


@dataclass(frozen=True)
class Derivation:
    """A derived contract, why it cannot be run at a shape (empty when it can), and what the owner's fields say
    that contradicts the graph (findings)."""

    contract: Contract
    not_runnable: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()

    @property
    def not_run_reason(self) -> str | None:
        """One line saying why the model is not run at a shape, or None when it is run at the contract's nominal."""
        return "; ".join(self.not_runnable) or None


def derive_contract(
    inputs: Sequence[onnx.ValueInfoProto],
    outputs: Sequence[onnx.ValueInfoProto],
    owner: Mapping[str, Any],
    declared_nominal: Mapping[str, int] | None = None,
) -> Derivation:
    """The contract of a graph with these inputs (initializers excluded) and outputs, under the owner's fields
    (`input_name`, `output_name`, `input_shape`, `output_shape`, `kind`; every other field is ignored) and the values
    `tinyai.contract.nominal` declares for its symbolic dims (`declared_nominal`), which come first."""
    problems: list[str] = []
    input_shapes = [_graph_shape(value) for value in inputs]
    output_shapes = [_graph_shape(value) for value in outputs]
    nominal: dict[str, int] = dict(declared_nominal or {})
    input_symbols = [dim for shape in input_shapes for dim in shape or () if isinstance(dim, str)]
    for symbol in nominal:
        if symbol not in input_symbols:
            known = ", ".join(dict.fromkeys(input_symbols)) or "none"
            problems.append(
                f"tinyai.contract.nominal names '{symbol}', no symbolic dim of the graph's inputs ({known})"
            )
    for direction, values, shapes in (("input", inputs, input_shapes), ("output", outputs, output_shapes)):
        target = _owner_shape_target(owner, direction, values, problems)
        if target is not None:
            index, declared = target
            problems.extend(_bind_owner_shape(direction, values[index].name, shapes[index], declared, nominal))
    for shape in input_shapes:
        if shape and isinstance(shape[0], str):
            nominal.setdefault(shape[0], 1)  # a symbolic batch dim runs at 1, unless the owner gives its size
    symbols_in = set(input_symbols)
    specs_in = tuple(
        TensorSpec(value.name, _dtype(value), tuple(shape or ()), None, None, None)
        for value, shape in zip(inputs, input_shapes, strict=True)
    )
    specs_out = tuple(
        TensorSpec(value.name, _dtype(value), _open_unknown(shape, symbols_in), None, None, None)
        for value, shape in zip(outputs, output_shapes, strict=True)
        if shape is not None
    )
    not_runnable = []
    for value, shape in zip(inputs, input_shapes, strict=True):
        if shape is None:
            not_runnable.append(f"input '{value.name}' has no shape in the graph: {DECLARE_NOMINAL}")
        elif _dtype(value) == UNFEEDABLE:
            element = onnx.TensorProto.DataType.Name(value.type.tensor_type.elem_type)
            not_runnable.append(f"input '{value.name}' is of element type {element}: no inputs are drawn for it")
    unbound = {}
    for spec in specs_in:
        for dim in spec.shape:
            if isinstance(dim, str) and dim not in nominal:
                unbound.setdefault(dim, []).append(spec.name)
    if unbound:
        tensors = sorted({name for names in unbound.values() for name in names}, key=[s.name for s in specs_in].index)
        shown = ", ".join(f"'{name}'" for name in tensors)
        not_runnable.append(f"symbolic dims {', '.join(unbound)} of {shown} have no nominal value: {DECLARE_NOMINAL}")
    kind = FR_PAIR if _is_fr_pair(specs_in, specs_out, len(outputs), owner) else None
    contract = Contract(specs_in, specs_out, {}, nominal, kind, derived=True)
    return Derivation(contract, tuple(not_runnable), tuple(problems))


UNFEEDABLE = "unfeedable"  # the dtype of an input whose element type no input can be drawn for (string, undefined)


def _dtype(value: onnx.ValueInfoProto) -> str:
    element = value.type.tensor_type.elem_type
    try:
        dtype = np.dtype(onnx.helper.tensor_dtype_to_np_dtype(element))
    except (KeyError, TypeError, ValueError):
        return UNFEEDABLE
    return dtype.name if dtype.kind in "fiub" else UNFEEDABLE


def _graph_shape(value: onnx.ValueInfoProto) -> list[int | str] | None:
    """The graph's dims of a tensor: a size, a symbol (an unnamed dim is named '<tensor>[<axis>]'), or None when the
    graph gives no shape at all."""
    tensor_type = value.type.tensor_type
    if not tensor_type.HasField("shape"):
        return None
    shape: list[int | str] = []
    for axis, dim in enumerate(tensor_type.shape.dim):
        if dim.HasField("dim_value"):
            shape.append(dim.dim_value)
        else:
            shape.append(dim.dim_param or f"{value.name}[{axis}]")
    return shape


def _owner_shape_target(
    owner: Mapping[str, Any], direction: str, values: Sequence[onnx.ValueInfoProto], problems: list[str]
) -> tuple[int, list[int | str]] | None:
    """(index of the tensor, its declared dims) for the owner's `<direction>_shape`: the tensor `<direction>_name`
    names, else the graph's only one. None when the owner gives no shape, or one that names no tensor (a problem)."""
    field = f"{direction}_shape"
    declared = owner.get(field)
    if declared is None:
        return None
    if not isinstance(declared, list) or not all(type(dim) in (int, str) for dim in declared):
        problems.append(f"sidecar {field} {declared!r} is not a list of sizes and names")
        return None
    names = [value.name for value in values]
    name = owner.get(f"{direction}_name")
    if isinstance(name, str) and name in names:
        return names.index(name), declared
    if name is None and len(names) == 1:
        return 0, declared
    problems.append(f"sidecar {field} {declared} names no graph {direction} (graph has {names})")
    return None


def _bind_owner_shape(
    direction: str, name: str, graph: list[int | str] | None, declared: list[int | str], nominal: dict[str, int]
) -> list[str]:
    """Hold the owner's declared dims (a size; a negative size or a name for any) to the graph's; a size the owner
    gives for a dim the graph leaves symbolic binds that symbol. Returns the contradictions."""
    field = f"sidecar {direction}_shape {declared}"
    if graph is None:
        return []
    if len(graph) != len(declared):
        return [f"{field} has rank {len(declared)}, graph {direction} '{name}' has rank {len(graph)} ({graph})"]
    problems = []
    for axis, (actual, size) in enumerate(zip(graph, declared, strict=True)):
        if isinstance(size, str) or size < 0:
            continue
        if isinstance(actual, int) and actual != size:
            problems.append(f"{field}: axis {axis} is {size}, graph {direction} '{name}' has {actual}")
        elif isinstance(actual, str):
            bound = nominal.setdefault(actual, size)
            if bound != size:
                problems.append(f"{field}: axis {axis} is {size}, but '{actual}' is {bound} elsewhere")
    return problems


def _open_unknown(shape: list[int | str], input_symbols: set[str]) -> tuple[int | str | None, ...]:
    """An output's dims: a symbol only inputs can give a value to stays; any other is open (None)."""
    return tuple(dim if isinstance(dim, int) or dim in input_symbols else None for dim in shape)


def _is_fr_pair(inputs: Sequence[TensorSpec], outputs: Sequence[TensorSpec], graph_outputs: int, owner) -> bool:
    """Two inputs, and every output a score per item: rank 0, [N] or [N, 1], N the inputs' batch dim or 1."""
    if len(inputs) != 2 or not outputs or len(outputs) != graph_outputs:
        return False
    if owner.get("kind") not in FULL_REFERENCE_OWNER_KINDS:
        return False
    batch = {spec.shape[0] for spec in inputs if spec.shape} | {1}
    return all(per_item_score(spec.shape, batch) for spec in outputs)


def per_item_score(shape: Sequence[int | str | None], batch: set[int | str]) -> bool:
    """Whether a shape holds one score per item of a batch whose size is one of `batch`: [], [N] or [N, 1]."""
    return len(shape) == 0 or (shape[0] in batch and (len(shape) == 1 or tuple(shape[1:]) == (1,)))
