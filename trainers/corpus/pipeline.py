"""From pinned .debs to fold plans: fetch and verify, unpack, select objects and backgrounds, split into folds."""

from __future__ import annotations

from pathlib import Path

from tqdm import tqdm

from trainers.corpus.backgrounds import load_backgrounds
from trainers.corpus.build import FoldPlan
from trainers.corpus.extract import unpacked_tree
from trainers.corpus.fetch import fetch_debs
from trainers.corpus.objects import curated_objects
from trainers.corpus.pins import load_pins
from trainers.corpus.sources import Source

TRAIN_MAX_OBJECTS = 3
TRAIN_JITTER = 0.15


def unpack_packages(debs_dir: Path | None, cache: Path) -> tuple[dict[str, Path], dict[str, dict[str, str]]]:
    """Unpacked root of every pinned package, and their versions and digests for meta.json.

    ``debs_dir``: a folder holding the pinned .debs; None downloads missing ones into ``cache/debs``.
    """
    pins = load_pins()
    debs = fetch_debs(pins, debs_dir or cache / "debs", download=debs_dir is None)
    trees = {
        pin.package: unpacked_tree(debs[pin.package], pin.sha256, cache / "tree")
        for pin in tqdm(pins, desc="unpack", unit="deb")
    }
    packages = {pin.package: {"version": pin.version, "sha256": pin.sha256} for pin in pins}
    return trees, packages


def _in_fold(sources: list[Source], fold: str) -> list[Source]:
    return [source for source in sources if source.fold == fold]


def curated_sources(trees: dict[str, Path]) -> tuple[list[Source], list[Source]]:
    """The selected object cut-outs and the curated backgrounds of the unpacked packages, each with its fold."""
    return curated_objects(trees), load_backgrounds(trees)


def plan_folds(
    trees: dict[str, Path], packages: dict[str, dict[str, str]], seed: int, sizes: dict[str, int]
) -> list[FoldPlan]:
    """One plan per requested fold (``sizes``: fold name -> image count); train gets 1-3 objects and jitter. A plan
    lists only the packages its own sources come from, so pinning another package leaves a fold's files as they were."""
    objects, backgrounds = curated_sources(trees)
    plans = []
    for fold, count in sizes.items():
        fold_objects, fold_backgrounds = _in_fold(objects, fold), _in_fold(backgrounds, fold)
        used = {source.package for source in (*fold_objects, *fold_backgrounds)}
        plans.append(
            FoldPlan(
                name=fold,
                count=count,
                seed=seed,
                objects=fold_objects,
                backgrounds=fold_backgrounds,
                max_objects=TRAIN_MAX_OBJECTS if fold == "train" else 1,
                jitter=TRAIN_JITTER if fold == "train" else 0.0,
                packages={name: pin for name, pin in packages.items() if name in used},
            )
        )
    return plans
