"""Spec files (allowlist, Resize contract, JSON schemas): the packaged defaults and user replacements."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from onnxruntime.tools.reduced_build_config_parser import parse_config

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


def allowlist_syntax_problem(text: str) -> str | None:
    """The first line onnxruntime's config parser would choke on (with an unhelpful message), or None."""
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith(("#", "!")):
            continue
        fields = line.split(";")
        if len(fields) != 3:
            return f"line {number}: expected 'domain;opsets;Op1,Op2,...', got {line!r}"
        opsets, operators = fields[1].strip(), fields[2]
        if not all(part.strip().isdigit() for part in opsets.split(",")):
            return f"line {number}: opsets {opsets!r} are not integers"
        if operators.count("{") != operators.count("}"):
            return f"line {number}: unbalanced braces in the operators' type information"
    return None


def load_allowlist(path: Path | None = None) -> Allowlist:
    source = path or packaged_spec("allowlist.config")
    try:
        text = source.read_text(encoding="utf-8")
    except FileNotFoundError as error:
        raise SpecError(f"allowlist {source}: does not exist") from error
    except (OSError, UnicodeDecodeError) as error:
        raise SpecError(f"allowlist {source}: cannot be read: {error}") from error
    problem = allowlist_syntax_problem(text)
    if problem:
        raise SpecError(f"allowlist {source}: {problem}")
    try:
        required_ops, _ = parse_config(str(source))
    except (OSError, ValueError, RuntimeError) as error:  # RuntimeError: onnxruntime's parser on bad type info
        raise SpecError(f"allowlist {source}: {error}") from error
    if not required_ops:
        raise SpecError(f"allowlist {source}: declares no operators")
    ops = {
        domain: {opset: frozenset(names) for opset, names in per_opset.items()}
        for domain, per_opset in required_ops.items()
    }
    return Allowlist(source=source, ops=ops)


@dataclass(frozen=True)
class ResizeContract:
    """The Resize attribute values the runtime implements."""

    source: Path
    allowed: dict[str, list[Any]]
    forbidden_attributes: list[str]
    scales_must_be_constant: bool
    sizes_forbidden: bool


def load_resize_contract(path: Path | None = None) -> ResizeContract:
    source = path or packaged_spec("resize_contract.json")
    try:
        data = json.loads(source.read_text())
        return ResizeContract(
            source=source,
            allowed={name: list(values) for name, values in data["allowed"].items()},
            forbidden_attributes=list(data.get("forbidden_attributes", [])),
            scales_must_be_constant=bool(data.get("scales_must_be_constant", True)),
            sizes_forbidden=bool(data.get("sizes_forbidden", True)),
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise SpecError(f"resize contract {source}: {error!r}") from error
