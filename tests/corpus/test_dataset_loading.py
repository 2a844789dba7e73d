"""load_image, load_mask, normalise and content_hash on tiny generated files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pytest_tinyai.dataset import content_hash, load_image, load_mask, normalise
from pytest_tinyai.tensor_contract import IMAGENET_MEAN, IMAGENET_STD


def test_images_load_as_rgb_uint8_hwc(tmp_path: Path) -> None:
    Image.new("L", (5, 3), 77).save(tmp_path / "grey.png")
    image = load_image(tmp_path / "grey.png")
    assert image.dtype == np.uint8
    assert image.shape == (3, 5, 3)
    assert (image == 77).all()


def test_images_resize_to_width_height(tmp_path: Path) -> None:
    Image.new("RGB", (5, 3), (1, 2, 3)).save(tmp_path / "i.png")
    assert load_image(tmp_path / "i.png", size=(8, 4)).shape == (4, 8, 3)


def test_masks_load_as_zero_one_float32(tmp_path: Path) -> None:
    Image.fromarray(np.array([[0, 255], [255, 0]], dtype=np.uint8)).save(tmp_path / "m.png")
    mask = load_mask(tmp_path / "m.png")
    assert mask.dtype == np.float32
    assert mask.tolist() == [[0.0, 1.0], [1.0, 0.0]]


def test_masks_binarise_above_half_scale(tmp_path: Path) -> None:
    Image.fromarray(np.array([[127, 128, 1, 254]], dtype=np.uint8)).save(tmp_path / "m.png")
    assert load_mask(tmp_path / "m.png").tolist() == [[0.0, 1.0, 0.0, 1.0]]


def test_rgb_masks_are_read_as_grey(tmp_path: Path) -> None:
    Image.new("RGB", (2, 2), (255, 255, 255)).save(tmp_path / "m.png")
    assert load_mask(tmp_path / "m.png").tolist() == [[1.0, 1.0], [1.0, 1.0]]


def test_masks_resize_then_stay_binary(tmp_path: Path) -> None:
    mask = np.zeros((4, 4), dtype=np.uint8)
    mask[:, 2:] = 255
    Image.fromarray(mask).save(tmp_path / "m.png")
    resized = load_mask(tmp_path / "m.png", size=(7, 5))
    assert resized.shape == (5, 7)
    assert set(np.unique(resized)) <= {0.0, 1.0}


def test_normalise_gives_imagenet_normalised_chw_float32() -> None:
    image = np.zeros((2, 3, 3), dtype=np.uint8)
    image[..., 0] = 255
    out = normalise(image)
    assert out.dtype == np.float32
    assert out.shape == (3, 2, 3)
    expected = [(1 - IMAGENET_MEAN[0]) / IMAGENET_STD[0], -IMAGENET_MEAN[1] / IMAGENET_STD[1]]
    assert out[0, 0, 0] == pytest.approx(expected[0])
    assert out[1, 1, 2] == pytest.approx(expected[1])
    assert out[2, 0, 1] == pytest.approx(-IMAGENET_MEAN[2] / IMAGENET_STD[2])


def test_imagenet_constants() -> None:
    assert IMAGENET_MEAN == (0.485, 0.456, 0.406)
    assert IMAGENET_STD == (0.229, 0.224, 0.225)


def test_content_hash_is_stable(dataset: Path) -> None:
    assert content_hash(dataset) == content_hash(dataset)
    assert len(content_hash(dataset)) == 64


def test_content_hash_ignores_lossless_reencoding(dataset: Path) -> None:
    before = content_hash(dataset)
    mask = dataset / "Mask" / "a.png"
    Image.open(mask).save(mask, optimize=True, compress_level=1)
    assert content_hash(dataset) == before


def test_content_hash_changes_with_a_pixel(dataset: Path) -> None:
    before = content_hash(dataset)
    mask = dataset / "Mask" / "a.png"
    pixels = np.asarray(Image.open(mask)).copy()
    pixels[0, 0] ^= 255
    Image.fromarray(pixels).save(mask)
    assert content_hash(dataset) != before


def test_content_hash_changes_with_a_rename(dataset: Path) -> None:
    before = content_hash(dataset)
    (dataset / "Image" / "a.jpg").rename(dataset / "Image" / "z.jpg")
    (dataset / "Mask" / "a.png").rename(dataset / "Mask" / "z.png")
    assert content_hash(dataset) != before


def test_content_hash_changes_when_stems_swap(dataset: Path) -> None:
    before = content_hash(dataset)
    for folder, suffix in (("Image", ".jpg"), ("Mask", ".png")):
        (dataset / folder / f"a{suffix}").rename(dataset / folder / f"tmp{suffix}")
        (dataset / folder / f"b{suffix}").rename(dataset / folder / f"a{suffix}")
        (dataset / folder / f"tmp{suffix}").rename(dataset / folder / f"b{suffix}")
    assert content_hash(dataset) != before
