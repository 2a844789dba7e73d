"""Strict, bounded JSON: the one reader of every JSON document a registry hands us (registry, sidecars, ledger).

A document is refused, with one line saying why, when it is not a regular file, is larger than its cap, is
not UTF-8, nests deeper than `MAX_DEPTH`, repeats a key in one object (parsers disagree on which copy wins:
a first-wins C reader would load another file than the one checked), or holds a number that is not finite
(`NaN`, `Infinity`, `1e999`: every comparison with NaN is false, so a NaN threshold passes every rule).
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

MIB = 1024 * 1024
MAX_DOCUMENT_BYTES = 8 * MIB
MAX_DEPTH = 64


class JsonProblem(ValueError):
    """A JSON document that is unreadable, too large, too deep, ambiguous or not finite; one line."""


def read_bounded(path: Path, cap: int, what: str) -> bytes:
    """The bytes of a regular file of at most `cap` bytes; FIFOs, devices and sockets are never opened."""
    try:
        info = os.stat(path)
    except (OSError, ValueError) as error:
        raise JsonProblem(f"cannot read {what}: {_reason(error)}") from None
    if not stat.S_ISREG(info.st_mode):
        raise JsonProblem(f"{what} is not a regular file")
    if info.st_size > cap:
        raise JsonProblem(f"{what} is {info.st_size:,} bytes, over the cap of {cap:,} bytes")
    try:
        with open(path, "rb") as handle:
            data = handle.read(cap + 1)
    except OSError as error:
        raise JsonProblem(f"cannot read {what}: {_reason(error)}") from None
    if len(data) > cap:
        raise JsonProblem(f"{what} grew past the cap of {cap:,} bytes while it was read")
    return data


def load_json_file(path: Path, what: str, cap: int = MAX_DOCUMENT_BYTES) -> Any:
    """Read and parse one JSON document strictly (see the module docstring); raises JsonProblem."""
    return parse_json(read_bounded(path, cap, what), what)


def parse_json(data: bytes | str, what: str) -> Any:
    """Parse a JSON document strictly; raises JsonProblem naming `what` and the first problem."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError as error:
        raise JsonProblem(f"{what} is not UTF-8 text: {error.reason} at byte {error.start}") from None
    try:
        document = json.loads(
            text, object_pairs_hook=_unique_keys, parse_constant=_no_constant, parse_float=_finite_float
        )
    except json.JSONDecodeError as error:
        raise JsonProblem(
            f"{what} is not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})"
        ) from None
    except RecursionError:
        raise JsonProblem(f"{what} nests deeper than {MAX_DEPTH} levels") from None
    except ValueError as error:  # our hooks, and int() of an over-long digit string
        raise JsonProblem(f"{what} is refused: {error}") from None
    if _depth(document) > MAX_DEPTH:
        raise JsonProblem(f"{what} nests deeper than {MAX_DEPTH} levels")
    return document


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document: dict[str, Any] = {}
    for key, value in pairs:
        if key in document:
            raise ValueError(f"duplicate key {key[:80]!r} in one object (parsers disagree on which copy wins)")
        document[key] = value
    return document


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number (only finite numbers are allowed)")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"{text[:40]} overflows to infinity (only finite numbers are allowed)")
    return value


def _depth(document: Any) -> int:
    """Nesting depth of containers, iteratively (a deep document must not exhaust the stack here either)."""
    deepest = 0
    stack = [(document, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, depth)
            if depth > MAX_DEPTH:
                return depth
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children)
    return deepest


def _reason(error: BaseException) -> str:
    return getattr(error, "strerror", None) or str(error) or type(error).__name__
