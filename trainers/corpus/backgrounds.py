"""The curated background photographs (data/backgrounds.tsv): package, path, licence, author and fold."""

from __future__ import annotations

import csv
from pathlib import Path

from trainers.corpus.pins import DATA_DIR
from trainers.corpus.sources import FOLDS, Source

BACKGROUNDS_FILE = DATA_DIR / "backgrounds.tsv"


def load_backgrounds(trees: dict[str, Path], path: Path = BACKGROUNDS_FILE) -> list[Source]:
    """Read the curated list and resolve each entry inside the unpacked package ``trees[package]``."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    backgrounds = []
    for row in rows:
        if row["fold"] not in FOLDS:
            raise ValueError(f"{path}: unknown fold {row['fold']!r} for {row['path_in_package']}")
        file = trees[row["package"]] / row["path_in_package"]
        if not file.is_file():
            raise FileNotFoundError(f"{file}: listed in {path} but not in package {row['package']}")
        backgrounds.append(
            Source(
                package=row["package"],
                path=row["path_in_package"],
                license=row["license"],
                author=row["author"],
                fold=row["fold"],
                file=file,
            )
        )
    return backgrounds
