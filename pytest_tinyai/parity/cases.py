"""The inputs parity runs on: seeded random-normal tensors at contract shapes, and real images of the eval fold."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pytest_tinyai.dataset import DatasetLayoutError, find_samples, load_image, open_image
from pytest_tinyai.parity import ParityError
from pytest_tinyai.parity.shapes import SIDE_CAP, parity_shapes, valid_sizes
from pytest_tinyai.tensor_contract import IMAGE_LAYOUTS, Contract, TensorSpec

FOLD_IMAGES = 8
RANDOM = "random-normal"  # the kinds of input parity runs on, as the report groups its differences
FOLD_IMAGE = "fold image"


@dataclass(frozen=True)
class Case:
    """One input set: where it comes from (its kind of input, then which one), the dims it binds and the feeds by
    input name."""

    source: str
    dims: dict[str, int]
    feeds: dict[str, np.ndarray]
    kind: str = RANDOM

    @property
    def dims_text(self) -> str:
        return ", ".join(f"{symbol}={value}" for symbol, value in self.dims.items()) or "its fixed shape"


def random_cases(contract: Contract, seed: int = 0) -> list[Case]:
    """Standard-normal inputs at each parity shape, seeded by position."""
    return [
        Case(f"{RANDOM} seed {seed + index}", dims, contract.make_inputs(dims, seed=seed + index), RANDOM)
        for index, dims in enumerate(parity_shapes(contract, seed))
    ]


def image_cases(contract: Contract, fold_root: Path, limit: int = FOLD_IMAGES) -> list[Case]:
    """The first ``limit`` images of the fold (by stem), normalised and laid out as the input declares, resized to
    a valid size near their own, at most SIDE_CAP a side. The contract must take one three-channel image input."""
    spec = contract.inputs[0]
    if len(contract.inputs) != 1 or len(spec.shape) != 4 or spec.layout not in IMAGE_LAYOUTS:
        raise ParityError(f"fold images cannot feed the contract's inputs {[list(s.shape) for s in contract.inputs]}")
    try:
        samples = find_samples(fold_root)[:limit]
        cases = []
        for sample in samples:
            with open_image(sample.image_path) as image:
                width, height = image.size
            dims = _fitted_dims(contract, spec, height, width)
            size = [spec.concrete_shape(dims)[axis] for axis in spec.spatial_axes]
            pixels = spec.image_feed(load_image(sample.image_path, (size[1], size[0])))
            cases.append(Case(f"{FOLD_IMAGE} '{sample.stem}'", dims, {spec.name: pixels}, FOLD_IMAGE))
    except DatasetLayoutError as error:
        raise ParityError(f"the eval fold cannot be read: {error}") from error
    return cases


def _fitted_dims(contract: Contract, spec: TensorSpec, height: int, width: int) -> dict[str, int]:
    """The contract's dims with the input's H and W symbols set to the valid sizes nearest the image's own."""
    dims = dict(contract.nominal)
    for axis, value in zip(spec.spatial_axes, (height, width), strict=True):
        symbol = spec.shape[axis]
        if isinstance(symbol, str):
            sizes = valid_sizes(contract.dims[symbol]) if symbol in contract.dims else range(1, SIDE_CAP + 1)
            dims[symbol] = min(sizes, key=lambda size, value=value: abs(size - value))
    return dims
