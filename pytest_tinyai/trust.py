"""Registry trust: every file an entry names is confined to the registry folder, capped, hashed and parseable."""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import onnx
from onnx.external_data_helper import uses_external_data

from pytest_tinyai.bounded_read import MIB, Refused, byte_size, file_kind, read_regular, reason
from pytest_tinyai.findings import first_line, printable
from pytest_tinyai.graph import all_tensors
from pytest_tinyai.options import DEFAULT_MAX_PIXELS
from pytest_tinyai.registry import Entry
from pytest_tinyai.sidecar import namespace, sidecar_problems
from pytest_tinyai.strict_json import JsonProblem, parse_json
from pytest_tinyai.tensor_contract import pixel_cap_problems


class Untrusted(Exception):
    """A file that fails confinement, size or digest rules."""


@dataclass(frozen=True)
class Limits:
    max_onnx_bytes: int = 50 * MIB
    max_external_data_bytes: int = 50 * MIB
    max_sidecar_bytes: int = 1 * MIB
    max_weights_bytes: int = 50 * MIB
    max_pixels: int = DEFAULT_MAX_PIXELS
    sidecar_fields: Mapping[str, Any] = field(default_factory=dict)  # blocks plugins add to the sidecar's namespace


@dataclass
class Trust:
    """What the registry check established about one entry: problems, and the trusted artefacts if any."""

    problems: list[str] = field(default_factory=list)
    onnx_path: Path | None = None
    proto: onnx.ModelProto | None = None
    sidecar: dict[str, Any] | None = None  # the owner's whole document, validated (pytest-tinyai's blocks: `namespace`)
    weights: dict[str, np.ndarray] | None = None  # the sidecar's trained weights, parsed from the hashed bytes


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def confined(folder: Path, relative: str, what: str) -> Path:
    """Resolve `relative` inside `folder` to a regular file; refuse absolute paths, '..' escapes, symlinks leading
    outside, names the OS cannot resolve (symlink loops, NUL bytes, over-long names) and anything but a regular file.
    """
    if not relative:
        raise Untrusted(f"{what}: empty path")
    name = printable(relative)
    pure = PurePosixPath(relative.replace("\\", "/"))
    if pure.is_absolute() or Path(relative).is_absolute():
        raise Untrusted(f"{what} path '{name}' is absolute; paths must be relative to the registry folder")
    root = folder.resolve()
    lexical = os.path.normpath(root / relative)
    if not Path(lexical).is_relative_to(root):
        raise Untrusted(f"{what} path '{name}' escapes the registry folder")
    try:
        resolved = (root / relative).resolve()
        if not resolved.is_relative_to(root):
            target = printable(str(resolved))
            raise Untrusted(f"{what} path '{name}' leads through a symlink to {target}, outside the folder")
        mode = resolved.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        raise Untrusted(f"{what} '{name}' does not exist") from None
    except (OSError, RuntimeError, ValueError) as error:  # RuntimeError: Python 3.11's symlink loop
        raise Untrusted(f"{what} path '{name}' cannot be resolved: {reason(error)}") from None
    if not stat.S_ISREG(mode):
        raise Untrusted(f"{what} '{name}' is {file_kind(mode)}, not a regular file")
    return resolved


def present(folder: Path, relative: str) -> bool:
    """Whether anything at all sits at `relative`: only 'no such file' is absence (a symlink loop is present)."""
    try:
        os.lstat(folder / relative)
    except (FileNotFoundError, NotADirectoryError):
        return False
    except (OSError, ValueError):
        pass  # something is there that the OS will not name or follow: `confined` says what
    return True


def read_capped(path: Path, cap: int, what: str) -> bytes:
    """The bytes of a confined file (see `bounded_read.read_regular`), never following a symlink swapped in since
    `confined`; a refusal is Untrusted."""
    try:
        return read_regular(path, cap, what, follow_symlinks=False)
    except Refused as refused:
        raise Untrusted(str(refused)) from None


