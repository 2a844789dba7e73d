"""Read the files inside a Qt binary resource (``.rcc``), as some packages ship their pictures, standard library only.

Layout (Qt's rcc format, versions 1 to 3): a header ``qres``, version, then the offsets of the tree, the data and
the names. The tree is a table of nodes (14 bytes, 22 from version 2 on: a last-modified time follows); a node is
a directory (child count, first child index) or a file (locale, offset of its data). A name is a 16-bit length, a
hash and UTF-16BE characters; a file's data is a 32-bit length and its bytes, zlib-compressed behind a 4-byte size
when the node says so (zstd-compressed files are refused: the standard library cannot read them).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from pathlib import PurePosixPath

MAGIC = b"qres"
DIRECTORY, ZLIB, ZSTD = 0x02, 0x01, 0x04


class RccError(ValueError):
    """The file is not a Qt binary resource this reader understands."""


class _Resource:
    def __init__(self, data: bytes) -> None:
        if len(data) < 20 or data[:4] != MAGIC:
            raise RccError("not a Qt binary resource (no qres header)")
        self.data = data
        self.version, self.tree, self.payload, self.names = struct.unpack_from(">4I", data, 4)
        if not 1 <= self.version <= 3:
            raise RccError(f"rcc format version {self.version} is not one of 1 to 3")
        self.node_size = 14 if self.version == 1 else 22

    def _unpack(self, fmt: str, offset: int) -> tuple[int, ...]:
        try:
            return struct.unpack_from(fmt, self.data, offset)
        except struct.error as error:
            raise RccError(f"truncated at byte {offset}") from error

    def name(self, node: int) -> str:
        (offset,) = self._unpack(">I", self.tree + node * self.node_size)
        (length,) = self._unpack(">H", self.names + offset)
        start = self.names + offset + 6  # the 16-bit length, then a 32-bit hash
        raw = self.data[start : start + 2 * length]
        if len(raw) != 2 * length:
            raise RccError(f"truncated name at byte {start}")
        return raw.decode("utf-16-be")

    def content(self, node: int, flags: int) -> bytes:
        (offset,) = self._unpack(">I", self.tree + node * self.node_size + 10)
        (size,) = self._unpack(">I", self.payload + offset)
        start = self.payload + offset + 4
        blob = self.data[start : start + size]
        if len(blob) != size:
            raise RccError(f"truncated file data at byte {start}")
        if flags & ZSTD:
            raise RccError("zstd-compressed entry (the standard library reads zlib only)")
        return zlib.decompress(blob[4:]) if flags & ZLIB else blob

    def walk(self, node: int, path: PurePosixPath, depth: int) -> Iterator[tuple[str, bytes]]:
        if depth > 64:
            raise RccError("directory tree deeper than 64 levels (a cycle?)")
        (flags,) = self._unpack(">H", self.tree + node * self.node_size + 4)
        if not flags & DIRECTORY:
            yield path.as_posix(), self.content(node, flags)
            return
        count, first = self._unpack(">2I", self.tree + node * self.node_size + 6)
        for child in range(first, first + count):
            name = self.name(child)
            if not name or "/" in name or name in (".", ".."):
                raise RccError(f"unsafe entry name {name!r}")
            yield from self.walk(child, path / name, depth + 1)


def rcc_files(data: bytes) -> Iterator[tuple[str, bytes]]:
    """(path, bytes) of every file in the resource, paths relative and ``/``-separated (``gcompris/src/x.webp``)."""
    return _Resource(data).walk(0, PurePosixPath(), 0)
