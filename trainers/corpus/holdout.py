"""The source pack's three-way split: ``eval`` exactly as the committed eval fold, ``val`` carved out of ``train``.

Objects: a stamp's ``eval`` membership is the corpus rule (:func:`trainers.corpus.split.object_fold`; listed
objects of other packages are all ``train``). Of each package's remaining subjects
(:func:`trainers.corpus.split.subject_key`, so variants stay together) the VAL_FRACTION ranked first by a salted
sha256 go to ``val``. Backgrounds: ``eval`` rows of data/backgrounds.tsv stay eval; of each package's ``train``
places (a row's ``place``, else its path) the VAL_FRACTION ranked first go to ``val`` (at least one per package
with two or more), so validation sees wallpapers, templates and landscapes alike. Drawing the val share per
package means adding a package leaves the split of every package drawn before it as it was (the stamps, holding
the eval objects, are drawn first); a subject an earlier package drew keeps its split in a later one, so val
shares no subject and no background with train across packages, as the eval fold shares none with either.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable

from trainers.corpus.sources import Source
from trainers.corpus.split import subject_key

SPLITS = ("train", "val", "eval")
VAL_FRACTION = 0.15
SALT = "tinyai-val/1:"


def held_out(keys: Iterable[str], fraction: float, salt: str = SALT) -> set[str]:
    """The ``round(fraction * n)`` distinct keys (at least one when n >= 2) ranked first by sha256(salt + key)."""
    unique = sorted(set(keys), key=lambda key: hashlib.sha256((salt + key).encode()).digest())
    count = max(round(fraction * len(unique)), 1 if len(unique) >= 2 else 0)
    return set(unique[:count])


def _split_per_package(sources: list[Source], key: Callable[[Source], str], fraction: float) -> list[str]:
    """The split of each source, in order: eval as its fold, else val for the ``key``s :func:`held_out` per package.

    Packages are drawn in a fixed order, those holding eval sources first, then by name; a key an earlier package
    already drew keeps that split in a later one (a subject both packages show lands on one side), and the later
    package draws its fraction among its new keys only.
    """
    by_package: dict[str, list[str]] = defaultdict(list)
    for source in sources:
        if source.fold == "train":
            by_package[source.package].append(key(source))
    holds_eval = {source.package for source in sources if source.fold == "eval"}
    split_of: dict[str, str] = {}
    for package in sorted(by_package, key=lambda name: (name not in holds_eval, name)):
        new = [k for k in by_package[package] if k not in split_of]
        val = held_out(new, fraction)
        split_of.update((k, "val" if k in val else "train") for k in new)
    return ["eval" if source.fold == "eval" else split_of[key(source)] for source in sources]


def split_objects(objects: list[Source], fraction: float = VAL_FRACTION) -> list[str]:
    """The split of each object cut-out, in order; the val share is drawn per package, by subject."""
    return _split_per_package(objects, lambda source: subject_key(source.path), fraction)


def split_backgrounds(backgrounds: list[Source], fraction: float = VAL_FRACTION) -> list[str]:
    """The split of each background, in order; the val share is drawn per package, by place (files that show one
    place stay together)."""
    return _split_per_package(backgrounds, lambda source: source.place or source.path, fraction)
