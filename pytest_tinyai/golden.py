"""Golden input/output sets in the ONNX test-data format (the Model Zoo's and onnx_test_runner's layout).

A set is a folder `test_data_set_N/` holding `input_K.pb` and `output_K.pb`, each one serialised `onnx.TensorProto`.
A sidecar declares its sets in a `tinyai.golden` block, with the tolerance they are compared at, the onnxruntime version
that recorded each set and the sha256 of every file:

    "golden": {"tolerance": 1e-05, "sets": [{"path": "saliency_student_v2/test_data_set_0", "onnxruntime": "1.32.0",
               "source": "first image of fold saliency-eval-v1",
               "files": {"input_0.pb": "<sha256>", "output_0.pb": "<sha256>"}}]}

The files are registry data: read confined to the registry folder and capped, hashed, then parsed from the very
bytes that were hashed (never opened again), strictly: no external data, a known element type, exactly as many
values as the dims say. This module is core (no pytest): the check and the `tinyai-golden` command share it.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

import numpy as np
import onnx
from onnx import numpy_helper

from pytest_tinyai.findings import printable
from pytest_tinyai.trust import MIB, Untrusted, byte_size, confined, read_capped

if TYPE_CHECKING:
    from pathlib import Path

SET_PREFIX = "test_data_set_"
MAX_FILE_BYTES = 64 * MIB  # one .pb
MAX_SET_BYTES = 128 * MIB  # all files of one set
FILE_NAME = re.compile(r"^(?P<role>input|output)_(?P<index>0|[1-9][0-9]{0,2})\.pb$")
# the element types a contract may declare: anything else in a stored tensor is refused
ELEMENT_TYPES = {
    onnx.TensorProto.FLOAT,
    onnx.TensorProto.FLOAT16,
    onnx.TensorProto.DOUBLE,
    onnx.TensorProto.INT8,
    onnx.TensorProto.UINT8,
    onnx.TensorProto.INT32,
    onnx.TensorProto.INT64,
    onnx.TensorProto.BOOL,
}


class GoldenError(ValueError):
    """A golden set that cannot be trusted or read; one line."""


@dataclass(frozen=True)
class StoredTensor:
    file: str
    name: str
    array: np.ndarray


@dataclass(frozen=True)
class StoredSet:
    path: str
    onnxruntime: str | None
    inputs: list[StoredTensor]
    outputs: list[StoredTensor]


def tensor_bytes(array: np.ndarray, name: str) -> bytes:
    """A serialised TensorProto, as onnx writes it (raw data, named)."""
    return numpy_helper.from_array(np.asarray(array), name).SerializeToString()  # a 0-d output stays 0-d


def parse_tensor(data: bytes, what: str) -> tuple[str, np.ndarray]:
    """The name and values of a serialised TensorProto, parsed strictly from `data`."""
    tensor = onnx.TensorProto()
    try:
        tensor.ParseFromString(data)
    except Exception as error:  # protobuf's DecodeError, and whatever else a hostile byte string provokes
        raise GoldenError(
            f"{what} is not a valid TensorProto (truncated or corrupt): {type(error).__name__}: {error}"
        ) from None
    if tensor.data_location == onnx.TensorProto.EXTERNAL or len(tensor.external_data):
        raise GoldenError(f"{what} names external data; a golden file holds its own values")
    if tensor.data_type not in ELEMENT_TYPES:
        raise GoldenError(f"{what} has element type {tensor.data_type}, not one a contract may declare")
    dims = list(tensor.dims)
    if any(dim < 0 for dim in dims) or len(dims) > 8:
        raise GoldenError(f"{what} declares dims {dims}")
    expected = math.prod(dims)
    try:
        array = numpy_helper.to_array(tensor)
    except Exception as error:
        raise GoldenError(
            f"{what} is truncated or malformed: its dims {dims} say {expected:,} values ({type(error).__name__})"
        ) from None
    if array.shape != tuple(dims) or array.size != expected:
        raise GoldenError(
            f"{what} is truncated or malformed: holds {array.size:,} values, its dims {dims} say {expected:,}"
        )
    return tensor.name, array


def numbered(files: list[str], role: str, set_path: str) -> list[str]:
    """The set's `<role>_K.pb` files in K order; K must run 0..n-1 (n >= 1)."""
    indexed = sorted(
        (int(match["index"]), name) for name in files if (match := FILE_NAME.match(name)) and match["role"] == role
    )
    if [index for index, _ in indexed] != list(range(len(indexed))) or not indexed:
        listed = ", ".join(name for _, name in indexed) or "none"
        raise GoldenError(f"golden set '{printable(set_path)}' {role} files are not numbered 0..n-1: {listed}")
    return [name for _, name in indexed]


