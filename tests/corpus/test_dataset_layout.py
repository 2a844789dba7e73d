"""find_samples: which folders are datasets, how images pair with masks, and what the errors say."""

from __future__ import annotations

from pathlib import Path

import pytest
from corpus_fixtures import write_pair

from pytest_tinyai.dataset import DatasetLayoutError, Sample, find_samples


def test_samples_are_paired_by_stem_and_sorted(dataset: Path) -> None:
    samples = find_samples(dataset)
    assert [s.stem for s in samples] == ["a", "b", "c"]
    assert samples[0] == Sample("a", dataset / "Image" / "a.jpg", dataset / "Mask" / "a.png")


def test_png_images_are_accepted(tmp_path: Path) -> None:
    write_pair(tmp_path / "Image", tmp_path / "Mask", "x", suffix=".png")
    assert [s.image_path.name for s in find_samples(tmp_path)] == ["x.png"]


def test_duts_tr_folder_is_read(tmp_path: Path) -> None:
    root = tmp_path / "DUTS-TR"
    write_pair(root / "DUTS-TR-Image", root / "DUTS-TR-Mask", "ILSVRC2012_test_00000004")
    [sample] = find_samples(root)
    assert sample.mask_path == root / "DUTS-TR-Mask" / "ILSVRC2012_test_00000004.png"


def test_parent_of_duts_tr_is_read(tmp_path: Path) -> None:
    root = tmp_path / "DUTS-TR"
    write_pair(root / "DUTS-TR-Image", root / "DUTS-TR-Mask", "s1")
    assert [s.stem for s in find_samples(tmp_path)] == ["s1"]


def test_files_that_are_not_images_are_ignored(dataset: Path) -> None:
    (dataset / "Image" / "notes.txt").write_text("not an image")
    assert len(find_samples(dataset)) == 3


def test_masks_without_images_are_ignored(dataset: Path) -> None:
    write_pair(dataset / "elsewhere", dataset / "Mask", "orphan")
    assert "orphan" not in [s.stem for s in find_samples(dataset)]


def test_images_without_masks_are_named(dataset: Path) -> None:
    (dataset / "Mask" / "b.png").unlink()
    (dataset / "Mask" / "c.png").unlink()
    with pytest.raises(DatasetLayoutError, match=r"2 of 3 images have no mask.*: b, c"):
        find_samples(dataset)


def test_missing_mask_folder_is_reported(dataset: Path) -> None:
    for mask in (dataset / "Mask").iterdir():
        mask.unlink()
    (dataset / "Mask").rmdir()
    with pytest.raises(DatasetLayoutError, match="has Image/ but no Mask/"):
        find_samples(dataset)


def test_folder_without_image_folder_is_reported(tmp_path: Path) -> None:
    (tmp_path / "photos").mkdir()
    with pytest.raises(DatasetLayoutError, match=r"no image folder found; expected .*Image and .*Mask"):
        find_samples(tmp_path)


def test_empty_image_folder_is_reported(tmp_path: Path) -> None:
    (tmp_path / "Image").mkdir()
    (tmp_path / "Mask").mkdir()
    with pytest.raises(DatasetLayoutError, match="Image: no images"):
        find_samples(tmp_path)


def test_missing_root_is_reported(tmp_path: Path) -> None:
    with pytest.raises(DatasetLayoutError, match="not a folder"):
        find_samples(tmp_path / "absent")


def test_two_datasets_in_one_folder_are_ambiguous(tmp_path: Path) -> None:
    write_pair(tmp_path / "DUTS-TR" / "DUTS-TR-Image", tmp_path / "DUTS-TR" / "DUTS-TR-Mask", "s")
    write_pair(tmp_path / "DUTS-TE" / "DUTS-TE-Image", tmp_path / "DUTS-TE" / "DUTS-TE-Mask", "s")
    with pytest.raises(DatasetLayoutError, match="several image folders found"):
        find_samples(tmp_path)


def test_two_images_with_one_stem_are_reported(dataset: Path) -> None:
    write_pair(dataset / "Image", dataset / "Mask", "a", suffix=".png")
    with pytest.raises(DatasetLayoutError, match="two images share the stem 'a'"):
        find_samples(dataset)


def test_layout_error_is_a_value_error() -> None:
    assert issubclass(DatasetLayoutError, ValueError)
