"""The declarative tensor contract of a sidecar: tensor specs, symbolic dims, concrete shapes and inputs."""

from __future__ import annotations

import math
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
    """How 8-bit pixels become the input: (pixel / scale - mean) / std, per channel. Undeclared on an image means
    ImageNet's."""

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
    """One tensor of a contract. In a declared contract every dim is a size or a symbol, an undeclared layout means
    NCHW, and an undeclared normalisation means ImageNet's on an image (rank 4, NCHW or NHWC) and none on any other
    tensor (a feature vector is fed as it is). A derived contract (see `derived_contract`) declares no layout,
    normalisation or range (None: nothing is invented), and an output dim the graph leaves open is None (any size)."""

    name: str
    dtype: str
    shape: tuple[int | str | None, ...]
    value_range: tuple[float, float] | None = None
    layout: str | None = "NCHW"
    normalisation: Normalisation | None = Normalisation()

    def normalisation_problem(self) -> str | None:
        """Why the declared normalisation cannot apply to this input's channels (mean and std give one value, or
        one per channel), or None."""
        if self.normalisation is None:
            return None
        channel_axis = 1 if self.layout == "NCHW" else len(self.shape) - 1
        channels = self.shape[channel_axis] if len(self.shape) > channel_axis else None
        for name, values in (("mean", self.normalisation.mean), ("std", self.normalisation.std)):
            if len(values) != 1 and isinstance(channels, int) and len(values) != channels:
                return f"'{self.name}' normalisation {name} has {len(values)} values for {channels} channels"
        return None

    @property
    def spatial_axes(self) -> tuple[int, int]:
        """The (height, width) axes of an image input in its layout."""
        return (2, 3) if self.layout == "NCHW" else (1, 2)

    def image_feed(self, pixels: np.ndarray) -> np.ndarray:
        """One (H, W, C) uint8 image as this input declares it: normalised, in its layout, batch of one, its dtype."""
        if self.normalisation is None or self.layout is None:
            raise ValueError(f"'{self.name}' declares no layout or normalisation (it is no image): no image feed")
        if self.layout not in IMAGE_LAYOUTS:
            raise ValueError(f"'{self.name}' declares layout {self.layout}; images feed {' or '.join(IMAGE_LAYOUTS)}")
        normalised = self.normalisation.apply(pixels)
        arranged = normalised.transpose(2, 0, 1) if self.layout == "NCHW" else normalised
        return np.ascontiguousarray(arranged[np.newaxis], dtype=self.dtype)

    @property
    def element_type(self) -> int:
        return helper.np_dtype_to_tensor_dtype(np.dtype(self.dtype))

    def concrete_shape(self, dims: dict[str, int]) -> tuple[int, ...]:
        """The shape at `dims`; every dim must be known (an input's always are)."""
        shape = self.expected_shape(dims)
        if None in shape:
            raise ValueError(f"'{self.name}' has a dim of any size: it has no concrete shape")
        return tuple(dim for dim in shape if dim is not None)

    def expected_shape(self, dims: dict[str, int]) -> tuple[int | None, ...]:
        """The shape at `dims`, None where any size is admitted (an output dim a derived contract leaves open)."""
        return tuple(dims[dim] if isinstance(dim, str) else dim for dim in self.shape)

    def admits_shape(self, actual: tuple[int, ...], dims: dict[str, int]) -> bool:
        """Whether a produced shape is this tensor's at `dims` (an open dim admits any size)."""
        expected = self.expected_shape(dims)
        if len(actual) != len(expected):
            return False
        return all(size is None or size == produced for size, produced in zip(expected, actual, strict=True))


