"""Fold planning from a fake package tree: the curated sources and the object split keep folds apart."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from corpus_fixtures import background_photo, photo_stamp

from trainers.corpus.backgrounds import BACKGROUNDS_FILE, load_backgrounds
from trainers.corpus.build import build_fold
from trainers.corpus.notice import LICENCE_IDS, MORE_LICENCES, notice_text
from trainers.corpus.objects import OBJECTS_FILE, STAMPS_DIR, STAMPS_PACKAGE, curated_objects
from trainers.corpus.pipeline import plan_folds
from trainers.corpus.sources import listing_rows

EVAL_FOLD = Path(__file__).resolve().parents[2] / "model/tiny/folds/saliency-eval-v1"
SUBJECTS = ["cow", "frog", "owl", "kiwi", "drum", "bus", "pear", "hat", "yak", "fox", "bee", "cat"]


@pytest.fixture
def trees(tmp_path: Path) -> dict[str, Path]:
    """A fake unpacked tree per package: the curated backgrounds as tiny JPEGs, the listed objects and a dozen
    stamps as photo-like cut-outs."""
    trees = {
        row["package"]: tmp_path / row["package"]
        for row in [*listing_rows(BACKGROUNDS_FILE), *listing_rows(OBJECTS_FILE)]
    }
    for seed, row in enumerate(listing_rows(BACKGROUNDS_FILE)):
        background_photo(trees[row["package"]] / row["path_in_package"], seed=seed)
    for seed, row in enumerate(listing_rows(OBJECTS_FILE)):
        photo_stamp(trees[row["package"]] / row["path_in_package"], seed=1000 + seed)
    trees[STAMPS_PACKAGE] = tmp_path / STAMPS_PACKAGE
    for seed, subject in enumerate(SUBJECTS):
        photo_stamp(trees[STAMPS_PACKAGE] / STAMPS_DIR / "things" / f"{subject}.png", seed=seed)
        photo_stamp(trees[STAMPS_PACKAGE] / STAMPS_DIR / "things" / f"{subject}-2.png", seed=100 + seed)
    return trees


def test_curated_backgrounds_give_eval_12_and_train_88_without_share_alike_in_eval(trees: dict[str, Path]) -> None:
    backgrounds = load_backgrounds(trees)
    assert sum(b.fold == "eval" for b in backgrounds) == 12
    assert sum(b.fold == "train" for b in backgrounds) == 88
    assert not [b.path for b in backgrounds if b.fold == "eval" and "-SA" in b.license]


def test_train_and_eval_plans_share_no_object_and_no_background(trees: dict[str, Path]) -> None:
    train, evaluation = plan_folds(trees, {}, seed=0, sizes={"train": 4, "eval": 4})
    assert train.objects and evaluation.objects
    assert not {o.path for o in train.objects} & {o.path for o in evaluation.objects}
    assert not {b.path for b in train.backgrounds} & {b.path for b in evaluation.backgrounds}


def test_listed_objects_are_all_train_and_never_in_the_eval_plan(trees: dict[str, Path]) -> None:
    train, evaluation = plan_folds(trees, {}, seed=0, sizes={"train": 1, "eval": 1})
    listed = {row["path_in_package"] for row in listing_rows(OBJECTS_FILE)}
    assert listed <= {o.path for o in train.objects}
    assert not listed & {o.path for o in evaluation.objects}


def test_a_listed_object_whose_subject_an_eval_stamp_shows_is_left_out(trees: dict[str, Path]) -> None:
    photo_stamp(trees[STAMPS_PACKAGE] / STAMPS_DIR / "animals" / "moose.png", seed=500)
    objects = curated_objects(trees)
    assert [o.fold for o in objects if o.path.endswith("/moose.png")] == ["eval"]
    assert sum(o.package != STAMPS_PACKAGE for o in objects) == len(listing_rows(OBJECTS_FILE)) - 1


def test_variants_of_a_subject_land_in_one_fold(trees: dict[str, Path]) -> None:
    train, evaluation = plan_folds(trees, {}, seed=0, sizes={"train": 1, "eval": 1})
    for plan in (train, evaluation):
        names = {Path(o.path).stem for o in plan.objects if o.package == STAMPS_PACKAGE}
        assert all(f"{name}-2" in names for name in names if not name.endswith("-2"))


def test_train_has_several_objects_and_jitter_while_eval_has_one_object_and_none(trees: dict[str, Path]) -> None:
    train, evaluation = plan_folds(trees, {}, seed=0, sizes={"train": 1, "eval": 1})
    assert (train.max_objects, evaluation.max_objects) == (3, 1)
    assert train.jitter > 0 and evaluation.jitter == 0


def test_built_folds_use_disjoint_sources(trees: dict[str, Path], tmp_path: Path) -> None:
    used = {}
    for plan in plan_folds(trees, {}, seed=0, sizes={"train": 12, "eval": 6}):
        build_fold(plan, tmp_path / "out")
        meta = json.loads((tmp_path / "out" / plan.name / "meta.json").read_text())
        used[plan.name] = {o["path"] for image in meta["images"] for o in [*image["objects"], image["background"]]}
    assert not used["train"] & used["eval"]


def test_every_curated_licence_is_explained_by_the_notice() -> None:
    licences = {row["license"] for row in [*listing_rows(BACKGROUNDS_FILE), *listing_rows(OBJECTS_FILE)]}
    assert licences <= {*LICENCE_IDS, *MORE_LICENCES}


def test_the_committed_eval_folds_notice_is_what_its_meta_gives() -> None:
    meta = json.loads((EVAL_FOLD / "meta.json").read_text(encoding="utf-8"))
    assert notice_text(meta) == (EVAL_FOLD / "NOTICE").read_text(encoding="utf-8")
