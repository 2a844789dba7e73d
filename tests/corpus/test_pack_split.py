"""The source pack's three-way split: eval is the committed eval fold's sources, val is disjoint from train."""

from __future__ import annotations

import json
from pathlib import Path

from trainers.corpus.backgrounds import BACKGROUNDS_FILE
from trainers.corpus.holdout import VAL_FRACTION, held_out, split_backgrounds, split_objects
from trainers.corpus.sources import Source, listing_rows
from trainers.corpus.split import object_fold, subject_key

EVAL_META = Path(__file__).resolve().parents[2] / "model/tiny/folds/saliency-eval-v1/meta.json"
STAMPS = [f"usr/share/tuxpaint/stamps/x/{name}.png" for name in ("frog", "frog-1", "ant", "bee", "cow", "yak")]


def _curated_backgrounds() -> list[Source]:
    rows = listing_rows(BACKGROUNDS_FILE)
    return [
        Source(r["package"], r["path_in_package"], r["license"], r["author"], r["fold"], Path(), r["place"])
        for r in rows
    ]


def _stamps(paths: list[str]) -> list[Source]:
    return [
        Source("tuxpaint-stamps-default", p, "GPL-2+", "a", object_fold(p.rsplit("/", 1)[1]), Path()) for p in paths
    ]


def test_eval_backgrounds_are_exactly_the_committed_eval_folds() -> None:
    backgrounds = _curated_backgrounds()
    splits = split_backgrounds(backgrounds)
    committed = {b["path"] for b in json.loads(EVAL_META.read_text())["backgrounds"]}
    assert {b.path for b, split in zip(backgrounds, splits, strict=True) if split == "eval"} == committed


def test_the_committed_eval_folds_objects_are_all_eval() -> None:
    paths = [o["path"] for o in json.loads(EVAL_META.read_text())["objects"]]
    assert set(split_objects(_stamps(paths))) == {"eval"}


def test_val_and_train_share_no_background_and_every_package_gives_val_one() -> None:
    backgrounds = _curated_backgrounds()
    splits = split_backgrounds(backgrounds)
    val = {b.path for b, s in zip(backgrounds, splits, strict=True) if s == "val"}
    train = {b.path for b, s in zip(backgrounds, splits, strict=True) if s == "train"}
    assert val and train and not val & train
    packages_with_two = {b.package for b in backgrounds if b.fold == "train"}
    assert {b.package for b in backgrounds if b.path in val} == {
        p for p in packages_with_two if sum(b.package == p and b.fold == "train" for b in backgrounds) >= 2
    }


def test_backgrounds_that_show_one_place_land_in_one_split() -> None:
    tiles = [
        Source("stellarium-data", f"l/{p}/{p}{i}.png", "GPL-2+", "a", "train", Path(), p)
        for p in "abcdefgh"
        for i in (1, 2, 3)
    ]
    by_place: dict[str, set[str]] = {}
    for source, split in zip(tiles, split_backgrounds(tiles), strict=True):
        by_place.setdefault(source.place, set()).add(split)
    assert all(len(splits) == 1 for splits in by_place.values())
    assert sum(splits == {"val"} for splits in by_place.values()) == round(VAL_FRACTION * 8)


def test_the_curated_tiles_and_views_of_one_place_share_their_split() -> None:
    backgrounds = _curated_backgrounds()
    by_place: dict[str, set[str]] = {}
    for source, split in zip(backgrounds, split_backgrounds(backgrounds), strict=True):
        if source.place:
            by_place.setdefault(source.place, set()).add(split)
    assert set(by_place) == {"garching", "grossmugl", "hurricane", "leuven", "aero"}
    assert all(len(splits) == 1 for splits in by_place.values())


def test_variants_of_a_subject_land_in_one_split() -> None:
    subjects = [f"{chr(97 + i // 26)}{chr(97 + i % 26)}" for i in range(60)]
    objects = _stamps([f"x/{subject}{suffix}.png" for subject in subjects for suffix in ("", "-1", "_b2")])
    by_subject: dict[str, set[str]] = {}
    for source, split in zip(objects, split_objects(objects), strict=True):
        by_subject.setdefault(subject_key(source.path), set()).add(split)
    assert all(len(splits) == 1 for splits in by_subject.values())
    assert {"train", "val"} <= set().union(*by_subject.values())


def test_the_split_depends_on_names_only_not_on_order() -> None:
    objects = _stamps(STAMPS)
    forward = dict(zip(STAMPS, split_objects(objects), strict=True))
    backward = dict(zip(reversed(STAMPS), split_objects(list(reversed(objects))), strict=True))
    assert forward == backward


def test_held_out_takes_the_fraction_and_at_least_one_of_two() -> None:
    keys = [f"k{i}" for i in range(100)]
    assert len(held_out(keys, VAL_FRACTION)) == round(VAL_FRACTION * 100)
    assert len(held_out(["a", "b"], VAL_FRACTION)) == 1
    assert held_out(["only"], VAL_FRACTION) == set()
    assert held_out(keys, 0.3) >= held_out(keys, 0.1)


def _listed(package: str, count: int) -> list[Source]:
    names = [f"q{chr(97 + i // 26)}{chr(97 + i % 26)}" for i in range(count)]
    return [Source(package, f"pics/{name}.png", "GPL-3+", "b", "train", Path()) for name in names]


def test_adding_another_packages_objects_leaves_the_stamps_split_as_it_was() -> None:
    stamps = _stamps([f"x/{chr(97 + i // 26)}{chr(97 + i % 26)}.png" for i in range(200)])
    alone = split_objects(stamps)
    together = split_objects([*stamps, *_listed("qabcs-data", 87)])
    assert together[: len(stamps)] == alone


def test_another_package_sends_its_own_fraction_of_subjects_to_val() -> None:
    splits = split_objects([*_stamps(STAMPS), *_listed("qabcs-data", 87)])[len(STAMPS) :]
    assert (splits.count("val"), splits.count("train")) == (round(VAL_FRACTION * 87), 87 - round(VAL_FRACTION * 87))


def test_a_subject_the_stamps_show_keeps_the_stamps_split_in_another_package() -> None:
    stamps = _stamps([f"x/{chr(97 + i // 26)}{chr(97 + i % 26)}.png" for i in range(200)])
    stamp_split = {subject_key(s.path): split for s, split in zip(stamps, split_objects(stamps), strict=True)}
    shared = [Source("qabcs-data", f"pics/{key}.png", "GPL-3+", "b", "train", Path()) for key in sorted(stamp_split)]
    shared = [s for s in shared if stamp_split[subject_key(s.path)] != "eval"]
    splits = split_objects([*shared, *stamps])[: len(shared)]
    assert {"val", "train"} <= set(splits)
    assert splits == [stamp_split[subject_key(s.path)] for s in shared]
