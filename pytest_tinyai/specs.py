"""Spec files (allowlist, Resize contract, JSON schemas): the packaged defaults and user replacements."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

DEFAULT_DOMAIN = "ai.onnx"


class SpecError(ValueError):
    """A spec file that cannot be read or parsed."""


def packaged_spec(name: str) -> Path:
    return Path(str(resources.files("pytest_tinyai") / "specs" / name))


@cache
def json_schema(name: str) -> dict[str, Any]:
    return json.loads(packaged_spec(name).read_text())


@dataclass(frozen=True)
class Allowlist:
    """Allowed op types per (domain, opset), as onnxruntime's required-operators config declares them."""

    source: Path
    ops: dict[str, dict[int, frozenset[str]]]

    def allowed(self, domain: str, opset: int, op_type: str) -> bool:
        return op_type in self.ops.get(domain or DEFAULT_DOMAIN, {}).get(opset, frozenset())

    def covers_opset(self, domain: str, opset: int) -> bool:
        return opset in self.ops.get(domain or DEFAULT_DOMAIN, {})


def parse_allowlist(text: str) -> dict[str, dict[int, frozenset[str]]]:
    """Domain → opset → op types, from onnxruntime's required-operators config format.

    The grammar of `onnxruntime.tools.reduced_build_config_parser.parse_config` (lines `domain;opsets;Op1,Op2,...`,
    `#` comments, `!` directives, optional `{...}` type information after an op, ignored here), parsed without
    importing `onnxruntime.tools`, whose package init imports torch; and every error names its line.
    """
    ops: dict[str, dict[int, set[str]]] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith(("#", "!")):
            continue
        fields = [field.strip() for field in line.split(";")]
        if len(fields) != 3:
            raise SpecError(f"line {number}: expected 'domain;opsets;Op1,Op2,...', got {line!r}")
        domain, opsets, operators = fields
        if not all(part.strip().isdigit() for part in opsets.split(",")):
            raise SpecError(f"line {number}: opsets {opsets!r} are not integers")
        names = _operator_names(operators)
        if names is None:
            raise SpecError(f"line {number}: unbalanced braces in the operators' type information")
        for opset in (int(part) for part in opsets.split(",")):
            ops.setdefault(domain, {}).setdefault(opset, set()).update(names)
    return {domain: {opset: frozenset(names) for opset, names in per.items()} for domain, per in ops.items()}


def _operator_names(operators: str) -> set[str] | None:
    """The op names of `Op1,Op2{...type info...},Op3`, or None when braces do not balance."""
    depth, kept = 0, []
    for char in operators:
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth < 0:
                return None
        elif depth == 0:
            kept.append(char)
    if depth:
        return None
    return {name.strip() for name in "".join(kept).split(",") if name.strip()}


def load_allowlist(path: Path | None = None) -> Allowlist:
    source = path or packaged_spec("allowlist.config")
    try:
        ops = parse_allowlist(source.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise SpecError(f"allowlist {source}: does not exist") from error
    except (OSError, UnicodeDecodeError, SpecError) as error:
        raise SpecError(f"allowlist {source}: {error}") from error
    if not ops:
        raise SpecError(f"allowlist {source}: declares no operators")
    return Allowlist(source=source, ops=ops)


@dataclass(frozen=True)
class ResizeContract:
    """The Resize attribute values the runtime implements."""

    source: Path
    allowed: dict[str, list[Any]]
    forbidden_attributes: list[str]
    scales_must_be_constant: bool
    sizes_forbidden: bool


RESIZE_CONTRACT_KEYS = {"description", "allowed", "forbidden_attributes", "scales_must_be_constant", "sizes_forbidden"}


def load_resize_contract(path: Path | None = None) -> ResizeContract:
    source = path or packaged_spec("resize_contract.json")
    try:
        data = json.loads(source.read_text())
        unknown = sorted(set(data) - RESIZE_CONTRACT_KEYS)
        if unknown:
            raise ValueError(f"unknown keys {unknown} (known: {sorted(RESIZE_CONTRACT_KEYS)})")
        return ResizeContract(
            source=source,
            allowed={name: list(values) for name, values in data["allowed"].items()},
            forbidden_attributes=list(data.get("forbidden_attributes", [])),
            scales_must_be_constant=bool(data.get("scales_must_be_constant", True)),
            sizes_forbidden=bool(data.get("sizes_forbidden", True)),
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise SpecError(f"resize contract {source}: {error}") from error
