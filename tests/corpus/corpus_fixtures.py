"""Tiny inputs generated for the corpus tests: dataset pairs, stamps, backgrounds and .deb archives."""

from __future__ import annotations

import io
import struct
import tarfile
import zlib
from pathlib import Path

import numpy as np
from PIL import Image


def write_pair(image_dir: Path, mask_dir: Path, stem: str, seed: int = 0, suffix: str = ".jpg") -> None:
    """A random 8x6 RGB image and a half-white mask named by ``stem``."""
    rng = np.random.default_rng(seed)
    image_dir.mkdir(parents=True, exist_ok=True)
    mask_dir.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)).save(image_dir / f"{stem}{suffix}")
    mask = np.zeros((6, 8), dtype=np.uint8)
    mask[:, :4] = 255
    Image.fromarray(mask).save(mask_dir / f"{stem}.png")


def photo_stamp(path: Path, size: tuple[int, int] = (160, 120), seed: int = 0) -> Path:
    """A photo-like cut-out: noisy colours (thousands of them) inside a hard-edged ellipse."""
    rng = np.random.default_rng(seed)
    width, height = size
    rgba = np.zeros((height, width, 4), dtype=np.uint8)
    rgba[..., :3] = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    ys, xs = np.mgrid[:height, :width]
    inside = ((xs - width / 2) / (width / 2.5)) ** 2 + ((ys - height / 2) / (height / 2.5)) ** 2 <= 1
    rgba[..., 3] = np.where(inside, 255, 0)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rgba, "RGBA").save(path)
    return path


def flat_stamp(path: Path, size: tuple[int, int] = (160, 120)) -> Path:
    """A cartoon-like cut-out: one flat colour inside a rectangle."""
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    image.paste((200, 30, 30, 255), (20, 20, size[0] - 20, size[1] - 20))
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)
    return path


def background_photo(path: Path, size: tuple[int, int] = (96, 64), seed: int = 0) -> Path:
    """A small noisy JPEG standing in for a background photograph."""
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)).save(path, quality=90)
    return path


def _ar_member(name: str, data: bytes) -> bytes:
    header = f"{name:<16}{0:<12}{0:<6}{0:<6}{100644:<8}{len(data):<10}`\n".encode()
    return header + data + (b"\n" if len(data) % 2 else b"")


def make_deb(path: Path, files: dict[str, bytes], links: dict[str, str] | None = None) -> Path:
    """A minimal .deb (ar archive: debian-binary, control.tar.xz, data.tar.xz) holding ``files`` and ``links``.

    Keys are member names as dpkg writes them (``./usr/...``); ``links`` maps a name to a symlink target.
    """
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w:xz") as archive:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            archive.addfile(info)
    control = io.BytesIO()
    with tarfile.open(fileobj=control, mode="w:xz"):
        pass
    members = [("debian-binary", b"2.0\n"), ("control.tar.xz", control.getvalue()), ("data.tar.xz", data.getvalue())]
    path.write_bytes(b"!<arch>\n" + b"".join(_ar_member(name, blob) for name, blob in members))
    return path


def make_rcc(files: dict[str, bytes], compressed: frozenset[str] = frozenset()) -> bytes:
    """A Qt binary resource (format version 3) holding ``files`` (``dir/name`` paths); those in ``compressed``
    are stored zlib-compressed as rcc does (a 4-byte size, then the zlib stream)."""
    root: dict = {}
    for path in files:
        *folders, leaf = path.split("/")
        node = root
        for folder in folders:
            node = node.setdefault(folder, {})
        node[leaf] = path
    names, data = bytearray(), bytearray()

    def name_offset(name: str) -> int:
        names.extend(struct.pack(">HI", len(name), 0) + name.encode("utf-16-be"))
        return len(names) - 6 - 2 * len(name)

    table: list[bytes] = [b""]
    queue = [(0, 0, root)]  # breadth first, so that a directory's children take consecutive node indices
    while queue:
        index, name, children = queue.pop(0)
        table[index] = struct.pack(">IHIIQ", name, 0x02, len(children), len(table), 0)
        for child_name, child in sorted(children.items()):
            offset = name_offset(child_name)
            if isinstance(child, dict):
                queue.append((len(table), offset, child))
                table.append(b"")
                continue
            content, flags = files[child], 0
            if child in compressed:
                content, flags = struct.pack(">I", len(content)) + zlib.compress(content), 0x01
            table.append(struct.pack(">IHHHIQ", offset, flags, 0, 0, len(data), 0))
            data.extend(struct.pack(">I", len(content)) + content)
    header = 24
    offsets = struct.pack(">5I", 3, header + len(data) + len(names), header, header + len(data), 0)
    return b"qres" + offsets + bytes(data) + bytes(names) + b"".join(table)
