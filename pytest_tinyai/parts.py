"""The registrable parts of a run (checks, model kinds, metrics, sidecar fields, registry formats), gathered
from the `pytest_tinyai_*` hooks of the built-ins, plugins and conftests, each looked up by name."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pytest_tinyai.checks import Check
from pytest_tinyai.kinds import ModelKind
from pytest_tinyai.metrics import Metric
from pytest_tinyai.registry_formats import RegistryFormat
from pytest_tinyai.sidecar import BLOCKS, NAMESPACE


class PartError(ValueError):
    """Two parts of one sort share a name, or a part is not what its hook promises."""


@dataclass(frozen=True)
class Parts:
    checks: tuple[Check, ...] = ()
    kinds: dict[str, ModelKind] = field(default_factory=dict)
    metrics: dict[str, Metric] = field(default_factory=dict)
    sidecar_fields: dict[str, dict[str, Any]] = field(default_factory=dict)
    formats: tuple[RegistryFormat, ...] = ()

    @classmethod
    def from_hooks(cls, hook: Any) -> Parts:
        """Every part every implementation returns, in call order (the built-ins first); raises PartError."""
        checks = _unique("check", _flat(hook.pytest_tinyai_checks()))
        kinds = _unique("model kind", _flat(hook.pytest_tinyai_model_kinds()))
        metrics = _unique("metric", _flat(hook.pytest_tinyai_metrics()))
        formats = _unique("registry format", _flat(hook.pytest_tinyai_registry_formats()))
        fields: dict[str, dict[str, Any]] = {}
        for declared in hook.pytest_tinyai_sidecar_fields():
            for name, schema in declared.items():
                if name in fields:
                    raise PartError(f"sidecar field '{name}' is registered twice")
                if name in BLOCKS:
                    raise PartError(f"sidecar field '{name}' is a built-in block of the '{NAMESPACE}' namespace")
                fields[name] = schema
        return cls(tuple(checks), _by_name(kinds), _by_name(metrics), fields, tuple(formats))


def _flat(results: list[list[Any]]) -> list[Any]:
    return [part for parts in results for part in parts]


def _unique(sort: str, parts: Iterable[Any]) -> list[Any]:
    seen: set[str] = set()
    unique = []
    for part in parts:
        name = getattr(part, "name", None)
        if not isinstance(name, str) or not name:
            raise PartError(f"a {sort} without a name was registered: {part!r}")
        if name in seen:
            raise PartError(f"{sort} '{name}' is registered twice")
        seen.add(name)
        unique.append(part)
    return unique


def _by_name(parts: list[Any]) -> dict[str, Any]:
    return {part.name: part for part in parts}
