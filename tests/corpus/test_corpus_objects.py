"""The rule that picks photographic cut-outs among the stamps, and the deny-list."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from corpus_fixtures import flat_stamp, photo_stamp
from PIL import Image

from trainers.corpus.objects import (
    STAMPS_DIR,
    STAMPS_LICENSE,
    STAMPS_PACKAGE,
    load_denylist,
    rejection,
    select_objects,
)


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
    assert [source.path for source in select_objects(tmp_path, set())] == [f"{STAMPS_DIR}/animals/cow.png"]


def test_denylisted_stamps_are_skipped(tmp_path: Path) -> None:
    photo_stamp(tmp_path / "a" / "keep.png", seed=1)
    photo_stamp(tmp_path / "a" / "drawing.png", seed=2)
    selected = select_objects(tmp_path, {"a/drawing.png"})
    assert [source.path for source in selected] == [f"{STAMPS_DIR}/a/keep.png"]


def test_selected_objects_carry_package_licence_and_fold(tmp_path: Path) -> None:
    photo_stamp(tmp_path / "a.png")
    [source] = select_objects(tmp_path, set())
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
