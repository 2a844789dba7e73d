"""Unpack chosen files of a .deb (an ar archive holding data.tar.*) with the standard library only.

Pictures some packages keep inside a Qt binary resource are written out beside it, under ``<resource>!/``, so a
curated list names them as ``usr/share/.../x.rcc!/inner/path.webp``.
"""

from __future__ import annotations

import io
import shutil
import tarfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from trainers.corpus.rcc import RccError, rcc_files

AR_MAGIC = b"!<arch>\n"
AR_HEADER_SIZE = 60
COMPLETE_MARKER = ".complete"
CORPUS_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")
CONTAINER_SUFFIX = ".rcc"
CONTAINER_MARK = "!"
# Changed when what an unpacked tree holds changes, so a cache made by an older rule is redone.
TREE_RULE = "images, copyright notes, Qt resources' images under <resource>!/"


class ExtractError(RuntimeError):
    """A .deb could not be read."""


def _data_member(handle: BinaryIO, deb: Path) -> tuple[str, bytes]:
    """Name and bytes of the ``data.tar.*`` member of an ar archive."""
    if handle.read(len(AR_MAGIC)) != AR_MAGIC:
        raise ExtractError(f"{deb}: not a .deb (ar archive)")
    while header := handle.read(AR_HEADER_SIZE):
        name = header[:16].decode().strip().rstrip("/")
        size = int(header[48:58].decode().strip())
        if name.startswith("data.tar"):
            return name, handle.read(size)
        handle.seek(size + size % 2, io.SEEK_CUR)
    raise ExtractError(f"{deb}: no data.tar member")


def _safe_relative(name: str) -> PurePosixPath | None:
    """Member name as a relative path, or None when it would escape the destination."""
    path = PurePosixPath(name.removeprefix("./"))
    if path.is_absolute() or ".." in path.parts or not path.parts:
        return None
    return path


def _write_members(archive: tarfile.TarFile, dest: Path, wanted: Callable[[str], bool]) -> int:
    """Copy the wanted regular files of an open tar archive under ``dest``; return how many."""
    written = 0
    for member in archive:
        relative = _safe_relative(member.name)
        if relative is None or not member.isfile() or not wanted(relative.as_posix()):
            continue
        target = dest.joinpath(*relative.parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        source = archive.extractfile(member)
        assert source is not None  # regular members always have a file object
        with source, target.open("wb") as out:
            shutil.copyfileobj(source, out)
        written += 1
    return written


def extract_deb(deb: Path, dest: Path, wanted: Callable[[str], bool]) -> int:
    """Write the regular files of ``deb`` whose package path (``usr/...``) satisfies ``wanted`` under ``dest``.

    Returns the number of files written. Links and special files are skipped.
    """
    with deb.open("rb") as handle:
        name, data = _data_member(handle, deb)
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as archive:
            return _write_members(archive, dest, wanted)
    except tarfile.ReadError as error:
        raise ExtractError(f"{deb}: cannot read {name} ({error}); Python reads gz, bz2 and xz") from error


def is_corpus_file(path: str) -> bool:
    """Files the corpus may use: images, Qt resources (which hold images), and the copyright notes under
    usr/share/doc."""
    return path.lower().endswith((*CORPUS_SUFFIXES, CONTAINER_SUFFIX)) or path.startswith("usr/share/doc/")


def expand_containers(root: Path) -> int:
    """Write the images inside every Qt resource under ``root`` to ``<resource>!/<inner path>``; return how many."""
    written = 0
    for resource in sorted(root.rglob(f"*{CONTAINER_SUFFIX}")):
        folder = resource.with_name(resource.name + CONTAINER_MARK)
        try:
            files = list(rcc_files(resource.read_bytes()))
        except RccError as error:
            raise ExtractError(f"{resource.relative_to(root)}: {error}") from error
        for inner, content in files:
            if inner.lower().endswith(CORPUS_SUFFIXES):
                target = folder.joinpath(*PurePosixPath(inner).parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(content)
                written += 1
    return written


def unpacked_tree(deb: Path, digest: str, cache: Path) -> Path:
    """Extract the corpus files of ``deb`` once into ``cache/<package>-<sha256 prefix>/`` and return that root.

    A finished extraction is marked complete, with the digest and TREE_RULE, and reused; an interrupted one, or
    one made by another rule, is redone.
    """
    root = cache / f"{deb.name.split('_')[0]}-{digest[:16]}"
    marker = f"{digest}\n{TREE_RULE}\n"
    if (root / COMPLETE_MARKER).is_file() and (root / COMPLETE_MARKER).read_text() == marker:
        return root
    partial = root.with_name(root.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    extract_deb(deb, partial, is_corpus_file)
    expand_containers(partial)
    (partial / COMPLETE_MARKER).write_text(marker)
    shutil.rmtree(root, ignore_errors=True)
    partial.rename(root)
    return root
