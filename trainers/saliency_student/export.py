"""Export a saliency module to ONNX and check it: PyTorch <-> ONNX Runtime parity and the graph's op facts; save its
trained weights (training form, BatchNorm not folded) as safetensors for the plugin's trained-weight parity.

The TorchScript exporter (``dynamo=False``) is used on purpose: it writes opset 17 with the weights inline,
and in eval mode with constant folding every BatchNorm folds into its convolution.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
from safetensors.torch import save_file
from torch import nn

ONNX_OPSET = 17
INPUT_NAME = "input"
OUTPUT_NAME = "saliency_map"
PARITY_SIZES: tuple[tuple[int, int], ...] = ((64, 64), (256, 256), (128, 320))
PARITY_TOLERANCE = 1e-5
RESIZE_ATTRIBUTES = ("mode", "coordinate_transformation_mode", "antialias")


class ParityError(RuntimeError):
    """The exported ONNX does not reproduce the PyTorch module within tolerance."""


def export_onnx(model: nn.Module, example_hw: tuple[int, int] = (64, 64)) -> onnx.ModelProto:
    """Export ``model`` (put in eval mode) with input ``input`` [1,3,H,W] and output ``saliency_map``
    [1,1,H,W], H and W dynamic, batch fixed at 1."""
    model.eval()
    buffer = io.BytesIO()
    dynamic = {2: "H", 3: "W"}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the legacy exporter is chosen on purpose
        torch.onnx.export(
            model,
            (torch.zeros(1, 3, *example_hw),),
            buffer,
            dynamo=False,
            opset_version=ONNX_OPSET,
            do_constant_folding=True,
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            dynamic_axes={INPUT_NAME: dynamic, OUTPUT_NAME: dynamic},
        )
    proto = onnx.load_from_string(buffer.getvalue())
    drop_initializer_identities(proto.graph)
    onnx.checker.check_model(proto, full_check=True)
    return proto


def save_weights(model: nn.Module, path: Path) -> None:
    """Write ``model``'s training-form state dict (BatchNorm not folded) to ``path`` as safetensors: every tensor on
    the CPU, contiguous, floating ones as float32 (never a pickle, so the gate never unpickles a pull request's file).
    """
    state = {
        name: (tensor.float() if tensor.is_floating_point() else tensor).detach().cpu().contiguous()
        for name, tensor in model.state_dict().items()
    }
    save_file(state, str(path))


def drop_initializer_identities(graph: onnx.GraphProto) -> None:
    """Remove Identity nodes that alias an initializer, pointing their consumers at the initializer.

    The exporter shares equal initializers (e.g. the all-zero folded BatchNorm biases of an untrained
    net) through Identity nodes; without this the op set would depend on the weights' values.
    """
    initializers = {tensor.name for tensor in graph.initializer}
    outputs = {value.name for value in graph.output}
    aliases = {
        node.output[0]: node.input[0]
        for node in graph.node
        if node.op_type == "Identity" and node.input[0] in initializers and node.output[0] not in outputs
    }
    kept = [node for node in graph.node if not (node.op_type == "Identity" and node.output[0] in aliases)]
    for node in kept:
        node.input[:] = [aliases.get(name, name) for name in node.input]
    del graph.node[:]
    graph.node.extend(kept)


def parity_max_abs_diff(model: nn.Module, onnx_path: Path, sizes: Iterable[tuple[int, int]]) -> float:
    """Largest |PyTorch - ONNX Runtime| over seeded random inputs at each (H, W) of ``sizes``."""
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    generator = torch.Generator().manual_seed(0)
    model.eval()
    worst = 0.0
    with torch.no_grad():
        for height, width in sizes:
            x = torch.randn(1, 3, height, width, generator=generator)
            expected = model(x).numpy()
            actual = session.run([OUTPUT_NAME], {INPUT_NAME: x.numpy()})[0]
            if actual.shape != expected.shape:
                raise ParityError(f"{onnx_path}: output shape {actual.shape} != PyTorch {expected.shape}")
            worst = max(worst, float(np.max(np.abs(actual - expected))))
    return worst


def check_parity(
    model: nn.Module,
    onnx_path: Path,
    tolerance: float = PARITY_TOLERANCE,
    sizes: Iterable[tuple[int, int]] = PARITY_SIZES,
) -> float:
    """The parity max-abs-diff; raises ParityError when it exceeds ``tolerance``."""
    diff = parity_max_abs_diff(model, onnx_path, sizes)
    if not diff <= tolerance:
        raise ParityError(f"{onnx_path}: PyTorch vs ONNX Runtime max-abs-diff {diff:.3g} > {tolerance:.3g}")
    return diff


def op_types(proto: onnx.ModelProto) -> list[str]:
    """Sorted op types of the main graph."""
    return sorted({node.op_type for node in proto.graph.node})


def resize_attributes(proto: onnx.ModelProto) -> dict[str, str | int] | None:
    """Mode, coordinate transformation and antialias shared by every Resize node, with the defaults of the
    model's opset filled in (antialias, absent before opset 18, means 0); None without Resize nodes.

    Raises ValueError if the Resize nodes disagree.
    """
    opset = next(entry.version for entry in proto.opset_import if entry.domain in ("", "ai.onnx"))
    schema = onnx.defs.get_schema("Resize", opset)
    defaults = {
        name: onnx.helper.get_attribute_value(attr.default_value)
        for name, attr in schema.attributes.items()
        if attr.default_value.name
    }
    found = set()
    for node in proto.graph.node:
        if node.op_type != "Resize":
            continue
        values = {**defaults, **{a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}}
        values = {name: values.get(name, 0) for name in RESIZE_ATTRIBUTES}
        found.add(tuple((k, v.decode() if isinstance(v, bytes) else v) for k, v in values.items()))
    if len(found) > 1:
        raise ValueError(f"Resize nodes disagree on their attributes: {sorted(found)}")
    return dict(found.pop()) if found else None
