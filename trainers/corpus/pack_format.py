"""The source pack on disk: ``manifest.json``, the files it lists, their digests and the pack's content hash.

A pack is a folder holding ``manifest.json`` (format FORMAT), ``objects/<split>/*.png`` (RGBA cut-outs),
``backgrounds/<split>/*.jpg`` (RGB), ``NOTICE`` and ``CONTENT_SHA256``. Each stored file is listed in the
manifest with its split, source, licence, author, pixel size and sha256. The eval split's sources are listed
under ``eval`` but not stored: nothing that trains can read them. The content hash covers the decoded pixels
and the split of every stored file, so a lossless re-encode keeps it and any change of data or split breaks it.
This module is torch-free: the corpus CLI and the trainers share it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from pytest_tinyai.strict_json import JsonProblem, load_json_file
from pytest_tinyai.trust import sha256_of

FORMAT = "tinyai-source-pack/1"
MANIFEST = "manifest.json"
KINDS = {"objects": "RGBA", "backgrounds": "RGB"}
STORED_SPLITS = ("train", "val")


class PackError(ValueError):
    """A folder is not a readable source pack, or a file differs from its manifest."""


def is_pack(root: str | Path) -> bool:
    """Whether ``root`` holds a source pack manifest (it may still fail verification)."""
    return (Path(root) / MANIFEST).is_file()


def read_manifest(root: str | Path, verify: bool = True) -> dict[str, Any]:
    """The manifest of the pack at ``root``; with ``verify``, every listed file's sha256 is checked too."""
    root = Path(root)
    try:
        manifest = load_json_file(root / MANIFEST, f"{root}/{MANIFEST}")
    except JsonProblem as error:
        raise PackError(str(error)) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise PackError(f"{root}/{MANIFEST}: not a {FORMAT} manifest")
    if verify:
        for entry in stored_entries(manifest):
            path = root / entry["file"]
            if not path.is_file():
                raise PackError(f"{path}: listed in the manifest but missing")
            if sha256_of(path) != entry["sha256"]:
                raise PackError(f"{path}: sha256 differs from the manifest (rebuild with tinyai-corpus pack)")
    return manifest


def stored_entries(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """Every stored file's entry, objects first, each kind in manifest order."""
    return [entry for kind in KINDS for entry in manifest[kind]]


def entries(manifest: dict[str, Any], kind: str, split: str) -> list[dict[str, Any]]:
    """The ``kind`` ('objects' or 'backgrounds') entries of one stored split, in manifest order."""
    if split not in STORED_SPLITS:
        raise PackError(f"split {split!r} is not stored in a pack (stored: {', '.join(STORED_SPLITS)})")
    return [entry for entry in manifest[kind] if entry["split"] == split]


def load_pixels(root: Path, entry: dict[str, Any], kind: str) -> np.ndarray:
    """Decoded uint8 pixels (H, W, 4) of a cut-out or (H, W, 3) of a background."""
    with Image.open(root / entry["file"]) as image:
        return np.asarray(image.convert(KINDS[kind]))


def pack_content_hash(root: str | Path, manifest: dict[str, Any]) -> str:
    """sha256 hex over kind, split, file name, shape and decoded pixels of every stored file, in manifest order."""
    root = Path(root)
    digest = hashlib.sha256()
    for kind in KINDS:
        for entry in manifest[kind]:
            pixels = load_pixels(root, entry, kind)
            digest.update(f"{kind}\0{entry['split']}\0{entry['file']}\0{pixels.shape}\0".encode())
            digest.update(pixels.tobytes())
    return digest.hexdigest()
