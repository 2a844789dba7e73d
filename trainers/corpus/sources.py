"""A source file of the corpus: an object cut-out or a background photograph taken from a Debian package."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

FOLDS = ("train", "eval")


@dataclass(frozen=True)
class Source:
    """A file inside an unpacked package, with its licence, author and the fold it belongs to."""

    package: str
    path: str
    license: str
    author: str
    fold: str
    file: Path

    def reference(self) -> dict[str, str]:
        """The provenance recorded in meta.json (no local paths, so folds stay byte-identical)."""
        return {"package": self.package, "path": self.path, "license": self.license, "author": self.author}
