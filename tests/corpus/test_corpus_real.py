"""Slow: a small eval fold and the source pack built from the real pinned Debian packages (downloaded if needed)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pytest_tinyai.dataset import content_hash, find_samples
from trainers.corpus.build import build_fold
from trainers.corpus.holdout import split_objects
from trainers.corpus.objects import listed_candidates, select_objects
from trainers.corpus.pack import build_pack
from trainers.corpus.pack_format import pack_content_hash, read_manifest
from trainers.corpus.pins import load_pins
from trainers.corpus.pipeline import curated_sources, plan_folds, unpack_packages
from trainers.corpus.split import subject_key

PREFETCHED = Path("/tmp/debs")
EVAL_FOLD = Path(__file__).resolve().parents[2] / "model/tiny/folds/saliency-eval-v1"
PACK_BUDGET_BYTES = 40_000_000


@pytest.fixture(scope="module")
def unpacked(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict]:
    """The unpacked pinned packages: from /tmp/debs when it holds them all, else ``apt-get download``."""
    prefetched = all((PREFETCHED / pin.filename).is_file() for pin in load_pins())
    if not prefetched and shutil.which("apt-get") is None:
        pytest.skip("apt-get is not on PATH and /tmp/debs does not hold the pinned .debs")
    return unpack_packages(PREFETCHED if prefetched else None, tmp_path_factory.mktemp("corpus-cache"))


@pytest.fixture(scope="module")
def plans(unpacked: tuple[dict, dict]) -> dict:
    return {plan.name: plan for plan in plan_folds(*unpacked, seed=0, sizes={"train": 20, "eval": 20})}


@pytest.mark.slow
def test_the_rule_selects_200_stamps_and_the_list_85_qabcs_photographs_251_for_train_and_34_for_eval(
    plans: dict,
) -> None:
    assert (len(plans["train"].objects), len(plans["eval"].objects)) == (166 + 85, 34)
    assert (len(plans["train"].backgrounds), len(plans["eval"].backgrounds)) == (88, 12)


@pytest.mark.slow
def test_every_listed_object_is_in_its_package_and_passes_the_photo_rule(unpacked: tuple[dict, dict]) -> None:
    trees, _ = unpacked
    listed = listed_candidates(trees, set())
    assert len(select_objects(listed, strict=True)) == len(listed) == 85


@pytest.mark.slow
def test_the_eval_plan_lists_the_committed_folds_packages_and_no_package_it_does_not_use(plans: dict) -> None:
    committed = json.loads((EVAL_FOLD / "meta.json").read_text(encoding="utf-8"))["packages"]
    assert plans["eval"].packages == committed


@pytest.mark.slow
def test_a_small_real_fold_builds_identically_twice(plans: dict, tmp_path: Path) -> None:
    first = build_fold(plans["eval"], tmp_path / "a", workers=2)
    second = build_fold(plans["eval"], tmp_path / "b", workers=1)
    assert first["content_sha256"] == second["content_sha256"] == content_hash(tmp_path / "a" / "eval")
    samples = find_samples(tmp_path / "a" / "eval")
    assert len(samples) == 20
    for sample in samples:
        assert set(np.unique(np.asarray(Image.open(sample.mask_path)))) == {0, 255}
    assert (tmp_path / "a" / "eval" / "meta.json").read_bytes() == (tmp_path / "b" / "eval" / "meta.json").read_bytes()


@pytest.mark.slow
def test_the_real_pack_is_small_reproducible_and_its_eval_split_is_the_committed_folds(
    unpacked: tuple[dict, dict], tmp_path: Path
) -> None:
    trees, packages = unpacked
    manifest = build_pack(*curated_sources(trees), packages, tmp_path / "a")
    again = build_pack(*curated_sources(trees), packages, tmp_path / "b")
    assert (
        manifest["content_sha256"]
        == again["content_sha256"]
        == pack_content_hash(tmp_path / "a", read_manifest(tmp_path / "a"))
    )
    assert sum(p.stat().st_size for p in (tmp_path / "a").rglob("*") if p.is_file()) <= PACK_BUDGET_BYTES
    counts = {split: (c["objects"], c["backgrounds"]) for split, c in manifest["counts"].items()}
    assert counts == {"train": (141 + 71, 49 + 12 + 13), "val": (25 + 14, 9 + 3 + 2), "eval": (34, 12)}
    committed = json.loads((EVAL_FOLD / "meta.json").read_text())
    for kind in ("objects", "backgrounds"):
        assert sorted(manifest["eval"][kind], key=str) == sorted(committed[kind], key=str)


@pytest.mark.slow
def test_no_subject_of_the_real_packages_lands_in_two_splits(unpacked: tuple[dict, dict]) -> None:
    objects, _ = curated_sources(unpacked[0])
    splits_of: dict[str, set[str]] = {}
    for source, split in zip(objects, split_objects(objects), strict=True):
        splits_of.setdefault(subject_key(source.path), set()).add(split)
    assert {subject: splits for subject, splits in splits_of.items() if len(splits) > 1} == {}
    assert {"qabcs-data"} < {source.package for source in objects}