@dataclass(frozen=True)
class Contract:
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    dims: dict[str, DimRule]
    nominal: dict[str, int]
    kind: str | None = DEFAULT_KIND  # the model kind: how fold samples become feeds and outputs become predictions
    derived: bool = False  # derived from the graph and the owner's fields, not declared (see derived_contract)

    @classmethod
    def from_sidecar(cls, block: dict[str, Any]) -> Contract:
        def tensor(spec: dict[str, Any]) -> TensorSpec:
            value_range = tuple(spec["range"]) if "range" in spec else None
            declared = spec.get("normalisation")
            layout = spec.get("layout", "NCHW")
            shape = tuple(spec["shape"])
            normalisation: Normalisation | None = None  # undeclared, on a tensor that is no image: none
            if declared:
                normalisation = Normalisation(
                    tuple(declared["mean"]), tuple(declared["std"]), declared.get("scale", 255.0)
                )
            elif len(shape) == 4 and layout in IMAGE_LAYOUTS:
                normalisation = Normalisation()  # undeclared on an image: ImageNet's
            return TensorSpec(spec["name"], spec["dtype"], shape, value_range, layout, normalisation)

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

    def at_resolution(self, resolution: list[int] | tuple[int, ...]) -> dict[str, int]:
        """The dims of a latency resolution: H and W bound to the first two symbols, the others nominal."""
        return {**self.nominal, **dict(zip(self.symbols[:2], resolution, strict=False))}

    def shape_violations(self, dims: dict[str, int]) -> list[str]:
        """Why a concrete assignment of the symbolic dims breaks the contract (empty when it is valid)."""
        problems = []
        for symbol in self.symbols:
            if symbol not in dims:
                problems.append(f"no value for dim {symbol}")
            elif symbol in self.dims and (why := self.dims[symbol].violation(dims[symbol])):
                problems.append(f"{symbol}={why}")
        return problems

    def cap_problems(self, label: str, dims: dict[str, int], max_pixels: int) -> list[str]:
        """Why running at `dims` is over the pixel cap (empty when it is not): a shape's pixels are the product of
        its symbolic dims' values; besides, each input's values (its fixed dims included) are capped at
        VALUES_PER_PIXEL per pixel of the cap."""
        dims = {symbol: dims[symbol] for symbol in self.symbols if symbol in dims}
        described = " ".join([label, *(f"{symbol}={value}" for symbol, value in dims.items())])
        pixels = math.prod(dims.values())
        if pixels > max_pixels:
            return [f"{described} is {pixels:,} pixels, over the cap of {max_pixels:,} (--tinyai-max-pixels)"]
        problems = []
        for spec in self.inputs:
            values = math.prod(
                dim if isinstance(dim, int) else dims.get(dim, 1) for dim in spec.shape if dim is not None
            )
            if values > max_pixels * VALUES_PER_PIXEL:
                problems.append(
                    f"{described}: input '{spec.name}' {list(spec.shape)} holds {values:,} values, over "
                    f"{VALUES_PER_PIXEL} per pixel of the cap ({max_pixels * VALUES_PER_PIXEL:,}, --tinyai-max-pixels)"
                )
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


VALUES_PER_PIXEL = 16  # what an input may carry per pixel (batch x channels) before its fixed dims count as a bomb


def declares_tensors(block: dict[str, Any]) -> bool:
    """Whether a contract block declares the tensors (a whole contract), not only the nominal values of the contract
    derived from the graph (see `derived_contract`)."""
    return "inputs" in block


def pixel_cap_problems(block: dict[str, Any], latency: dict[str, Any] | None, max_pixels: int) -> list[str]:
    """One line per shape the plugin would run that is over the pixel cap (see `Contract.cap_problems`); a block of
    nominal values alone is capped where the derived contract is run."""
    if not declares_tensors(block):
        return []
    contract = Contract.from_sidecar(block)
    problems = []
    for label, dims in _planned_shapes(contract, latency or {}):
        problems.extend(contract.cap_problems(label, dims, max_pixels))
    return problems


def _planned_shapes(contract: Contract, latency: dict[str, Any]) -> list[tuple[str, dict[str, int]]]:
    """The symbolic dims of every shape the plugin runs: nominal, all dims at their maximum (the far end of the fuzz
    range), and each latency resolution and budget (H and W bound to the first two symbols, the others nominal)."""
    maxima = {symbol: rule.maximum for symbol, rule in contract.dims.items()}
    shapes = [("contract nominal", contract.nominal), ("contract dims max", {**contract.nominal, **maxima})]
    resolutions = [("latency resolution", pair) for pair in latency.get("resolutions", [])]
    resolutions += [("latency budget resolution", budget["resolution"]) for budget in latency.get("budgets", [])]
    shapes += [(label, contract.at_resolution(resolution)) for label, resolution in resolutions]
    return shapes
