"""Add or replace one model entry of a registry.json, keeping the upstream format, validated, atomically."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from pytest_tinyai.registry import schema_errors
from pytest_tinyai.specs import json_schema

REGISTRY_SCHEMA = "registry.schema.json"
SCHEMA_VERSION = 1
NEW_FILE_MODE = 0o644


class RegistryWriteError(ValueError):
    """The registry would not be valid after the update; nothing was written."""


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder, fsync, then os.replace.

    The file keeps the permissions of the one it replaces (a new one gets 0644).
    """
    path = Path(path)
    mode = path.stat().st_mode & 0o777 if path.exists() else NEW_FILE_MODE
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def dump_json(document: Any) -> bytes:
    """JSON as the project's files are written: two-space indent, non-ASCII kept, trailing newline."""
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode()


def _ordered(document: dict[str, Any], order: list[str]) -> dict[str, Any]:
    """``document`` with the keys named in ``order`` first, in that order, then the others sorted."""
    rank = {key: index for index, key in enumerate(order)}
    return {key: document[key] for key in sorted(document, key=lambda key: (rank.get(key, len(rank)), key))}


def canonical_registry(document: dict[str, Any]) -> dict[str, Any]:
    """The registry with a stable key order: ``$schema``, ``schema_version``, ``models``; entry keys in the
    order the schema declares them."""
    entry_order = list(json_schema(REGISTRY_SCHEMA)["$defs"]["entry"]["properties"])
    models = [_ordered(model, entry_order) for model in document["models"]]
    return _ordered({**document, "models": models}, ["$schema", "schema_version", "models"])


def updated_registry(registry_path: str | Path, entry: dict[str, Any]) -> dict[str, Any]:
    """The registry document with ``entry`` added, or replacing the entry of the same id; validated.

    A missing file starts an empty schema_version 1 registry; other top-level keys are kept as they are.
    Raises RegistryWriteError if the result does not validate against the packaged registry schema.
    """
    path = Path(registry_path)
    if path.exists():
        document = json.loads(path.read_text(encoding="utf-8"))
    else:
        document = {"schema_version": SCHEMA_VERSION, "models": []}
    models = list(document.get("models", []))
    ids = [model.get("id") if isinstance(model, dict) else None for model in models]
    if entry.get("id") in ids:
        models[ids.index(entry.get("id"))] = entry
    else:
        models.append(entry)
    document = canonical_registry({**document, "models": models})
    problems = schema_errors(document, REGISTRY_SCHEMA)
    if problems:
        raise RegistryWriteError(f"{path}: the update would make the registry invalid: " + "; ".join(problems))
    return document


def write_registry(registry_path: str | Path, document: dict[str, Any]) -> None:
    """Write a registry document atomically in the project's JSON style."""
    atomic_write_bytes(registry_path, dump_json(document))


def upsert_entry(registry_path: str | Path, entry: dict[str, Any]) -> None:
    """Add ``entry`` to the registry at ``registry_path`` or replace the entry with its id, atomically."""
    write_registry(registry_path, updated_registry(registry_path, entry))
