"""Registry trust: every file an entry names is confined to the registry folder, capped, hashed and parseable."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import onnx
from onnx.external_data_helper import uses_external_data

from pytest_tinyai.contract import DEFAULT_MAX_PIXELS, pixel_cap_problems
from pytest_tinyai.graph import all_tensors
from pytest_tinyai.registry import Entry, schema_errors

MIB = 1024 * 1024


class Untrusted(Exception):
    """A file that fails confinement, size or digest rules."""


@dataclass(frozen=True)
class Limits:
    max_onnx_bytes: int = 50 * MIB
    max_external_data_bytes: int = 50 * MIB
    max_pixels: int = DEFAULT_MAX_PIXELS


@dataclass
class Trust:
    """What the registry check established about one entry: problems, and the trusted artefacts if any."""

    problems: list[str] = field(default_factory=list)
    onnx_path: Path | None = None
    proto: onnx.ModelProto | None = None
    sidecar: dict[str, Any] | None = None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def confined(folder: Path, relative: str, what: str) -> Path:
    """Resolve `relative` inside `folder`; refuse absolute paths, '..' escapes and symlinks leading outside."""
    if not relative:
        raise Untrusted(f"{what}: empty path")
    pure = PurePosixPath(relative.replace("\\", "/"))
    if pure.is_absolute() or Path(relative).is_absolute():
        raise Untrusted(f"{what} path '{relative}' is absolute; paths must be relative to the registry folder")
    root = folder.resolve()
    lexical = os.path.normpath(root / relative)
    if not Path(lexical).is_relative_to(root):
        raise Untrusted(f"{what} path '{relative}' escapes the registry folder")
    resolved = (root / relative).resolve()
    if not resolved.is_relative_to(root):
        raise Untrusted(f"{what} path '{relative}' leads through a symlink to {resolved}, outside the folder")
    if not resolved.exists():
        raise Untrusted(f"{what} '{relative}' does not exist")
    if not resolved.is_file():
        raise Untrusted(f"{what} '{relative}' is not a regular file")
    return resolved


def byte_size(size: int) -> str:
    """Exact bytes and MiB, so a size just over a cap never prints the same as the cap."""
    return f"{size:,} bytes ({size / MIB:.4g} MiB)"


def capped(path: Path, cap: int, what: str) -> int:
    size = path.stat().st_size
    if size == 0:
        raise Untrusted(f"{what} '{path.name}' is empty (0 bytes)")
    if size > cap:
        raise Untrusted(f"{what} '{path.name}' is {byte_size(size)}, over the cap of {byte_size(cap)}")
    return size


def assess(entry: Entry, limits: Limits) -> Trust:
    trust = Trust(problems=list(entry.problems))
    onnx_rel = entry.raw.get("onnx")
    if not isinstance(onnx_rel, str):
        trust.problems.append("entry names no ONNX file")
        return trust
    try:
        path = confined(entry.folder, onnx_rel, "ONNX")
        capped(path, limits.max_onnx_bytes, "ONNX")
    except Untrusted as error:
        trust.problems.append(str(error))
        return trust
    declared = entry.raw.get("sha256")
    data = path.read_bytes()  # read once: the bytes hashed are the bytes parsed and run
    actual = hashlib.sha256(data).hexdigest()
    if declared != actual:
        trust.problems.append(f"sha256 mismatch for '{onnx_rel}': registry says {declared}, file is {actual}")
        return trust
    trust.onnx_path = path
    trust.proto = _load_proto(data, path, entry.folder, limits, trust.problems)
    _check_int8_sibling(entry, path, limits, trust.problems)
    _check_sigstore_bundle(entry, trust.problems)
    trust.sidecar = _load_sidecar(entry, path, trust.problems, limits.max_pixels)
    return trust


def _load_proto(data: bytes, path: Path, folder: Path, limits: Limits, problems: list[str]) -> onnx.ModelProto | None:
    try:
        proto = onnx.load_model_from_string(data)
    except Exception as error:  # protobuf raises DecodeError, RuntimeWarning, ValueError...
        problems.append(f"'{path.name}' is not a valid ONNX model: {type(error).__name__}: {error}")
        return None
    if proto.ir_version == 0 or not proto.HasField("graph"):
        problems.append(f"'{path.name}' is not a valid ONNX model: no ir_version or graph")
        return None
    external = _external_data_files(proto)
    cap = limits.max_external_data_bytes
    total = 0
    for location in sorted(external):
        relative = str(PurePosixPath(path.relative_to(folder.resolve()).parent) / location)
        try:
            data_path = confined(folder, relative, "external data")
            total += capped(data_path, cap, "external data")
        except Untrusted as error:
            problems.append(str(error))
    if total > cap:
        problems.append(f"external data of '{path.name}' totals {byte_size(total)}, over the cap of {byte_size(cap)}")
    if problems or not external:
        return proto if not problems else None
    try:
        onnx.load_external_data_for_model(proto, str(path.parent))
    except Exception as error:
        problems.append(f"external data of '{path.name}' cannot be loaded: {type(error).__name__}: {error}")
        return None
    return proto


def _external_data_files(proto: onnx.ModelProto) -> set[str]:
    locations = set()
    for tensor in all_tensors(proto):
        if uses_external_data(tensor):
            info = {entry.key: entry.value for entry in tensor.external_data}
            locations.add(info.get("location", ""))
    return locations


def _check_int8_sibling(entry: Entry, onnx_path: Path, limits: Limits, problems: list[str]) -> None:
    declared = entry.raw.get("int8_sha256")
    if declared is None:
        return
    relative = str(PurePosixPath(entry.raw["onnx"]).with_suffix(".int8.onnx"))
    try:
        sibling = confined(entry.folder, relative, "int8 sibling")
        capped(sibling, limits.max_onnx_bytes, "int8 sibling")
    except Untrusted as error:
        problems.append(str(error))
        return
    actual = sha256_of(sibling)
    if actual != declared:
        problems.append(f"int8_sha256 mismatch for '{relative}': registry says {declared}, file is {actual}")


def _check_sigstore_bundle(entry: Entry, problems: list[str]) -> None:
    bundle = entry.raw.get("sigstore_bundle")
    if isinstance(bundle, str):
        try:
            confined(entry.folder, bundle, "sigstore bundle")
        except Untrusted as error:
            problems.append(str(error))


def sidecar_relative(entry: Entry) -> str:
    return str(PurePosixPath(entry.raw["onnx"]).with_suffix(".json"))


def _load_sidecar(entry: Entry, onnx_path: Path, problems: list[str], max_pixels: int) -> dict[str, Any] | None:
    relative = sidecar_relative(entry)
    if not (entry.folder / relative).exists() and not (entry.folder / relative).is_symlink():
        if not entry.smoke:
            problems.append(f"sidecar '{relative}' is missing (required for non-smoke models)")
        return None
    try:
        path = confined(entry.folder, relative, "sidecar")
        sidecar = json.loads(path.read_text(encoding="utf-8"))
    except Untrusted as error:
        problems.append(str(error))
        return None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        problems.append(f"sidecar '{relative}' is not valid JSON: {error}")
        return None
    errors = schema_errors(sidecar, "sidecar.schema.json")
    if not errors and "contract" in sidecar:
        errors = pixel_cap_problems(sidecar["contract"], sidecar.get("latency"), max_pixels)
    problems.extend(f"sidecar '{relative}' {line}" for line in errors)
    return sidecar if not errors else None