def assess(entry: Entry, limits: Limits) -> Trust:
    trust = Trust(problems=list(entry.problems))
    onnx_rel = entry.raw.get("onnx")
    if not isinstance(onnx_rel, str):
        trust.problems.append("entry names no ONNX file")
        return trust
    try:
        path = confined(entry.folder, onnx_rel, "ONNX")
        if entry.problems:
            return trust  # the path is confined, but a declaration that breaks the schema is trusted no further
        data = read_capped(path, limits.max_onnx_bytes, "ONNX")  # read once: the bytes hashed are parsed and run
    except Untrusted as error:
        trust.problems.append(str(error))
        return trust
    declared = entry.raw.get("sha256")
    actual = hashlib.sha256(data).hexdigest()
    if declared != actual:
        trust.problems.append(
            f"sha256 mismatch for '{printable(onnx_rel)}': registry says {declared}, file is {actual}"
        )
        return trust
    trust.onnx_path = path
    trust.proto = _load_proto(data, path, entry.folder, limits, trust.problems)
    _check_int8_sibling(entry, limits, trust.problems)
    _check_sigstore_bundle(entry, trust.problems)
    trust.sidecar = _load_sidecar(entry, limits, trust.problems)
    if "weights" in (blocks := namespace(trust.sidecar)):
        trust.weights = _load_weights(entry, blocks["weights"], limits, trust.problems)
    return trust


def _load_proto(data: bytes, path: Path, folder: Path, limits: Limits, problems: list[str]) -> onnx.ModelProto | None:
    try:
        proto = onnx.load_model_from_string(data)
    except Exception as error:  # protobuf raises DecodeError, RuntimeWarning, ValueError...
        problems.append(f"'{printable(path.name)}' is not a valid ONNX model: {type(error).__name__}: {error}")
        return None
    if proto.ir_version == 0 or not proto.HasField("graph"):
        problems.append(f"'{printable(path.name)}' is not a valid ONNX model: no ir_version or graph")
        return None
    external = [tensor for tensor in all_tensors(proto) if uses_external_data(tensor)]
    contents = _external_contents(external, path, folder, limits, problems)
    if not problems:
        problems.extend(problem for tensor in external if (problem := _inline(tensor, contents)))
    return None if problems else proto


def _external_info(tensor: onnx.TensorProto) -> dict[str, str]:
    return {entry.key: entry.value for entry in tensor.external_data}


def _external_contents(
    tensors: list[onnx.TensorProto], path: Path, folder: Path, limits: Limits, problems: list[str]
) -> dict[str, bytes]:
    """Every external-data file the tensors name, read confined and capped; reading stops once the total is over."""
    base = PurePosixPath(path.relative_to(folder.resolve()).parent)
    cap = limits.max_external_data_bytes
    contents: dict[str, bytes] = {}
    total = 0
    for location in sorted({_external_info(tensor).get("location", "") for tensor in tensors}):
        try:
            file = confined(folder, str(base / location), "external data")
            contents[location] = read_capped(file, cap, "external data")
        except Untrusted as error:
            problems.append(str(error))
            continue
        total += len(contents[location])
        if total > cap:
            over = f"totals at least {byte_size(total)}, over the cap of {byte_size(cap)}"
            problems.append(f"external data of '{printable(path.name)}' {over}")
            break
    return contents


def _inline(tensor: onnx.TensorProto, contents: dict[str, bytes]) -> str | None:
    """Move a tensor's external bytes into the proto, so that nothing (onnx, onnxruntime) opens the file again."""
    info = _external_info(tensor)
    data = contents[info.get("location", "")]
    name = f"external data of tensor '{printable(tensor.name)}'"
    try:
        offset = int(info.get("offset", "0"))
        length = int(info.get("length", str(len(data) - offset)))
    except ValueError:
        return f"{name} has an offset or length that is not an integer"
    if offset < 0 or length < 0 or offset + length > len(data):
        return f"{name} (offset {offset}, length {length}) lies outside its {len(data):,}-byte file"
    tensor.raw_data = data[offset : offset + length]
    tensor.data_location = onnx.TensorProto.DEFAULT
    del tensor.external_data[:]
    return None


