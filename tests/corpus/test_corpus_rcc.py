"""Reading pictures out of a Qt binary resource (.rcc): paths, compression, and refusal of what it cannot read."""

from __future__ import annotations

import struct

import pytest
from corpus_fixtures import make_rcc

from trainers.corpus.rcc import RccError, rcc_files


def test_files_in_nested_folders_are_read_with_their_paths() -> None:
    resource = make_rcc({"a/b/x.webp": b"x", "a/y.png": b"y", "top.jpg": b"t"})
    assert dict(rcc_files(resource)) == {"a/b/x.webp": b"x", "a/y.png": b"y", "top.jpg": b"t"}


def test_zlib_compressed_files_are_inflated() -> None:
    resource = make_rcc({"pics/sea.webp": b"waves" * 100}, compressed=frozenset({"pics/sea.webp"}))
    assert dict(rcc_files(resource)) == {"pics/sea.webp": b"waves" * 100}


def test_a_file_without_the_qres_header_is_refused() -> None:
    with pytest.raises(RccError, match="no qres header"):
        rcc_files(b"PK\x03\x04" + bytes(40))


def test_an_unknown_format_version_is_refused() -> None:
    resource = bytearray(make_rcc({"a.png": b"a"}))
    resource[4:8] = struct.pack(">I", 9)
    with pytest.raises(RccError, match="version 9 is not one of 1 to 3"):
        rcc_files(bytes(resource))


def test_a_truncated_resource_is_refused() -> None:
    resource = make_rcc({"a/b.png": b"b"})
    with pytest.raises(RccError, match="truncated"):
        list(rcc_files(resource[:-10]))


def test_zstd_compressed_entries_are_refused_by_name() -> None:
    resource = bytearray(make_rcc({"a.png": b"a"}))
    tree = struct.unpack_from(">I", resource, 8)[0]
    struct.pack_into(">H", resource, tree + 22 + 4, 0x04)  # node 1 (the file): zstd flag
    with pytest.raises(RccError, match="zstd"):
        list(rcc_files(bytes(resource)))


def test_a_name_that_would_climb_out_is_refused() -> None:
    with pytest.raises(RccError, match=r"unsafe entry name '\.\.'"):
        list(rcc_files(make_rcc({"../x.png": b"x"})))
