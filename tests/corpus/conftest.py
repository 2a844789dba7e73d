"""Fixtures of the corpus and dataset tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from corpus_fixtures import write_pair


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    """Our layout with three pairs, stems deliberately not in creation order."""
    for seed, stem in enumerate(["b", "c", "a"]):
        write_pair(tmp_path / "Image", tmp_path / "Mask", stem, seed)
    return tmp_path
