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


@dataclass(frozen=True)
class TensorSpec:
    name: str
    dtype: str
    shape: tuple[int | str, ...]
    value_range: tuple[float, float] | None = None

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

    @classmethod
    def from_sidecar(cls, block: dict[str, Any]) -> Contract:
        def tensor(spec: dict[str, Any]) -> TensorSpec:
            value_range = tuple(spec["range"]) if "range" in spec else None
            return TensorSpec(spec["name"], spec["dtype"], tuple(spec["shape"]), value_range)

        dims = {
            name: DimRule(rule["min"], rule["max"], rule.get("multiple_of", 1))
            for name, rule in block.get("dims", {}).items()
        }
        return cls(
            tuple(map(tensor, block["inputs"])),
            tuple(map(tensor, block["outputs"])),
            dims,
            dict(block.get("nominal", {})),
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
