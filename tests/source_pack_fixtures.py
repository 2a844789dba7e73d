"""A tiny source pack built from generated cut-outs and backgrounds, shared by the corpus and trainer tests."""

from __future__ import annotations

from pathlib import Path

from corpus.corpus_fixtures import background_photo, photo_stamp

from trainers.corpus.pack import build_pack
from trainers.corpus.sources import Source
from trainers.corpus.split import object_fold

SUBJECTS = ("ant", "bee", "cat", "dog", "eel", "fox", "gnu", "hen", "ibis", "jay", "kiwi", "lion")
PACKAGES = {"stamps": {"version": "1", "sha256": "0" * 64}, "walls": {"version": "2", "sha256": "1" * 64}}


def generated_sources(folder: Path) -> tuple[list[Source], list[Source]]:
    """Twelve photo-like cut-outs (their eval fold by the corpus rule) and eight backgrounds (two eval)."""
    objects = [
        Source(
            "stamps",
            f"stamps/{name}.png",
            "GPL-2+",
            "someone",
            object_fold(name),
            photo_stamp(folder / f"{name}.png", size=(48 + 4 * i, 36), seed=i),
        )
        for i, name in enumerate(SUBJECTS)
    ]
    backgrounds = [
        Source(
            "walls",
            f"walls/bg{i}.jpg",
            "CC0-1.0",
            "nobody",
            "eval" if i < 2 else "train",
            background_photo(folder / f"bg{i}.jpg", size=(96, 64 + 8 * i), seed=i),
        )
        for i in range(8)
    ]
    return objects, backgrounds


def write_source_pack(folder: Path) -> Path:
    """Generate the sources under ``folder/sources`` and build the pack at ``folder/pack``."""
    build_pack(*generated_sources(folder / "sources"), PACKAGES, folder / "pack")
    return folder / "pack"
