"""A model's sidecar `<stem>.json`: the registry owner's document, with pytest-tinyai's blocks in one namespace.

The top level belongs to the registry's owner (the C runtime and its tools): the fields the runtime reads are
type-checked, and any other field is the owner's business. pytest-tinyai's declarative blocks, and those plugins
register (`pytest_tinyai_sidecar_fields`), live under `tinyai`, where every key must be known, so that a typo can
never switch a check off. One of those blocks found at the top level in its own shape is a mistake, and says where
it belongs; a top-level field of the same name in another shape (upstream's own `gate` record) is the owner's.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from functools import cache
from typing import Any

import jsonschema

from pytest_tinyai.registry import validation_errors
from pytest_tinyai.specs import json_schema

NAMESPACE = "tinyai"
SCHEMA = "sidecar.schema.json"
BLOCKS: tuple[str, ...] = tuple(json_schema(SCHEMA)["$defs"][NAMESPACE]["properties"])  # the built-in blocks
OWNER_FIELDS: tuple[str, ...] = tuple(name for name in json_schema(SCHEMA)["properties"] if name != NAMESPACE)


def namespace(document: Any) -> dict[str, Any]:
    """The sidecar's pytest-tinyai blocks: its `tinyai` object, {} when it has none (or is not an object)."""
    blocks = document.get(NAMESPACE) if isinstance(document, dict) else None
    return blocks if isinstance(blocks, dict) else {}


def sidecar_problems(document: Any, fields: Mapping[str, Any] | None = None) -> list[str]:
    """Every reason the sidecar is invalid, one line each: its schema (with the blocks plugins registered in
    `fields`, name → JSON schema) and any block of the namespace declared at the top level in its own shape."""
    return [*validation_errors(_validator(_key(fields)), document), *misplaced_blocks(document, fields)]


def _key(fields: Mapping[str, Any] | None) -> str:
    """The plugins' fields as a cache key (JSON)."""
    return json.dumps(dict(fields or {}), sort_keys=True)


@cache
def _schema(fields_key: str) -> dict[str, Any]:
    """The packaged sidecar schema with the plugins' fields joining the namespace (a built-in block keeps its own)."""
    schema = copy.deepcopy(json_schema(SCHEMA))
    blocks = schema["$defs"][NAMESPACE]["properties"]
    schema["$defs"][NAMESPACE]["properties"] = {**json.loads(fields_key), **blocks}
    return schema


@cache
def _validator(fields_key: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(_schema(fields_key))


@cache
def _block_validator(fields_key: str, name: str) -> jsonschema.Draft202012Validator:
    """A validator of one namespace block's value, its references resolved in the whole schema."""
    pointer = name.replace("~", "~0").replace("/", "~1")
    schema = _schema(fields_key)
    reference = f"#/$defs/{NAMESPACE}/properties/{pointer}"
    return jsonschema.Draft202012Validator({"$defs": schema["$defs"], "$ref": reference})


def misplaced_blocks(document: Any, fields: Mapping[str, Any] | None = None) -> list[str]:
    """A line for each namespace block declared at the top level in its own shape: its value validates against the
    block's schema, or is an object with every key the block requires (a block with a typo in it is still ours)."""
    if not isinstance(document, dict):
        return []
    fields_key = _key(fields)
    blocks = _schema(fields_key)["$defs"][NAMESPACE]["properties"]
    problems = []
    for name in sorted(set(document) & set(blocks) - set(OWNER_FIELDS)):
        value, required = document[name], _required(blocks[name])
        ours = _block_validator(fields_key, name).is_valid(value) or (
            bool(required) and isinstance(value, dict) and required <= set(value)
        )
        if ours:
            problems.append(f"declares '{name}' at the top level: pytest-tinyai's blocks belong under '{NAMESPACE}'")
    return problems


def _required(block_schema: Any) -> set[str]:
    """The keys a block's schema requires of an object (following one `$ref` into `$defs`)."""
    if not isinstance(block_schema, dict):
        return set()
    reference = block_schema.get("$ref")
    if isinstance(reference, str) and reference.startswith("#/$defs/"):
        block_schema = json_schema(SCHEMA)["$defs"].get(reference.removeprefix("#/$defs/"), {})
    required = block_schema.get("required", [])
    return {key for key in required if isinstance(key, str)} if isinstance(required, list) else set()
