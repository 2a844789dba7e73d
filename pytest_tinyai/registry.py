"""Reading a registry.json (the C runtime's trust root) into one Entry per model, without ever raising."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from pytest_tinyai.registry_formats import RegistryFormat, adapt
from pytest_tinyai.specs import json_schema
from pytest_tinyai.strict_json import MAX_DOCUMENT_BYTES, JsonProblem, parse_json_located, read_bounded

MAX_SCHEMA_MESSAGE = 200
ENTRY_PATH = re.compile(r"^\$\.models\[(?P<index>\d+)\](?P<rest>.*)$")


def schema_errors(document: Any, schema_name: str) -> list[str]:
    """Every violation of a packaged JSON schema, as 'path: message' lines in document order."""
    return validation_errors(_validator(schema_name), document)


def validation_errors(validator: jsonschema.Draft202012Validator, document: Any) -> list[str]:
    """Every violation `validator` finds, as 'path: message' lines in document order."""
    errors = sorted(validator.iter_errors(document), key=lambda error: list(map(str, error.absolute_path)))
    return [f"{_shortened(error.json_path)}: {_shortened(error.message)}" for error in errors]


@cache
def _validator(schema_name: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json_schema(schema_name))


def _shortened(text: str) -> str:
    """A schema message echoes the offending value: keep it to one readable line, however large the value."""
    return text if len(text) <= MAX_SCHEMA_MESSAGE else f"{text[:MAX_SCHEMA_MESSAGE]}… ({len(text):,} characters)"


@dataclass(frozen=True)
class Entry:
    """One model of a registry, as declared; `problems` holds what is wrong with the declaration itself."""

    registry_path: Path
    index: int
    raw: dict[str, Any]
    schema_version: int | None
    problems: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        model_id = self.raw.get("id")
        return model_id if isinstance(model_id, str) and model_id else f"models[{self.index}]"

    @property
    def folder(self) -> Path:
        return self.registry_path.parent

    @property
    def smoke(self) -> bool:
        return self.raw.get("smoke") is True


@dataclass(frozen=True)
class Registry:
    """A parsed registry: file-level problems (unreadable, not JSON, bad top level) and its entries."""

    path: Path
    problems: tuple[str, ...]
    entries: tuple[Entry, ...] = field(default=())
    schema_version: int | None = None


def load_registry(path: Path, formats: Sequence[RegistryFormat] = ()) -> Registry:
    """Read a registry, in the runtime's format or one of `formats`; a problem inside one entry (duplicate key,
    non-finite number) fails that entry alone."""
    try:
        document, located = parse_json_located(read_bounded(path, MAX_DOCUMENT_BYTES, "registry"), "registry")
        document, adapted_from = adapt(document, formats)
    except JsonProblem as problem:
        return Registry(path, (str(problem),))
    except Exception as error:  # a registered format's adapter is plugin code: its failure is this file's problem
        return Registry(path, (f"registry cannot be adapted to the runtime's format: {type(error).__name__}: {error}",))
    by_entry: dict[int, list[str]] = {}
    file_problems = []
    for json_path, message in located:
        match = ENTRY_PATH.match(json_path)
        if match and adapted_from is None and isinstance(document.get("models"), list):
            by_entry.setdefault(int(match["index"]), []).append(f"entry{match['rest']}: {message}")
        else:
            file_problems.append(f"registry {json_path}: {message}")
    if not isinstance(document, dict) or not isinstance(document.get("models"), list):
        return Registry(path, tuple(schema_errors(document, "registry.schema.json")) or ("no models list",))

    top_level = {key: value for key, value in document.items() if key != "models"}
    top_level["models"] = []
    problems = (*file_problems, *schema_errors(top_level, "registry.schema.json"))
    if not document["models"]:
        problems += ("the registry declares no models: there is nothing to check",)
    version = document.get("schema_version") if document.get("schema_version") in (0, 1) else None
    entries = tuple(
        _entry(path, index, raw, version, by_entry.get(index, [])) for index, raw in enumerate(document["models"])
    )
    return Registry(path, problems, _flag_duplicate_ids(entries), version)


def _entry(path: Path, index: int, raw: Any, version: int | None, parse_problems: list[str]) -> Entry:
    if not isinstance(raw, dict):
        return Entry(path, index, {}, version, (f"models[{index}] is not an object",))
    wrapped = {"schema_version": version if version is not None else 0, "models": [raw]}
    schema = [line.replace("$.models[0]", "entry", 1) for line in schema_errors(wrapped, "registry.schema.json")]
    problems = [*parse_problems, *schema]
    if version == 1 and "license" not in raw:
        problems.append("entry: 'license' is required from schema_version 1 on")
    return Entry(path, index, raw, version, tuple(problems))


def _flag_duplicate_ids(entries: tuple[Entry, ...]) -> tuple[Entry, ...]:
    counts = Counter(entry.raw.get("id") for entry in entries if isinstance(entry.raw.get("id"), str))
    flagged = []
    for entry in entries:
        problems = entry.problems
        if counts.get(entry.raw.get("id"), 0) > 1:
            problems += (f"duplicate id '{entry.id}' ({counts[entry.raw.get('id')]} entries share it)",)
        flagged.append(Entry(entry.registry_path, entry.index, entry.raw, entry.schema_version, problems))
    return tuple(flagged)
