"""Stable assignment of objects to folds by a hash of their name: about 20 % go to ``eval``."""

from __future__ import annotations

import hashlib
import re
from pathlib import PurePosixPath

EVAL_FRACTION = 0.2
_NON_LETTERS = re.compile(r"[^a-z]+")


def subject_key(path: str) -> str:
    """The subject a stamp shows: the first word of its lower-case stem (the whole stem if it has no letters).

    Variants of one subject (``frog``/``frog-1``, ``fireman200b``/``fireman240a``, ``gnu-baby``/``gnu-stand``)
    share a key, so they always land in the same fold and eval never sees a near-copy of a training object.
    """
    stem = PurePosixPath(path).stem.lower()
    words = [word for word in _NON_LETTERS.split(stem) if word]
    return words[0] if words else stem


def object_fold(path: str) -> str:
    """``eval`` for about EVAL_FRACTION of subjects, ``train`` for the rest, from the sha256 of the subject key."""
    digest = hashlib.sha256(subject_key(path).encode()).digest()
    bucket = int.from_bytes(digest[:8], "big") / 2**64
    return "eval" if bucket < EVAL_FRACTION else "train"
