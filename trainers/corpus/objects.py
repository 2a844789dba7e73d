"""Select the photographic object cut-outs: Tux Paint stamps by rule plus a short deny-list, other packages' by a
curated list (data/objects.tsv) whose every file must pass the same rule.

The photo rule (:func:`rejection`): a cut-out is kept when it has alpha; its foreground (alpha >= 128) covers
3-97 % of the image; its long side is >= 128 px; its foreground has more than 3000 distinct colours (drawings
have few); at most 25 % of its visible pixels are semi-transparent (drops fire, smoke, foliage). Both kinds of
candidates then go through :func:`select_objects`: the rule, and no pixel-exact duplicate of a cut-out kept before.

Stamps (:func:`stamp_candidates`): every PNG under the stamps folder in sorted path order, except those under a
``cartoon/`` or ``symbols/`` folder, ``_mirror`` variants and the paths on data/object-denylist.txt (drawings that
pass the rule); each gets its fold from :func:`trainers.corpus.split.object_fold`.

Listed objects (:func:`listed_candidates`): the rows of data/objects.tsv, photographs chosen by eye; a listed file
that fails the rule is an error. They are train-side only (fold ``train``; the source pack draws their val share
per package). A listed object whose subject key (:func:`trainers.corpus.split.subject_key`) is the subject of an
eval object is left out, so the held-out fold's subjects stay its own and the eval fold stays byte for byte as it
was (for that reason the list does not name qabcs-data's owl, ginger, kiwi, violin and little_monkey, nor its
chimpanzee and rhinoceros, which the eval fold shows as chimp and rhino).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from PIL import Image

from trainers.corpus.pins import DATA_DIR
from trainers.corpus.sources import Source, load_listing
from trainers.corpus.split import object_fold, subject_key

STAMPS_PACKAGE = "tuxpaint-stamps-default"
STAMPS_DIR = "usr/share/tuxpaint/stamps"
STAMPS_LICENSE = "GPL-2+"
STAMPS_AUTHOR = "Bill Kendrick and the Tux Paint contributors"
DENYLIST_FILE = DATA_DIR / "object-denylist.txt"
OBJECTS_FILE = DATA_DIR / "objects.tsv"

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
    """Why a cut-out image fails the photo rule, or None when it passes."""
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


def _pixel_digest(image: Image.Image) -> str:
    rgba = image.convert("RGBA")
    return hashlib.sha256(f"{rgba.size}".encode() + rgba.tobytes()).hexdigest()


def stamp_candidates(stamps_dir: Path, denylist: set[str]) -> list[Source]:
    """The stamps under ``stamps_dir`` not excluded by folder, mirror or deny-list, sorted by path, with their fold."""
    candidates = []
    for file in sorted(stamps_dir.rglob("*.png")):
        path = file.relative_to(stamps_dir).as_posix()
        if EXCLUDED_FOLDERS & set(path.split("/")[:-1]) or "_mirror" in file.stem or path in denylist:
            continue
        candidates.append(
            Source(
                package=STAMPS_PACKAGE,
                path=f"{STAMPS_DIR}/{path}",
                license=STAMPS_LICENSE,
                author=STAMPS_AUTHOR,
                fold=object_fold(path),
                file=file,
            )
        )
    return candidates


def listed_candidates(trees: dict[str, Path], eval_subjects: set[str], path: Path = OBJECTS_FILE) -> list[Source]:
    """The curated list's objects (it has no fold column: all ``train``), but for those whose subject key is one
    of ``eval_subjects``."""
    return [source for source in load_listing(path, trees) if subject_key(source.path) not in eval_subjects]


def select_objects(candidates: Iterable[Source], strict: bool = False) -> list[Source]:
    """The candidates that pass the photo rule, but for pixel-exact duplicates of one kept before, in order.

    ``strict``: a candidate that fails the rule or duplicates another is an error (a curated list names only keepers).
    """
    selected = []
    seen: set[str] = set()
    for source in candidates:
        with Image.open(source.file) as image:
            reason = rejection(image)
            pixels = _pixel_digest(image) if reason is None else ""
        if reason is None and pixels in seen:
            reason = "a pixel-exact duplicate of an object kept before"
        if reason is not None:
            if strict:
                raise ValueError(f"{source.path}: listed, but not kept ({reason})")
            continue
        seen.add(pixels)
        selected.append(source)
    return selected


def curated_objects(trees: dict[str, Path]) -> list[Source]:
    """The stamps that pass the rule and deny-list, then the listed objects (none sharing an eval subject)."""
    stamps = select_objects(stamp_candidates(trees[STAMPS_PACKAGE] / STAMPS_DIR, load_denylist()))
    eval_subjects = {subject_key(source.path) for source in stamps if source.fold == "eval"}
    return [*stamps, *select_objects(listed_candidates(trees, eval_subjects), strict=True)]
