"""Strict, bounded JSON: the one reader of every JSON document a registry hands us (registry, sidecars, ledger).

A document is refused, with one line saying why, when it is not a regular file, is larger than its cap, is
not UTF-8, nests deeper than `MAX_DEPTH`, repeats a key in one object (parsers disagree on which copy wins:
a first-wins C reader would load another file than the one checked), or holds a number that is not finite
(`NaN`, `Infinity`, `1e999`: every comparison with NaN is false, so a NaN threshold passes every rule).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pytest_tinyai.bounded_read import MIB, Refused, read_regular

MAX_DOCUMENT_BYTES = 8 * MIB
MAX_DEPTH = 64


class JsonProblem(ValueError):
    """A JSON document that is unreadable, too large, too deep, ambiguous or not finite; one line."""


def read_bounded(path: Path, cap: int, what: str) -> bytes:
    """The bytes of a regular file of at most `cap` bytes (see `bounded_read`); a refusal is a JsonProblem."""
    try:
        return read_regular(path, cap, what)
    except Refused as refused:
        raise JsonProblem(str(refused)) from None


def load_json_file(path: Path, what: str, cap: int = MAX_DOCUMENT_BYTES) -> Any:
    """Read and parse one JSON document strictly (see the module docstring); raises JsonProblem."""
    return parse_json(read_bounded(path, cap, what), what)


def parse_json(data: bytes | str, what: str) -> Any:
    """Parse a JSON document strictly; raises JsonProblem naming `what` and the first problem."""
    document, problems = parse_json_located(data, what)
    if problems:
        path, message = problems[0]
        raise JsonProblem(f"{what} is refused: {path}: {message}")
    return document


def parse_json_located(data: bytes | str, what: str) -> tuple[Any, list[tuple[str, str]]]:
    """Parse a document that can be used in parts (a registry's entries): the value, with every duplicate key,
    non-finite number and over-deep container replaced by None, and each such problem as (JSON path, message),
    so that a caller can fail the entry that holds it and keep the others.

    Raises JsonProblem when the text is not UTF-8 or not JSON at all, or nests past what can be parsed.
    """
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError as error:
        raise JsonProblem(f"{what} is not UTF-8 text: {error.reason} at byte {error.start}") from None
    try:
        document = json.loads(text, object_pairs_hook=_Object.of, parse_constant=_NonFinite, parse_float=_float)
    except json.JSONDecodeError as error:
        where = f"line {error.lineno}, column {error.colno}"
        raise JsonProblem(f"{what} is not valid JSON: {error.msg} ({where})") from None
    except RecursionError:
        raise JsonProblem(f"{what} nests deeper than {MAX_DEPTH} levels") from None
    except ValueError as error:  # int() of an over-long digit string
        raise JsonProblem(f"{what} is refused: {error}") from None
    return _located(document)


class _Object(dict):
    """A parsed JSON object that remembers the keys it held more than once."""

    duplicates: tuple[str, ...] = ()

    @classmethod
    def of(cls, pairs: list[tuple[str, Any]]) -> _Object:
        made = cls(pairs)
        if len(made) != len(pairs):
            seen: set[str] = set()
            made.duplicates = tuple(key for key, _ in pairs if key in seen or seen.add(key))
        return made


class _NonFinite(str):
    """A number JSON cannot hold (NaN, Infinity) or one that overflows to infinity, as written."""


def _float(text: str) -> float | _NonFinite:
    value = float(text)
    return _NonFinite(text[:40]) if value in (float("inf"), float("-inf")) else value


def _located(document: Any) -> tuple[Any, list[tuple[str, str]]]:
    """Plain values with problems replaced by None, and the problems by JSON path (iterative: no deep recursion)."""
    problems: list[tuple[str, str]] = []
    root: list[Any] = [document]
    stack: list[tuple[Any, Any, str, int]] = [(root, 0, "$", 1)]
    while stack:
        parent, key, path, depth = stack.pop()
        node = parent[key]
        if isinstance(node, _NonFinite):
            problems.append((path, f"{node} is not a finite number"))
            parent[key] = None
        elif isinstance(node, dict | list) and depth > MAX_DEPTH:
            problems.append((path, f"nests deeper than {MAX_DEPTH} levels"))
            parent[key] = None
        elif isinstance(node, dict):
            for duplicate in getattr(node, "duplicates", ()):
                problems.append((path, f"duplicate key {duplicate[:80]!r} (parsers disagree on which copy wins)"))
            plain = dict(node)
            parent[key] = plain
            stack.extend((plain, child, f"{path}.{child[:80]}", depth + 1) for child in reversed(list(plain)))
        elif isinstance(node, list):
            stack.extend((node, index, f"{path}[{index}]", depth + 1) for index in reversed(range(len(node))))
    return root[0], sorted(problems)
