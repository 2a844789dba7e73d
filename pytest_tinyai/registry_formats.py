"""Registry formats: how a parsed registry document that is not in the C runtime's format becomes one.

The C runtime's own format (`{"schema_version", "models": [...]}`) needs no adapter and is what a document
is read as when no registered format matches it; plugins add formats through the
`pytest_tinyai_registry_formats` hook (see `hookspec`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RegistryFormat:
    """A named registry format: whether a parsed document is in it, and the document in the runtime's format."""

    name: str
    matches: Callable[[Any], bool]
    to_registry: Callable[[Any], Any]


def adapt(document: Any, formats: Sequence[RegistryFormat]) -> tuple[Any, str | None]:
    """The document in the runtime's format, and the name of the format it was adapted from (None: native)."""
    for registry_format in formats:
        if registry_format.matches(document):
            return registry_format.to_registry(document), registry_format.name
    return document, None
