"""The curated background photographs (data/backgrounds.tsv): package, path, licence, author and fold."""

from __future__ import annotations

from pathlib import Path

from trainers.corpus.pins import DATA_DIR
from trainers.corpus.sources import Source, load_listing

BACKGROUNDS_FILE = DATA_DIR / "backgrounds.tsv"


def load_backgrounds(trees: dict[str, Path], path: Path = BACKGROUNDS_FILE) -> list[Source]:
    """Read the curated list and resolve each entry inside the unpacked package ``trees[package]``."""
    return load_listing(path, trees)
