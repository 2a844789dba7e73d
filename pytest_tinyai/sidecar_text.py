"""Writing pytest-tinyai's namespace into a sidecar while every byte of the owner's document stays as it was.

A sidecar is the registry owner's file: re-serialising it would reformat what the owner wrote (`1.49e-6` becomes
`1.49e-06`, `\\u2014` a literal dash, a key order or an indent changes). So the `tinyai` member alone is written:
its value is replaced where the document has one, else the member is appended after the last one, at the indent
of the document's members. The result is parsed back and must equal the owner's document with the new namespace.
"""

from __future__ import annotations

import json
from typing import Any

from pytest_tinyai.sidecar import NAMESPACE

INDENT = "  "  # of the members of a sidecar this module creates or that declares none on a line of its own


class SidecarTextError(ValueError):
    """A sidecar whose text cannot take the namespace without touching the owner's bytes; one line."""


def with_namespace(text: str | None, blocks: dict[str, Any]) -> str:
    """The sidecar `text` (None: there is none yet) with its `tinyai` member set to `blocks`."""
    if text is None:
        return json.dumps({NAMESPACE: blocks}, indent=2, ensure_ascii=False) + "\n"
    decoder = json.JSONDecoder()
    try:
        document, end = decoder.raw_decode(text, _skip_space(text, 0))
    except json.JSONDecodeError as error:
        raise SidecarTextError(f"the sidecar is not JSON: {error}") from None
    if not isinstance(document, dict) or text[end:].strip():
        raise SidecarTextError("the sidecar is not one JSON object")
    spans = _member_spans(text, decoder)
    indent = _member_indent(text, spans)
    value = _indented(json.dumps(blocks, indent=2, ensure_ascii=False), indent)
    if NAMESPACE in spans:
        start, stop = spans[NAMESPACE]
        result = text[:start] + value + text[stop:]
    elif spans:
        last = max(stop for _, stop in spans.values())
        result = f"{text[:last]},\n{indent}{json.dumps(NAMESPACE)}: {value}{text[last:]}"
    else:
        close = text.rindex("}")
        result = f"{text[: text.index('{') + 1]}\n{indent}{json.dumps(NAMESPACE)}: {value}\n{text[close:]}"
    if json.loads(result) != {**document, NAMESPACE: blocks}:
        raise SidecarTextError("the namespace cannot be written without changing the owner's fields")
    return result


def _skip_space(text: str, index: int) -> int:
    while index < len(text) and text[index] in " \t\r\n":
        index += 1
    return index


def _member_spans(text: str, decoder: json.JSONDecoder) -> dict[str, tuple[int, int]]:
    """Where each top-level member's value starts and stops in `text` (an object the decoder has accepted)."""
    spans: dict[str, tuple[int, int]] = {}
    index = _skip_space(text, 0) + 1  # past '{'
    while True:
        index = _skip_space(text, index)
        if text[index] == "}":
            return spans
        key, index = json.decoder.scanstring(text, index + 1)
        index = _skip_space(text, _skip_space(text, index) + 1)  # past ':'
        _, stop = decoder.raw_decode(text, index)
        spans[key] = (index, stop)
        index = _skip_space(text, stop)
        if text[index] == ",":
            index += 1


def _member_indent(text: str, spans: dict[str, tuple[int, int]]) -> str:
    """The whitespace that starts the line of the document's first member (INDENT when it shares a line)."""
    if not spans:
        return INDENT
    first = min(start for start, _ in spans.values())
    line = text[text.rfind("\n", 0, first) + 1 : first]
    leading = line[: len(line) - len(line.lstrip(" \t"))]
    return leading if leading and line.lstrip(" \t").startswith('"') else INDENT


def _indented(serialised: str, indent: str) -> str:
    """A value serialised at the top level, indented to sit in a member at `indent`."""
    return serialised.replace("\n", "\n" + indent)
