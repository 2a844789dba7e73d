"""Building a fold from tiny generated sources: layout, meta.json, masks and byte-identical rebuilds."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from corpus_fixtures import background_photo, photo_stamp
from PIL import Image

from pytest_tinyai.dataset import content_hash, find_samples, load_mask
from trainers.corpus.build import FoldPlan, build_fold
from trainers.corpus.sources import Source


def _plan(tmp_path: Path, seed: int = 0, max_objects: int = 1, jitter: float = 0.0) -> FoldPlan:
    objects = [
        Source("stamps", f"s/obj{i}.png", "GPL-2+", "someone", "eval", photo_stamp(tmp_path / f"obj{i}.png", seed=i))
        for i in range(3)
    ]
    backgrounds = [
        Source("walls", f"w/bg{i}.jpg", "CC0-1.0", "nobody", "eval", background_photo(tmp_path / f"bg{i}.jpg", seed=i))
        for i in range(2)
    ]
    return FoldPlan(
        "eval", 6, seed, objects, backgrounds, max_objects, jitter, {"stamps": {"version": "1", "sha256": "0" * 64}}
    )


def _files(fold: Path) -> dict[str, bytes]:
    return {path.relative_to(fold).as_posix(): path.read_bytes() for path in sorted(fold.rglob("*")) if path.is_file()}


def test_fold_is_in_duts_layout_with_one_pair_per_image(tmp_path: Path) -> None:
    build_fold(_plan(tmp_path), tmp_path / "out")
    samples = find_samples(tmp_path / "out" / "eval")
    assert [s.stem for s in samples] == [f"eval_{i:05d}" for i in range(6)]
    assert Image.open(samples[0].image_path).format == "JPEG"
    assert Image.open(samples[0].image_path).size == (256, 256)


def test_masks_are_0_or_255_on_disk_and_0_or_1_loaded(tmp_path: Path) -> None:
    build_fold(_plan(tmp_path), tmp_path / "out")
    for sample in find_samples(tmp_path / "out" / "eval"):
        assert set(np.unique(np.asarray(Image.open(sample.mask_path)))) == {0, 255}
        assert set(np.unique(load_mask(sample.mask_path))) == {0.0, 1.0}


def test_building_twice_gives_byte_identical_folds(tmp_path: Path) -> None:
    plan = _plan(tmp_path, max_objects=3, jitter=0.15)
    build_fold(plan, tmp_path / "first")
    build_fold(plan, tmp_path / "second")
    assert _files(tmp_path / "first" / "eval") == _files(tmp_path / "second" / "eval")


def test_output_does_not_depend_on_the_number_of_workers(tmp_path: Path) -> None:
    plan = _plan(tmp_path, max_objects=3)
    build_fold(plan, tmp_path / "one", workers=1)
    build_fold(plan, tmp_path / "two", workers=2)
    assert _files(tmp_path / "one" / "eval") == _files(tmp_path / "two" / "eval")


def test_another_seed_gives_another_fold(tmp_path: Path) -> None:
    first = build_fold(_plan(tmp_path, seed=0), tmp_path / "a")
    second = build_fold(_plan(tmp_path, seed=1), tmp_path / "b")
    assert first["content_sha256"] != second["content_sha256"]


def test_meta_records_hash_seed_and_sources_per_image(tmp_path: Path) -> None:
    build_fold(_plan(tmp_path, seed=5), tmp_path / "out")
    fold = tmp_path / "out" / "eval"
    meta = json.loads((fold / "meta.json").read_text())
    assert meta["content_sha256"] == content_hash(fold) == (fold / "CONTENT_SHA256").read_text().strip()
    assert (meta["seed"], meta["count"], meta["fold"]) == (5, 6, "eval")
    image = meta["images"][0]
    assert image["background"]["license"] == "CC0-1.0"
    assert len(image["background"]["crop"]) == 3
    assert image["objects"][0]["path"].startswith("s/obj")
    assert len(image["objects"][0]["box"]) == 4
    assert 0 < image["foreground_fraction"] < 1


def test_meta_summarises_the_foreground_fraction(tmp_path: Path) -> None:
    meta = build_fold(_plan(tmp_path), tmp_path / "out")
    summary = meta["foreground_fraction"]
    assert summary["min"] <= summary["q1"] <= summary["median"] <= summary["q3"] <= summary["max"]


def test_single_object_folds_have_one_object_per_image(tmp_path: Path) -> None:
    meta = build_fold(_plan(tmp_path), tmp_path / "out")
    assert {len(image["objects"]) for image in meta["images"]} == {1}


def test_multi_object_folds_have_one_to_three_distinct_objects(tmp_path: Path) -> None:
    plan = _plan(tmp_path, max_objects=3)
    meta = build_fold(FoldPlan("train", 40, 0, plan.objects, plan.backgrounds, 3, 0.15), tmp_path / "out")
    counts = {len(image["objects"]) for image in meta["images"]}
    assert counts == {1, 2, 3}
    assert all(len({o["path"] for o in image["objects"]}) == len(image["objects"]) for image in meta["images"])


def test_notice_lists_every_source_with_licence_and_author(tmp_path: Path) -> None:
    build_fold(_plan(tmp_path), tmp_path / "out")
    notice = (tmp_path / "out" / "eval" / "NOTICE").read_text()
    assert "s/obj0.png | GPL-2+ | someone" in notice
    assert "w/bg1.jpg | CC0-1.0 | nobody" in notice


def test_rebuild_replaces_an_earlier_fold(tmp_path: Path) -> None:
    build_fold(_plan(tmp_path, seed=0), tmp_path / "out")
    (tmp_path / "out" / "eval" / "Image" / "stale.jpg").write_bytes(b"")
    build_fold(_plan(tmp_path, seed=0), tmp_path / "out")
    assert not (tmp_path / "out" / "eval" / "Image" / "stale.jpg").exists()


def test_a_folder_that_is_not_a_fold_is_not_replaced(tmp_path: Path) -> None:
    (tmp_path / "out" / "eval").mkdir(parents=True)
    (tmp_path / "out" / "eval" / "precious.txt").write_text("keep")
    with pytest.raises(FileExistsError, match="not a corpus fold"):
        build_fold(_plan(tmp_path), tmp_path / "out")
    assert (tmp_path / "out" / "eval" / "precious.txt").exists()
