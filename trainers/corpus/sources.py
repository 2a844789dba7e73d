"""A source file of the corpus: an object cut-out or a background photograph taken from a Debian package."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

FOLDS = ("train", "eval")


@dataclass(frozen=True)
class Source:
    """A file inside an unpacked package, with its licence, author and the fold it belongs to.

    ``place`` names what a background photograph shows when several listed files show it (the tiles of one
    panorama, two views of one street), so that they land in one split; empty, each file is its own place.
    """

    package: str
    path: str
    license: str
    author: str
    fold: str
    file: Path
    place: str = ""

    def reference(self) -> dict[str, str]:
        """The provenance recorded in meta.json (no local paths, so folds stay byte-identical)."""
        return {"package": self.package, "path": self.path, "license": self.license, "author": self.author}


def listing_rows(path: Path) -> list[dict[str, str]]:
    """The rows of a curated list (TSV: package, path_in_package, license, author and, optionally, fold and place)."""
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def load_listing(path: Path, trees: dict[str, Path]) -> list[Source]:
    """Read a curated list (:func:`listing_rows`; no fold means ``train``) and resolve each entry inside the
    unpacked package ``trees[package]``."""
    sources = []
    for row in listing_rows(path):
        fold = row.get("fold", "train")
        if fold not in FOLDS:
            raise ValueError(f"{path}: unknown fold {fold!r} for {row['path_in_package']}")
        file = trees[row["package"]] / row["path_in_package"]
        if not file.is_file():
            raise FileNotFoundError(f"{file}: listed in {path} but not in package {row['package']}")
        sources.append(
            Source(
                package=row["package"],
                path=row["path_in_package"],
                license=row["license"],
                author=row["author"],
                fold=fold,
                file=file,
                place=row.get("place") or "",
            )
        )
    return sources
