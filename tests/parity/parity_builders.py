"""Builders for the parity tests: tiny PyTorch modules, their ONNX export, and a registry that holds them.

The modules are small relatives of the saliency student (Conv without bias -> BatchNorm -> ReLU, a 1x1 head
with bias, sigmoid); their factories are importable as ``parity_builders:<name>`` reference strings.
"""

from __future__ import annotations

import hashlib
import importlib
import io
import json
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import onnx
import pytest
import torch
from PIL import Image
from safetensors.torch import save_file
from saliency_sidecar import placed, saliency_sidecar, square_dims
from torch import nn

from pytest_tinyai.model import ModelUnderTest
from pytest_tinyai.registry import load_registry
from pytest_tinyai.trust import Limits

OPSET = 17
NOMINAL = 16

# A reference module as a trainer would ship it, for pytester runs (written into the test's folder as refnet.py).
REFERENCE_SOURCE = '''
"""A reference module as a trainer would ship it."""
import torch
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4), nn.ReLU())
        self.head = nn.Conv2d(4, 1, 1)

    def forward(self, x):
        return torch.sigmoid(self.head(self.features(x)))


class SkewedConv2d(nn.Conv2d):
    """A Conv2d that computes with its weights shifted by 1e-3."""

    def forward(self, x):
        return self._conv_forward(x, self.weight + 1e-3, self.bias)


class SkewedNet(Net):
    def __init__(self):
        super().__init__()
        self.features[0] = SkewedConv2d(3, 4, 3, padding=1, bias=False)


def net():
    return Net()


def skewed_net():
    return SkewedNet()
'''


class ConvBnNet(nn.Module):
    """Conv 3x3 (no bias) -> BatchNorm -> ReLU -> Conv 1x1 head (bias) -> sigmoid."""

    def __init__(self, channels: int = 4) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, channels, kernel_size=3, padding=1, bias=False), nn.BatchNorm2d(channels), nn.ReLU()
        )
        self.head = nn.Conv2d(channels, 1, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.head(self.features(x)))


def conv_bn_net() -> ConvBnNet:
    """The reference factory the registry tests name: a fresh, untrained ConvBnNet."""
    return ConvBnNet()


def broken_factory() -> ConvBnNet:
    """A reference factory that fails, as one whose checkpoint is missing would."""
    raise RuntimeError("checkpoint missing")


def not_a_module() -> int:
    """A reference factory that returns something other than a module."""
    return 3


def upsampling_net(mode: str = "bilinear") -> nn.Sequential:
    """ConvBnNet followed by a parameter-free 2x upsampling."""
    return nn.Sequential(ConvBnNet(), nn.Upsample(scale_factor=2, mode=mode))


def write_fold(root: Path, count: int, size: tuple[int, int]) -> Path:
    """``count`` noise images (width, height = ``size``) with empty masks, in our Image/Mask layout."""
    rng = np.random.default_rng(0)
    (root / "Image").mkdir(parents=True)
    (root / "Mask").mkdir()
    for index in range(count):
        pixels = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
        Image.fromarray(pixels).save(root / "Image" / f"img{index:02d}.png")
        Image.fromarray(np.zeros((size[1], size[0]), np.uint8)).save(root / "Mask" / f"img{index:02d}.png")
    return root


def trained_like(module: nn.Module, seed: int = 0) -> nn.Module:
    """``module`` with seeded weights and non-trivial BatchNorm statistics, as after training, in eval mode."""
    torch.manual_seed(seed)
    for parameter in module.parameters():
        nn.init.normal_(parameter, std=0.5)
    module.train()
    with torch.no_grad():
        module(torch.randn(4, 3, NOMINAL, NOMINAL) * 2 + 0.5)
    return module.eval()


def export(module: nn.Module, **options: Any) -> onnx.ModelProto:
    """The TorchScript export the trainers use (opset 17, H and W dynamic, BatchNorm folded where it can be)."""
    buffer = io.BytesIO()
    dynamic = {2: "H", 3: "W"}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module.eval(),
            (torch.zeros(1, 3, NOMINAL, NOMINAL),),
            buffer,
            dynamo=False,
            opset_version=OPSET,
            input_names=["input"],
            output_names=["saliency_map"],
            dynamic_axes={"input": dynamic, "saliency_map": dynamic},
            **options,
        )
    return onnx.load_from_string(buffer.getvalue())


def probe() -> list[torch.Tensor]:
    return [torch.randn(1, 3, NOMINAL, NOMINAL)]


def initializer(proto: onnx.ModelProto, name: str) -> onnx.TensorProto:
    return next(tensor for tensor in proto.graph.initializer if tensor.name == name)


def sidecar(model_id: str, reference: str | None, multiple_of: int = 1, **extra: Any) -> dict[str, Any]:
    """A saliency sidecar naming ``reference`` with a small contract (sides 4..40, nominal 16)."""
    document = saliency_sidecar(model_id, opset=OPSET, dims=square_dims(4, 40, multiple_of), nominal=NOMINAL)
    return placed(document, **extra, reference=reference)


def write_registry(folder: Path, models: dict[str, tuple[onnx.ModelProto, dict[str, Any]]]) -> Path:
    """``<id>.onnx`` and ``<id>.json`` per model, and registry.json listing them with their digests."""
    folder.mkdir(parents=True, exist_ok=True)
    entries = []
    for model_id, (proto, document) in models.items():
        data = proto.SerializeToString()
        (folder / f"{model_id}.onnx").write_bytes(data)
        (folder / f"{model_id}.json").write_text(json.dumps(document, indent=2))
        entries.append(
            {
                "id": model_id,
                "kind": "nr",
                "onnx": f"{model_id}.onnx",
                "sha256": hashlib.sha256(data).hexdigest(),
                "opset": OPSET,
                "license": "Apache-2.0",
            }
        )
    path = folder / "registry.json"
    path.write_text(json.dumps({"schema_version": 1, "models": entries}, indent=2))
    return path


def refnet(pytester: pytest.Pytester) -> ModuleType:
    """REFERENCE_SOURCE written into pytester's directory as ``refnet.py``, put on sys.path and imported."""
    pytester.makepyfile(refnet=REFERENCE_SOURCE)
    pytester.syspathinsert()
    return importlib.import_module("refnet")


def run_parity(pytester: pytest.Pytester, models, *args: str) -> pytest.RunResult:
    """The parity items (or the given ``-m``) of a registry of ``models`` in pytester's directory, refnet trusted."""
    write_registry(pytester.path, models)
    roots = "-o", "tinyai_reference_roots=refnet refnet_gone"
    marker = args or ("-m", "tinyai_parity")
    return pytester.runpytest("--tinyai-registry", "registry.json", "-p", "no:cacheprovider", *roots, *marker)


def weights_file(folder: Path, stem: str, tensors: dict[str, torch.Tensor]) -> dict[str, str]:
    """``<stem>.safetensors`` holding ``tensors`` in ``folder``, and the sidecar's ``weights`` block naming it."""
    path = folder / f"{stem}.safetensors"
    save_file({name: tensor.contiguous() for name, tensor in tensors.items()}, path)
    return {"path": path.name, "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}


def model_under_test(folder: Path, proto: onnx.ModelProto, document: dict[str, Any]) -> ModelUnderTest:
    """A one-model registry in ``folder``, loaded as the plugin loads it."""
    registry = load_registry(write_registry(folder, {document["name"]: (proto, document)}))
    return ModelUnderTest(registry.entries[0], Limits())
