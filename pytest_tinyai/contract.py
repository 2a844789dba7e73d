"""The declarative tensor contract of a sidecar: tensor specs, symbolic dims, concrete shapes and inputs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from onnx import helper


@dataclass(frozen=True)
class DimRule:
    minimum: int
    maximum: int
    multiple_of: int = 1

    @property
    def smallest(self) -> int:
        """The smallest size the rule admits (may exceed maximum when none does)."""
        return -(-self.minimum // self.multiple_of) * self.multiple_of

    @property
    def largest(self) -> int:
        """The largest size the rule admits."""
        return self.maximum // self.multiple_of * self.multiple_of

    def violation(self, value: int) -> str | None:
        if not self.minimum <= value <= self.maximum:
            return f"{value} is outside [{self.minimum}, {self.maximum}]"
        if value % self.multiple_of:
            return f"{value} is not a multiple of {self.multiple_of}"
        return None


IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
IMAGE_LAYOUTS = ("NCHW", "NHWC")
DEFAULT_KIND = "saliency_map"


@dataclass(frozen=True)
class Normalisation:
    """How 8-bit pixels become the input: (pixel / scale - mean) / std, per channel. Undeclared means ImageNet's."""

    mean: tuple[float, ...] = IMAGENET_MEAN
    std: tuple[float, ...] = IMAGENET_STD
    scale: float = 255.0

    def apply(self, pixels: np.ndarray) -> np.ndarray:
        """(H, W, C) uint8 → (H, W, C) float32, normalised."""
        mean = np.asarray(self.mean, dtype=np.float32)
        std = np.asarray(self.std, dtype=np.float32)
        return (pixels.astype(np.float32) / np.float32(self.scale) - mean) / std


@dataclass(frozen=True)
class TensorSpec:
    name: str
    dtype: str
    shape: tuple[int | str, ...]
    value_range: tuple[float, float] | None = None
    layout: str = "NCHW"
    normalisation: Normalisation = Normalisation()

    @property
    def spatial_axes(self) -> tuple[int, int]:
        """The (height, width) axes of an image input in its layout."""
        return (2, 3) if self.layout == "NCHW" else (1, 2)

    def image_feed(self, pixels: np.ndarray) -> np.ndarray:
        """One (H, W, C) uint8 image as this input declares it: normalised, in its layout, batch of one, its dtype."""
        if self.layout not in IMAGE_LAYOUTS:
            raise ValueError(f"'{self.name}' declares layout {self.layout}; images feed {' or '.join(IMAGE_LAYOUTS)}")
        normalised = self.normalisation.apply(pixels)
        arranged = normalised.transpose(2, 0, 1) if self.layout == "NCHW" else normalised
        return np.ascontiguousarray(arranged[np.newaxis], dtype=self.dtype)

    @property
    def element_type(self) -> int:
        return helper.np_dtype_to_tensor_dtype(np.dtype(self.dtype))

    def concrete_shape(self, dims: dict[str, int]) -> tuple[int, ...]:
        return tuple(dim if isinstance(dim, int) else dims[dim] for dim in self.shape)


@dataclass(frozen=True)
class Contract:
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    dims: dict[str, DimRule]
    nominal: dict[str, int]
    kind: str = DEFAULT_KIND  # the model kind: how fold samples become feeds and outputs become predictions

    @classmethod
    def from_sidecar(cls, block: dict[str, Any]) -> Contract:
        def tensor(spec: dict[str, Any]) -> TensorSpec:
            value_range = tuple(spec["range"]) if "range" in spec else None
            declared = spec.get("normalisation")
            normalisation = (
                Normalisation(tuple(declared["mean"]), tuple(declared["std"]), declared.get("scale", 255.0))
                if declared
                else Normalisation()
            )
            layout = spec.get("layout", "NCHW")
            return TensorSpec(spec["name"], spec["dtype"], tuple(spec["shape"]), value_range, layout, normalisation)

        dims = {
            name: DimRule(rule["min"], rule["max"], rule.get("multiple_of", 1))
            for name, rule in block.get("dims", {}).items()
        }
        return cls(
            tuple(map(tensor, block["inputs"])),
            tuple(map(tensor, block["outputs"])),
            dims,
            dict(block.get("nominal", {})),
            block.get("kind", DEFAULT_KIND),
        )

    @property
    def symbols(self) -> list[str]:
        seen = [dim for spec in self.inputs + self.outputs for dim in spec.shape if isinstance(dim, str)]
        return sorted(set(seen), key=seen.index)

    def shape_violations(self, dims: dict[str, int]) -> list[str]:
        """Why a concrete assignment of the symbolic dims breaks the contract (empty when it is valid)."""
        problems = []
        for symbol in self.symbols:
            if symbol not in dims:
                problems.append(f"no value for dim {symbol}")
            elif symbol in self.dims and (why := self.dims[symbol].violation(dims[symbol])):
                problems.append(f"{symbol}={why}")
        return problems

    def make_inputs(self, dims: dict[str, int], seed: int = 0) -> dict[str, np.ndarray]:
        """Seeded inputs: standard-normal floats, small non-negative integers, random booleans."""
        rng = np.random.default_rng(seed)
        feeds = {}
        for spec in self.inputs:
            shape = spec.concrete_shape(dims)
            dtype = np.dtype(spec.dtype)
            if dtype.kind == "f":
                feeds[spec.name] = rng.standard_normal(shape).astype(dtype)
            elif dtype.kind == "b":
                feeds[spec.name] = rng.integers(0, 2, shape).astype(bool)
            else:
                feeds[spec.name] = rng.integers(0, 8, shape).astype(dtype)
        return feeds
