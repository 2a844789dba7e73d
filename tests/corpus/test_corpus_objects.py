"""The rule that picks photographic cut-outs, the stamps' deny-list and the curated list of other packages' objects."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from corpus_fixtures import flat_stamp, photo_stamp
from PIL import Image

from trainers.corpus.notice import LICENCE_IDS, MORE_LICENCES
from trainers.corpus.objects import (
    OBJECTS_FILE,
    STAMPS_DIR,
    STAMPS_LICENSE,
    STAMPS_PACKAGE,
    listed_candidates,
    load_denylist,
    rejection,
    select_objects,
    stamp_candidates,
)
from trainers.corpus.pins import load_pins
from trainers.corpus.sources import listing_rows
from trainers.corpus.split import subject_key

EVAL_META = Path(__file__).resolve().parents[2] / "model/tiny/folds/saliency-eval-v1/meta.json"
HEADER = "package\tpath_in_package\tlicense\tauthor\n"


def test_photo_like_stamp_passes(tmp_path: Path) -> None:
    assert rejection(Image.open(photo_stamp(tmp_path / "a.png"))) is None


def test_flat_coloured_drawing_is_rejected(tmp_path: Path) -> None:
    assert rejection(Image.open(flat_stamp(tmp_path / "a.png"))) == "few colours"


def test_stamp_without_alpha_is_rejected(tmp_path: Path) -> None:
    Image.open(photo_stamp(tmp_path / "a.png")).convert("RGB").save(tmp_path / "b.png")
    assert rejection(Image.open(tmp_path / "b.png")) == "no alpha"


def test_small_stamp_is_rejected(tmp_path: Path) -> None:
    assert rejection(Image.open(photo_stamp(tmp_path / "a.png", size=(127, 100)))) == "too small"


def test_stamp_with_tiny_foreground_is_rejected(tmp_path: Path) -> None:
    rgba = np.asarray(Image.open(photo_stamp(tmp_path / "a.png"))).copy()
    rgba[..., 3] = 0
    rgba[:5, :5, 3] = 255
    assert rejection(Image.fromarray(rgba, "RGBA")) == "foreground fraction"


def test_mostly_semi_transparent_stamp_is_rejected(tmp_path: Path) -> None:
    rgba = np.asarray(Image.open(photo_stamp(tmp_path / "a.png"))).copy()
    rgba[..., 3] = np.where(rgba[..., 3] > 0, 200, 0)
    assert rejection(Image.fromarray(rgba, "RGBA")) == "semi-transparent"


def test_selection_skips_cartoon_and_symbols_folders_mirrors_and_duplicates(tmp_path: Path) -> None:
    photo_stamp(tmp_path / "animals" / "cow.png", seed=1)
    photo_stamp(tmp_path / "animals" / "cartoon" / "cat.png", seed=2)
    photo_stamp(tmp_path / "symbols" / "star.png", seed=3)
    photo_stamp(tmp_path / "animals" / "cow_mirror.png", seed=4)
    photo_stamp(tmp_path / "farm" / "cow_copy.png", seed=1)
    flat_stamp(tmp_path / "animals" / "drawn.png")
    assert [source.path for source in select_objects(stamp_candidates(tmp_path, set()))] == [
        f"{STAMPS_DIR}/animals/cow.png"
    ]


def test_denylisted_stamps_are_skipped(tmp_path: Path) -> None:
    photo_stamp(tmp_path / "a" / "keep.png", seed=1)
    photo_stamp(tmp_path / "a" / "drawing.png", seed=2)
    selected = select_objects(stamp_candidates(tmp_path, {"a/drawing.png"}))
    assert [source.path for source in selected] == [f"{STAMPS_DIR}/a/keep.png"]


def test_selected_objects_carry_package_licence_and_fold(tmp_path: Path) -> None:
    photo_stamp(tmp_path / "a.png")
    [source] = select_objects(stamp_candidates(tmp_path, set()))
    assert (source.package, source.license) == (STAMPS_PACKAGE, STAMPS_LICENSE)
    assert source.fold in {"train", "eval"}
    assert source.file == tmp_path / "a.png"


def test_denylist_file_parses_paths_without_comments(tmp_path: Path) -> None:
    listing = tmp_path / "deny.txt"
    listing.write_text("# header\nclothes/button.png  # drawn\n\nspace/x.png\n")
    assert load_denylist(listing) == {"clothes/button.png", "space/x.png"}


def test_committed_denylist_names_stamp_paths() -> None:
    entries = load_denylist()
    assert entries
    assert all(entry.endswith(".png") and not entry.startswith("/") for entry in entries)


def _listing(tmp_path: Path, *names: str) -> Path:
    """A curated list naming ``pics/<name>.png`` of a package ``pkg`` unpacked under ``tmp_path/pkg``."""
    listing = tmp_path / "objects.tsv"
    listing.write_text(HEADER + "".join(f"pkg\tpics/{name}.png\tGPL-3+\tDanSoft\n" for name in names))
    return listing


def test_listed_objects_are_train_side_with_their_listed_licence_and_author(tmp_path: Path) -> None:
    photo_stamp(tmp_path / "pkg" / "pics" / "bear.png")
    [source] = select_objects(listed_candidates({"pkg": tmp_path / "pkg"}, set(), _listing(tmp_path, "bear")))
    assert (source.package, source.path, source.license, source.author) == ("pkg", "pics/bear.png", "GPL-3+", "DanSoft")
    assert source.fold == "train"


def test_a_listed_object_that_fails_the_photo_rule_is_an_error(tmp_path: Path) -> None:
    flat_stamp(tmp_path / "pkg" / "pics" / "frog.png")
    listed = listed_candidates({"pkg": tmp_path / "pkg"}, set(), _listing(tmp_path, "frog"))
    with pytest.raises(ValueError, match=r"pics/frog.png: listed, but not kept \(few colours\)"):
        select_objects(listed, strict=True)


def test_listed_objects_of_an_eval_subject_are_left_out(tmp_path: Path) -> None:
    for seed, name in enumerate(("owl", "eagle-owl", "owl-2")):
        photo_stamp(tmp_path / "pkg" / "pics" / f"{name}.png", seed=seed)
    listed = listed_candidates({"pkg": tmp_path / "pkg"}, {"owl"}, _listing(tmp_path, "owl", "eagle-owl", "owl-2"))
    assert [source.path for source in listed] == ["pics/eagle-owl.png"]


def test_the_committed_object_list_names_pinned_packages_explained_licences_and_no_eval_subject() -> None:
    rows = listing_rows(OBJECTS_FILE)
    eval_subjects = {subject_key(o["path"]) for o in json.loads(EVAL_META.read_text())["objects"]}
    assert rows and "fold" not in rows[0]
    assert {row["package"] for row in rows} <= {pin.package for pin in load_pins()}
    assert {row["license"] for row in rows} <= {*LICENCE_IDS, *MORE_LICENCES}
    assert not {subject_key(row["path_in_package"]) for row in rows} & eval_subjects
