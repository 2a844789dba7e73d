"""One forward pass with hooks: the modules that own tensors, in execution order, and where their input came from."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from pytest_tinyai.parity import ParityError


@dataclass(frozen=True)
class Layer:
    """A module owning parameters or buffers, as called once in a forward pass.

    ``source`` names the traced layer whose output tensor is exactly this layer's first input, if any.
    """

    name: str
    module: nn.Module
    source: str | None


def owns_tensors(module: nn.Module) -> bool:
    return any(True for _ in module.parameters(recurse=False)) or any(True for _ in module.buffers(recurse=False))


def trace_layers(root: nn.Module, inputs: Sequence[torch.Tensor]) -> list[Layer]:
    """Run ``root(*inputs)`` once and record every tensor-owning module in the order it runs.

    Raises ParityError when a module runs more than once: shared weights cannot be paired with graph nodes.
    """
    layers: list[Layer] = []
    outputs: dict[int, tuple[str, torch.Tensor]] = {}  # id -> (layer, tensor); the tensor keeps the id unique
    seen: set[str] = set()

    def record(name: str, module: nn.Module, args: tuple, output: object) -> None:
        if name in seen:
            raise ParityError(
                f"module '{name}' ({type(module).__name__}) runs more than once in a forward pass; "
                "shared weights cannot be paired with graph nodes"
            )
        seen.add(name)
        first = args[0] if args else None
        source = outputs.get(id(first))
        layers.append(Layer(name, module, source[0] if source is not None and source[1] is first else None))
        if isinstance(output, torch.Tensor):
            outputs[id(output)] = (name, output)

    handles = [
        module.register_forward_hook(lambda module, args, output, name=name: record(name, module, args, output))
        for name, module in root.named_modules()
        if owns_tensors(module)
    ]
    try:
        with torch.no_grad():
            root(*inputs)
    except ParityError:
        raise
    except Exception as error:  # the reference is foreign code; any failure on a valid input is a finding
        shapes = [list(tensor.shape) for tensor in inputs]
        raise ParityError(f"the reference fails on inputs of shape {shapes}: {error!r}") from error
    finally:
        for handle in handles:
            handle.remove()
    return layers