def read_set(folder: Path, block: dict[str, Any]) -> StoredSet:
    """One declared set, every file confined, capped, hashed and parsed from the bytes hashed.

    Raises GoldenError (or trust.Untrusted, a plain Exception) naming the set and the file.
    """
    set_path = block["path"]
    shown = printable(set_path)
    files = block["files"]
    inputs, outputs = numbered(list(files), "input", set_path), numbered(list(files), "output", set_path)
    total = 0
    tensors: dict[str, StoredTensor] = {}
    for name in inputs + outputs:
        relative = str(PurePosixPath(set_path) / name)
        what = f"golden set '{shown}' file '{name}'"
        try:
            data = read_capped(confined(folder, relative, "golden file"), MAX_FILE_BYTES, "golden file")
        except Untrusted as error:
            raise GoldenError(f"golden set '{shown}': {error}") from None
        total += len(data)
        if total > MAX_SET_BYTES:
            raise GoldenError(f"golden set '{shown}' totals over the cap of {byte_size(MAX_SET_BYTES)}")
        actual = hashlib.sha256(data).hexdigest()
        if actual != files[name]:
            raise GoldenError(f"{what}: sha256 mismatch, the sidecar says {files[name]}, the file is {actual}")
        tensor_name, array = parse_tensor(data, what)
        tensors[name] = StoredTensor(name, tensor_name, array)
    return StoredSet(
        set_path, block.get("onnxruntime"), [tensors[name] for name in inputs], [tensors[name] for name in outputs]
    )


def by_model_names(stored: list[StoredTensor], names: list[str], role: str, set_path: str) -> dict[str, StoredTensor]:
    """Stored tensors matched to the model's inputs or outputs: by name when every stored name is one of the model's,
    else by position (the Model Zoo's files are positional; their names are optional)."""
    if len(stored) != len(names):
        raise GoldenError(
            f"golden set '{printable(set_path)}' holds {len(stored)} {role} files, the model has {len(names)} {role}s"
        )
    stored_names = [tensor.name for tensor in stored]
    if sorted(stored_names) == sorted(names):
        return {tensor.name: tensor for tensor in stored}
    return dict(zip(names, stored, strict=True))


@dataclass(frozen=True)
class Difference:
    max_abs: float
    where: tuple[int, ...]
    stored: float
    produced: float


def difference(stored: np.ndarray, produced: np.ndarray) -> Difference:
    """The largest absolute difference of two same-shaped arrays and where it lies; NaN against a number (or a NaN
    where the stored value is a number) counts as an infinite difference."""
    expected = stored.astype(np.float64)
    actual = np.asarray(produced).astype(np.float64)
    with np.errstate(invalid="ignore"):
        gap = np.abs(actual - expected)
    both_nan = np.isnan(expected) & np.isnan(actual)
    same_inf = np.isinf(expected) & (expected == actual)
    gap = np.where(both_nan | same_inf, 0.0, np.where(np.isnan(gap), np.inf, gap))
    if gap.size == 0:
        return Difference(0.0, (), 0.0, 0.0)
    flat = int(np.argmax(gap))
    where = tuple(int(index) for index in np.unravel_index(flat, gap.shape))
    return Difference(float(gap.flat[flat]), where, float(expected.flat[flat]), float(actual.flat[flat]))
