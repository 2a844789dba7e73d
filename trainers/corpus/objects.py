"""Select the photographic cut-outs among the Tux Paint stamps, by rule plus a short deny-list.

A stamp is kept when it has alpha; its foreground (alpha >= 128) covers 3-97 % of the image; its long side
is >= 128 px; it is not under a ``cartoon/`` or ``symbols/`` folder; its foreground has more than 3000
distinct colours (drawings have few); at most 25 % of its visible pixels are semi-transparent (drops fire,
smoke, foliage); it is not a ``_mirror`` variant nor a pixel-exact duplicate of a stamp kept before it
(sorted path order); and it is not on data/object-denylist.txt (drawings that pass the rule).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
from PIL import Image

from trainers.corpus.pins import DATA_DIR
from trainers.corpus.sources import Source
from trainers.corpus.split import object_fold

STAMPS_PACKAGE = "tuxpaint-stamps-default"
STAMPS_DIR = "usr/share/tuxpaint/stamps"
STAMPS_LICENSE = "GPL-2+"
STAMPS_AUTHOR = "Bill Kendrick and the Tux Paint contributors"
DENYLIST_FILE = DATA_DIR / "object-denylist.txt"

EXCLUDED_FOLDERS = frozenset({"cartoon", "symbols"})
FOREGROUND_RANGE = (0.03, 0.97)
MIN_LONG_SIDE = 128
MIN_COLOURS = 3000
MAX_SEMI_TRANSPARENT = 0.25


def load_denylist(path: Path = DENYLIST_FILE) -> set[str]:
    """Stamp paths (relative to the stamps folder) to reject; ``#`` starts a comment."""
    entries = (line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return {entry for entry in entries if entry}


def rejection(image: Image.Image) -> str | None:
    """Why a stamp image fails the photo rule, or None when it passes."""
    if "A" not in image.getbands() and "transparency" not in image.info:
        return "no alpha"
    if max(image.size) < MIN_LONG_SIDE:
        return "too small"
    rgba = np.asarray(image.convert("RGBA"))
    alpha = rgba[..., 3]
    foreground = alpha >= 128
    if not FOREGROUND_RANGE[0] <= foreground.mean() <= FOREGROUND_RANGE[1]:
        return "foreground fraction"
    packed = rgba[..., :3][foreground].astype(np.uint32) @ np.array([1 << 16, 1 << 8, 1], dtype=np.uint32)
    if np.unique(packed).size <= MIN_COLOURS:
        return "few colours"
    visible = int((alpha > 0).sum())
    if int(((alpha > 0) & (alpha < 255)).sum()) > MAX_SEMI_TRANSPARENT * visible:
        return "semi-transparent"
    return None


def select_objects(stamps_dir: Path, denylist: set[str]) -> list[Source]:
    """The stamps under ``stamps_dir`` that pass the rule, sorted by path, each assigned its fold."""
    selected = []
    seen: set[str] = set()
    for file in sorted(stamps_dir.rglob("*.png")):
        path = file.relative_to(stamps_dir).as_posix()
        if EXCLUDED_FOLDERS & set(path.split("/")[:-1]) or "_mirror" in file.stem or path in denylist:
            continue
        with Image.open(file) as image:
            if rejection(image) is not None:
                continue
            rgba = image.convert("RGBA")
        pixels = hashlib.sha256(f"{rgba.size}".encode() + rgba.tobytes()).hexdigest()
        if pixels in seen:
            continue
        seen.add(pixels)
        selected.append(
            Source(
                package=STAMPS_PACKAGE,
                path=f"{STAMPS_DIR}/{path}",
                license=STAMPS_LICENSE,
                author=STAMPS_AUTHOR,
                fold=object_fold(path),
                file=file,
            )
        )
    return selected
