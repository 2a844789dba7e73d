"""Build the source pack: the curated cut-outs and backgrounds, pre-scaled, split three ways, hashed, licensed.

Cut-outs are cropped to their alpha box and downscaled (Lanczos) so their long side is at most
OBJECT_LONG_SIDE, the most the trainers' compositor ever draws them at without upscaling in the gate's
256x256 frame; backgrounds are downscaled so their short side is at most BACKGROUND_SHORT_SIDE (a crop of 30 %
of it still covers 256 px at 0.9 source pixels per output pixel). Only the train and val splits are stored
(:mod:`trainers.corpus.holdout`); the eval split is listed. The same packages and pinned Pillow give
byte-identical files; the pack is written to ``<out>.partial`` and renamed into place, manifest.json last.
The manifest records :func:`curation_sha256`, so a pack built from another curation is known for what it is.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import PIL
from PIL import Image

from trainers.corpus.build import replace_folder
from trainers.corpus.composite import crop_to_alpha, opaque_photograph
from trainers.corpus.holdout import SPLITS, VAL_FRACTION, split_backgrounds, split_objects
from trainers.corpus.notice import pack_notice
from trainers.corpus.pack_format import FORMAT, MANIFEST, STORED_SPLITS, pack_content_hash
from trainers.corpus.pins import DATA_DIR
from trainers.corpus.sources import Source

OBJECT_LONG_SIDE = 256
BACKGROUND_SHORT_SIDE = 768
JPEG_QUALITY = 92
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
# The modules that decide which sources a pack holds, in which split and at what scale.
CURATION_MODULES = ("backgrounds.py", "composite.py", "holdout.py", "objects.py", "pack.py", "sources.py", "split.py")


def curation_sha256() -> str:
    """sha256 over what decides a pack's contents: the corpus data files (pins, curated lists, deny-list) and
    CURATION_MODULES, by name and bytes."""
    digest = hashlib.sha256()
    here = Path(__file__).parent
    for file in [*sorted(p for p in DATA_DIR.iterdir() if p.is_file()), *(here / m for m in CURATION_MODULES)]:
        digest.update(f"{file.name}\0{file.stat().st_size}\0".encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()


def scaled_object(file: Path, long_side: int = OBJECT_LONG_SIDE) -> Image.Image:
    """The RGBA cut-out cropped to its alpha box, downscaled so its long side is at most ``long_side``."""
    with Image.open(file) as image:
        cutout = crop_to_alpha(image)
    scale = long_side / max(cutout.size)
    if scale >= 1:
        return cutout
    size = (max(1, round(cutout.width * scale)), max(1, round(cutout.height * scale)))
    return cutout.resize(size, Image.Resampling.LANCZOS)


def scaled_background(file: Path, short_side: int = BACKGROUND_SHORT_SIDE) -> Image.Image:
    """The RGB photograph (its opaque part, :func:`opaque_photograph`) downscaled so its short side is at most
    ``short_side``."""
    with Image.open(file) as image:
        rgb = opaque_photograph(image)
    scale = short_side / min(rgb.size)
    if scale >= 1:
        return rgb
    size = (max(1, round(rgb.width * scale)), max(1, round(rgb.height * scale)))
    return rgb.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def file_name(index: int, source: Source, suffix: str) -> str:
    """``<index>_<package path without usr/share/, unsafe characters as _>`` with ``suffix``."""
    stem = _UNSAFE.sub("_", str(Path(source.path).with_suffix("")).removeprefix("usr/share/"))
    return f"{index:03d}_{stem}{suffix}"


def _encoded(image: Image.Image, suffix: str) -> bytes:
    buffer = io.BytesIO()
    if suffix == ".png":
        image.save(buffer, "PNG", optimize=True)
    else:
        image.save(buffer, "JPEG", quality=JPEG_QUALITY, subsampling="4:2:0")
    return buffer.getvalue()


def _write_kind(
    root: Path, kind: str, sources: list[Source], splits: list[str], suffix: str
) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """Write the stored splits' files of one kind; return their manifest entries and the eval references."""
    stored, listed = [], []
    for index, (source, split) in enumerate(zip(sources, splits, strict=True)):
        if split not in STORED_SPLITS:
            listed.append(source.reference())
            continue
        image = scaled_object(source.file) if kind == "objects" else scaled_background(source.file)
        data = _encoded(image, suffix)
        relative = f"{kind}/{split}/{file_name(index, source, suffix)}"
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_bytes(data)
        entry = {"file": relative, "split": split, **source.reference(), "size": list(image.size)}
        stored.append({**entry, "sha256": hashlib.sha256(data).hexdigest()})
    return stored, listed


def build_pack(
    objects: list[Source], backgrounds: list[Source], packages: dict[str, dict[str, str]], out: Path
) -> dict[str, Any]:
    """Write the pack to ``out`` and return its manifest."""
    partial = out.with_name(out.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    object_splits, background_splits = split_objects(objects), split_backgrounds(backgrounds)
    object_entries, eval_objects = _write_kind(partial, "objects", objects, object_splits, ".png")
    background_entries, eval_backgrounds = _write_kind(partial, "backgrounds", backgrounds, background_splits, ".jpg")
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "object_long_side": OBJECT_LONG_SIDE,
        "background_short_side": BACKGROUND_SHORT_SIDE,
        "versions": {"pillow": PIL.__version__, "numpy": np.__version__},
        "packages": packages,
        "curation_sha256": curation_sha256(),
        "split": {"splits": list(SPLITS), "val_fraction": VAL_FRACTION, "rule": "trainers/corpus/holdout.py"},
        "counts": {
            split: {"objects": object_splits.count(split), "backgrounds": background_splits.count(split)}
            for split in SPLITS
        },
        "objects": object_entries,
        "backgrounds": background_entries,
        "eval": {"objects": eval_objects, "backgrounds": eval_backgrounds},
    }
    manifest["content_sha256"] = pack_content_hash(partial, manifest)
    (partial / "NOTICE").write_text(pack_notice(manifest), encoding="utf-8")
    (partial / "CONTENT_SHA256").write_text(manifest["content_sha256"] + "\n")
    (partial / MANIFEST).write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    replace_folder(partial, out, MANIFEST, "a source pack")
    return manifest