def _check_int8_sibling(entry: Entry, limits: Limits, problems: list[str]) -> None:
    declared = entry.raw.get("int8_sha256")
    if declared is None:
        return
    relative = str(PurePosixPath(entry.raw["onnx"]).with_suffix(".int8.onnx"))
    try:
        sibling = read_capped(confined(entry.folder, relative, "int8 sibling"), limits.max_onnx_bytes, "int8 sibling")
    except Untrusted as error:
        problems.append(str(error))
        return
    actual = hashlib.sha256(sibling).hexdigest()
    if actual != declared:
        problems.append(f"int8_sha256 mismatch for '{printable(relative)}': registry says {declared}, file is {actual}")


def _check_sigstore_bundle(entry: Entry, problems: list[str]) -> None:
    bundle = entry.raw.get("sigstore_bundle")
    if isinstance(bundle, str):
        try:
            confined(entry.folder, bundle, "sigstore bundle")
        except Untrusted as error:
            problems.append(str(error))


def sidecar_relative(entry: Entry) -> str:
    return str(PurePosixPath(entry.raw["onnx"]).with_suffix(".json"))


def read_sidecar(entry: Entry, limits: Limits) -> Any:
    """The parsed JSON of the entry's sidecar, read confined and capped.

    Raises Untrusted, or JsonProblem (a ValueError) for bytes that are not strict JSON (see strict_json).
    """
    relative = sidecar_relative(entry)
    path = confined(entry.folder, relative, "sidecar")
    return parse_json(read_capped(path, limits.max_sidecar_bytes, "sidecar"), f"sidecar '{printable(relative)}'")


def _load_sidecar(entry: Entry, limits: Limits, problems: list[str]) -> dict[str, Any] | None:
    relative = sidecar_relative(entry)
    if not present(entry.folder, relative):
        if not entry.smoke:
            problems.append(f"sidecar '{printable(relative)}' is missing (required for non-smoke models)")
        return None
    try:
        sidecar = read_sidecar(entry, limits)
    except (Untrusted, JsonProblem) as error:
        problems.append(str(error))
        return None
    errors = sidecar_problems(sidecar, limits.sidecar_fields)
    if not errors and "contract" in (blocks := namespace(sidecar)):
        errors = pixel_cap_problems(blocks["contract"], blocks.get("latency"), limits.max_pixels)
    problems.extend(f"sidecar '{printable(relative)}' {line}" for line in errors)
    return sidecar if not errors else None


def _load_weights(
    entry: Entry, declared: dict[str, str], limits: Limits, problems: list[str]
) -> dict[str, np.ndarray] | None:
    """The sidecar's trained weights: confined, capped, read once, hashed, and parsed as safetensors from those
    same bytes (safetensors holds raw tensors and a JSON header, so nothing is ever unpickled)."""
    from safetensors.numpy import load

    relative = declared["path"]
    name = printable(relative)
    try:
        data = read_capped(confined(entry.folder, relative, "weights"), limits.max_weights_bytes, "weights")
    except Untrusted as error:
        problems.append(str(error))
        return None
    actual = hashlib.sha256(data).hexdigest()
    if actual != declared["sha256"]:
        problems.append(f"weights sha256 mismatch for '{name}': sidecar says {declared['sha256']}, file is {actual}")
        return None
    try:
        return load(data)
    except Exception as error:  # SafetensorError, or a dtype numpy lacks: whatever the bytes make it raise
        problems.append(f"weights '{name}' is not a valid safetensors file: {first_line(error)}")
        return None
